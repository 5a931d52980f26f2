"""Claim 3 against FACT's published metrics: FACT's disentanglement statistic (pooled over
images), its channel-averaged maps, its resized MNIST, and its metrics.csv read one row per
VAE file. No network: the CSVs are written here in FACT's format (and, where the local
mirror of FACT exists, its real files are read from it)."""

from __future__ import annotations

import hashlib
import itertools
import subprocess

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from PIL import Image

from xairepro.attribution.label_free import latent_unit_saliency
from xairepro.common.errors import InputError
from xairepro.common.io import save_arrays
from xairepro.labelfree.data import load_dataset, mnist_32
from xairepro.labelfree.explain import GradientShap
from xairepro.labelfree.models import BurgessVAE
from xairepro.labelfree.published import read_fact_vae_metrics
from xairepro.labelfree.steps import vae_correlations
from xairepro.labelfree.tables import DISVAE_PUBLISHED
from xairepro.metrics.representation import pooled_offdiagonal_correlation
from tests.labelfree.test_labelfree_published_weights import FACT_COMMIT, FACT_MIRROR, ROOT

# --- FACT's statistic and maps ----------------------------------------------------------------


def fact_pearson_saliency(saliency: np.ndarray) -> float:
    """FACT's pearson_saliency (lfxai/utils/metrics.py:18-29), written from its description:
    the correlation matrix of the units' maps, each unit's maps of all images in one row,
    and the mean of its off-diagonal entries."""
    d = saliency.shape[1]
    corr = np.corrcoef(np.swapaxes(saliency, 0, 1).reshape(d, -1))
    return float((corr.sum() - np.trace(corr)) / (d * (d - 1)))


def test_pooled_correlation_is_facts_pearson_saliency():
    rng = np.random.default_rng(0)
    shared = rng.random((6, 1, 5, 5))
    maps = np.concatenate([shared + 0.5 * rng.random((6, 1, 5, 5)) for _ in range(3)], axis=1)[:, :, None]
    want = fact_pearson_saliency(maps)
    assert 0.3 < want < 0.95  # the units share structure, not all of it
    assert pooled_offdiagonal_correlation(torch.from_numpy(maps)) == pytest.approx(want, abs=1e-6)
    # pooled over images is not the mean of the per-image correlations
    per_image = np.mean([fact_pearson_saliency(maps[i:i + 1]) for i in range(6)])
    assert abs(per_image - want) > 1e-3
    # a constant unit is uncorrelated with the others (0), not NaN
    flat = maps.copy()
    flat[:, 2] = 1.0
    assert pooled_offdiagonal_correlation(torch.from_numpy(flat)) == pytest.approx(
        fact_pearson_saliency(maps[:, :2]) / 3, abs=1e-6)


class Linear(torch.nn.Module):
    """mu(x) = W flatten(x): every unit's gradient is known in closed form."""

    def __init__(self, d: int, shape: tuple[int, ...]):
        super().__init__()
        self.W = torch.randn(d, int(np.prod(shape)), generator=torch.Generator().manual_seed(3))

    def forward(self, x):
        return x.flatten(1) @ self.W.T


def test_channel_mean_averages_each_units_attribution_over_the_channels_before_scaling():
    x = torch.rand(4, 3, 2, 2, generator=torch.Generator().manual_seed(1))
    encoder = Linear(2, (3, 2, 2))
    maps = latent_unit_saliency(encoder, x, GradientShap, channel_mean=True, baselines=torch.zeros(1, 3, 2, 2),
                                n_samples=3, stdevs=0.0)
    assert maps.shape == (4, 2, 1, 2, 2)
    mu = encoder(x)
    attribution = x[:, None] * encoder.W.view(1, 2, 3, 2, 2)  # (N, d, C, H, W): GradientSHAP of a linear unit
    want = (mu[:, :, None, None, None] * attribution.mean(dim=2, keepdim=True)).abs()
    torch.testing.assert_close(maps, want, rtol=1e-4, atol=1e-6)
    # not the mean of the absolute maps: signs cancel across channels first
    per_channel = latent_unit_saliency(encoder, x, GradientShap, baselines=torch.zeros(1, 3, 2, 2), n_samples=3,
                                       stdevs=0.0)
    assert per_channel.shape == (4, 2, 3, 2, 2)
    assert not torch.allclose(per_channel.mean(dim=2, keepdim=True), maps, atol=1e-3)


