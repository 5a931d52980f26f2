"""Per-module mutation score and the list of surviving mutants, from mutmut's results.

    python scripts/mutation/report.py [--out results/mutation]

Reads results/mutation/work/<group>/mutants/<file>.meta (what `mutmut run` leaves in the
folder of each group of scripts/mutation/run.py, one per mutated source file) and
scripts/mutation/equivalent.csv (mutants recorded as equivalent, each with its reason), and
writes <out>/score.csv (one row per module: mutants, checked, killed, equivalent, survived,
score = killed / (checked - equivalent)) and <out>/survivors.md (every mutant neither
killed nor recorded as equivalent, with its diff). Mutants a stopped run left unchecked
are counted apart and not scored. Exit 1 when a module scores under
--threshold (default 0.9). Timeouts count as killed (the mutant made a test hang);
"no tests" as survived (no selected test reaches the mutated function).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENT = ROOT / "scripts" / "mutation" / "equivalent.csv"
KILLED = {"killed", "timeout", "caught by type check", "segfault"}


def status_of(exit_code: int | None) -> str:
    # mutmut's own table of exit codes (killed, survived, timeout, no tests, ...)
    from mutmut.stats import status_by_exit_code

    return status_by_exit_code[exit_code]


def read_equivalent(path: Path = EQUIVALENT) -> dict[str, str]:
    """Mutant name -> the reason it cannot change any observable result."""
    with open(path, newline="") as handle:
        return {row["mutant"]: row["reason"] for row in csv.DictReader(handle) if row["mutant"].strip()}


def group_and_module(meta: Path, work: Path) -> tuple[Path, str]:
    """work/<group>/mutants/xairepro/metrics/curves.py.meta -> (work/<group>, "xairepro.metrics.curves")."""
    group, _, *parts = meta.relative_to(work).parts
    return work / group, ".".join(parts)[: -len(".py.meta")]


def read_results(work: Path) -> dict[str, dict[str, str]]:
    """Module (dotted) -> {mutant name: status}, for every file mutmut has results of in the
    groups' folders under ``work`` (work/<group>/mutants/<file>.py.meta)."""
    results: dict[str, dict[str, str]] = {}
    for meta in sorted(work.glob("*/mutants/**/*.py.meta")):
        _, module = group_and_module(meta, work)
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if codes:
            results[module] = {name: status_of(code) for name, code in codes.items()}
    return results


def score_rows(results: dict[str, dict[str, str]], equivalent: dict[str, str]) -> list[dict]:
    rows = []
    for module, statuses in sorted(results.items()):
        killed = sum(status in KILLED for status in statuses.values())
        # an equivalent mutant counts once it ran and was not killed; unchecked ones are not scored
        equal = sum(name in equivalent and statuses[name] not in KILLED | {"not checked"} for name in statuses)
        checked = sum(status != "not checked" for status in statuses.values())
        scored = checked - equal  # a run stopped early leaves mutants "not checked": not scored
        rows.append(
            {
                "module": module,
                "mutants": len(statuses),
                "checked": checked,
                "killed": killed,
                "equivalent": equal,
                "survived": scored - killed,
                "not_checked": len(statuses) - checked,
                "score": f"{killed / scored:.3f}" if scored else "",
            }
        )
    killed = sum(row["killed"] for row in rows)
    scored = sum(row["checked"] - row["equivalent"] for row in rows)
    rows.append(
        {
            "module": "total",
            **{key: sum(row[key] for row in rows) for key in ("mutants", "checked", "killed", "equivalent", "survived", "not_checked")},
            "score": f"{killed / scored:.3f}" if scored else "",
        }
    )
    return rows


def diff_of(name: str, work: Path) -> str:
    """mutmut's diff of one mutant, asked in the folder of the group that holds it."""
    group = next(folder for folder, module in (group_and_module(m, work) for m in work.glob("*/mutants/**/*.py.meta"))
                 if name.startswith(module + "."))
    mutmut = Path(sys.executable).with_name("mutmut")
    done = subprocess.run([str(mutmut), "show", name], cwd=group, capture_output=True, text=True, check=False)
    return done.stdout.strip() or done.stderr.strip()


def survivors_markdown(results: dict[str, dict[str, str]], equivalent: dict[str, str], work: Path | None) -> str:
    lines = ["# Surviving mutants", "", "Neither killed by a test nor recorded in scripts/mutation/equivalent.csv.", ""]
    for module, statuses in sorted(results.items()):
        left = [n for n, s in statuses.items() if s not in KILLED and s != "not checked" and n not in equivalent]
        if not left:
            continue
        lines += [f"## {module} ({len(left)})", ""]
        for name in left:
            lines.append(f"- `{name}`: {statuses[name]}")
            if work is not None:
                lines += ["", "```diff", diff_of(name, work), "```", ""]
    stale = sorted(n for n in equivalent if not any(n in s for s in results.values()))
    if stale:
        lines += ["", "## Recorded as equivalent but not among the mutants now (source changed?)", ""]
        lines += [f"- `{name}`" for name in stale]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "mutation")
    parser.add_argument("--work", type=Path, default=ROOT / "results" / "mutation" / "work",
                        help="the groups' folders of scripts/mutation/run.py")
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--no-diffs", action="store_true", help="list survivors without their diffs")
    args = parser.parse_args(argv)
    results = read_results(args.work)
    if not results:
        print(f"error: no mutmut results under {args.work}: run `make mutation` first", file=sys.stderr)
        return 1
    equivalent = read_equivalent()
    rows = score_rows(results, equivalent)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "score.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (args.out / "survivors.md").write_text(survivors_markdown(results, equivalent, None if args.no_diffs else args.work))
    width = max(len(row["module"]) for row in rows)
    for row in rows:
        unchecked = f"  ({row['not_checked']} not checked)" if row["not_checked"] else ""
        print(f"{row['module']:<{width}}  {row['killed']:>4}/{row['checked'] - row['equivalent']:<4} {row['score']}{unchecked}")
    low = [row["module"] for row in rows[:-1] if row["score"] and float(row["score"]) < args.threshold]
    if low:
        print(f"under {args.threshold:.0%}: {', '.join(low)}", file=sys.stderr)
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
