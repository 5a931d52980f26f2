"""Benchmark hooks of the ``lossgrad`` study (the contract: scripts/bench/bench_hooks.py).

Kernels: the loss gradient of MNIST test images (the original's Net, paper widths) and of
singing-voice excerpts (SVDNet, paper widths), batched vs one sample at a time (the
original's loop), against the model's own batched forward + backward. Random inputs of the
real shapes: speed does not depend on what the pixels show.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from xairepro.attribution.loss_gradient import LossGradient
from xairepro.common.bench import epoch_seconds
from xairepro.lossgrad.models import Net, SVDNet


def _gradient_kernel(name: str, model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, loss, batch: int) -> dict:
    explainer = LossGradient(model, loss)

    def fwd_bwd():
        inputs = x.detach().requires_grad_(True)
        loss(model(inputs), y).sum().backward()

    return {
        "name": name,
        "n": len(x),
        "batched": lambda: explainer.attribute(x, y, internal_batch_size=batch),
        "reference": lambda: [explainer.attribute(x[i : i + 1], y[i : i + 1]) for i in range(len(x))],
        "fwd_bwd": fwd_bwd,
    }


def kernels(device: str = "cpu", n: int = 256) -> list[dict]:
    generator = torch.Generator().manual_seed(0)
    mnist = Net(10, "softmax").to(device).eval()
    images = torch.rand(n, 1, 28, 28, generator=generator).to(device)
    digits = torch.randint(0, 10, (n,), generator=generator).to(device)
    svd = SVDNet().to(device).eval()
    excerpts = torch.randn(n // 4, 1, 115, 80, generator=generator).to(device)
    sung = torch.randint(0, 2, (n // 4,), generator=generator).float().to(device)
    return [
        _gradient_kernel("lossgrad/loss_gradient_mnist", mnist, images, digits,
                         lambda out, t: F.nll_loss(out, t, reduction="none"), 256),
        _gradient_kernel("lossgrad/loss_gradient_svd", svd, excerpts, sung,
                         lambda out, t: F.binary_cross_entropy(out, t, reduction="none"), 64),
    ]


def paper_epoch(device: str = "cuda", max_batches: int | None = None) -> list[dict]:
    """One epoch of the MNIST Net (60,000 images, batch 64, Adadelta) and of SVDNet (the
    original's 2,000 minibatches of 32 excerpts per epoch, Nesterov SGD)."""
    rows = []
    generator = torch.Generator().manual_seed(0)
    model = Net(10, "softmax").to(device).train()
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    x = torch.rand(64, 1, 28, 28, generator=generator).to(device)
    y = torch.randint(0, 10, (64,), generator=generator).to(device)

    def mnist_step(_):
        optimizer.zero_grad()
        F.nll_loss(model(x), y).backward()
        optimizer.step()

    seconds, timed = epoch_seconds(mnist_step, 60000 // 64, max_batches, device)
    rows.append({"name": "lossgrad/mnist_net", "seconds": seconds, "batches": 60000 // 64, "timed_batches": timed,
                 "published_seconds": None})
    svd = SVDNet().to(device).train()
    optimizer = torch.optim.SGD(svd.parameters(), lr=0.01, momentum=0.95, nesterov=True)
    xs = torch.randn(32, 1, 115, 80, generator=generator).to(device)
    ys = torch.rand(32, generator=generator).to(device)

    def svd_step(_):
        optimizer.zero_grad()
        F.binary_cross_entropy(svd(xs), ys).backward()
        optimizer.step()

    seconds, timed = epoch_seconds(svd_step, 2000, max_batches, device)
    rows.append({"name": "lossgrad/svd_net", "seconds": seconds, "batches": 2000, "timed_batches": timed,
                 "published_seconds": None})
    return rows
