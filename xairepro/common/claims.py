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
    tell the explanation from its null), ``fail`` otherwise. In a paper-scale smoke run
    (config key ``smoke``) every claim's verdict is ``not comparable``: the statistic and
    the raw ``pass``/``control_pass`` are kept, but a model trained for a few batches on a
    handful of items says nothing about the paper's claim (:func:`mark_smoke`). A claim whose
    statistic needs a truth the data do not carry (a planted concept or region, absent from
    a user's own data) is ``not applicable`` (:func:`not_applicable_row`): the row keeps the
    claim, its statistic (with the reason appended), threshold and control, and no values.
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
VERDICTS = ("pass", "fail", "uninformative", "not comparable", "not applicable")
NOT_COMPARABLE = "not comparable"
NOT_APPLICABLE = "not applicable"
# verdicts that decide nothing either way: listed, never counted as a claim that failed
UNDECIDED = (NOT_COMPARABLE, NOT_APPLICABLE)


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


def not_applicable_row(claim: str, statistic: str, threshold: str, control: str, reason: str) -> dict[str, Any]:
    """A claim that cannot be decided on these data, with ``reason`` (e.g. "needs the planted
    concept; a user's own data carry none") appended to its ``statistic``: verdict ``not
    applicable``, no values, neither ``pass`` nor ``control_pass``."""
    if not reason:
        raise ValueError(f"claim {claim!r} is not applicable without a reason")
    return {"claim": claim, "kind": "claim", "statistic": f"{statistic} (not applicable: {reason})",
            "threshold": threshold, "value": math.nan, "p_value": math.nan, "ci_low": math.nan,
            "ci_high": math.nan, "pass": False, "control": control, "control_value": math.nan,
            "control_p_value": math.nan, "control_pass": False, "verdict": NOT_APPLICABLE}


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

    def not_applicable(self, claim: str, statistic: str, threshold: str, control: str, reason: str) -> None:
        self.rows.append(not_applicable_row(claim, statistic, threshold, control, reason))

    def invariant(self, name: str, statistic: str, value: Any, expected: str, holds: Any) -> None:
        self.rows.append(invariant_row(name, statistic, value, expected, holds, digits=self.digits))

    def extend(self, rows) -> None:
        self.rows.extend(rows)

    def frame(self) -> pd.DataFrame:
        return claims_frame(self.rows)


def mark_smoke(frame: pd.DataFrame, smoke: Any) -> pd.DataFrame:
    """``frame`` with every claim's verdict set to ``not comparable`` when ``smoke`` (the
    config key of a smoke run) is set; unchanged for a real run. Invariants keep theirs:
    they hold by construction at any size; so do claims that are ``not applicable``."""
    if not smoke:
        return frame
    frame = frame.copy()
    frame.loc[(frame["kind"] == "claim") & (frame["verdict"] != NOT_APPLICABLE), "verdict"] = NOT_COMPARABLE
    return frame


def claims_frame(rows) -> pd.DataFrame:
    """A claims table from rows of :func:`claim_row` / :func:`invariant_row` (an empty one
    keeps the columns)."""
    return pd.DataFrame(list(rows), columns=list(COLUMNS))


def claims_only(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows that are claims (invariants are tests of the code, not claims)."""
    return frame[frame["kind"] == "claim"]


def failed_claims(frame: pd.DataFrame) -> list[str]:
    """The claims whose verdict is not ``pass`` (each with its verdict), for assertions;
    ``not comparable`` and ``not applicable`` ones decide nothing and are left out."""
    rows = claims_only(frame)
    return [f"{row.claim} [{row.verdict}: value {row.value}, control {row.control_value}]"
            for row in rows.itertuples() if row.verdict not in ("pass", *UNDECIDED)]


def broken_invariants(frame: pd.DataFrame) -> list[str]:
    rows = frame[frame["kind"] == "invariant"]
    return [row.claim for row in rows.itertuples() if row.verdict != "holds"]


def _measured(value: Any, p_value: Any, ci_low: Any, ci_high: Any) -> str:
    """``0.9548 [0.9333, 0.9741]`` or ``0.62 (p = 0.0004)``: a value with its evidence."""

    def fmt(x: Any) -> str:
        try:
            return f"{float(x):.4g}"
        except (TypeError, ValueError):
            return str(x)

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = fmt(value)
    if pd.notna(ci_low) and pd.notna(ci_high):
        text += f" [{fmt(ci_low)}, {fmt(ci_high)}]"
    elif pd.notna(p_value):  # tables keep 6 digits: 0 means below 1e-6
        text += f" (p = {float(p_value):.2g})" if float(p_value) > 0 else " (p < 1e-6)"
    return text


def report_tables(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two tables the HTML report opens on, from the cross-study table (a ``study``
    column plus :data:`COLUMNS`).

    Returns
    -------
    summary
        One row per study: claims passed, failed, uninformative (and not comparable, in a
        smoke run, and not applicable, where a table has such claims); invariants holding,
        broken.
    listing
        One row per claim: study, verdict in capitals, claim, statistic, threshold,
        measured value with its p-value or interval, the control and its value.
    """
    rows = []
    # "not comparable" only in a smoke run's table, "not applicable" only on data without a
    # planted truth: a column for either only where some claim has it
    verdicts = [v for v in VERDICTS if v not in UNDECIDED or (table.verdict == v).any()]
    for study, part in table.groupby("study", sort=False):
        claims, invariants = part[part.kind == "claim"], part[part.kind == "invariant"]
        counts = claims.verdict.value_counts()
        rows.append({"study": study, "claims": len(claims), **{v: int(counts.get(v, 0)) for v in verdicts},
                     "invariants holding": int((invariants.verdict == "holds").sum()),
                     "invariants broken": int((invariants.verdict == "broken").sum())})
    summary = pd.DataFrame(rows)
    claims = table[table.kind == "claim"]
    listing = pd.DataFrame({
        "study": claims.study,
        "verdict": claims.verdict.str.upper(),
        "claim": claims.claim,
        "statistic": claims.statistic,
        "threshold": claims.threshold,
        "measured": [_measured(*r) for r in claims[["value", "p_value", "ci_low", "ci_high"]].itertuples(index=False)],
        "negative control": claims.control,
        "control measured": [_measured(v, p, None, None) for v, p in zip(claims.control_value, claims.control_p_value)],
    })
    listing = listing.map(_rst_literal)
    return summary, listing.reset_index(drop=True)


def _rst_literal(cell: Any) -> Any:
    """Text that reStructuredText shows as written (the report renders the tables with
    docutils, where ``|g|`` is a substitution and ``*`` starts emphasis)."""
    if not isinstance(cell, str):
        return cell
    for char in "\\`*_|":
        cell = cell.replace(char, "\\" + char)
    return cell
