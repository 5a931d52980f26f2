"""The paper-scale `mem_mb` and `runtime` of every training and attribution job, derived.

    python scripts/smoke/resources.py SMOKE_DIR [--write docs/paper-resources.csv]

Two measurements go in, and one rule turns them into the annotations SLURM receives:

* **peak memory** of each rule in the paper-scale smoke run (``max_rss`` of Snakemake's
  benchmark files under ``SMOKE_DIR/benchmarks/paper/``): the process with the paper
  architecture, its libraries and a handful of items;
* **GPU time**: seconds per paper-shaped training epoch and attribution throughput on an
  H100 (``make bench-gpu``; docs/performance.md), times the paper's epochs (config) and
  items.

Then, per resources block of ``config/<study>.yaml`` (the largest of the rules sharing it):

    mem_mb  = 1000-MB ceiling of 1.5 x (smoke peak RSS + the paper data the job holds
              + CUDA_HOST_MB, the host memory a CUDA process adds)
    runtime = 10-minute ceiling of 10 + SLOWER x (H100 seconds) / 60

``SLOWER`` = 4 allows for a GPU a quarter as fast as the H100 (the originals' RTX 3090 and
V100 ran the ESC-50 recipes 1.9-19x slower than our H100 per epoch; every training job
resumes from its checkpoint if a limit is still hit). A block whose GPU time was never
measured keeps its configured runtime and says so. Prints the table (docs/paper-resources.md
holds it with the published times); ``--write`` stores it as CSV, which
tests/common/test_paper_resources.py compares with the configured values.
"""

from __future__ import annotations

import argparse
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

SLOWER = 4
MEMORY_MARGIN = 1.5
#: Host memory a CUDA process of the torch stack adds to what the CPU-only smoke measures
#: (the CUDA context and the cuDNN/cuBLAS libraries). An allowance, not a measurement: no
#: GPU machine was lent when this was derived; `make bench-gpu` on one can replace it.
CUDA_HOST_MB = 3000
MB = 1e6


@dataclass
class Block:
    """One ``<study>.<part>.resources`` block at paper scale and what it is derived from."""

    study: str
    part: str
    rules: tuple[str, ...]  # the rules whose jobs the block annotates
    jobs: int  # how many paper jobs use it (snakemake -n --config scale=paper)
    job_s: float | None  # H100 seconds of its longest job; None: never timed on a GPU
    total_s: float | None  # H100 seconds of all its jobs together
    timing: str  # how the seconds were put together
    data_mb: float  # the paper data one job holds
    data: str
    published: str = ""
    #: Benchmark-file prefixes (the job's wildcards, e.g. ``ecg_``) the peak is read from, for
    #: a block whose rules other blocks share with other data; empty: every job of its rules.
    wildcards: tuple[str, ...] = ()


