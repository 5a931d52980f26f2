"""``make bench``: how fast the workflow and its attribution kernels are, on this machine.

Writes ``results/bench/bench.csv`` (long format: section, name, metric, value, unit) and
``results/bench/bench.md`` (the same as markdown tables), measuring in one run:

* the wall time of each study's demo chain (``snakemake <study>``, in order, in one fresh
  copy of the workflow) and of the whole demo DAG (another fresh copy), on ``--cores``;
* ``snakemake -n`` with everything up to date, and building the paper-scale DAG;
* regenerating one figure after changing a plot-only parameter;
* every study's attribution kernels (``kernels`` of ``scripts/bench/studies/<study>.py``,
  found by :mod:`bench_hooks`): samples per
  second batched, one sample at a time (the originals' pattern) and the model's own
  forward + backward on the same batch, with the two ratios.

    python scripts/bench/run.py [--cores 2] [--kernels-only] [--studies lossgrad labelfree]

The studies are those of config/studies.yaml unless ``--studies`` names some.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from xairepro.common.bench import kernel_rows, markdown_table
from xairepro.common.io import atomic_path
from xairepro.common.logs import setup_logging
from xairepro.common.registry import study_names
from xairepro.common.seeding import seed_everything
from xairepro.common.smk import copy_workflow

from bench_hooks import study_benches  # scripts/bench/bench_hooks.py, beside this script

ROOT = Path(__file__).resolve().parents[2]
STUDIES = study_names(ROOT)
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--cores", type=int, default=2)
parser.add_argument("--threads", type=int, default=2, help="torch threads for the kernels (default 2)")
parser.add_argument("--kernels-only", action="store_true", help="skip the workflow timings")
parser.add_argument("--studies", nargs="+", choices=STUDIES, default=STUDIES)
parser.add_argument("--out", default="results/bench")
args = parser.parse_args()
log = setup_logging(None)
rows: list[dict] = []


def record(section, name, metric, value, unit):
    rows.append({"section": section, "name": name, "metric": metric, "value": value, "unit": unit})
    log.info("%s | %s | %s = %.4g %s", section, name, metric, value, unit)


def timed_snakemake(workdir: Path, *extra: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run([SNAKEMAKE, "--cores", str(args.cores), *extra], cwd=workdir, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=dict(os.environ, XAIREPRO_PROGRESS="0"))
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"snakemake {' '.join(extra)} failed in {workdir}:\n{proc.stdout[-4000:]}")
    return seconds


if not args.kernels_only:
    with tempfile.TemporaryDirectory(prefix="xairepro-bench-") as tmp:
        chains = copy_workflow(ROOT, Path(tmp) / "chains")
        for study in args.studies:
            record("workflow", f"{study} demo chain", "wall time", timed_snakemake(chains, study), "s")
        whole = copy_workflow(ROOT, Path(tmp) / "whole")
        record("workflow", "whole demo DAG", "wall time", timed_snakemake(whole), "s")
        record("workflow", "snakemake -n, everything up to date", "wall time", timed_snakemake(whole, "-n"), "s")
        record("workflow", "paper-scale DAG (snakemake -n --config scale=paper)", "wall time",
               timed_snakemake(whole, "-n", "--config", "scale=paper"), "s")
        record("workflow", "one figure after a plot-only change (lossgrad panel_width)", "wall time",
               timed_snakemake(whole, "results/demo/lossgrad/fig_mnist_roar.png", "--config",
                               'lossgrad={"plot": {"panel_width": 2.5}}'), "s")

kernel_table = []
for study, bench in study_benches(args.studies):
    seed_everything(0, args.threads)
    for row in kernel_rows(bench.kernels("cpu")):
        kernel_table.append(row)
        for metric, unit in (("batched_samples_per_s", "samples/s"), ("reference_samples_per_s", "samples/s"),
                             ("fwd_bwd_samples_per_s", "samples/s"), ("speedup_vs_reference", "x"),
                             ("ratio_to_fwd_bwd", "x")):
            record("kernel", row["kernel"], metric, row[metric], unit)

out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
table = pd.DataFrame(rows)
with atomic_path(out / "bench.csv") as tmp:
    table.to_csv(tmp, index=False)
workflow = [r for r in rows if r["section"] == "workflow"]
text = [f"# Benchmarks ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, --cores {args.cores}, "
        f"torch threads {args.threads})", ""]
if workflow:
    text += ["## Workflow", "", markdown_table([{"what": r["name"], "seconds": r["value"]} for r in workflow]), ""]
text += ["## Attribution kernels (CPU)", "",
         "samples/s of the batched path, of one sample at a time, and of the model's own batched "
         "forward + backward; speed-up = batched / one-at-a-time; ratio = batched / forward+backward.", "",
         markdown_table(kernel_table, ["kernel", "n", "batched_samples_per_s", "reference_samples_per_s",
                                       "fwd_bwd_samples_per_s", "speedup_vs_reference", "ratio_to_fwd_bwd"]), ""]
with atomic_path(out / "bench.md") as tmp:
    tmp.write_text("\n".join(text))
log.info("wrote %s and %s", out / "bench.csv", out / "bench.md")
