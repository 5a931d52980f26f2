"""The original's full set of occlusion rankings and replacement values.

The shared :mod:`xairepro.attribution.occlusion` knows the four rankings and three
replacements of the paper's figures. The original's ``AttributionMethods`` runs more, and
this module adds them on top of the shared functions (whose results it leaves unchanged):

* rankings (``--attribution-method``): ``abs_grad_inp`` |g| * x, ``grad_abs_inp`` g * |x|,
  ``abs_grad_abs_inp`` |g * x|, ``inp`` x, ``abs_inp`` |x|; the last two rank by the input
  alone (the gradient is not used);
* replacements (``--replacement-type``): ``dataset_min`` (a data set constant the caller
  passes: MNIST the normalised value of a black pixel, -0.1307/0.3081 in the original; the
  singing-voice original passes none, so its ``dataset_min`` is the constructor's default 0)
  and ``custom`` (``--replacement-value``, written into the normalised input as given).
"""

from __future__ import annotations

import torch

from xairepro.attribution import occlusion as shared
from xairepro.attribution.occlusion import feature_ranks, occlude

__all__ = ["ATTRIBUTION_METHODS", "REPLACEMENT_TYPES", "feature_ranks", "occlude", "rank_scores",
           "replacement_values"]

#: Rankings that need no gradient beyond the shared ones: score of flattened x and g.
_EXTRA_SCORES = {
    "abs_grad_inp": lambda x, g: g.abs() * x,
    "grad_abs_inp": lambda x, g: g * x.abs(),
    "abs_grad_abs_inp": lambda x, g: (g * x).abs(),
    "inp": lambda x, g: x,
    "abs_inp": lambda x, g: x.abs(),
}
ATTRIBUTION_METHODS = shared.ATTRIBUTION_METHODS + tuple(_EXTRA_SCORES)
REPLACEMENT_TYPES = shared.REPLACEMENT_TYPES + ("dataset_min", "custom")


def rank_scores(
    method: str, inputs: torch.Tensor, grads: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Per-feature scores to rank by, flattened: ``(N, *shape) -> (N, P)``.

    The shared methods (``abs_grad``, ``grad_orig``, ``grad_inp``, ``random``) as
    :func:`xairepro.attribution.occlusion.rank_scores`; the others as the module docstring.
    """
    if method in _EXTRA_SCORES:
        return _EXTRA_SCORES[method](inputs.flatten(1), grads.flatten(1))
    if method in shared.ATTRIBUTION_METHODS:
        return shared.rank_scores(method, inputs, grads, generator)
    raise ValueError(f"unknown attribution_method {method!r}; choose from {ATTRIBUTION_METHODS}")


def replacement_values(inputs: torch.Tensor, replacement: str, *, dataset_min: float = 0.0,
                       replacement_value: float = 0.0) -> torch.Tensor:
    """The value each image's occluded features get, ``(N, 1)``.

    ``mean``, ``image_min`` (3 x the image minimum) and ``image_max`` as
    :func:`xairepro.attribution.occlusion.replacement_values`; ``dataset_min`` writes
    ``dataset_min`` and ``custom`` writes ``replacement_value`` into every image.
    """
    constants = {"dataset_min": dataset_min, "custom": replacement_value}
    if replacement in constants:
        return torch.full((inputs.shape[0], 1), float(constants[replacement]), dtype=inputs.dtype)
    if replacement in shared.REPLACEMENT_TYPES:
        return shared.replacement_values(inputs, replacement)
    raise ValueError(f"unknown replacement_type {replacement!r}; choose from {REPLACEMENT_TYPES}")