# H100 seconds per paper-shaped epoch and items per second: docs/performance.md (make bench-gpu).
MNIST_MB = 70_000 * 28 * 28 * 4 / MB
ESC50_MB = 2_000 * 220_500 * 4 / MB
IG, SHAP, SAL = 1 / 584, 1 / 4_640, 1 / 15_600  # labelfree kernels, seconds per image
BLOCKS = [
    Block("lossgrad", "mnist", ("lossgrad_train_classifier", "lossgrad_compute_gradients", "lossgrad_compute_occlusion"),
          45, 14 * 2.8, 15 * 14 * 2.8 + 30 * 10_000 * 4 / 21_500,
          "training: 14 epochs x 2.8 s (15 heads x seeds); gradients: 10,000 test images x 4 rankings at 21,500/s",
          MNIST_MB, "MNIST 70,000 x 28 x 28 float32"),
    Block("lossgrad", "svd", ("lossgrad_train_svd", "lossgrad_evaluate_svd", "lossgrad_compute_svd_gradients",
                              "lossgrad_compute_svd_occlusion"), 4,
          20 * 9.9, 20 * 9.9, "training: 20 epochs x 2,000 batches, 9.9 s per epoch (the other three jobs untimed)",
          6 * 3600 * 70 * 80 * 4 / MB, "Jamendo, about 6 h of 80-band mel frames at 70 fps, float32"),
    Block("labelfree", "consistency_features", ("labelfree_train_autoencoder", "labelfree_compute_feature_importance",
                                                "labelfree_compute_consistency_features"), 15,
          100 * 1.8, 5 * (100 * 1.8 + 10_000 * (IG + SHAP + SAL)),
          "5 seeds: 100 epochs x 1.8 s, then 10,000 test images by IG (584/s), GradientSHAP and saliency",
          MNIST_MB, "MNIST 70,000 x 28 x 28 float32"),
    Block("labelfree", "consistency_features_ecg", ("labelfree_train_autoencoder", "labelfree_compute_feature_importance",
                                                    "labelfree_compute_consistency_features"), 15,
          150 * 0.12, 5 * (150 * 0.12 + 2_081 * (IG + SHAP + SAL)),
          "5 seeds: 150 epochs x 0.12 s, then 2,081 abnormal beats by the same three methods",
          5_000 * 140 * 4 / MB, "ECG5000 5,000 x 140 float32"),
    Block("labelfree", "consistency_features_cifar", ("labelfree_train_autoencoder",
                                                      "labelfree_compute_feature_importance",
                                                      "labelfree_compute_consistency_features"), 30,
          100 * 0.8, 10 * (100 * 0.8 + 10_000 * (IG + SHAP + SAL)),
          "2 data sets x 5 seeds: 100 epochs x 0.8 s, then 10,000 test images by the same three methods",
          60_000 * 3 * 32 * 32 * 4 / MB, "CIFAR 60,000 x 3 x 32 x 32 float32"),
    Block("labelfree", "consistency_examples", ("labelfree_train_denoiser", "labelfree_compute_example_importance"), 2,
          None, None, "influence functions and 10,000 SimplEx epochs never timed on a GPU", MNIST_MB,
          "MNIST 70,000 x 28 x 28 float32", wildcards=("mnist_",)),
    Block("labelfree", "consistency_examples_ecg", ("labelfree_train_denoiser",
                                                    "labelfree_compute_example_importance"), 2,
          None, None, "influence functions through the unrolled LSTM never timed on a GPU",
          5_000 * 140 * 4 / MB, "ECG5000 5,000 x 140 float32", wildcards=("ecg_",)),
    Block("labelfree", "consistency_examples_cifar", ("labelfree_train_denoiser",
                                                      "labelfree_compute_example_importance"), 4,
          None, None, "influence functions and 10,000 SimplEx epochs never timed on a GPU",
          60_000 * 3 * 32 * 32 * 4 / MB, "CIFAR 60,000 x 3 x 32 x 32 float32", wildcards=("cifar",)),
    Block("labelfree", "encoder_vs_full", ("labelfree_train_classifier", "labelfree_compute_encoder_vs_full"), 10,
          100 * 1.8, 5 * (100 * 1.8 + 10_000 * 2 * IG),
          "5 seeds: 100 epochs x 1.8 s (MNIST-sized), then 10,000 images x 2 IG passes", MNIST_MB,
          "MNIST 70,000 x 28 x 28 float32"),
    Block("labelfree", "pretext", ("labelfree_train_pretext", "labelfree_compute_pretext_importance"), 75,
          100 * 1.8, 20 * 100 * 1.8 + 5 * 10_000 * 4 * IG + 40 * 100 * 0.8,
          "MNIST: 20 pretext autoencoders, 100 epochs x 1.8 s, and 5 jobs of 10,000 images x 4 tasks by IG; "
          "CIFAR-10/100: 40 autoencoders at 0.8 s per epoch (their 10 importance jobs never timed)",
          60_000 * 3 * 32 * 32 * 4 / MB + 10_000 * 4 * 3 * 32 * 32 * 4 / MB,
          "CIFAR 60,000 x 3 x 32 x 32 float32 and one run's 10,000 x 4 importance maps"),
    Block("labelfree", "disvae", ("labelfree_fit_disvae",), 120,
          100 * 61.7, 30 * 100 * 61.7 + 30 * 100 * 1.8,
          "30 dSprites VAEs: 100 epochs x 61.7 s (737,280 sprites, batch 64); 30 MNIST VAEs at 1.8 s per epoch; "
          "60 CIFAR VAEs never timed",
          737_280 * 64 * 64 * 4 / MB, "dSprites 737,280 x 64 x 64 as float32"),
    Block("pianist", "resnet", ("pianist_train_model",), 1, 100 * 25.0, 100 * 25.0,
          "100 epochs x 25.0 s (3,200 rolls of 88 x 3000, batch 20)",
          20 * 88 * 3_000 * 4 / MB, "rolls rendered per batch of 20 (the peak is the ResNet-50's activations)"),
    Block("pianist", "disentangle", ("pianist_train_model",), 1, 100 * 34.0, 100 * 34.0, "100 epochs x 34.0 s",
          20 * 88 * 3_000 * 4 / MB, "rolls rendered per batch of 20"),
    Block("pianist", "lime", ("pianist_compute_lime",), 1, 800 * 1000 / (8.3 * 50), 800 * 1000 / (8.3 * 50),
          "800 held-out clips x 1,000 samples, at 8.3 clips of 50 samples per s", 88 * 3_000 * 4 * 1000 / MB,
          "one clip's 1,000 perturbed rolls"),
    Block("pianist", "tcav", ("pianist_compute_cavs", "pianist_compute_sensitivities",
                              "pianist_compute_kernel_heatmaps"), 3,
          800 * 20 * 10 * 2 / 897, 800 * 20 * 10 * 2 / 897,
          "800 clips x 20 concepts x 10 experiments (concept and random CAVs) at 897/s",
          (800 + 250) * 88 * 3_000 * 4 / MB, "800 held-out + 250 random rolls (the original's ~8 GB)"),
    Block("esc50", "classify", ("esc50_train_classifier",), 4, None, None,
          "the four classifiers' training never timed on a GPU", ESC50_MB, "ESC-50 2,000 clips x 5 s x 44.1 kHz float32"),
    Block("esc50", "piq", ("esc50_train_piq", "esc50_compute_interpretations", "esc50_compute_overlap"), 6,
          200 * 9.3, 3 * 200 * 9.3, "3 decoders: 200 epochs x 9.3 s (conv2d; interpretation jobs untimed)", ESC50_MB,
          "ESC-50 2,000 clips float32", published="70 s per epoch (RTX 3090)"),
    Block("esc50", "nmf", ("esc50_train_nmf",), 2, 100 * 2.4, 2 * 100 * 2.4, "100 epochs x 2.4 s", ESC50_MB,
          "ESC-50 2,000 clips float32", published="45 s per epoch (RTX 3090)"),
    Block("esc50", "l2i", ("esc50_train_l2i", "esc50_compute_interpretations"), 4, 200 * 14.7, 200 * (14.7 + 13.1),
          "200 epochs x 14.7 s (conv2d) and x 13.1 s (CNN14)", ESC50_MB, "ESC-50 2,000 clips float32",
          published="70 s per epoch conv2d, 25 s CNN14 (RTX 3090)"),
    Block("esc50", "amt", ("esc50_compute_interpretations",), 2, None, None, "AMT inference never timed on a GPU",
          ESC50_MB, "ESC-50 2,000 clips float32"),
    Block("interactive", "train", ("interactive_train_classifier",), 6, 5 * 16.4 + 5 * 32.9,
          6 * (5 * 16.4 + 5 * 32.9),
          "6 classifiers: 5 frozen epochs x 16.4 s + 5 unfrozen x 32.9 s (22,500 images at 256 px)",
          30_000 * 256 * 256 * 3 * 4 / MB, "CelebA-HQ train + validation split at 256 px, float32"),
    Block("interactive", "heatmaps", ("interactive_compute_heatmaps",), 6,
          20 * (200 / 20 / 281 + 200 / 20 / 192 + 1 / 286 + 1 / 268),
          6 * 20 * (200 / 20 / 281 + 200 / 20 / 192 + 1 / 286 + 1 / 268),
          "20 images by IG (200 steps), SmoothGrad² (200 samples), guided backprop and guided GradCAM",
          8_189 * 256 * 256 * 3 * 4 / MB, "the validation split at 256 px, float32 (Flowers102 the largest)"),
    Block("interactive", "generator", ("interactive_train_generator",), 0, None, None,
          "paper scale loads the user's StyleGAN2 instead of training one", 0, "none"),
    Block("interactive", "generative", ("interactive_create_latent_dataset", "interactive_train_latent_model",
                                        "interactive_explain_generative"), 6, None, None,
          "25,000 StyleGAN2 samples scored at 256 px and 1,000-step projections never timed on a GPU",
          100 * 1024 * 1024 * 3 * 4 / MB, "a batch of 100 generated 1024-px faces"),
]


