"""Summaries of metric curves over seeds (pandas only, cheap to import)."""

from __future__ import annotations

import pandas as pd

#: Order of rows and columns in sign tables.
SIGNS = ("positive", "negative", "zero")


def summarise_curves(frame: pd.DataFrame, by: list[str], value: str = "accuracy") -> pd.DataFrame:
    """Mean, standard deviation, min, max and count of ``value`` per group in ``by``."""
    grouped = frame.groupby(by, sort=True)[value]
    out = grouped.agg(["mean", "std", "min", "max", "count"]).reset_index()
    out["std"] = out["std"].fillna(0.0)
    return out
