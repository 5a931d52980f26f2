"""FACT's published models (labelfree.weights: published): key mapping, strict loading, the
fetch, and the DAG without training. No network: checkpoints are written here in FACT's
layout (and, where the local mirror of FACT exists, its real files are read from it)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml

from xairepro.common.errors import InputError
from xairepro.labelfree.published import (
    fact_layout, fetch_published, import_published, load_fact_model, write_fact_checkpoint,
)
from xairepro.labelfree.models import EncoderClassifier
from xairepro.labelfree.train import load_autoencoder
from tests.workflow.conftest import jobs_of

ROOT = Path(__file__).resolve().parents[2]
FACT_MIRROR = Path("/work/.mirror/jwagenbach+FACT/repo")
FACT_COMMIT = "070fcc5f2014d5e0a55e56197f425ab6404b4a7a"


# --- reference forward passes, written from FACT's key names alone ---------------------------


def _bn(x, s, p):
    return F.batch_norm(x, s[f"{p}.running_mean"], s[f"{p}.running_var"], s[f"{p}.weight"], s[f"{p}.bias"],
                        training=False, eps=1e-5)


def _lin(x, s, p):
    return F.linear(x, s[f"{p}.weight"], s[f"{p}.bias"])


def fact_mnist_encode(s, x):
    """FACT's EncoderMnist (lfxai/models/images.py:39-62) on (N, 1, 28, 28)."""
    p = "encoder.encoder_cnn"
    h = F.relu(F.conv2d(x, s[f"{p}.0.weight"], s[f"{p}.0.bias"], stride=2, padding=1))
    h = F.relu(_bn(F.conv2d(h, s[f"{p}.2.weight"], s[f"{p}.2.bias"], stride=2, padding=1), s, f"{p}.3"))
    h = F.relu(F.conv2d(h, s[f"{p}.5.weight"], s[f"{p}.5.bias"], stride=2, padding=0)).flatten(1)
    return _lin(F.relu(_lin(h, s, "encoder.encoder_lin.0")), s, "encoder.encoder_lin.2")


def fact_mnist_decode(s, z):
    """FACT's DecoderMnist (lfxai/models/images.py:65-91)."""
    p = "decoder.decoder_conv"
    h = F.relu(_lin(F.relu(_lin(z, s, "decoder.decoder_lin.0")), s, "decoder.decoder_lin.2")).view(-1, 32, 3, 3)
    h = F.relu(_bn(F.conv_transpose2d(h, s[f"{p}.0.weight"], s[f"{p}.0.bias"], stride=2), s, f"{p}.1"))
    h = F.relu(_bn(F.conv_transpose2d(h, s[f"{p}.3.weight"], s[f"{p}.3.bias"], stride=2, padding=1,
                                      output_padding=1), s, f"{p}.4"))
    return torch.sigmoid(F.conv_transpose2d(h, s[f"{p}.6.weight"], s[f"{p}.6.bias"], stride=2, padding=1,
                                            output_padding=1))


def fact_cifar_encode(s, x):
    """FACT's EncoderCIFAR (lfxai/models/cifar100_models.py) on (N, 3, 32, 32)."""
    p = "encoder.encoder_cnn"
    h = x
    for conv, norm in ((0, 1), (4, 5), (8, 9)):
        h = F.conv2d(h, s[f"{p}.{conv}.weight"], s[f"{p}.{conv}.bias"], padding=1)
        h = F.max_pool2d(F.relu(F.layer_norm(h, h.shape[1:], s[f"{p}.{norm}.weight"], s[f"{p}.{norm}.bias"])), 2)
    h = F.relu(F.conv2d(h, s[f"{p}.12.weight"], s[f"{p}.12.bias"], padding=1)).flatten(1)
    return _lin(F.relu(_lin(h, s, "encoder.encoder_lin.0")), s, "encoder.encoder_lin.2")


def fact_cifar_decode(s, z):
    """FACT's DecoderCIFAR."""
    p = "decoder.decoder_conv"
    h = F.relu(_lin(F.relu(_lin(z, s, "decoder.decoder_lin.0")), s, "decoder.decoder_lin.2")).view(-1, 128, 4, 4)
    for conv, norm in ((0, 1), (3, 4)):
        h = F.conv_transpose2d(h, s[f"{p}.{conv}.weight"], s[f"{p}.{conv}.bias"], stride=2, padding=1,
                               output_padding=1)
        h = F.relu(F.layer_norm(h, h.shape[1:], s[f"{p}.{norm}.weight"], s[f"{p}.{norm}.bias"]))
    return torch.sigmoid(F.conv_transpose2d(h, s[f"{p}.6.weight"], s[f"{p}.6.bias"], stride=2, padding=1,
                                            output_padding=1))


