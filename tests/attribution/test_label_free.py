"""Label-free attributions against closed forms on a linear encoder f(x) = W x.

Then g_x(x~) = <W x~, W x> is linear in x~ with gradient W^T W x, so for every sample
Integrated Gradients is (x - b) * W^T W x exactly and GradientShap (no noise) averages
(x - b_j) * W^T W x over baselines b_j. Mixing up which f(x) goes with which expanded
input (the original's GradientShap bug) gives another sample's W^T W x and fails here.
"""

import pytest
import torch

from xairepro.attribution.label_free import (
    GradientShap, IntegratedGradients, LabelFreeFeatureImportance, Saliency, latent_unit_saliency,
)
from xairepro.metrics.representation import mean_offdiagonal_correlation, representation_shift


@pytest.fixture
def linear_encoder():
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(3, 8, generator=generator)
    return weight, lambda x: x.flatten(1) @ weight.T


@pytest.fixture
def inputs():
    return torch.randn(6, 8, generator=torch.Generator().manual_seed(1))


def expected_gradient(weight, x):
    return x @ weight.T @ weight  # (N, 8): W^T W x per sample


def test_integrated_gradients_pairs_each_sample_with_its_own_representation(linear_encoder, inputs):
    weight, encoder = linear_encoder
    attr = LabelFreeFeatureImportance(encoder, IntegratedGradients).attribute(
        inputs, baselines=torch.zeros_like(inputs), n_steps=20)
    torch.testing.assert_close(attr, inputs * expected_gradient(weight, inputs), rtol=1e-4, atol=1e-5)


def test_gradient_shap_pairs_each_sample_with_its_own_representation(linear_encoder, inputs):
    weight, encoder = linear_encoder
    baselines = torch.randn(4, 8, generator=torch.Generator().manual_seed(2))
    torch.manual_seed(0)
    attr = LabelFreeFeatureImportance(encoder, GradientShap).attribute(
        inputs, baselines=baselines, n_samples=64, stdevs=0.0)
    # E_b[(x - b)] * grad, with b drawn from the 4 baselines: bounded by the extremes
    grad = expected_gradient(weight, inputs)
    lo = torch.minimum((inputs.unsqueeze(1) - baselines).min(1).values * grad,
                       (inputs.unsqueeze(1) - baselines).max(1).values * grad)
    hi = torch.maximum((inputs.unsqueeze(1) - baselines).min(1).values * grad,
                       (inputs.unsqueeze(1) - baselines).max(1).values * grad)
    assert ((attr >= lo - 1e-4) & (attr <= hi + 1e-4)).all()
    # and, with a single baseline, exactly (x - b) * grad
    single = LabelFreeFeatureImportance(encoder, GradientShap).attribute(
        inputs, baselines=baselines[:1], n_samples=8, stdevs=0.0)
    torch.testing.assert_close(single, (inputs - baselines[:1]) * grad, rtol=1e-4, atol=1e-5)


def test_saliency_is_the_gradient_of_the_auxiliary_function(linear_encoder, inputs):
    weight, encoder = linear_encoder
    attr = LabelFreeFeatureImportance(encoder, Saliency).attribute(inputs, abs=False)
    torch.testing.assert_close(attr, expected_gradient(weight, inputs), rtol=1e-5, atol=1e-5)


def test_internal_batch_size_does_not_change_the_result(linear_encoder, inputs):
    _, encoder = linear_encoder
    explainer = LabelFreeFeatureImportance(encoder, IntegratedGradients)
    whole = explainer.attribute(inputs, baselines=torch.zeros_like(inputs), n_steps=10)
    split = explainer.attribute(inputs, baselines=torch.zeros_like(inputs), n_steps=10, internal_batch_size=4)
    torch.testing.assert_close(split, whole)


def test_features_the_encoder_ignores_get_no_importance(inputs):
    weight = torch.zeros(2, 8)
    weight[0, :3] = 1.0
    weight[1, 3:5] = -2.0  # features 5..7 are planted as irrelevant
    attr = LabelFreeFeatureImportance(lambda x: x @ weight.T, IntegratedGradients).attribute(
        inputs, baselines=torch.zeros_like(inputs))
    assert torch.all(attr[:, 5:] == 0)
    assert attr[:, :5].abs().sum() > 0


def test_latent_unit_saliency_separates_units(inputs):
    weight = torch.zeros(2, 8)
    weight[0, :4] = 1.0
    weight[1, 4:] = 1.0  # two disentangled units
    maps = latent_unit_saliency(lambda x: x @ weight.T, inputs)
    assert maps.shape == (6, 2, 8)
    assert torch.all(maps[:, 0, 4:] == 0) and torch.all(maps[:, 1, :4] == 0)
    assert (mean_offdiagonal_correlation(maps) < 0).all()  # disjoint supports anti-correlate


def test_mean_offdiagonal_correlation_of_identical_maps_is_one():
    maps = torch.randn(3, 1, 10).repeat(1, 4, 1)
    torch.testing.assert_close(mean_offdiagonal_correlation(maps), torch.ones(3))
    assert torch.equal(mean_offdiagonal_correlation(torch.zeros(2, 3, 5)), torch.zeros(2))


def test_representation_shift_is_zero_without_masking_and_grows_with_it(linear_encoder, inputs):
    _, encoder = linear_encoder
    assert representation_shift(encoder, inputs, inputs) == 0.0
    masked = inputs.clone()
    masked[:, :4] = 0
    more = inputs.clone()
    more[:, :] = 0
    assert 0 < representation_shift(encoder, inputs, masked) < representation_shift(encoder, inputs, more) * 1.5


def test_auxiliary_gradient_equals_autograd_of_the_inner_product_for_a_nonlinear_encoder(inputs):
    """d/dx~ <f(x~), f(x)> at x~ = x, with f(x) held fixed, by plain autograd, per sample."""
    torch.manual_seed(2)
    encoder = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    x = inputs.clone().requires_grad_(True)
    target = encoder(inputs).detach()
    (expected,) = torch.autograd.grad((encoder(x) * target).sum(), x)
    attr = LabelFreeFeatureImportance(encoder, Saliency).attribute(inputs, abs=False, internal_batch_size=4)
    torch.testing.assert_close(attr, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("internal_batch_size", [None, 4, 5])
def test_distinct_per_sample_baselines_stay_with_their_samples(linear_encoder, inputs, internal_batch_size):
    # each sample its own baseline, split alongside the inputs in chunks that do not divide N = 6
    weight, encoder = linear_encoder
    baselines = torch.randn(6, 8, generator=torch.Generator().manual_seed(3))
    attr = LabelFreeFeatureImportance(encoder, IntegratedGradients).attribute(
        inputs, baselines=baselines, n_steps=10, internal_batch_size=internal_batch_size)
    torch.testing.assert_close(attr, (inputs - baselines) * expected_gradient(weight, inputs), rtol=1e-4, atol=1e-5)
    # one shared baseline row broadcasts to every sample
    shared = LabelFreeFeatureImportance(encoder, IntegratedGradients).attribute(
        inputs, baselines=baselines[:1], n_steps=10, internal_batch_size=internal_batch_size)
    torch.testing.assert_close(shared, (inputs - baselines[:1]) * expected_gradient(weight, inputs),
                               rtol=1e-4, atol=1e-5)
