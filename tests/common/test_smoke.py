"""The paper-scale smoke run's machinery: the batch cap, the claims marking, the override's
merge, the coverage report's line bookkeeping and the final check (docs/paper-smoke.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from xairepro.common import training
from xairepro.common.claims import NOT_COMPARABLE, Claims, mark_smoke, report_tables
from xairepro.common.io import write_csv
from xairepro.common.registry import study_names
from xairepro.common.smk import snakemake_or_mock
from xairepro.common.stats import binomial_above

ROOT = Path(__file__).resolve().parents[2]


def script(name: str):
    path = ROOT / "scripts" / "smoke" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"smoke_{name}_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def no_cap():
    yield
    training.set_batch_cap(None)


def test_batch_cap_ends_every_epoch_early_and_none_restores_it(no_cap):
    full = list(training.minibatches(10, 3, torch.Generator().manual_seed(0)))
    assert [len(b) for b in full] == [3, 3, 3, 1]
    training.set_batch_cap(2)
    capped = list(training.minibatches(10, 3, torch.Generator().manual_seed(0)))
    # the same shuffled order, cut after two batches
    assert len(capped) == 2 and all(torch.equal(a, b) for a, b in zip(capped, full))
    training.set_batch_cap(None)
    assert len(list(training.minibatches(10, 3, torch.Generator().manual_seed(0)))) == 4
    assert training.capped(2000) == 2000
    training.set_batch_cap(2)
    assert (training.capped(2000), training.capped(1)) == (2, 1)
    with pytest.raises(ValueError, match="at least 1"):
        training.set_batch_cap(0)


def test_every_script_applies_the_smoke_cap_through_snakemake_or_mock(no_cap):
    fake = SimpleNamespace(config={"smoke": {"max_batches_per_epoch": 1}})
    assert snakemake_or_mock({"snakemake": fake}, "unused") is fake
    assert len(list(training.minibatches(8, 2, torch.Generator()))) == 1
    training.set_batch_cap(None)
    snakemake_or_mock({"snakemake": SimpleNamespace(config={"smoke": None})}, "unused")
    assert len(list(training.minibatches(8, 2, torch.Generator()))) == 4


def claims_table() -> pd.DataFrame:
    table = Claims(digits=4)
    table.claim("above chance", "accuracy", "p < 0.01", binomial_above(38, 40, 0.25),
                "weights randomised", binomial_above(11, 40, 0.25))
    table.claim("a failing one", "accuracy", "p < 0.01", binomial_above(11, 40, 0.25),
                "weights randomised", binomial_above(10, 40, 0.25))
    table.invariant("k = 0 occludes nothing", "pixels changed", 0, "0", True)
    return table.frame()


def test_a_smoke_run_marks_every_claim_not_comparable_and_keeps_the_raw_outcomes():
    frame = claims_table()
    assert mark_smoke(frame, None).verdict.tolist() == ["pass", "fail", "holds"]
    marked = mark_smoke(frame, {"max_batches_per_epoch": 2})
    assert marked.verdict.tolist() == [NOT_COMPARABLE, NOT_COMPARABLE, "holds"]
    assert marked["pass"].tolist() == frame["pass"].tolist()
    assert frame.verdict.tolist() == ["pass", "fail", "holds"]  # the input is not modified
    summary, listing = report_tables(marked.assign(study="x"))
    assert summary.loc[0, NOT_COMPARABLE] == 2 and summary.loc[0, "pass"] == 0
    assert set(listing.verdict) == {NOT_COMPARABLE.upper()}


def test_the_override_merges_nested_keys_without_dropping_siblings():
    merge = script("setup").merge
    base = {"a": {"paper": {"epochs": 100, "lr": 0.1}, "url": "x"}, "b": 1}
    out = merge(base, {"a": {"paper": {"epochs": 1}}, "c": 2})
    assert out == {"a": {"paper": {"epochs": 1, "lr": 0.1}, "url": "x"}, "b": 1, "c": 2}
    assert base["a"]["paper"]["epochs"] == 100


def test_every_registered_study_has_a_mirror_writer_and_caps():
    for study in study_names(ROOT):
        assert callable(script(study).write_mirror), study
        assert (ROOT / "config" / "smoke" / f"{study}.yaml").is_file(), study


def test_coverage_report_names_line_runs_and_their_functions(tmp_path):
    report = script("coverage_report")
    assert report.ranges([1, 2, 3, 7, 9, 10]) == [(1, 3), (7, 7), (9, 10)]
    source = tmp_path / "m.py"
    source.write_text("x = 1\n\nclass A:\n    def f(self):\n        return 1\n\n\ndef g():\n    pass\n")
    spans = report.enclosing(source)
    assert report.owner(5, spans) == "A.f"
    assert report.owner(9, spans) == "g"
    assert report.owner(1, spans) == "<module>"


def write_smoke_results(root: Path, verdict: str, flat: bool = False) -> None:
    for study in study_names(ROOT):
        folder = root / "results" / "paper" / study
        folder.mkdir(parents=True)
        frame = mark_smoke(claims_table(), True)
        frame.loc[0, "verdict"] = verdict
        write_csv(folder / "claims.csv", frame)
        plt.imsave(folder / "fig.png", np.zeros((4, 4)) if flat else np.eye(4), cmap="gray")
    write_csv(root / "results" / "paper" / "claims.csv",
              pd.DataFrame({"study": study_names(ROOT), "claim": "c"}))


def test_the_final_check_passes_a_complete_run_and_names_what_is_wrong(tmp_path):
    check = script("check").check
    write_smoke_results(tmp_path / "good", NOT_COMPARABLE)
    assert check(tmp_path / "good") == []
    write_smoke_results(tmp_path / "bad", "pass", flat=True)
    problems = check(tmp_path / "bad")
    assert any("has verdict 'pass'" in p for p in problems)
    assert any("one flat colour" in p for p in problems)
