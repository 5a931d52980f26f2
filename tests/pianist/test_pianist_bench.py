"""The benchmark hook runs on the CPU at tiny sizes."""

import runpy
from pathlib import Path

import numpy as np

# The hooks live in scripts/bench/studies/pianist.py (not library code), found by path.
load_hook = runpy.run_path(str(Path(__file__).resolve().parents[2] / "scripts/bench/bench_hooks.py"))["load_hook"]
bench = load_hook("pianist")


def test_kernels_run_and_batched_matches_reference():
    rows = bench.kernels("cpu", n=2, lime_samples=20)
    assert [r["name"] for r in rows] == ["pianist/lime_roll", "pianist/cav_sensitivities"]
    for row in rows:
        assert row["n"] == 2
        row["fwd_bwd"]()
    cav = rows[1]
    np.testing.assert_allclose(cav["batched"](), cav["reference"](), rtol=1e-4, atol=1e-6)
    assert len(rows[0]["batched"]()) == 2


def test_paper_epoch_reports_one_row_per_model():
    rows = bench.paper_epoch("cpu", max_batches=1, batch_size=1, roll_shape=(88, 64))
    assert [r["name"] for r in rows] == ["pianist/resnet50", "pianist/disentangle_resnet18"]
    assert all(r["timed_batches"] == 1 and r["batches"] >= 1 and r["seconds"] > 0 and r["published_seconds"] is None for r in rows)
