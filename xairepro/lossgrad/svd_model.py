"""The singing-voice-detection CNN of the original study (after Schlüter & Grill, ISMIR 2015)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

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
