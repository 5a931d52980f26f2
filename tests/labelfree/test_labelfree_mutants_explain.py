"""Closed forms that kill the mutants of xairepro/labelfree/explain.py (`make mutation`,
docs/testing.md): on a linear encoder f(x) = W x the label-free auxiliary <f(x~), f(x)> has
the gradient W^T W x everywhere, so Saliency, Integrated Gradients and Gradient SHAP from a
single baseline b are |W^T W x|, (x - b) * W^T W x and (x - b) * W^T W x exactly; a
recording encoder shows the batches and the expanded inputs each explainer sends; the
defaults are checked by calling without them."""

import numpy as np
import pytest
import torch

from xairepro.attribution import example_importance as ei
from xairepro.attribution.label_free import IntegratedGradients, LabelFreeFeatureImportance, Saliency
from xairepro.labelfree import explain

WEIGHT = torch.tensor([[1.0, -2.0, 0.5, 0.0], [0.0, 1.0, -1.0, 3.0]])  # (d=2, P=4)
X = torch.tensor([[1.0, 2.0, -1.0, 0.5], [-1.0, 0.0, 2.0, 1.0], [0.5, -0.5, 1.0, -2.0],
                  [2.0, 1.0, 0.0, -1.0], [-0.5, 1.5, -2.0, 0.0]])  # (N=5, P=4)
GRAD = X @ WEIGHT.T @ WEIGHT  # (N, P): W^T W x, the auxiliary's gradient at any x~


class Recorder:
    """The linear encoder W x, recording the batch size of every call."""

    def __init__(self):
        self.sizes: list[int] = []

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.sizes.append(len(x))
        return x.flatten(1) @ WEIGHT.T


def close(a, b):
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_integrated_gradients_from_the_default_zero_baseline_in_50_steps_one_batch():
    encoder = Recorder()
    close(explain.LabelFreeIntegratedGradients(encoder).attribute(X), X * GRAD)
    assert encoder.sizes == [5, 5 * 50]  # f(x) of the batch, then 50 steps of all 5 inputs


def test_integrated_gradients_from_a_given_baseline_in_batches():
    encoder = Recorder()
    baseline = torch.tensor([[0.5, -1.0, 1.0, 2.0]])
    explainer = explain.LabelFreeIntegratedGradients(encoder, n_steps=3, internal_batch_size=2)
    assert explainer.n_steps == 3 and explainer.internal_batch_size == 2
    close(explainer.attribute(X, baselines=baseline), (X - baseline) * GRAD)
    assert encoder.sizes == [2, 6, 2, 6, 1, 3]  # per batch: f(x), then n_steps x batch inputs
    per_input = X.flip(0)  # one baseline per input
    close(explainer.attribute(X, baselines=per_input), (X - per_input) * GRAD)


def test_integrated_gradients_default_baseline_is_zeros_of_the_input_shape():
    x = X.reshape(5, 1, 4)
    got = explain.LabelFreeIntegratedGradients(Recorder(), n_steps=4).attribute(x)
    close(got, (X * GRAD).reshape(5, 1, 4))


def test_gradient_shap_defaults_five_samples_one_zero_baseline_one_batch():
    encoder = Recorder()
    explainer = explain.LabelFreeGradientShap(encoder)
    assert explainer.n_samples == 5 and explainer.seed is None and explainer.explainer.pairing == "per_input"
    close(explainer.attribute(X), X * GRAD)
    assert encoder.sizes == [5, 25]  # f(x), then 5 samples of each of the 5 inputs
    x = X.reshape(5, 1, 4)  # the default baseline has the input's shape
    close(explain.LabelFreeGradientShap(Recorder()).attribute(x), (X * GRAD).reshape(5, 1, 4))


@pytest.mark.parametrize("kind", [explain.LabelFreeIntegratedGradients, explain.LabelFreeGradientShap],
                         ids=["ig", "shap"])
def test_default_zero_baseline_is_made_on_the_inputs_device(kind):
    # the meta device stands in for an accelerator: a baseline made on the CPU would not mix
    weight = WEIGHT.to("meta")
    attributions = kind(lambda x: x.flatten(1) @ weight.T).attribute(X.to("meta"))
    assert attributions.device.type == "meta" and attributions.shape == X.shape


