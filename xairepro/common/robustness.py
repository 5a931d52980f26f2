"""Claims across studies and across seeds.

* :func:`cross_study_table`: every study's ``claims.csv`` in one table, study first.
* :func:`run_at_offset`: the workflow's demo claims re-run with every seed knob moved by an
  offset (``--config seed_offset=K``), in a folder of its own.
* :func:`pass_rates` and :func:`plot_pass_rates`: how often each claim passes over offsets.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from xairepro.common.claims import COLUMNS
from xairepro.common.io import read_csv

log = logging.getLogger(__name__)

VERDICT_CODES = {"pass": 0, "uninformative": 1, "fail": 2, "missing": 3, "not applicable": 4}
VERDICT_COLOURS = ("#4c9a5f", "#e0b040", "#c0392b", "#9e9e9e", "#d0d0d0")


def cross_study_table(paths: dict[str, str | Path]) -> pd.DataFrame:
    """The claims tables of ``{study: path}``, one after the other, with a ``study`` column."""
    frames = [read_csv(path, required=COLUMNS).assign(study=study) for study, path in paths.items()]
    frame = pd.concat(frames, ignore_index=True)
    return frame[["study", *COLUMNS]]


def run_at_offset(snakefile: str | Path, workdir: str | Path, offset: int, studies: list[str], cores: int,
                  log_path: str | Path, deployment: list[str] = ()) -> dict[str, Path | None]:
    """Build every study's demo ``claims.csv`` in ``workdir`` with ``seed_offset=offset``.
    Returns each study's table, or ``None`` where the run did not produce it (a failed job:
    its claims count as failed, the log says why). ``deployment`` holds the outer run's
    ``--sdm`` and prefix arguments."""
    workdir = Path(workdir)
    targets = [f"results/demo/{study}/claims.csv" for study in studies]
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), "--directory", str(workdir),
               "--cores", str(cores), "--keep-going", *deployment, "--config", "scale=demo", f"seed_offset={offset}",
               "--", *targets]
    log.info("seed offset %d: %s", offset, " ".join(command))
    with open(log_path, "a") as stream:
        stream.write(f"\n### seed offset {offset}\n")
        stream.flush()
        code = subprocess.run(command, stdout=stream, stderr=subprocess.STDOUT, check=False).returncode
    if code:
        log.warning("seed offset %d: snakemake exited with %d (see %s)", offset, code, log_path)
    return {study: (workdir / t if (workdir / t).is_file() else None) for study, t in zip(studies, targets)}


def offset_table(tables: dict[int, dict[str, Path | None]], reference: pd.DataFrame) -> pd.DataFrame:
    """One row per (study, claim, offset) with its verdict. A claim of ``reference`` (the
    offset-0 cross-study table) whose study produced no table at an offset is ``missing``."""
    rows = []
    for offset, paths in tables.items():
        for study, path in paths.items():
            expected = reference[(reference.study == study) & (reference.kind == "claim")].claim.tolist()
            if path is None:
                rows += [{"study": study, "claim": c, "offset": offset, "verdict": "missing", "value": np.nan,
                          "control_value": np.nan} for c in expected]
                continue
            frame = read_csv(path, required=COLUMNS)
            frame = frame[frame.kind == "claim"]
            for row in frame.itertuples():
                rows.append({"study": study, "claim": row.claim, "offset": offset, "verdict": row.verdict,
                             "value": row.value, "control_value": row.control_value})
            for claim in sorted(set(expected) - set(frame.claim)):
                rows.append({"study": study, "claim": claim, "offset": offset, "verdict": "missing",
                             "value": np.nan, "control_value": np.nan})
    return pd.DataFrame(rows, columns=["study", "claim", "offset", "verdict", "value", "control_value"])


def pass_rates(per_offset: pd.DataFrame) -> pd.DataFrame:
    """Per claim: offsets run, offsets passed, the pass rate, and the offsets that did not pass."""
    rows = []
    for (study, claim), group in per_offset.groupby(["study", "claim"], sort=False):
        passed = group.verdict == "pass"
        rows.append({"study": study, "claim": claim, "offsets": len(group), "passed": int(passed.sum()),
                     "pass_rate": float(passed.mean()),
                     "not_passed_at": " ".join(f"{o}:{v}" for o, v in zip(group.offset, group.verdict) if v != "pass")})
    return pd.DataFrame(rows, columns=["study", "claim", "offsets", "passed", "pass_rate", "not_passed_at"])


def plot_pass_rates(per_offset: pd.DataFrame, study: str, path: str | Path) -> None:
    """One study's verdict per claim (rows) and seed offset (columns), each cell labelled with
    the claim's value at that offset."""
    import textwrap

    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from xairepro.common.plotting import save_figure, use_style

    use_style()
    frame = per_offset[per_offset.study == study]
    claims = list(dict.fromkeys(frame.claim))
    offsets = sorted(frame.offset.unique())
    grid = np.full((max(len(claims), 1), max(len(offsets), 1)), VERDICT_CODES["missing"])
    for row in frame.itertuples():
        grid[claims.index(row.claim), offsets.index(row.offset)] = VERDICT_CODES[row.verdict]
    height = 1.2 + 0.42 * len(claims)
    fig, ax = plt.subplots(figsize=(8 + 0.6 * len(offsets), height))
    ax.imshow(grid, cmap=ListedColormap(VERDICT_COLOURS), vmin=-0.5, vmax=len(VERDICT_COLOURS) - 0.5,
              aspect="auto", interpolation="nearest")
    ax.grid(False)
    for row in frame.itertuples():
        if np.isfinite(row.value):
            ax.text(offsets.index(row.offset), claims.index(row.claim), f"{row.value:.3g}", ha="center",
                    va="center", fontsize=6, color="white")
    ax.set_xticks(range(len(offsets)), [str(o) for o in offsets])
    labels = ["\n".join(textwrap.wrap(c, 75, max_lines=2, placeholder="...")) for c in claims]
    ax.set_yticks(range(len(claims)), labels, fontsize=6)
    ax.set_xlabel("seed offset (every seed knob moved by it)")
    rate = (frame.verdict == "pass").mean() if len(frame) else float("nan")
    ax.set_title(f"{study}: {len(claims)} claims x {len(offsets)} seed offsets, pass rate {rate:.0%}", fontsize=9)
    ax.legend(handles=[Patch(color=c, label=v) for v, c in zip(VERDICT_CODES, VERDICT_COLOURS)],
              loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, frameon=False)
    save_figure(fig, path)
