"""Fidelity-to-input and faithfulness of post-hoc audio interpretations (SpeechBrain ESC50).

Both compare a classifier's scores on the input X with its scores on a masked input.
The ESC50 interpret recipe (commit afd34230c, the README table) masks in: M * X; later
versions mask out: (1 - M) * X. Softmax is taken of the raw scores (the cosine scores of
the recipes' classifiers, hence faithfulness values of about 0.01).
"""

from __future__ import annotations

import torch


def fidelity_to_input(scores: torch.Tensor, scores_masked: torch.Tensor) -> torch.Tensor:
    """Per clip 1[argmax f(M X) == argmax f(X)]; scores (B, C) -> (B,) float."""
    return (scores_masked.argmax(1) == scores.argmax(1)).float()


def faithfulness(scores: torch.Tensor, scores_masked: torch.Tensor) -> torch.Tensor:
    """Per clip softmax(f(X))_c - softmax(f(X'))_c at the predicted class c of X; (B,)."""
    c = scores.argmax(1, keepdim=True)
    return (scores.softmax(1).gather(1, c) - scores_masked.softmax(1).gather(1, c)).squeeze(1)


def mask_mass_ratio(mask: torch.Tensor, region_a: torch.Tensor, region_b: torch.Tensor) -> torch.Tensor:
    """Mean mask value inside ``region_a`` over that inside ``region_b`` (all (T, F) or batched)."""
    dims = tuple(range(-2, 0))
    a = (mask * region_a).sum(dims) / region_a.sum(dims).clamp_min(1)
    b = (mask * region_b).sum(dims) / region_b.sum(dims).clamp_min(1)
    return a / b.clamp_min(1e-12)
