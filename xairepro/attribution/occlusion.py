"""Rank input features by an attribution and replace the top or bottom k of them.

The knob names are the original study's: ``attribution_method`` (``abs_grad``,
``grad_orig``, ``grad_inp``, ``random``), ``replacement_type`` (``mean``, ``image_min``,
``image_max``) and ``ROAR`` (1: occlude the k highest-ranked features, 0: the k lowest).
Everything works on a whole batch at once: one sort per (method, order) gives every
feature's rank, and the image occluded at any level k is ``where(rank < k, value, x)``.
"""

from __future__ import annotations

import torch

ATTRIBUTION_METHODS = ("abs_grad", "grad_orig", "grad_inp", "random")
REPLACEMENT_TYPES = ("mean", "image_min", "image_max")


def rank_scores(
    method: str, inputs: torch.Tensor, grads: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Per-feature scores to rank by, flattened: ``(N, *shape) -> (N, P)``.

    ``abs_grad`` |g|, ``grad_orig`` g, ``grad_inp`` g * x, ``random`` uniform noise drawn
    from ``generator`` (the original draws a fresh random subset per image).
    """
    flat_x, flat_g = inputs.flatten(1), grads.flatten(1)
    if method == "abs_grad":
        return flat_g.abs()
    if method == "grad_orig":
        return flat_g
    if method == "grad_inp":
        return flat_g * flat_x
    if method == "random":
        return torch.rand(flat_x.shape, generator=generator, dtype=flat_x.dtype)
    raise ValueError(f"unknown attribution_method {method!r}; choose from {ATTRIBUTION_METHODS}")


def feature_ranks(scores: torch.Tensor, roar: int) -> torch.Tensor:
    """Rank of each feature in occlusion order, ``(N, P)`` int64 (0 = occluded first).

    ``roar=1`` ranks from the highest score down (remove the most important first),
    ``roar=0`` from the lowest up. Ties keep feature order (stable sort), so ranks are
    deterministic.
    """
    if roar not in (0, 1):
        raise ValueError(f"ROAR must be 1 (top-k) or 0 (bottom-k), got {roar!r}")
    order = torch.argsort(scores, dim=1, descending=bool(roar), stable=True)  # (N, P)
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(scores.shape[1]).expand_as(order))
    return ranks


def replacement_values(inputs: torch.Tensor, replacement: str, dataset_mean: float = 0.0) -> torch.Tensor:
    """The value each image's occluded features get, ``(N, 1)``.

    ``mean``: the data set mean (0 after normalisation); ``image_min``: three times the
    image's minimum, as in the original code (not the minimum itself); ``image_max``: the
    image's maximum.
    """
    flat = inputs.flatten(1)
    if replacement == "mean":
        return torch.full((flat.shape[0], 1), float(dataset_mean), dtype=flat.dtype)
    if replacement == "image_min":
        return 3.0 * flat.min(dim=1, keepdim=True).values
    if replacement == "image_max":
        return flat.max(dim=1, keepdim=True).values
    raise ValueError(f"unknown replacement_type {replacement!r}; choose from {REPLACEMENT_TYPES}")


def occlude(inputs: torch.Tensor, ranks: torch.Tensor, k: int, values: torch.Tensor) -> torch.Tensor:
    """Replace the ``k`` first-ranked features of every image by its value.

    Parameters
    ----------
    inputs
        ``(N, *shape)``.
    ranks
        ``(N, P)`` from :func:`feature_ranks`.
    k
        Features to occlude per image, ``0 <= k <= P``; ``k=0`` returns the inputs unchanged
        (the original's ``argsort(...)[-0:]`` occluded *every* pixel at k=0).
    values
        ``(N, 1)`` from :func:`replacement_values`.
    """
    if not 0 <= k <= ranks.shape[1]:
        raise ValueError(f"k={k} outside 0..{ranks.shape[1]}")
    mask = ranks < k  # (N, P)
    return torch.where(mask, values, inputs.flatten(1)).view_as(inputs)
