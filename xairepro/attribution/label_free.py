"""Label-free feature importance for encoders (Crabbé & van der Schaar, ICML 2022, Sec. 2.1).

An encoder f: X -> R^d has no label to explain. Its label-free importance is the
importance, for any captum method, of the auxiliary scalar function

    g_x(x~) = < f(x~), f(x) >,        f(x) computed once and held fixed,

so each sample is explained against its own representation (Eq. 2 of the paper). The
pairing of every expanded input with its own f(x) is the error-prone part: Integrated
Gradients tiles inputs step-major, GradientShap/NoiseTunnel repeat each sample
consecutively. Here f(x) travels as an ``additional_forward_arg``, which captum expands in
exactly the same order as the inputs, so the pairing is right by construction
(tests/attribution/test_label_free.py checks it against closed forms). The original code
tiled f(x) itself and mismatched it under GradientShap; ``pairing="tiled"`` reproduces
that pairing, to measure what the mismatch changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from captum.attr import GradientShap, IntegratedGradients, Saliency


class LabelFreeFeatureImportance:
    """Attribute ``g_x(x~) = <f(x~), f(x)>`` with a captum method, in batches.

    Parameters
    ----------
    encoder
        ``f``: ``(N, *input_shape) -> (N, d)`` (or any shape; flattened per sample).
    method
        A captum attribution class taking a forward function: ``IntegratedGradients``,
        ``GradientShap``, ``Saliency``, ...
    pairing
        ``"per_input"`` (default): every expanded input is paired with its own f(x).
        ``"tiled"``: the original code's pairing (Label-Free-XAI
        src/lfxai/explanations/features.py:14-22): the batch's codes ``(B, d)`` are tiled
        (``repeat``) to the expanded batch ``(M, ...)``, so expanded input j is paired with
        f(x_{j mod B}), where B is the batch attributed in one call (``internal_batch_size``).
        Right for Integrated Gradients (step-major) and Saliency; under GradientShap, whose
        samples repeat each input in place, sample s of input i gets f(x_{(n i + s) mod B}).

    Examples
    --------
    >>> explainer = LabelFreeFeatureImportance(encoder, IntegratedGradients)
    >>> attr = explainer.attribute(x, baselines=torch.zeros_like(x), n_steps=50)
    """

    PAIRINGS = ("per_input", "tiled")

    def __init__(self, encoder: Callable[[torch.Tensor], torch.Tensor], method: type = IntegratedGradients,
                 pairing: str = "per_input"):
        if pairing not in self.PAIRINGS:
            raise ValueError(f"unknown pairing {pairing!r}; choose from {self.PAIRINGS}")
        self.encoder, self.pairing = encoder, pairing
        self.method = method(self._auxiliary)
        self._batch_codes: torch.Tensor | None = None  # (B, d): the call's f(x), "tiled" pairing only

    def _auxiliary(self, x_tilde: torch.Tensor, f_x: torch.Tensor | None = None) -> torch.Tensor:
        # x_tilde: (M, *input_shape); f_x: (M, d) already expanded by captum alongside x_tilde
        if f_x is None:  # "tiled": the batch's codes (B, d) repeated to M = r * B rows, as the original
            codes = self._batch_codes
            if len(x_tilde) % len(codes):
                raise ValueError(f"tiled pairing: {len(x_tilde)} expanded inputs is no multiple of the batch "
                                 f"{len(codes)}")
            f_x = codes.repeat(len(x_tilde) // len(codes), *([1] * (codes.dim() - 1)))
        return (self.encoder(x_tilde).flatten(1) * f_x.flatten(1)).sum(dim=1)  # (M,)

    def attribute(self, inputs: torch.Tensor, internal_batch_size: int | None = None, **kwargs: Any) -> torch.Tensor:
        """Label-free attributions with the shape of ``inputs``.

        Parameters
        ----------
        inputs
            ``(N, *input_shape)``.
        internal_batch_size
            Samples explained per call (memory bound); results do not depend on it.
            Per-sample ``baselines`` (a tensor shaped like ``inputs``) are split alongside.
        **kwargs
            Passed to the captum method (``baselines``, ``n_steps``, ``n_samples``,
            ``stdevs``, ``abs``, ...). ``GradientShap`` needs ``baselines`` (a distribution).
        """
        step = internal_batch_size or len(inputs)
        baselines = kwargs.pop("baselines", None)
        per_sample = isinstance(baselines, torch.Tensor) and baselines.shape == inputs.shape
        chunks = []
        for start in range(0, len(inputs), step):
            x = inputs[start : start + step]
            with torch.no_grad():
                f_x = self.encoder(x).detach()
            if self.pairing == "tiled":
                self._batch_codes, call = f_x, dict(kwargs)
            else:
                call = dict(kwargs, additional_forward_args=(f_x,))
            if baselines is not None:
                call["baselines"] = baselines[start : start + step] if per_sample else baselines
            chunks.append(self.method.attribute(x.detach().requires_grad_(True), **call).detach())
        return torch.cat(chunks)


def latent_unit_saliency(
    encoder: Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    method: type = Saliency,
    channel_mean: bool = False,
    **kwargs: Any,
) -> torch.Tensor:
    """Importance of the inputs for each latent unit, ``(N, d, *input_shape)``.

    For unit i the map is ``|mu_i(x) * a_i(x)|``, with ``a_i`` the attribution of unit i
    (captum ``target=i``), as in the disentanglement experiment of the paper (Sec. 4.3).
    ``channel_mean``: ``a_i`` averaged over the channels first, maps ``(N, d, 1, ...)``, as
    the original does (``attribute_individual_dim``, FACT ``lfxai/explanations/features.py:44-51``;
    the same maps for one-channel images).
    """
    explainer = method(encoder)
    with torch.no_grad():
        mu = encoder(inputs)  # (N, d)
    x = inputs.detach().requires_grad_(True)
    maps = []
    for unit in range(mu.shape[1]):
        attr = explainer.attribute(x, target=unit, **kwargs).detach()  # (N, *input_shape)
        if channel_mean:
            attr = attr.mean(dim=1, keepdim=True)
        scale = mu[:, unit].view(-1, *([1] * (inputs.dim() - 1)))
        maps.append((scale * attr).abs())
    return torch.stack(maps, dim=1)


__all__ = ["GradientShap", "IntegratedGradients", "LabelFreeFeatureImportance", "Saliency", "latent_unit_saliency"]
