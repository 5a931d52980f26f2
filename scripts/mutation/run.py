"""`make mutation`: mutmut over the scientific core, one module group at a time.

    python scripts/mutation/run.py [--cores 2] [GROUP ...]
    python scripts/mutation/run.py --recheck [GROUP ...]

A group is source files and the unit tests that exercise them (GROUPS below). Each group
runs in its own folder, results/mutation/work/<group>/, holding a copy of the repository's
package, tests and the files the tests read, and a pyproject.toml whose [tool.mutmut] is the
repository's (isolation, pytest options) with the group's files and tests: mutmut's stats
run (which tests call which function) then runs the group's tests only, and each mutant
only the tests that reach its function, stopping at the first failure: cheapest first, by
what each test and the fixtures it shares cost in the stats run (ordering.py, a pytest plugin
that tests/conftest.py loads when XAIREPRO_MUTATION_COSTS names the file of those costs).
`--recheck` re-runs, in a group's existing folder, only the mutants that survived (or that
no test reached) against the repository's current tests: the tests are copied in again and
mutmut's stats run again, so a new test file is credited with the functions it calls.
Then scripts/mutation/report.py writes results/mutation/score.csv and survivors.md and
this script adds the time of each group to results/mutation/times.csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "results" / "mutation"
sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402  (the sibling script)

sys.path.insert(0, str(ROOT))
from xairepro.common.registry import study_names  # noqa: E402

#: group -> (files to mutate, the tests that exercise them). The union of the files is
#: the scope of issue 24: attribution, metrics, every study's explain and tables (claims
#: and statistics included), and common's claims, statistics, checksums/extraction and
#: config coercion.
GROUPS = {
    "attribution": (["xairepro/attribution/*.py"], ["tests/attribution"]),
    # the pooled correlation of labelfree's claim 3 is tested with labelfree's fact metrics
    "metrics": (["xairepro/metrics/*.py"], ["tests/metrics", "tests/labelfree/test_labelfree_fact_metrics.py"]),
    "common": (
        ["xairepro/common/claims.py", "xairepro/common/stats.py", "xairepro/common/download.py",
         "xairepro/common/config.py"],
        ["tests/common/test_claims.py", "tests/common/test_stats.py", "tests/common/test_download.py",
         "tests/common/test_config.py", "tests/common/test_claims_not_applicable.py",
         "tests/common/test_claims_mutants.py", "tests/common/test_stats_mutants.py",
         "tests/common/test_download_mutants.py", "tests/common/test_config_mutants.py"],
    ),
    **{
        study: ([f"xairepro/{study}/explain.py", f"xairepro/{study}/tables.py"], [f"tests/{study}"])
        for study in sorted(study_names(ROOT))
    },
}
#: what the tests read besides the package (mutmut copies tests/ and these into mutants/)
COPIED = ["xairepro", "tests", "config", "config.yaml", "docs", "rules", "scripts", "envs", "Snakefile",
          "containers", "requirements.txt"]


def toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def group_pyproject(text: str, files: list[str], tests: list[str]) -> str:
    """The repository's pyproject.toml with [tool.mutmut] narrowed to one group."""
    head, _, rest = text.partition("[tool.mutmut]")
    following = re.search(r"(?m)^\[", rest)
    section, tail = (rest[: following.start()], rest[following.start():]) if following else (rest, "")
    section = re.sub(r"(?ms)^only_mutate = \[.*?\]\n", f"only_mutate = {toml_list(files)}\n", section)
    section = re.sub(r"(?ms)^pytest_add_cli_args_test_selection = \[.*?\]\n",
                     f"pytest_add_cli_args_test_selection = {toml_list(tests)}\n", section)
    return head + "[tool.mutmut]" + section + tail


def prepare(group: str, work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, work / name)
    files, tests = GROUPS[group]
    (work / "pyproject.toml").write_text(group_pyproject((ROOT / "pyproject.toml").read_text(), files, tests))


def refresh_tests(work: Path) -> None:
    """The repository's current tests into a group's folder (and mutmut's copy of it), and
    mutmut's stats forgotten, so that its next run maps the new tests to functions."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for target in (work / "tests", work / "mutants" / "tests"):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(ROOT / "tests", target, ignore=ignore)
    (work / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    (work / COSTS).unlink(missing_ok=True)


#: what each test and shared fixture costs, recorded in mutmut's stats run (scripts/mutation/ordering.py)
COSTS = "test-costs.json"

#: the statuses --recheck runs again (mutmut's names; "not checked" is resumed by a plain run)
RECHECKED = {"survived", "no tests", "check was interrupted by user"}


def surviving(work: Path) -> list[str]:
    """Names of the group's mutants that survived or that no test reached, from its .meta files."""
    names = []
    for meta in sorted((work / "mutants").glob("**/*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        names += [name for name, code in codes.items()
                  if code is not None and report.status_of(code) in RECHECKED]
    return names


def run_group(group: str, cores: int, recheck: bool = False) -> dict:
    work = OUT / "work" / group
    names: list[str] = []
    if recheck:
        if not (work / "mutants").is_dir():
            raise SystemExit(f"--recheck {group}: {work}/mutants does not exist; run the group first")
        refresh_tests(work)
        names = surviving(work)
        if not names:
            print(f"{group}: no surviving mutant to re-check", flush=True)
            return {"group": group, "returncode": 0, "wall_s": 0, "cpu_s": 0, "workers": cores}
    else:
        prepare(group, work)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    mutmut = Path(sys.executable).with_name("mutmut")
    log = work / ("mutmut-recheck.log" if recheck else "mutmut.log")
    env = {**os.environ, "XAIREPRO_MUTATION_COSTS": str(work / COSTS)}
    done = subprocess.run([str(mutmut), "run", "--max-children", str(cores), *names], cwd=work, env=env,
                          stdout=open(log, "w"), stderr=subprocess.STDOUT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    row = {"group": f"{group} (recheck)" if recheck else group, "returncode": done.returncode,
           "wall_s": round(time.monotonic() - start), "cpu_s": round(cpu), "workers": cores}
    print(f"{group}: mutmut exit {done.returncode}, {row['wall_s']} s wall, {row['cpu_s']} s CPU", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", help=f"default: every group ({', '.join(GROUPS)})")
    parser.add_argument("--cores", type=int, default=2, help="mutmut's --max-children")
    parser.add_argument("--recheck", action="store_true",
                        help="re-run only the surviving mutants of the groups' last runs against the current tests")
    args = parser.parse_args(argv)
    unknown = set(args.groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s) {sorted(unknown)}; groups: {', '.join(GROUPS)}")
    rows = [run_group(group, args.cores, args.recheck) for group in (args.groups or list(GROUPS))]
    OUT.mkdir(parents=True, exist_ok=True)
    times = OUT / "times.csv"
    old = [r for r in csv.DictReader(open(times))] if times.exists() else []
    keep = [r for r in old if r["group"] not in {row["group"] for row in rows}]
    with open(times, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(keep + rows)
    failed = [row["group"] for row in rows if row["returncode"]]
    if failed:
        print(f"mutmut failed in {', '.join(failed)}: see {OUT}/work/<group>/mutmut.log", file=sys.stderr)
    return report.main([]) or int(bool(failed))


if __name__ == "__main__":
    sys.exit(main())
