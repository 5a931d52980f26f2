"""Same config and seed -> byte-identical tables on the CPU; another seed -> other numbers."""

import json

import pytest

from xairepro.common.io import read_csv
from xairepro.lossgrad.tables import mnist_claims

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
    for name, seed in (("first", 0), ("again", 0), ("other", 1)):
        workdir = copy_workflow(tmp_path_factory.mktemp(name))
        snakemake(workdir, TARGET, "--cores", "2", "--config", small_config(seed))
        out[name] = workdir / TARGET
    return out


def without_commit(path):
    """The table's bytes minus its git_commit stamp (the checkout may change between runs)."""
    return b"".join(line for line in path.read_bytes().splitlines(keepends=True) if not line.startswith(b"# git_commit"))


def test_same_seed_gives_identical_tables(runs):
    assert without_commit(runs["first"]) == without_commit(runs["again"])
    models = "results/demo/lossgrad/mnist_models.csv"
    first_dir = runs["first"].parents[3]
    again_dir = runs["again"].parents[3]
    assert without_commit(first_dir / models) == without_commit(again_dir / models)


def test_other_seed_gives_other_numbers_and_the_same_claims(runs):
    first, other = read_csv(runs["first"]), read_csv(runs["other"])
    assert len(first) == len(other) and list(first.columns) == list(other.columns)
    keys = ["method", "replacement", "order", "k"]
    merged = first.merge(other, on=keys, suffixes=("_0", "_1"))
    assert not (merged.loss_0 == merged.loss_1).all()
    claims = [mnist_claims(read_csv(path), read_csv(path.parent / "mnist_models.csv"), "demo")
              for path in (runs["first"], runs["other"])]
    assert list(claims[0].claim) == list(claims[1].claim) and len(claims[0]) >= 8
    for table in claims:
        assert table["pass"].all(), table.to_string()
