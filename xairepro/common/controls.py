"""Negative controls for claims: the nulls a claim must fail on (Adebayo et al. 2018).

* :func:`randomised_copy`: the model-parameter randomisation test's model. A copy of a
  trained model whose layers are re-initialised in cascade, top layer (the one nearest the
  output) first; ``layers=None`` randomises them all (the end of the cascade).
* :func:`shuffled` / :func:`random_attribution`: the data-randomisation and random-explainer
  nulls.
* :func:`relevance_mass` / :func:`relevance_rank`: Quantus' localisation metrics
  (``RelevanceMassAccuracy``, ``RelevanceRankAccuracy``) per item, for claims that an
  attribution finds a planted region; :func:`mprt_similarity` is Quantus' ``MPRT``.
"""

from __future__ import annotations

import copy
import logging
import warnings

import numpy as np
import torch

log = logging.getLogger(__name__)


def _layers(model: torch.nn.Module) -> list[torch.nn.Module]:
    """Modules that own parameters and can re-initialise them, in definition order."""
    return [m for m in model.modules() if hasattr(m, "reset_parameters") and any(True for _ in m.parameters(recurse=False))]


def randomised_copy(model: torch.nn.Module, seed: int = 0, layers: int | None = None) -> torch.nn.Module:
    """A copy of ``model`` with its top ``layers`` parametrised layers re-initialised (all of
    them when ``None``), top layer first, as the cascading model-parameter randomisation test
    does. Running statistics of normalisation layers are reset with them. Deterministic in
    ``seed`` and the same on every device: the layers are re-drawn on the CPU (from the CPU
    generator, whatever device the model is on) and the copy is moved back; the original
    model and every random generator are untouched."""
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    randomised = copy.deepcopy(model).cpu()
    order = list(reversed(_layers(randomised)))
    if not order:
        raise ValueError(f"{type(model).__name__} has no layer with reset_parameters() to randomise")
    chosen = order if layers is None else order[:layers]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in chosen:
            module.reset_parameters()
            if hasattr(module, "reset_running_stats"):
                module.reset_running_stats()
    return randomised.to(device)


def shuffled(labels, seed: int = 0) -> np.ndarray:
    """``labels`` in a random order (the data-randomisation test's training labels)."""
    labels = np.asarray(labels)
    return labels[np.random.default_rng(seed).permutation(len(labels))]


def random_attribution(shape, seed: int = 0) -> np.ndarray:
    """A uniform random attribution map of ``shape`` (the random-explainer null)."""
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def _quantus():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import quantus
    return quantus


def _as_batch(attributions, regions) -> tuple[np.ndarray, np.ndarray]:
    """Arrays shaped for Quantus: (items, features) and (items, h, w) maps get a channel
    axis (Quantus cannot infer one from three axes); (items, channels, ...) stay."""
    a = np.asarray(attributions, dtype=np.float32)
    s = np.asarray(regions).astype(bool)
    if a.shape != s.shape:
        raise ValueError(f"attributions {a.shape} and regions {s.shape} must have one shape")
    if a.ndim < 2:
        raise ValueError("attributions need a leading item axis")
    if a.ndim in (2, 3):     # (items, features) / (items, h, w) -> a channel axis after items
        a, s = a[:, None], s[:, None]
    if not s.reshape(len(s), -1).any(axis=1).all():
        raise ValueError("every item needs a non-empty planted region")
    return a, s


def relevance_mass(attributions, regions) -> np.ndarray:
    """Per item, the share of positive relevance inside the planted region (Quantus
    ``RelevanceMassAccuracy``; Arras et al. 2022). A random map scores the region's area
    share."""
    a, s = _as_batch(attributions, regions)
    metric = _quantus().RelevanceMassAccuracy(abs=False, normalise=False, disable_warnings=True)
    x = np.zeros_like(a)
    y = np.zeros(len(a), dtype=int)
    return np.asarray(metric(model=None, x_batch=x, y_batch=y, a_batch=a, s_batch=s), dtype=float)


def relevance_rank(attributions, regions) -> np.ndarray:
    """Per item, the share of the region's size-many top-ranked features that lie inside it
    (Quantus ``RelevanceRankAccuracy``). A random map scores the region's area share."""
    a, s = _as_batch(attributions, regions)
    metric = _quantus().RelevanceRankAccuracy(abs=False, normalise=False, disable_warnings=True)
    x = np.zeros_like(a)
    y = np.zeros(len(a), dtype=int)
    return np.asarray(metric(model=None, x_batch=x, y_batch=y, a_batch=a, s_batch=s), dtype=float)


def area_share(regions) -> np.ndarray:
    """Per item, the planted region's share of the input: what a random map scores in
    :func:`relevance_mass` and :func:`relevance_rank` on average."""
    s = np.asarray(regions).astype(bool)
    return s.reshape(len(s), -1).mean(axis=1)


def mprt_similarity(model: torch.nn.Module, x: np.ndarray, y: np.ndarray, explain, seed: int = 0) -> dict[str, float]:
    """Quantus ``MPRT`` (cascading, top layer first): per layer, the mean Spearman similarity
    between the explanation of the trained model and of the model randomised down to that
    layer. ``explain(model, inputs, targets)`` returns numpy attributions shaped like ``x``.
    An explanation that depends on the learned weights drops towards 0."""
    quantus = _quantus()
    metric = quantus.MPRT(layer_order="top_down", similarity_func=quantus.similarity_func.correlation_spearman,
                          seed=seed, return_average_correlation=False, disable_warnings=True,
                          display_progressbar=False)

    def explain_func(model, inputs, targets, **_):
        return np.asarray(explain(model, inputs, targets), dtype=np.float32)

    scores = metric(model=model, x_batch=np.asarray(x, dtype=np.float32), y_batch=np.asarray(y), a_batch=None,
                    explain_func=explain_func, device="cpu")
    return {layer: float(np.mean(values)) for layer, values in scores.items()}
