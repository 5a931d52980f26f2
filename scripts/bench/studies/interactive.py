"""Benchmark hook of the interactive study (issue 10; the lead's runner calls these).

``kernels``: each captum heatmap method over a batch of demo-shaped images (random-init
ResNet-18, 64x64) batched as the project runs it, against the original's one image at a
time (static_exp.py loops over images, IG with internal_batch_size 2, the noise tunnel
with nt_samples_batch_size 2), and the model's own batched forward + backward over the
same number of passes.

``paper_epoch``: one training epoch of the ResNet-18 classifier at the paper's shapes
(256x256 inputs, batch 10, 22,500 CelebAMask-HQ training images: 75 % of 30,000), body
frozen and unfrozen, on synthetic data.
"""

from __future__ import annotations

import torch

from xairepro.common.bench import epoch_seconds
from xairepro.interactive.explain import explain
from xairepro.interactive.models import resnet18_norepeat

#: Heatmap method -> (model passes per image, the original's per-image keyword arguments).
_PASSES = {"integrated_gradients": "n_steps", "saliency_smoothgrad_sq": "nt_samples"}


def _model(device: str, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return resnet18_norepeat().to(device).eval()


def kernels(device: str = "cpu", n: int = 4, size: int = 64, n_steps: int = 20, nt_samples: int = 20) -> list[dict]:
    """One entry per heatmap method: ``name``, ``n``, ``batched``, ``reference``, ``fwd_bwd``."""
    model = _model(device)
    x = torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(1)).to(device)
    settings = {"n_steps": n_steps, "nt_samples": nt_samples}
    entries = []
    for method in ("integrated_gradients", "saliency_smoothgrad_sq", "guided_backprop", "guided_gradcam"):
        passes = settings[_PASSES[method]] if method in _PASSES else 1

        def batched(method=method):
            return explain(model, x, [method], n_steps=n_steps, nt_samples=nt_samples,
                           internal_batch_size=n * n_steps, nt_samples_batch_size=nt_samples)

        def reference(method=method):
            return [explain(model, x[i:i + 1], [method], n_steps=n_steps, nt_samples=nt_samples,
                            internal_batch_size=2, nt_samples_batch_size=2) for i in range(n)]

        def fwd_bwd(passes=passes):
            inputs = x.repeat(passes, 1, 1, 1).requires_grad_(True)
            model(inputs).sum().backward()
            model.zero_grad(set_to_none=True)

        entries.append({"name": f"interactive/{method}", "n": n, "batched": batched, "reference": reference,
                        "fwd_bwd": fwd_bwd})
    return entries


def paper_epoch(device: str = "cuda", max_batches: int | None = None, n_images: int = 22500, size: int = 256,
                batch_size: int = 10) -> list[dict]:
    """One epoch (or ``max_batches`` batches) of the classifier, body frozen and unfrozen."""
    from xairepro.interactive.train import set_body_trainable

    rows = []
    per_epoch = -(-n_images // batch_size)
    gen = torch.Generator().manual_seed(0)
    for frozen in (True, False):
        model = _model(device)
        set_body_trainable(model, not frozen)
        model.train()
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-4)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        x = torch.randn(batch_size, 3, size, size, generator=gen).to(device)
        y = (torch.rand(batch_size, generator=gen) > 0.5).float().to(device)

        def step(i, model=model, optimizer=optimizer, x=x, y=y):
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x).flatten(), y).backward()
            optimizer.step()

        seconds, timed = epoch_seconds(step, per_epoch, max_batches, device)
        rows.append({"name": f"interactive/resnet18_{'frozen' if frozen else 'unfrozen'}_epoch",
                     "seconds": seconds, "batches": per_epoch, "timed_batches": timed, "published_seconds": None})
    return rows
