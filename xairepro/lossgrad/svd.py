"""The singing-voice-detection part of ``lossgrad``: train, evaluate, loss gradients, occlusion.

Steps (one workflow rule each):

1. :func:`train_svd` trains :class:`~xairepro.lossgrad.svd_model.SVDNet` on random
   115-frame excerpts with BCE against soft labels ``0.02 + 0.96 y``, SGD with Nesterov
   momentum 0.9 and a learning rate multiplied by 0.85 after every epoch; it checkpoints
   every epoch (resumable) and keeps the weights of the epoch with the lowest validation
   loss.
2. :func:`evaluate_svd` predicts every validation and test frame, median-filters the
   predictions over 56 frames per file, tunes the threshold on validation and reports test
   AUROC / precision / recall / specificity / F1 / error.
3. :func:`compute_svd_gradients` writes the loss gradient of every test excerpt, batched:
   the declared gradient cache.
4. :func:`svd_occlusion` occludes the top (``ROAR=1``) or bottom (``ROAR=0``) k bins of
   every test excerpt by each ranking and replacement and re-evaluates.
"""

from __future__ import annotations

import hashlib
import logging
import time
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
from xairepro.common.training import train_epochs
from xairepro.lossgrad.svd_features import ExcerptSet, load_excerpts
from xairepro.lossgrad.svd_model import SVDNet, bce_per_excerpt, soft_targets
from xairepro.metrics.detection import detection_metrics, median_smooth, tune_threshold

log = logging.getLogger(__name__)


