"""interactive.weights: published (issue 22): the originals' checkpoint layouts load key for
key into our models, a checkpoint that does not fit stops naming the file and the key, and
the paper DAG on published weights plans no training job. No network: every checkpoint is
written here in the original's layout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision
import yaml
from torch import nn

from xairepro.common.errors import ConfigError, InputError, XaiReproError
from xairepro.interactive.models import DemoGenerator, load_classifier, load_generator
from xairepro.interactive.published import fetch_published, git_blob_sha1, load_published_classifier
from tests.workflow.conftest import jobs_of

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def _randomise(model: nn.Module, seed: int) -> nn.Module:
    """Every parameter and BatchNorm statistic drawn, so a tensor landing in the wrong place shows."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                fill = torch.rand(tensor.shape, generator=gen) + 0.5 if name.endswith("running_var") else \
                    torch.randn(tensor.shape, generator=gen) * 0.05
                tensor.copy_(fill)
    return model.eval()


@pytest.fixture(scope="module")
def discriminator(tmp_path_factory):
    """The file HealthML publish (celeb-smile/discriminator.pt), in the layout of the original
    train.py's export_model: torch.save of torchvision resnet18's state dict, fc = Linear(512, 1)."""
    reference = torchvision.models.resnet18()
    reference.fc = nn.Linear(512, 1)
    _randomise(reference, 0)
    path = tmp_path_factory.mktemp("published") / "celeb-Smiling" / "discriminator.pt"
    path.parent.mkdir()
    torch.save(reference.state_dict(), path)
    return path, reference


def test_published_classifier_matches_the_reference_forward_pass(discriminator):
    path, reference = discriminator
    x = torch.randn(3, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = reference(x)
        for model in (load_published_classifier(path), load_classifier(path)):
            torch.testing.assert_close(model(x), want, rtol=1e-5, atol=1e-5)


def test_every_published_parameter_lands_under_its_own_key(discriminator):
    path, reference = discriminator
    ours = load_published_classifier(path).state_dict()
    theirs = reference.state_dict()
    assert list(ours) == list(theirs)
    for key, tensor in theirs.items():
        assert torch.equal(ours[key], tensor), key


@pytest.mark.parametrize(("edit", "key", "words"), [
    (lambda s: s.update({"head.weight": s.pop("fc.weight")}), "fc.weight", "missing"),
    (lambda s: s.update({"layer5.0.conv1.weight": torch.zeros(1)}), "layer5.0.conv1.weight", "unexpected"),
    (lambda s: s.update({"fc.weight": torch.zeros(2, 512)}), "fc.weight", "shape (2, 512), expected (1, 512)"),
], ids=["missing", "unexpected", "misshaped"])
def test_a_checkpoint_that_does_not_fit_names_the_file_and_the_first_key(tmp_path, discriminator, edit, key, words):
    state = torch.load(discriminator[0], weights_only=True)
    edit(state)
    path = tmp_path / "discriminator.pt"
    torch.save(state, path)
    with pytest.raises(InputError) as info:
        load_classifier(path)
    message = str(info.value)
    assert message.startswith(str(path)) and f"'{key}'" in message and words in message


def test_git_blob_sha1_is_gits_object_id(tmp_path):
    path = tmp_path / "hello"
    path.write_bytes(b"hello\n")
    assert git_blob_sha1(path) == "ce013625030ba8dba906f756967f9e9ca394464a"  # git hash-object


def test_fetch_reads_the_users_folder_and_checks_the_git_blob_id(tmp_path, discriminator):
    path, _ = discriminator
    dest = tmp_path / "out" / "celeb-Smiling.pt"
    blob = git_blob_sha1(path)
    got = fetch_published([], dest, git_blob=blob, folder=path.parents[1], name="celeb-Smiling/discriminator.pt")
    assert got.read_bytes() == path.read_bytes()
    with pytest.raises(XaiReproError, match="git blob id"):
        fetch_published([path.as_uri()], tmp_path / "other.pt", git_blob="0" * 40, retries=1)
    with pytest.raises(InputError, match="interactive.published.dir"):
        fetch_published([], tmp_path / "x.pt", git_blob=blob, folder=tmp_path, name="missing.pt")


def _save_converted(path: Path, model: nn.Module, architecture: str, init_kwargs: dict, drop: str = "") -> None:
    """The record the documented conversion writes (docs/published-weights.md)."""
    state = {k: v for k, v in model.state_dict().items() if k != drop}
    torch.save({"architecture": architecture, "init_kwargs": init_kwargs, "state_dict": state}, path)


def test_converted_generator_matches_the_reference_forward_pass(tmp_path):
    kwargs = {"z_dim": 8, "img_resolution": 16, "channels": 8}
    reference = _randomise(DemoGenerator(**kwargs), 2)
    path = tmp_path / "G_ema.pt"
    _save_converted(path, reference, "demo", kwargs)
    z = torch.randn(4, 8, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(load_generator(path)(z), reference(z))


def test_converted_generator_builds_nvlabs_class_from_the_users_clone(tmp_path):
    # a stand-in clone: training/networks.py with a Generator taking NVlabs' keyword arguments
    code = tmp_path / "stylegan2-ada-pytorch"
    (code / "training").mkdir(parents=True)
    (code / "training" / "networks.py").write_text(
        "import torch\n"
        "class Generator(torch.nn.Module):\n"
        "    def __init__(self, z_dim, w_dim, img_resolution, img_channels, c_dim=0, mapping_kwargs=None):\n"
        "        super().__init__()\n"
        "        self.mapping = torch.nn.Linear(z_dim, w_dim)\n"
        "        self.register_buffer('w_avg', torch.zeros(w_dim))\n"
        "    def forward(self, z, c=None):\n"
        "        return self.mapping(z) + self.w_avg\n")
    kwargs = {"z_dim": 4, "w_dim": 6, "img_resolution": 8, "img_channels": 3, "c_dim": 0, "mapping_kwargs": {}}
    sys.path.insert(0, str(code))
    try:
        from training.networks import Generator  # the stand-in

        reference = _randomise(Generator(**kwargs), 4)
        path = tmp_path / "ffhq-G_ema.pt"
        _save_converted(path, reference, "stylegan2-ada", kwargs)
        z = torch.randn(2, 4)
        with torch.no_grad():
            torch.testing.assert_close(load_generator(path, stylegan2_code=str(code))(z), reference(z))
        with pytest.raises(ConfigError, match="stylegan2_code"):
            load_generator(path)
        _save_converted(tmp_path / "bad.pt", reference, "stylegan2-ada", kwargs, drop="w_avg")
        with pytest.raises(InputError, match="'w_avg' is missing"):
            load_generator(tmp_path / "bad.pt", stylegan2_code=str(code))
    finally:
        sys.path.remove(str(code))
        sys.modules.pop("training.networks", None)
        sys.modules.pop("training", None)


def test_a_converted_generator_without_its_arguments_is_refused(tmp_path):
    path = tmp_path / "G.pt"
    torch.save({"architecture": "stylegan2-ada", "state_dict": {"w": torch.zeros(1)}}, path)
    with pytest.raises(InputError, match="init_kwargs"):
        load_generator(path)


def _dry_run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path), "-n",
                           "--cores", "1", *args, "--", "interactive"], cwd=ROOT, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)


