"""Figures of the ``lossgrad`` study."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from xairepro.metrics.curves import summarise_curves

if TYPE_CHECKING:
    import torch

METHOD_STYLE = {
    "abs_grad": {"color": "#1b9e77", "marker": "o", "label": "|g|  (abs_grad)"},
    "grad_orig": {"color": "#d95f02", "marker": "s", "label": "g  (grad_orig)"},
    "grad_inp": {"color": "#7570b3", "marker": "^", "label": "g*x  (grad_inp)"},
    "random": {"color": "#666666", "marker": "x", "label": "random"},
}
VARIANT_TITLE = {"softmax10": "softmax, 10 classes", "softmax2": "softmax, 0 vs 1", "sigmoid2": "sigmoid, 0 vs 1"}
ORDER_TITLE = {1: "ROAR=1 (top-k)", 0: "ROAR=0 (bottom-k)"}


def plot_roar(roar: pd.DataFrame, spread: str = "minmax", panel_width: float = 2.2,
              panel_height: float = 1.9) -> plt.Figure:
    """Accuracy vs occluded pixels; rows = heads, columns = replacement x order.

    Lines are means over seeds, bands their min-max (``spread="minmax"``) or +-1 std; the
    dashed line is the clean accuracy.
    """
    summary = summarise_curves(roar, ["variant", "method", "replacement", "order", "k"])
    variants = [v for v in VARIANT_TITLE if v in set(summary.variant)]
    columns = [(r, o) for r in ("mean", "image_min", "image_max") for o in (1, 0)
               if ((summary.replacement == r) & (summary.order == o)).any()]
    fig, axes = plt.subplots(len(variants), len(columns), squeeze=False, sharex=True, sharey=True,
                             figsize=(panel_width * len(columns), panel_height * len(variants)))
    n_seeds = roar.groupby("variant")["seed"].nunique().max()
    for i, variant in enumerate(variants):
        clean = summary[(summary.variant == variant) & (summary.k == 0)]["mean"].mean()
        for j, (replacement, order) in enumerate(columns):
            ax = axes[i, j]
            ax.axhline(clean, color="black", lw=0.8, ls="--")
            for method, style in METHOD_STYLE.items():
                sel = summary[(summary.variant == variant) & (summary.method == method)
                              & (summary.replacement == replacement) & (summary.order == order)]
                if sel.empty:
                    continue
                lo, hi = ((sel["min"], sel["max"]) if spread == "minmax"
                          else (sel["mean"] - sel["std"], sel["mean"] + sel["std"]))
                ax.plot(sel.k, sel["mean"], color=style["color"], marker=style["marker"], ms=3, lw=1.2,
                        label=style["label"])
                ax.fill_between(sel.k, lo, hi, color=style["color"], alpha=0.15, lw=0)
            ax.set_ylim(-0.03, 1.03)
            if i == 0:
                ax.set_title(f"{replacement}\n{ORDER_TITLE[order]}")
            if j == 0:
                ax.set_ylabel(f"{VARIANT_TITLE[variant]}\ntest accuracy")
            if i == len(variants) - 1:
                ax.set_xlabel("occluded pixels k (of 784)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], color="black", lw=0.8, ls="--"))
    labels.append("clean accuracy")
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), bbox_to_anchor=(0.5, -0.02), frameon=False)
    band = "min-max" if spread == "minmax" else "+-1 std"
    fig.suptitle(f"Occlusion by loss-gradient ranking: mean over {n_seeds} seeds, band = {band}", y=1.0)
    fig.tight_layout(rect=(0, 0.04, 1, 0.98))
    return fig


def plot_examples(x: "torch.Tensor", grads: "torch.Tensor", methods: list[str], orders: list[int], k: int,
                  replacement: str, n_examples: int, seed: int = 0) -> plt.Figure:
    """Test digits (rows) and the same digits with ``k`` pixels occluded per method and order.

    ``x`` and ``grads`` are ``(N, 1, 28, 28)`` normalised images and their loss gradients;
    the first ``n_examples`` are drawn. Columns: original, loss gradient, then one per
    (method, order).
    """
    import torch

    from xairepro.attribution.occlusion import feature_ranks, occlude, rank_scores, replacement_values

    x, grads = x[:n_examples], grads[:n_examples]
    generator = torch.Generator().manual_seed(seed)
    values = replacement_values(x, replacement)
    panels = [("original", x), ("loss gradient g", grads)]
    for method in methods:
        for order in orders:
            ranks = feature_ranks(rank_scores(method, x, grads, generator), order)
            panels.append((f"{method}\nROAR={order}", occlude(x, ranks, k, values)))
    lo = min(float(x.min()), float(values.min()))
    hi = max(float(x.max()), float(values.max()))
    fig, axes = plt.subplots(len(x), len(panels), figsize=(1.05 * len(panels), 1.1 * len(x) + 0.5), squeeze=False)
    for j, (title, images) in enumerate(panels):
        for i in range(len(x)):
            ax = axes[i, j]
            image = images[i, 0].numpy()
            if title.startswith("loss gradient"):
                bound = float(np.abs(image).max()) or 1.0
                ax.imshow(image, cmap="RdBu_r", vmin=-bound, vmax=bound)
            else:
                ax.imshow(image, cmap="gray_r", vmin=lo, vmax=hi)
            ax.set_axis_off()
            if i == 0:
                ax.set_title(title, fontsize=7)
    fig.suptitle(f"{k} of 784 pixels occluded, replacement = {replacement} (gradient: red > 0, blue < 0)", fontsize=8)
    fig.tight_layout()
    return fig


SVD_METRICS = (("auroc", "test AUROC"), ("error", "test error"))


def plot_svd_roar(table: pd.DataFrame, panel_width: float = 2.2, panel_height: float = 1.9) -> plt.Figure:
    """Singing-voice detection: test AUROC and error vs occluded bins; ROAR vs KAR.

    Rows are the two metrics, columns replacement x order (``ROAR=1`` top-k, ``ROAR=0``
    bottom-k, i.e. KAR); one line per ranking method; the dashed line is the clean value.
    """
    columns = [(r, o) for r in ("mean", "image_min", "image_max") for o in (1, 0)
               if ((table.replacement == r) & (table.order == o)).any()]
    n_bins = int(round(table.loc[table.k > 0, "k"].iloc[0] / table.loc[table.k > 0, "fraction"].iloc[0]))
    fig, axes = plt.subplots(len(SVD_METRICS), len(columns), squeeze=False, sharex=True, sharey="row",
                             figsize=(1.2 * panel_width * len(columns), 1.1 * panel_height * len(SVD_METRICS)))
    for i, (metric, label) in enumerate(SVD_METRICS):
        clean = table.loc[table.k == 0, metric].mean()
        for j, (replacement, order) in enumerate(columns):
            ax = axes[i, j]
            ax.axhline(clean, color="black", lw=0.8, ls="--")
            for method, style in METHOD_STYLE.items():
                sel = table[(table.method == method) & (table.replacement == replacement)
                            & (table.order == order)].sort_values("k")
                if not sel.empty:
                    ax.plot(sel.k, sel[metric], color=style["color"], marker=style["marker"], ms=3, lw=1.2,
                            label=style["label"])
            if i == 0:
                name = "ROAR=1 (top-k, ROAR)" if order == 1 else "ROAR=0 (bottom-k, KAR)"
                ax.set_title(f"{replacement}\n{name}")
            if j == 0:
                ax.set_ylabel(label)
            if i == len(SVD_METRICS) - 1:
                ax.set_xlabel(f"occluded bins k (of {n_bins})")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], color="black", lw=0.8, ls="--"))
    labels.append("clean")
    fig.legend(handles, labels, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.06), frameon=False)
    fig.suptitle("Singing voice detection: occlusion by loss-gradient ranking", y=1.0)
    fig.tight_layout(rect=(0, 0.06, 1, 0.98))
    return fig