def ceil_to(value: float, step: int) -> int:
    return int(math.ceil(value / step) * step)


def smoke_peaks(smoke_dir: Path) -> dict[str, float]:
    """Peak RSS (MB) per rule over the smoke run's benchmark files (the largest wildcard), and
    per job as ``<rule>/<file stem>`` (the job's wildcards) for blocks that read some jobs only."""
    peaks: dict[str, float] = {}
    for path in (smoke_dir / "benchmarks" / "paper").rglob("*.tsv"):
        parts = path.relative_to(smoke_dir / "benchmarks" / "paper").parts
        rule = f"{parts[0]}_{Path(parts[1]).stem}"
        rss = pd.read_csv(path, sep="\t")["max_rss"].max()
        if pd.notna(rss) and rss != "-":
            peaks[rule] = max(peaks.get(rule, 0.0), float(rss))
            if len(parts) > 2:
                peaks[f"{rule}/{path.stem}"] = float(rss)
    return peaks


def block_peak(block: Block, peaks: dict[str, float]) -> float:
    """The largest peak of the block's rules (of its ``wildcards`` jobs only where it names some)."""
    if not block.wildcards:
        return max((peaks.get(rule, math.nan) for rule in block.rules), default=math.nan)
    values = [rss for key, rss in peaks.items() if "/" in key and key.split("/", 1)[0] in block.rules
              and key.split("/", 1)[1].startswith(block.wildcards)]
    return max(values, default=math.nan)


