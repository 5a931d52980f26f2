"""Metrics of an occlusion experiment computed on tensors."""

from __future__ import annotations

import numpy as np
import torch

from xairepro.metrics.curves import SIGNS

__all__ = ["SIGNS", "sign_counts"]


def sign_counts(inputs: torch.Tensor, grads: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
    """Count occluded features by sign of the input (rows) and of the gradient (columns).

    Parameters
    ----------
    inputs, grads
        ``(N, *shape)``, normalised inputs and their loss gradients.
    mask
        ``(N, P)`` boolean, True where a feature is occluded.

    Returns
    -------
    ``(3, 3)`` int64 counts; rows and columns ordered positive, negative, zero.
    """
    sx = torch.sign(inputs.flatten(1))[mask]
    sg = torch.sign(grads.flatten(1))[mask]
    # sign -> index: +1 -> 0, -1 -> 1, 0 -> 2
    ix = torch.where(sx > 0, 0, torch.where(sx < 0, 1, 2))
    ig = torch.where(sg > 0, 0, torch.where(sg < 0, 1, 2))
    counts = torch.bincount(ix * 3 + ig, minlength=9).reshape(3, 3)
    return counts.numpy().astype(np.int64)
