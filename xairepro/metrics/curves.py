"""Summaries of metric curves over seeds, and which curves a figure would draw as one line
(numpy and pandas only, cheap to import)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

#: Order of rows and columns in sign tables.
SIGNS = ("positive", "negative", "zero")


def summarise_curves(frame: pd.DataFrame, by: list[str], value: str = "accuracy") -> pd.DataFrame:
    """Mean, standard deviation, min, max and count of ``value`` per group in ``by``."""
    grouped = frame.groupby(by, sort=True)[value]
    out = grouped.agg(["mean", "std", "min", "max", "count"]).reset_index()
    out["std"] = out["std"].fillna(0.0)
    return out


#: Curves closer than this share of the y axis's range coincide: about a marker's width at
#: the figures' size, so a reader sees one line.
COINCIDE_RTOL = 0.02


def coinciding_groups(curves: Mapping[str, Sequence[float]], rtol: float = COINCIDE_RTOL,
                      span: float | None = None) -> list[list[str]]:
    """Names of the curves drawn on top of each other, in groups of two or more.

    Two curves coincide where they have the same length and differ by at most ``rtol`` times
    ``span`` (the y axis's range) at every point; groups are the connected sets of that
    relation, in the order of ``curves``. A reader sees one line for each group.

    Parameters
    ----------
    curves
        Name -> y values on a shared x grid, ``(n_points,)`` each.
    rtol
        Tolerance as a share of ``span`` (an absolute tolerance of ``rtol`` where it is 0).
    span
        The y span of the axes; default ``max - min`` over every finite value.
    """
    names = list(curves)
    values = {name: np.asarray(curves[name], dtype=float) for name in names}
    if span is None:
        finite = [v[np.isfinite(v)] for v in values.values() if np.isfinite(v).any()]
        span = float(np.ptp(np.concatenate(finite))) if finite else 0.0
    atol = rtol * span if span > 0 else rtol
    parent = {name: name for name in names}

    def root(name):
        while parent[name] != name:
            name = parent[name]
        return name

    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if values[a].shape == values[b].shape and np.all(np.abs(values[a] - values[b]) <= atol):
                parent[root(b)] = root(a)
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(root(name), []).append(name)
    return [group for group in groups.values() if len(group) > 1]
