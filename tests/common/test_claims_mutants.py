"""Tests written to kill the surviving mutants of xairepro.common.claims (issue 24).

Every row builder compared whole (each column by name, rounded where the table rounds),
the numbers ``_number`` converts and the ones it leaves alone, smoke runs, and the two
report tables: their exact columns, study order, and how a measured value is written.
"""

import math

import numpy as np
import pandas as pd
import pytest

from xairepro.common.claims import (COLUMNS, NOT_APPLICABLE, NOT_COMPARABLE, Claims, _measured, _number,
                                    claim_row, claims_frame, invariant_row, mark_smoke, not_applicable_row,
                                    report_tables)
from xairepro.common.stats import Decision

NAN = math.nan
RESULT = Decision(0.123456, True, p_value=0.000123456, ci_low=0.111111, ci_high=0.155555)
CONTROL = Decision(0.0456789, False, p_value=0.456789)


def same(row: dict, expected: dict) -> bool:
    """Equal key for key (in COLUMNS order), NaN equal to NaN, types of bools kept."""
    assert list(row) == list(COLUMNS) == list(expected)
    for key in COLUMNS:
        got, want = row[key], expected[key]
        if isinstance(want, float) and math.isnan(want):
            assert isinstance(got, float) and math.isnan(got), key
        else:
            assert got == want and type(got) is type(want), (key, got, want)
    return True


CLAIM_ROUNDED = {"claim": "above chance", "kind": "claim", "statistic": "accuracy", "threshold": "p < 0.01",
                 "value": 0.123, "p_value": 0.0, "ci_low": 0.111, "ci_high": 0.156, "pass": True,
                 "control": "weights randomised", "control_value": 0.046, "control_p_value": 0.457,
                 "control_pass": False, "verdict": "pass"}


# --------------------------------------------------------------------------- _number
@pytest.mark.parametrize("value,digits,expected", [
    (0.123456, 3, 0.123), (3, 2, 3.0), (np.int64(3), 2, 3.0), (np.float32(0.25), 1, 0.2),
    (np.float64(2.71828), 2, 2.72), (0.123456, None, 0.123456), (np.bool_(True), None, 1.0)])
def test_number_turns_plain_and_numpy_numbers_into_rounded_floats(value, digits, expected):
    got = _number(value, digits)
    assert type(got) is float and got == expected


@pytest.mark.parametrize("value", [True, False, None, "n/a"])
def test_number_leaves_bools_none_and_text_as_given(value):
    assert _number(value, 2) is value


def test_number_keeps_infinities_and_nan():
    assert _number(math.inf, 2) == math.inf and math.isnan(_number(NAN, 2))


# --------------------------------------------------------------------------- rows
def test_claim_row_whole_with_every_number_rounded():
    row = claim_row("above chance", "accuracy", "p < 0.01", RESULT, "weights randomised", CONTROL, digits=3)
    assert same(row, CLAIM_ROUNDED)


def test_claim_row_whole_unrounded_and_with_numpy_flags():
    result = Decision(np.float64(0.5), np.bool_(True), p_value=np.float64(0.25))
    control = Decision(0.75, np.bool_(True), p_value=0.125)
    row = claim_row("c", "s", "t", result, "r", control)
    assert same(row, {"claim": "c", "kind": "claim", "statistic": "s", "threshold": "t", "value": 0.5,
                      "p_value": 0.25, "ci_low": NAN, "ci_high": NAN, "pass": True, "control": "r",
                      "control_value": 0.75, "control_p_value": 0.125, "control_pass": True,
                      "verdict": "uninformative"})


def test_not_applicable_row_whole():
    row = not_applicable_row("planted", "sign count", "p < 0.01", "random CAVs", "no planted concept")
    assert same(row, {"claim": "planted", "kind": "claim",
                      "statistic": "sign count (not applicable: no planted concept)", "threshold": "p < 0.01",
                      "value": NAN, "p_value": NAN, "ci_low": NAN, "ci_high": NAN,
                      "pass": False, "control": "random CAVs", "control_value": NAN, "control_p_value": NAN,
                      "control_pass": False, "verdict": NOT_APPLICABLE})


def test_not_applicable_without_a_reason_names_the_claim():
    with pytest.raises(ValueError) as info:
        not_applicable_row("planted", "s", "t", "r", "")
    assert str(info.value) == "claim 'planted' is not applicable without a reason"


@pytest.mark.parametrize("holds,verdict", [(np.bool_(True), "holds"), (0, "broken")])
def test_invariant_row_whole(holds, verdict):
    row = invariant_row("k = 0", "pixels occluded", np.float32(0.123456), "== 0", holds, digits=2)
    assert same(row, {"claim": "k = 0", "kind": "invariant", "statistic": "pixels occluded", "threshold": "== 0",
                      "value": 0.12, "p_value": NAN, "ci_low": NAN, "ci_high": NAN, "pass": bool(holds),
                      "control": "", "control_value": NAN, "control_p_value": NAN, "control_pass": False,
                      "verdict": verdict})


def test_the_claims_table_rounds_and_passes_every_field_through():
    table = Claims(digits=3)
    assert table.digits == 3
    table.claim("above chance", "accuracy", "p < 0.01", RESULT, "weights randomised", CONTROL)
    table.not_applicable("planted", "sign count", "p < 0.01", "random CAVs", "no planted concept")
    table.invariant("k = 0", "pixels occluded", 0.123456, "== 0", True)
    table.extend([invariant_row("extra", "s", 1, "== 1", False)])
    assert same(table.rows[0], CLAIM_ROUNDED)
    assert same(table.rows[1], not_applicable_row("planted", "sign count", "p < 0.01", "random CAVs",
                                                  "no planted concept"))
    assert same(table.rows[2], invariant_row("k = 0", "pixels occluded", 0.123456, "== 0", True, digits=3))
    assert table.rows[2]["value"] == 0.123
    assert table.frame().claim.tolist() == ["above chance", "planted", "k = 0", "extra"]


