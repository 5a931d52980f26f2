import numpy as np
import pandas as pd
import pytest

from xairepro.common.errors import InputError
from xairepro.common.io import read_json, save_arrays
from xairepro.labelfree.data import load_dataset, read_official_dsprites, render_dsprites
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


def test_datasets_are_32_pixel_images_in_the_unit_range(tmp_path):
    save_arrays(tmp_path / "mnist.npz", **make_demo_digits(seed=0))
    save_arrays(tmp_path / "ds.npz", **render_dsprites(50, size=32, seed=0))
    for path, name in ((tmp_path / "mnist.npz", "mnist"), (tmp_path / "ds.npz", "dsprites")):
        train, test = load_dataset(path, name)
        assert train.shape[1:] == test.shape[1:] == (1, 32, 32)
        assert 0 <= float(train.min()) and float(train.max()) <= 1


def test_fit_and_explain_returns_a_correlation_per_image(tmp_path):
    save_arrays(tmp_path / "ds.npz", **render_dsprites(200, size=32, seed=0))
    table = fit_and_explain(tmp_path / "ds.npz", tmp_path / "vae.pt", tmp_path / "vae.json", tmp_path / "ck.pt",
                            dataset="dsprites", loss="beta_tcvae", beta=5.0, latent_dim=4, epochs=1, batch_size=32,
                            lr=1e-3, n_test=8, shap_samples=3, seed=0)
    assert len(table) == 8 and table.correlation.between(-1, 1).all()
    assert read_json(tmp_path / "vae.json")["params"]["loss"] == "beta_tcvae"
    assert not (tmp_path / "ck.pt").exists()


def test_disvae_claims():
    rows = [{"dataset": "mnist", "loss": "beta_vae", "beta": b, "correlation": c}
            for b, c in ((1, 0.3), (5, 0.28), (10, 0.25))]
    table = pd.DataFrame(rows)
    demo = disvae_claims(table, "demo")
    assert len(demo) == 2 and demo["pass"].all()
    assert not disvae_claims(table.assign(correlation=[0.6, 0.4, 0.2]), "demo")["pass"].iloc[1]
    paper = disvae_claims(table, "paper")
    assert paper["pass"].tolist() == [True, True, True]  # within 0.1 of 0.24 / 0.25 / 0.24
