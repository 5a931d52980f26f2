"""Shared fixtures: tiny models with known answers, the repository root, GPU skipping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("XAIREPRO_PROGRESS", "0")
# Unit tests use tiny tensors: one intra-op thread avoids OpenMP spin-waiting on 2 busy cores.
torch.set_num_threads(1)


#: Fixtures of the session's demo run (tests/workflow/conftest.py): their tests share one worker.
DEMO_FIXTURES = {"demo_run", "demo_report"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # `make test` runs the workflow tests on two pytest-xdist workers with --dist loadgroup:
    # every test of the session's demo run in one group (the DAG is built once, on one
    # worker), every other workflow test grouped by its module (a module's own runs, e.g. a
    # chain built twice from scratch, are built once), so that the user-data chains, the
    # small from-scratch runs and the killed jobs use the cores the demo DAG leaves idle.
    # tryfirst: xdist reads the marks in its own hook of the same name.
    for item in items:
        if "workflow" in item.keywords:
            group = "demo" if DEMO_FIXTURES & set(item.fixturenames) else item.nodeid.split("::")[0]
            item.add_marker(pytest.mark.xdist_group(group))
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