def test_a_table_without_digits_keeps_full_precision():
    table = Claims()
    table.claim("c", "s", "t", RESULT, "r", CONTROL)
    table.invariant("i", "s", 0.123456, "x", True)
    assert table.rows[0]["value"] == 0.123456 and table.rows[1]["value"] == 0.123456


# --------------------------------------------------------------------------- smoke runs
def smoke_table():
    return claims_frame([claim_row("a", "s", "t", RESULT, "r", CONTROL),
                         claim_row("b", "s", "t", CONTROL, "r", CONTROL),
                         not_applicable_row("c", "s", "t", "r", "why"),
                         invariant_row("d", "s", 0, "== 0", True), invariant_row("e", "s", 1, "== 0", False)])


def test_a_smoke_run_makes_every_decided_claim_not_comparable():
    frame = smoke_table()
    marked = mark_smoke(frame, "yes")
    assert marked.verdict.tolist() == [NOT_COMPARABLE, NOT_COMPARABLE, NOT_APPLICABLE, "holds", "broken"]
    assert list(marked.columns) == list(COLUMNS)
    assert marked.drop(columns="verdict").equals(frame.drop(columns="verdict"))  # nothing else changes
    assert frame.verdict.tolist() == ["pass", "fail", NOT_APPLICABLE, "holds", "broken"]  # not in place


@pytest.mark.parametrize("smoke", [False, None, 0, ""])
def test_a_real_run_is_left_alone(smoke):
    frame = smoke_table()
    assert mark_smoke(frame, smoke) is frame
    assert frame.verdict.tolist() == ["pass", "fail", NOT_APPLICABLE, "holds", "broken"]


# --------------------------------------------------------------------------- report tables
@pytest.mark.parametrize("args,text", [
    ((0.954812, 0.001, NAN, NAN), "0.9548 (p = 0.001)"),
    ((0.954812, NAN, 0.933333, 0.974111), "0.9548 [0.9333, 0.9741]"),
    ((0.5, 0.0, NAN, NAN), "0.5 (p < 1e-6)"),
    ((0.5, 0.04, 0.4, NAN), "0.5 (p = 0.04)"),  # half an interval is no interval
    ((0.5, 0.04, NAN, 0.6), "0.5 (p = 0.04)"),
    ((0.5, NAN, NAN, NAN), "0.5"),
    ((NAN, 0.5, 0.1, 0.2), ""),
    ((None, 0.5, NAN, NAN), ""),
    (("n/a", NAN, NAN, NAN), "n/a"),
])
def test_measured_text(args, text):
    assert _measured(*args) == text


def test_report_tables_columns_order_and_index():
    def study(name, rows):
        return claims_frame(rows).assign(study=name)

    table = pd.concat([
        study("zeta", [invariant_row("k0", "s", 0, "== 0", True),
                       claim_row("c1", "stat X", "thr *", RESULT, "ctrl_a", CONTROL, digits=4)]),
        study("alpha", [invariant_row("k1", "s", 1, "== 1", False),
                        claim_row("c2", "stat", "thr", CONTROL, "ctrl", CONTROL)]),
    ])
    summary, listing = report_tables(table)
    # only the verdicts some claim has beyond the three decided ones; studies in table order
    assert summary.to_dict("records") == [
        {"study": "zeta", "claims": 1, "pass": 1, "fail": 0, "uninformative": 0, "invariants holding": 1,
         "invariants broken": 0},
        {"study": "alpha", "claims": 1, "pass": 0, "fail": 1, "uninformative": 0, "invariants holding": 0,
         "invariants broken": 1},
    ]
    assert list(listing.columns) == ["study", "verdict", "claim", "statistic", "threshold", "measured",
                                     "negative control", "control measured"]
    assert listing.index.tolist() == [0, 1]
    assert listing.to_dict("records") == [
        {"study": "zeta", "verdict": "PASS", "claim": "c1", "statistic": "stat X", "threshold": r"thr \*",
         "measured": "0.1235 [0.1111, 0.1556]", "negative control": r"ctrl\_a",
         "control measured": "0.0457 (p = 0.46)"},
        {"study": "alpha", "verdict": "FAIL", "claim": "c2", "statistic": "stat", "threshold": "thr",
         "measured": "0.04568 (p = 0.46)", "negative control": "ctrl", "control measured": "0.04568 (p = 0.46)"},
    ]


def test_report_tables_of_only_undecided_verdicts():
    table = claims_frame([not_applicable_row("c", "s", "t", "r", "why")]).assign(study="s")
    smoke = mark_smoke(claims_frame([claim_row("d", "s", "t", RESULT, "r", CONTROL)]), True).assign(study="s")
    summary, _ = report_tables(pd.concat([table, smoke]))
    assert list(summary.columns) == ["study", "claims", "pass", "fail", "uninformative", NOT_COMPARABLE,
                                     NOT_APPLICABLE, "invariants holding", "invariants broken"]
    assert summary.iloc[0].tolist() == ["s", 2, 0, 0, 0, 1, 1, 0, 0]
