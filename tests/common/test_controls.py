"""Negative controls: the cascading randomisation, and Quantus' localisation metrics
against their definitions."""

import numpy as np
import pytest
import torch

from xairepro.common import controls


def small_net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                               torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 3))


def same(a: torch.nn.Module, b: torch.nn.Module) -> list[bool]:
    return [torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters())]


def test_cascading_randomisation_starts_at_the_top_layer():
    net = small_net()
    before = [p.clone() for p in net.parameters()]
    top = controls.randomised_copy(net, seed=1, layers=1)
    assert same(net, top) == [True, True, True, True, False, False]    # conv w/b, bn w/b kept; linear w/b new
    both = controls.randomised_copy(net, seed=1, layers=2)
    assert same(net, both)[:2] == [True, True]
    everything = controls.randomised_copy(net, seed=1)
    assert not torch.equal(next(everything.parameters()), next(net.parameters()))
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), before)), "the original is untouched"


def test_randomisation_is_deterministic_in_its_seed_and_resets_running_statistics():
    net = small_net()
    net.train()
    net(torch.randn(8, 1, 8, 8) + 3.0)                 # move the running mean away from 0
    a, b = controls.randomised_copy(net, seed=5), controls.randomised_copy(net, seed=5)
    assert all(same(a, b)) and not all(same(a, controls.randomised_copy(net, seed=6)))
    assert torch.count_nonzero(a[1].running_mean) == 0 and torch.count_nonzero(net[1].running_mean) > 0
    with pytest.raises(ValueError, match="no layer"):
        controls.randomised_copy(torch.nn.ReLU())


def test_relevance_mass_is_the_positive_share_inside_the_region():
    rng = np.random.default_rng(0)
    a = rng.random((4, 1, 6, 6)).astype(np.float32)
    s = np.zeros_like(a, dtype=bool)
    s[:, :, :3, :2] = True
    expected = (a * s).reshape(4, -1).sum(1) / a.reshape(4, -1).sum(1)
    assert controls.relevance_mass(a, s) == pytest.approx(expected, rel=1e-5)
    inside = np.where(s, 1.0, 0.0)
    assert controls.relevance_mass(inside, s) == pytest.approx(np.ones(4))
    flat = controls.relevance_mass(a.reshape(4, -1), s.reshape(4, -1))     # (items, features) works too
    assert flat == pytest.approx(expected, rel=1e-5)
    maps = controls.relevance_mass(a[:, 0], s[:, 0])                       # and (items, h, w)
    assert maps == pytest.approx(expected, rel=1e-5)
    assert controls.relevance_rank(a[:, 0], s[:, 0]) == pytest.approx(controls.relevance_rank(a, s))


def test_relevance_rank_counts_the_top_region_size_features_inside():
    s = np.zeros((2, 1, 4, 4), dtype=bool)
    s[:, :, 0, :] = True                                   # 4 of 16 features
    a = np.zeros((2, 1, 4, 4), dtype=np.float32)
    a[0, 0, 0, :] = [4, 3, 2, 1]                           # all top 4 inside
    a[1, 0, 0, :2] = [4, 3]
    a[1, 0, 3, :2] = [5, 6]                                # 2 of the top 4 inside
    assert controls.relevance_rank(a, s) == pytest.approx([1.0, 0.5])
    assert controls.area_share(s) == pytest.approx([0.25, 0.25])


def test_a_random_attribution_scores_about_the_area_share():
    s = np.zeros((200, 1, 10, 10), dtype=bool)
    s[:, :, :5, :4] = True
    noise = controls.random_attribution(s.shape, seed=3)
    assert noise.shape == s.shape and noise.dtype == np.float32
    assert controls.relevance_mass(noise, s).mean() == pytest.approx(0.2, abs=0.02)
    assert controls.relevance_rank(noise, s).mean() == pytest.approx(0.2, abs=0.02)
    with pytest.raises(ValueError, match="non-empty"):
        controls.relevance_mass(noise[:2], np.zeros_like(s[:2]))


def test_shuffled_labels_keep_the_labels_and_move_them():
    labels = np.repeat(np.arange(5), 20)
    moved = controls.shuffled(labels, seed=0)
    assert sorted(moved) == sorted(labels) and (moved != labels).mean() > 0.5


def test_mprt_similarity_of_a_gradient_falls_once_the_weights_are_random():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))

    def gradient(model, inputs, targets):
        x = torch.tensor(inputs, requires_grad=True)
        model(x)[torch.arange(len(x)), torch.as_tensor(targets)].sum().backward()
        return x.grad.numpy()

    x = np.random.default_rng(0).random((6, 1, 4, 4)).astype(np.float32)
    scores = controls.mprt_similarity(net, x, np.array([0, 1, 2, 0, 1, 2]), gradient)
    assert scores["original"] == pytest.approx(1.0)
    assert scores[list(scores)[-1]] < 0.6