def _fact_lstm(s, prefix):
    sub = {k[len(prefix) + 1:]: v for k, v in s.items() if k.startswith(prefix + ".")}
    lstm = torch.nn.LSTM(sub["weight_ih_l0"].shape[1], sub["weight_hh_l0"].shape[1], batch_first=True)
    lstm.load_state_dict(sub)
    return lstm


def fact_ecg_encode(s, x):
    """FACT's time-series Encoder (lfxai/models/time_series.py:15-36) on (N, T, 1)."""
    h, _ = _fact_lstm(s, "encoder.rnn1")(x)
    _, (last, _) = _fact_lstm(s, "encoder.rnn2")(h)
    return last[-1]


def fact_ecg_decode(s, z, steps):
    """FACT's time-series Decoder (lfxai/models/time_series.py:39-62): (N, T, 1)."""
    h, _ = _fact_lstm(s, "decoder.rnn1")(z.unsqueeze(1).repeat(1, steps, 1))
    h, _ = _fact_lstm(s, "decoder.rnn2")(h)
    return _lin(h, s, "decoder.output_layer")


def reference(kind, dataset, s, x):
    """(code, output) of FACT's model with state ``s`` on our input layout ``x``."""
    with torch.no_grad():
        if dataset == "ecg":
            z = fact_ecg_encode(s, x.transpose(1, 2))
            return z, fact_ecg_decode(s, z, x.shape[-1]).transpose(1, 2)
        encode, decode = (fact_mnist_encode, fact_mnist_decode) if dataset == "mnist" else (
            fact_cifar_encode, fact_cifar_decode)
        z = encode(s, x)
        return z, (decode(s, z) if kind == "autoencoder" else _lin(z, s, "lin_output.0"))


INPUTS = {"mnist": (1, 28, 28), "cifar10": (3, 32, 32), "cifar100": (3, 32, 32), "ecg": (1, 140)}
CASES = [
    ("autoencoder", "mnist", 4, 10),
    ("autoencoder", "ecg", 64, 10),
    ("autoencoder", "cifar10", 16, 10),
    ("classifier", "mnist", 4, 10),
    ("classifier", "cifar100", 16, 100),
]


def _ours(model, kind, x):
    with torch.no_grad():
        if kind == "classifier":
            return model.encoder(x), model(x)
        return model.encode(x), model(x)


