"""lossgrad on a user's own images (issue 23): the array file and IDX folder are checked and
converted before any training; bad layouts stop with one message naming the problem and
leave no data file; the MNIST chain runs on a small array the test writes."""

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
KEY = "lossgrad.user_data"
CONVERTED = "data/demo/user/lossgrad/mnist.npz"


def digits(n_per_class=12, classes=3, side=28, channels=None, dtype=np.uint8, seed=0):
    """``images`` (N, side, side) or (N, C, side, side) and ``labels`` (N,): class c is a bright
    square at a class-specific place, with noise."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(classes), n_per_class)
    images = rng.uniform(0, 0.2, (len(labels), side, side))
    for i, c in enumerate(labels):
        at = (c * side) // (classes + 1)
        images[i, at:at + side // 4, at:at + side // 4] = 1.0
    if channels:
        images = np.repeat(images[:, None], channels, axis=1)
    images = np.rint(images * 255).astype(np.uint8) if dtype == np.uint8 else images.astype(dtype)
    return images, labels


def read(path, **options):
    settings = dict(splits="generate", resize=False, test_fraction=0.25, split_seed=0, key=KEY)
    return read_user_images(path, **{**settings, **options})


def test_npz_with_generated_split_converts_to_the_mnist_layout(tmp_path):
    images, labels = digits()
    np.savez(tmp_path / "mine.npz", images=images, labels=labels)
    arrays = read(tmp_path / "mine.npz")
    assert arrays["train_x"].shape[1:] == (28, 28) and arrays["train_x"].dtype == np.uint8
    assert len(arrays["train_y"]) + len(arrays["test_y"]) == len(labels)
    assert sorted(np.bincount(arrays["test_y"]).tolist()) == [3, 3, 3]  # stratified, 25 %
    assert 0 < float(arrays["mean"]) < 1 and float(arrays["std"]) > 0


def test_colour_floats_are_made_grey_and_resized_when_asked(tmp_path):
    images, labels = digits(side=32, channels=3, dtype=np.float32)
    np.savez(tmp_path / "mine.npz", images=images, labels=labels)
    with pytest.raises(InputError, match=r"images are 32x32; the models take 28x28 \(set 'lossgrad.user_data.resize"):
        read(tmp_path / "mine.npz")
    arrays = read(tmp_path / "mine.npz", resize=True)
    assert arrays["test_x"].shape[1:] == (28, 28)
    assert arrays["train_x"].max() > 200  # the bright squares survive grey conversion


def test_split_array_of_strings_or_integers_is_the_split(tmp_path):
    images, labels = digits()
    split = np.tile(["train", "train", "test"], len(labels) // 3)
    np.savez(tmp_path / "s.npz", images=images, labels=labels, split=split)
    np.savez(tmp_path / "i.npz", images=images, labels=labels, split=(split == "test").astype(np.int8))
    for name in ("s.npz", "i.npz"):
        arrays = read(tmp_path / name, splits="file")
        assert len(arrays["test_y"]) == len(labels) // 3
        np.testing.assert_array_equal(arrays["test_x"], images[split == "test"])


def write_idx(folder, images, labels, prefix):
    """torchvision's IDX format: magic, sizes, raw bytes (big-endian)."""
    folder.mkdir(exist_ok=True)
    n, h, w = images.shape
    header = np.array([0x0803, n, h, w], dtype=">i4").tobytes()
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(header + images.astype(np.uint8).tobytes())
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(np.array([0x0801, n], dtype=">i4").tobytes()
                                                        + labels.astype(np.uint8).tobytes())


def test_idx_folder_is_read_with_its_own_split(tmp_path):
    images, labels = digits()
    write_idx(tmp_path / "raw", images[::2], labels[::2], "train")
    write_idx(tmp_path / "raw", images[1::2], labels[1::2], "t10k")
    arrays = read(tmp_path / "raw", splits="file")
    np.testing.assert_array_equal(arrays["train_x"], images[::2])
    np.testing.assert_array_equal(arrays["test_y"], labels[1::2])
    with pytest.raises(InputError, match="carries its own train/t10k split"):
        read(tmp_path / "raw", splits="generate")


