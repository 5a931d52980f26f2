"""Edges of xairepro/attribution that the mutants of `make mutation` showed untested
(docs/testing.md, "Mutation testing")."""

import pytest
import torch

from xairepro.attribution.occlusion import feature_ranks, occlude, replacement_values


def test_the_mean_replacement_keeps_the_inputs_dtype_and_the_given_mean():
    x = torch.randn(3, 1, 2, 2, dtype=torch.float64)
    values = replacement_values(x, "mean", dataset_mean=0.25)
    assert values.dtype == torch.float64 and values.shape == (3, 1)
    assert torch.equal(values, torch.full((3, 1), 0.25, dtype=torch.float64))


def test_an_unknown_replacement_is_named_with_the_choices():
    with pytest.raises(ValueError, match=r"unknown replacement_type 'median'; choose from .*image_min"):
        replacement_values(torch.zeros(1, 4), "median")


def test_every_feature_can_be_occluded_but_no_more():
    x = torch.arange(8, dtype=torch.float32).view(2, 1, 2, 2)
    ranks = feature_ranks(x.flatten(1), 1)
    values = torch.tensor([[-1.0], [-2.0]])
    everything = occlude(x, ranks, 4, values)  # k = P: the whole image
    assert torch.equal(everything, values.view(2, 1, 1, 1).expand_as(x))
    for k in (-1, 5):
        with pytest.raises(ValueError, match=rf"k={k} outside 0..4"):
            occlude(x, ranks, k, values)


def test_cosine_scores_against_hand_values():
    from xairepro.attribution.example_importance import cosine_scores

    train = torch.tensor([[3.0, 0.0], [0.0, 0.5], [1.0, 1.0]])
    test = torch.tensor([[10.0, 0.0], [0.0, -2.0]])
    s = 2**-0.5
    torch.testing.assert_close(cosine_scores(train, test), torch.tensor([[1.0, 0.0, s], [0.0, -1.0, -s]]))
    # (n, 1, d) latents are flattened per item, not normalised as one block
    torch.testing.assert_close(cosine_scores(train[:, None], test[:, None]), cosine_scores(train, test))


def test_dknn_scores_are_inverse_squared_distances():
    from xairepro.attribution.example_importance import dknn_scores

    train = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    test = torch.tensor([[0.0, 0.0]])
    scores = dknn_scores(train, test)
    # distance 0 -> 1 / eps = 1e12 (positive, the largest score); distance 5 -> 1 / 25
    torch.testing.assert_close(scores, torch.tensor([[1e12, 1 / 25]]), rtol=1e-5, atol=0)
    torch.testing.assert_close(dknn_scores(train, test, eps=1.0), torch.tensor([[1.0, 1 / 26]]))


@pytest.mark.parametrize("roar", [1, 0])
def test_tied_scores_are_ranked_in_feature_order(roar):
    # a flat attribution (all ties): the stable sort occludes features 0, 1, 2, ... first
    ranks = feature_ranks(torch.zeros(2, 100), roar)
    assert torch.equal(ranks, torch.arange(100).expand(2, 100))
    # ties inside a ranking: among equal scores the earlier feature comes first
    scores = torch.tensor([[1.0, 2.0, 1.0, 2.0] * 25])
    first = torch.arange(100).view(25, 4)
    high, low = first[:, [1, 3]].flatten(), first[:, [0, 2]].flatten()
    expected_order = torch.cat([high, low] if roar else [low, high])
    assert torch.equal(feature_ranks(scores, roar)[0, expected_order], torch.arange(100))


def test_random_scores_follow_the_inputs_dtype_and_the_generator():
    from xairepro.attribution.occlusion import rank_scores

    x = torch.zeros(2, 1, 3, 3, dtype=torch.float64)
    a = rank_scores("random", x, x, torch.Generator().manual_seed(7))
    b = rank_scores("random", x, x, torch.Generator().manual_seed(7))
    assert a.dtype == torch.float64 and a.shape == (2, 9) and torch.equal(a, b)