def test_gradient_shap_default_baseline_draws_from_numpy_as_one_zero_input():
    # captum draws the interpolation points and the baselines from numpy's global RNG: a
    # second call (a nonlinear encoder) sees the same draws as after an explicit (1, P) zero
    weight = WEIGHT
    encoder = lambda x: torch.tanh(x.flatten(1) @ weight.T)  # noqa: E731
    explainer = explain.LabelFreeGradientShap(encoder, n_samples=3)
    np.random.seed(0)
    explainer.attribute(X)
    second = explainer.attribute(X)
    wrapper = LabelFreeFeatureImportance(encoder, explain.GradientShap)
    np.random.seed(0)
    wrapper.attribute(X, baselines=torch.zeros(1, 4), n_samples=3)
    assert torch.equal(second, wrapper.attribute(X, baselines=torch.zeros(1, 4), n_samples=3))


def test_gradient_shap_given_baseline_samples_and_batches():
    encoder = Recorder()
    baseline = torch.tensor([[0.5, -1.0, 1.0, 2.0]])
    explainer = explain.LabelFreeGradientShap(encoder, n_samples=3, internal_batch_size=2)
    close(explainer.attribute(X, baselines=baseline), (X - baseline) * GRAD)
    assert encoder.sizes == [2, 6, 2, 6, 1, 3]


def test_gradient_shap_seed_reseeds_torch_before_every_call():
    explainer = explain.LabelFreeGradientShap(Recorder(), n_samples=2, seed=7)
    torch.manual_seed(0)
    np.random.seed(0)
    close(explainer.attribute(X), X * GRAD)
    after = torch.rand(3)
    torch.manual_seed(7)
    np.random.seed(0)
    LabelFreeFeatureImportance(Recorder(), explain.GradientShap).attribute(X, baselines=torch.zeros(1, 4), n_samples=2)
    assert torch.equal(after, torch.rand(3))  # the global RNG goes on from seed 7, not from 0


def test_saliency_is_absolute_by_default_signed_when_asked_in_batches():
    encoder = Recorder()
    explainer = explain.LabelFreeSaliency(encoder, internal_batch_size=2)
    assert explainer.abs is True
    close(explainer.attribute(X), GRAD.abs())
    assert encoder.sizes == [2, 2, 2, 2, 1, 1]  # per batch: f(x), then the batch itself
    assert (GRAD < 0).any()
    close(explain.LabelFreeSaliency(Recorder(), abs=False).attribute(X, baselines=torch.ones(1, 4)), GRAD)
    encoder = Recorder()
    explain.LabelFreeSaliency(encoder).attribute(X)
    assert encoder.sizes == [5, 5]


@pytest.mark.parametrize("method,kind,fields", [
    ("integrated_gradients", explain.LabelFreeIntegratedGradients, {"n_steps": 7, "internal_batch_size": 3}),
    ("gradient_shap", explain.LabelFreeGradientShap, {"n_samples": 4, "internal_batch_size": 3, "seed": 9}),
    ("gradient_shap_original_pairing", explain.LabelFreeGradientShap,
     {"n_samples": 4, "internal_batch_size": 3, "seed": 9}),
    ("saliency", explain.LabelFreeSaliency, {"abs": True, "internal_batch_size": 3}),
], ids=["ig", "shap", "shap original pairing", "saliency"])
def test_feature_explainer_builds_each_method_with_the_study_flags(method, kind, fields):
    explainer = explain.feature_explainer(method, Recorder(), ig_steps=7, shap_samples=4, internal_batch_size=3,
                                          seed=9)
    encoder = explainer.explainer.encoder
    assert type(explainer) is kind and isinstance(encoder, Recorder)
    assert {name: getattr(explainer, name) for name in fields} == fields
    pairing = "tiled" if method == "gradient_shap_original_pairing" else "per_input"
    assert explainer.explainer.pairing == pairing
    assert isinstance(explainer.explainer.method, {"integrated_gradients": IntegratedGradients,
                                                   "saliency": Saliency}.get(method, explain.GradientShap))
    with pytest.raises(ValueError, match=r"unknown feature importance method 'lime'; choose from \('integrated_"):
        explain.feature_explainer("lime", Recorder(), ig_steps=7, shap_samples=4, internal_batch_size=3, seed=9)


