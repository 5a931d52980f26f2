"""Figures of the ``lossgrad`` study."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from xairepro.common.plotting import add_notes
from xairepro.metrics.curves import coinciding_groups, summarise_curves

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

METHOD_STYLE = {
    "abs_grad": {"color": "#1b9e77", "marker": "o", "label": "|g|  (abs_grad)"},
    "grad_orig": {"color": "#d95f02", "marker": "s", "label": "g  (grad_orig)"},
    "grad_inp": {"color": "#7570b3", "marker": "^", "label": "g*x  (grad_inp)"},
    "random": {"color": "#666666", "marker": "x", "label": "random"},
    "abs_grad_inp": {"color": "#e7298a", "marker": "v", "label": "|g|*x  (abs_grad_inp)"},
    "grad_abs_inp": {"color": "#66a61e", "marker": "D", "label": "g*|x|  (grad_abs_inp)"},
    "abs_grad_abs_inp": {"color": "#e6ab02", "marker": "P", "label": "|g*x|  (abs_grad_abs_inp)"},
    "inp": {"color": "#a6761d", "marker": "<", "label": "x  (inp)"},
    "abs_inp": {"color": "#1f78b4", "marker": ">", "label": "|x|  (abs_inp)"},
}
VARIANT_TITLE = {"softmax10": "softmax, 10 classes", "softmax2": "softmax, 0 vs 1", "sigmoid2": "sigmoid, 0 vs 1"}
ORDER_TITLE = {1: "ROAR=1 (top-k)", 0: "ROAR=0 (bottom-k)"}
#: Where a coincidence note may go, in axes coordinates with its alignment: the corners
#: first, then the middles of the edges.
NOTE_SPOTS = tuple((x, y, "left" if x < 0.5 else "right" if x > 0.5 else "center",
                    "bottom" if y < 0.5 else "top" if y > 0.5 else "center")
                   for x, y in ((0.04, 0.04), (0.96, 0.04), (0.04, 0.96), (0.96, 0.96),
                                (0.04, 0.5), (0.96, 0.5), (0.5, 0.04), (0.5, 0.96)))


def mark_coincidences(ax: plt.Axes, curves: dict[str, tuple[np.ndarray, np.ndarray]], panel: str = "") -> list[str]:
    """Name, inside ``ax``, the methods whose lines coincide there (``"g = g*x"``), at the
    spot of :data:`NOTE_SPOTS` whose text box covers the least of the drawn lines (each
    line sampled along its segments, not only at its markers); call after the axes' limits
    are set. ``curves``: method -> (k, y); ``panel`` names the panel in the log. Returns the
    texts written (one text artist with ``gid="coincidence"``)."""
    ylo, yhi = ax.get_ylim()
    xlo, xhi = ax.get_xlim()
    groups = coinciding_groups({m: y for m, (_, y) in curves.items()}, span=yhi - ylo)
    texts = [" = ".join(METHOD_STYLE[m]["label"].split("  ")[0] for m in group) for group in groups]
    if not texts:
        return []
    for text in texts:
        log.info("figure note: %s coincide in panel %s", text, panel)
    dense = []  # (samples, 2) per line, in axes coordinates
    for k, y in curves.values():
        k, y = np.asarray(k, dtype=float), np.asarray(y, dtype=float)
        at = np.linspace(0, len(k) - 1, 40 * max(1, len(k) - 1) + 1)
        dense.append(np.c_[(np.interp(at, np.arange(len(k)), k) - xlo) / (xhi - xlo),
                           (np.interp(at, np.arange(len(y)), y) - ylo) / (yhi - ylo)])
    points = np.concatenate(dense)
    note = ax.text(0, 0, "\n".join(f"{t} (coincide)" for t in texts), transform=ax.transAxes, fontsize=6,
                   gid="coincidence", bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
    renderer = ax.figure.canvas.get_renderer()

    def covered(spot) -> int:
        x, y, ha, va = spot
        note.set_position((x, y))
        note.set_ha(ha)
        note.set_va(va)
        box = note.get_window_extent(renderer).transformed(ax.transAxes.inverted())
        margin = 0.04  # the box's padding, line widths and markers
        return int(np.sum((points[:, 0] >= box.x0 - margin) & (points[:, 0] <= box.x1 + margin)
                          & (points[:, 1] >= box.y0 - margin) & (points[:, 1] <= box.y1 + margin)))

    best = min(NOTE_SPOTS, key=covered)
    covered(best)
    return texts


def plot_roar(roar: pd.DataFrame, spread: str = "minmax", panel_width: float = 2.2,
              panel_height: float = 1.9, note: str | None = None, data: str = "MNIST") -> plt.Figure:
    """Accuracy vs occluded pixels; rows = heads, columns = replacement x order; ``data`` names
    the images in the title (a user's own, docs/your-data/lossgrad.md).

    Lines are means over seeds, bands their min-max (``spread="minmax"``) or +-1 std; the
    dashed line is the clean accuracy. Methods whose lines coincide in a panel are named
    there (:func:`mark_coincidences`); ``note`` (the demo-scale note) goes under the legend.
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
                              & (summary.replacement == replacement) & (summary.order == order)].sort_values("k")
                if sel.empty:
                    continue
                lo, hi = ((sel["min"], sel["max"]) if spread == "minmax"
                          else (sel["mean"] - sel["std"], sel["mean"] + sel["std"]))
                ax.plot(sel.k, sel["mean"], color=style["color"], marker=style["marker"], ms=3, lw=1.2,
                        label=style["label"])
                ax.fill_between(sel.k, lo, hi, color=style["color"], alpha=0.15, lw=0)
            ax.set_ylim(-0.03, 1.03)
            if i == 0:
                ax.set_title(f"replacement = {replacement}\n{ORDER_TITLE[order]}")
            if j == 0:
                ax.set_ylabel(f"{VARIANT_TITLE[variant]}\ntest accuracy")
            if i == len(variants) - 1:
                ax.set_xlabel("occluded pixels k (of 784)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], color="black", lw=0.8, ls="--"))
    labels.append("clean accuracy")
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), bbox_to_anchor=(0.5, -0.02), frameon=False)
    band = "min-max" if spread == "minmax" else "+-1 std"
    over = f"mean over {n_seeds} seeds, band = {band}" if n_seeds > 1 else "one model per head (no band)"
    fig.suptitle(f"{data}: test accuracy after occluding k pixels ranked by the loss gradient g, {over}", y=1.0)
    fig.tight_layout(rect=(0, 0.04, 1, 0.98))
    for i, variant in enumerate(variants):  # after tight_layout: the axes' final limits
        for j, (replacement, order) in enumerate(columns):
            sel = summary[(summary.variant == variant) & (summary.replacement == replacement)
                          & (summary.order == order)].sort_values("k")
            lines = {m: (line.k.to_numpy(), line["mean"].to_numpy())
                     for m in METHOD_STYLE if not (line := sel[sel.method == m]).empty}
            mark_coincidences(axes[i, j], lines, panel=f"{variant}, {replacement}, ROAR={order}")
    add_notes(fig, [("scale_note", note)] if note else [], y=-0.03)
    return fig


