"""FACT's published models of claims 1.2, 2 and 3 (labelfree.weights: published): the pretext
autoencoders and classifier, claim 1.2's model and the Burgess VAEs map key for key onto
ours and compute what FACT's modules compute; one wrong key stops naming file and key; FACT's
real files (local mirror) load. The whole study's dry run: test_labelfree_published_weights.py."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml

from tests.labelfree.test_labelfree_published_weights import (
    FACT_COMMIT, FACT_MIRROR, INPUTS, ROOT, _ours, reference,
)
from xairepro.common.errors import InputError
from xairepro.labelfree.published import (
    fact_layout, import_published, layout_kind, load_fact_model, write_fact_checkpoint,
)
from xairepro.labelfree.train import load_encoder, load_vae

# --- reference: FACT's VAE (lfxai/models/images.py:720-867) from its key names alone --------


def fact_vae_encode(s, x):
    """FACT's EncoderBurgess: (mu, logvar), read from interleaved rows (view(-1, d, 2))."""
    h = x
    for name in ("conv1", "conv2", "conv3", *(["conv_64"] if x.shape[-1] == 64 else [])):
        h = F.relu(F.conv2d(h, s[f"encoder.{name}.weight"], s[f"encoder.{name}.bias"], stride=2, padding=1))
    h = F.relu(F.linear(h.flatten(1), s["encoder.lin1.weight"], s["encoder.lin1.bias"]))
    h = F.relu(F.linear(h, s["encoder.lin2.weight"], s["encoder.lin2.bias"]))
    out = F.linear(h, s["encoder.mu_logvar_gen.weight"], s["encoder.mu_logvar_gen.bias"])
    mu, logvar = out.view(len(x), -1, 2).unbind(-1)
    return mu, logvar


def fact_vae_decode(s, z, size):
    """FACT's DecoderBurgess, before its final sigmoid (ours returns logits)."""
    h = F.relu(F.linear(z, s["decoder.lin1.weight"], s["decoder.lin1.bias"]))
    h = F.relu(F.linear(h, s["decoder.lin2.weight"], s["decoder.lin2.bias"]))
    h = F.relu(F.linear(h, s["decoder.lin3.weight"], s["decoder.lin3.bias"])).view(len(z), 32, 4, 4)
    names = [*(["convT_64"] if size == 64 else []), "convT1", "convT2", "convT3"]
    for i, name in enumerate(names):
        h = F.conv_transpose2d(h, s[f"decoder.{name}.weight"], s[f"decoder.{name}.bias"], stride=2, padding=1)
        h = F.relu(h) if i < len(names) - 1 else h
    return h


VAE_INPUTS = {"mnist": (1, 32, 32), "dsprites": (1, 64, 64), "cifar10": (3, 32, 32)}
VAE_CASES = [("mnist", 3), ("dsprites", 6), ("cifar10", 16)]


