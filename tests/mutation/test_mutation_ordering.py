"""scripts/mutation/ordering.py: what each test costs, and each mutant's tests cheapest first."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEP = "\x1f"


@pytest.fixture(scope="module")
def ordering():
    spec = importlib.util.spec_from_file_location("mutation_ordering", ROOT / "scripts" / "mutation" / "ordering.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def module_key(module: str, name: str) -> str:
    return SEP.join(("module", module, name, ""))


def test_a_test_behind_an_expensive_module_fixture_runs_after_the_cheap_ones(ordering):
    trained = module_key("tests/a.py", "trained")
    costs = {
        "fixtures": {trained: 30.0},
        "tests": {
            "tests/a.py::t_fit": {"own": 0.1, "shared": [trained]},  # fast call, 30 s of set-up
            "tests/a.py::t_fit2": {"own": 0.5, "shared": [trained]},
            "tests/b.py::t_slow": {"own": 5.0, "shared": []},
            "tests/b.py::t_fast": {"own": 0.2, "shared": []},
        },
    }
    ids = ["tests/a.py::t_fit", "tests/a.py::t_fit2", "tests/b.py::t_slow", "tests/b.py::t_fast"]
    assert [ids[i] for i in ordering.greedy_order(ids, costs)] == [
        "tests/b.py::t_fast", "tests/b.py::t_slow", "tests/a.py::t_fit", "tests/a.py::t_fit2"]


def test_a_live_module_fixture_is_free_only_while_its_module_runs(ordering):
    model = module_key("tests/a.py", "model")
    costs = {
        "fixtures": {model: 3.0},
        "tests": {
            "tests/a.py::t1": {"own": 0.1, "shared": [model]},
            "tests/a.py::t2": {"own": 3.5, "shared": [model]},
            "tests/a.py::t3": {"own": 5.0, "shared": []},
            "tests/b.py::t5": {"own": 1.0, "shared": []},
        },
    }
    ids = list(costs["tests"])
    # t5 (1.0), t1 (3.1: it sets the model up), t2 (3.5 while the model is alive, not 6.5), t3 (5.0)
    assert [ids[i] for i in ordering.greedy_order(ids, costs)] == [
        "tests/b.py::t5", "tests/a.py::t1", "tests/a.py::t2", "tests/a.py::t3"]
    costs["tests"]["tests/b.py::t6"] = {"own": 3.2, "shared": []}
    ids = list(costs["tests"])
    # after t1, t6 (3.2) beats t2 (3.5); leaving tests/a.py tears the model down, so t2 costs 6.5
    # again and comes after t3 (5.0)
    assert [ids[i] for i in ordering.greedy_order(ids, costs)] == [
        "tests/b.py::t5", "tests/a.py::t1", "tests/b.py::t6", "tests/a.py::t3", "tests/a.py::t2"]


def test_unknown_tests_cost_a_second_and_ties_keep_the_given_order(ordering):
    costs = {"fixtures": {}, "tests": {"k::a": {"own": 2.0, "shared": []}, "k::b": {"own": 0.5, "shared": []}}}
    ids = ["new::x", "k::a", "new::y", "k::b"]
    assert [ids[i] for i in ordering.greedy_order(ids, costs)] == ["k::b", "new::x", "new::y", "k::a"]
    assert ordering.greedy_order([], costs) == []


TESTS = '''
    import time
    import pytest

    @pytest.fixture(scope="module")
    def trained():
        time.sleep(1.2)
        return 1

    def test_uses_the_trained_fixture(trained):
        assert trained == 1

    def test_sleeps_on_its_own():
        time.sleep(0.5)

    def test_is_free():
        pass
'''
CONFTEST = '''
    import importlib.util
    def pytest_configure(config):
        spec = importlib.util.spec_from_file_location("ordering_under_test", {path!r})
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.register(config)
'''


def run_pytest(folder: Path, costs: Path, *args: str, **env_vars: str) -> str:
    env = {**os.environ, "XAIREPRO_MUTATION_COSTS": str(costs), **env_vars}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args, "test_toy.py"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_recording_run_times_the_fixture_apart_and_later_runs_use_it(tmp_path):
    (tmp_path / "test_toy.py").write_text(textwrap.dedent(TESTS))
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(CONFTEST.format(path=str(ROOT / "scripts" / "mutation" / "ordering.py"))))
    costs = tmp_path / "costs.json"
    run_pytest(tmp_path, costs)  # no file yet: the run records
    recorded = json.loads(costs.read_text())
    (fixture_key, fixture_s), = recorded["fixtures"].items()
    assert fixture_key.split(SEP)[:3] == ["module", "test_toy.py", "trained"]
    assert 1.15 <= fixture_s < 6.0
    tests = recorded["tests"]
    assert tests["test_toy.py::test_uses_the_trained_fixture"]["shared"] == [fixture_key]
    # wall-clock times on a loaded machine: wide margins around 0, 0.5 s and 1.2 s
    assert tests["test_toy.py::test_uses_the_trained_fixture"]["own"] < 0.45  # the fixture's 1.2 s taken out
    assert 0.48 <= tests["test_toy.py::test_sleeps_on_its_own"]["own"] < 5.0
    assert tests["test_toy.py::test_is_free"]["own"] < 0.45
    # the file exists now: the next run orders (the fixture's test last) and leaves the file as it was
    listed = run_pytest(tmp_path, costs, "--collect-only").split()
    assert [line.split("::")[1] for line in listed if "::" in line] == [
        "test_is_free", "test_sleeps_on_its_own", "test_uses_the_trained_fixture"]
    assert json.loads(costs.read_text()) == recorded
    assert not (tmp_path / "mutant-times.jsonl").exists()  # no mutant under test: nothing logged
    run_pytest(tmp_path, costs, MUTANT_UNDER_TEST="m.x_f__mutmut_1")
    (line,) = (tmp_path / "mutant-times.jsonl").read_text().splitlines()
    logged = json.loads(line)
    assert (logged["mutant"], logged["tests_run"], logged["killed_by"]) == ("m.x_f__mutmut_1", 3, None)
    assert 1.65 <= logged["wall_s"] < 20  # the fixture's 1.2 s and the test's 0.5 s


def test_without_the_variable_nothing_is_registered(ordering, tmp_path, monkeypatch):
    monkeypatch.delenv("XAIREPRO_MUTATION_COSTS", raising=False)

    class Config:
        class pluginmanager:
            @staticmethod
            def register(*args):
                raise AssertionError("registered without XAIREPRO_MUTATION_COSTS")

    ordering.register(Config)
