"""Claims across studies, on the demo DAG of the session: the one cross-study table, and
(`make test-sweep`) every claim again at a seed offset no study's tests were tuned on
(`snakemake robustness`)."""

import numpy as np
import pytest
from PIL import Image

from xairepro.common.claims import broken_invariants, failed_claims
from xairepro.common.io import read_csv
from xairepro.common.registry import study_names

from .conftest import snakemake

pytestmark = pytest.mark.workflow


def test_the_cross_study_table_holds_every_claim_with_its_control(demo_run):
    workdir, _ = demo_run
    table = read_csv(workdir / "results/demo/claims.csv")
    assert sorted(set(table.study)) == sorted(study_names(workdir))
    claims = table[table.kind == "claim"]
    assert claims.groupby("study").size().min() >= 3, "every study makes claims"
    assert claims.control.notna().all() and (claims.control.str.len() > 0).all()
    assert claims.statistic.notna().all() and claims.threshold.notna().all()
    assert claims.p_value.notna().sum() + claims.ci_low.notna().sum() >= len(claims), "a p-value or an interval"
    assert failed_claims(table) == []
    assert broken_invariants(table) == []


@pytest.mark.sweep
def test_every_claim_holds_at_an_unseen_seed_offset(demo_run):
    """`make test-sweep`, outside `make test`: a second demo DAG, which CI's time does not
    hold on a slow 2-core machine (docs/testing.md)."""
    workdir, _ = demo_run
    snakemake(workdir, "robustness", "--cores", "2", "--config", "robustness_offsets=[0, 1]", timeout=2700)
    reference = read_csv(workdir / "results/demo/claims.csv")
    rates = read_csv(workdir / "results/robustness/pass_rates.csv")
    assert len(rates) == (reference.kind == "claim").sum() and (rates.offsets == 2).all()
    not_passing = rates[rates.pass_rate < 1]
    assert not_passing.empty, "\n" + not_passing[["study", "claim", "not_passed_at"]].to_string()
    moved = read_csv(workdir / "results/robustness/claims.csv")
    zero, one = (moved[moved.offset == k].set_index(["study", "claim"]).value for k in (0, 1))
    assert (zero != one.reindex(zero.index)).mean() > 0.5, "offset 1 must give other numbers"
    for study in study_names(workdir):
        image = np.asarray(Image.open(workdir / f"results/robustness/fig_pass_rates_{study}.png").convert("L"))
        assert image.std() > 10, study
