import pytest
import torch

from xairepro.attribution.occlusion import feature_ranks, occlude, rank_scores, replacement_values


@pytest.fixture
def batch():
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(5, 1, 6, 6, generator=generator)
    g = torch.randn(5, 1, 6, 6, generator=generator)
    return x, g


def test_k0_occlusion_leaves_inputs_unchanged(batch):
    x, g = batch
    for method in ("abs_grad", "grad_orig", "grad_inp", "random"):
        for order in (0, 1):
            ranks = feature_ranks(rank_scores(method, x, g, torch.Generator().manual_seed(0)), order)
            for replacement in ("mean", "image_min", "image_max"):
                assert torch.equal(occlude(x, ranks, 0, replacement_values(x, replacement)), x)


def test_roar1_occludes_the_largest_and_roar0_the_smallest_scores(batch):
    x, g = batch
    k = 7
    values = torch.full((5, 1), 99.0)
    top = occlude(x, feature_ranks(rank_scores("grad_orig", x, g), 1), k, values).flatten(1) == 99.0
    bottom = occlude(x, feature_ranks(rank_scores("grad_orig", x, g), 0), k, values).flatten(1) == 99.0
    flat_g = g.flatten(1)
    for i in range(5):
        assert set(torch.nonzero(top[i]).flatten().tolist()) == set(flat_g[i].topk(k).indices.tolist())
        assert set(torch.nonzero(bottom[i]).flatten().tolist()) == set((-flat_g[i]).topk(k).indices.tolist())


def test_every_level_occludes_exactly_k_nested_features(batch):
    x, g = batch
    ranks = feature_ranks(rank_scores("abs_grad", x, g), 1)
    previous = torch.zeros(5, 36, dtype=torch.bool)
    for k in range(37):
        mask = ranks < k
        assert (mask.sum(dim=1) == k).all()
        assert (mask | ~previous).all()  # levels are nested: ROAR removes more of the same ranking
        previous = mask


def test_scores_follow_the_original_definitions(batch):
    x, g = batch
    torch.testing.assert_close(rank_scores("abs_grad", x, g), g.flatten(1).abs())
    torch.testing.assert_close(rank_scores("grad_orig", x, g), g.flatten(1))
    torch.testing.assert_close(rank_scores("grad_inp", x, g), (g * x).flatten(1))
    with pytest.raises(ValueError, match="unknown attribution_method"):
        rank_scores("saliency", x, g)


def test_replacement_values_are_mean_three_times_min_and_max(batch):
    x, _ = batch
    flat = x.flatten(1)
    assert torch.equal(replacement_values(x, "mean"), torch.zeros(5, 1))
    torch.testing.assert_close(replacement_values(x, "image_min"), 3 * flat.min(1, keepdim=True).values)
    torch.testing.assert_close(replacement_values(x, "image_max"), flat.max(1, keepdim=True).values)


def test_random_ranking_is_seeded_and_a_permutation(batch):
    x, g = batch
    a = feature_ranks(rank_scores("random", x, g, torch.Generator().manual_seed(5)), 1)
    b = feature_ranks(rank_scores("random", x, g, torch.Generator().manual_seed(5)), 1)
    assert torch.equal(a, b)
    assert torch.equal(a.sort(dim=1).values, torch.arange(36).expand(5, 36))


def test_bad_order_and_level_are_refused(batch):
    x, g = batch
    with pytest.raises(ValueError, match="ROAR"):
        feature_ranks(rank_scores("grad_orig", x, g), 2)
    with pytest.raises(ValueError, match="outside"):
        occlude(x, feature_ranks(rank_scores("grad_orig", x, g), 1), 37, torch.zeros(5, 1))
