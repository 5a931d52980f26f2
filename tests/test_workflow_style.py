"""The workflow's style, as `make lint` checks it: snakefmt (pinned in requirements.txt) would
change nothing in the Snakefile and rules/, and `snakemake --lint` finds nothing.

Snakemake 9.27.1 accepts `--lint json` but prints text either way (the CLI never passes
the format on), so a lint shows as a "Lints for <rule or snakefile>" block and the exit
status 1; a clean workflow exits 0 with "Congratulations, your workflow is in a good
condition!". The checks are first run on tiny throw-away workflows, clean and not, so that
a failure on the real one is a finding, not a broken check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CLEAN = "Congratulations, your workflow is in a good condition!"
# What `make lint` formats: the Snakefile and every rule file.
FORMATTED = ("Snakefile", "rules/")

CLEAN_SNAKEFILE = '''\
rule a:
    output:
        "a.txt",
    log:
        "logs/a.log",
    conda:
        "env.yaml"
    shell:
        "touch {output} 2> {log}"
'''
# Unformatted (one-line directives) and with lints (no log, no conda env or container).
DIRTY_SNAKEFILE = 'rule a:\n    output: "a.txt"\n    shell: "touch {output}"\n'


def run(workdir: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SNAKEMAKE_PROFILE"}
    return subprocess.run([str(BIN / argv[0]), *argv[1:]], cwd=workdir, env=dict(env, XAIREPRO_PROGRESS="0"),
                          text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)


def snakefmt_check(workdir: Path, *paths: str) -> tuple[bool, str]:
    """(clean, report): `snakefmt --check` exits 0 (1: would reformat, 123: cannot parse);
    the report adds snakefmt's diff when not clean."""
    proc = run(workdir, "snakefmt", "--check", *paths)
    if proc.returncode == 0:
        return True, proc.stdout
    diff = run(workdir, "snakefmt", "--diff", *paths).stdout
    return False, f"snakefmt --check exit {proc.returncode}:\n{proc.stdout[-3000:]}\n{diff[-6000:]}"


def snakemake_lint(workdir: Path) -> tuple[bool, str]:
    """(clean, output) of `snakemake --lint json` in ``workdir``: clean when it exits 0,
    reports no "Lints for" block and congratulates."""
    proc = run(workdir, "snakemake", "--lint", "json")
    clean = proc.returncode == 0 and "Lints for " not in proc.stdout and CLEAN in proc.stdout
    return clean, proc.stdout


def tiny_workflow(path: Path, snakefile: str) -> Path:
    path.mkdir()
    (path / "Snakefile").write_text(snakefile)
    (path / "env.yaml").write_text("dependencies:\n  - python=3.11\n")
    return path


def test_the_checks_pass_on_a_clean_workflow(tmp_path):
    workdir = tiny_workflow(tmp_path / "clean", CLEAN_SNAKEFILE)
    clean, report = snakefmt_check(workdir, "Snakefile")
    assert clean, report
    clean, report = snakemake_lint(workdir)
    assert clean, report


def test_the_checks_fail_on_an_unformatted_linted_workflow(tmp_path):
    workdir = tiny_workflow(tmp_path / "dirty", DIRTY_SNAKEFILE)
    clean, report = snakefmt_check(workdir, "Snakefile")
    assert not clean and "would be changed" in report and "Diff for Snakefile" in report, report
    clean, report = snakemake_lint(workdir)
    assert not clean and "Lints for rule a" in report and "No log directive defined" in report, report
    (workdir / "Snakefile").write_text("rule a:\n    output \"a.txt\"\n")  # a syntax error
    clean, report = snakefmt_check(workdir, "Snakefile")
    assert not clean and "exit 123" in report, report


def test_snakefile_and_rules_are_snakefmt_formatted():
    clean, report = snakefmt_check(ROOT, *FORMATTED)
    assert clean, report


def test_snakemake_lint_finds_nothing():
    clean, output = snakemake_lint(ROOT)
    assert clean, output[-8000:]


def test_make_lint_runs_both_checks():
    """`make lint` runs the same two commands (read with make -n, nothing is run)."""
    proc = subprocess.run(["make", "-n", "lint"], cwd=ROOT, text=True, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "snakefmt --check Snakefile rules/" in proc.stdout
    assert "snakemake --lint" in proc.stdout