def _check_vae(model, state, dataset):
    x = torch.rand(4, *VAE_INPUTS[dataset], generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        mu, logvar = fact_vae_encode(state, x)
        got_mu, got_logvar = model.encode(x)
        torch.testing.assert_close(got_mu, mu, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(got_logvar, logvar, rtol=1e-5, atol=1e-5)
        logits, *_ = model.eval()(x)  # eval: decodes the mean, as FACT's reparameterize
        want = fact_vae_decode(state, mu, x.shape[-1])
        # four layers of random 0.2-scale weights: logits of order 100, float32 sums reordered
        torch.testing.assert_close(logits, want, rtol=1e-4, atol=1e-5 * float(want.abs().max()) + 1e-5)


@pytest.mark.parametrize(("dataset", "latent_dim"), VAE_CASES, ids=[c[0] for c in VAE_CASES])
def test_fact_vae_loads_key_for_key(tmp_path, dataset, latent_dim):
    path = tmp_path / "vae.pt"
    state = write_fact_checkpoint(path, "vae", dataset, latent_dim, seed=7)
    model = load_fact_model(path, "vae_beta_tcvae_beta5", dataset, latent_dim)
    _check_vae(model, state, dataset)
    assert len(model.state_dict()) == len(state)


def test_imported_vae_reads_back(tmp_path):
    raw, ours = tmp_path / "fact.pt", tmp_path / "ours.pt"
    state = write_fact_checkpoint(raw, "vae", "dsprites", 6, seed=2)
    import_published(raw, ours, kind="vae_beta_vae_beta1", dataset="dsprites", latent_dim=6, run=1, source="file://x")
    _check_vae(load_vae(ours), state, "dsprites")


PRETEXT_CASES = [("pretext_reconstruction", "mnist", 4), ("pretext_inpainting", "cifar10", 16),
                 ("pretext_classification", "mnist", 4), ("pretext_classification", "cifar100", 16),
                 ("denoiser", "ecg", 64)]


@pytest.mark.parametrize(("kind", "dataset", "latent_dim"), PRETEXT_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in PRETEXT_CASES])
def test_pretext_and_example_models_load_key_for_key(tmp_path, kind, dataset, latent_dim):
    layout = layout_kind(kind)
    n_classes = 100 if dataset == "cifar100" else 10
    raw, ours = tmp_path / "fact.pt", tmp_path / "ours.pt"
    state = write_fact_checkpoint(raw, layout, dataset, latent_dim, seed=4, n_classes=n_classes)
    model = load_fact_model(raw, kind, dataset, latent_dim, n_classes)
    x = torch.rand(3, *INPUTS[dataset], generator=torch.Generator().manual_seed(1))
    want = reference(layout, dataset, state, x)
    for got, expected in zip(_ours(model, layout, x), want, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    if kind.startswith("pretext_"):  # what compute_pretext_importance reads back: the encoder
        import_published(raw, ours, kind=kind, dataset=dataset, latent_dim=latent_dim, run=0, source="file://x")
        encoder = load_encoder(ours, kind.removeprefix("pretext_"))
        with torch.no_grad():
            torch.testing.assert_close(encoder(x), want[0], rtol=1e-5, atol=1e-5)


WRONG = [("pretext_denoising", "mnist", 4, "decoder.decoder_conv.6.bias", "decoder.decoder_conv.7.bias"),
         ("pretext_classification", "mnist", 4, "lin_output.0.weight", "lin_output.1.weight"),
         ("vae_beta_vae_beta10", "mnist", 3, "encoder.lin2.weight", "encoder.lin_2.weight")]


@pytest.mark.parametrize(("kind", "dataset", "latent_dim", "key", "renamed"), WRONG, ids=[w[0] for w in WRONG])
def test_a_wrong_key_names_file_and_key(tmp_path, kind, dataset, latent_dim, key, renamed):
    path = tmp_path / "model.pt"
    state = write_fact_checkpoint(path, layout_kind(kind), dataset, latent_dim)
    state[renamed] = state.pop(key)
    torch.save(state, path)
    with pytest.raises(InputError, match=rf"model\.pt: does not fit \w+: missing key .*\(FACT's '{key}'\)"):
        load_fact_model(path, kind, dataset, latent_dim)


# --- FACT's real files -----------------------------------------------------------------------

REAL = [("results/mnist/pretext/Denoising-ae_run0.pt", "pretext_denoising", "mnist", 4),
        ("results/mnist/consistency_examples/model.pt", "denoiser", "mnist", 4),
        ("results/mnist/vae/TC-vae_beta5_run1.pt", "vae_beta_tcvae_beta5", "mnist", 3),
        ("results/dsprites/vae/Beta-vae_beta10_run2.pt", "vae_beta_vae_beta10", "dsprites", 6)]


def _blob(repo_path: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={FACT_MIRROR}", "cat-file", "blob", f"{FACT_COMMIT}:{repo_path}"],
                          capture_output=True, check=True).stdout


@pytest.mark.skipif(not FACT_MIRROR.is_dir(), reason="no local mirror of jwagenbach/FACT")
@pytest.mark.parametrize(("repo_path", "kind", "dataset", "latent_dim"), REAL, ids=[r[0] for r in REAL])
def test_real_fact_file_loads_key_for_key(tmp_path, repo_path, kind, dataset, latent_dim):
    path = tmp_path / "model.pt"
    path.write_bytes(_blob(repo_path))
    state = torch.load(path, weights_only=True)
    assert {k: tuple(v.shape) for k, v in state.items()} == fact_layout(kind, dataset, latent_dim)
    model = load_fact_model(path, kind, dataset, latent_dim)
    if layout_kind(kind) == "vae":
        _check_vae(model, state, dataset)
    else:
        x = torch.rand(4, *INPUTS[dataset], generator=torch.Generator().manual_seed(0))
        for got, expected in zip(_ours(model, "autoencoder", x), reference("autoencoder", dataset, state, x),
                                 strict=True):
            torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not FACT_MIRROR.is_dir(), reason="no local mirror of jwagenbach/FACT")
def test_config_checksums_of_the_new_kinds_are_those_of_facts_files():
    published = yaml.safe_load((ROOT / "config/labelfree.yaml").read_text())["labelfree"]["published"]
    entries = [e for group in ("denoiser", "pretext", "vae") for files in published[group].values() for e in files]
    assert len(entries) == 4 + 3 * 20 + 4 * 30
    for entry in entries:
        assert entry["checksum"] == "sha256:" + hashlib.sha256(_blob(entry["path"])).hexdigest(), entry["path"]