def test_vae_correlations_carry_each_models_pooled_value_of_channel_averaged_maps():
    torch.manual_seed(0)
    vae = BurgessVAE(3, size=32, channels=3).eval()
    x = torch.rand(5, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    np.random.seed(7)  # captum draws GradientSHAP's points from numpy's global RNG (seeded once per job)
    table = vae_correlations(vae, x, dataset="cifar100", loss="beta_vae", beta=1.0, seed=4, shap_samples=2)
    assert set(table.columns) >= {"correlation", "pooled"} and len(table) == 3 * 5
    pooled = table.groupby("model")["pooled"].agg(["min", "max"])
    assert (pooled["min"] == pooled["max"]).all()  # one number per model
    np.random.seed(7)
    torch.manual_seed(4)
    maps = latent_unit_saliency(lambda v: vae.encode(v)[0], x, GradientShap, channel_mean=True,
                                baselines=torch.zeros(1, 3, 32, 32), n_samples=2)
    assert pooled.loc["trained", "min"] == pytest.approx(fact_pearson_saliency(maps.numpy()), abs=1e-5)
    assert abs(pooled.loc["random_attribution", "min"]) < 0.05  # independent noise per unit


# --- FACT's MNIST at 32 pixels -----------------------------------------------------------------


def test_mnist_resize_is_pil_bilinear_on_the_8_bit_digits_and_pad_keeps_them():
    digits = (np.random.default_rng(0).random((3, 28, 28)) * 255).astype(np.uint8)
    resized = mnist_32(digits, "resize")
    want = np.stack([np.asarray(Image.fromarray(d).resize((32, 32), Image.BILINEAR)) for d in digits]) / 255
    assert resized.shape == (3, 1, 32, 32) and resized.dtype == torch.float32
    np.testing.assert_allclose(resized[:, 0].numpy(), want, atol=1e-7)
    assert not np.allclose(resized[:, 0, 2:30, 2:30].numpy(), digits / 255, atol=0.05)
    padded = mnist_32(digits, "pad")
    np.testing.assert_allclose(padded[:, 0, 2:30, 2:30].numpy(), digits / 255, atol=1e-7)
    assert float(padded[:, :, :2].abs().sum() + padded[:, :, 30:].abs().sum()) == 0.0
    with pytest.raises(ValueError, match="choose pad or resize"):
        mnist_32(digits, "crop")
    with pytest.raises(ValueError, match="8-bit"):
        mnist_32(digits.astype(np.float32), "resize")


def test_load_dataset_brings_mnist_to_32_pixels_as_configured(tmp_path):
    rng = np.random.default_rng(1)
    arrays = {f"{s}_x": (rng.random((n, 28, 28)) * 255).astype(np.uint8) for s, n in (("train", 4), ("test", 2))}
    save_arrays(tmp_path / "mnist.npz", **arrays, train_y=np.arange(4), test_y=np.arange(2))
    for how in ("pad", "resize"):
        train, test = load_dataset(tmp_path / "mnist.npz", "mnist", how)
        torch.testing.assert_close(test, mnist_32(arrays["test_x"], how))
        torch.testing.assert_close(train, mnist_32(arrays["train_x"], how))


# --- FACT's metrics.csv --------------------------------------------------------------------------

HEADER = "Loss Type,Beta,Pearson Correlation,Spearman Correlation,Cosine,Entropy,Active Neurons"


def write_fact_csv(path, n_runs: int = 2, betas=(1, 5)) -> dict[tuple[str, float, int], float]:
    """A metrics.csv in FACT's row order (beta, loss, run), each value naming its file."""
    values, lines = {}, [HEADER]
    for beta, (fact, ours), run in itertools.product(betas, (("Beta", "beta_vae"), ("TC", "beta_tcvae")),
                                                     range(1, n_runs + 1)):
        value = beta / 100 + (0.5 if ours == "beta_tcvae" else 0.0) + run / 1000
        values[(ours, float(beta), run)] = value
        lines.append(f"{fact},{beta},{value!r},0.9,0.6,0.7,1.25")
    path.write_text("\n".join(lines) + "\n")
    return values


def test_facts_metrics_are_read_one_row_per_vae_file(tmp_path):
    values = write_fact_csv(tmp_path / "metrics.csv", n_runs=3)
    table = read_fact_vae_metrics(tmp_path / "metrics.csv", "dsprites")
    assert list(table.columns) == ["dataset", "loss", "beta", "seed", "pearson"]
    assert len(table) == 2 * 2 * 3 and (table.dataset == "dsprites").all()
    got = {(r.loss, r.beta, r.seed): r.pearson for r in table.itertuples()}
    assert got == values


@pytest.mark.parametrize(("text", "message"), [
    ("Loss Type,Beta,Spearman Correlation\nBeta,1,0.2\n", "no column 'Pearson Correlation'"),
    ("Loss Type,Beta,Pearson Correlation\nBeta,1,0.2\nFactor,1,0.3\n", "Loss Type 'Factor'"),
    ("Loss Type,Beta,Pearson Correlation\nBeta,1,0.2\nBeta,1,oops\n", "line 3"),
    ("Loss Type,Beta,Pearson Correlation\nBeta,1,0.2\nBeta,1,0.3\nTC,1,0.2\n", "1 to 2 rows"),
    ("", "cannot be read"),
])
def test_a_file_that_is_not_facts_metrics_stops_naming_it(tmp_path, text, message):
    path = tmp_path / "theirs.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as err:
        read_fact_vae_metrics(path, "mnist")
    assert "theirs.csv" in str(err.value)


FACT_METRICS = {"mnist": "results/mnist/vae/metrics.csv", "dsprites": "results/dsprites/vae/metrics.csv",
                "cifar100": "results/cifar_vs_mnist/cifar100/vae/metrics.csv"}


@pytest.mark.skipif(not FACT_MIRROR.is_dir(), reason="no local mirror of jwagenbach/FACT")
@pytest.mark.parametrize("dataset", FACT_METRICS)
def test_facts_real_metrics_match_the_config_and_the_published_means(tmp_path, dataset):
    published = yaml.safe_load((ROOT / "config/labelfree.yaml").read_text())["labelfree"]["published"]
    entry = published["vae_metrics"][dataset]
    assert entry["path"] == FACT_METRICS[dataset]
    blob = subprocess.run(["git", f"--git-dir={FACT_MIRROR}", "cat-file", "blob", f"{FACT_COMMIT}:{entry['path']}"],
                          capture_output=True, check=True).stdout
    assert entry["checksum"] == "sha256:" + hashlib.sha256(blob).hexdigest()
    (tmp_path / "metrics.csv").write_bytes(blob)
    table = read_fact_vae_metrics(tmp_path / "metrics.csv", dataset)
    # 2 losses x 3 betas x runs 1-5, each row one of the published VAE files in the config
    files = {(e["loss"], float(e["beta"]), e["run"]) for e in published["vae"][dataset]}
    assert set(zip(table.loss, table.beta, table.seed)) == files and len(table) == 30
    means = table.groupby(["loss", "beta"])["pearson"].mean()
    for (loss, beta), mean in means.items():
        assert DISVAE_PUBLISHED[(dataset, loss)][int(beta)] == pytest.approx(mean, abs=0.005)


def test_a_rows_run_is_its_rank_within_its_loss_and_beta(tmp_path):
    (tmp_path / "m.csv").write_text("Loss Type,Beta,Pearson Correlation\nTC,1,0.1\nBeta,1,0.2\nTC,1,0.3\n"
                                    "Beta,1,0.4\nBeta,5,0.5\nBeta,5,0.6\nTC,5,0.7\nTC,5,0.8\n")
    table = read_fact_vae_metrics(tmp_path / "m.csv", "mnist")
    assert table.seed.tolist() == [1, 1, 2, 2, 1, 2, 1, 2]
    assert table.loss.tolist() == ["beta_tcvae", "beta_vae"] * 2 + ["beta_vae"] * 2 + ["beta_tcvae"] * 2


# --- the claims job -------------------------------------------------------------------------------


def test_the_claims_job_reads_facts_metrics_only_under_published_weights(tmp_path):
    from xairepro.common.smk import mock_snakemake

    published = {"scale": "paper", "labelfree": {"weights": "published", "published": {"dir": str(tmp_path)}}}
    smk = mock_snakemake("labelfree_write_claims", config=published, scale="paper")
    assert [path.split("results/paper/labelfree/")[1] for path in smk.input.fact_vae_metrics] == [
        f"disvae/{d}/fact_metrics.csv" for d in ("mnist", "dsprites", "cifar100")]
    assert smk.params.fact_tolerance == 0.05
    trained = mock_snakemake("labelfree_write_claims", config={"scale": "paper"}, scale="paper")
    assert list(trained.input.fact_vae_metrics) == []
