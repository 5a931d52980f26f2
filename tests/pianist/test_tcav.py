"""CAVs, sensitivities (CavSensitivity), sign counts, Wilcoxon stars, dendrograms, kernel
occlusion (KernelOcclusion)."""

import numpy as np
import pandas as pd
import pytest
import torch

from xairepro.pianist import explain, tables
from xairepro.pianist.explain import CavSensitivity, KernelOcclusion
from xairepro.pianist.models import DisentangleNet
from xairepro.pianist.steps import heatmap_clips

SMALL = {"block": "basic", "layers": (1, 1, 1, 1), "width": 4, "stem": "small"}


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return DisentangleNet(3, **SMALL).eval()


def _rolls(n, seed=0):
    rng = np.random.default_rng(seed)
    return ((rng.random((n, 88, 40)) < 0.05) * rng.random((n, 88, 40))).astype(np.float32)


def test_sensitivity_is_gradient_times_activation_dotted_with_the_cav(model):
    rolls, targets = _rolls(3), np.array([0, 2, 1])
    dim = explain.activations(model, rolls).shape[1]
    cavs = np.random.default_rng(1).standard_normal((2, dim)).astype(np.float32)
    s = CavSensitivity(model).attribute(rolls, target=targets, cavs=cavs, batch_size=2)
    assert np.array_equal(s, explain.sensitivities(model, rolls, targets, cavs, batch_size=2))
    # by hand: hook the harmony layer, autograd of the target logit, one clip at a time
    for i in range(3):
        store = {}
        handle = explain.harmony_layer(model).register_forward_hook(lambda m, inp, out: store.setdefault("a", out))
        x = explain.harmony_only(rolls[i:i + 1])
        logit = model(x)[0, targets[i]]
        handle.remove()
        (grad,) = torch.autograd.grad(logit, store["a"])
        expected = (grad * store["a"]).flatten().detach().numpy() @ cavs.T
        np.testing.assert_allclose(s[i], expected, rtol=1e-4, atol=1e-6)


def test_batched_sensitivities_equal_one_clip_at_a_time(model):
    rolls, targets = _rolls(5, 3), np.array([0, 1, 2, 0, 1])
    dim = explain.activations(model, rolls[:1]).shape[1]
    cavs = np.random.default_rng(2).standard_normal((3, dim)).astype(np.float32)
    tcav = CavSensitivity(model)
    batched = tcav.attribute(rolls, target=targets, cavs=cavs, batch_size=5)
    single = np.concatenate([tcav.attribute(rolls[i:i + 1], target=targets[i], cavs=cavs, batch_size=1)
                             for i in range(5)])
    np.testing.assert_allclose(batched, single, rtol=1e-4, atol=1e-6)


def test_cav_points_along_the_planted_direction():
    rng = np.random.default_rng(0)
    direction = np.zeros(20, np.float32)
    direction[3] = 1.0
    concept = [rng.normal(0, 1, (60, 20)).astype(np.float32) + 3 * direction * (k == 0) for k in range(3)]
    clips = rng.normal(0, 1, (40, 20)).astype(np.float32)
    fitted = explain.fit_cavs(concept, clips, n_experiments=4, n_random_clips=40, positive_fraction=0.8, seed=0,
                              random_cavs="training_clips", solver="liblinear")
    assert fitted["cavs"].shape == (3, 4, 20) and fitted["random_cavs"].shape == (4, 20)
    unit = fitted["cavs"][0] / np.linalg.norm(fitted["cavs"][0], axis=1, keepdims=True)
    assert (unit[:, 3] > 0.7).all()  # every experiment of concept 0 finds feature 3
    assert not np.allclose(fitted["cavs"][0, 0], fitted["cavs"][0, 1])  # fresh draws per experiment
    # the control CAVs are a random concept in each concept's place: random clips vs random clips
    assert fitted["control_cavs"].shape == (3, 4, 20)
    control = fitted["control_cavs"][0] / np.linalg.norm(fitted["control_cavs"][0], axis=1, keepdims=True)
    assert (np.abs(control[:, 3]) < 0.7).all()


