import numpy as np
import pandas as pd
import pytest
import torch

from xairepro.common.claims import failed_claims
from xairepro.common.errors import InputError
from xairepro.common.io import read_json, save_arrays
from xairepro.labelfree.data import load_dataset, read_official_dsprites, render_dsprites
from xairepro.labelfree.explain import GradientShap, LatentUnitSaliency, vae_mean
from xairepro.labelfree.steps import fit_and_explain
from xairepro.labelfree.tables import disvae_claims
from xairepro.lossgrad.data import make_demo_digits


def test_official_dsprites_is_read_without_unpickling_its_metadata(tmp_path):
    path = tmp_path / "dsprites.npz"
    np.savez(path, imgs=np.ones((4, 64, 64), np.uint8), latents_classes=np.arange(24).reshape(4, 6),
             latents_values=np.zeros((4, 6)), metadata=np.array([{"a": 1}], dtype=object))
    out = read_official_dsprites(path)
    assert out["images"].shape == (4, 64, 64) and out["factors"].shape == (4, 5)
    np.savez(tmp_path / "only_pickle.npz", imgs=np.array([{"a": 1}], dtype=object))
    with pytest.raises(InputError, match="only_pickle.npz"):
        read_official_dsprites(tmp_path / "only_pickle.npz")


def test_official_dsprites_factor_sorted_order_is_shuffled_for_the_split(tmp_path):
    # the official file lists sprites sorted by factor (shape slowest): the 90/10 split in
    # file order would test on the last shape only
    n = 60
    classes = np.zeros((n, 6), np.int64)
    classes[:, 1] = np.repeat([0, 1, 2], n // 3)
    imgs = np.zeros((n, 64, 64), np.uint8)
    imgs[:, 0, 0] = np.arange(n)  # each image tagged with its row
    path = tmp_path / "dsprites.npz"
    np.savez(path, imgs=imgs, latents_classes=classes, latents_values=classes.astype(float))
    out = read_official_dsprites(path)
    assert np.array_equal(out["factors"][:, 0], classes[out["images"][:, 0, 0], 1])  # rows stay together
    assert set(out["factors"][-n // 10:, 0]) != {2}
    assert np.array_equal(out["images"], read_official_dsprites(path)["images"])  # seeded


def test_datasets_are_32_pixel_images_in_the_unit_range(tmp_path):
    save_arrays(tmp_path / "mnist.npz", **make_demo_digits(seed=0))
    save_arrays(tmp_path / "ds.npz", **render_dsprites(50, size=32, seed=0))
    for path, name in ((tmp_path / "mnist.npz", "mnist"), (tmp_path / "ds.npz", "dsprites")):
        train, test = load_dataset(path, name)
        assert train.shape[1:] == test.shape[1:] == (1, 32, 32)
        assert 0 <= float(train.min()) and float(train.max()) <= 1


def test_fit_and_explain_returns_a_correlation_per_image_and_model(tmp_path):
    save_arrays(tmp_path / "ds.npz", **render_dsprites(200, size=32, seed=0))
    table = fit_and_explain(tmp_path / "ds.npz", tmp_path / "vae.pt", tmp_path / "vae.json", tmp_path / "ck.pt",
                            dataset="dsprites", loss="beta_tcvae", beta=5.0, latent_dim=4, epochs=1, batch_size=32,
                            lr=1e-3, n_test=8, shap_samples=3, seed=0)
    assert len(table) == 3 * 8 and table.correlation.between(-1, 1).all()
    assert set(table.model) == {"trained", "randomised", "random_attribution"}
    assert read_json(tmp_path / "vae.json")["params"]["loss"] == "beta_tcvae"
    assert not (tmp_path / "ck.pt").exists()
    # the control's maps are independent uniform noise per unit: no correlation between units
    assert abs(table.loc[table.model == "random_attribution", "correlation"].mean()) < 0.05


def disvae_table(correlation: dict[int, float], control: float = 0.0, n: int = 40, seeds=(0,),
                 pooled: dict[tuple[int, int], float] | None = None) -> pd.DataFrame:
    """Per-image rows around ``correlation[beta]`` (the control's around ``control``); each
    model's ``pooled`` value is ``pooled[(beta, seed)]`` where given, else the per-image mean."""
    rng = np.random.default_rng(0)
    rows = []
    for beta, value in correlation.items():
        for seed in seeds:
            for model, mean in (("trained", value), ("random_attribution", control)):
                whole = (pooled or {}).get((beta, seed), mean) if model == "trained" else mean
                rows += [{"dataset": "mnist", "loss": "beta_vae", "beta": beta, "seed": seed, "model": model,
                          "image": i, "correlation": mean + 0.05 * rng.standard_normal(), "pooled": whole}
                         for i in range(n)]
    return pd.DataFrame(rows)


def test_disvae_claims():
    flat = disvae_table({1: 0.6, 5: 0.58, 10: 0.55})
    demo = disvae_claims(flat, "demo")
    assert failed_claims(demo) == [] and len(demo) == 1 and (demo.control != "").all()
    decorrelated = disvae_claims(disvae_table({1: 0.6, 5: 0.4, 10: 0.1}), "demo")
    assert decorrelated.verdict.tolist() == ["fail"]
    paper = disvae_claims(disvae_table({1: 0.3, 5: 0.28, 10: 0.25}), "paper")
    assert paper.verdict.tolist() == ["pass"] * 3  # within 0.1 of 0.24 / 0.25 / 0.24, random maps are not


def test_disvae_claim_is_uninformative_when_the_control_does_not_decorrelate():
    # random maps as correlated as the trained ones: the statistic cannot tell them apart
    claims = disvae_claims(disvae_table({1: 0.6, 10: 0.55}, control=0.6), "demo")
    assert claims.verdict.tolist() == ["uninformative"]


class TwoHeads(torch.nn.Module):
    """encode(x) = (A x, C x): a VAE whose mean and log-variance heads are known and differ."""

    def __init__(self):
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.A = torch.randn(2, 5, generator=gen)
        self.C = torch.randn(2, 5, generator=gen)

    def encode(self, x):
        return x @ self.A.T, x @ self.C.T


def test_claim_3_explains_the_latent_means_not_the_log_variances():
    vae = TwoHeads()
    x = torch.randn(3, 5, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(vae_mean(vae)(x), x @ vae.A.T)
    # for the linear mean head, unit i's saliency is |mu_i(x) * x * A_i| (GradientSHAP from a
    # zero baseline without noise is exactly (x - 0) * A_i)
    maps = LatentUnitSaliency(vae_mean(vae), GradientShap, seed=0, n_samples=4, stdevs=0.0).attribute(
        x, baselines=torch.zeros(1, 5))
    mu = x @ vae.A.T
    expected = (mu[:, :, None] * x[:, None, :] * vae.A[None]).abs()
    torch.testing.assert_close(maps, expected, rtol=1e-4, atol=1e-5)
