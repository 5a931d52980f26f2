"""Figures of the ``labelfree`` study.

Every figure says what it shows on itself: curves that coincide are named in a note below
the axes (:func:`coinciding_groups`), and a demo-scale figure carries the scale note its rule
passes (``note``), since FACT's published values, where marked, come from the full data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from xairepro.common.plotting import add_notes
from xairepro.labelfree.tables import DATASET_NAMES, METHOD_NAMES
from xairepro.metrics.curves import COINCIDE_RTOL, coinciding_groups, summarise_curves

log = logging.getLogger(__name__)

STYLE = {"integrated_gradients": ("#1b9e77", "o"), "gradient_shap": ("#d95f02", "s"),
         "gradient_shap_original_pairing": ("#e6ab02", "D"), "saliency": ("#7570b3", "^"),
         "random": ("#666666", "x")}


def coincidence_text(group: Sequence[str], rtol: float = COINCIDE_RTOL, which: str = "") -> str:
    """``"[which: ]A, B and C coincide ..."``: the note naming one group of coinciding curves."""
    names = list(group)
    listed = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
    prefix = f"{which}: " if which else ""
    return f"{prefix}{listed} coincide (within {100 * rtol:g} % of the y axis): their lines overlap."


def _notes(coincidences: list[str], note: str | None) -> list[tuple[str, str]]:
    notes = [("coincidence", text) for text in coincidences]
    if note:
        notes.append(("scale_note", note))
    return notes


def plot_consistency_features(shifts: pd.DataFrame, dataset: str, width: float = 4.0,
                              height: float = 3.0, features: str = "pixels", note: str | None = None) -> plt.Figure:
    """Representation shift vs % of ``features`` (pixels, time steps) masked, a line per
    method (mean over items and runs, min-max band over runs); ``shifts`` has a row per item.

    Methods whose mean curves coincide (:func:`coinciding_groups`) are named in a note under
    the axes; ``note`` (the demo-scale note) goes below it.
    """
    per_run = shifts.groupby(["seed", "method", "fraction"], as_index=False)["representation_shift"].mean()
    summary = summarise_curves(per_run, ["method", "fraction"], value="representation_shift")
    fig, ax = plt.subplots(figsize=(width + 1.5, height))  # + the legend, right of the axes
    curves = {}
    for method, (color, marker) in STYLE.items():
        sel = summary[summary.method == method].sort_values("fraction")
        if sel.empty:
            continue
        curves[METHOD_NAMES[method]] = sel["mean"].to_numpy()
        ax.plot(100 * sel.fraction, sel["mean"], color=color, marker=marker, ms=4, label=METHOD_NAMES[method])
        ax.fill_between(100 * sel.fraction, sel["min"], sel["max"], color=color, alpha=0.15, lw=0)
    runs = shifts.seed.nunique()
    ax.set_xlabel(f"{features} masked (%)")
    ax.set_ylabel("representation shift\nmean ||f(x) - f(x masked)||^2")
    band = "band = min-max over runs" if runs > 1 else "one run: no band"
    ax.set_title(f"{dataset}: label-free feature importance, {runs} run{'s' if runs != 1 else ''}\n{band}")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    groups = coinciding_groups(curves, span=float(np.ptp(ax.get_ylim())))
    add_notes(fig, _notes([coincidence_text(group) for group in groups], note))
    return fig


EXPLAINER_STYLE = {"influence_functions": "#1b9e77", "tracin": "#d95f02", "simplex": "#7570b3",
                   "dknn": "#e7298a", "cosine": "#666666"}


def plot_consistency_examples(rates: pd.DataFrame, dataset: str, width: float = 4.0,
                              height: float = 3.0, note: str | None = None) -> plt.Figure:
    """Similarity rate vs % of training examples selected; solid = most, dashed = least
    important; mean over runs with a min-max band. Explainers whose most- (or least-)
    important curves coincide are named in a note under the axes, ``note`` below it."""
    from xairepro.labelfree.tables import EXPLAINER_NAMES

    if "labels" in rates.columns:  # the shuffled-label control is not drawn
        rates = rates[rates["labels"] == "true"]
    per_run = rates.groupby(["seed", "explainer", "examples", "fraction"], as_index=False)["similarity_rate"].mean()
    summary = summarise_curves(per_run, ["explainer", "examples", "fraction"], value="similarity_rate")
    fig, ax = plt.subplots(figsize=(width * 1.2, height))
    curves = {"most important": {}, "least important": {}}
    for explainer, color in EXPLAINER_STYLE.items():
        for examples, style in (("most important", "-"), ("least important", "--")):
            sel = summary[(summary.explainer == explainer) & (summary.examples == examples)].sort_values("fraction")
            if sel.empty:
                continue
            curves[examples][EXPLAINER_NAMES[explainer]] = sel["mean"].to_numpy()
            label = EXPLAINER_NAMES[explainer] if examples == "most important" else None
            ax.plot(100 * sel.fraction, sel["mean"], color=color, ls=style, marker="o", ms=3, label=label)
            ax.fill_between(100 * sel.fraction, sel["min"], sel["max"], color=color, alpha=0.12, lw=0)
    ax.set_xlabel("training examples selected (%)")
    ax.set_ylabel("similarity rate")
    runs = rates.seed.nunique()
    ax.set_title(f"{dataset}: label-free example importance, {runs} run{'s' if runs != 1 else ''}\n"
                 "solid = most important, dashed = least important")
    ax.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    span = float(np.ptp(ax.get_ylim()))
    texts = [coincidence_text(group, which=f"{'solid' if examples.startswith('most') else 'dashed'} ({examples})")
             for examples, group_curves in curves.items() for group in coinciding_groups(group_curves, span=span)]
    add_notes(fig, _notes(texts, note))
    return fig


def plot_encoder_vs_full(correlations: pd.DataFrame, dataset: str, width: float = 4.0,
                         height: float = 3.0, note: str | None = None) -> plt.Figure:
    """Distribution of per-image Pearson correlations between encoder and full-model
    attributions, one box per method (all runs pooled), FACT's means marked; ``note`` (the
    demo-scale note) under the axes."""
    if "model" in correlations.columns:  # the randomised-model control is not drawn
        correlations = correlations[correlations.model == "trained"]
    methods = [m for m in STYLE if m in set(correlations.method)]
    data = [correlations.loc[correlations.method == m, "pearson"].dropna().to_numpy() for m in methods]
    fig, ax = plt.subplots(figsize=(width, height))
    from xairepro.labelfree.tables import ENCODER_VS_FULL_PUBLISHED

    box = ax.boxplot(data, patch_artist=True, showfliers=False, widths=0.6, medianprops={"color": "black"})
    for patch, method in zip(box["boxes"], methods):
        patch.set_facecolor(STYLE[method][0])
        patch.set_alpha(0.5)
    published = [ENCODER_VS_FULL_PUBLISHED.get(m, float("nan")) for m in methods]
    ax.plot(range(1, len(methods) + 1), published, "kD", ms=5, label="FACT's mean (full MNIST)")
    ax.set_xticks(range(1, len(methods) + 1), [METHOD_NAMES[m].replace(" ", "\n") for m in methods])
    ax.axhline(0, color="black", lw=0.8)
    ax.legend(frameon=False, loc="lower right")
    ax.set_ylabel("Pearson correlation per image")
    ax.set_title(f"{dataset}: encoder vs full classifier attributions\n"
                 "box = quartiles, whiskers = 1.5 IQR")
    fig.tight_layout()
    add_notes(fig, _notes([], note))
    return fig


LOSS_STYLE = {"beta_vae": ("#1b9e77", "beta-VAE"), "beta_tcvae": ("#d95f02", "beta-TCVAE")}


def plot_disvae(table: pd.DataFrame, width: float = 4.0, height: float = 3.0,
                note: str | None = None) -> plt.Figure:
    """Boxes of per-image saliency correlation between latent units, x = beta, hue = loss,
    a panel per dataset; each run's pooled correlation (FACT's metric, column ``pooled``
    where the table has it) as open circles beside its box, and FACT's published means of
    that metric as black diamonds where published; ``note`` (the demo-scale note) under the
    axes."""
    from xairepro.labelfree.tables import DISVAE_PUBLISHED

    if "model" in table.columns:  # the controls are not drawn
        table = table[table.model == "trained"]
    datasets = sorted(set(table.dataset))
    # the legend sits right of the panels, in 1.8 inches of its own
    fig, axes = plt.subplots(1, len(datasets), figsize=(width * len(datasets) + 1.8, height), squeeze=False,
                             sharey=True)
    betas = sorted(set(table.beta))
    for ax, dataset in zip(axes[0], datasets):
        for k, (loss, (color, label)) in enumerate(LOSS_STYLE.items()):
            sel = table[(table.dataset == dataset) & (table.loss == loss)]
            if sel.empty:
                continue
            positions = [i + (k - 0.5) * 0.4 for i in range(len(betas))]
            data = [sel.loc[sel.beta == b, "correlation"].dropna().to_numpy() for b in betas]
            box = ax.boxplot(data, positions=positions, widths=0.22, patch_artist=True, showfliers=False,
                             medianprops={"color": "black"})
            for patch in box["boxes"]:
                patch.set_facecolor(color)
                patch.set_alpha(0.5)
            ax.plot([], [], color=color, lw=6, alpha=0.5, label=label)
            published = [DISVAE_PUBLISHED.get((dataset, loss), {}).get(b, float("nan")) for b in betas]
            ax.plot(positions, published, "kD", ms=4)
            if "pooled" in sel.columns:
                runs = sel.groupby(["beta", "seed"])["pooled"].first()
                for position, beta in zip(positions, betas, strict=True):
                    values = runs.loc[beta].to_numpy() if beta in runs.index.get_level_values("beta") else []
                    ax.plot(np.full(len(values), position + 0.16), values, "o", mfc="none", mec=color, ms=3.5)
        ax.set_xticks(range(len(betas)), [f"{b:g}" for b in betas])
        ax.set_xlabel("beta")
        ax.set_title(f"{DATASET_NAMES.get(dataset, dataset)}: saliency correlation of latent units\n"
                     "box = quartiles over test images, whiskers = 1.5 IQR")
    axes[0, 0].set_ylabel("saliency correlation\nbetween latent units")
    if "pooled" in table.columns:
        axes[0, 0].plot([], [], "o", mfc="none", mec="grey", ms=3.5, label="one run, pooled over images")
    if any((dataset, loss) in DISVAE_PUBLISHED for dataset in datasets for loss in LOSS_STYLE):
        axes[0, 0].plot([], [], "kD", ms=4, label="FACT's mean (pooled)")
    axes[0, -1].legend(*axes[0, 0].get_legend_handles_labels(), frameon=False, fontsize=7, loc="upper left",
                       bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    add_notes(fig, _notes([], note))
    return fig


# --- Claims 2.1 and 2.2: pretext tasks ------------------------------------------------------

#: One colour per pretext task (the saliency overlays).
TASK_COLORS = {"reconstruction": "#1b9e77", "denoising": "#d95f02", "inpainting": "#7570b3",
               "classification": "#e7298a"}


def class_balanced_items(labels: np.ndarray, n_plots: int) -> np.ndarray:
    """Indices of ``n_plots`` test items: the n-th item of the n-th class in turn (classes in
    label order), as the original picks the images it plots; a class with too few items is
    skipped."""
    classes = np.unique(labels)
    seen = {c: np.flatnonzero(labels == c) for c in classes}
    picked = []
    n, last = 0, len(classes) * max(len(members) for members in seen.values())
    while len(picked) < n_plots and n < last:
        members = seen[classes[n % len(classes)]]
        if n // len(classes) < len(members):
            picked.append(members[n // len(classes)])
        n += 1
    return np.asarray(picked, dtype=int)


def _show_image(ax, image: np.ndarray) -> None:
    """Draw a ``(C, H, W)`` image in [0, 1]: grey for one channel, RGB for three."""
    if image.shape[0] == 1:
        ax.imshow(image[0], cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(np.clip(np.transpose(image, (1, 2, 0)), 0, 1))
    ax.set_xticks([])
    ax.set_yticks([])


def plot_pretext_saliency(images: np.ndarray, labels: np.ndarray, features: dict[str, np.ndarray],
                          items: np.ndarray, cell: float = 1.3, note: str | None = None) -> plt.Figure:
    """Each task's label-free |Gradient SHAP| map over the test image, a row per item and a
    column per task (the original's pretext saliency figure).

    ``images`` ``(N, C, H, W)``; ``features[task]`` ``(N, C, H, W)`` (averaged over channels
    for the map); ``items`` the rows. Each map is scaled to its own maximum and drawn in
    the task's colour, opaque where the map peaks and transparent at zero, over the image
    dimmed to 60 % (so the colour stands out on white strokes and the image stays visible
    under the low values).
    """
    from matplotlib.colors import LinearSegmentedColormap, to_rgb

    tasks = list(features)
    fig, axes = plt.subplots(len(items), len(tasks), figsize=(cell * len(tasks), cell * len(items)), squeeze=False)
    for col, task in enumerate(tasks):
        rgb = to_rgb(TASK_COLORS.get(task, "#d95f02"))
        cmap = LinearSegmentedColormap.from_list(task, [(*rgb, 0.0), (*rgb, 0.9)])
        for row, i in enumerate(items):
            ax = axes[row, col]
            _show_image(ax, 0.6 * images[i])
            saliency = features[task][i].mean(axis=0)  # (H, W)
            ax.imshow(saliency, cmap=cmap, vmin=0, vmax=max(float(saliency.max()), 1e-12))
            if row == 0:
                ax.set_title(task.capitalize(), fontsize=8)
            if col == 0:
                ax.set_ylabel(f"label {int(labels[i])}", fontsize=7)
    fig.tight_layout()
    add_notes(fig, _notes([], note))
    return fig


def plot_pretext_examples(images: np.ndarray, labels: np.ndarray, subtrain_images: np.ndarray,
                          examples: dict[str, np.ndarray], items: np.ndarray, cell: float = 1.3,
                          note: str | None = None) -> plt.Figure:
    """The test image and, per task, the sub-train example its DKNN scores rank first, a row
    per item (the original's pretext top-example figure).

    ``examples[task]`` ``(N, M)``: DKNN scores of the ``M`` sub-train images
    ``subtrain_images`` ``(M, C, H, W)`` for each test image.
    """
    tasks = list(examples)
    fig, axes = plt.subplots(len(items), len(tasks) + 1, figsize=(cell * (len(tasks) + 1), cell * len(items)),
                             squeeze=False)
    for row, i in enumerate(items):
        _show_image(axes[row, 0], images[i])
        axes[row, 0].set_ylabel(f"label {int(labels[i])}", fontsize=7)
        for col, task in enumerate(tasks, start=1):
            _show_image(axes[row, col], subtrain_images[int(np.argmax(examples[task][i]))])
    axes[0, 0].set_title("Test image", fontsize=8)
    for col, task in enumerate(tasks, start=1):
        axes[0, col].set_title(f"Top: {task}", fontsize=8)
    fig.tight_layout()
    add_notes(fig, _notes([], note))
    return fig
