"""Which lines of xairepro/ only the paper scale reaches, and whether the smoke run ran them.

    python scripts/smoke/coverage_report.py SMOKE_DATA OUT [--demo DEMO_DATA]

``SMOKE_DATA`` and ``DEMO_DATA`` are folders of coverage data files (``.coverage.*``, one per
process): the paper-scale smoke run's (``make paper-smoke``) and the demo DAG's (written by
``make test``'s demo run, ``test-artefacts/coverage/demo/``). For every module of xairepro/
the statements fall into four sets:

* run by the demo;
* **paper only**: not run by the demo, run by the smoke (the paper path, now executed);
* **unexecuted**: run by neither, each range sorted into a kind: ``tooling`` (modules that
  are no workflow step: benchmarks, the seed sweep, running a script by hand), ``error
  path`` (a ``raise`` or an ``except`` handler: unit tests drive these), ``cuda``, or
  ``other`` (docs/paper-smoke.md says which and why);

Writes ``OUT/coverage.csv`` (one row per module) and ``OUT/coverage.md`` (the table, then
every unexecuted line range with the function that holds it). Without demo data every line
the smoke did not run is listed, and the paper-only column is empty.
"""

from __future__ import annotations

import argparse
import ast
import csv
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "xairepro"


def executed(data_dir: Path) -> dict[str, set[int]]:
    """Lines run per absolute file path, over every ``.coverage.*`` file in ``data_dir``."""
    files = sorted(str(p) for p in data_dir.glob(".coverage*"))
    if not files:
        raise SystemExit(f"{data_dir}: no coverage data (.coverage.*) there")
    data = coverage.CoverageData(no_disk=True)
    for path in files:
        part = coverage.CoverageData(basename=path)
        part.read()
        data.update(part)
    return {str(Path(f).resolve()): set(data.lines(f) or ()) for f in data.measured_files()}


def statements(path: Path) -> set[int]:
    """The executable lines of ``path``, as coverage counts them (pyproject's settings)."""
    cov = coverage.Coverage(config_file=str(ROOT / "pyproject.toml"), data_file=None)
    _, lines, _, _, _ = cov.analysis2(str(path))
    return set(lines)


def enclosing(path: Path) -> list[tuple[int, int, str]]:
    """(first, last, qualified name) of every function and class in ``path``, innermost last."""
    spans = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                spans.append((child.lineno, child.end_lineno or child.lineno, name))
                visit(child, name + ".")

    visit(ast.parse(path.read_text()), "")
    return spans


#: Modules whose code is no step of the workflow: what the two measured runs cannot reach.
TOOLING = {
    "xairepro/common/bench.py": "benchmark hooks (make bench)",
    "xairepro/common/robustness.py": "the seed sweep (snakemake robustness), run by make test outside the measured demo run",
    "xairepro/common/smk.py": "running a script by hand (mock_snakemake) and copying the workflow for tests",
}