@pytest.mark.parametrize(("kind", "dataset", "latent_dim", "n_classes"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_fact_checkpoint_loads_key_for_key(tmp_path, kind, dataset, latent_dim, n_classes):
    path = tmp_path / "model.pt"
    state = write_fact_checkpoint(path, kind, dataset, latent_dim, seed=3, n_classes=n_classes)
    model = load_fact_model(path, kind, dataset, latent_dim, n_classes)
    x = torch.rand(5, *INPUTS[dataset], generator=torch.Generator().manual_seed(0))
    want_code, want_out = reference(kind, dataset, state, x)
    got_code, got_out = _ours(model, kind, x)
    torch.testing.assert_close(got_code, want_code, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got_out, want_out, rtol=1e-5, atol=1e-5)
    # every tensor of the file is used: the model holds exactly as many parameters and buffers
    assert len(model.state_dict()) == len(state)


def test_fact_checkpoint_with_a_wrong_key_names_file_and_key(tmp_path):
    path = tmp_path / "model.pt"
    state = write_fact_checkpoint(path, "autoencoder", "mnist", 4)
    state["encoder.encoder_lin.3.weight"] = state.pop("encoder.encoder_lin.2.weight")
    torch.save(state, path)
    missing = (r"model\.pt: does not fit MnistAutoencoder: missing key 'encoder\.10\.weight' "
               r"\(FACT's 'encoder\.encoder_lin\.2\.weight'\)")
    with pytest.raises(InputError, match=missing):
        load_fact_model(path, "autoencoder", "mnist", 4)


def test_fact_checkpoint_with_a_wrong_shape_names_file_and_key(tmp_path):
    path = tmp_path / "model.pt"
    write_fact_checkpoint(path, "autoencoder", "cifar10", 16)
    with pytest.raises(InputError, match=r"model\.pt: .*key 'encoder\.encoder_lin\.2\.weight' has shape \(16, 128\), "
                                         r"the model's is \(8, 128\)"):
        load_fact_model(path, "autoencoder", "cifar10", 8)


def test_fact_checkpoint_with_an_extra_key_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    state = write_fact_checkpoint(path, "classifier", "mnist", 4)
    state["lin_output.1.weight"] = torch.zeros(1)
    torch.save(state, path)
    unexpected = r"model\.pt: does not fit EncoderClassifier: unexpected key 'lin_output\.1\.weight'"
    with pytest.raises(InputError, match=unexpected):
        load_fact_model(path, "classifier", "mnist", 4)


def test_imported_model_reads_back_as_our_checkpoint(tmp_path):
    raw, ours = tmp_path / "fact.pt", tmp_path / "ours.pt"
    state = write_fact_checkpoint(raw, "autoencoder", "ecg", 8, seed=1)
    import_published(raw, ours, kind="autoencoder", dataset="ecg", latent_dim=8, run=1, source="file://x")
    model = load_autoencoder(ours)
    x = torch.randn(3, 1, 140, generator=torch.Generator().manual_seed(2))
    want_code, want_out = reference("autoencoder", "ecg", state, x)
    with torch.no_grad():
        torch.testing.assert_close(model.encode(x), want_code, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(model(x), want_out, rtol=1e-5, atol=1e-5)


def test_imported_classifier_reads_back_for_encoder_vs_full(tmp_path):
    raw, ours = tmp_path / "fact.pt", tmp_path / "ours.pt"
    state = write_fact_checkpoint(raw, "classifier", "mnist", 4, seed=5)
    import_published(raw, ours, kind="classifier", dataset="mnist", latent_dim=4, run=0, source="file://x")
    saved = torch.load(ours, weights_only=True)
    assert saved["n_classes"] == 10 and saved["latent_dim"] == 4
    model = EncoderClassifier(saved["latent_dim"])  # as xairepro.labelfree.steps.encoder_vs_full rebuilds it
    model.load_state_dict(saved["state_dict"])
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), reference("classifier", "mnist", state, x)[1], rtol=1e-5, atol=1e-5)


def _sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_fetch_reads_a_named_folder_and_checks_the_checksum(tmp_path):
    checkout = tmp_path / "FACT"
    source = checkout / "results/mnist/consistency_features/model.pt"
    write_fact_checkpoint(source, "autoencoder", "mnist", 4)
    dest = tmp_path / "data" / "model.pt"
    fetch_published("https://unused.invalid/x", dest, _sha256(source), source_dir=checkout,
                    repo_path="results/mnist/consistency_features/model.pt")
    assert dest.read_bytes() == source.read_bytes()
    with pytest.raises(InputError, match="labelfree.published.dir"):
        fetch_published("https://unused.invalid/x", tmp_path / "other.pt", _sha256(source), source_dir=checkout,
                        repo_path="results/ecg5000/consistency_features/model.pt")


def test_fetch_downloads_a_file_url_and_refuses_a_bad_checksum(tmp_path):
    source = tmp_path / "served.pt"
    write_fact_checkpoint(source, "autoencoder", "mnist", 4)
    fetch_published(source.as_uri(), tmp_path / "got.pt", _sha256(source))
    assert (tmp_path / "got.pt").read_bytes() == source.read_bytes()
    with pytest.raises(Exception, match="Place the file there by hand"):
        fetch_published(source.as_uri(), tmp_path / "bad.pt", "sha256:" + "0" * 64)


# --- FACT's real files, from the local mirror of its repository ------------------------------

REAL = [
    ("results/mnist/consistency_features/model.pt", "autoencoder", "mnist", 4, 10),
    ("results/ecg5000/consistency_features/model.pt", "autoencoder", "ecg", 64, 10),
    ("results/mnist/pretext/Classifier_run0.pt", "classifier", "mnist", 4, 10),
]


@pytest.mark.skipif(not FACT_MIRROR.is_dir(), reason="no local mirror of jwagenbach/FACT")
@pytest.mark.parametrize(("repo_path", "kind", "dataset", "latent_dim", "n_classes"), REAL, ids=[r[0] for r in REAL])
def test_real_fact_file_loads_key_for_key(tmp_path, repo_path, kind, dataset, latent_dim, n_classes):
    path = tmp_path / "model.pt"
    blob = subprocess.run(["git", f"--git-dir={FACT_MIRROR}", "cat-file", "blob", f"{FACT_COMMIT}:{repo_path}"],
                          capture_output=True, check=True).stdout
    path.write_bytes(blob)
    state = torch.load(path, weights_only=True)
    assert {k: tuple(v.shape) for k, v in state.items()} == fact_layout(kind, dataset, latent_dim, n_classes)
    model = load_fact_model(path, kind, dataset, latent_dim, n_classes)
    x = torch.rand(4, *INPUTS[dataset], generator=torch.Generator().manual_seed(0))
    want_code, want_out = reference(kind, dataset, state, x)
    got_code, got_out = _ours(model, kind, x)
    torch.testing.assert_close(got_code, want_code, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got_out, want_out, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not FACT_MIRROR.is_dir(), reason="no local mirror of jwagenbach/FACT")
def test_config_checksums_are_those_of_facts_files():
    published = yaml.safe_load((ROOT / "config/labelfree.yaml").read_text())["labelfree"]["published"]
    assert published["commit"] == FACT_COMMIT
    for entries in [*published["autoencoder"].values(), *published["classifier"].values()]:
        for entry in entries:
            blob = subprocess.run(["git", f"--git-dir={FACT_MIRROR}", "cat-file", "blob",
                                   f"{FACT_COMMIT}:{entry['path']}"], capture_output=True, check=True).stdout
            assert entry["checksum"] == "sha256:" + hashlib.sha256(blob).hexdigest(), entry["path"]


# --- the DAG ------------------------------------------------------------------------------------


def _dry_run(tmp_path, *args):
    snakemake = Path(sys.executable).parent / "snakemake"
    return subprocess.run([str(snakemake), "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path), "-n", *args],
                          text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)


def test_published_weights_put_no_training_of_their_models_in_the_plan(tmp_path):
    folder = tmp_path / "FACT"
    override = tmp_path / "published.yaml"
    override.write_text(yaml.safe_dump({"labelfree": {"weights": "published", "published": {"dir": str(folder)}}}))
    proc = _dry_run(tmp_path, "--config", "scale=paper", "--configfile", str(override), "--",
                    "labelfree_consistency_features", "labelfree_encoder_vs_full")
    assert proc.returncode == 0, proc.stdout[-4000:]
    jobs = jobs_of(proc.stdout)
    assert not [rule for rule in jobs if rule.startswith("labelfree_train")], jobs
    # MNIST, ECG5000, CIFAR-10, CIFAR-100: FACT's one autoencoder each; its 5 MNIST classifiers
    assert jobs["labelfree_download_published"] == 4 + 5
    assert jobs["labelfree_compute_feature_importance"] == 4
    assert jobs["labelfree_plot_consistency_features"] == 4
    assert jobs["labelfree_compute_encoder_vs_full"] == 5 and jobs["labelfree_plot_encoder_vs_full"] == 1
    assert "results/paper/labelfree/mnist/published_autoencoder/seed1.pt" in proc.stdout
    assert "results/paper/labelfree/ecg/published_autoencoder/seed42.pt" in proc.stdout
    assert "results/paper/labelfree/mnist/published_classifier/seed0.pt" in proc.stdout


def test_published_weights_at_demo_scale_stop_with_one_message(tmp_path):
    override = tmp_path / "published.yaml"
    override.write_text(yaml.safe_dump({"labelfree": {"weights": "published"}}))
    proc = _dry_run(tmp_path, "--configfile", str(override), "--", "labelfree_consistency_features")
    assert proc.returncode != 0
    assert "labelfree.weights is 'published', which needs scale=paper" in proc.stdout


def test_published_weights_put_no_training_job_in_the_studys_plan(tmp_path):
    override = tmp_path / "published.yaml"
    override.write_text(yaml.safe_dump({"labelfree": {"weights": "published",
                                                      "published": {"dir": str(tmp_path / "FACT")}}}))
    proc = _dry_run(tmp_path, "--config", "scale=paper", "--configfile", str(override), "--", "labelfree")
    assert proc.returncode == 0, proc.stdout[-4000:]
    jobs = jobs_of(proc.stdout)
    assert not [rule for rule in jobs if "train" in rule or rule == "labelfree_fit_disvae"], jobs
    # 4 autoencoders + 5 classifiers + 4 claim-1.2 models + 3 x 20 pretext + 4 x 30 VAEs
    assert jobs["labelfree_download_published"] == 4 + 5 + 4 + 60 + 120
    assert jobs["labelfree_compute_example_importance"] == 4
    assert jobs["labelfree_plot_consistency_examples"] == 4
    assert jobs["labelfree_compute_pretext_importance"] == 3 * 5 and jobs["labelfree_plot_pretext"] == 3
    assert jobs["labelfree_explain_disvae"] == 4 * 30 and jobs["labelfree_plot_disvae"] == 4
    assert jobs["labelfree_write_claims"] == 1
    # FACT's metrics.csv of MNIST, dSprites and CIFAR-100 (none for CIFAR-10), for claim 3
    assert jobs["labelfree_fact_vae_metrics"] == 3
    for dataset in ("mnist", "dsprites", "cifar100"):
        assert f"results/paper/labelfree/disvae/{dataset}/fact_metrics.csv" in proc.stdout
    assert "results/paper/labelfree/disvae/cifar10/fact_metrics.csv" not in proc.stdout
    for path in ("results/paper/labelfree/mnist/published_pretext_classification/seed0.pt",
                 "results/paper/labelfree/dsprites/published_vae_beta_tcvae_beta10/seed5.pt",
                 "results/paper/labelfree/ecg/published_denoiser/seed42.pt"):
        assert path in proc.stdout
    assert "_snapshots" not in proc.stdout  # TracIn's snapshots: none without training
