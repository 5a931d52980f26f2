"""Timing helpers of the benchmarks (``make bench``, ``make bench-gpu``; issue 10).

:func:`kernel_rows` times attribution kernels (a batched path against a one-sample-at-a-time
reference and the model's own forward + backward), :func:`epoch_seconds` one training
epoch, :func:`best_seconds` any call, and :func:`markdown_table` renders rows. The hooks
that build each study's kernels and paper-shaped epochs are not library code: they live in
``scripts/bench/studies/<study>.py`` (see ``scripts/bench/bench_hooks.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import torch


def best_seconds(fn: Callable[[], Any], repeats: int = 3, device: str = "cpu") -> float:
    """Best wall time of ``repeats`` calls after one warm-up call (the machine is shared:
    the best time is the least disturbed one)."""
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)
    fn()
    sync()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - start)
    return best


def kernel_rows(kernels: Sequence[dict], device: str = "cpu", repeats: int = 3) -> list[dict]:
    """Samples per second of every kernel's batched path, its one-at-a-time reference and
    the model's forward + backward; the speed-up and the ratio to forward + backward."""
    rows = []
    for kernel in kernels:
        n = int(kernel["n"])
        row: dict[str, Any] = {"kernel": kernel["name"], "device": str(device), "n": n}
        for key in ("batched", "reference", "fwd_bwd"):
            fn = kernel.get(key)
            row[f"{key}_samples_per_s"] = n / best_seconds(fn, repeats, device) if fn is not None else float("nan")
        row["speedup_vs_reference"] = row["batched_samples_per_s"] / row["reference_samples_per_s"]
        row["ratio_to_fwd_bwd"] = row["batched_samples_per_s"] / row["fwd_bwd_samples_per_s"]
        rows.append(row)
    return rows


def markdown_table(rows: Sequence[dict], columns: Sequence[str] | None = None, digits: int = 3) -> str:
    """A GitHub markdown table of ``rows`` (floats to ``digits`` significant digits)."""
    if not rows:
        return ""
    columns = list(columns or rows[0].keys())

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "" if value != value else f"{value:.{digits}g}"
        return str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def epoch_seconds(step: Callable[[int], None], batches: int, max_batches: int | None, device: str = "cpu"
                  ) -> tuple[float, int]:
    """Time ``step(i)`` over one epoch of ``batches`` batches (or the first ``max_batches``,
    scaled up to the epoch). Returns (seconds per epoch, batches timed). One warm-up step is
    not counted."""
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)
    timed = batches if max_batches is None else max(1, min(batches, max_batches))
    step(0)
    sync()
    start = time.perf_counter()
    for i in range(timed):
        step(i)
    sync()
    return (time.perf_counter() - start) * batches / timed, timed
