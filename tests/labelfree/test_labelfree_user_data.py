"""labelfree on a user's own images (issue 23): FACT's MNIST experiments need all ten classes
with enough items for their balanced subsets; a bad layout stops the data rule with one
message and no data file; the MNIST experiments run on a small array the test writes."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from xairepro.common import smk
from xairepro.common.claims import NOT_APPLICABLE
from xairepro.common.errors import InputError
from xairepro.common.io import load_arrays, read_csv
from xairepro.common.user_arrays import read_user_images

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
CONVERTED = "data/demo/user/labelfree/mnist.npz"
WHY = "FACT's MNIST experiments draw class-balanced subsets over all ten classes 0-9"


def images_of(n_per_class, classes=10, side=28, seed=0):
    """uint8 ``(N, side, side)`` images, a class-specific bar on noise, and labels ``(N,)``."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(classes), n_per_class)
    images = rng.uniform(0, 0.2, (len(labels), side, side))
    for i, c in enumerate(labels):
        images[i, 2 + 2 * c:4 + 2 * c, 4:side - 4] = 1.0
    return np.rint(images * 255).astype(np.uint8), labels


def read(path, **options):
    """The labelfree import's call (scripts/labelfree/import_user_data.py) at sub-train 20, sub-test 10."""
    settings = dict(splits="generate", resize=False, test_fraction=0.25, split_seed=0, key="labelfree.user_data",
                    required_classes=tuple(range(10)), why=WHY,
                    min_per_class={"train": (2, "a balanced sub-train set of 20 items"),
                                   "test": (1, "a balanced sub-test set of 10 items")})
    return read_user_images(path, **{**settings, **options})


def test_ten_classes_convert(tmp_path):
    images, labels = images_of(8)
    np.savez(tmp_path / "mine.npz", images=images, labels=labels)
    arrays = read(tmp_path / "mine.npz")
    assert set(arrays["train_y"].tolist()) == set(range(10)) == set(arrays["test_y"].tolist())


def test_a_missing_class_stops_naming_it_and_why(tmp_path):
    images, labels = images_of(8, classes=9)
    np.savez(tmp_path / "nine.npz", images=images, labels=labels)
    with pytest.raises(InputError, match=f"class 9 has no items; {WHY}"):
        read(tmp_path / "nine.npz")


def test_too_few_items_for_the_balanced_subset_states_the_minimum(tmp_path):
    images, labels = images_of(8)
    np.savez(tmp_path / "mine.npz", images=images, labels=labels)
    with pytest.raises(InputError, match=r"class 0 has 6 train item\(s\); at least 10 are needed \(sub-train 100\)"):
        read(tmp_path / "mine.npz", min_per_class={"train": (10, "sub-train 100")})


# --------------------------------------------------------------------------- the workflow
def run(workdir, *args, check=True):
    env = dict(os.environ, XAIREPRO_PROGRESS="0")
    proc = subprocess.run([str(SNAKEMAKE), *args], cwd=workdir, env=env, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(proc.stdout[-6000:])
    return proc


#: The smallest FACT MNIST experiments: one run, one or two epochs, a few test items.
SMALL = """
  consistency_features:
    demo: {seeds: [0], epochs: 1, n_test: 20}
  consistency_examples:
    demo: {epochs: 2, checkpoint_interval: 1, subtrain_size: 20, subtest_size: 10, recursion_depth: 2,
           simplex_epochs: 20}
  encoder_vs_full:
    demo: {epochs: 1, n_test: 20}
  pretext:
    demo: {epochs: 1, n_test: 20, subtrain_size: 20}
  disvae:
    beta_list: [1, 5]
    losses: [beta_vae]
    demo: {epochs: 1, n_test: 20}
"""


def user_config(tmp_path, path, splits="generate"):
    config = tmp_path / "my.yaml"
    config.write_text(f"labelfree:\n  user_data:\n    path: {path}\n    splits: {splits}\n    resize: false\n" + SMALL)
    return config


@pytest.mark.workflow
@pytest.mark.parametrize("case", ["no split table", "one item in a class", "empty folder"])
def test_bad_layout_stops_the_data_rule_and_writes_nothing(tmp_path, case):
    images, labels = images_of(8)
    if case == "no split table":
        np.savez(tmp_path / "bad.npz", images=images, labels=labels)
        path, splits, message = tmp_path / "bad.npz", "file", "has no 'split' array"
    elif case == "one item in a class":
        keep = np.r_[0, np.flatnonzero(labels != 0)]  # class 0 keeps a single image
        np.savez(tmp_path / "bad.npz", images=images[keep], labels=labels[keep])
        path, splits, message = tmp_path / "bad.npz", "generate", "class 0 has 1 item(s)"
    else:
        (tmp_path / "empty").mkdir()
        path, splits, message = tmp_path / "empty", "file", "folder is empty"
    workdir = smk.copy_workflow(ROOT, tmp_path / "wf")
    proc = run(workdir, "--cores", "1", "--configfile", str(user_config(tmp_path, path, splits)), "--", CONVERTED,
               check=False)
    assert proc.returncode != 0 and message in proc.stdout
    assert not (workdir / CONVERTED).exists()


@pytest.mark.workflow
def test_mnist_experiments_run_on_user_images(tmp_path):
    images, labels = images_of(12)
    np.savez(tmp_path / "mine.npz", images=images, labels=labels)
    workdir = smk.copy_workflow(ROOT, tmp_path / "wf")
    run(workdir, "--cores", "2", "--configfile", str(user_config(tmp_path, tmp_path / "mine.npz")), "--", "labelfree")
    assert len(load_arrays(workdir / CONVERTED)["test_y"]) == 30
    out = workdir / "results/demo/labelfree"
    assert (out / "fig_feature_consistency_mnist.png").stat().st_size > 0
    assert not (out / "consistency_features_ecg.csv").exists() and not (out / "disentanglement_dsprites.csv").exists()
    claims = read_csv(out / "claims.csv")
    mine = claims[claims.claim.str.startswith("your images") & (claims.kind == "claim")]
    assert len(mine) >= 5 and mine.verdict.isin(["pass", "fail", "uninformative"]).all()
    skipped = claims[claims.claim.str.startswith(("ECG5000", "dSprites"))]
    assert len(skipped) == 2 and (skipped.verdict == NOT_APPLICABLE).all()
    assert not (workdir / "data/demo/mnist").exists(), "the demo digits are not generated"
