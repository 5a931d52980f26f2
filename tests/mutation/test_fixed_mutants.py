"""A fixed subset of mutants, one per family of bugs issue 24 listed, run in `make test`.

Each mutant is one textual edit of a copy of xairepro/ in a temporary folder; its killing
test runs in a fresh interpreter that imports that copy (``python -P``: the working
directory is not put first on sys.path, PYTHONPATH is). The test must pass on an unmutated
copy and fail on each mutant. The whole mutation run is `make mutation` (docs/testing.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# (id, file, original text, mutated text, killing test)
MUTANTS = [
    (
        "representation-shift-sum-over-items",
        "xairepro/metrics/representation.py",
        ".sum(dim=1).mean())",
        ".sum(dim=1).sum())",
        "tests/metrics/test_metric_closed_forms.py::test_representation_shift_is_the_mean_over_items_of_the_squared_distance",
    ),
    (
        "detection-frame-at-threshold-positive",
        "xairepro/metrics/detection.py",
        "decided = p > threshold",
        "decided = p >= threshold",
        "tests/metrics/test_detection.py::test_a_frame_at_the_threshold_counts_as_negative",
    ),
    (
        "config-boolean-cast",
        "xairepro/common/config.py",
        'return value.lower() == "true"',
        "return bool(value)",
        "tests/common/test_config.py::test_a_boolean_from_the_command_line_keeps_its_truth",
    ),
    (
        "archive-dotdot-member-allowed",
        "xairepro/common/download.py",
        'pure.is_absolute() or ".." in pure.parts or',
        "pure.is_absolute() or",
        "tests/common/test_download.py",
    ),
    (
        "amt-quantile-per-batch",
        "xairepro/esc50/explain.py",
        "torch.quantile(sal.flatten(1), self.quantile, dim=1).view(-1, 1, 1)",
        "torch.quantile(sal.flatten(), self.quantile)",
        "tests/esc50/test_esc50_amt_quantile.py::test_each_clip_is_thresholded_at_its_own_quantile",
    ),
    (
        "tcav-zero-sensitivity-positive",
        "xairepro/pianist/explain.py",
        "counts[p] = (sp > 0).mean(0)",
        "counts[p] = (sp >= 0).mean(0)",
        "tests/pianist/test_tcav.py::test_a_zero_sensitivity_is_not_a_positive_one",
    ),
]


def copy_package(destination: Path) -> Path:
    shutil.copytree(ROOT / "xairepro", destination / "xairepro", ignore=shutil.ignore_patterns("__pycache__"))
    return destination


def run_tests(package_root: Path, tests: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(package_root), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-P", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *tests]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_the_copy_is_what_the_tests_import(tmp_path):
    copy_package(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-P", "-c", "import xairepro; print(xairepro.__file__)"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert Path(done.stdout.strip()).resolve() == (tmp_path / "xairepro" / "__init__.py").resolve()


def test_every_killing_test_passes_on_the_original(tmp_path):
    done = run_tests(copy_package(tmp_path), sorted({mutant[4] for mutant in MUTANTS}))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


@pytest.mark.parametrize("name,path,original,mutated,killer", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_the_mutant_is_killed(tmp_path, name, path, original, mutated, killer):
    source = copy_package(tmp_path) / path
    text = source.read_text()
    assert text.count(original) == 1, f"{path} no longer holds {original!r} once: update the mutant {name}"
    source.write_text(text.replace(original, mutated))
    done = run_tests(tmp_path, [killer])
    assert done.returncode == 1, f"{name} survived {killer}:\n" + done.stdout[-3000:] + done.stderr[-2000:]


def test_a_group_narrows_mutmuts_scope_and_tests_only():
    sys.path.insert(0, str(ROOT / "scripts" / "mutation"))
    import run

    import tomllib

    text = (ROOT / "pyproject.toml").read_text()
    narrowed = tomllib.loads(run.group_pyproject(text, *run.GROUPS["metrics"]))
    full = tomllib.loads(text)
    assert narrowed["tool"]["mutmut"]["only_mutate"] == ["xairepro/metrics/*.py"]
    assert narrowed["tool"]["mutmut"]["pytest_add_cli_args_test_selection"] == [
        "tests/metrics", "tests/labelfree/test_labelfree_fact_metrics.py"]
    for key in ("pytest", "coverage", "setuptools"):
        assert narrowed["tool"][key] == full["tool"][key]
    # the groups together mutate exactly the files the repository's [tool.mutmut] names
    def expand(patterns):
        return sorted({str(p.relative_to(ROOT)) for pattern in patterns for p in ROOT.glob(pattern)})

    assert expand(f for files, _ in run.GROUPS.values() for f in files) == expand(full["tool"]["mutmut"]["only_mutate"])


def test_the_score_leaves_out_equivalent_mutants_and_counts_timeouts_as_killed():
    sys.path.insert(0, str(ROOT / "scripts" / "mutation"))
    import report

    results = {"m": {"m.f__mutmut_1": "killed", "m.f__mutmut_2": "timeout", "m.f__mutmut_3": "survived",
                     "m.f__mutmut_4": "survived", "m.f__mutmut_5": "no tests"}}
    rows = report.score_rows(results, {"m.f__mutmut_4": "why"})
    assert rows[0]["killed"] == 2 and rows[0]["equivalent"] == 1 and rows[0]["survived"] == 2
    assert rows[0]["score"] == "0.500" and rows[-1]["module"] == "total" and rows[-1]["score"] == "0.500"
    text = report.survivors_markdown(results, {"m.f__mutmut_4": "why"}, None)
    assert "m.f__mutmut_3" in text and "m.f__mutmut_5" in text and "m.f__mutmut_4" not in text
    for name, reason in report.read_equivalent().items():
        assert name.startswith("xairepro.") and "__mutmut_" in name and len(reason) > 20, name
