"""The MNIST classifier of the original study (the PyTorch MNIST example network)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

CLASSIFIER_TYPES = ("softmax", "sigmoid")


class Net(nn.Module):
    """conv-conv-maxpool-dropout-fc-dropout-fc, with a log-softmax or a one-unit sigmoid head.

    Parameters
    ----------
    num_classes
        10 (all digits) or 2 (digits 0 and 1).
    classifier_type
        ``"softmax"``: ``num_classes`` log-probabilities, trained with NLL.
        ``"sigmoid"``: one probability of class 1, trained with BCE (binary only).
    conv1_channels, conv2_channels, hidden_units
        32, 64 and 128 in the original; the demo scale narrows them to fit its CPU budget.

    Input ``(N, 1, 28, 28)``; output ``(N, num_classes)`` log-probabilities or ``(N,)``
    probabilities.
    """

    def __init__(
        self,
        num_classes: int = 10,
        classifier_type: str = "softmax",
        conv1_channels: int = 32,
        conv2_channels: int = 64,
        hidden_units: int = 128,
    ):
        super().__init__()
        if classifier_type not in CLASSIFIER_TYPES:
            raise ValueError(f"classifier_type must be one of {CLASSIFIER_TYPES}, got {classifier_type!r}")
        if classifier_type == "sigmoid" and num_classes != 2:
            raise ValueError("the sigmoid head only exists for the binary task (num_classes=2)")
        self.num_classes = num_classes
        self.classifier_type = classifier_type
        self.conv1 = nn.Conv2d(1, conv1_channels, 3, 1)
        self.conv2 = nn.Conv2d(conv1_channels, conv2_channels, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(conv2_channels * 12 * 12, hidden_units)
        self.fc2 = nn.Linear(hidden_units, num_classes if classifier_type == "softmax" else 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.dropout1(F.max_pool2d(x, 2))
        x = self.dropout2(F.relu(self.fc1(torch.flatten(x, 1))))
        x = self.fc2(x)
        if self.classifier_type == "softmax":
            return F.log_softmax(x, dim=1)
        return torch.sigmoid(x).squeeze(1)


def per_sample_loss(output: torch.Tensor, target: torch.Tensor, classifier_type: str) -> torch.Tensor:
    """The training loss of each sample: NLL of log-probabilities, or BCE of a probability.

    ``output`` is what :class:`Net` returns, ``target`` the integer labels ``(N,)``;
    returns ``(N,)``. Summing it gives each sample's gradient exactly its own, whatever the
    batch (the original's batch-mean loss only rescales gradients by 1/N).
    """
    if classifier_type == "softmax":
        return F.nll_loss(output, target, reduction="none")
    return F.binary_cross_entropy(output, target.to(output.dtype), reduction="none")


def predict(output: torch.Tensor, classifier_type: str) -> torch.Tensor:
    """Predicted labels ``(N,)``: arg-max, or the probability rounded (``torch.round``, as in
    the original, so exactly 0.5 rounds to 0)."""
    if classifier_type == "softmax":
        return output.argmax(dim=1)
    return torch.round(output).long()
