"""The image classifiers: ResNet-18, one logit, the body frozen then unfrozen (train.py).

Original schedule: ``freeze_epochs`` epochs training only ``fc`` (the body's BatchNorm
statistics still update: Lightning keeps the model in train mode), then
``unfreeze_epochs`` with everything trainable and a fresh Adam (a new Lightning
``Trainer`` re-creates the optimiser); BCE-with-logits, Adam 3e-4, batch 10. Validation
accuracy and BCE are compared with the class baseline.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from xairepro.common.errors import ConfigError
from xairepro.common.io import load_torch
from xairepro.common.seeding import seed_everything
from xairepro.common.training import fit_and_save, minibatches
from xairepro.interactive import data as D
from xairepro.interactive.models import resnet18_norepeat

log = logging.getLogger(__name__)


def parse_classifier(name: str) -> tuple[str, str | tuple[int, int]]:
    """``celeb-Smiling`` -> ("celeb", "Smiling"); ``flowers102_c49-c65`` -> ("flowers102", (49, 65))."""
    if name.startswith("celeb-"):
        return "celeb", name[len("celeb-"):]
    if name.startswith("flowers102_c"):
        c1, _, c2 = name[len("flowers102_c"):].partition("-c")
        if c1.isdigit() and c2.isdigit():
            return "flowers102", (int(c1), int(c2))
    raise ConfigError(f"classifier {name!r}: expected 'celeb-<attribute>' or 'flowers102_c<a>-c<b>'")


def classifier_name(dset: str, classes_or_attr: str) -> str:
    """The original's output folder name: ``celeb-<attr>`` or ``flowers102_c<a>-c<b>``."""
    if dset == "celeb":
        return f"celeb-{classes_or_attr}"
    c1, c2 = classes_or_attr.split("-")
    return f"flowers102_c{int(c1)}-c{int(c2)}"


def load_split(root: str | Path, classifier: str, *, size: int, split_seed: int, ratio: float = 0.75,
               pad: int = 0, crop_ratio: float = 0.0, splits: tuple[str, ...] = ("train", "valid")
               ) -> dict[str, np.ndarray]:
    """Train/valid images (uint8 NHWC) and labels of one classifier's task."""
    dset, target = parse_classifier(classifier)
    if dset == "celeb":
        return D.load_celeb_attribute(root, target, size, split_seed=split_seed, ratio=ratio, splits=splits)
    return D.load_flowers_pair(root, *target, size=size, split_seed=split_seed, ratio=ratio, pad=pad,
                               crop_ratio=crop_ratio, splits=splits)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> ImageNet-normalised float (N, 3, H, W), as the original's tfms."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(D.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(D.IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The flowers' training augmentation: a random rotation and random flips, per image."""
    from torchvision.transforms.v2 import functional as TF

    out = []
    for img in x:
        angle = float(torch.empty(()).uniform_(-180, 180, generator=generator))
        img = TF.rotate(img, angle)
        if torch.rand((), generator=generator) < 0.5:
            img = img.flip(-1)
        if torch.rand((), generator=generator) < 0.5:
            img = img.flip(-2)
        out.append(img)
    return torch.stack(out)


def blur_half(x: torch.Tensor, generator: torch.Generator, sigma: tuple[float, float] = (0.5, 1.5)) -> torch.Tensor:
    """Gaussian-blur a random half of the batch (one sigma per batch): a demo-only augmentation
    so that the classifiers score the demo generator's smoother faces like real ones."""
    from torchvision.transforms.v2 import functional as TF

    s = float(torch.empty(()).uniform_(*sigma, generator=generator))
    pick = torch.rand(len(x), generator=generator) < 0.5
    if not pick.any():
        return x
    out = x.clone()
    out[pick] = TF.gaussian_blur(x[pick], kernel_size=[5, 5], sigma=[s, s])
    return out


def set_body_trainable(model: nn.Module, trainable: bool) -> None:
    """The original's freeze()/unfreeze(): only ``fc`` trains while frozen."""
    for p in model.parameters():
        p.requires_grad_(trainable)
    model.fc.requires_grad_(True)