#: What each MNIST head outputs and the loss whose input gradient g = dL/dx is drawn.
HEAD_LOSS = {"softmax": "loss = cross-entropy of the softmax at the true label",
             "sigmoid": "one output P(digit is 1), loss = binary cross-entropy at the true label"}


def head_title(classifier_type: str, num_classes: int) -> str:
    """``"sigmoid, 0 vs 1"``: a head as the figures name it (:data:`VARIANT_TITLE`)."""
    variant = f"{classifier_type}{num_classes}"
    return VARIANT_TITLE.get(variant, variant)


def plot_examples(x: "torch.Tensor", grads: "torch.Tensor", methods: list[str], orders: list[int], k: int,
                  replacement: str, n_examples: int, seed: int = 0, labels: "torch.Tensor | None" = None,
                  classifier_type: str = "softmax", num_classes: int = 10, model_seed: int | None = None) -> plt.Figure:
    """Test digits (rows) and the same digits with ``k`` pixels occluded per method and order.

    ``x`` and ``grads`` are ``(N, 1, 28, 28)`` normalised images and their loss gradients
    under the head ``classifier_type`` x ``num_classes`` (named in the title with its loss,
    :data:`HEAD_LOSS`); ``labels`` ``(N,)`` the true labels the loss is taken at, written
    beside each row. The first ``n_examples`` are drawn. Columns: original, loss gradient
    (a colour bar per row: its own symmetric range), then one per (method, order); the
    grey images share one colour bar (normalised pixel value).
    """
    import torch

    from xairepro.lossgrad.occlusion import feature_ranks, occlude, rank_scores, replacement_values

    x, grads = x[:n_examples], grads[:n_examples]
    generator = torch.Generator().manual_seed(seed)
    values = replacement_values(x, replacement)
    panels = [("original", x), ("loss gradient\ng = dL/dx", grads)]
    for method in methods:
        for order in orders:
            ranks = feature_ranks(rank_scores(method, x, grads, generator), order)
            name = METHOD_STYLE.get(method, {}).get("label", method).split("  ")[0]
            name = name if name == method else f"{name} ({method})"
            panels.append((f"{name}\nROAR={order}: {'top' if order else 'bottom'}-k",
                           occlude(x, ranks, k, values)))
    lo = min(float(x.min()), float(values.min()))
    hi = max(float(x.max()), float(values.max()))
    fig, axes = plt.subplots(len(x), len(panels), figsize=(1.15 * len(panels) + 1.0, 1.1 * len(x) + 0.9),
                             squeeze=False, layout="constrained")
    grey = None
    for j, (title, images) in enumerate(panels):
        for i in range(len(x)):
            ax = axes[i, j]
            image = images[i, 0].numpy()
            if j == 1:
                bound = float(np.abs(image).max()) or 1.0
                shown = ax.imshow(image, cmap="RdBu_r", vmin=-bound, vmax=bound)
                bar = fig.colorbar(shown, ax=ax, fraction=0.08, pad=0.03, ticks=[-bound, 0, bound], format="%.1e")
                bar.ax.tick_params(labelsize=5)
                if i == 0:
                    bar.set_label("dL/dx", fontsize=6)
            else:
                grey = ax.imshow(image, cmap="gray_r", vmin=lo, vmax=hi)
            if np.ptp(image) == 0:  # a flat panel says why it is flat
                ax.text(0.5, 0.5, f"constant\n{float(image.flat[0]):.2g}", transform=ax.transAxes, ha="center",
                        va="center", fontsize=6, gid="constant")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.spines[:].set_visible(False)
            if j == 0 and labels is not None:
                ax.set_ylabel(f"true label {int(labels[i])}", fontsize=7)
            if i == 0:
                ax.set_title(title, fontsize=7)
    bar = fig.colorbar(grey, ax=axes[:, -1], fraction=0.05, pad=0.02, shrink=0.8, aspect=30)
    bar.set_label("pixel value (normalised)", fontsize=7)
    bar.ax.tick_params(labelsize=6)
    seed_text = f", model seed {model_seed}" if model_seed is not None else ""
    title = (f"Head: {head_title(classifier_type, num_classes)}{seed_text} "
             f"({HEAD_LOSS.get(classifier_type, classifier_type)})\n"
             f"{k} of 784 pixels occluded per column, replacement = {replacement}; gradient red > 0, blue < 0")
    log.info("figure title: %s", title.replace("\n", " / "))
    fig.suptitle(title, fontsize=8)
    return fig


