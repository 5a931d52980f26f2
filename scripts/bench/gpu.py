"""Benchmarks on a GPU: every study's attribution kernels and one paper-shaped training
epoch per model, on CUDA with synthetic data of the paper's shapes.

Writes ``results/bench/bench_gpu.csv`` and ``bench_gpu.md``: kernel samples/s (batched,
one at a time, forward + backward) and seconds per epoch next to the originals' published
ones where they exist (ESC-50 on an RTX 3090: PIQ 70 s, NMF 45 s, L2I conv2d 70 s, L2I
CNN14 25 s per epoch).

    python scripts/bench/gpu.py [--max-batches N] [--studies ...]

The studies are those of config/studies.yaml unless ``--studies`` names some; each one's
hooks are ``scripts/bench/studies/<study>.py`` (found by :mod:`bench_hooks`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch

from xairepro.common.bench import kernel_rows, markdown_table
from xairepro.common.io import atomic_path
from xairepro.common.logs import setup_logging
from xairepro.common.registry import study_names
from xairepro.common.seeding import seed_everything

from bench_hooks import study_benches  # scripts/bench/bench_hooks.py, beside this script

ROOT = Path(__file__).resolve().parents[2]
STUDIES = study_names(ROOT)
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--max-batches", type=int, default=None, help="time this many batches per epoch and scale up")
parser.add_argument("--studies", nargs="+", choices=STUDIES, default=STUDIES)
parser.add_argument("--out", default="results/bench")
args = parser.parse_args()
log = setup_logging(None)
if not torch.cuda.is_available():
    raise SystemExit("no CUDA device: run scripts/bench/run.py for the CPU numbers")
device = "cuda"
seed_everything(0)  # as every workflow job: deterministic kernels, TF32 off
torch.backends.cudnn.benchmark = True
kernels, epochs = [], []


for study, bench in study_benches(args.studies):
    try:  # one study's failure is logged and does not lose the others' numbers
        for row in kernel_rows(bench.kernels(device), device=device):
            kernels.append(row)
            log.info("%s", row)
        for row in bench.paper_epoch(device, args.max_batches):
            # every hook times with xairepro.common.bench.epoch_seconds: one warm-up batch not
            # counted, ``timed_batches`` of ``batches`` timed and scaled up to the epoch
            row = {"study": study, **row, "seconds_per_epoch": row["seconds"]}
            epochs.append(row)
            log.info("%s", row)
    except Exception:
        log.exception("%s: benchmark failed on %s", study, device)
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
with atomic_path(out / "bench_gpu.csv") as tmp:
    pd.concat([pd.DataFrame(kernels).assign(section="kernel"), pd.DataFrame(epochs).assign(section="epoch")],
              ignore_index=True).to_csv(tmp, index=False)
name = torch.cuda.get_device_name(0)
text = [f"# GPU benchmarks ({time.strftime('%Y-%m-%d %H:%M')}, {name}, torch {torch.__version__})", "",
        "## Attribution kernels", "",
        markdown_table(kernels, ["kernel", "n", "batched_samples_per_s", "reference_samples_per_s",
                                 "fwd_bwd_samples_per_s", "speedup_vs_reference", "ratio_to_fwd_bwd"]), "",
        "## One paper-shaped training epoch (synthetic data)", "",
        markdown_table(epochs, ["study", "name", "seconds_per_epoch", "batches", "published_seconds"]), ""]
with atomic_path(out / "bench_gpu.md") as tmp:
    tmp.write_text("\n".join(text))
log.info("wrote %s", out / "bench_gpu.md")
