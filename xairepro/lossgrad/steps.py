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

from xairepro.common.controls import randomised_copy
from xairepro.common.io import load_arrays, save_arrays
from xairepro.common.logs import progress
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.lossgrad.data import black_pixel, load_excerpts, load_split
from xairepro.lossgrad.explain import NetLossGradient, SVDLossGradient
from xairepro.lossgrad.models import bce_per_excerpt, fast_layout, predict
from xairepro.lossgrad.occlusion import feature_ranks, occlude, rank_scores, replacement_values
from xairepro.lossgrad.train import evaluate_items, load_model, load_svd_model, predict_frames
from xairepro.metrics.detection import detection_metrics, median_smooth, tune_threshold
from xairepro.metrics.occlusion import SIGNS, sign_counts

log = logging.getLogger(__name__)

N_PIXELS = 28 * 28
# The rankings the singing-voice claims also compute from the randomised network's gradient.
CONTROL_METHODS = ("abs_grad", "grad_inp")


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
    replacement_value: float = 0.0,
    threads: int = 1,
    device: str = "auto",
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    """Accuracy and loss of occluded test sets, for every method, replacement, order and k.

    Rankings and replacements are :mod:`xairepro.lossgrad.occlusion`'s; ``dataset_min``
    writes the normalised black pixel (:func:`~xairepro.lossgrad.data.black_pixel`),
    ``custom`` writes ``replacement_value``.

    Returns
    -------
    curves
        One row per (method, replacement, order, k), ``k=0`` included as the clean point:
        columns ``variant, seed, method, replacement, order, k, fraction, accuracy, loss, n``.
    signs
        Occluded-pixel counts by sign of input and of gradient, per (method, order, k):
        columns ``variant, seed, method, order, k, input_sign, grad_positive,
        grad_negative, grad_zero``.
    items
        The per-image values the claims' statistics resample: ``conditions`` ``(C,)``
        (``method|replacement|order|k``, one per row of ``curves``), ``loss`` ``(C, N)`` and
        ``correct`` ``(C, N)`` of every test image under each condition, ``labels`` ``(N,)``,
        and the negative control of the accuracy claims: ``control_loss`` / ``control_correct``
        ``(N,)`` of the clean images under the model with every layer re-initialised
        (:func:`~xairepro.common.controls.randomised_copy`, seeded by ``seed``).
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
    dataset_min = black_pixel(data_path)
    generator = torch.Generator().manual_seed(seed)
    rows, sign_rows = [], []
    conditions, item_loss, item_correct = [], [], []
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
            values = replacement_values(x, replacement, dataset_min=dataset_min, replacement_value=replacement_value)
            for k in levels:
                occluded = occlude(x, ranks, k, values).to(device)
                correct, loss = evaluate_items(model, occluded, y.to(device), test_batch_size)  # (N,), (N,)
                rows.append({"variant": variant, "seed": seed, "method": method, "replacement": replacement,
                             "order": order, "k": k, "fraction": k / N_PIXELS,
                             "accuracy": float(correct.double().mean()), "loss": float(loss.double().mean()),
                             "n": len(y)})
                conditions.append(f"{method}|{replacement}|{order}|{k}")
                item_loss.append(loss.numpy())
                item_correct.append(correct.numpy())
    control = randomised_copy(load_model(model_path, device), seed=seed)
    control_correct, control_loss = evaluate_items(control, x.to(device), y.to(device), test_batch_size)
    items = {"conditions": np.array(conditions), "loss": np.stack(item_loss), "correct": np.stack(item_correct),
             "labels": y.numpy(), "control_loss": control_loss.numpy(), "control_correct": control_correct.numpy()}
    return pd.DataFrame(rows), pd.DataFrame(sign_rows), items


# --------------------------------------------------------------------------- singing voice
def evaluate_svd(
    spect_path: str | Path,
    znorm_path: str | Path,
    model_path: str | Path,
    predictions_path: str | Path,
    *,
    median_filter: int,
    test_batch_size: int,
    seed: int = 0,
    frame_step: int = 1,
    threads: int = 1,
    device: str = "auto",
) -> pd.DataFrame:
    """Test metrics with the threshold tuned on validation; one row, also the clean reference.

    Writes the raw and smoothed test predictions and the threshold to ``predictions_path``,
    and the negative control of the detection claim: the model with every layer
    re-initialised (:func:`~xairepro.common.controls.randomised_copy`, seeded by ``seed``),
    its threshold tuned on validation as well. The control predicts every ``frame_step``-th
    frame (the frames the claims resample), median-filtered over
    ``round(median_filter / frame_step)`` of them: ``control_{valid,test}_{smooth,frames}``,
    ``control_threshold``.
    """
    seed_everything(0, threads)
    device = pick_device(device)
    model = load_svd_model(model_path, device)
    control = randomised_copy(model, seed=seed).to(memory_format=torch.channels_last)
    model = model.to(memory_format=torch.channels_last)  # forward passes only
    rows = {}
    arrays = {}
    for split in ("valid", "test"):
        excerpts, labels = load_excerpts(spect_path, znorm_path, split)
        raw = predict_frames(model, excerpts, test_batch_size, device)
        arrays[f"{split}_raw"], arrays[f"{split}_labels"] = raw, labels
        arrays[f"{split}_smooth"] = median_smooth(raw, excerpts.offsets, median_filter)
        arrays[f"{split}_offsets"] = excerpts.offsets
        subset, frames = excerpts.every(frame_step)
        arrays[f"control_{split}_frames"] = frames
        arrays[f"control_{split}_smooth"] = median_smooth(predict_frames(control, subset, test_batch_size, device),
                                                          subset.offsets, max(1, round(median_filter / frame_step)))
    threshold = tune_threshold(arrays["valid_smooth"], arrays["valid_labels"])
    control_threshold = tune_threshold(arrays["control_valid_smooth"], arrays["valid_labels"][arrays["control_valid_frames"]])
    for split in ("valid", "test"):
        rows[split] = detection_metrics(arrays[f"{split}_smooth"], arrays[f"{split}_labels"], threshold)
    save_arrays(predictions_path, threshold=np.array(threshold), control_threshold=np.array(control_threshold),
                **arrays)
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
    seed: int = 0,
    threads: int = 1,
    device: str = "auto",
) -> np.ndarray:
    """The gradient cache: loss gradients of the test excerpts the occlusion evaluates.

    Those are every ``frame_step``-th frame of each test file (all frames at paper scale).
    Stores ``grads`` ``(M, blocklen, 80)``, their ``frames`` ``(M,)`` (indices into the
    test frames), ``labels`` ``(M,)`` and the seconds the batched pass took; and
    ``control_grads`` ``(M, blocklen, 80)``, the loss gradients of the same excerpts under
    the model with every layer re-initialised (:func:`~xairepro.common.controls.randomised_copy`,
    seeded by ``seed``): the rankings of the occlusion claims' negative control.
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
    control_grads = SVDLossGradient(randomised_copy(model, seed=seed), device).attribute(
        excerpts, target=labels, internal_batch_size=gradient_batch_size)
    save_arrays(out_path, grads=grads, frames=frames, labels=labels, seconds=np.array(seconds),
                control_grads=control_grads)
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
    replacement_value: float = 0.0,
    lossgradient: int | None = None,
    threads: int = 1,
    device: str = "auto",
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Test metrics after occluding k bins of every excerpt, per method, replacement, order.

    Rankings and replacements are :mod:`xairepro.lossgrad.occlusion`'s; ``dataset_min``
    writes 0 as the original's ``ROAR_predict.py`` (it passes no data set minimum, so the
    constructor's default 0 applies), ``custom`` writes ``replacement_value``, both into the
    z-normalised excerpt.

    Each test frame's excerpt is occluded on its own ranking (its own loss gradient), the
    network predicts its centre frame, predictions are median-filtered per file and
    thresholded with the *clean* validation threshold. ``k=0`` is always included and
    reproduces the clean predictions. With ``frame_step > 1`` (demo) only every
    ``frame_step``-th test frame is evaluated and the median filter spans
    ``round(median_filter / frame_step)`` of them, the same stretch of time.

    The rankings come from ``grads_path``, whichever network computed them: the evaluated
    model's own loss gradient (the original's run-all script) or another model's of the same
    architecture (its ``--lossgradient``, our ``svd.lossgradient``); ``lossgradient`` only
    labels the table (the seed of the gradient's model; ``None``: ``seed``).

    Returns
    -------
    table
        One row per (method, replacement, order, k), with ``seed`` and ``lossgradient``
        (the gradient model's seed): ``auroc, precision, recall,
        specificity, f1, error, loss`` (mean BCE of the raw predictions against hard labels).
    items
        The per-excerpt values the claims' statistics resample: ``conditions`` ``(C,)``
        (``method|replacement|order|k``), ``loss`` ``(C, M)`` (BCE of each excerpt's raw
        prediction), ``error`` ``(C, M)`` (its smoothed prediction misclassified at the
        clean threshold) and ``margin`` ``(C, M)`` (the smoothed prediction minus the
        threshold, signed so that positive is on the correct side), ``labels`` ``(M,)``, ``offsets`` ``(files + 1,)``. Conditions
        named ``<method>@randomised`` (the :data:`CONTROL_METHODS`, ROAR=1, every
        replacement and level) rank by the
        loss gradient of the randomised model (``control_grads`` of the cache) and are
        evaluated on the trained model: the negative control of the occlusion claims.
    """
    seed_everything(seed, threads)
    device = pick_device(device)
    model = load_svd_model(model_path, device)
    excerpts, labels = load_excerpts(spect_path, znorm_path, "test")
    excerpts, frames = excerpts.every(frame_step)
    labels = labels[frames]
    cache = load_arrays(grads_path, required=("grads", "frames", "labels", "control_grads"))
    if not np.array_equal(cache["frames"], frames) or not np.array_equal(cache["labels"], labels):
        raise ValueError(f"{grads_path}: gradients were computed for other test frames; re-run the gradient rule")
    clean = load_arrays(predictions_path, required=("threshold", "test_raw"))
    threshold = float(clean["threshold"])
    clean_raw = clean["test_raw"][frames]
    filter_size = max(1, round(median_filter / frame_step))
    model = model.to(memory_format=torch.channels_last)  # forward passes only
    sources = {"": torch.from_numpy(cache["grads"]), "@randomised": torch.from_numpy(cache["control_grads"])}
    # (name, method, gradient source, orders): the sweep, then its randomised-model control
    rankings = [(m, m, "", roar) for m in attribution_methods]
    rankings += [(f"{m}@randomised", m, "@randomised", [1]) for m in CONTROL_METHODS if m in attribution_methods and 1 in roar]
    levels = sorted({0, *occlude_levels})
    conditions = [(name, r, o) for name, _, _, orders in rankings for r in replacement_types for o in orders]
    raw = {(name, r, o, k): np.empty(len(excerpts)) for name, r, o in conditions for k in levels}
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for index, x in progress(excerpts.batches(test_batch_size), desc="occlusion",
                                 total=-(-len(excerpts) // test_batch_size)):
            for name, method, source, orders in rankings:
                g = sources[source][index].unsqueeze(1)  # (B, 1, blocklen, 80)
                scores = rank_scores(method, x, g, generator)  # (B, blocklen * 80)
                for order in orders:
                    ranks = feature_ranks(scores, order)
                    for replacement in replacement_types:
                        values = replacement_values(x, replacement, replacement_value=replacement_value)
                        for k in levels:
                            batch = fast_layout(occlude(x, ranks, k, values).to(device))
                            raw[(name, replacement, order, k)][index.numpy()] = model(batch).double().cpu().numpy()
    y = torch.from_numpy(labels).double()
    rows, names, item_loss, item_error, item_margin = [], [], [], [], []
    sign = np.where(labels > 0.5, 1.0, -1.0)  # (M,): +1 sung, -1 not
    n_bins = excerpts.blocklen * excerpts.frames.shape[1]
    for (method, replacement, order, k), pred in raw.items():
        smooth = median_smooth(pred, excerpts.offsets, filter_size)
        loss = bce_per_excerpt(torch.from_numpy(pred).clamp(1e-7, 1 - 1e-7), y).numpy()  # (M,)
        names.append(f"{method}|{replacement}|{order}|{k}")
        item_loss.append(loss.astype(np.float32))
        item_error.append((smooth > threshold) != (labels > 0.5))
        item_margin.append((sign * (smooth - threshold)).astype(np.float32))
        if method.endswith("@randomised"):
            continue
        metrics = detection_metrics(smooth, labels, threshold)
        rows.append({"seed": seed, "lossgradient": seed if lossgradient is None else lossgradient,
                     "method": method, "replacement": replacement, "order": order, "k": k,
                     "fraction": k / n_bins, **metrics, "loss": float(loss.mean()),
                     "median_filter": filter_size, "max_abs_diff_clean": float(np.abs(pred - clean_raw).max())})
    table = pd.DataFrame(rows).sort_values(["method", "replacement", "order", "k"], ignore_index=True)
    items = {"conditions": np.array(names), "loss": np.stack(item_loss), "error": np.stack(item_error),
             "margin": np.stack(item_margin), "labels": labels, "offsets": excerpts.offsets}
    log.info("%d occlusion conditions evaluated on %d test frames", len(table), len(excerpts))
    return table, items