def test_latent_unit_saliency_passes_the_methods_arguments_on():
    from xairepro.attribution.label_free import IntegratedGradients, latent_unit_saliency

    # linear encoder mu = x W^T: IG from baseline b gives (x - b) * W_i for unit i, exactly
    weight = torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]])
    x = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    b = torch.full_like(x, 0.5)
    maps = latent_unit_saliency(lambda t: t @ weight.T, x, IntegratedGradients, baselines=b, n_steps=8)
    mu = x @ weight.T
    expected = torch.stack([(mu[:, i:i + 1] * (x - b) * weight[i]).abs() for i in range(2)], dim=1)
    torch.testing.assert_close(maps, expected)


def linear_encoder():
    weight = torch.randn(3, 8, generator=torch.Generator().manual_seed(0))
    return weight, lambda x: x.flatten(1) @ weight.T


def test_tiled_pairing_equals_per_input_for_integrated_gradients():
    from xairepro.attribution.label_free import IntegratedGradients, LabelFreeFeatureImportance

    # IG expands step-major, so expanded input j mod B is sample j's own: both pairings give
    # (x - b) W^T W x for a linear encoder, also in chunks that do not divide N = 6
    weight, encoder = linear_encoder()
    x = torch.randn(6, 8, generator=torch.Generator().manual_seed(1))
    b = torch.full_like(x, 0.1)
    expected = (x - b) * (x @ weight.T @ weight)
    for batch in (None, 4):
        tiled = LabelFreeFeatureImportance(encoder, IntegratedGradients, pairing="tiled").attribute(
            x, baselines=b, n_steps=5, internal_batch_size=batch)
        torch.testing.assert_close(tiled, expected, rtol=1e-4, atol=1e-5)


def test_tiled_pairing_under_gradient_shap_pairs_as_the_original():
    from xairepro.attribution.label_free import GradientShap, LabelFreeFeatureImportance

    # GradientShap repeats each input in place (x0, x0, x1, x1): tiled codes (f(x0), f(x1))
    # pair both samples of every input with x0 and x1 in turn; with one baseline and no noise
    # the gradient is constant, so attribution_i = (x_i - b) * W^T W (x0 + x1) / 2
    weight, encoder = linear_encoder()
    x = torch.randn(2, 8, generator=torch.Generator().manual_seed(2))
    b = torch.zeros(1, 8)
    tiled = LabelFreeFeatureImportance(encoder, GradientShap, pairing="tiled").attribute(
        x, baselines=b, n_samples=2, stdevs=0.0)
    torch.testing.assert_close(tiled, (x - b) * ((x[0] + x[1]) / 2 @ weight.T @ weight), rtol=1e-4, atol=1e-5)
    own = LabelFreeFeatureImportance(encoder, GradientShap).attribute(x, baselines=b, n_samples=2, stdevs=0.0)
    torch.testing.assert_close(own, (x - b) * (x @ weight.T @ weight), rtol=1e-4, atol=1e-5)


def test_label_free_errors_name_what_is_wrong():
    from xairepro.attribution.label_free import LabelFreeFeatureImportance

    _, encoder = linear_encoder()
    with pytest.raises(ValueError, match=r"unknown pairing 'zip'; choose from \('per_input', 'tiled'\)"):
        LabelFreeFeatureImportance(encoder, pairing="zip")
    explainer = LabelFreeFeatureImportance(encoder, pairing="tiled")
    explainer._batch_codes = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="tiled pairing: 5 expanded inputs is no multiple of the batch 2"):
        explainer._auxiliary(torch.zeros(5, 8))


def cross_entropy_gradient():
    from xairepro.attribution.loss_gradient import LossGradient

    model = torch.nn.Linear(5, 2)
    return LossGradient(model, lambda out, y: torch.nn.functional.cross_entropy(out, y, reduction="none"))


