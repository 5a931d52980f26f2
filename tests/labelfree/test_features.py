"""Claim 1.1 steps on a small slice of the demo digits."""

import numpy as np
import pytest

from xairepro.common.io import load_arrays, read_json, save_arrays
from xairepro.labelfree import features
from xairepro.labelfree.tables import feature_consistency_claims
from xairepro.lossgrad.data import make_demo_digits

METHODS = ["integrated_gradients", "gradient_shap", "saliency"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("labelfree")
    save_arrays(tmp / "mnist.npz", **make_demo_digits(seed=0))
    record = features.train_autoencoder(tmp / "mnist.npz", tmp / "ae.pt", tmp / "ae.json", tmp / "ckpt.pt",
                                        latent_dim=4, epochs=3, batch_size=64, lr=3e-3, weight_decay=1e-5,
                                        valid_fraction=0.1, seed=0)
    attributions = features.feature_importance(tmp / "mnist.npz", tmp / "ae.pt", tmp / "attr.npz", methods=METHODS,
                                               n_test=40, ig_steps=20, shap_samples=5, internal_batch_size=16,
                                               seed=0)
    shifts = features.consistency_features(tmp / "ae.pt", tmp / "attr.npz", methods=METHODS,
                                           mask_fractions=[0, 0.1, 0.2, 1.0], seed=0)
    return tmp, record, attributions, shifts


def test_training_keeps_the_best_validation_epoch(run):
    tmp, record, _, _ = run
    history = read_json(tmp / "ae.json")["history"]
    best = min(history, key=lambda h: h["valid_loss"])
    assert record["best_epoch"] == best["epoch"] and record["valid_loss"] == best["valid_loss"]
    assert not (tmp / "ckpt.pt").exists()


def test_attribution_cache_holds_every_method_for_every_image(run):
    tmp, _, _, _ = run
    cache = load_arrays(tmp / "attr.npz", required=("images", "labels", *METHODS))
    for method in METHODS:
        assert cache[method].shape == (40, 1, 28, 28)
        assert np.isfinite(cache[method]).all() and np.abs(cache[method]).sum() > 0
    assert (cache["saliency"] >= 0).all()  # absolute gradients


def test_blank_pixels_get_no_integrated_gradients(run):
    _, _, attributions, _ = run
    # IG from a black baseline is (x - 0) * average gradient: zero wherever the image is zero
    blank = attributions["images"] == 0
    assert np.all(attributions["integrated_gradients"][blank] == 0)


def test_masking_nothing_shifts_nothing_and_everything_shifts_equally(run):
    _, _, _, shifts = run
    at = shifts.pivot_table(index="fraction", columns="method", values="representation_shift")
    assert (at.loc[0.0] == 0).all()
    assert np.allclose(at.loc[1.0], at.loc[1.0].iloc[0])  # all pixels masked: one image, one shift


def test_label_free_rankings_beat_random_masking(run):
    _, _, _, shifts = run
    claims = feature_consistency_claims(shifts.assign(seed=0), "MNIST")
    assert claims["pass"].all(), claims.to_string()
