"""What a finished paper-scale smoke run must show (`make paper-smoke`, after the workflow).

    python scripts/smoke/check.py DIR

Snakemake already stops when an output is missing; this checks what it cannot see:

* every study of config/studies.yaml has ``results/paper/<study>/claims.csv`` with at least
  one claim, and every claim's verdict is ``not comparable`` (a smoke run decides nothing);
* the cross-study ``results/paper/claims.csv`` lists every study;
* every PNG under ``results/paper/`` decodes and is not one flat colour;
* every CSV under ``results/paper/`` has a header and at least one row.

Prints one line per study (figures, tables, claims) and exits 1 with every problem listed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from xairepro.common.claims import NOT_COMPARABLE  # noqa: E402
from xairepro.common.registry import study_names  # noqa: E402


def check(run_dir: Path) -> list[str]:
    results = run_dir / "results" / "paper"
    problems: list[str] = []
    for study in study_names(ROOT):
        folder = results / study
        claims_path = folder / "claims.csv"
        if not claims_path.exists():
            problems.append(f"{claims_path}: missing")
            continue
        claims = pd.read_csv(claims_path, comment="#")
        rows = claims[claims["kind"] == "claim"]
        if rows.empty:
            problems.append(f"{claims_path}: no claims")
        wrong = rows[rows["verdict"] != NOT_COMPARABLE]
        problems += [f"{claims_path}: claim {c!r} has verdict {v!r}, not {NOT_COMPARABLE!r}"
                     for c, v in zip(wrong["claim"], wrong["verdict"])]
        figures = sorted(folder.rglob("*.png"))
        tables = sorted(folder.rglob("*.csv"))
        print(f"{study}: {len(figures)} figures, {len(tables)} tables, {len(rows)} claims "
              f"(all {NOT_COMPARABLE}), {int((claims['kind'] == 'invariant').sum())} invariants")
    table = results / "claims.csv"
    if table.exists():
        missing = set(study_names(ROOT)) - set(pd.read_csv(table, comment="#")["study"])
        problems += [f"{table}: no rows of {study}" for study in sorted(missing)]
    else:
        problems.append(f"{table}: missing")
    for png in sorted(results.rglob("*.png")):
        try:
            pixels = mpimg.imread(png)
        except (OSError, ValueError, SyntaxError) as exc:
            problems.append(f"{png}: does not decode ({exc})")
            continue
        if np.ptp(pixels[..., :3]) == 0:
            problems.append(f"{png}: one flat colour")
    for path in sorted(results.rglob("*.csv")):
        if len(pd.read_csv(path, comment="#")) == 0:
            problems.append(f"{path}: no rows")
    return problems


def main() -> None:
    problems = check(Path(sys.argv[1]))
    for problem in problems:
        print(f"smoke check: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
