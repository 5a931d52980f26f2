"""The benchmark hooks run and the runner's arithmetic is right (speed is not tested here)."""

import math

import pytest

from xairepro.common.bench import epoch_seconds, kernel_rows, markdown_table


def test_kernel_rows_compute_rates_and_ratios():
    calls = []
    kernel = {"name": "toy", "n": 10, "batched": lambda: calls.append("b"), "reference": None,
              "fwd_bwd": lambda: calls.append("f")}
    (row,) = kernel_rows([kernel], repeats=2)
    assert calls.count("b") == 3 and calls.count("f") == 3  # warm-up + repeats
    assert row["batched_samples_per_s"] > 0 and math.isnan(row["reference_samples_per_s"])
    assert row["ratio_to_fwd_bwd"] == pytest.approx(row["batched_samples_per_s"] / row["fwd_bwd_samples_per_s"])


def test_epoch_seconds_scales_a_partial_epoch():
    steps = []
    seconds, timed = epoch_seconds(steps.append, batches=100, max_batches=4)
    assert timed == 4 and len(steps) == 5 and seconds >= 0


def test_markdown_table_renders_rows():
    text = markdown_table([{"a": 1, "b": 0.123456}, {"a": 2, "b": float("nan")}])
    assert text.splitlines()[0] == "| a | b |" and "0.123" in text and text.splitlines()[-1] == "| 2 |  |"


@pytest.mark.parametrize("study", ["lossgrad", "labelfree"])
def test_study_hooks_run_on_the_cpu(study):
    import importlib

    bench = importlib.import_module(f"xairepro.{study}.bench")
    kernels = bench.kernels("cpu", n=8)
    assert kernels and all(k["n"] > 0 and callable(k["batched"]) for k in kernels)
    for k in kernels:
        k["batched"]()
        k["reference"]()
    rows = bench.paper_epoch("cpu", max_batches=1)
    assert rows and all(r["seconds"] > 0 and r["batches"] >= 1 for r in rows)