def test_control_cavs_are_fitted_like_the_random_cavs():
    """Adding the control CAVs leaves the concept and random CAVs as they were, and every
    control CAV is a random-vs-random CAV of the same clip pool (the TCAV null)."""
    rng = np.random.default_rng(1)
    concept = [rng.normal(0, 1, (30, 8)).astype(np.float32) for _ in range(2)]
    clips = rng.normal(0, 1, (20, 8)).astype(np.float32)
    fitted = explain.fit_cavs(concept, clips, n_experiments=3, n_random_clips=20, positive_fraction=0.8, seed=3,
                              random_cavs="training_clips", solver="liblinear")
    draws = np.random.default_rng(3)
    for c in range(2):  # replay the concept draws
        for _ in range(3):
            draws.choice(30, 24, replace=False), draws.choice(30, 24, replace=False)
    for e in range(3):
        chosen = draws.choice(20, 20, replace=False)
        expected, _ = explain._fit(clips[chosen[:10]], clips[chosen[10:]], 3 + e, "liblinear")
        np.testing.assert_allclose(fitted["random_cavs"][e], expected)
    for c in range(2):
        for e in range(3):
            chosen = draws.choice(20, 20, replace=False)
            expected, _ = explain._fit(clips[chosen[:10]], clips[chosen[10:]], 3 + e, "liblinear")
            np.testing.assert_allclose(fitted["control_cavs"][c, e], expected)


def test_sign_counts_and_magnitudes_by_hand():
    s = np.array([[1.0], [-3.0], [2.0], [0.5]])
    labels = np.array([0, 0, 1, 1])
    counts, magnitude = explain.sign_counts(s, labels, 2)
    np.testing.assert_allclose(counts[:, 0], [0.5, 1.0])
    np.testing.assert_allclose(magnitude[:, 0], [0.25, 1.0])


def test_wilcoxon_bonferroni_and_stars():
    concept = np.array([[[0.9, 0.95, 1.0, 0.92, 0.97, 0.93, 0.99, 0.91, 0.96, 0.98]],
                        [[0.5, 0.4, 0.6, 0.5, 0.45, 0.55, 0.5, 0.52, 0.48, 0.5]]])
    random = np.array([[0.5, 0.45, 0.55, 0.52, 0.48, 0.5, 0.47, 0.53, 0.5, 0.49],
                       [0.5, 0.45, 0.55, 0.52, 0.48, 0.5, 0.47, 0.53, 0.5, 0.49]])
    p, p_bonf = tables.significance(concept, random)
    assert p[0, 0] == pytest.approx(2 / 2**10)  # exact two-sided: all ten differences positive
    assert p_bonf[0, 0] == pytest.approx(2 * p[0, 0]) and p_bonf[1, 0] > 0.05
    assert [tables.stars(v) for v in (0.0005, 0.005, 0.02, 0.2)] == ["***", "**", "*", ""]


def test_summary_correlations_and_dendrogram_order():
    rows = []
    for p, base in (("a", [0.9, 0.1, 0.2]), ("b", [0.1, 0.9, 0.8]), ("c", [0.85, 0.2, 0.1])):
        for c, value in zip(("x", "y", "z"), base):
            for e in range(10):
                rows.append({"performer": p, "concept": c, "experiment": e, "sign_count": value + 0.01 * e,
                             "magnitude": value, "random_sign_count": 0.5 - 0.01 * e})
    long = pd.DataFrame(rows)
    summary = tables.summarise(long)
    assert len(summary) == 9 and (summary.stars[summary.sign_count > 0.8] != "").all()
    concept_r, performer_r = tables.correlations(long)
    assert concept_r.loc["y", "z"] > 0.9 and performer_r.loc["a", "b"] < -0.9
    order = tables.dendrogram_order(performer_r)
    assert abs(order.index(0) - order.index(2)) == 1  # the two similar performers sit together