def derive(peaks: dict[str, float], configured: dict[tuple[str, str], dict]) -> pd.DataFrame:
    rows = []
    for block in BLOCKS:
        rss = block_peak(block, peaks)
        now = configured.get((block.study, block.part), {})
        mem = (ceil_to(MEMORY_MARGIN * (rss + block.data_mb + CUDA_HOST_MB), 1000) if math.isfinite(rss)
               else now.get("mem_mb"))
        runtime = ceil_to(10 + SLOWER * block.job_s / 60, 10) if block.job_s is not None else now.get("runtime")
        rows.append({"study": block.study, "part": block.part, "jobs": block.jobs,
                     "smoke_peak_rss_mb": round(rss) if math.isfinite(rss) else None,
                     "paper_data_mb": round(block.data_mb), "data": block.data, "mem_mb": mem,
                     "h100_job_s": round(block.job_s) if block.job_s is not None else None,
                     "h100_gpu_hours": round(block.total_s / 3600, 2) if block.total_s is not None else None,
                     "timing": block.timing, "runtime": runtime, "runtime_measured": block.job_s is not None,
                     "published": block.published})
    return pd.DataFrame(rows)


def configured_resources(root: Path) -> dict[tuple[str, str], dict]:
    import yaml

    out = {}
    for block in BLOCKS:
        part = yaml.safe_load((root / "config" / f"{block.study}.yaml").read_text())[block.study][block.part]
        out[(block.study, block.part)] = (part.get("paper") or {}).get("resources") or part.get("resources", {})
    return out