def error_lines(path: Path) -> set[int]:
    """Lines of ``path`` inside an ``except`` handler or on a ``raise`` statement: the paths a
    bad input takes, which unit tests drive and these two runs should not."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.ExceptHandler, ast.Raise)):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def category(module: str, first: int, last: int, errors: set[int], source: list[str]) -> str:
    """Why a range of lines ran in neither run, as far as the code says: tooling, an error
    path, a CUDA-only branch, or paper code the smoke did not reach."""
    if module in TOOLING:
        return "tooling"
    if any(line in errors for line in range(first, last + 1)):
        return "error path"
    if any("cuda" in source[line - 1] for line in range(max(first - 1, 1), last + 1)):
        return "cuda"
    return "other"


def owner(line: int, spans: list[tuple[int, int, str]]) -> str:
    """The innermost function or class holding ``line`` (``<module>`` for top-level code)."""
    inside = [(last - first, name) for first, last, name in spans if first <= line <= last]
    return min(inside)[1] if inside else "<module>"


def ranges(lines: list[int]) -> list[tuple[int, int]]:
    """Sorted lines as runs of consecutive numbers."""
    runs: list[tuple[int, int]] = []
    for line in lines:
        if runs and line == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], line)
        else:
            runs.append((line, line))
    return runs


def report(smoke_dir: Path, out: Path, demo_dir: Path | None) -> list[dict]:
    smoke = executed(smoke_dir)
    demo = executed(demo_dir) if demo_dir is not None else None
    rows, unexecuted = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        key = str(path.resolve())
        stmts = statements(path)
        ran_smoke = smoke.get(key, set()) & stmts
        ran_demo = (demo.get(key, set()) & stmts) if demo is not None else set()
        beyond_demo = stmts - ran_demo
        paper_only = beyond_demo & ran_smoke if demo is not None else set()
        neither = sorted(beyond_demo - ran_smoke)
        rows.append({"module": str(path.relative_to(ROOT)), "statements": len(stmts),
                     "demo": len(ran_demo) if demo is not None else "", "smoke": len(ran_smoke),
                     "not_in_demo": len(beyond_demo) if demo is not None else "",
                     "paper_only_run_by_smoke": len(paper_only) if demo is not None else "",
                     "unexecuted": len(neither)})
        if neither:
            spans, errors, source = enclosing(path), error_lines(path), path.read_text().splitlines()
            module = str(path.relative_to(ROOT))
            for first, last in ranges(neither):
                count = sum(1 for line in neither if first <= line <= last)
                unexecuted.append((module, first, last, owner(first, spans),
                                   category(module, first, last, errors, source), count))
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "coverage.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    total = {key: sum(r[key] for r in rows if r[key] != "") for key in rows[0] if key != "module"}
    lines = ["# Coverage of xairepro/ by the demo DAG and the paper-scale smoke run", ""]
    if demo is None:
        lines += ["No demo coverage data was given: every line the smoke did not run is listed.", ""]
    else:
        share = total["paper_only_run_by_smoke"] / max(total["not_in_demo"], 1)
        lines += [f"{total['statements']} statements; the demo DAG runs {total['demo']}; of the "
                  f"{total['not_in_demo']} it does not run, the smoke runs {total['paper_only_run_by_smoke']} "
                  f"({share:.0%}); {total['unexecuted']} stay unexecuted by both (listed below).", ""]
    lines += ["| module | statements | demo | smoke | not in demo | of those, run by smoke | unexecuted |",
              "|---|---|---|---|---|---|---|"]
    for r in rows + [{"module": "**total**", **total}]:
        lines.append(f"| {r['module']} | {r['statements']} | {r['demo']} | {r['smoke']} | {r['not_in_demo']} "
                     f"| {r['paper_only_run_by_smoke']} | {r['unexecuted']} |")
    by_kind: dict[str, int] = {}
    for *_, kind, count in unexecuted:
        by_kind[kind] = by_kind.get(kind, 0) + count
    lines += ["", "## Unexecuted by both runs", "",
              "By kind (a range is `tooling` in a module that is no workflow step, an `error path` when",
              "it holds a `raise` or an `except` handler, `cuda` when it mentions CUDA, else `other`):", "",
              "| kind | statements |", "|---|---|"]
    lines += [f"| {kind} | {count} |" for kind, count in sorted(by_kind.items(), key=lambda kv: -kv[1])]
    lines += ["", "| module | lines | in | kind |", "|---|---|---|---|"]
    for module, first, last, name, kind, _ in unexecuted:
        lines.append(f"| {module} | {first}" + (f"-{last}" if last > first else "") + f" | `{name}` | {kind} |")
    (out / "coverage.md").write_text("\n".join(lines) + "\n")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("smoke", type=Path, help="folder of the smoke run's .coverage.* files")
    parser.add_argument("out", type=Path, help="where coverage.csv and coverage.md go")
    parser.add_argument("--demo", type=Path, help="folder of the demo run's .coverage.* files")
    args = parser.parse_args(argv)
    demo = args.demo if args.demo is not None and any(args.demo.glob(".coverage*")) else None
    if args.demo is not None and demo is None:
        print(f"{args.demo}: no demo coverage data (run `make test` first); listing every line the smoke missed")
    report(args.smoke, args.out, demo)
    print(args.out / "coverage.md")


if __name__ == "__main__":
    main()