def _digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def fast_layout(t: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` in channels_last layout: several times faster small convolutions on the CPU (oneDNN).

    Used for training and forward-only passes; never for input gradients (torch 2.11 on the
    CPU returns a wrong input gradient for a single channels_last image, see
    :func:`xairepro.lossgrad.mnist._fast_layout`).
    """
    return t.contiguous(memory_format=torch.channels_last)


def load_svd_model(path: str | Path, device: str = "cpu") -> SVDNet:
    """Rebuild a trained :class:`SVDNet` from the file :func:`train_svd` wrote (eval mode)."""
    state = load_torch(path, map_location=device)
    model = SVDNet(blocklen=int(state["blocklen"]), mel_bands=int(state["mel_bands"]), **state["arch"])
    model.load_state_dict(state["state_dict"])
    return model.to(device).eval()


def predict_frames(model: SVDNet, excerpts: ExcerptSet, batch_size: int, device: str = "cpu") -> np.ndarray:
    """Sung probability of every frame, ``(sum T,)`` float64, in batches, without gradients."""
    model.eval()
    out = []
    with torch.no_grad():
        for _, x in excerpts.batches(batch_size):
            out.append(model(fast_layout(x.to(device))).cpu())
    return torch.cat(out).double().numpy()


def train_svd(
    spect_path: str | Path,
    znorm_path: str | Path,
    model_path: str | Path,
    metrics_path: str | Path,
    checkpoint_path: str | Path,
    *,
    seed: int,
    epochs: int,
    batches_per_epoch: int,
    batch_size: int,
    lr: float,
    lr_decay: float,
    momentum: float,
    arch: dict[str, int],
    test_batch_size: int,
    threads: int = 1,
    device: str = "auto",
) -> dict[str, Any]:
    """Train one SVDNet; write its best-validation weights and the training record.

    Each epoch draws ``batches_per_epoch`` batches of ``batch_size`` excerpts centred on
    random training frames (the original: 20 x 2000 x 32).
    """
    seed_everything(seed, threads)
    device = pick_device(device)
    train, train_y = load_excerpts(spect_path, znorm_path, "train")
    valid, valid_y = load_excerpts(spect_path, znorm_path, "valid")
    train_targets = soft_targets(torch.from_numpy(train_y))
    valid_hard = torch.from_numpy(valid_y)
    log.info("%d training / %d validation frames on %s", len(train), len(valid), device)

    model = SVDNet(blocklen=train.blocklen, mel_bands=train.frames.shape[1], **arch).to(device)
    model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, nesterov=True)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=lr_decay)
    generator = torch.Generator().manual_seed(seed)

    def run_epoch(epoch: int) -> dict[str, float]:
        model.train()
        total = 0.0
        for _ in range(batches_per_epoch):
            idx = torch.randint(len(train), (batch_size,), generator=generator)
            optimizer.zero_grad()
            loss = bce_per_excerpt(model(fast_layout(train.get(idx).to(device))), train_targets[idx].to(device)).mean()
            loss.backward()
            optimizer.step()
            total += loss.item()
        prob = torch.from_numpy(predict_frames(model, valid, test_batch_size, device))
        valid_loss = bce_per_excerpt(prob.clamp(1e-7, 1 - 1e-7), valid_hard.double()).mean().item()
        valid_error = ((prob > 0.5).double() != valid_hard.double()).double().mean().item()
        return {"train_loss": total / batches_per_epoch, "valid_loss": valid_loss, "valid_error": valid_error}

    params = dict(seed=seed, epochs=epochs, batches_per_epoch=batches_per_epoch, batch_size=batch_size, lr=lr,
                  lr_decay=lr_decay, momentum=momentum, arch=arch, data=_digest(spect_path))
    result = train_epochs(model=model, optimizer=optimizer, scheduler=scheduler, epochs=epochs, run_epoch=run_epoch,
                          checkpoint_path=checkpoint_path, fingerprint=config_hash(params), generator=generator,
                          select_metric="valid_loss", select_mode="min")
    model.load_state_dict(result.best_state)
    save_torch(model_path, {
        "state_dict": {k: v.cpu().contiguous() for k, v in model.state_dict().items()},
        "arch": dict(arch), "blocklen": train.blocklen, "mel_bands": int(train.frames.shape[1]),
    })
    record = {"seed": seed, "best_epoch": result.best_epoch, "resumed_from_epoch": result.resumed_from,
              "history": result.history, "params": params}
    write_json(metrics_path, record)
    Path(checkpoint_path).unlink(missing_ok=True)
    log.info("kept epoch %d (valid loss %.4f)", result.best_epoch, result.history[result.best_epoch - 1]["valid_loss"])
    return record


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


def gradient_loss(prob: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The loss the gradients are taken of: BCE against the *hard* true label, ``(N,)``.

    The original passes the 0/1 frame labels to ``BCELoss`` for the gradient (training uses
    soft labels); with soft labels a prediction beyond 0.98 would flip the gradient's sign.
    """
    return bce_per_excerpt(prob, labels)


def svd_gradients(model: SVDNet, excerpts: ExcerptSet, labels: np.ndarray, batch_size: int,
                  device: str = "cpu") -> np.ndarray:
    """Loss gradients of every excerpt, ``(N, blocklen, 80)`` float32, ``batch_size`` at a time.

    Batches are cut from the excerpt set (memory stays at one batch of excerpts); within a
    batch one forward and one backward pass give every excerpt its own gradient.
    """
    from xairepro.attribution.loss_gradient import LossGradient  # captum: imported only here

    explainer = LossGradient(model, gradient_loss)
    y = torch.from_numpy(np.asarray(labels, dtype=np.float32))
    out = np.empty((len(excerpts), excerpts.blocklen, excerpts.frames.shape[1]), dtype=np.float32)
    for index, x in progress(excerpts.batches(batch_size), desc="loss gradients",
                             total=-(-len(excerpts) // batch_size)):
        g = explainer.attribute(x.to(device), target=y[index].to(device))  # (B, 1, blocklen, 80)
        out[index.numpy()] = g.squeeze(1).cpu().numpy()
    return out


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
    grads = svd_gradients(model, excerpts, labels, gradient_batch_size, device)
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


def benchmark_gradients(model: SVDNet, excerpts: ExcerptSet, labels: np.ndarray, batch_size: int,
                        n_excerpts: int, repeats: int = 3) -> dict[str, float]:
    """Excerpts per second of the batched loss gradient and of a batch-size-1 loop, same model.

    Both paths differentiate the first ``n_excerpts`` test excerpts with
    :func:`svd_gradients` (the gradient rule's code); each is warmed up once, then timed
    ``repeats`` times, alternating, and its best time kept (the machine is shared). Also
    returns the largest absolute difference between the two results.
    """
    n = min(n_excerpts, len(excerpts))
    subset = excerpts.head(n)
    sizes = {"batched": batch_size, "batch1": 1}
    best = {name: float("inf") for name in sizes}
    results = {}
    for name, size in sizes.items():
        svd_gradients(model, excerpts.head(min(n, 2 * size)), labels[:n], size)  # warm-up
    for _ in range(repeats):
        for name, size in sizes.items():
            start = time.perf_counter()
            results[name] = svd_gradients(model, subset, labels[:n], size)
            best[name] = min(best[name], time.perf_counter() - start)
    rates = {name: n / seconds for name, seconds in best.items()}
    return {"n_excerpts": n, "batch_size": batch_size, "batched_excerpts_per_s": rates["batched"],
            "batch1_excerpts_per_s": rates["batch1"], "speedup": rates["batched"] / rates["batch1"],
            "max_abs_diff": float(np.abs(results["batched"] - results["batch1"]).max())}