def test_paper_dag_on_published_weights_plans_no_training(tmp_path):
    pub = tmp_path / "published.yaml"
    pub.write_text(yaml.safe_dump({"interactive": {"weights": "published", "published": {
        "classifiers": {"celeb-Smiling": {"file": "celeb-Smiling/discriminator.pt",
                                          "urls": [(tmp_path / "d.pt").as_uri()],
                                          "git_blob_sha1": "0" * 40, "sha256": None}},
        "generator": "data/paper/stylegan2/ffhq-G_ema.pt", "dir": None}}}))
    proc = _dry_run(tmp_path, "--config", "scale=paper", "--configfile", str(pub))
    assert proc.returncode == 0, proc.stdout[-4000:]
    jobs = jobs_of(proc.stdout)
    assert not {"interactive_train_classifier", "interactive_train_generator",
                "interactive_summarise_classifiers"} & set(jobs), jobs
    assert jobs["interactive_download_published"] == 1 and jobs["interactive_compute_heatmaps"] == 1
    assert jobs["interactive_place_published_generator"] == 1
    for rule in ("interactive_plot_heatmaps", "interactive_create_latent_dataset", "interactive_explain_generative",
                 "interactive_plot_canvases", "interactive_write_claims"):
        assert jobs.get(rule, 0) >= 1, rule
    # phase 1-3 keep the attributes a published model scores: Smiling and FairFace's skin colour
    assert jobs["interactive_train_latent_model"] == 2


def test_published_weights_at_demo_scale_stop_with_one_message(tmp_path):
    pub = tmp_path / "published.yaml"
    pub.write_text("interactive:\n  weights: published\n")
    proc = _dry_run(tmp_path, "--configfile", str(pub))
    assert proc.returncode != 0
    assert "interactive.weights: published needs scale=paper" in proc.stdout
