"""The original's published checkpoints in our classes (issue 22), without network.

Each checkpoint is written in the original's exact layout (training.py:486-494: a dict of
numpy-float metrics, ``model_state_dict`` with the original's key names and shapes,
optimizer and scheduler states, ``epoch``) from a paper-size network rebuilt from
torchvision with random weights and statistics, and must give our model the same outputs.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from xairepro.common.download import file_digest
from xairepro.common.errors import InputError
from xairepro.pianist.published import (
    fetch_published, load_published, original_checkpoint, original_name, original_network, read_checkpoint,
)

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
ARCH = {
    "resnet": {"block": "bottleneck", "layers": [3, 4, 6, 3], "width": 64, "stem": "imagenet", "mask_prob": 0.3,
               "max_masked": 3, "dropout": 0.5},
    "disentangle": {"block": "basic", "layers": [2, 2, 2, 2], "width": 64, "stem": "imagenet", "mask_prob": 0.3,
                    "max_masked": 3, "dropout": 0.5},
}
CHANNELS = {"resnet": 1, "disentangle": 4}
RESNET_MEMBER = "checkpoints/baselines/resnet50-jtd+pijama-augment/checkpoint_099.pth"


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, tuple[Path, torch.nn.Module]]:
    """Both published checkpoints, paper size, in the original's layout, and their networks."""
    folder = tmp_path_factory.mktemp("published")
    out = {}
    for kind, seed in (("resnet", 1), ("disentangle", 2)):
        network = original_network(kind, 20, seed=seed)
        path = folder / f"{kind}.pth"
        torch.save(original_checkpoint(network, kind), path)
        out[kind] = (path, network)
    return out


@pytest.mark.parametrize("kind", ["resnet", "disentangle"])
def test_published_checkpoint_gives_the_reference_forward_pass(checkpoints, kind):
    path, network = checkpoints[kind]
    model = load_published(path, kind, ARCH[kind], 20)
    x = torch.rand(3, CHANNELS[kind], 88, 160, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected, actual = network(x), model(x)
    assert torch.equal(actual, expected)
    # and every tensor sits where the original's key says
    source = network.state_dict()
    for key, value in model.state_dict().items():
        assert torch.equal(value, source[original_name(kind, key)]), key


def test_original_key_names_are_the_originals():
    """A few keys written out by hand from the original's modules (encoders/resnet.py,
    torchvision's resnet18 inside encoders/disentangle.py, LinearLayer's ``fc``)."""
    assert original_name("resnet", "trunk.stem.0.weight") == "conv1.weight"
    assert original_name("resnet", "trunk.stem.1.running_var") == "bn1.running_var"
    assert original_name("resnet", "trunk.layer3.5.body.7.bias") == "layer3.5.bn3.bias"
    assert original_name("resnet", "trunk.layer2.0.down.1.num_batches_tracked") == \
        "layer2.0.downsample.1.num_batches_tracked"
    assert original_name("resnet", "fc.weight") == "fc.weight"
    assert original_name("disentangle", "branches.melody.stem.0.weight") == "melody_concept.conv1.weight"
    assert original_name("disentangle", "branches.dynamics.layer1.1.bn2.weight") == \
        "dynamics_concept.layer1.1.bn2.weight"
    assert original_name("disentangle", "fc.weight") == "fc2.fc.weight"


def test_checkpoint_metrics_are_read_as_numbers(checkpoints):
    state = read_checkpoint(checkpoints["resnet"][0])
    assert state["epoch"] == 99 and float(state["test_acc"]) == pytest.approx(0.7)
    assert set(state) >= {"model_state_dict", "optimizer_state_dict", "scheduler_state_dict"}


def _edited(checkpoints, tmp_path, edit) -> Path:
    state = read_checkpoint(checkpoints["resnet"][0])
    edit(state["model_state_dict"])
    path = tmp_path / "edited.pth"
    torch.save(state, path)
    return path


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda sd: sd.pop("layer2.1.bn1.running_mean"), r"missing key 'layer2\.1\.bn1\.running_mean'"),
        (lambda sd: sd.update({"pooling.p": torch.ones(1)}), r"unexpected key 'pooling\.p'"),
        (lambda sd: sd.update({"fc.weight": torch.zeros(19, 2048)}), r"key 'fc\.weight' has shape \(19, 2048\)"),
    ],
    ids=["missing", "unexpected", "shape"],
)
def test_a_misfit_checkpoint_names_the_file_and_the_key(checkpoints, tmp_path, edit, message):
    path = _edited(checkpoints, tmp_path, edit)
    with pytest.raises(InputError, match=message) as info:
        load_published(path, "resnet", ARCH["resnet"], 20)
    assert str(info.value).startswith(str(path))