def constant_bce(y: torch.Tensor) -> float:
    """BCE of the best constant prediction (the mean label), i.e. the labels' mean entropy."""
    m = float(y.mean().clamp(1e-6, 1 - 1e-6))
    logit = torch.full_like(y, float(np.log(m / (1 - m))))
    return nn.functional.binary_cross_entropy_with_logits(logit, y).item()


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 100) -> dict[str, float]:
    """Validation BCE and accuracy, and the constant baseline's (predict the mean label)."""
    model.eval()
    logits = torch.cat([model(x[i:i + batch_size]).flatten() for i in range(0, len(x), batch_size)])
    bce = nn.functional.binary_cross_entropy_with_logits(logits, y).item()
    acc = ((logits > 0).float() == y).float().mean().item()
    mean = float(y.mean())
    base_bce = constant_bce(y)
    return {"valid_bce": bce, "valid_acc": acc, "baseline_bce": base_bce, "baseline_acc": max(mean, 1 - mean)}


def train_classifier(
    root: str | Path,
    classifier: str,
    data_file: str | Path,
    model_path: str | Path,
    metrics_path: str | Path,
    checkpoint_path: str | Path,
    *,
    size: int,
    freeze_epochs: int,
    unfreeze_epochs: int,
    bs: int,
    lr: float,
    ratio: float,
    split_seed: int,
    imagenet_weights: bool,
    seed: int = 0,
    pad: int = 0,
    crop_ratio: float = 0.0,
    augment_train: bool = False,
    blur_augment: bool = False,
    threads: int | None = None,
) -> dict:
    """Train one classifier (resumable per epoch) and write its weights and metrics record.

    ``data_file`` (the annotation / label file) ties the checkpoint to the data.
    """
    seed_everything(seed, threads)
    split = load_split(root, classifier, size=size, split_seed=split_seed, ratio=ratio, pad=pad, crop_ratio=crop_ratio)
    x_train, y_train = to_tensor(split["x_train"]), torch.from_numpy(split["y_train"])
    x_valid, y_valid = to_tensor(split["x_valid"]), torch.from_numpy(split["y_valid"])
    log.info("%s: %d train / %d valid images, train baseline %.4f", classifier, len(x_train), len(x_valid),
             float(y_train.mean()))
    model = resnet18_norepeat(imagenet_weights=imagenet_weights)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    loss_fn = nn.BCEWithLogitsLoss()

    def run_epoch(epoch: int) -> dict[str, float]:
        frozen = epoch < freeze_epochs
        set_body_trainable(model, not frozen)
        if epoch == freeze_epochs:
            optimizer.state.clear()  # the original's second Trainer starts a fresh Adam
        model.train()
        total, batches = 0.0, 0
        for idx in minibatches(len(x_train), bs, generator):
            xb = augment(x_train[idx], generator) if augment_train else x_train[idx]
            xb = blur_half(xb, generator) if blur_augment else xb
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb).flatten(), y_train[idx])
            loss.backward()
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
        return {"train_bce": total / max(1, batches), "frozen": float(frozen), **evaluate(model, x_valid, y_valid)}

    params = {"classifier": classifier, "size": size, "freeze_epochs": freeze_epochs,
              "unfreeze_epochs": unfreeze_epochs, "bs": bs, "lr": lr, "ratio": ratio, "split_seed": split_seed,
              "imagenet_weights": imagenet_weights, "seed": seed, "pad": pad, "crop_ratio": crop_ratio,
              "augment": augment_train, "blur_augment": blur_augment}

    def summary(result):
        final = result.history[-1]
        return {k: final[k] for k in ("valid_bce", "valid_acc", "baseline_bce", "baseline_acc")} | {
            "classifier": classifier, "n_train": len(x_train), "n_valid": len(x_valid)}

    _, record = fit_and_save(model=model, optimizer=optimizer, run_epoch=run_epoch,
                             epochs=freeze_epochs + unfreeze_epochs, params=params, data_path=data_file,
                             checkpoint_path=checkpoint_path, model_path=model_path, metrics_path=metrics_path,
                             model_meta={"classifier": classifier, "size": size}, summary=summary,
                             generator=generator)
    if not math.isfinite(record["valid_bce"]):
        log.warning("%s: validation BCE is not finite", classifier)
    log.info("%s: valid acc %.3f (baseline %.3f), BCE %.3f (baseline %.3f)", classifier, record["valid_acc"],
             record["baseline_acc"], record["valid_bce"], record["baseline_bce"])
    return record


def load_classifier(path: str | Path) -> nn.Module:
    """A trained classifier in eval mode, ReLUs unique and not in-place (ready for captum)."""
    record = load_torch(path)
    model = resnet18_norepeat()
    model.load_state_dict(record["state_dict"])
    return model.eval()
