"""Figures of the ``labelfree`` study."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from xairepro.labelfree.tables import METHOD_NAMES
from xairepro.metrics.curves import summarise_curves

STYLE = {"integrated_gradients": ("#1b9e77", "o"), "gradient_shap": ("#d95f02", "s"),
         "saliency": ("#7570b3", "^"), "random": ("#666666", "x")}


def plot_consistency_features(shifts: pd.DataFrame, dataset: str, width: float = 4.0,
                              height: float = 3.0) -> plt.Figure:
    """Representation shift vs % of pixels masked, a line per method (mean, min-max band)."""
    summary = summarise_curves(shifts, ["method", "fraction"], value="representation_shift")
    fig, ax = plt.subplots(figsize=(width, height))
    for method, (color, marker) in STYLE.items():
        sel = summary[summary.method == method]
        if sel.empty:
            continue
        ax.plot(100 * sel.fraction, sel["mean"], color=color, marker=marker, ms=4, label=METHOD_NAMES[method])
        ax.fill_between(100 * sel.fraction, sel["min"], sel["max"], color=color, alpha=0.15, lw=0)
    seeds = shifts.seed.nunique()
    ax.set_xlabel("pixels masked (%)")
    ax.set_ylabel("representation shift\nmean ||f(x) - f(x masked)||^2")
    ax.set_title(f"{dataset}: label-free feature importance, {seeds} runs")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
