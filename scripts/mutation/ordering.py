"""A pytest plugin for `make mutation` only: each mutant's tests, cheapest first.

mutmut runs a mutant's tests with `-x` (stop at the first failure) in the order of a set, and
its own duration of a test is the test's call alone: a test whose module fixture trains a
model looks as cheap as an assertion on a closed form. Most mutants are killed by their
first failing test, so the order decides what a mutant costs. Enabled by the environment
variable XAIREPRO_MUTATION_COSTS (a JSON file in the group's folder, set by run.py) through
tests/conftest.py:

- while that file does not exist (mutmut's first full run of the group's tests, its stats
  run), the plugin records what each test costs on its own (its setup, call and teardown,
  less the setup of fixtures it shares with other tests) and what each shared fixture
  (module, class, package or session scope) costs to set up, and writes the file at the end;
- once it exists, every run orders its selected tests greedily: next comes the test whose
  own cost plus the set-up of the shared fixtures it needs that are not alive yet is least
  (a module's fixtures stay alive while the next test is in the same module).

Also, once the tests are collected it moves every object the process holds into Python's
permanent generation (`gc.freeze()`): mutmut forks each mutant from a server that imported
torch and the tests, and each of pytest's end-of-session `gc.collect()` calls otherwise scans
that whole heap again in every mutant (about 0.25 s of 0.5 s for a one-assertion test).
"""

from __future__ import annotations

import gc
import json
import os
import time
from pathlib import Path

import pytest

#: one JSON line per mutant beside the costs file: its wall and CPU seconds, tests run, first failure
MUTANT_TIMES = "mutant-times.jsonl"
#: seconds assumed for a test the recording run did not see (written after it)
UNKNOWN_TEST_S = 1.0
_SCOPE_NODES = {"session": pytest.Session, "package": pytest.Package, "module": pytest.Module,
                "class": pytest.Class}


def _key(scope: str, node_id: str, argname: str, baseid: str) -> str:
    return "\x1f".join((scope, node_id, argname, baseid))


def _node_of_key(key: str) -> str:
    return key.split("\x1f")[1]


def shared_fixtures(item) -> list[str]:
    """Keys of the fixtures of a wider scope than the function that `item` requests."""
    keys = []
    for name in item.fixturenames:
        # pytest keeps the resolved definitions only in a private attribute (pytest 9.2, pinned);
        # the last one is the one in force for this item
        definitions = item._fixtureinfo.name2fixturedefs.get(name)
        if not definitions:
            continue
        fixturedef = definitions[-1]
        if fixturedef.scope == "function":
            continue
        node = item.getparent(_SCOPE_NODES[fixturedef.scope])
        keys.append(_key(fixturedef.scope, node.nodeid if node is not None else "", name, fixturedef.baseid))
    return keys


def greedy_order(nodeids: list[str], costs: dict) -> list[int]:
    """Indices of `nodeids` in the order of least marginal cost first (ties: given order)."""
    tests, fixtures = costs["tests"], costs["fixtures"]
    remaining = list(range(len(nodeids)))
    alive: set[str] = set()
    order = []
    while remaining:
        def marginal(index: int) -> float:
            entry = tests.get(nodeids[index])
            if entry is None:
                return UNKNOWN_TEST_S
            return entry["own"] + sum(fixtures.get(k, 0.0) for k in entry["shared"] if k not in alive)

        best = min(remaining, key=lambda index: (marginal(index), index))
        remaining.remove(best)
        order.append(best)
        nodeid = nodeids[best]
        shared = tests.get(nodeid, {"shared": []})["shared"]
        alive = {k for k in alive | set(shared) if nodeid.startswith(_node_of_key(k))}
    return order


class CostRecorder:
    """Times every test on its own and every shared fixture's set-up; writes them at the end."""

    def __init__(self, path: Path):
        self.path = path
        self.tests: dict[str, dict] = {}
        self.fixtures: dict[str, float] = {}
        self.shared_setup_s = 0.0

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):
        start = time.perf_counter()
        yield
        if fixturedef.scope != "function":
            spent = time.perf_counter() - start
            key = _key(fixturedef.scope, getattr(request.node, "nodeid", ""), fixturedef.argname,
                       fixturedef.baseid)
            self.fixtures.setdefault(key, spent)
            self.shared_setup_s += spent

    def pytest_runtest_logstart(self, nodeid, location):
        self.shared_setup_s = 0.0

    def pytest_runtest_logreport(self, report):
        entry = self.tests.setdefault(report.nodeid, {"own": 0.0, "shared": []})
        entry["own"] += report.duration
        if report.when == "teardown":
            entry["own"] = round(max(entry["own"] - self.shared_setup_s, 0.0), 4)

    def pytest_runtest_setup(self, item):
        self.tests.setdefault(item.nodeid, {"own": 0.0, "shared": []})["shared"] = shared_fixtures(item)

    def pytest_sessionfinish(self, session):
        if not self.tests or self.path.exists():
            return
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps({"tests": self.tests, "fixtures": self.fixtures}, indent=0))
        partial.replace(self.path)


class CostOrder:
    """Orders the selected tests by greedy_order and freezes the heap after collection; under a
    mutant (mutmut's MUTANT_UNDER_TEST), appends one line of what its run cost to `log`."""

    def __init__(self, costs: dict, log: Path):
        self.costs, self.log = costs, log
        self.start = self.cpu = 0.0
        self.ran, self.failed = 0, None

    def pytest_sessionstart(self, session):
        self.start, self.cpu = time.perf_counter(), time.process_time()

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or report.failed:
            self.ran += report.when == "call"
            if report.failed and self.failed is None:
                self.failed = report.nodeid

    def pytest_sessionfinish(self, session, exitstatus):
        mutant = os.environ.get("MUTANT_UNDER_TEST")
        if not mutant:
            return
        line = json.dumps({"mutant": mutant, "wall_s": round(time.perf_counter() - self.start, 3),
                           "cpu_s": round(time.process_time() - self.cpu, 3), "tests_run": self.ran,
                           "killed_by": self.failed})
        with open(self.log, "a") as handle:  # one short write per mutant: whole lines from parallel workers
            handle.write(line + "\n")

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        order = greedy_order([item.nodeid for item in items], self.costs)
        items[:] = [items[index] for index in order]

    def pytest_collection_finish(self, session):
        gc.collect()
        gc.freeze()


_LOADED: dict[str, dict] = {}


def register(config) -> None:
    """Registers the recorder or the orderer when XAIREPRO_MUTATION_COSTS is set (else nothing)."""
    value = os.environ.get("XAIREPRO_MUTATION_COSTS")
    if not value:
        return
    path = Path(value)
    if not path.exists():
        config.pluginmanager.register(CostRecorder(path), "xairepro-mutation-costs")
        return
    if value not in _LOADED:
        _LOADED[value] = json.loads(path.read_text())
    config.pluginmanager.register(CostOrder(_LOADED[value], path.with_name(MUTANT_TIMES)),
                                  "xairepro-mutation-order")
