"""The one builder of claims rows, shared by every study's ``tables`` module.

A study's ``claims.csv`` has one row per checked statement: ``claim`` (the statement, in
words), ``metric`` (the statistic that tests it), ``value`` (its measured value),
``expected`` (the threshold or published number, as text), ``tolerance`` and ``pass``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

COLUMNS = ("claim", "metric", "value", "expected", "tolerance", "pass")


def claim_row(claim: str, metric: str, value: Any, expected: str, tolerance: Any, passed: Any, *,
              digits: int | None = None) -> dict[str, Any]:
    """One row of a claims table.

    ``value`` is kept as given when it is not a number (a missing value: ``None``, NaN), made a
    ``float`` otherwise and rounded to ``digits`` when given; ``passed`` becomes a ``bool``.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool) or hasattr(value, "dtype"):
        value = float(value)
        if digits is not None:
            value = round(value, digits)
    return {"claim": claim, "metric": metric, "value": value, "expected": expected, "tolerance": tolerance,
            "pass": bool(passed)}


class Claims:
    """Rows added one claim at a time, then :meth:`frame` (columns :data:`COLUMNS`).

    >>> table = Claims(digits=6)
    >>> table.add("the model learns", "test accuracy", 0.9712345678, ">= 0.9", 0.9, True)
    >>> table.frame().value.tolist()
    [0.971235]
    """

    def __init__(self, digits: int | None = None):
        self.digits = digits
        self.rows: list[dict[str, Any]] = []

    def add(self, claim: str, metric: str, value: Any, expected: str, tolerance: Any, passed: Any) -> None:
        self.rows.append(claim_row(claim, metric, value, expected, tolerance, passed, digits=self.digits))

    def extend(self, rows) -> None:
        self.rows.extend(rows)

    def frame(self) -> pd.DataFrame:
        return claims_frame(self.rows)


def claims_frame(rows) -> pd.DataFrame:
    """A claims table from rows of :func:`claim_row` (an empty one keeps the columns)."""
    return pd.DataFrame(list(rows), columns=list(COLUMNS))
