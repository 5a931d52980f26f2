"""One training loop for every study: epochs, a checkpoint after each, resume after a kill.

The loop owns everything that must survive a preemption (model, optimiser, scheduler, the
global torch RNG that drives dropout, the shuffling generator, the metric history and the
best-so-far weights) and writes it atomically after every epoch. A re-run with the same
fingerprint continues after the last finished epoch and, on the CPU, ends with exactly the
metrics of an uninterrupted run. A checkpoint written under other hyper-parameters is
ignored with a warning instead of being silently resumed.
"""

from __future__ import annotations

import copy
import logging
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from xairepro.common.io import load_torch, save_torch, write_json
from xairepro.common.provenance import config_hash

log = logging.getLogger(__name__)

#: Test hook: SIGKILL this process right after the checkpoint of this (1-based) epoch.
FAULT_ENV = "XAIREPRO_FAULT_AFTER_EPOCH"


@dataclass
class TrainResult:
    """What :func:`train_epochs` returns."""

    history: list[dict[str, float]]
    best_epoch: int | None = None
    best_state: dict[str, torch.Tensor] | None = None
    resumed_from: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


#: Batches after which every epoch of :func:`minibatches` ends; None (a real run) for all.
#: Set only by the paper-scale smoke run (config key ``smoke``, :func:`set_batch_cap`).
_BATCH_CAP: int | None = None
_CAP_LOGGED: list[bool] = []


def set_batch_cap(max_batches: int | None) -> None:
    """End every epoch of :func:`minibatches` after ``max_batches`` batches (None: never)."""
    global _BATCH_CAP
    if max_batches is not None and max_batches < 1:
        raise ValueError(f"max_batches must be at least 1, got {max_batches}")
    _BATCH_CAP = max_batches


def capped(n_batches: int) -> int:
    """``n_batches``, or the smoke run's cap when that is smaller: for loops that draw their
    own batches instead of going through :func:`minibatches`."""
    if _BATCH_CAP is None or n_batches <= _BATCH_CAP:
        return n_batches
    _log_cap(n_batches)
    return _BATCH_CAP


def _log_cap(n_batches: int) -> None:
    if not _CAP_LOGGED:
        _CAP_LOGGED.append(True)  # once per process, into the rule's log
        log.warning("smoke run: every epoch stops after %d batches (this one has %d)", _BATCH_CAP, n_batches)


def minibatches(n: int, batch_size: int, generator: torch.Generator, shuffle: bool = True) -> Iterator[torch.Tensor]:
    """Index batches over ``range(n)``, reshuffled from ``generator`` on every call (the
    order is drawn in full even when a smoke cap stops the epoch early)."""
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    batches = order.split(batch_size)
    if _BATCH_CAP is not None and len(batches) > _BATCH_CAP:
        _log_cap(len(batches))
        batches = batches[:_BATCH_CAP]
    yield from batches


