"""The explainers of the ``lossgrad`` study, after captum's pattern: one class per method,
constructed with the model, and one public ``attribute(inputs, target=...)``.

Both are the loss gradient dL/dx of
:class:`~xairepro.attribution.loss_gradient.LossGradient` (captum ``Saliency`` over
per-sample losses), taken of the loss the network was trained with:

* :class:`NetLossGradient`: MNIST images, NLL or BCE by the :class:`~xairepro.lossgrad.models.Net`'s head;
* :class:`SVDLossGradient`: the excerpts of an :class:`~xairepro.lossgrad.data.ExcerptSet`,
  BCE against the hard frame label (:func:`gradient_loss`).

The occlusion rankings built from these gradients (``abs_grad``, ``grad_orig``,
``grad_inp``, ``random`` and the original's others) are
:func:`xairepro.lossgrad.occlusion.rank_scores`.
captum is imported only when an explainer is built.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from xairepro.common.logs import progress
from xairepro.lossgrad.data import ExcerptSet
from xairepro.lossgrad.models import Net, SVDNet, bce_per_excerpt, per_sample_loss


class NetLossGradient:
    """Loss gradients of MNIST images under a trained :class:`Net`'s own training loss.

    Parameters
    ----------
    model
        The :class:`Net`, in eval mode; its ``classifier_type`` picks NLL or BCE.
    """

    def __init__(self, model: Net):
        from xairepro.attribution.loss_gradient import LossGradient  # captum: imported only here

        self.model = model
        self._explainer = LossGradient(model, lambda out, target: per_sample_loss(out, target, model.classifier_type))

    def attribute(self, inputs: torch.Tensor, target: torch.Tensor,
                  internal_batch_size: int | None = None) -> torch.Tensor:
        """dL/dx of ``inputs`` ``(N, 1, 28, 28)`` for the true labels ``target`` ``(N,)``, with
        the shape of ``inputs``; ``internal_batch_size`` images per pass (the result does not
        depend on it)."""
        return self._explainer.attribute(inputs, target=target, internal_batch_size=internal_batch_size)


def gradient_loss(prob: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The loss the gradients are taken of: BCE against the *hard* true label, ``(N,)``.

    The original passes the 0/1 frame labels to ``BCELoss`` for the gradient (training uses
    soft labels); with soft labels a prediction beyond 0.98 would flip the gradient's sign.
    """
    return bce_per_excerpt(prob, labels)


class SVDLossGradient:
    """Loss gradients of singing-voice excerpts under a trained :class:`SVDNet`.

    Parameters
    ----------
    model
        The :class:`SVDNet`, in eval mode (standard memory layout: see
        :func:`xairepro.lossgrad.models.fast_layout`).
    device
        Where the excerpts are sent for each pass (the model's device).
    """

    def __init__(self, model: SVDNet, device: str = "cpu"):
        from xairepro.attribution.loss_gradient import LossGradient  # captum: imported only here

        self.model = model
        self.device = device
        self._explainer = LossGradient(model, gradient_loss)

    def attribute(self, inputs: ExcerptSet, target: np.ndarray, internal_batch_size: int) -> np.ndarray:
        """Loss gradients of every excerpt, ``(N, blocklen, 80)`` float32, ``internal_batch_size``
        at a time, for the hard frame labels ``target`` ``(N,)``.

        Batches are cut from the excerpt set (memory stays at one batch of excerpts); within a
        batch one forward and one backward pass give every excerpt its own gradient.
        """
        y = torch.from_numpy(np.asarray(target, dtype=np.float32))
        out = np.empty((len(inputs), inputs.blocklen, inputs.frames.shape[1]), dtype=np.float32)
        for index, x in progress(inputs.batches(internal_batch_size), desc="loss gradients",
                                 total=-(-len(inputs) // internal_batch_size)):
            g = self._explainer.attribute(x.to(self.device), target=y[index].to(self.device))  # (B, 1, blocklen, 80)
            out[index.numpy()] = g.squeeze(1).cpu().numpy()
        return out


def benchmark_gradients(model: SVDNet, excerpts: ExcerptSet, labels: np.ndarray, batch_size: int,
                        n_excerpts: int, repeats: int = 3) -> dict[str, float]:
    """Excerpts per second of the batched loss gradient and of a batch-size-1 loop, same model.

    Both paths differentiate the first ``n_excerpts`` test excerpts with
    :class:`SVDLossGradient` (the gradient rule's code); each is warmed up once, then timed
    ``repeats`` times, alternating, and its best time kept (the machine is shared). Also
    returns the largest absolute difference between the two results.
    """
    n = min(n_excerpts, len(excerpts))
    subset = excerpts.head(n)
    sizes = {"batched": batch_size, "batch1": 1}
    best = {name: float("inf") for name in sizes}
    results = {}
    explainer = SVDLossGradient(model)
    for name, size in sizes.items():
        explainer.attribute(excerpts.head(min(n, 2 * size)), target=labels[:n], internal_batch_size=size)  # warm-up
    for _ in range(repeats):
        for name, size in sizes.items():
            start = time.perf_counter()
            results[name] = explainer.attribute(subset, target=labels[:n], internal_batch_size=size)
            best[name] = min(best[name], time.perf_counter() - start)
    rates = {name: n / seconds for name, seconds in best.items()}
    return {"n_excerpts": n, "batch_size": batch_size, "batched_excerpts_per_s": rates["batched"],
            "batch1_excerpts_per_s": rates["batch1"], "speedup": rates["batched"] / rates["batch1"],
            "max_abs_diff": float(np.abs(results["batched"] - results["batch1"]).max())}
