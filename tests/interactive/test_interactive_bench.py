"""The benchmark hook: every kernel's callables run on CPU; the paper epoch returns its rows."""

import runpy
from pathlib import Path

import numpy as np

# The hooks live in scripts/bench/studies/interactive.py (not library code), found by path.
load_hook = runpy.run_path(str(Path(__file__).resolve().parents[2] / "scripts/bench/bench_hooks.py"))["load_hook"]
bench = load_hook("interactive")


def test_kernels_run_and_batched_matches_the_reference():
    entries = bench.kernels("cpu", n=2, size=32, n_steps=4, nt_samples=2)
    assert [e["name"] for e in entries] == ["interactive/integrated_gradients", "interactive/saliency_smoothgrad_sq",
                                            "interactive/guided_backprop", "interactive/guided_gradcam"]
    for entry in entries:
        assert entry["n"] == 2
        batched, reference = entry["batched"](), entry["reference"]()
        (method, maps), = batched.items()
        assert maps.shape == (2, 3, 32, 32)
        if method != "saliency_smoothgrad_sq":  # the noise tunnel draws other noise per call
            np.testing.assert_allclose(maps, np.concatenate([r[method] for r in reference]), rtol=1e-4, atol=1e-6)
        entry["fwd_bwd"]()


def test_paper_epoch_rows():
    rows = bench.paper_epoch("cpu", max_batches=1, size=64, batch_size=2)
    assert [r["name"] for r in rows] == ["interactive/resnet18_frozen_epoch", "interactive/resnet18_unfrozen_epoch"]
    assert all(r["timed_batches"] == 1 and r["batches"] >= 1 and r["seconds"] > 0 and r["published_seconds"] is None for r in rows)
