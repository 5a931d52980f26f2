"""The MNIST part of ``lossgrad``: train the three heads, compute loss gradients, occlude.

Steps (one workflow rule each):

1. :func:`train_classifier` trains ``Net`` for one head and seed with Adadelta + StepLR,
   checkpointing every epoch (resumable), and saves the weights.
2. :func:`compute_gradients` writes the loss gradient dL/dx of every test image, in batches:
   the declared gradient cache.
3. :func:`occlusion_sweep` ranks pixels by each attribution method, occludes the top
   (``ROAR=1``) or bottom (``ROAR=0``) k with each replacement value and measures test
   accuracy and loss; it also counts the signs of input and gradient over occluded pixels.
4. :mod:`xairepro.lossgrad.tables` aggregates the sweeps and writes the claims table.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from xairepro.attribution.occlusion import feature_ranks, occlude, rank_scores, replacement_values
from xairepro.common.io import load_arrays, load_torch, save_arrays, save_torch, write_json
from xairepro.common.logs import progress
from xairepro.common.provenance import config_hash
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.common.training import minibatches, train_epochs
from xairepro.lossgrad.data import load_split
from xairepro.lossgrad.models import Net, per_sample_loss, predict
from xairepro.metrics.occlusion import SIGNS, sign_counts

log = logging.getLogger(__name__)

VARIANT_RE = re.compile(r"^(softmax|sigmoid)(2|10)$")
N_PIXELS = 28 * 28


def parse_variant(variant: str) -> tuple[str, int]:
    """``"sigmoid2" -> ("sigmoid", 2)``; the workflow's ``{variant}`` wildcard."""
    match = VARIANT_RE.match(variant)
    if not match or (match[1] == "sigmoid" and match[2] != "2"):
        raise ValueError(f"unknown classifier variant {variant!r}: use softmax10, softmax2 or sigmoid2")
    return match[1], int(match[2])


def variant_name(classifier_type: str, num_classes: int) -> str:
    """``("softmax", 10) -> "softmax10"``."""
    return f"{classifier_type}{num_classes}"


def _file_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _fast_layout(t: torch.Tensor) -> torch.Tensor:
    """channels_last memory layout: 2-3x faster small convolutions on the CPU (oneDNN).

    Only for forward passes without input gradients: with torch 2.11 on the CPU, a
    channels_last model returns a wrong input gradient for a single (1, 1, H, W) image
    (tests/lossgrad/test_mnist.py::test_gradient_cache_does_not_depend_on_batch_size).
    """
    return t.contiguous(memory_format=torch.channels_last)


def _evaluate(model: Net, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> tuple[float, float]:
    """Accuracy and mean loss of ``model`` on ``(x, y)``, in batches, without gradients."""
    correct, total_loss = 0, 0.0
    with torch.no_grad():
        for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
            out = model(_fast_layout(xb))
            total_loss += per_sample_loss(out, yb, model.classifier_type).sum().item()
            correct += (predict(out, model.classifier_type) == yb).sum().item()
    return correct / len(y), total_loss / len(y)


def load_model(path: str | Path, device: str = "cpu") -> Net:
    """Rebuild a trained :class:`Net` from the file :func:`train_classifier` wrote."""
    state = load_torch(path, map_location=device)
    model = Net(num_classes=int(state["num_classes"]), classifier_type=str(state["classifier_type"]), **state["arch"])
    model.load_state_dict(state["state_dict"])
    return model.to(device).eval()


def train_classifier(
    data_path: str | Path,
    model_path: str | Path,
    metrics_path: str | Path,
    checkpoint_path: str | Path,
    *,
    classifier_type: str,
    num_classes: int,
    seed: int,
    epochs: int,
    batch_size: int,
    test_batch_size: int,
    lr: float,
    gamma: float,
    arch: dict[str, int],
    threads: int = 1,
    device: str = "auto",
) -> dict[str, Any]:
    """Train one ``Net`` (original recipe: Adadelta, StepLR per epoch, shuffled batches).

    Writes the weights (with the architecture, so :func:`load_model` can rebuild it) to
    ``model_path`` and the per-epoch history and final test metrics to ``metrics_path``.
    Returns the metrics record.
    """
    seed_everything(seed, threads)
    device = pick_device(device)
    train_x, train_y = load_split(data_path, "train", num_classes)
    test_x, test_y = load_split(data_path, "test", num_classes)
    train_x, train_y, test_x, test_y = (t.to(device) for t in (train_x, train_y, test_x, test_y))
    log.info("%s seed %d: %d train / %d test images on %s", variant_name(classifier_type, num_classes),
             seed, len(train_y), len(test_y), device)

    model = Net(num_classes=num_classes, classifier_type=classifier_type, **arch).to(device)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=gamma)
    generator = torch.Generator().manual_seed(seed)

    def run_epoch(epoch: int) -> dict[str, float]:
        model.train()
        total, count = 0.0, 0
        for idx in minibatches(len(train_y), batch_size, generator):
            idx = idx.to(device)
            optimizer.zero_grad()
            loss = per_sample_loss(model(train_x[idx]), train_y[idx], classifier_type).mean()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
            count += len(idx)
        model.eval()
        test_acc, test_loss = _evaluate(model, test_x, test_y, test_batch_size)
        return {"train_loss": total / count, "test_loss": test_loss, "test_accuracy": test_acc}

    params = dict(classifier_type=classifier_type, num_classes=num_classes, seed=seed, epochs=epochs,
                  batch_size=batch_size, lr=lr, gamma=gamma, arch=arch, data=_file_digest(data_path))
    result = train_epochs(model=model, optimizer=optimizer, scheduler=scheduler, epochs=epochs,
                          run_epoch=run_epoch, checkpoint_path=checkpoint_path,
                          fingerprint=config_hash(params), generator=generator)
    model.eval()
    save_torch(model_path, {
        "state_dict": {k: v.cpu() for k, v in model.state_dict().items()},
        "num_classes": num_classes, "classifier_type": classifier_type, "arch": dict(arch),
    })
    final = result.history[-1]
    record = {"variant": variant_name(classifier_type, num_classes), "seed": seed,
              "test_accuracy": final["test_accuracy"], "test_loss": final["test_loss"],
              "resumed_from_epoch": result.resumed_from, "history": result.history, "params": params}
    write_json(metrics_path, record)
    Path(checkpoint_path).unlink(missing_ok=True)
    log.info("final test accuracy %.4f", final["test_accuracy"])
    return record


