"""Shared fixtures: tiny models with known answers, the repository root, GPU skipping."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("XAIREPRO_PROGRESS", "0")
# Unit tests use tiny tensors: one intra-op thread avoids OpenMP spin-waiting on 2 busy cores.
torch.set_num_threads(1)


#: Fixtures of the session's demo run (tests/workflow/conftest.py).
DEMO_FIXTURES = {"demo_run", "demo_report"}


def pytest_configure(config):
    # `make mutation` only (XAIREPRO_MUTATION_COSTS set): each mutant's tests cheapest first.
    if os.environ.get("XAIREPRO_MUTATION_COSTS"):
        module = sys.modules.get("xairepro_mutation_ordering")
        if module is None:  # loaded once in mutmut's fork server, inherited by every mutant
            spec = importlib.util.spec_from_file_location(
                "xairepro_mutation_ordering", ROOT / "scripts" / "mutation" / "ordering.py")
            module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        module.register(config)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # Marker `demo_run` on every workflow test that reads the session's demo run, before `-m`
    # selects: `make test` runs those in one pytest process (the DAG is built once) and every
    # other workflow test in a second process beside it. (pytest-xdist's --dist loadgroup would
    # do the same in one process, but xdist 3.8.0 sets Item._nodeid, which pytest 9.2 no
    # longer reads: its groups are silently ignored.)
    for item in items:
        if "workflow" in item.keywords and DEMO_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.demo_run)
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


class LinearSoftmax(torch.nn.Module):
    """log_softmax(W x + b) over flattened inputs: its NLL gradient is known in closed form,
    dL/dx = W^T (softmax(Wx + b) - onehot(y))."""

    def __init__(self, n_in: int, n_out: int, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.weight = torch.nn.Parameter(torch.randn(n_out, n_in, generator=generator))
        self.bias = torch.nn.Parameter(torch.randn(n_out, generator=generator))

    def forward(self, x):
        return torch.log_softmax(x.flatten(1) @ self.weight.T + self.bias, dim=1)


@pytest.fixture
def linear_softmax():
    return LinearSoftmax(n_in=16, n_out=3)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
