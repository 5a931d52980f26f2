"""Explainers of the ``labelfree`` study, one class per method in captum's pattern: built
with the forward function (an encoder) or the model and the method's flags, run with one
``attribute(inputs, ...)``. None takes a ``target``: a label-free explanation has no label
to explain (Crabbé & van der Schaar 2022); :class:`LatentUnitSaliency` explains every
latent unit at once.

Feature importance, ``(N, *input_shape)``, on top of
:class:`xairepro.attribution.label_free.LabelFreeFeatureImportance`:

* :class:`LabelFreeIntegratedGradients`, :class:`LabelFreeGradientShap`,
  :class:`LabelFreeSaliency` (claims 1.1, 2.1 and the encoder vs full model extension;
  :func:`feature_explainer` builds one from its configured name, :data:`METHODS`;
  ``gradient_shap_original_pairing`` is Gradient SHAP with the original code's pairing of
  samples and representations, kept to measure that bug's effect);
* :class:`LatentUnitSaliency`: ``|mu_i(x) * a_i(x)|`` per latent unit i (claim 3).

Example importance, ``(N, n_train)`` scores of the training examples given at construction
(higher = more important), on top of :mod:`xairepro.attribution.example_importance`:
:class:`InfluenceFunctions`, :class:`TracIn`, :class:`SimplEx`, :class:`DKNN`,
:class:`CosineNN` (claims 1.2 and 2.2; :data:`EXPLAINERS`). The model-based ones take
gradients of the pretext loss (:func:`reconstruction_loss`) w.r.t. the encoder's
parameters only; the latent-based ones compare encoder outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from xairepro.attribution import example_importance as ei
from xairepro.attribution.label_free import (
    GradientShap, IntegratedGradients, LabelFreeFeatureImportance, Saliency, latent_unit_saliency,
)

#: Label-free feature importance methods, by their config names.
METHODS = ("integrated_gradients", "gradient_shap", "gradient_shap_original_pairing", "saliency")
#: Label-free example importance explainers, by their config names.
EXPLAINERS = ("influence_functions", "tracin", "simplex", "dknn", "cosine")

Forward = Callable[[torch.Tensor], torch.Tensor]


class LabelFreeIntegratedGradients:
    """Label-free Integrated Gradients of ``forward`` in ``n_steps`` from a baseline."""

    def __init__(self, forward: Forward, n_steps: int = 50, internal_batch_size: int | None = None):
        self.explainer = LabelFreeFeatureImportance(forward, IntegratedGradients)
        self.n_steps, self.internal_batch_size = n_steps, internal_batch_size

    def attribute(self, inputs: torch.Tensor, baselines: torch.Tensor | None = None) -> torch.Tensor:
        """``baselines``: one reference input ``(1, *input_shape)`` (default: zeros) or one per input."""
        reference = torch.zeros(1, *inputs.shape[1:], device=inputs.device) if baselines is None else baselines
        return self.explainer.attribute(inputs, baselines=reference.expand_as(inputs), n_steps=self.n_steps,
                                        internal_batch_size=self.internal_batch_size)


class LabelFreeGradientShap:
    """Label-free Gradient SHAP of ``forward``: ``n_samples`` draws between the inputs and the
    baseline distribution, no noise. captum draws them from numpy's global RNG (seeded once
    per job by :func:`~xairepro.common.seeding.seed_everything`); with ``seed`` given, torch's
    global RNG is seeded before every :meth:`attribute`, as the study's steps always did.

    ``pairing="tiled"`` pairs the samples with the representations as the original code did
    (:class:`~xairepro.attribution.label_free.LabelFreeFeatureImportance`): sample s of input
    i is paired with f(x_{(n_samples i + s) mod B}), B the batch of one call
    (``internal_batch_size``), instead of f(x_i)."""

    def __init__(self, forward: Forward, n_samples: int = 5, internal_batch_size: int | None = None,
                 seed: int | None = None, pairing: str = "per_input"):
        self.explainer = LabelFreeFeatureImportance(forward, GradientShap, pairing=pairing)
        self.n_samples, self.internal_batch_size, self.seed = n_samples, internal_batch_size, seed

    def attribute(self, inputs: torch.Tensor, baselines: torch.Tensor | None = None) -> torch.Tensor:
        """``baselines``: the baseline distribution ``(B, *input_shape)`` (default: one zero input)."""
        if baselines is None:
            baselines = torch.zeros(1, *inputs.shape[1:], device=inputs.device)
        if self.seed is not None:
            torch.manual_seed(self.seed)
        return self.explainer.attribute(inputs, baselines=baselines, n_samples=self.n_samples,
                                        internal_batch_size=self.internal_batch_size)


class LabelFreeSaliency:
    """Label-free Saliency of ``forward``: the (absolute, by default) gradient."""

    def __init__(self, forward: Forward, abs: bool = True, internal_batch_size: int | None = None):
        self.explainer = LabelFreeFeatureImportance(forward, Saliency)
        self.abs, self.internal_batch_size = abs, internal_batch_size

    def attribute(self, inputs: torch.Tensor, baselines: torch.Tensor | None = None) -> torch.Tensor:
        """``baselines`` is accepted for a uniform call and ignored: Saliency has none."""
        return self.explainer.attribute(inputs, abs=self.abs, internal_batch_size=self.internal_batch_size)


def feature_explainer(method: str, forward: Forward, *, ig_steps: int, shap_samples: int,
                      internal_batch_size: int | None, seed: int):
    """The explainer of a configured feature importance ``method`` (one of :data:`METHODS`),
    with the study's flags: IG in ``ig_steps``, Gradient SHAP with ``shap_samples`` draws
    seeded by ``seed`` (``gradient_shap_original_pairing``: the original's tiled pairing, in
    batches of ``internal_batch_size``), absolute Saliency."""
    if method == "integrated_gradients":
        return LabelFreeIntegratedGradients(forward, n_steps=ig_steps, internal_batch_size=internal_batch_size)
    if method == "gradient_shap":
        return LabelFreeGradientShap(forward, n_samples=shap_samples, internal_batch_size=internal_batch_size,
                                     seed=seed)
    if method == "gradient_shap_original_pairing":
        return LabelFreeGradientShap(forward, n_samples=shap_samples, internal_batch_size=internal_batch_size,
                                     seed=seed, pairing="tiled")
    if method == "saliency":
        return LabelFreeSaliency(forward, abs=True, internal_batch_size=internal_batch_size)
    raise ValueError(f"unknown feature importance method {method!r}; choose from {METHODS}")


class LatentUnitSaliency:
    """Saliency of every latent unit of ``encoder`` (the disentanglement experiment):
    ``|mu_i(x) * a_i(x)|`` with ``a_i`` the captum ``method``'s attribution of unit i.
    ``flags`` go to the method's ``attribute`` (``n_samples``, ...); with ``seed`` given, torch's
    global RNG is seeded before every :meth:`attribute` (see :class:`LabelFreeGradientShap`)."""

    def __init__(self, encoder: Forward, method: type = GradientShap, seed: int | None = None, **flags: Any):
        self.encoder, self.method, self.seed, self.flags = encoder, method, seed, flags

    def attribute(self, inputs: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        """Maps ``(N, d, *input_shape)``; ``kwargs`` (``baselines``) go to the method."""
        if self.seed is not None:
            torch.manual_seed(self.seed)
        return latent_unit_saliency(self.encoder, inputs, self.method, **self.flags, **kwargs)


def vae_mean(vae: torch.nn.Module) -> Forward:
    """The VAE's mean encoder ``x -> mu(x)``: claim 3 explains the latent means (the
    original's ``encoder.mu``), not the log-variances ``encode`` returns beside them."""

    def mean(x: torch.Tensor) -> torch.Tensor:
        mu, _ = vae.encode(x)
        return mu

    return mean


