"""Run the real workflow on the demo config, in a throw-away copy of the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xairepro.common import smk

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
#: Coverage data of the demo run, which `make paper-smoke` compares with its own to find the
#: lines only the paper scale reaches (scripts/smoke/coverage_report.py).
DEMO_COVERAGE = ROOT / "test-artefacts" / "coverage" / "demo"


def snakemake(workdir: Path, *args: str, env: dict | None = None, timeout: int = 900, check: bool = True,
              coverage: Path | None = None):
    """Run snakemake in ``workdir``; return the completed process (stdout and stderr merged).
    With ``coverage`` (a folder), every job's lines of xairepro/ are measured into it."""
    full_env = dict(os.environ, XAIREPRO_PROGRESS="0", **(env or {}))
    command = [str(SNAKEMAKE), *args]
    if coverage is not None:
        full_env["COVERAGE_FILE"] = str(coverage / ".coverage")
        command = [sys.executable, "-m", "coverage", "run", f"--rcfile={ROOT / 'pyproject.toml'}", "-m", "snakemake",
                   *args]
    proc = subprocess.run(command, cwd=workdir, env=full_env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-6000:]}")
    return proc


def jobs_of(output: str) -> dict[str, int]:
    """The 'Job stats' table of a (dry) run: rule -> count."""
    counts, inside = {}, False
    for line in output.splitlines():
        if line.startswith("job ") and "count" in line:
            inside = True
            continue
        if inside:
            parts = line.split()
            if not parts or parts[0] == "total":
                break
            if len(parts) == 2 and parts[1].isdigit():
                counts[parts[0]] = int(parts[1])
    return counts


def assert_resumed_like(resumed: dict, reference: dict, epoch: int, metrics: tuple[str, ...]) -> None:
    """A training record resumed after ``epoch`` equals the uninterrupted one: every epoch of
    the history and every final metric, to rounding."""
    assert resumed["resumed_from_epoch"] == epoch
    assert len(resumed["history"]) == len(reference["history"])
    for got, want in zip(resumed["history"], reference["history"]):
        assert got == pytest.approx(want, rel=1e-6)
    for metric in metrics:
        assert resumed[metric] == pytest.approx(reference[metric], rel=1e-6, abs=1e-9), metric


def settle(workdir: Path) -> None:
    """Mark every output of the shared demo run up to date again after a test re-ran one of
    its upstream jobs (same code and parameters, the same results): a newer upstream file
    would otherwise make every later test see stale downstream jobs."""
    snakemake(workdir, "--touch", "--cores", "1")


def copy_workflow(dest: Path) -> Path:
    return smk.copy_workflow(ROOT, dest)


@pytest.fixture(scope="session")
def fresh_workflow(tmp_path_factory) -> Path:
    """A copy of the workflow with nothing built."""
    return copy_workflow(tmp_path_factory.mktemp("fresh"))


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The whole demo DAG, run once per session on 2 cores, under coverage
    (:data:`DEMO_COVERAGE`) unless ``XAIREPRO_COVERAGE=0`` (CI: the time of a slow machine):
    (workdir, snakemake output)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("demo"))
    shutil.rmtree(DEMO_COVERAGE, ignore_errors=True)
    measured = os.environ.get("XAIREPRO_COVERAGE", "1") != "0"
    if measured:
        DEMO_COVERAGE.mkdir(parents=True)
    # 26 min alone on a slow 2-core machine; `make test` runs other workflow tests beside it
    proc = snakemake(workdir, "--cores", "2", timeout=4500, coverage=DEMO_COVERAGE if measured else None)
    return workdir, proc.stdout


@pytest.fixture(scope="session")
def demo_report(demo_run) -> Path:
    """The HTML report of the shared demo run, built once for every test that reads it."""
    workdir, _ = demo_run
    snakemake(workdir, "--report", "report.html", timeout=300)
    return workdir / "report.html"