# split() of no inputs yields one empty chunk (any chunk size), which captum's Saliency
# cannot take: the empty branch of LossGradient.attribute is unreachable until it returns
# before the loop (issue 24 report)
def test_loss_gradient_of_no_inputs_is_empty():
    empty = cross_entropy_gradient().attribute(torch.zeros(0, 5), torch.zeros(0, dtype=torch.long))
    assert empty.shape == (0, 5)


def test_loss_gradient_of_mismatched_targets_names_both_counts():
    lg = cross_entropy_gradient()
    with pytest.raises(ValueError, match="3 inputs but 2 targets"):
        lg.attribute(torch.zeros(3, 5), torch.zeros(2, dtype=torch.long))


def test_influence_defaults_are_the_originals_lissa_settings():
    import inspect

    from xairepro.attribution.example_importance import influence_scores

    defaults = {k: p.default for k, p in inspect.signature(influence_scores).parameters.items()
                if p.default is not inspect.Parameter.empty}
    # damping 1e-3 and scale 1000 as the original (docstring); depth 100, batches of 32, seed 0
    assert defaults == {"depth": 100, "damping": 1e-3, "scale": 1000.0, "batch_size": 32, "seed": 0}


def test_influence_batches_are_drawn_from_the_seed():
    from test_example_importance import TinyAutoencoder, reconstruction_loss

    from xairepro.attribution.example_importance import influence_scores

    torch.manual_seed(0)
    model = TinyAutoencoder()
    train, test = torch.randn(12, 4), torch.randn(2, 4)
    params = ["encoder.weight", "encoder.bias"]

    def scores(**seed):
        # batches of 5 from 12: the LiSSA estimate depends on the order the seed draws
        return influence_scores(model, reconstruction_loss, train, test, params, depth=4, damping=0.01,
                                scale=500.0, batch_size=5, **seed)

    torch.manual_seed(123)
    first = scores()
    torch.manual_seed(456)  # the global generator plays no part
    torch.testing.assert_close(scores(), first, rtol=0, atol=0)
    torch.testing.assert_close(scores(seed=0), first, rtol=0, atol=0)
    assert not torch.equal(scores(seed=1), first)
    # called without the knobs, the function runs its documented defaults
    torch.testing.assert_close(
        influence_scores(model, reconstruction_loss, train, test, params),
        influence_scores(model, reconstruction_loss, train, test, params, depth=100, damping=1e-3, scale=1000.0,
                         batch_size=32, seed=0), rtol=0, atol=0)


def test_simplex_and_per_sample_gradient_defaults():
    import inspect

    from xairepro.attribution.example_importance import per_sample_gradients, simplex_scores

    def defaults(function):
        return {k: p.default for k, p in inspect.signature(function).parameters.items()
                if p.default is not inspect.Parameter.empty}

    assert defaults(simplex_scores) == {"n_epochs": 2000, "lr": 0.5, "seed": 0}
    assert defaults(per_sample_gradients) == {"chunk_size": 64}