def reconstruction_loss(call, x: torch.Tensor) -> torch.Tensor:
    """The pretext loss used for example importance: clean reconstruction MSE (mean)."""
    return ((call(x) - x) ** 2).mean()


def l1_reconstruction_loss(call, x: torch.Tensor) -> torch.Tensor:
    """Clean reconstruction L1 (mean): the pretext loss of the original's ECG autoencoder."""
    return (call(x) - x).abs().mean()


#: Example-importance pretext losses, by the config's ``loss`` names.
RECONSTRUCTION_LOSSES = {"mse": reconstruction_loss, "l1": l1_reconstruction_loss}


def encoder_parameters(model: torch.nn.Module) -> list[str]:
    """Names of the encoder's parameters, those example importance differentiates: those
    under ``model.encoder``, or under each of the model's ``encoder_modules`` where it
    names them (the LSTM autoencoder's ``enc1``, ``enc2``)."""
    prefixes = tuple(f"{name}." for name in getattr(model, "encoder_modules", ("encoder",)))
    return [name for name, _ in model.named_parameters() if name.startswith(prefixes)]


class InfluenceFunctions:
    """Label-free influence functions (LiSSA, ``depth`` steps, ``damping``, ``scale``) of the
    ``train_inputs`` on the pretext ``loss`` of ``model``, w.r.t. its ``params`` (default:
    the encoder's)."""

    def __init__(self, model: torch.nn.Module, train_inputs: torch.Tensor, loss=reconstruction_loss,
                 params: Sequence[str] | None = None, depth: int = 100, damping: float = 1e-3,
                 scale: float = 1000.0, seed: int = 0):
        self.model, self.train_inputs, self.loss = model, train_inputs, loss
        self.params = encoder_parameters(model) if params is None else list(params)
        self.depth, self.damping, self.scale, self.seed = depth, damping, scale, seed

    def attribute(self, inputs: torch.Tensor) -> torch.Tensor:
        return ei.influence_scores(self.model, self.loss, self.train_inputs, inputs, self.params, depth=self.depth,
                                   damping=self.damping, scale=self.scale, seed=self.seed)


