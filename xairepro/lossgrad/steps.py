"""The attribution and evaluation steps of the ``lossgrad`` study, one function per workflow
rule (training is :mod:`xairepro.lossgrad.train`, tables :mod:`xairepro.lossgrad.tables`).

MNIST:

* :func:`compute_gradients` writes the loss gradient dL/dx of every test image, in batches:
  the declared gradient cache.
* :func:`occlusion_sweep` ranks pixels by each attribution method, occludes the top
  (``ROAR=1``) or bottom (``ROAR=0``) k with each replacement value and measures test
  accuracy and loss; it also counts the signs of input and gradient over occluded pixels.

Singing voice:

* :func:`evaluate_svd` predicts every validation and test frame, median-filters the
  predictions over 56 frames per file, tunes the threshold on validation and reports test
  AUROC / precision / recall / specificity / F1 / error.
* :func:`compute_svd_gradients` writes the loss gradient of every test excerpt, batched:
  the declared gradient cache.
* :func:`svd_occlusion` occludes the top (``ROAR=1``) or bottom (``ROAR=0``) k bins of
  every test excerpt by each ranking and replacement and re-evaluates.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from xairepro.attribution.occlusion import feature_ranks, occlude, rank_scores, replacement_values
from xairepro.common.io import load_arrays, save_arrays
from xairepro.common.logs import progress
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.lossgrad.data import load_excerpts, load_split
from xairepro.lossgrad.explain import NetLossGradient, SVDLossGradient
from xairepro.lossgrad.models import bce_per_excerpt, fast_layout, predict
from xairepro.lossgrad.train import _evaluate, load_model, load_svd_model, predict_frames
from xairepro.metrics.detection import detection_metrics, median_smooth, tune_threshold
from xairepro.metrics.occlusion import SIGNS, sign_counts

log = logging.getLogger(__name__)

N_PIXELS = 28 * 28


# --------------------------------------------------------------------------- MNIST
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
    seed_everything(0, threads)
    device = pick_device(device)
    model = load_model(model_path, device)
    x, y = load_split(data_path, "test", model.num_classes)
    x, y = x.to(device), y.to(device)
    explainer = NetLossGradient(model)
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


# --------------------------------------------------------------------------- singing voice
def evaluate_svd(
    spect_path: str | Path,
    znorm_path: str | Path,
    model_path: str | Path,
    predictions_path: str | Path,
    *,
    median_filter: int,
    test_batch_size: int,
    threads: int = 1,
    device: str = "auto",
) -> pd.DataFrame:
    """Test metrics with the threshold tuned on validation; one row, also the clean reference.

    Writes the raw and smoothed test predictions and the threshold to ``predictions_path``.
    """
    seed_everything(0, threads)
    device = pick_device(device)
    model = load_svd_model(model_path, device).to(memory_format=torch.channels_last)  # forward passes only
    rows = {}
    arrays = {}
    for split in ("valid", "test"):
        excerpts, labels = load_excerpts(spect_path, znorm_path, split)
        raw = predict_frames(model, excerpts, test_batch_size, device)
        arrays[f"{split}_raw"], arrays[f"{split}_labels"] = raw, labels
        arrays[f"{split}_smooth"] = median_smooth(raw, excerpts.offsets, median_filter)
        arrays[f"{split}_offsets"] = excerpts.offsets
    threshold = tune_threshold(arrays["valid_smooth"], arrays["valid_labels"])
    for split in ("valid", "test"):
        rows[split] = detection_metrics(arrays[f"{split}_smooth"], arrays[f"{split}_labels"], threshold)
    save_arrays(predictions_path, threshold=np.array(threshold), **arrays)
    table = pd.DataFrame([{"split": s, "median_filter": median_filter, **m} for s, m in rows.items()])
    log.info("threshold %.3f; test AUROC %.3f error %.3f", threshold, rows["test"]["auroc"], rows["test"]["error"])
    return table


def compute_svd_gradients(
    spect_path: str | Path,
    znorm_path: str | Path,
    model_path: str | Path,
    out_path: str | Path,
    *,
    gradient_batch_size: int,
    frame_step: int = 1,
    threads: int = 1,
    device: str = "auto",
) -> np.ndarray:
    """The gradient cache: loss gradients of the test excerpts the occlusion evaluates.

    Those are every ``frame_step``-th frame of each test file (all frames at paper scale).
    Stores ``grads`` ``(M, blocklen, 80)``, their ``frames`` ``(M,)`` (indices into the
    test frames), ``labels`` ``(M,)`` and the seconds the batched pass took.
    """
    seed_everything(0, threads)
    device = pick_device(device)
    model = load_svd_model(model_path, device)
    excerpts, labels = load_excerpts(spect_path, znorm_path, "test")
    excerpts, frames = excerpts.every(frame_step)
    labels = labels[frames]
    start = time.perf_counter()
    explainer = SVDLossGradient(model, device)
    grads = explainer.attribute(excerpts, target=labels, internal_batch_size=gradient_batch_size)
    seconds = time.perf_counter() - start
    save_arrays(out_path, grads=grads, frames=frames, labels=labels, seconds=np.array(seconds))
    log.info("%d gradients in %.1f s (%.0f excerpts/s), mean |g| %.3g", len(grads), seconds,
             len(grads) / seconds, np.abs(grads).mean())
    return grads


def svd_occlusion(
    spect_path: str | Path,
    znorm_path: str | Path,
    model_path: str | Path,
    grads_path: str | Path,
    predictions_path: str | Path,
    *,
    seed: int,
    attribution_methods: list[str],
    replacement_types: list[str],
    roar: list[int],
    occlude_levels: list[int],
    median_filter: int,
    test_batch_size: int,
    frame_step: int = 1,
    threads: int = 1,
    device: str = "auto",
) -> pd.DataFrame:
    """Test metrics after occluding k bins of every excerpt, per method, replacement, order.

    Each test frame's excerpt is occluded on its own ranking (its own loss gradient), the
    network predicts its centre frame, predictions are median-filtered per file and
    thresholded with the *clean* validation threshold. ``k=0`` is always included and
    reproduces the clean predictions. With ``frame_step > 1`` (demo) only every
    ``frame_step``-th test frame is evaluated and the median filter spans
    ``round(median_filter / frame_step)`` of them, the same stretch of time.

    Returns one row per (method, replacement, order, k): ``auroc, precision, recall,
    specificity, f1, error, loss`` (mean BCE of the raw predictions against hard labels).
    """
    seed_everything(seed, threads)
    device = pick_device(device)
    model = load_svd_model(model_path, device)
    excerpts, labels = load_excerpts(spect_path, znorm_path, "test")
    excerpts, frames = excerpts.every(frame_step)
    labels = labels[frames]
    cache = load_arrays(grads_path, required=("grads", "frames", "labels"))
    if not np.array_equal(cache["frames"], frames) or not np.array_equal(cache["labels"], labels):
        raise ValueError(f"{grads_path}: gradients were computed for other test frames; re-run the gradient rule")
    clean = load_arrays(predictions_path, required=("threshold", "test_raw"))
    threshold = float(clean["threshold"])
    clean_raw = clean["test_raw"][frames]
    filter_size = max(1, round(median_filter / frame_step))
    model = model.to(memory_format=torch.channels_last)  # forward passes only
    grads = torch.from_numpy(cache["grads"])  # (N, blocklen, 80)
    levels = sorted({0, *occlude_levels})
    conditions = [(m, r, o) for m in attribution_methods for r in replacement_types for o in roar]
    raw = {(m, r, o, k): np.empty(len(excerpts)) for m, r, o in conditions for k in levels}
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for index, x in progress(excerpts.batches(test_batch_size), desc="occlusion",
                                 total=-(-len(excerpts) // test_batch_size)):
            g = grads[index].unsqueeze(1)  # (B, 1, blocklen, 80)
            for method in attribution_methods:
                scores = rank_scores(method, x, g, generator)  # (B, blocklen * 80)
                for order in roar:
                    ranks = feature_ranks(scores, order)
                    for replacement in replacement_types:
                        values = replacement_values(x, replacement)
                        for k in levels:
                            batch = fast_layout(occlude(x, ranks, k, values).to(device))
                            raw[(method, replacement, order, k)][index.numpy()] = model(batch).double().cpu().numpy()
    y = torch.from_numpy(labels).double()
    rows = []
    n_bins = excerpts.blocklen * excerpts.frames.shape[1]
    for (method, replacement, order, k), pred in raw.items():
        smooth = median_smooth(pred, excerpts.offsets, filter_size)
        metrics = detection_metrics(smooth, labels, threshold)
        loss = bce_per_excerpt(torch.from_numpy(pred).clamp(1e-7, 1 - 1e-7), y).mean().item()
        rows.append({"method": method, "replacement": replacement, "order": order, "k": k,
                     "fraction": k / n_bins, **metrics, "loss": loss,
                     "median_filter": filter_size, "max_abs_diff_clean": float(np.abs(pred - clean_raw).max())})
    table = pd.DataFrame(rows).sort_values(["method", "replacement", "order", "k"], ignore_index=True)
    log.info("%d occlusion conditions evaluated on %d test frames", len(table), len(excerpts))
    return table