def test_kernel_heatmap_shapes_and_zero_where_no_notes(model, chord_case):
    notes, roll, kernel, draw = chord_case
    cavs = draw(model, 2, seed=0)
    out = KernelOcclusion(model, roll=roll, kernel=kernel).attribute(notes, target=0, cavs=cavs, batch_size=8)
    pitches, times = explain.kernel_positions(4.0, kernel)
    assert np.array_equal(out["pitches"], pitches) and np.array_equal(out["times"], times)
    assert out["map"].shape == (2, len(pitches), len(times))
    far = pitches - 12 > 55  # kernels (centres +-12 semitones) above every note delete nothing
    assert np.allclose(out["map"][:, far], 0, atol=1e-5)
    late = times >= 2.0  # the notes end at 1 s: the kernel centred at 1 s (0.5-1.5 s) takes them by their end
    assert np.allclose(out["map"][:, :, late], 0, atol=1e-5)
    assert not np.allclose(out["map"][:, ~far][:, :, times == 1.0], 0, atol=1e-5)


def test_heatmap_clip_list_uses_the_default_only_when_empty():
    assert heatmap_clips([], "d.mid") == ["d.mid"]
    assert heatmap_clips(["a.mid", "b.mid"], "d.mid") == ["a.mid", "b.mid"]


def test_integrated_gradients_is_a_drop_in_attribution(model):
    rolls, targets = _rolls(2, 5), np.array([0, 1])
    cavs = np.ones((1, explain.activations(model, rolls[:1]).shape[1]), np.float32)
    tcav = CavSensitivity(model, attribution_fn="integrated_gradients", ig_steps=4)
    s = tcav.attribute(rolls, target=targets, cavs=cavs, batch_size=2)
    assert s.shape == (2, 1) and np.isfinite(s).all()
    with pytest.raises(ValueError, match="attribution_fn"):
        CavSensitivity(model, attribution_fn="occlusion")
    with pytest.raises(ValueError, match="attribution_fn"):
        explain.sensitivities(model, rolls, targets, cavs, batch_size=2, attribution_fn="occlusion")


def test_a_zero_sensitivity_is_not_a_positive_one():
    # TCAV counts s > 0: a clip whose sensitivity is exactly 0 (no gradient through the
    # harmony layer) counts against the concept, and adds nothing to the magnitude's total
    s = np.array([[0.0], [2.0], [0.0], [-1.0]])
    labels = np.array([0, 0, 1, 1])
    counts, magnitude = explain.sign_counts(s, labels, 2)
    np.testing.assert_allclose(counts[:, 0], [0.5, 0.0])
    np.testing.assert_allclose(magnitude[:, 0], [1.0, 0.0])
    # every sensitivity zero: no direction at all, magnitude 0.5 and count 0
    counts, magnitude = explain.sign_counts(np.zeros((2, 1)), np.array([0, 0]), 1)
    assert counts[0, 0] == 0.0 and magnitude[0, 0] == 0.5


def test_one_tied_experiment_does_not_void_the_test():
    # sign counts of a few clips tie often; the tie is dropped (scipy's "wilcox" zero method)
    # and the nine remaining positive differences decide: exact two-sided p = 2 / 2**9
    random = np.full((1, 10), 0.5)
    concept = np.array([[[0.5, 0.9, 0.8, 0.7, 0.95, 0.85, 0.75, 0.65, 0.6, 0.99]]])
    p, _ = tables.significance(concept, random)
    assert p[0, 0] == pytest.approx(2 / 2**9)
    # every experiment tied: nothing to test, p = 1
    p, _ = tables.significance(np.full((1, 1, 10), 0.5), random)
    assert p[0, 0] == 1.0
