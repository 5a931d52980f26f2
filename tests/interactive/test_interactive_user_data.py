"""interactive on your own ResNet-18 and images (user_data): checks, heatmaps, claims, one DAG run."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torchvision
import yaml
from PIL import Image

from xairepro.common.claims import NOT_APPLICABLE
from xairepro.common.errors import ConfigError, InputError
from xairepro.interactive.tables import user_claims
from xairepro.interactive.user_data import (compute_user_heatmaps, deletion_drops, load_user_classifier,
                                            read_user_images)

ROOT = Path(__file__).resolve().parents[2]
FLAGS = {"methods": ("integrated_gradients", "saliency_smoothgrad_sq", "guided_backprop", "guided_gradcam"),
         "n_steps": 2, "nt_samples": 2, "nt_type": "smoothgrad_sq", "internal_batch_size": None,
         "nt_samples_batch_size": None, "outlier_perc": 2, "deletion_fraction": 0.1}


def scalar_resnet18(seed: int = 0) -> torch.nn.Module:
    """torchvision's resnet18 with a 1-unit fc, as the original's load_model builds it."""
    torch.manual_seed(seed)
    net = torchvision.models.resnet18()
    net.fc = torch.nn.Linear(512, 1)
    return net.eval()


def write_images(folder: Path, n: int = 3, size: tuple[int, int] = (48, 40)) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(folder / f"img{i}.png")
    return folder


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "my_classifier.pt"
    torch.save(scalar_resnet18().state_dict(), path)
    return path


def test_a_torchvision_state_dict_loads_and_gives_its_logits(checkpoint):
    model = load_user_classifier(checkpoint)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(model(x), scalar_resnet18()(x), atol=1e-5)


def test_a_workflow_classifier_record_loads_too(tmp_path):
    path = tmp_path / "record.pt"
    torch.save({"state_dict": scalar_resnet18().state_dict(), "epoch": 3}, path)
    load_user_classifier(path)


def _two_units(state):
    state["fc.weight"], state["fc.bias"] = torch.zeros(2, 512), torch.zeros(2)


def _missing_key(state):
    del state["layer4.1.bn2.running_var"]


def _extra_key(state):
    state["head.weight"] = torch.zeros(1)


@pytest.mark.parametrize("spoil, message", [
    (_two_units, r"not a torchvision resnet18 state dict with a 1-unit fc: key 'fc.weight' has shape \(2, 512\), "
                 r"expected \(1, 512\)"),
    (_missing_key, r"key 'layer4.1.bn2.running_var' is missing"),
    (_extra_key, r"key 'head.weight' is unexpected"),
], ids=["two-units", "missing-key", "extra-key"])
def test_a_mismatched_checkpoint_names_the_file_and_the_key(tmp_path, spoil, message):
    state = scalar_resnet18().state_dict()
    spoil(state)
    path = tmp_path / "bad.pt"
    torch.save(state, path)
    with pytest.raises(InputError, match=rf"bad.pt: .*{message}"):
        load_user_classifier(path)


def test_a_missing_checkpoint_names_the_config_key(tmp_path):
    with pytest.raises(InputError, match=r"nowhere.pt: missing: .*interactive.user_data.checkpoint"):
        load_user_classifier(tmp_path / "nowhere.pt")


def test_images_are_read_sorted_with_the_shorter_side_resized(tmp_path):
    images, names = read_user_images(write_images(tmp_path / "imgs"), 32)
    assert images.shape == (3, 38, 32, 3) and list(names) == ["img0.png", "img1.png", "img2.png"]


@pytest.mark.parametrize("spoil, message", [
    (lambda f: [p.unlink() for p in f.iterdir()], r"imgs: holds no image files"),
    (lambda f: (f / "img1.png").write_bytes(b"not an image"), r"img1.png: not a readable image"),
    (lambda f: Image.new("RGB", (40, 40)).save(f / "img9.png"), r"img9.png: resizes to \(32, 32\) but img0.png"),
], ids=["empty-folder", "unreadable-image", "other-aspect-ratio"])
def test_bad_image_folder_stops_with_one_message_and_no_output(tmp_path, checkpoint, spoil, message):
    folder = write_images(tmp_path / "imgs")
    spoil(folder)
    out = tmp_path / "out"
    with pytest.raises(InputError, match=message):
        compute_user_heatmaps(folder, checkpoint, out / "user.npz", out / "user.csv", size=32, **FLAGS)
    assert not out.exists()


def test_missing_path_or_checkpoint_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"interactive.user_data needs both 'path'"):
        compute_user_heatmaps(tmp_path, None, tmp_path / "u.npz", tmp_path / "u.csv", size=32, **FLAGS)


def test_heatmaps_of_a_user_classifier_are_written_for_the_figure(tmp_path, checkpoint):
    folder = write_images(tmp_path / "imgs")
    table = compute_user_heatmaps(folder, checkpoint, tmp_path / "user.npz", tmp_path / "user.csv", size=32, **FLAGS)
    assert len(table) == 3 * 4 and table[["deletion_top", "deletion_random", "deletion_shuffled"]].notna().all().all()
    with np.load(tmp_path / "user.npz") as arrays:
        assert arrays["map_integrated_gradients"].shape == (3, 38, 32)  # summed over channels


def test_deleting_the_only_informative_pixels_moves_the_logit_most():
    """A model reading one pixel: the map that ranks it first beats random deletion."""

    class OnePixel(torch.nn.Module):
        def forward(self, x):
            return x[:, 0, 0, 0:1] * 10

    x = torch.ones(8, 3, 10, 10)
    attributions = np.zeros((8, 3, 10, 10))
    attributions[:, 0, 0, 0] = 1
    drops = deletion_drops(OnePixel(), x, attributions, fraction=0.05, seed=0)
    assert np.allclose(drops["top"], 10) and drops["random"].mean() < 5


def test_planted_and_generative_claims_are_not_applicable_on_user_data():
    rng = np.random.default_rng(0)
    rows = [{"image": f"i{i}", "method": m, "model": "trained", "corr_with_gradient": 0.3,
             "deletion_top": 1.0 + rng.random(), "deletion_random": 0.1 * rng.random(),
             "deletion_shuffled": 0.1 * rng.random()} for m in FLAGS["methods"] for i in range(10)]
    cfg = {"mass_methods": {"celeb": ["integrated_gradients"], "flowers": []}, "max_guided_corr": 0.99}
    table = user_claims(pd.DataFrame(rows), cfg).set_index("claim")
    assert (table.loc[table.index.str.contains("planted|latent|baseline"), "verdict"] == NOT_APPLICABLE).all()
    assert table.loc["integrated_gradients heatmap of your classifier is faithful (deletion test)", "verdict"] == "pass"
    assert (table.loc[table["kind"] == "invariant", "verdict"] == "holds").all()


@pytest.mark.workflow
def test_interactive_runs_on_a_user_folder_and_checkpoint(tmp_path, checkpoint):
    """The interactive DAG with user_data: the heatmaps, their figure and claims, nothing else."""
    folder = write_images(tmp_path / "imgs", n=7, size=(40, 40))
    config = {"interactive": {"user_data": {"path": str(folder), "checkpoint": str(checkpoint), "size": 32}}}
    (tmp_path / "my.yaml").write_text(yaml.safe_dump(config))
    run = tmp_path / "run"
    run.mkdir()
    snakemake = Path(sys.executable).parent / "snakemake"
    proc = subprocess.run([str(snakemake), "-s", str(ROOT / "Snakefile"), "--directory", str(run), "--cores", "2",
                           "--configfile", str(tmp_path / "my.yaml"), "--", "interactive"],
                          env=dict(os.environ, XAIREPRO_PROGRESS="0"), text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=900)
    assert proc.returncode == 0, proc.stdout[-6000:]
    out = run / "results" / "demo" / "interactive"
    assert (out / "fig_heatmaps_user.png").is_file() and not (out / "classifiers").exists()
    table = pd.read_csv(out / "claims.csv", comment="#").set_index("claim")
    assert table.loc["moving along a latent attribute direction raises that attribute's score",
                     "verdict"] == NOT_APPLICABLE
    assert table.index.str.contains("deletion test").sum() == 4
