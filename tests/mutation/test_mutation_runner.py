"""scripts/mutation/run.py: a group's pyproject, and which mutants `--recheck` runs again."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def runner():
    spec = importlib.util.spec_from_file_location("mutation_run", ROOT / "scripts" / "mutation" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "scripts" / "mutation"))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "scripts" / "mutation"))
    return module


def test_group_pyproject_narrows_files_and_tests_and_keeps_the_rest(runner):
    text = (ROOT / "pyproject.toml").read_text()
    narrowed = runner.group_pyproject(text, ["xairepro/lossgrad/tables.py"], ["tests/lossgrad"])
    section = narrowed.split("[tool.mutmut]", 1)[1]
    assert 'only_mutate = ["xairepro/lossgrad/tables.py"]\n' in section
    assert 'pytest_add_cli_args_test_selection = ["tests/lossgrad"]\n' in section
    assert "tests/metrics" not in section  # the other groups' tests are gone
    assert 'process_isolation = "forkserver"' in section
    assert narrowed.split("[tool.mutmut]", 1)[0] == text.split("[tool.mutmut]", 1)[0]


def test_an_equivalent_mutant_a_stopped_run_never_checked_is_not_scored(runner):
    results = {"m": {"m.f__mutmut_1": "killed", "m.f__mutmut_2": "survived", "m.f__mutmut_3": "not checked"}}
    row = runner.report.score_rows(results, {"m.f__mutmut_3": "why", "m.f__mutmut_2": "why"})[0]
    assert (row["checked"], row["killed"], row["equivalent"], row["survived"], row["not_checked"]) == (2, 1, 1, 0, 1)
    assert row["score"] == "1.000"


def test_recheck_selects_the_survivors_and_the_unreached_only(runner, tmp_path):
    meta = tmp_path / "mutants" / "xairepro" / "lossgrad" / "tables.py.meta"
    meta.parent.mkdir(parents=True)
    # mutmut's exit codes: 1 killed, 0 survived, 33 no tests, 36 timeout, None not checked, 2 interrupted
    codes = {"t.x_f__mutmut_1": 1, "t.x_f__mutmut_2": 0, "t.x_f__mutmut_3": 33, "t.x_f__mutmut_4": 36,
             "t.x_f__mutmut_5": None, "t.x_f__mutmut_6": 2}
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    assert runner.surviving(tmp_path) == ["t.x_f__mutmut_2", "t.x_f__mutmut_3", "t.x_f__mutmut_6"]


def test_refresh_tests_copies_the_current_tests_and_forgets_the_stats(runner, tmp_path):
    (tmp_path / "mutants" / "tests").mkdir(parents=True)
    (tmp_path / "mutants" / "tests" / "stale_test.py").write_text("")
    (tmp_path / "mutants" / "mutmut-stats.json").write_text("{}")
    runner.refresh_tests(tmp_path)
    assert (tmp_path / "tests" / "mutation" / "test_mutation_runner.py").is_file()
    assert (tmp_path / "mutants" / "tests" / "mutation" / "test_mutation_runner.py").is_file()
    assert not (tmp_path / "mutants" / "tests" / "stale_test.py").exists()
    assert not (tmp_path / "mutants" / "mutmut-stats.json").exists()
