"""Per-module mutation score and the list of surviving mutants, from mutmut's results.

    python scripts/mutation/report.py [--out results/mutation]

Reads results/mutation/work/<group>/mutants/<file>.meta (what `mutmut run` leaves in the
folder of each group of scripts/mutation/run.py, one per mutated source file) and
scripts/mutation/equivalent.csv (mutants recorded as equivalent, each with its reason and the
line it changes), and
writes <out>/score.csv (one row per module: mutants, checked, killed, equivalent, survived,
score = killed / (checked - equivalent)) and <out>/survivors.md (every mutant neither
killed nor recorded as equivalent, with its diff). Mutants a stopped run left unchecked
are counted apart and not scored. Exit 1 when a module scores under
--threshold (default 0.9). Timeouts count as killed (the mutant made a test hang);
"no tests" as survived (no selected test reaches the mutated function).

mutmut names a mutant by its function and a running number, so an edit of the function can
give a recorded number to another mutant. A recorded mutant counts as equivalent only while
the line it changes (its `mutation`, the diff's new lines) is still the recorded one; one
that differs is scored as survived and listed apart in survivors.md.
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


def read_equivalent(path: Path = EQUIVALENT, column: str = "reason") -> dict[str, str]:
    """Mutant name -> the reason it cannot change any observable result (or, with
    column="mutation", the new line(s) of its diff as recorded)."""
    with open(path, newline="") as handle:
        return {row["mutant"]: row[column] for row in csv.DictReader(handle) if row["mutant"].strip()}


def module_path(name: str) -> str:
    """xairepro.metrics.curves.x_f__mutmut_3 -> xairepro/metrics/curves.py"""
    return name.rsplit(".", 1)[0].replace(".", "/") + ".py"


#: run in a group's folder: mutmut's diff of each mutant named on the command line, as JSON
_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
path = lambda name: name.rsplit(".", 1)[0].replace(".", "/") + ".py"
print(json.dumps({name: get_diff_for_mutant(name, path=path(name)) for name in sys.argv[1:]}))
"""


def diffs(names: list[str], work: Path) -> dict[str, str]:
    """mutmut's diff of each mutant, asked once per group folder that holds some of them."""
    folders: dict[Path, list[str]] = {}
    for meta in work.glob("*/mutants/**/*.py.meta"):
        group, module = group_and_module(meta, work)
        folders.setdefault(group, []).extend(n for n in names if n.rsplit(".", 1)[0] == module)
    found: dict[str, str] = {}
    for group, members in folders.items():
        if members:
            done = subprocess.run([sys.executable, "-c", _DIFFS, *members], cwd=group, capture_output=True,
                                  text=True, check=True)
            found.update(json.loads(done.stdout))
    return found


def mutation_of(diff: str) -> str:
    """The new line(s) of a diff, stripped and joined: what equivalent.csv records of a mutant."""
    return " | ".join(line[1:].strip() for line in diff.splitlines()
                      if line.startswith("+") and not line.startswith("+++"))


def confirmed(equivalent: dict[str, str], recorded: dict[str, str], current: dict[str, str]) -> tuple[dict, dict]:
    """The recorded equivalents whose mutation is still the recorded one, and the others
    (name -> (recorded, current)). Mutants with no current diff (not run) stay as recorded."""
    kept, changed = {}, {}
    for name, reason in equivalent.items():
        if name in current and mutation_of(current[name]) != recorded.get(name, ""):
            changed[name] = (recorded.get(name, ""), mutation_of(current[name]))
        else:
            kept[name] = reason
    return kept, changed


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


def survivors_markdown(results: dict[str, dict[str, str]], equivalent: dict[str, str], work: Path | None,
                       changed: dict[str, tuple[str, str]] | None = None) -> str:
    lines = ["# Surviving mutants", "", "Neither killed by a test nor recorded in scripts/mutation/equivalent.csv.", ""]
    left = {module: [n for n, s in statuses.items() if s not in KILLED and s != "not checked" and n not in equivalent]
            for module, statuses in sorted(results.items())}
    shown = diffs([n for names in left.values() for n in names], work) if work is not None else {}
    for module, names in left.items():
        if not names:
            continue
        lines += [f"## {module} ({len(names)})", ""]
        for name in names:
            lines.append(f"- `{name}`: {results[module][name]}")
            if name in (changed or {}):
                lines.append(f"  (recorded as equivalent for `{changed[name][0]}`; the mutant is `{changed[name][1]}` now)")
            if name in shown:
                lines += ["", "```diff", shown[name], "```", ""]
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
    recorded = read_equivalent()
    candidates = [n for statuses in results.values() for n, s in statuses.items()
                  if n in recorded and s not in KILLED | {"not checked"}]
    equivalent, changed = confirmed(recorded, read_equivalent(column="mutation"), diffs(candidates, args.work))
    rows = score_rows(results, equivalent)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "score.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (args.out / "survivors.md").write_text(
        survivors_markdown(results, equivalent, None if args.no_diffs else args.work, changed))
    if changed:
        print(f"{len(changed)} mutant(s) recorded as equivalent are other mutants now: see survivors.md",
              file=sys.stderr)
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