def compute_gradients(
    data_path: str | Path,
    model_path: str | Path,
    out_path: str | Path,
    *,
    internal_batch_size: int,
    threads: int = 1,
    device: str = "auto",
) -> np.ndarray:
    """Loss gradients of every test image, ``(N, 28, 28)`` float32, in batches; the cache.

    Also stores the labels and the clean predictions next to the gradients.
    """
    from xairepro.attribution.loss_gradient import LossGradient  # captum: imported only here

    seed_everything(0, threads)
    device = pick_device(device)
    model = load_model(model_path, device)
    x, y = load_split(data_path, "test", model.num_classes)
    x, y = x.to(device), y.to(device)
    explainer = LossGradient(model, lambda out, target: per_sample_loss(out, target, model.classifier_type))
    grads = explainer.attribute(x, target=y, internal_batch_size=internal_batch_size)  # (N, 1, 28, 28)
    with torch.no_grad():
        clean_pred = torch.cat([predict(model(xb), model.classifier_type) for xb in x.split(internal_batch_size)])
    grads_np = grads.squeeze(1).cpu().numpy().astype(np.float32)
    save_arrays(out_path, grads=grads_np, labels=y.cpu().numpy(), clean_pred=clean_pred.cpu().numpy())
    log.info("%d gradients, mean |g| %.3g, %.1f%% exactly zero", len(grads_np), np.abs(grads_np).mean(),
             100 * np.mean(grads_np == 0))
    return grads_np


def occlusion_sweep(
    data_path: str | Path,
    model_path: str | Path,
    grads_path: str | Path,
    *,
    variant: str,
    seed: int,
    attribution_methods: list[str],
    replacement_types: list[str],
    roar: list[int],
    occlude_levels: list[int],
    test_batch_size: int,
    threads: int = 1,
    device: str = "auto",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accuracy and loss of occluded test sets, for every method, replacement, order and k.

    Returns
    -------
    curves
        One row per (method, replacement, order, k), ``k=0`` included as the clean point:
        columns ``variant, seed, method, replacement, order, k, fraction, accuracy, loss, n``.
    signs
        Occluded-pixel counts by sign of input and of gradient, per (method, order, k):
        columns ``variant, seed, method, order, k, input_sign, grad_positive,
        grad_negative, grad_zero``.
    """
    seed_everything(seed, threads)
    device = pick_device(device)
    model = load_model(model_path, device).to(memory_format=torch.channels_last)  # forward passes only
    x, y = load_split(data_path, "test", model.num_classes)
    cache = load_arrays(grads_path, required=("grads", "labels"))
    if len(cache["labels"]) != len(y) or not np.array_equal(cache["labels"], y.numpy()):
        raise ValueError(f"{grads_path}: gradients were computed for another test set; re-run compute_gradients")
    g = torch.from_numpy(cache["grads"]).unsqueeze(1)  # (N, 1, 28, 28)
    levels = sorted({0, *occlude_levels})
    generator = torch.Generator().manual_seed(seed)
    rows, sign_rows = [], []
    jobs = [(m, o) for m in attribution_methods for o in roar]
    for method, order in progress(jobs, desc=f"{variant} seed {seed} occlusion"):
        ranks = feature_ranks(rank_scores(method, x, g, generator), order)  # (N, 784)
        for k in levels:
            if k == 0:
                continue
            counts = sign_counts(x, g, ranks < k)
            for i, sign in enumerate(SIGNS):
                sign_rows.append({"variant": variant, "seed": seed, "method": method, "order": order, "k": k,
                                  "input_sign": sign, **{f"grad_{s}": int(counts[i, j]) for j, s in enumerate(SIGNS)}})
        for replacement in replacement_types:
            values = replacement_values(x, replacement)
            for k in levels:
                occluded = occlude(x, ranks, k, values).to(device)
                acc, loss = _evaluate(model, occluded, y.to(device), test_batch_size)
                rows.append({"variant": variant, "seed": seed, "method": method, "replacement": replacement,
                             "order": order, "k": k, "fraction": k / N_PIXELS, "accuracy": acc, "loss": loss,
                             "n": len(y)})
    return pd.DataFrame(rows), pd.DataFrame(sign_rows)

