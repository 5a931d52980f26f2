"""Metrics of the label-free study: representation shift and saliency correlation."""

from __future__ import annotations

from collections.abc import Callable

import torch


def representation_shift(
    encoder: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor, masked: torch.Tensor
) -> float:
    """Mean squared distance ``mean_n ||f(x_n) - f(x~_n)||^2`` between the representations of
    the inputs and of their masked versions (Crabbé & van der Schaar, Sec. 4.1, Fig. 1)."""
    with torch.no_grad():
        return float(((encoder(inputs) - encoder(masked)).flatten(1) ** 2).sum(dim=1).mean())


def mean_offdiagonal_correlation(maps: torch.Tensor) -> torch.Tensor:
    """Per sample, the mean off-diagonal Pearson correlation between the d saliency maps.

    ``maps``: ``(N, d, *shape)`` from :func:`xairepro.attribution.label_free.latent_unit_saliency`;
    returns ``(N,)``. Constant maps (zero variance) count as uncorrelated (0), not NaN.
    """
    flat = maps.flatten(2).double()  # (N, d, P)
    centred = flat - flat.mean(dim=2, keepdim=True)
    norm = centred.norm(dim=2, keepdim=True)
    unit = torch.where(norm > 0, centred / norm.clamp_min(1e-300), torch.zeros_like(centred))
    corr = unit @ unit.transpose(1, 2)  # (N, d, d)
    d = corr.shape[1]
    off = corr.sum(dim=(1, 2)) - torch.diagonal(corr, dim1=1, dim2=2).sum(dim=1)
    return (off / (d * (d - 1))).float()


def pooled_offdiagonal_correlation(maps: torch.Tensor) -> float:
    """The mean off-diagonal Pearson correlation between the d units' maps, each unit's maps
    of all N samples pooled into one vector: the original's disentanglement metric
    (``pearson_saliency``, FACT ``lfxai/utils/metrics.py:18-29``), one number per model where
    :func:`mean_offdiagonal_correlation` gives one per sample. ``maps``: ``(N, d, *shape)``.
    A constant unit counts as uncorrelated (0), not NaN."""
    pooled = maps.transpose(0, 1).unsqueeze(0)  # (1, d, N, *shape), flattened per unit by the call below
    return float(mean_offdiagonal_correlation(pooled)[0])
