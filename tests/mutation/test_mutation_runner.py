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


DIFF = """--- xairepro/attribution/loss_gradient.py
+++ xairepro/attribution/loss_gradient.py
@@ -25,5 +25,5 @@
         x = x.detach().requires_grad_(True)
-        chunks.append(self._saliency.attribute(x, abs=False))
+        chunks.append(self._saliency.attribute(x, abs=None))
     return torch.cat(chunks)"""


def test_a_recorded_equivalent_counts_only_while_it_changes_the_recorded_line(runner):
    report = runner.report
    assert report.mutation_of(DIFF) == "chunks.append(self._saliency.attribute(x, abs=None))"
    equivalent = {"m.f__mutmut_1": "abs=None is falsy", "m.f__mutmut_2": "as 1", "m.f__mutmut_3": "not run"}
    recorded = {"m.f__mutmut_1": "chunks.append(self._saliency.attribute(x, abs=None))",
                "m.f__mutmut_2": "chunks.append(self._saliency.attribute(x, abs=None))",
                "m.f__mutmut_3": "anything"}
    # after an edit, number 2 is another mutant: it is scored, and listed with both lines
    other = DIFF.replace("+        chunks.append(self._saliency.attribute(x, abs=None))",
                         "+        x = x.detach().requires_grad_(False)")
    current = {"m.f__mutmut_1": DIFF, "m.f__mutmut_2": other}
    kept, changed = report.confirmed(equivalent, recorded, current)
    assert kept == {"m.f__mutmut_1": "abs=None is falsy", "m.f__mutmut_3": "not run"}
    assert changed == {"m.f__mutmut_2": (recorded["m.f__mutmut_2"], "x = x.detach().requires_grad_(False)")}
    results = {"m": {"m.f__mutmut_1": "survived", "m.f__mutmut_2": "survived"}}
    assert report.score_rows(results, kept)[0]["survived"] == 1
    text = report.survivors_markdown(results, kept, None, changed)
    assert "recorded as equivalent for `chunks.append(self._saliency.attribute(x, abs=None))`" in text
    assert "m.f__mutmut_1" not in text


def test_every_recorded_equivalent_names_its_reason_and_the_line_it_changes(runner):
    reasons, mutations = runner.report.read_equivalent(), runner.report.read_equivalent(column="mutation")
    assert reasons.keys() == mutations.keys()
    for name, mutation in mutations.items():
        assert mutation.strip(), name
        assert runner.report.module_path(name).startswith("xairepro/") and (ROOT / runner.report.module_path(name)).is_file(), name
