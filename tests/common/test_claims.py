"""The one claims-row builder: columns, rounding, what stays as given."""

import math

import numpy as np

from xairepro.common.claims import COLUMNS, Claims, claim_row, claims_frame


def test_numbers_become_floats_rounded_to_the_tables_digits():
    table = Claims(digits=3)
    table.add("a model learns", "test accuracy", np.float32(0.97456), ">= 0.9", 0.9, np.bool_(True))
    table.add("counts", "n", 7, "== 7", 0, 1)
    frame = table.frame()
    assert list(frame.columns) == list(COLUMNS)
    assert frame.value.tolist() == [0.975, 7.0]
    assert frame["pass"].tolist() == [True, True]
    assert type(table.rows[0]["pass"]) is bool and type(table.rows[1]["pass"]) is bool


def test_missing_values_stay_missing_and_unrounded_rows_keep_precision():
    assert claim_row("c", "m", None, "x", 0, False)["value"] is None
    assert math.isnan(claim_row("c", "m", float("nan"), "x", 0, False)["value"])
    assert claim_row("c", "m", 0.123456789, "x", 0, True)["value"] == 0.123456789
    assert claim_row("c", "m", 0.123456789, "x", 0, True, digits=6)["value"] == 0.123457


def test_an_empty_table_keeps_its_columns():
    assert list(claims_frame([]).columns) == list(COLUMNS)