def test_a_checkpoint_with_objects_is_refused_not_unpickled(tmp_path):
    path = tmp_path / "objects.pth"
    torch.save({"model_state_dict": {}, "note": Path("x")}, path)
    with pytest.raises(InputError, match="not a readable checkpoint"):
        read_checkpoint(path)
    path = tmp_path / "no_model.pth"
    torch.save({"epoch": 99}, path)
    with pytest.raises(InputError, match="missing key 'model_state_dict'"):
        read_checkpoint(path)


def test_fetch_extracts_the_member_from_the_archive_or_copies_it_from_a_folder(checkpoints, tmp_path):
    source = checkpoints["resnet"][0]
    digest = file_digest(source)
    archive = tmp_path / "deep-pianist-identification.zip"
    with zipfile.ZipFile(archive, "w") as zf:  # stored: the checkpoint is already compressed
        zf.write(source, f"deep-pianist-identification/{RESNET_MEMBER}")
        zf.writestr("deep-pianist-identification/data/clips/x.mid", b"")
    out = fetch_published(tmp_path / "a.pth", member=RESNET_MEMBER, archive=archive,
                          archive_checksum=f"md5:{file_digest(archive, 'md5')}", sha256=digest)
    assert file_digest(out) == digest
    folder = tmp_path / "unzipped"
    (folder / RESNET_MEMBER).parent.mkdir(parents=True)
    (folder / RESNET_MEMBER).write_bytes(source.read_bytes())
    assert file_digest(fetch_published(tmp_path / "b.pth", member=RESNET_MEMBER, folder=folder)) == digest
    with pytest.raises(InputError, match="sha256 checksum mismatch"):
        fetch_published(tmp_path / "c.pth", member=RESNET_MEMBER, folder=folder, sha256="0" * 64)
    assert not (tmp_path / "c.pth").exists()
    with pytest.raises(InputError, match="no member 'checkpoints/other.pth'"):
        fetch_published(tmp_path / "d.pth", member="checkpoints/other.pth", archive=archive)


def _dry_run(tmp_path: Path, *config: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path), "-n",
                           *config, "--", "pianist"], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=300)


def test_published_weights_plan_has_no_training_job(tmp_path):
    folder = tmp_path / "original"
    for kind in ("resnet", "disentangle"):
        (folder / f"{kind}.pth").parent.mkdir(parents=True, exist_ok=True)
        (folder / f"{kind}.pth").write_bytes(b"placeholder")
    override = tmp_path / "published.yaml"
    override.write_text(f"pianist:\n  weights: published\n  published:\n    paper:\n      dir: {folder}\n"
                        "      members: {resnet: resnet.pth, disentangle: disentangle.pth}\n")
    proc = _dry_run(tmp_path, "--config", "scale=paper", "--configfile", str(override))
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "pianist_train_model" not in proc.stdout
    for rule in ("pianist_download_published", "pianist_evaluate_published", "pianist_compute_lime",
                 "pianist_compute_sensitivities", "pianist_plot_tcav", "pianist_plot_lime", "pianist_write_claims"):
        assert f"rule {rule}:" in proc.stdout, rule
    assert "results/paper/pianist/published/resnet.pt" in proc.stdout


def test_published_weights_at_demo_scale_stop_with_one_message(tmp_path):
    override = tmp_path / "published.yaml"
    override.write_text("pianist:\n  weights: published\n")
    proc = _dry_run(tmp_path, "--configfile", str(override))
    assert proc.returncode != 0
    assert "pianist.weights: published needs --config scale=paper" in proc.stdout