def test_latent_unit_saliency_passes_flags_and_call_arguments_to_the_method():
    baseline = torch.tensor([[0.5, -1.0, 1.0, 2.0]])
    mu = X @ WEIGHT.T  # (N, d)
    # IG of unit i of a linear encoder: (x - b) * W_i; the map is |mu_i (x - b) W_i|
    expected = torch.stack([(mu[:, i:i + 1] * (X - baseline) * WEIGHT[i]).abs() for i in range(2)], dim=1)
    explainer = explain.LatentUnitSaliency(Recorder(), IntegratedGradients, baselines=baseline, n_steps=3)
    assert explainer.method is IntegratedGradients and explainer.flags == {"baselines": baseline, "n_steps": 3}
    close(explainer.attribute(X), expected)
    close(explain.LatentUnitSaliency(Recorder(), IntegratedGradients, n_steps=3).attribute(X, baselines=baseline),
          expected)
    zero = torch.stack([(mu[:, i:i + 1] * X * WEIGHT[i]).abs() for i in range(2)], dim=1)
    close(explain.LatentUnitSaliency(Recorder(), IntegratedGradients).attribute(X), zero)


def test_latent_unit_saliency_seed_reseeds_torch():
    torch.manual_seed(0)
    explain.LatentUnitSaliency(Recorder(), Saliency, seed=4).attribute(X)
    after = torch.rand(3)
    torch.manual_seed(4)
    assert torch.equal(after, torch.rand(3))  # Saliency draws nothing: the state is seed 4's
    torch.manual_seed(4)
    torch.rand(3)
    expected = torch.rand(3)
    torch.manual_seed(4)
    torch.rand(3)
    explain.LatentUnitSaliency(Recorder(), Saliency).attribute(X)
    assert torch.equal(torch.rand(3), expected)  # no seed: the state carries on


def test_vae_mean_returns_the_first_output_of_encode():
    class TwoHeads(torch.nn.Module):
        def encode(self, x):
            return 2 * x, 3 * x

    assert torch.equal(explain.vae_mean(TwoHeads())(X), 2 * X)


def test_reconstruction_losses_in_closed_form():
    x = torch.tensor([1.0, 2.0])
    assert explain.reconstruction_loss(lambda v: 2 * v, x).item() == pytest.approx(2.5)  # (1 + 4) / 2
    assert explain.l1_reconstruction_loss(lambda v: v - 3, x).item() == pytest.approx(3.0)
    assert explain.l1_reconstruction_loss(lambda v: 2 * v, -x).item() == pytest.approx(1.5)
    assert explain.RECONSTRUCTION_LOSSES == {"mse": explain.reconstruction_loss,
                                             "l1": explain.l1_reconstruction_loss}


class Autoencoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.encoder = torch.nn.Linear(3, 2)
        self.encoder_extra = torch.nn.Linear(1, 1)  # "encoder" but not under "encoder."
        self.decoder = torch.nn.Linear(2, 3)

    def forward(self, x):
        return self.decoder(torch.tanh(self.encoder(x)))


class TwoEncoders(torch.nn.Module):
    encoder_modules = ("enc1", "enc2")

    def __init__(self):
        super().__init__()
        self.enc1, self.enc2, self.dec = torch.nn.Linear(3, 3), torch.nn.Linear(3, 2), torch.nn.Linear(2, 3)


def test_encoder_parameters_under_encoder_or_the_named_encoder_modules():
    assert explain.encoder_parameters(Autoencoder()) == ["encoder.weight", "encoder.bias"]
    assert explain.encoder_parameters(TwoEncoders()) == ["enc1.weight", "enc1.bias", "enc2.weight", "enc2.bias"]
    with_both = TwoEncoders()
    with_both.encoder = torch.nn.Linear(1, 1)
    assert explain.encoder_parameters(with_both) == ["enc1.weight", "enc1.bias", "enc2.weight", "enc2.bias"]


@pytest.fixture(scope="module")
def autoencoder_data():
    generator = torch.Generator().manual_seed(3)
    return Autoencoder(), torch.randn(40, 3, generator=generator), torch.randn(2, 3, generator=generator)


