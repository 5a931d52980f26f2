"""The benchmark hooks run and the runner's arithmetic is right (speed is not tested here).

The timing helpers are library code (xairepro.common.bench); the hooks of each study live in
scripts/bench/studies/<study>.py and are found by path (scripts/bench/bench_hooks.py)."""

import logging
import math
import runpy
import sys
from pathlib import Path

import pytest

from xairepro.common.bench import epoch_seconds, kernel_rows, markdown_table
from xairepro.common.registry import study_names

ROOT = Path(__file__).resolve().parents[2]
HOOKS = runpy.run_path(str(ROOT / "scripts/bench/bench_hooks.py"))


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


def test_every_registered_study_has_hooks_outside_the_library():
    for study in study_names(ROOT):
        assert HOOKS["hook_path"](study) == ROOT / "scripts/bench/studies" / f"{study}.py"
        assert HOOKS["hook_path"](study).is_file(), f"{study} has no scripts/bench/studies/{study}.py"
        assert not (ROOT / "xairepro" / study / "bench.py").exists(), f"xairepro/{study}/bench.py is library code"
    assert sorted(p.stem for p in (ROOT / "scripts/bench/studies").glob("*.py")) == sorted(study_names(ROOT))


def test_study_benches_loads_by_path_and_skips_a_study_without_hooks(caplog):
    with caplog.at_level(logging.WARNING):
        found = list(HOOKS["study_benches"](["lossgrad", "nosuchstudy"]))
    assert [study for study, _ in found] == ["lossgrad"]
    module = found[0][1]
    assert Path(module.__file__) == ROOT / "scripts/bench/studies/lossgrad.py"
    assert callable(module.kernels) and callable(module.paper_epoch)
    assert HOOKS["load_hook"]("lossgrad") is module is sys.modules["xairepro_bench_lossgrad"]  # loaded once
    assert "nosuchstudy has no benchmark hooks" in caplog.text
    with pytest.raises(FileNotFoundError, match="nosuchstudy"):
        HOOKS["load_hook"]("nosuchstudy")


@pytest.mark.parametrize("study", ["lossgrad", "labelfree"])
def test_study_hooks_run_on_the_cpu(study):
    bench = HOOKS["load_hook"](study)
    kernels = bench.kernels("cpu", n=8)
    assert kernels and all(k["n"] > 0 and callable(k["batched"]) for k in kernels)
    for k in kernels:
        k["batched"]()
        k["reference"]()
    rows = bench.paper_epoch("cpu", max_batches=1)
    assert rows and all(r["seconds"] > 0 and r["batches"] >= 1 for r in rows)