def train_epochs(
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    run_epoch: Callable[[int], dict[str, float]],
    checkpoint_path: str | Path,
    fingerprint: str,
    scheduler: Any | None = None,
    generator: torch.Generator | None = None,
    select_metric: str | None = None,
    select_mode: str = "max",
    on_checkpoint: Callable[[], None] | None = None,
) -> TrainResult:
    """Train for ``epochs`` epochs, checkpointing after each; resume if a checkpoint exists.

    Parameters
    ----------
    run_epoch
        ``run_epoch(epoch) -> metrics``: trains one epoch (0-based) and returns its metrics,
        e.g. ``{"train_loss": 0.12, "valid_acc": 0.98}``.
    checkpoint_path
        Where the resumable state lives. Not a declared workflow output: Snakemake would
        delete it with a failed job, which is exactly when it is needed.
    fingerprint
        A hash of everything that defines the run (hyper-parameters, data, seed).
    scheduler
        Stepped once after every epoch (e.g. ``StepLR``).
    generator
        The RNG that shuffles batches; its state is checkpointed too.
    select_metric, select_mode
        Keep the weights of the epoch with the best value of this metric.
    on_checkpoint
        Called right after each checkpoint is written, to save state of the caller's own
        (e.g. TracIn snapshots) under the same guarantee.
    """
    checkpoint_path = Path(checkpoint_path)
    history: list[dict[str, float]] = []
    best_value: float | None = None
    best_epoch: int | None = None
    best_state: dict[str, torch.Tensor] | None = None
    start = 0
    if checkpoint_path.exists():
        state = load_torch(checkpoint_path)
        if state.get("fingerprint") != fingerprint:
            log.warning("%s was written for other settings; starting from scratch", checkpoint_path)
        else:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            if scheduler is not None:
                scheduler.load_state_dict(state["scheduler"])
            torch.set_rng_state(state["torch_rng"])
            if generator is not None:
                generator.set_state(state["generator_rng"])
            history = list(state["history"])
            best_value, best_epoch = state["best_value"], state["best_epoch"]
            best_state = state["best_state"]
            start = int(state["epoch"])
            log.info("resuming from %s after epoch %d of %d", checkpoint_path, start, epochs)
    fault_after = int(os.environ.get(FAULT_ENV, "0") or 0)

    for epoch in range(start, epochs):
        metrics = {k: float(v) for k, v in run_epoch(epoch).items()}
        if scheduler is not None:
            scheduler.step()
        history.append({"epoch": epoch + 1, **metrics})
        log.info("epoch %d/%d %s", epoch + 1, epochs, " ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
        if select_metric is not None:
            value = metrics[select_metric]
            better = best_value is None or (value > best_value if select_mode == "max" else value < best_value)
            if better:
                best_value, best_epoch = value, epoch + 1
                best_state = copy.deepcopy(model.state_dict())
        save_torch(
            checkpoint_path,
            {
                "fingerprint": fingerprint,
                "epoch": epoch + 1,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else {},
                "torch_rng": torch.get_rng_state(),
                "generator_rng": generator.get_state() if generator is not None else torch.empty(0),
                "history": history,
                "best_value": best_value,
                "best_epoch": best_epoch,
                "best_state": best_state,
            },
        )
        if on_checkpoint is not None:
            on_checkpoint()
        if fault_after and epoch + 1 == fault_after:
            log.error("%s=%d: killing this process after the checkpoint (test hook)", FAULT_ENV, fault_after)
            logging.shutdown()
            os.kill(os.getpid(), signal.SIGKILL)
    return TrainResult(history=history, best_epoch=best_epoch, best_state=best_state, resumed_from=start)


def file_fingerprint(path: str | Path) -> str:
    """A short content hash of an input file, to tie a checkpoint to the data it was trained on."""
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def fit_and_save(
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    run_epoch: Callable[[int], dict[str, float]],
    epochs: int,
    params: dict[str, Any],
    data_path: str | Path,
    checkpoint_path: str | Path,
    model_path: str | Path,
    metrics_path: str | Path,
    model_meta: dict[str, Any] | None = None,
    summary: Callable[[TrainResult], dict[str, Any]] | None = None,
    **train_kwargs: Any,
) -> tuple[TrainResult, dict[str, Any]]:
    """:func:`train_epochs`, then the usual ending: weights, a JSON record, no checkpoint.

    Parameters
    ----------
    params
        The run's hyper-parameters; with the data file's fingerprint they form the
        checkpoint fingerprint and are stored in the record.
    model_meta
        Stored beside the weights (e.g. ``latent_dim``) so the model can be rebuilt.
    summary
        ``summary(result) -> dict`` of headline numbers for the record.
    **train_kwargs
        Passed to :func:`train_epochs` (``scheduler``, ``generator``, ``select_metric``, ...).
        With ``select_metric``, the best epoch's weights are saved.
    """
    params = dict(params, data=file_fingerprint(data_path))
    result = train_epochs(model=model, optimizer=optimizer, epochs=epochs, run_epoch=run_epoch,
                          checkpoint_path=checkpoint_path, fingerprint=config_hash(params), **train_kwargs)
    state = result.best_state if train_kwargs.get("select_metric") else model.state_dict()
    save_torch(model_path, {"state_dict": {k: v.detach().cpu() for k, v in state.items()}, **(model_meta or {})})
    record = {**(summary(result) if summary else {}), "resumed_from_epoch": result.resumed_from,
              "history": result.history, "params": params}
    write_json(metrics_path, record)
    Path(checkpoint_path).unlink(missing_ok=True)
    return result, record
