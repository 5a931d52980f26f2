"""The ``not applicable`` verdict: a claim that needs a truth the data do not carry."""

import math

import pandas as pd
import pytest

from xairepro.common.claims import (COLUMNS, NOT_APPLICABLE, NOT_COMPARABLE, Claims, claim_row, failed_claims,
                                    mark_smoke, not_applicable_row, report_tables)
from xairepro.common.stats import Decision

PASSES, FAILS = Decision(0.9, True, p_value=0.001), Decision(0.3, False, p_value=0.4)


def test_not_applicable_row_keeps_the_claim_and_states_why_without_values():
    row = not_applicable_row("TCAV recovers the planted concept", "sign count", "binomial p < 0.01",
                             "random CAVs", "needs the planted concept")
    assert set(row) == set(COLUMNS) and row["verdict"] == NOT_APPLICABLE
    assert row["statistic"] == "sign count (not applicable: needs the planted concept)"
    assert math.isnan(row["value"]) and math.isnan(row["control_value"])
    assert row["pass"] is False and row["control_pass"] is False and row["control"] == "random CAVs"


def test_not_applicable_needs_a_reason():
    with pytest.raises(ValueError, match="without a reason"):
        not_applicable_row("c", "s", "t", "r", "")


def test_not_applicable_is_neither_failed_nor_turned_into_not_comparable_by_a_smoke_run():
    table = Claims()
    table.claim("accuracy", "s", "t", PASSES, "r", FAILS)
    table.not_applicable("planted", "s", "t", "r", "no planted truth")
    frame = table.frame()
    assert failed_claims(frame) == []
    assert mark_smoke(frame, True).verdict.tolist() == [NOT_COMPARABLE, NOT_APPLICABLE]


def test_report_counts_not_applicable_only_where_a_table_has_it():
    table = pd.concat([
        pd.DataFrame([claim_row("a", "s", "t", PASSES, "r", FAILS),
                      not_applicable_row("b", "s", "t", "r", "why")], columns=list(COLUMNS)).assign(study="x"),
        pd.DataFrame([claim_row("c", "s", "t", PASSES, "r", FAILS)], columns=list(COLUMNS)).assign(study="y"),
    ])
    summary, listing = report_tables(table)
    assert summary[NOT_APPLICABLE].tolist() == [1, 0] and NOT_COMPARABLE not in summary
    assert listing.verdict.tolist() == ["PASS", "NOT APPLICABLE", "PASS"] and listing.measured[1] == ""
    summary_without, _ = report_tables(table[table.study == "y"])
    assert NOT_APPLICABLE not in summary_without
