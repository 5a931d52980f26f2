"""The gradient of each sample's *training loss* with respect to its input, in batches.

Subramanian et al. rank input features by g = dL(f(x), y)/dx, the gradient of the loss
evaluated with the true label y, instead of the gradient of a class score. This module
computes g with captum's :class:`~captum.attr.Saliency` applied to a forward function that
returns per-sample losses: since samples do not interact in an eval-mode network, the
gradient of the summed losses is each sample's own gradient, so a batch of N costs one
forward and one backward pass instead of N.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from captum.attr import Saliency


class LossGradient:
    """Batched loss-gradient attribution.

    Parameters
    ----------
    forward_func
        The model, ``(N, *input_shape) -> outputs``; put it in eval mode first.
    loss_func
        ``loss_func(outputs, target) -> (N,)`` per-sample training loss.

    Examples
    --------
    >>> lg = LossGradient(model, lambda out, y: F.nll_loss(out, y, reduction="none"))
    >>> grads = lg.attribute(images, target=labels, internal_batch_size=512)
    """

    def __init__(
        self,
        forward_func: Callable[[torch.Tensor], torch.Tensor],
        loss_func: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    ):
        self.forward_func = forward_func
        self.loss_func = loss_func
        self._saliency = Saliency(self._loss)

    def _loss(self, inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        losses = self.loss_func(self.forward_func(inputs), target)  # (N,)
        if losses.dim() != 1 or losses.shape[0] != inputs.shape[0]:
            raise ValueError(f"loss_func must return one loss per sample, got shape {tuple(losses.shape)}")
        return losses

    def attribute(
        self,
        inputs: torch.Tensor,
        target: torch.Tensor,
        internal_batch_size: int | None = None,
    ) -> torch.Tensor:
        """Return dL/dx with the shape of ``inputs``.

        Parameters
        ----------
        inputs
            ``(N, *input_shape)``.
        target
            ``(N,)`` true labels, the ones the training loss uses.
        internal_batch_size
            Samples per forward/backward pass; ``None`` does all N at once. The result does
            not depend on it (tested).
        """
        if target.shape[0] != inputs.shape[0]:
            raise ValueError(f"{inputs.shape[0]} inputs but {target.shape[0]} targets")
        if len(inputs) == 0:  # split() of no rows still yields one empty chunk, which captum rejects
            return torch.empty_like(inputs)
        step = internal_batch_size or inputs.shape[0]
        chunks = []
        for x, y in zip(inputs.split(step), target.split(step)):
            # grads: (chunk, *input_shape)
            x = x.detach().requires_grad_(True)
            chunks.append(self._saliency.attribute(x, abs=False, additional_forward_args=(y,)).detach())
        return torch.cat(chunks)
