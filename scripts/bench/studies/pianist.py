"""Benchmark hook of the pianist study (issue 10): its attribution kernels and one paper epoch.

Kernels (small random-init models of demo shapes, seeded, no file IO):

* ``pianist/lime_roll``: LIME on ``n`` rolls with the perturbed rolls classified in one
  batch per roll, against the original's ``batch_size=10`` calls.
* ``pianist/cav_sensitivities``: gradient x activation sensitivities of ``n`` clips to the
  CAVs in one captum call, against one clip at a time (the original's loop).

:func:`paper_epoch` trains one epoch of the ResNet-50 baseline and of DisentangleNet
(ResNet-18 branches) on synthetic rolls of the paper's shape (88 x 3000).
"""

from __future__ import annotations

import numpy as np
import torch

from xairepro.common.bench import epoch_seconds
from xairepro.pianist.models import DisentangleNet, ResNet

DEMO_ROLL = (88, 60)
PAPER_ROLL = (88, 3000)
#: Training clips of the paper's split (20 pianists x ~80 min of training material / 30 s); an estimate.
PAPER_TRAIN_CLIPS = 3200
DEMO_ARCH = {"block": "basic", "layers": (1, 1, 1, 1), "width": 8, "stem": "small"}


def _rolls(n: int, shape=DEMO_ROLL, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((n, *shape)) < 0.05).astype(np.float32) * rng.random((n, *shape)).astype(np.float32)


def kernels(device: str = "cpu", n: int = 8, lime_samples: int = 50) -> list[dict]:
    """The attribution kernels of the study, each with its batched path and references."""
    from xairepro.pianist import explain as tcav
    from xairepro.pianist.explain import explain_roll

    torch.manual_seed(0)
    baseline = ResNet(4, **DEMO_ARCH).to(device).eval()
    disentangle = DisentangleNet(4, **DEMO_ARCH).to(device).eval()
    rolls = _rolls(n)
    targets = np.arange(n) % 4
    dim = int(np.prod(_harmony_shape(disentangle)))
    cavs = np.random.default_rng(1).standard_normal((5, dim)).astype(np.float32)
    lime_args = {"num_samples": lime_samples, "num_features": 5, "top_labels": 4, "kernel_width": 0.25,
                 "hide_color": 0.0, "distance_metric": "cosine", "random_state": 42,
                 # the demo's LIME, as config/pianist.yaml's lime.demo block sets it
                 "segmentation": {"kernel_size": 1, "max_dist": 200, "ratio": 0.2},
                 "feature_selection": "none", "sounding_only": True}

    def lime_batched():
        return [explain_roll(baseline, r, batch_size=lime_samples, **lime_args) for r in rolls]

    def lime_reference():
        return [explain_roll(baseline, r, batch_size=10, **lime_args) for r in rolls]

    def lime_fwd():
        with torch.no_grad():
            return baseline(torch.as_tensor(rolls).unsqueeze(1).repeat_interleave(lime_samples, 0).to(device))

    def cav_batched():
        return tcav.sensitivities(disentangle, rolls, targets, cavs, batch_size=n)

    def cav_reference():
        return np.concatenate([tcav.sensitivities(disentangle, rolls[i:i + 1], targets[i:i + 1], cavs, batch_size=1)
                               for i in range(n)])

    def cav_fwd_bwd():
        x = tcav.harmony_only(rolls).to(device).requires_grad_(True)
        out = disentangle(x)
        out.gather(1, torch.as_tensor(targets, device=device)[:, None]).sum().backward()
        return out

    return [
        {"name": "pianist/lime_roll", "n": n, "batched": lime_batched, "reference": lime_reference, "fwd_bwd": lime_fwd},
        {"name": "pianist/cav_sensitivities", "n": n, "batched": cav_batched, "reference": cav_reference,
         "fwd_bwd": cav_fwd_bwd},
    ]


def _harmony_shape(model: DisentangleNet, roll=DEMO_ROLL) -> tuple[int, ...]:
    branch = model.branches["harmony"]
    with torch.no_grad():
        x = torch.zeros(1, 1, *roll, device=next(model.parameters(), torch.empty(0)).device)
        return tuple(branch.layer4(branch.layer3(branch.layer2(branch.layer1(branch.stem(x))))).shape[1:])


def paper_epoch(device: str = "cuda", max_batches: int | None = None, batch_size: int = 20,
                n_clips: int = PAPER_TRAIN_CLIPS, n_classes: int = 20, roll_shape: tuple[int, int] = PAPER_ROLL
                ) -> list[dict]:
    """One training epoch of each paper model on synthetic 88 x 3000 rolls (SGD for the
    ResNet-50, Adam for DisentangleNet, the paper's settings); seconds per epoch."""
    torch.manual_seed(0)
    models = {
        "pianist/resnet50": (ResNet(n_classes, "bottleneck", (3, 4, 6, 3), 64, "imagenet"), 1,
                             lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, weight_decay=1e-4)),
        "pianist/disentangle_resnet18": (DisentangleNet(n_classes, "basic", (2, 2, 2, 2), 64, "imagenet"), 4,
                                         lambda p: torch.optim.Adam(p, lr=1e-4)),
    }
    per_epoch = int(np.ceil(n_clips / batch_size))
    rows = []
    for name, (model, channels, make_opt) in models.items():
        model = model.to(device).train()
        opt = make_opt(model.parameters())
        generator = torch.Generator(device="cpu").manual_seed(0)
        x = (torch.rand(batch_size, channels, *roll_shape, generator=generator) < 0.02).float().to(device)
        y = torch.randint(0, n_classes, (batch_size,), generator=generator).to(device)

        def step(i, model=model, opt=opt, x=x, y=y):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()

        seconds, timed = epoch_seconds(step, per_epoch, max_batches, device)
        rows.append({"name": name, "seconds": seconds, "batches": per_epoch, "timed_batches": timed,
                     "published_seconds": None})
    return rows
