"""Claim 1.1 steps on a small slice of the demo digits."""

import numpy as np
import pandas as pd
import pytest
import torch

from xairepro.attribution.occlusion import feature_ranks
from xairepro.common.claims import broken_invariants, claims_only, failed_claims
from xairepro.common.controls import random_attribution
from xairepro.common.io import load_arrays, read_json, save_arrays
from xairepro.labelfree.steps import consistency_features, feature_importance, mask_top_features
from xairepro.labelfree.tables import feature_consistency_claims
from xairepro.labelfree.train import load_autoencoder, train_autoencoder
from xairepro.lossgrad.data import make_demo_digits

METHODS = ["integrated_gradients", "gradient_shap", "saliency"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("labelfree")
    save_arrays(tmp / "mnist.npz", **make_demo_digits(seed=0))
    record = train_autoencoder(tmp / "mnist.npz", tmp / "ae.pt", tmp / "ae.json", tmp / "ckpt.pt", latent_dim=4,
                               epochs=3, batch_size=64, lr=3e-3, weight_decay=1e-5, valid_fraction=0.1, seed=0)
    attributions = feature_importance(tmp / "mnist.npz", tmp / "ae.pt", tmp / "attr.npz", methods=METHODS, n_test=40,
                                      ig_steps=20, shap_samples=5, internal_batch_size=16, seed=0)
    shifts = consistency_features(tmp / "ae.pt", tmp / "attr.npz", methods=METHODS,
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
    assert len(shifts) == (len(METHODS) + 2) * 4 * 40  # methods, random, random attribution; levels; items
    at = shifts.pivot_table(index="fraction", columns="method", values="representation_shift")
    assert (at.loc[0.0] == 0).all()
    assert np.allclose(at.loc[1.0], at.loc[1.0].iloc[0])  # all pixels masked: one image, one shift


def test_random_attribution_control_masks_by_the_controls_random_map(run):
    tmp, _, attributions, shifts = run
    model = load_autoencoder(tmp / "ae.pt")
    x = torch.from_numpy(attributions["images"])
    ranks = feature_ranks(torch.from_numpy(random_attribution((40, 28 * 28), seed=1)), roar=1)
    masked = mask_top_features(x, ranks, int(round(0.1 * 28 * 28)), torch.zeros(1, 1, 28, 28))
    with torch.no_grad():
        expected = ((model.encode(x) - model.encode(masked)) ** 2).sum(dim=1).numpy()
    got = shifts[(shifts.method == "random_attribution") & (shifts.fraction == 0.1)].sort_values("item")
    np.testing.assert_allclose(got.representation_shift, expected, rtol=1e-5)


def test_label_free_rankings_beat_random_masking(run):
    _, _, _, shifts = run
    claims = feature_consistency_claims(shifts.assign(seed=0), "MNIST", margin=1.2)
    assert failed_claims(claims) == [] and broken_invariants(claims) == []
    assert (claims_only(claims).control != "").all() and len(claims_only(claims)) == len(METHODS)


def test_a_random_attribution_in_place_of_a_method_fails_the_claim(run):
    _, _, _, shifts = run
    chance = shifts[shifts.method == "random_attribution"].assign(method="integrated_gradients")
    table = pd.concat([shifts[shifts.method.isin(["random", "random_attribution"])], chance]).assign(seed=0)
    claims = feature_consistency_claims(table, "MNIST", margin=1.2)
    assert claims_only(claims).verdict.tolist() == ["fail"]


def test_masking_replaces_exactly_the_top_ranked_features_by_the_baseline():
    from xairepro.labelfree.steps import mask_top_features

    x = torch.arange(2 * 2 * 5, dtype=torch.float32).reshape(2, 2, 5)  # (N, C, T)
    baseline = -torch.ones(1, 2, 5)
    ranks = torch.tensor([[1, 2, 3, 4, 0], [2, 3, 0, 1, 4]])  # place of each step in the order
    masked = mask_top_features(x, ranks, 2, baseline)
    assert (masked[0, :, [4, 0]] == -1).all() and (masked[1, :, [2, 3]] == -1).all()  # every channel goes
    keep = torch.ones_like(x, dtype=torch.bool)
    keep[0, :, [4, 0]] = False
    keep[1, :, [2, 3]] = False
    assert torch.equal(masked[keep], x[keep])
    assert torch.equal(mask_top_features(x, ranks, 0, baseline), x)  # k = 0 is the identity


@pytest.mark.parametrize("dataset,shape", [("ecg", (3, 1, 140)), ("cifar10", (3, 3, 32, 32))])
def test_autoencoders_of_the_other_data_sets_reconstruct_their_input_shape(dataset, shape):
    from xairepro.labelfree.models import build_autoencoder

    for options in ({"positional_decoder": True}, {}) if dataset == "ecg" else ({},):
        model = build_autoencoder(dataset, 8, **options).eval()
        x = torch.rand(shape)
        assert model(x).shape == x.shape and model.encode(x).shape == (3, 8)


def test_ecg_split_trains_on_normal_and_explains_abnormal_beats(tmp_path):
    from xairepro.common.io import save_arrays
    from xairepro.labelfree.data import baseline_input, load_inputs

    beats = np.random.default_rng(0).normal(size=(6, 140)).astype(np.float32)
    save_arrays(tmp_path / "ecg.npz", beats=beats, labels=np.array([1, 2, 1, 3, 1, 5]))
    train, train_y = load_inputs(tmp_path / "ecg.npz", "ecg", "train")
    test, test_y = load_inputs(tmp_path / "ecg.npz", "ecg", "test")
    assert train.shape == (3, 1, 140) and (train_y == 1).all() and set(test_y.tolist()) == {2, 3, 5}
    mean = baseline_input(tmp_path / "ecg.npz", "ecg", "mean")
    np.testing.assert_allclose(mean[0, 0].numpy(), beats[[0, 2, 4]].mean(0), atol=1e-6)
