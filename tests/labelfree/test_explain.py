"""The study's explainer classes give exactly what the attribution functions they wrap give."""

import numpy as np
import pytest
import torch

from xairepro.attribution import example_importance as ei
from xairepro.attribution.label_free import (
    GradientShap, IntegratedGradients, LabelFreeFeatureImportance, Saliency, latent_unit_saliency,
)
from xairepro.labelfree import explain
from xairepro.labelfree.models import MnistAutoencoder


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return MnistAutoencoder(latent_dim=3).eval()


@pytest.fixture(scope="module")
def x():
    return torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(1))


def test_feature_explainers_match_the_label_free_wrapper(model, x):
    black = torch.zeros(1, 1, 28, 28)
    expected = {
        "integrated_gradients": LabelFreeFeatureImportance(model.encode, IntegratedGradients).attribute(
            x, baselines=torch.zeros_like(x), n_steps=8, internal_batch_size=4),
        "saliency": LabelFreeFeatureImportance(model.encode, Saliency).attribute(x, abs=True, internal_batch_size=4),
    }
    torch.manual_seed(3)
    np.random.seed(3)  # captum draws Gradient SHAP's interpolation points from numpy's RNG
    expected["gradient_shap"] = LabelFreeFeatureImportance(model.encode, GradientShap).attribute(
        x, baselines=black, n_samples=4, internal_batch_size=4)
    torch.manual_seed(3)
    np.random.seed(3)
    expected["gradient_shap_original_pairing"] = LabelFreeFeatureImportance(
        model.encode, GradientShap, pairing="tiled").attribute(x, baselines=black, n_samples=4, internal_batch_size=4)
    for method in explain.METHODS:
        explainer = explain.feature_explainer(method, model.encode, ig_steps=8, shap_samples=4, internal_batch_size=4,
                                              seed=3)
        np.random.seed(3)
        assert torch.equal(explainer.attribute(x, baselines=black), expected[method]), method
    with pytest.raises(ValueError, match="choose from"):
        explain.feature_explainer("lime", model.encode, ig_steps=8, shap_samples=4, internal_batch_size=4, seed=3)


@pytest.fixture
def linear_encoder():
    weight = torch.randn(3, 8, generator=torch.Generator().manual_seed(0))
    return weight, lambda inputs: inputs.flatten(1) @ weight.T


def tiled_gradient_shap(weight, inputs, n_samples, batch):
    """Closed form of Gradient SHAP from a zero baseline under the original's tiled pairing, for
    f(x) = W x: the gradient of <W x~, f(x_j)> is W^T W x_j whatever x~, and captum repeats each
    input n times in place while the codes are tiled, so within a batch of B inputs sample s of
    input i is paired with input (n i + s) mod B: attr_i = x_i * mean_s W^T W x_{(n i + s) mod B}."""
    out = []
    for chunk in inputs.split(batch):
        grads = chunk @ weight.T @ weight  # (B, 8): W^T W x_j per input
        partners = torch.tensor([[(n_samples * i + s) % len(chunk) for s in range(n_samples)]
                                 for i in range(len(chunk))])  # (B, n)
        out.append(chunk * grads[partners].mean(dim=1))
    return torch.cat(out)


@pytest.mark.parametrize("batch", [6, 4], ids=["one batch", "batches of 4"])
def test_original_pairing_gradient_shap_pairs_samples_as_the_tiling_implies(linear_encoder, batch):
    weight, encoder = linear_encoder
    inputs = torch.randn(6, 8, generator=torch.Generator().manual_seed(1))
    n_samples = 3
    fixed = explain.LabelFreeGradientShap(encoder, n_samples=n_samples, internal_batch_size=batch, seed=0)
    original = explain.feature_explainer("gradient_shap_original_pairing", encoder, ig_steps=8, shap_samples=n_samples,
                                         internal_batch_size=batch, seed=0)
    own = inputs * (inputs @ weight.T @ weight)  # every sample paired with its own f(x_i)
    torch.testing.assert_close(fixed.attribute(inputs), own, rtol=1e-4, atol=1e-5)
    tiled = original.attribute(inputs)
    torch.testing.assert_close(tiled, tiled_gradient_shap(weight, inputs, n_samples, batch), rtol=1e-4, atol=1e-5)
    assert (tiled - own).abs().max() > 0.1  # the bug changes the attributions


def test_original_pairing_is_right_for_integrated_gradients_and_saliency(linear_encoder):
    _, encoder = linear_encoder
    inputs = torch.randn(6, 8, generator=torch.Generator().manual_seed(1))
    zeros = torch.zeros_like(inputs)
    for method, flags in [(IntegratedGradients, {"baselines": zeros, "n_steps": 10}), (Saliency, {"abs": False})]:
        own = LabelFreeFeatureImportance(encoder, method).attribute(inputs, internal_batch_size=4, **flags)
        tiled = LabelFreeFeatureImportance(encoder, method, pairing="tiled").attribute(inputs, internal_batch_size=4,
                                                                                        **flags)
        torch.testing.assert_close(tiled, own, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="choose from"):
        LabelFreeFeatureImportance(encoder, GradientShap, pairing="shuffled")


def test_latent_unit_saliency_matches_the_function(model, x):
    torch.manual_seed(5)
    np.random.seed(5)
    expected = latent_unit_saliency(model.encode, x, GradientShap, baselines=torch.zeros(1, 1, 28, 28), n_samples=3)
    np.random.seed(5)
    maps = explain.LatentUnitSaliency(model.encode, GradientShap, seed=5, n_samples=3).attribute(
        x, baselines=torch.zeros(1, 1, 28, 28))
    assert maps.shape == (6, 3, 1, 28, 28) and torch.equal(maps, expected)


def test_latent_example_explainers_match_the_scores(model, x):
    train = torch.rand(10, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        h_train, h_test = model.encode(train), model.encode(x)
    assert torch.equal(explain.DKNN(model.encode, train).attribute(x), ei.dknn_scores(h_train, h_test))
    assert torch.equal(explain.CosineNN(model.encode, train).attribute(x), ei.cosine_scores(h_train, h_test))
    simplex = explain.SimplEx(model.encode, train, n_epochs=20, seed=0).attribute(x)
    assert simplex.shape == (6, 10) and torch.equal(simplex, ei.simplex_scores(h_train, h_test, n_epochs=20, seed=0))


def test_tracin_puts_the_model_weights_back(model, x):
    train = x[:3]
    params = explain.encoder_parameters(model)
    assert params and all(name.startswith("encoder.") for name in params)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    other = {k: v + 0.01 if v.is_floating_point() else v for k, v in before.items()}
    scores = explain.TracIn(model, train, [(other, 0.1)]).attribute(x[3:])
    assert scores.shape == (3, 3)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    model.load_state_dict(other)
    expected = 0.1 * ei.per_sample_gradients(model, explain.reconstruction_loss, x[3:], params) @ \
        ei.per_sample_gradients(model, explain.reconstruction_loss, train, params).T
    model.load_state_dict(before)
    torch.testing.assert_close(scores, expected)