def markdown(table: pd.DataFrame, smoke_note: str) -> str:
    """docs/paper-resources.md: the rule, the per-block derivation and the per-study totals."""
    fmt = lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:,}" if isinstance(v, int) else str(v)  # noqa: E731
    lines = [
        "# Paper-scale resources: where `mem_mb` and `runtime` come from", "",
        "Written by `scripts/smoke/resources.py` (its docstring has the rule); the values in",
        "`config/<study>.yaml` (`<part>.paper.resources`) are the `mem_mb` and `runtime` columns,",
        "and `tests/common/test_paper_resources.py` keeps them equal.", "",
        f"- Peak memory: `max_rss` of each rule in the paper-scale smoke run ({smoke_note}), the",
        "  largest of the rules that share a block, plus the paper data one job holds (the",
        f"  `data` column), plus {CUDA_HOST_MB:,} MB for what a CUDA process adds on the host (an",
        "  allowance: no GPU was lent when this was derived); `mem_mb` = "
        f"{MEMORY_MARGIN} x that sum, rounded up to 1,000 MB.",
        "- GPU time: H100 seconds per paper-shaped epoch and attribution throughput",
        "  ([performance.md](performance.md), `make bench-gpu`), times the paper's epochs and items;",
        f"  `runtime` (minutes) = 10 + {SLOWER} x the longest job's H100 seconds / 60, rounded up to",
        "  10 minutes: a GPU a quarter as fast as the H100 still finishes (the originals' RTX 3090",
        "  ran the ESC-50 recipes 1.9-19x slower per epoch), and a training job that is stopped",
        "  resumes from its checkpoint. Blocks never timed on a GPU keep their configured runtime",
        "  (`measured` = no) until `make bench-gpu` times them.", "",
        "| block | rules | jobs | smoke peak RSS (MB) | paper data (MB) | mem_mb | H100 s (longest job) | how | runtime (min) | measured |",
        "|---|---|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        rules = ", ".join(f"`{x}`" for x in BLOCK_RULES[(r.study, r.part)]) or "-"
        lines.append(f"| {r.study}.{r.part} | {rules} | {r.jobs} | {fmt(r.smoke_peak_rss_mb)} | "
                     f"{fmt(r.paper_data_mb)} ({r.data}) | {fmt(r.mem_mb)} | {fmt(r.h100_job_s)} | {r.timing} | "
                     f"{fmt(r.runtime)} | {'yes' if r.runtime_measured else 'no'} |")
    lines += ["", "## Per study", "",
              "GPU-hours on an H100 for every paper job of the study that was timed (training and",
              "attribution; data preparation and plotting are CPU jobs), the largest `mem_mb`, and the",
              "originals' published times.", "",
              "| study | H100 GPU-hours (timed jobs) | blocks not timed | peak mem_mb | published |", "|---|---|---|---|---|"]
    for study, part in table.groupby("study", sort=False):
        hours = part.h100_gpu_hours.dropna().sum()
        untimed = ", ".join(part.loc[part.h100_gpu_hours.isna(), "part"]) or "none"
        published = "; ".join(f"{p}: {t}" for p, t in zip(part.part, part.published) if t) or PUBLISHED.get(study, "none")
        lines.append(f"| {study} | {hours:.1f} | {untimed} | {int(part.mem_mb.max()):,} | {published} |")
    return "\n".join(lines) + "\n"


def apply(table: pd.DataFrame, root: Path) -> list[str]:
    """Write the derived ``mem_mb`` and ``runtime`` into each block's paper ``resources:``
    line of config/<study>.yaml (gpu and threads kept, comments and layout untouched)."""
    changed = []
    for study, rows in table.groupby("study", sort=False):
        path = root / "config" / f"{study}.yaml"
        lines = path.read_text().splitlines(keepends=True)
        wanted = {row.part: row for row in rows.itertuples()}
        part, in_paper = None, False
        for i, line in enumerate(lines):
            indent = len(line) - len(line.lstrip())
            key = line.strip().split(":", 1)[0]
            if indent == 2 and line.strip() and not line.lstrip().startswith("#"):
                part, in_paper = key, False
            elif indent == 4 and line.strip() and not line.lstrip().startswith("#"):
                in_paper = key == "paper"
            elif in_paper and indent == 6 and key == "resources" and part in wanted:
                row = wanted[part]
                new = re.sub(r"mem_mb: \d+", f"mem_mb: {int(row.mem_mb)}", line)
                new = re.sub(r"runtime: \d+", f"runtime: {int(row.runtime)}", new)
                if new != line:
                    changed.append(f"{study}.{part}: {line.strip()} -> {new.strip()}")
                    lines[i] = new
        path.write_text("".join(lines))
    return changed


BLOCK_RULES = {(b.study, b.part): b.rules for b in BLOCKS}
#: What the originals publish about their cost, where the study's page says nothing per block.
PUBLISHED = {
    "labelfree": "inference runs fit a 10 GB GPU; training needs more (the reproduction's README)",
    "lossgrad": "none",
    "pianist": "none (the TCAV code materialises all held-out clips, ~8 GB)",
    "interactive": "none",
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("smoke", type=Path, help="the smoke run's folder (make paper-smoke: results/paper-smoke)")
    parser.add_argument("--write", type=Path, help="store the derivation as this CSV")
    parser.add_argument("--markdown", type=Path, help="write docs/paper-resources.md here")
    parser.add_argument("--apply", action="store_true", help="write mem_mb and runtime into config/<study>.yaml")
    parser.add_argument("--note", default="make paper-smoke on 2 CPU cores", help="where the peaks were measured")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[2]
    table = derive(smoke_peaks(args.smoke), configured_resources(root))
    if args.write:
        table.to_csv(args.write, index=False, lineterminator="\n")
    if args.markdown:
        args.markdown.write_text(markdown(table, args.note))
    if args.apply:
        print("\n".join(apply(table, root)) or "config already holds the derived values")
    print(table.drop(columns=["data", "timing"]).to_string(index=False))


if __name__ == "__main__":
    main()
