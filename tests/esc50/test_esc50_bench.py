"""The esc50 benchmark hooks run and agree with themselves (tiny sizes, CPU)."""

import runpy
from pathlib import Path

import torch

# The hooks live in scripts/bench/studies/esc50.py (not library code), found by path.
load_hook = runpy.run_path(str(Path(__file__).resolve().parents[2] / "scripts/bench/bench_hooks.py"))["load_hook"]
bench = load_hook("esc50")
PUBLISHED_EPOCH_SECONDS, kernels, paper_epoch = bench.PUBLISHED_EPOCH_SECONDS, bench.kernels, bench.paper_epoch


def test_kernels_batched_equals_one_clip_at_a_time():
    rows = kernels("cpu", n=2)
    assert [r["name"] for r in rows] == ["esc50/piq_inference", "esc50/l2i_inference"]
    for row in rows:
        masks, interp = row["batched"]()
        singles = row["reference"]()
        assert masks.shape[0] == row["n"] == len(singles)
        assert torch.allclose(masks, torch.cat([m for m, _ in singles]), atol=1e-5)


def test_paper_epoch_rows_carry_the_published_times():
    rows = paper_epoch("cpu", max_batches=1, tiny=True)
    assert [r["name"] for r in rows] == ["esc50/piq", "esc50/nmf", "esc50/l2i_conv2d", "esc50/l2i_cnn14"]
    assert [r["published_seconds"] for r in rows] == [70.0, 45.0, 70.0, 25.0] == list(PUBLISHED_EPOCH_SECONDS.values())
    assert all(r["timed_batches"] == 1 and r["batches"] >= 75 and r["seconds"] > 0 for r in rows)