def bad_layouts(tmp_path):
    """name -> (path, read options, message): every layout a user can get wrong."""
    images, labels = digits()
    cases = {}

    def npz(name, **arrays):
        np.savez(tmp_path / name, **arrays)
        return tmp_path / name

    cases["missing"] = (tmp_path / "nowhere.npz", {}, "not found")
    (tmp_path / "empty").mkdir()
    cases["empty folder"] = (tmp_path / "empty", {"splits": "file"}, "folder is empty")
    (tmp_path / "garbage.npz").write_bytes(b"not an array file at all")
    cases["unreadable"] = (tmp_path / "garbage.npz", {}, "is not a .npz or .npy array file")
    cases["no split table"] = (npz("nosplit.npz", images=images, labels=labels), {"splits": "file"},
                               "has no 'split' array")
    cases["no labels"] = (npz("nolabels.npz", images=images), {}, r"missing arrays \['labels'\]")
    cases["length mismatch"] = (npz("short.npz", images=images, labels=labels[:-1]), {},
                                "one label per image")
    cases["label out of range"] = (npz("range.npz", images=images, labels=labels + 8), {},
                                   "label 10 out of range")
    one = labels.copy()
    one[-1] = 5  # class 5 has a single item
    cases["one item in a class"] = (npz("one.npz", images=images, labels=one), {}, "class 5 has 1 item")
    cases["no class 1"] = (npz("no1.npz", images=images, labels=np.where(labels == 1, 2, labels)),
                           {"required_classes": (0, 1), "why": "binary heads"}, "class 1 has no items; binary heads")
    cases["floats above 1"] = (npz("bright.npz", images=images.astype(np.float32), labels=labels), {},
                               r"float images must be finite and lie in \[0, 1\]")
    return cases


@pytest.mark.parametrize("case", ["missing", "empty folder", "unreadable", "no split table", "no labels",
                                  "length mismatch", "label out of range", "one item in a class", "no class 1",
                                  "floats above 1"])
def test_bad_layout_stops_with_one_message(tmp_path, case):
    path, options, message = bad_layouts(tmp_path)[case]
    with pytest.raises(InputError, match=message) as error:
        read(path, **options)
    assert str(error.value).startswith(str(path))


# --------------------------------------------------------------------------- the workflow
def run(workdir, *args, check=True):
    env = dict(os.environ, XAIREPRO_PROGRESS="0")
    proc = subprocess.run([str(SNAKEMAKE), *args], cwd=workdir, env=env, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(proc.stdout[-6000:])
    return proc


def user_config(tmp_path, path, **user):
    config = tmp_path / "my.yaml"
    options = {"splits": "generate", "resize": False, **user}
    lines = ["lossgrad:", "  user_data:", f"    path: {path}"] + [f"    {k}: {str(v).lower()}"
                                                                   for k, v in options.items()]
    # the smallest chain: one seed, one epoch, two occlusion levels
    lines += ["  mnist:", "    occlude: [78, 235]", "    demo:", "      seeds: [0]", "      epochs: 2"]
    config.write_text("\n".join(lines) + "\n")
    return config


@pytest.mark.workflow
@pytest.mark.parametrize("case", ["no split table", "one item in a class", "empty folder"])
def test_bad_layout_stops_the_data_rule_and_writes_nothing(tmp_path, case):
    path, options, message = bad_layouts(tmp_path)[case]
    workdir = smk.copy_workflow(ROOT, tmp_path / "wf")
    config = user_config(tmp_path, path, splits=options.get("splits", "generate"))
    proc = run(workdir, "--cores", "1", "--configfile", str(config), "--", CONVERTED, check=False)
    assert proc.returncode != 0
    assert message.split("|")[0] in proc.stdout
    assert not (workdir / CONVERTED).exists()
    assert not list(workdir.glob("results/**/*.pt")), "nothing is trained"


@pytest.mark.workflow
def test_mnist_chain_runs_on_user_images(tmp_path):
    images, labels = digits(n_per_class=40, classes=3, side=20, channels=3)
    np.savez(tmp_path / "mine.npz", images=images, labels=labels)
    workdir = smk.copy_workflow(ROOT, tmp_path / "wf")
    run(workdir, "--cores", "2", "--configfile", str(user_config(tmp_path, tmp_path / "mine.npz", resize=True)),
        "--", "lossgrad")
    data = load_arrays(workdir / CONVERTED)
    assert data["train_x"].shape[1:] == (28, 28) and len(data["test_y"]) == 30
    out = workdir / "results/demo/lossgrad"
    assert (out / "fig_mnist_roar.png").stat().st_size > 0
    assert not (out / "svd_eval.csv").exists(), "the singing-voice half takes no user arrays"
    claims = read_csv(out / "claims.csv")
    svd = claims[claims.claim.str.startswith("svd:") & (claims.kind == "claim")]
    assert len(svd) == 4 and (svd.verdict == NOT_APPLICABLE).all()
    accuracy = claims[claims.claim.str.contains("accurate before occlusion")]
    assert accuracy.threshold.str.contains("chance").all()
    assert accuracy.verdict.isin(["pass", "fail", "uninformative"]).all()
    assert not (workdir / "data/demo/mnist").exists(), "the demo digits are not generated"
