"""The networks of the ``lossgrad`` study, their losses and their heads.

* :class:`Net`: the MNIST classifier of the original study (the PyTorch MNIST example
  network), with a log-softmax or a one-unit sigmoid head; a head and class count is a
  *variant* (``softmax10``, ``softmax2``, ``sigmoid2``), the workflow's ``{variant}``.
* :class:`SVDNet`: the singing-voice-detection CNN (after Schlüter & Grill, ISMIR 2015).
"""

from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from torch import nn

# --------------------------------------------------------------------------- MNIST
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


VARIANT_RE = re.compile(r"^(softmax|sigmoid)(2|10)$")


def parse_variant(variant: str) -> tuple[str, int]:
    """``"sigmoid2" -> ("sigmoid", 2)``; the workflow's ``{variant}`` wildcard."""
    match = VARIANT_RE.match(variant)
    if not match or (match[1] == "sigmoid" and match[2] != "2"):
        raise ValueError(f"unknown classifier variant {variant!r}: use softmax10, softmax2 or sigmoid2")
    return match[1], int(match[2])


def variant_name(classifier_type: str, num_classes: int) -> str:
    """``("softmax", 10) -> "softmax10"``."""
    return f"{classifier_type}{num_classes}"


def fast_layout(t: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` in channels_last layout: several times faster small convolutions on the CPU (oneDNN).

    Only for training and forward passes without input gradients: with torch 2.11 on the
    CPU, a channels_last model returns a wrong input gradient for a single (1, 1, H, W) image
    (tests/lossgrad/test_mnist.py::test_gradient_cache_does_not_depend_on_batch_size).
    """
    return t.contiguous(memory_format=torch.channels_last)


# --------------------------------------------------------------------------- singing voice
#: Widths of the original network; the demo scale narrows them (config ``arch``).
PAPER_ARCH = {"conv1": 64, "conv2": 32, "conv3": 128, "conv4": 64, "fc1": 256, "fc2": 64}


class SVDNet(nn.Module):
    """conv-conv-maxpool3-conv-conv-maxpool3-fc-fc-fc(1), LeakyReLU, dropout 0.5, sigmoid out.

    3x3 unpadded convolutions, max-pooling over 3x3, dropout 0.5 before each fully connected
    layer, orthogonal weight initialisation and zero biases.

    Parameters
    ----------
    blocklen, mel_bands
        Excerpt size, 115 x 80 in the original.
    conv1 .. fc2
        Layer widths, 64/32/128/64 and 256/64 in the original.

    Input ``(N, 1, blocklen, mel_bands)`` z-normalised log-mel excerpts; output ``(N,)``
    probability that the excerpt's centre frame is sung.
    """

    def __init__(self, blocklen: int = 115, mel_bands: int = 80, conv1: int = 64, conv2: int = 32,
                 conv3: int = 128, conv4: int = 64, fc1: int = 256, fc2: int = 64):
        super().__init__()
        self.arch = {"conv1": conv1, "conv2": conv2, "conv3": conv3, "conv4": conv4, "fc1": fc1, "fc2": fc2}
        self.blocklen, self.mel_bands = blocklen, mel_bands
        self.conv = nn.ModuleList([
            nn.Conv2d(1, conv1, 3), nn.Conv2d(conv1, conv2, 3), nn.Conv2d(conv2, conv3, 3), nn.Conv2d(conv3, conv4, 3),
        ])
        h, w = blocklen, mel_bands
        h, w = (h - 4) // 3, (w - 4) // 3
        h, w = (h - 4) // 3, (w - 4) // 3
        self.fc = nn.ModuleList([nn.Linear(conv4 * h * w, fc1), nn.Linear(fc1, fc2), nn.Linear(fc2, 1)])
        self.dropout = nn.Dropout(0.5)
        for layer in [*self.conv, *self.fc]:
            nn.init.orthogonal_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, conv in enumerate(self.conv):
            x = F.leaky_relu(conv(x), 0.01)
            if i in (1, 3):
                x = F.max_pool2d(x, 3)
        x = torch.flatten(x, 1)
        for i, fc in enumerate(self.fc):
            x = fc(self.dropout(x))
            if i < len(self.fc) - 1:
                x = F.leaky_relu(x, 0.01)
        return torch.sigmoid(x).squeeze(1)


def soft_targets(labels: torch.Tensor) -> torch.Tensor:
    """The original's label smoothing: ``0.02 + 0.96 * y``."""
    return 0.02 + 0.96 * labels


def bce_per_excerpt(prob: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of each excerpt, ``(N,)``; targets may be soft."""
    return F.binary_cross_entropy(prob, target.to(prob.dtype), reduction="none")