def test_influence_functions_defaults_depth_100_damping_1e3_scale_1000_seed_0(autoencoder_data):
    model, train, test = autoencoder_data
    explainer = explain.InfluenceFunctions(model, train)
    assert (explainer.depth, explainer.damping, explainer.scale, explainer.seed) == (100, 1e-3, 1000.0, 0)
    assert explainer.params == ["encoder.weight", "encoder.bias"] and explainer.loss is explain.reconstruction_loss
    expected = ei.influence_scores(model, explain.reconstruction_loss, train, test, ["encoder.weight", "encoder.bias"],
                                   depth=100, damping=1e-3, scale=1000.0, seed=0)
    assert torch.equal(explainer.attribute(test), expected)


def test_influence_functions_pass_their_flags_params_and_loss(autoencoder_data):
    model, train, test = autoencoder_data
    explainer = explain.InfluenceFunctions(model, train, loss=explain.reconstruction_loss,
                                           params=("decoder.weight",), depth=3, damping=0.01, scale=50.0, seed=4)
    assert explainer.params == ["decoder.weight"]
    expected = ei.influence_scores(model, explain.reconstruction_loss, train, test, ["decoder.weight"], depth=3,
                                   damping=0.01, scale=50.0, seed=4)
    got = explainer.attribute(test)
    assert got.shape == (2, 40) and torch.equal(got, expected)
    other_seed = ei.influence_scores(model, explain.reconstruction_loss, train, test, ["decoder.weight"], depth=3,
                                     damping=0.01, scale=50.0, seed=0)
    assert not torch.equal(got, other_seed)  # 40 examples, batches of 32: the seed shuffles them


def test_tracin_with_given_params_and_loss(autoencoder_data):
    model, train, test = autoencoder_data
    state = {k: v.clone() for k, v in model.state_dict().items()}
    checkpoints = [({k: v + 0.1 for k, v in state.items()}, 0.5), (state, 0.25)]
    explainer = explain.TracIn(model, train[:4], checkpoints, loss=explain.l1_reconstruction_loss,
                               params=("decoder.weight",))
    assert explainer.params == ["decoder.weight"]
    got = explainer.attribute(test)
    expected = ei.tracin_scores(model, checkpoints, explain.l1_reconstruction_loss, train[:4], test, ["decoder.weight"])
    model.load_state_dict(state)
    assert torch.equal(got, expected)
    default = explain.TracIn(model, train[:4], checkpoints)
    assert default.params == ["encoder.weight", "encoder.bias"] and default.loss is explain.reconstruction_loss


def test_simplex_defaults_2000_epochs_seed_0_and_given_flags(autoencoder_data):
    model, train, test = autoencoder_data
    encoder = model.encoder
    with torch.no_grad():
        h_train, h_test = encoder(train[:6]), encoder(test)
    explainer = explain.SimplEx(encoder, train[:6])
    assert (explainer.n_epochs, explainer.seed) == (2000, 0)
    assert torch.equal(explainer.attribute(test), ei.simplex_scores(h_train, h_test, n_epochs=2000, seed=0))
    given = explain.SimplEx(encoder, train[:6], n_epochs=5, seed=3).attribute(test)
    assert torch.equal(given, ei.simplex_scores(h_train, h_test, n_epochs=5, seed=3))
    assert not torch.equal(given, ei.simplex_scores(h_train, h_test, n_epochs=5, seed=0))


def test_latent_explainers_score_the_encoded_test_inputs_against_the_training_ones():
    train, test = torch.tensor([[1.0, 0.0], [0.0, 2.0]]), torch.tensor([[1.0, 0.0], [0.0, -1.0]])
    identity = lambda x: x  # noqa: E731
    # squared distances [[0, 5], [2, 9]]; DKNN adds 1e-12
    torch.testing.assert_close(explain.DKNN(identity, train).attribute(test),
                               torch.tensor([[1e12, 0.2], [0.5, 1 / 9]]))
    torch.testing.assert_close(explain.CosineNN(identity, train).attribute(test),
                               torch.tensor([[1.0, 0.0], [0.0, -1.0]]))
