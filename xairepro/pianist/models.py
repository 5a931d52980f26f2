"""The two classifiers: a single-channel ResNet (the LIME model) and DisentangleNet (TCAV).

:class:`ResNet` is the torchvision ResNet layout with a one-channel stem and configurable
depth (``block``: basic = ResNet-18/34, bottleneck = ResNet-50; ``layers``) and width
(``width`` = channels of the first stage, 64 in the paper). ``stem: imagenet`` is the 7x7
stride-2 convolution + max-pool of the paper; ``stem: small`` a 3x3 stride-2 convolution (no max-pool)
for the demo's short rolls.

:class:`DisentangleNet` runs one ResNet trunk per concept channel (melody, harmony,
rhythm, dynamics) to four embeddings; in training each sample has, with probability
``mask_prob``, 1 to ``max_masked`` of them zeroed (concept dropout); the embeddings are
averaged across concepts, and ``Dropout(0.5) -> Linear(D, n_classes)`` gives the logits.
"""

from __future__ import annotations

import torch
from torch import nn

from xairepro.pianist.data import CHANNELS


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, c_in: int, c: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()
        self.down = None
        if stride != 1 or c_in != c:
            self.down = nn.Sequential(nn.Conv2d(c_in, c, 1, stride, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.down is None else self.down(x)))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, c_in: int, c: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
            nn.Conv2d(c, c, 3, stride, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
            nn.Conv2d(c, c * 4, 1, bias=False), nn.BatchNorm2d(c * 4),
        )
        self.relu = nn.ReLU()
        self.down = None
        if stride != 1 or c_in != c * 4:
            self.down = nn.Sequential(nn.Conv2d(c_in, c * 4, 1, stride, bias=False), nn.BatchNorm2d(c * 4))

    def forward(self, x):
        return self.relu(self.body(x) + (x if self.down is None else self.down(x)))


class ResNetTrunk(nn.Module):
    """Stem + four stages + global average pool: ``(N, 1, 88, T) -> (N, D)``."""

    def __init__(self, block: str = "basic", layers: tuple[int, ...] = (2, 2, 2, 2), width: int = 64,
                 stem: str = "imagenet"):
        super().__init__()
        block_cls = {"basic": BasicBlock, "bottleneck": Bottleneck}[block]
        if stem == "imagenet":
            self.stem = nn.Sequential(nn.Conv2d(1, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                                      nn.MaxPool2d(3, 2, 1))
        else:
            self.stem = nn.Sequential(nn.Conv2d(1, width, 3, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        c_in, stages = width, []
        for i, n in enumerate(layers):
            c = width * 2**i
            blocks = [block_cls(c_in, c, 1 if i == 0 else 2)]
            c_in = c * block_cls.expansion
            blocks += [block_cls(c_in, c) for _ in range(n - 1)]
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.out_dim = c_in
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.pool(x).flatten(1)


class ResNet(nn.Module):
    """The baseline: :class:`ResNetTrunk` + ``Linear(D, n_classes)``; input ``(N, 1, 88, T)``."""

    def __init__(self, n_classes: int, block: str = "bottleneck", layers=(3, 4, 6, 3), width: int = 64,
                 stem: str = "imagenet"):
        super().__init__()
        self.trunk = ResNetTrunk(block, tuple(layers), width, stem)
        self.fc = nn.Linear(self.trunk.out_dim, n_classes)

    def forward(self, x):
        return self.fc(self.trunk(x))


class DisentangleNet(nn.Module):
    """Four concept trunks -> concept dropout -> mean over concepts -> dropout -> linear.

    Input ``(N, 4, 88, T)`` in :data:`~xairepro.pianist.data.CHANNELS` order.
    """

    def __init__(self, n_classes: int, block: str = "basic", layers=(2, 2, 2, 2), width: int = 64,
                 stem: str = "imagenet", mask_prob: float = 0.3, max_masked: int = 3, dropout: float = 0.5):
        super().__init__()
        self.branches = nn.ModuleDict({c: ResNetTrunk(block, tuple(layers), width, stem) for c in CHANNELS})
        dim = self.branches["harmony"].out_dim
        self.mask_prob, self.max_masked = mask_prob, max_masked
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(dim, n_classes)

    def embeddings(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 4, D)`` concept embeddings, concept dropout applied in training mode."""
        emb = torch.stack([self.branches[c](x[:, i:i + 1]) for i, c in enumerate(CHANNELS)], dim=1)
        if self.training and self.mask_prob > 0:
            n = emb.shape[0]
            masked = torch.rand(n, device=emb.device) < self.mask_prob
            # how many concepts to zero (1..max_masked) and which: the first k of a random order
            k = torch.randint(1, self.max_masked + 1, (n,), device=emb.device)
            rank = torch.rand(n, len(CHANNELS), device=emb.device).argsort(dim=1).argsort(dim=1)
            drop = masked[:, None] & (rank < k[:, None])
            emb = emb * (~drop).unsqueeze(-1).to(emb.dtype)
        return emb

    def forward(self, x):
        return self.fc(self.dropout(self.embeddings(x).mean(dim=1)))


def build_model(kind: str, n_classes: int, arch: dict) -> nn.Module:
    """``resnet`` (baseline) or ``disentangle`` with the config's architecture block."""
    if kind == "resnet":
        return ResNet(n_classes, arch["block"], arch["layers"], arch["width"], arch["stem"])
    if kind == "disentangle":
        return DisentangleNet(n_classes, arch["block"], arch["layers"], arch["width"], arch["stem"],
                              arch["mask_prob"], arch["max_masked"], arch["dropout"])
    raise ValueError(f"unknown model kind {kind!r}; choose resnet or disentangle")