class TracIn:
    """Label-free TracIn of the ``train_inputs`` over ``checkpoints`` (``(state_dict,
    learning_rate)`` each, e.g. :func:`xairepro.labelfree.train.load_snapshots`). The model's
    own weights are put back after every :meth:`attribute`."""

    def __init__(self, model: torch.nn.Module, train_inputs: torch.Tensor, checkpoints, loss=reconstruction_loss,
                 params: Sequence[str] | None = None):
        self.model, self.train_inputs, self.checkpoints, self.loss = model, train_inputs, checkpoints, loss
        self.params = encoder_parameters(model) if params is None else list(params)

    def attribute(self, inputs: torch.Tensor) -> torch.Tensor:
        state = {name: value.clone() for name, value in self.model.state_dict().items()}
        try:
            return ei.tracin_scores(self.model, self.checkpoints, self.loss, self.train_inputs, inputs, self.params)
        finally:
            self.model.load_state_dict(state)


class _LatentExplainer:
    """Example importance from the latents ``encoder`` gives the training and the explained inputs."""

    def __init__(self, encoder: Forward, train_inputs: torch.Tensor):
        self.encoder, self.train_inputs = encoder, train_inputs

    def _latents(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            return self.encoder(self.train_inputs), self.encoder(inputs)


class SimplEx(_LatentExplainer):
    """SimplEx corpus weights (``n_epochs`` of Adam, initialised from ``seed``)."""

    def __init__(self, encoder: Forward, train_inputs: torch.Tensor, n_epochs: int = 2000, seed: int = 0):
        super().__init__(encoder, train_inputs)
        self.n_epochs, self.seed = n_epochs, seed

    def attribute(self, inputs: torch.Tensor) -> torch.Tensor:
        return ei.simplex_scores(*self._latents(inputs), n_epochs=self.n_epochs, seed=self.seed)


class DKNN(_LatentExplainer):
    """Deep k-nearest neighbours' weights: inverse squared latent distances."""

    def attribute(self, inputs: torch.Tensor) -> torch.Tensor:
        return ei.dknn_scores(*self._latents(inputs))


class CosineNN(_LatentExplainer):
    """Cosine similarity of latents (the "cosine NN" baseline)."""

    def attribute(self, inputs: torch.Tensor) -> torch.Tensor:
        return ei.cosine_scores(*self._latents(inputs))
