"""Same config and seed -> byte-identical tables on the CPU. (Other seeds giving other
numbers and the same claims: tests/workflow/test_claims_workflow.py, for every study.)"""

import json

import pytest

from .conftest import copy_workflow, snakemake

pytestmark = pytest.mark.workflow
TARGET = "results/demo/lossgrad/mnist_roar.csv"


def small_config(seed: int) -> str:
    return "lossgrad=" + json.dumps({"mnist": {"demo": {
        "seeds": [seed], "epochs": 2, "occlude": [78, 392],
        "classifiers": [{"classifier_type": "sigmoid", "num_classes": 2}],
    }}})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = {}
    for name, seed in (("first", 0), ("again", 0)):
        workdir = copy_workflow(tmp_path_factory.mktemp(name))
        snakemake(workdir, TARGET, "--cores", "2", "--config", small_config(seed))
        out[name] = workdir / TARGET
    return out


def without_commit(path):
    """The table's bytes minus its git_commit stamp (the checkout may change between runs)."""
    return b"".join(line for line in path.read_bytes().splitlines(keepends=True) if not line.startswith(b"# git_commit"))


@pytest.mark.determinism
def test_same_seed_gives_identical_tables(runs):
    assert without_commit(runs["first"]) == without_commit(runs["again"])
    models = "results/demo/lossgrad/mnist_models.csv"
    first_dir = runs["first"].parents[3]
    again_dir = runs["again"].parents[3]
    assert without_commit(first_dir / models) == without_commit(again_dir / models)