SVD_METRICS = (("auroc", "test AUROC"), ("error", "test error"))


def plot_svd_roar(table: pd.DataFrame, panel_width: float = 2.2, panel_height: float = 1.9,
                  note: str | None = None) -> plt.Figure:
    """Singing-voice detection: test AUROC and error vs occluded bins; ROAR vs KAR.

    Rows are the two metrics, columns replacement x order (``ROAR=1`` top-k, ``ROAR=0``
    bottom-k, i.e. KAR); one line per ranking method, the mean over the models (``seed``
    column, one per ``svd.seeds``) with their min-max band; the dashed line is the clean
    value. Methods whose lines coincide in a panel are named there; ``note`` goes under the
    legend.
    """
    if "seed" not in table:
        table = table.assign(seed=0)
    n_models = table.seed.nunique()
    keys = ["method", "replacement", "order", "k"]
    summaries = {metric: summarise_curves(table, keys, value=metric) for metric, _ in SVD_METRICS}
    columns = [(r, o) for r in ("mean", "image_min", "image_max") for o in (1, 0)
               if ((table.replacement == r) & (table.order == o)).any()]
    n_bins = int(round(table.loc[table.k > 0, "k"].iloc[0] / table.loc[table.k > 0, "fraction"].iloc[0]))
    fig, axes = plt.subplots(len(SVD_METRICS), len(columns), squeeze=False, sharex=True, sharey="row",
                             figsize=(1.2 * panel_width * len(columns), 1.1 * panel_height * len(SVD_METRICS)))
    for i, (metric, label) in enumerate(SVD_METRICS):
        summary = summaries[metric]
        clean = table.loc[table.k == 0, metric].mean()
        for j, (replacement, order) in enumerate(columns):
            ax = axes[i, j]
            ax.axhline(clean, color="black", lw=0.8, ls="--")
            for method, style in METHOD_STYLE.items():
                sel = summary[(summary.method == method) & (summary.replacement == replacement)
                              & (summary.order == order)].sort_values("k")
                if not sel.empty:
                    ax.plot(sel.k, sel["mean"], color=style["color"], marker=style["marker"], ms=3, lw=1.2,
                            label=style["label"])
                    if n_models > 1:
                        ax.fill_between(sel.k, sel["min"], sel["max"], color=style["color"], alpha=0.15, lw=0)
            if i == 0:
                name = "ROAR=1 (top-k, ROAR)" if order == 1 else "ROAR=0 (bottom-k, KAR)"
                ax.set_title(f"replacement = {replacement}\n{name}")
            if j == 0:
                ax.set_ylabel(label)
            if i == len(SVD_METRICS) - 1:
                ax.set_xlabel(f"occluded bins k (of {n_bins})")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], color="black", lw=0.8, ls="--"))
    labels.append("clean")
    fig.legend(handles, labels, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.06), frameon=False)
    over = f"mean over {n_models} models, band = min-max" if n_models > 1 else "one model"
    other = sorted(set(table.lossgradient[table.lossgradient != table.seed])) if "lossgradient" in table else []
    source = (f"the seed-{other[0]} model's loss gradient g (lossgradient)" if len(other) == 1
              else "the model's own loss gradient g" if n_models == 1 else "each model's own loss gradient g")
    fig.suptitle(f"Singing voice detection: test AUROC and error after occluding\n"
                 f"k spectrogram bins ranked by {source}\n({over})", y=1.0)
    fig.tight_layout(rect=(0, 0.06, 1, 0.98))
    for i, (metric, _) in enumerate(SVD_METRICS):  # after tight_layout: the axes' final limits
        summary = summaries[metric]
        for j, (replacement, order) in enumerate(columns):
            sel = summary[(summary.replacement == replacement) & (summary.order == order)].sort_values("k")
            lines = {m: (line.k.to_numpy(), line["mean"].to_numpy())
                     for m in METHOD_STYLE if not (line := sel[sel.method == m]).empty}
            mark_coincidences(axes[i, j], lines, panel=f"{metric}, {replacement}, ROAR={order}")
    add_notes(fig, [("scale_note", note)] if note else [], y=-0.1)
    return fig