def test_simplex_weights_are_drawn_from_the_seed_only():
    from xairepro.attribution.example_importance import simplex_scores

    train = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    test = torch.randn(2, 3, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(5)
    first = simplex_scores(train, test, n_epochs=3)
    torch.manual_seed(6)  # the global generator plays no part
    torch.testing.assert_close(simplex_scores(train, test, n_epochs=3, seed=0), first, rtol=0, atol=0)
    assert not torch.equal(simplex_scores(train, test, n_epochs=3, seed=1), first)


def test_simplex_called_with_its_defaults_runs_them():
    from xairepro.attribution.example_importance import simplex_scores

    train = torch.randn(4, 2, generator=torch.Generator().manual_seed(0))
    test = torch.randn(1, 2, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(simplex_scores(train, test),
                               simplex_scores(train, test, n_epochs=2000, lr=0.5, seed=0), rtol=0, atol=0)


def test_lissa_and_influence_run_their_documented_defaults_when_not_given():
    # inspect.signature sees the defaults as written; these calls check the ones that run
    from test_example_importance import TinyAutoencoder, reconstruction_loss

    from xairepro.attribution.example_importance import influence_scores, lissa_inverse_hvp

    torch.manual_seed(0)
    model = TinyAutoencoder()
    train, test = torch.randn(40, 4), torch.randn(2, 4)
    params = ["encoder.weight", "encoder.bias"]
    vectors = torch.randn(2, sum(dict(model.named_parameters())[p].numel() for p in params))
    lissa = lambda **knobs: lissa_inverse_hvp(model, reconstruction_loss, params, vectors, [train], 5, **knobs)  # noqa: E731
    torch.testing.assert_close(lissa(), lissa(damping=1e-3, scale=1000.0), rtol=0, atol=0)
    for knobs in ({"damping": 1.001e-3, "scale": 1000.0}, {"damping": 1e-3, "scale": 1001.0}):
        assert not torch.allclose(lissa(**knobs), lissa(), rtol=1e-6, atol=0)  # either knob moves the estimate
    # 40 training examples: batches of 32 and of 33 draw different examples at each step
    influence = lambda **knobs: influence_scores(model, reconstruction_loss, train, test, params, depth=3, **knobs)  # noqa: E731
    torch.testing.assert_close(influence(), influence(batch_size=32), rtol=0, atol=0)
    assert not torch.allclose(influence(batch_size=33), influence(), rtol=1e-6, atol=0)


def test_latent_unit_saliency_channel_mean_averages_the_signed_gradient_over_channels():
    from xairepro.attribution.label_free import IntegratedGradients, latent_unit_saliency

    # a linear encoder over (N, 2, 1, 2) inputs: unit i's gradient is weight[i] in the input's shape
    weight = torch.tensor([[1.0, -3.0, 2.0, 5.0], [0.5, 0.5, -1.0, 2.0]])
    x = torch.tensor([[[[1.0, 2.0]], [[0.0, -1.0]]], [[[2.0, 0.0]], [[1.0, 1.0]]]])
    mu = x.flatten(1) @ weight.T  # (N, 2)
    # IntegratedGradients from a zero baseline: attribution = x * weight, signed; the channel
    # mean is taken of the signed attributions before |mu_i * .|, as FACT does
    maps = latent_unit_saliency(lambda t: t.flatten(1) @ weight.T, x, IntegratedGradients, channel_mean=True,
                                baselines=torch.zeros_like(x), n_steps=16)
    assert maps.shape == (2, 2, 1, 1, 2)
    signed = x.unsqueeze(1) * weight.view(1, 2, 2, 1, 2)  # (N, d, C, H, W)
    expected = (mu.view(2, 2, 1, 1, 1) * signed.mean(dim=2, keepdim=True)).abs()
    torch.testing.assert_close(maps, expected, rtol=1e-5, atol=1e-6)
    # without channel_mean every channel keeps its own map
    full = latent_unit_saliency(lambda t: t.flatten(1) @ weight.T, x, IntegratedGradients,
                                baselines=torch.zeros_like(x), n_steps=16)
    torch.testing.assert_close(full, (mu.view(2, 2, 1, 1, 1) * signed).abs(), rtol=1e-5, atol=1e-6)


def test_loss_gradient_without_a_batch_size_takes_one_forward_pass_of_all_inputs():
    # the module's promise: a batch of N costs one forward and one backward pass
    from xairepro.attribution.loss_gradient import LossGradient

    model = torch.nn.Linear(3, 2)
    seen = []
    forward = lambda t: (seen.append(t.shape[0]), model(t))[1]  # noqa: E731
    lg = LossGradient(forward, lambda out, y: torch.nn.functional.cross_entropy(out, y, reduction="none"))
    inputs, target = torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])
    whole = lg.attribute(inputs, target)
    assert seen == [5]
    seen.clear()
    torch.testing.assert_close(lg.attribute(inputs, target, internal_batch_size=2), whole)
    assert seen == [2, 2, 1]
