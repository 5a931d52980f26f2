"""The one builder of claims tables, shared by every study's ``tables`` module.

A study's ``claims.csv`` has one row per checked statement, of one of two kinds:

``claim``
    A statement about an explanation or a model that the data could refute. It is decided by
    a stated statistic (:mod:`xairepro.common.stats`: a one-sided test with its ``p_value``,
    or an effect with a bootstrap interval ``ci_low``..``ci_high``) against the ``threshold``
    written beside it, and it carries a negative ``control``: the same statistic computed
    where the claim must not hold (the model with its weights randomised, a model trained on
    shuffled labels, a random attribution). ``verdict`` is ``pass`` when the claim's test
    passes and its control's fails, ``uninformative`` when both pass (the statistic cannot
    tell the explanation from its null), ``fail`` otherwise.
``invariant``
    A property that holds by construction (k = 0 occludes nothing, a recorded deviation):
    a test of the code, not a claim about explanations. It has no control; ``verdict`` is
    ``holds`` or ``broken``, and it is never counted as a claim.

Columns: :data:`COLUMNS`.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from xairepro.common.stats import Decision

COLUMNS = ("claim", "kind", "statistic", "threshold", "value", "p_value", "ci_low", "ci_high", "pass",
           "control", "control_value", "control_p_value", "control_pass", "verdict")
VERDICTS = ("pass", "fail", "uninformative")


def _number(value: Any, digits: int | None) -> Any:
    """A float rounded to ``digits``; a missing value (None) or a non-number stays as given."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) or hasattr(value, "dtype"):
        value = float(value)
        if digits is not None and math.isfinite(value):
            value = round(value, digits)
    return value


def verdict(passed: bool, control_passed: bool) -> str:
    """``pass`` only when the claim passes and its negative control does not."""
    if not passed:
        return "fail"
    return "uninformative" if control_passed else "pass"


def claim_row(claim: str, statistic: str, threshold: str, result: Decision, control: str,
              control_result: Decision, *, digits: int | None = None) -> dict[str, Any]:
    """One claim: ``result`` of the statistic on the real model or explanation, and
    ``control_result`` of the same statistic on the negative ``control`` (named in words)."""
    if not control:
        raise ValueError(f"claim {claim!r} has no negative control")
    return {"claim": claim, "kind": "claim", "statistic": statistic, "threshold": threshold,
            "value": _number(result.value, digits), "p_value": _number(result.p_value, digits),
            "ci_low": _number(result.ci_low, digits), "ci_high": _number(result.ci_high, digits),
            "pass": bool(result.passed), "control": control,
            "control_value": _number(control_result.value, digits),
            "control_p_value": _number(control_result.p_value, digits),
            "control_pass": bool(control_result.passed),
            "verdict": verdict(bool(result.passed), bool(control_result.passed))}


def invariant_row(name: str, statistic: str, value: Any, expected: str, holds: Any, *,
                  digits: int | None = None) -> dict[str, Any]:
    """One invariant: a property true by construction, checked as a test of the code."""
    return {"claim": name, "kind": "invariant", "statistic": statistic, "threshold": expected,
            "value": _number(value, digits), "p_value": math.nan, "ci_low": math.nan, "ci_high": math.nan,
            "pass": bool(holds), "control": "", "control_value": math.nan, "control_p_value": math.nan,
            "control_pass": False, "verdict": "holds" if holds else "broken"}


class Claims:
    """Rows added one at a time, then :meth:`frame` (columns :data:`COLUMNS`).

    >>> from xairepro.common.stats import binomial_above
    >>> table = Claims(digits=4)
    >>> table.claim("the classifier is above chance", "test accuracy (40 clips, 4 classes)",
    ...             "binomial p < 0.01 vs 0.25", binomial_above(38, 40, 0.25),
    ...             "same classifier, weights randomised", binomial_above(11, 40, 0.25))
    >>> table.frame().verdict.tolist()
    ['pass']
    """

    def __init__(self, digits: int | None = None):
        self.digits = digits
        self.rows: list[dict[str, Any]] = []

    def claim(self, claim: str, statistic: str, threshold: str, result: Decision, control: str,
              control_result: Decision) -> None:
        self.rows.append(claim_row(claim, statistic, threshold, result, control, control_result,
                                   digits=self.digits))

    def invariant(self, name: str, statistic: str, value: Any, expected: str, holds: Any) -> None:
        self.rows.append(invariant_row(name, statistic, value, expected, holds, digits=self.digits))

    def extend(self, rows) -> None:
        self.rows.extend(rows)

    def frame(self) -> pd.DataFrame:
        return claims_frame(self.rows)


def claims_frame(rows) -> pd.DataFrame:
    """A claims table from rows of :func:`claim_row` / :func:`invariant_row` (an empty one
    keeps the columns)."""
    return pd.DataFrame(list(rows), columns=list(COLUMNS))


def claims_only(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows that are claims (invariants are tests of the code, not claims)."""
    return frame[frame["kind"] == "claim"]


def failed_claims(frame: pd.DataFrame) -> list[str]:
    """The claims whose verdict is not ``pass`` (each with its verdict), for assertions."""
    rows = claims_only(frame)
    return [f"{row.claim} [{row.verdict}: value {row.value}, control {row.control_value}]"
            for row in rows.itertuples() if row.verdict != "pass"]


def broken_invariants(frame: pd.DataFrame) -> list[str]:
    rows = frame[frame["kind"] == "invariant"]
    return [row.claim for row in rows.itertuples() if row.verdict != "holds"]
