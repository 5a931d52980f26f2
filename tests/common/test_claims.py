"""The one claims-table builder: columns, verdicts, controls, invariants, rounding."""

import math

import numpy as np
import pandas as pd
import pytest

from xairepro.common.claims import (COLUMNS, Claims, broken_invariants, claim_row, claims_frame, claims_only,
                                    failed_claims, invariant_row, report_tables, verdict)
from xairepro.common.stats import Decision, binomial_above

PASSES, FAILS = Decision(0.9, True, p_value=0.001), Decision(0.3, False, p_value=0.4)


def test_a_claim_passes_only_when_its_control_fails():
    assert verdict(True, False) == "pass"
    assert verdict(True, True) == "uninformative"
    assert verdict(False, False) == verdict(False, True) == "fail"
    assert claim_row("c", "s", "t", PASSES, "random", PASSES)["verdict"] == "uninformative"
    assert claim_row("c", "s", "t", FAILS, "random", FAILS)["verdict"] == "fail"


def test_every_claim_names_its_control():
    with pytest.raises(ValueError, match="no negative control"):
        claim_row("c", "s", "t", PASSES, "", FAILS)


def test_rows_carry_the_statistic_and_the_control_rounded_to_the_tables_digits():
    table = Claims(digits=3)
    table.claim("the classifier is above chance", "accuracy", "binomial p < 0.01 vs 0.25",
                binomial_above(np.int64(35), 40, 0.25), "weights randomised", binomial_above(9, 40, 0.25))
    table.invariant("k = 0 occludes nothing", "pixels occluded at k = 0", np.float32(0.0), "== 0", np.bool_(True))
    frame = table.frame()
    assert list(frame.columns) == list(COLUMNS)
    claim, invariant = frame.iloc[0], frame.iloc[1]
    assert claim.value == 0.875 and claim.control_value == 0.225 and claim.p_value < 0.01
    assert claim.verdict == "pass" and not claim.control_pass
    assert invariant.kind == "invariant" and invariant.verdict == "holds" and invariant.control == ""
    assert type(table.rows[1]["pass"]) is bool and math.isnan(invariant.p_value)


def test_helpers_list_what_did_not_pass():
    frame = claims_frame([claim_row("good", "s", "t", PASSES, "r", FAILS), claim_row("bad", "s", "t", FAILS, "r", FAILS),
                          claim_row("null", "s", "t", PASSES, "r", PASSES),
                          invariant_row("k0", "s", 0, "== 0", False), invariant_row("k1", "s", 1, "== 1", True)])
    assert list(claims_only(frame).claim) == ["good", "bad", "null"]
    assert [line.split(" [")[0] for line in failed_claims(frame)] == ["bad", "null"]
    assert "uninformative" in failed_claims(frame)[1]
    assert broken_invariants(frame) == ["k0"]


def test_missing_values_stay_missing_and_an_empty_table_keeps_its_columns():
    row = claim_row("c", "s", "t", Decision(float("nan"), False), "r", FAILS, digits=2)
    assert math.isnan(row["value"]) and math.isnan(row["ci_low"])
    assert invariant_row("c", "s", None, "x", True)["value"] is None
    assert list(claims_frame([]).columns) == list(COLUMNS)


def test_report_tables_count_verdicts_per_study_and_show_claims_as_written():
    def study(name, rows):
        return claims_frame(rows).assign(study=name)

    table = pd.concat([
        study("a", [claim_row("|g| * x beats chance", "s", "t", PASSES, "r", FAILS),
                    claim_row("bad_one", "s", "t", FAILS, "r", FAILS), invariant_row("k0", "s", 0, "== 0", True)]),
        study("b", [claim_row("null", "s", "t", Decision(0.5, True, ci_low=0.4, ci_high=0.6), "r", PASSES),
                    invariant_row("k1", "s", 1, "== 1", False)]),
    ])
    summary, listing = report_tables(table)
    assert summary.to_dict("records") == [
        {"study": "a", "claims": 2, "pass": 1, "fail": 1, "uninformative": 0, "invariants holding": 1,
         "invariants broken": 0},
        {"study": "b", "claims": 1, "pass": 0, "fail": 0, "uninformative": 1, "invariants holding": 0,
         "invariants broken": 1},
    ]
    assert list(listing.verdict) == ["PASS", "FAIL", "UNINFORMATIVE"]
    # reStructuredText shows these as written: no substitution |g|, no emphasis, no reference
    assert listing.claim[0] == r"\|g\| \* x beats chance" and listing.claim[1] == r"bad\_one"
    assert listing.measured[0] == "0.9 (p = 0.001)" and listing.measured[2] == "0.5 [0.4, 0.6]"
    assert listing["control measured"][0] == "0.3 (p = 0.4)"
