"""Figures of the interactive study: the heatmap rows of one classifier
(:func:`plot_heatmaps`, the original's ``plot_all``, static_exp.py:182-215) and the
generative explanation canvases of one evaluated classifier (:func:`plot_canvases`, the
original's ``to_canvas``, generative_exp.py:197-247), paged so that every page reads at
100 %.

Both figures state their scale: a colourbar for the heatmaps' normalised attribution and
for the canvases' score bars. An all-zero heatmap is drawn as zero and says so in its panel
(the original draws it as ones: maximal positive attribution; ``zero_maps_as_ones``
restores that drawing, still labelled).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from xairepro.common.io import atomic_path, load_arrays
from xairepro.interactive.data import parse_classifier

#: Column headings, each naming its method as computed (the original heads SmoothGrad^2 "Saliency").
TITLES = {"integrated_gradients": "Integrated Gradients", "saliency_smoothgrad_sq": "SmoothGrad²\nsaliency",
          "guided_backprop": "Guided Backprop", "guided_gradcam": "Guided GradCAM\n(layer4)"}
#: Why a method's map can be zero everywhere, said in the panel that shows one.
ZERO_REASONS = {"guided_gradcam": "GradCAM's ReLU drops\nnegative evidence:\nno layer4 cell\nraises the logit"}
#: Smallest text of a figure, in points (readable at 100 % at the figures' dpi).
FONT_PT = 10


def all_zero(attributions: np.ndarray) -> np.ndarray:
    """Which maps of (N, ...) attributions are zero everywhere (the original's test,
    ``np.allclose(a, 0)``, static_exp.py:202). Guided GradCAM of an image scored negative is:
    GradCAM's ReLU keeps only the positive evidence of each ``layer4`` cell, and on the
    demo's 64 px inputs ``layer4`` has 2 x 2 cells, all negative for such an image.

    Returns (N,) bool.
    """
    flat = np.asarray(attributions).reshape(len(attributions), -1)
    return np.array([np.allclose(a, 0) for a in flat], dtype=bool)


def subject(classifier: str) -> tuple[str, str]:
    """What a classifier tells apart, and what its positive logit means: ``celeb-Smiling`` ->
    ("Smiling", "Smiling"); ``flowers102_c49-c65`` -> ("Flowers102 class 65 vs 49",
    "class 65") (label 1 is the pair's second class); ``fairface-gender`` -> ("FairFace
    gender", "Male"), ``fairface-age`` -> ("FairFace age", "older": its output is the
    expected age in years); ``user`` (your own classifier, user_data) -> ("user-provided
    ResNet-18", "its positive class")."""
    if classifier == "user":
        return "user-provided ResNet-18", "its positive class"
    if classifier in ("fairface-gender", "fairface-age"):
        return ("FairFace gender", "Male") if classifier.endswith("gender") else ("FairFace age", "older")
    dset, target = parse_classifier(classifier)
    if dset == "celeb":
        return target, target
    return f"Flowers102 class {target[1]} vs {target[0]}", f"class {target[1]}"


def heatmap_figure(arrays: dict, classifier: str, *, cmap: str = "seismic", interp: str = "bicubic",
                   panel_inches: float = 1.6, outlier_perc: float = 2.0, zero_maps_as_ones: bool = False):
    """The heatmap figure of one classifier as a matplotlib Figure.

    ``arrays`` is the attribution cache of :func:`xairepro.interactive.steps.compute_heatmaps`:
    ``images`` uint8 (N, H, W, 3), ``labels`` and ``logits`` (N,), ``methods``, and per
    method ``map_<m>`` (N, H, W) in [-1, 1] and ``raw_<m>`` (N, 3, H, W). One row per image:
    the image, then each method's map in ``cmap`` over [-1, 1] with one colourbar; a map
    whose raw attribution is zero everywhere is drawn as 0 (or, with ``zero_maps_as_ones``,
    as the original's ones) and labelled "all zero" with the reason.
    """
    import matplotlib.pyplot as plt

    methods = [str(m) for m in arrays["methods"]]
    n, cols = len(arrays["images"]), 1 + len(methods)
    fig, axes = plt.subplots(n, cols, figsize=(panel_inches * cols + 1.3, panel_inches * n + 1.1), squeeze=False,
                             layout="constrained")
    what, positive = subject(classifier)
    # FairFace's age head is the expected age in years (softmax over its nine bins); every other
    # classifier's output is a logit. FairFace's rows are CelebA faces labelled by Male / Young.
    output = "expected age" if classifier == "fairface-age" else "logit"
    label = {"fairface-gender": "CelebA Male", "fairface-age": "CelebA Young"}.get(classifier, "label")
    fig.suptitle(f"Heatmaps of the {what} classifier ({classifier}): attribution to its {output}\n"
                 f"red raises the {output} (towards {positive}), blue lowers it; rows: "
                 f"{'your images' if classifier == 'user' else 'validation images'}",
                 fontsize=FONT_PT + 1)
    mappable = None
    for j, method in enumerate(methods, start=1):
        zero = all_zero(arrays[f"raw_{method}"]) if f"raw_{method}" in arrays else np.zeros(n, bool)
        for i in range(n):
            ax = axes[i, j]
            panel = np.asarray(arrays[f"map_{method}"][i], dtype=float)
            if zero[i]:
                panel = np.full_like(panel, 1.0 if zero_maps_as_ones else 0.0)
            mappable = ax.imshow(panel, cmap=cmap, vmin=-1, vmax=1, interpolation=interp)
            if zero[i]:
                drawn = "drawn as +1 (original)" if zero_maps_as_ones else "drawn as 0"
                reason = ZERO_REASONS.get(method, "no attribution")
                ax.text(0.5, 0.5, f"all zero ({drawn}):\n{reason}", transform=ax.transAxes, ha="center",
                        va="center", fontsize=FONT_PT - 2, color="black",
                        bbox={"facecolor": "white", "edgecolor": "0.5", "alpha": 0.85, "pad": 2})
    for i in range(n):
        axes[i, 0].imshow(arrays["images"][i], interpolation=interp)
        value = (f"E[age] {arrays['logits'][i]:.0f} y" if output == "expected age"
                 else f"logit {arrays['logits'][i]:+.1f}")
        # unlabelled images (your own, or FairFace's folder) are named by their file
        first = (f"{label} y={arrays['labels'][i]:g}" if np.isfinite(arrays["labels"][i])
                 else str(arrays["names"][i])[:18])
        axes[i, 0].set_ylabel(f"{first}\n{value}", fontsize=FONT_PT)
    for j in range(cols):
        axes[0, j].set_title("image" if j == 0 else TITLES.get(methods[j - 1], methods[j - 1]), fontsize=FONT_PT)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    if mappable is not None:
        bar = fig.colorbar(mappable, ax=axes[:, 1:], shrink=min(1.0, 4.0 / max(n, 1)), aspect=25, pad=0.02)
        bar.set_label(f"attribution / its {100 - outlier_perc:g} % cumulative-|attr| threshold\n"
                      "(channel sum, clipped to [-1, 1])", fontsize=FONT_PT)
        bar.ax.tick_params(labelsize=FONT_PT)
    return fig


def plot_heatmaps(npz_path: str | Path, figure_path: str | Path, *, classifier: str, cmap: str = "seismic",
                  interp: str = "bicubic", panel_inches: float = 1.6, dpi: int = 100, outlier_perc: float = 2.0,
                  zero_maps_as_ones: bool = False) -> None:
    """Write :func:`heatmap_figure` of the attribution cache ``npz_path`` to ``figure_path``."""
    import matplotlib.pyplot as plt

    arrays = load_arrays(npz_path, required=("images", "methods", "labels", "logits"))
    fig = heatmap_figure(arrays, classifier, cmap=cmap, interp=interp, panel_inches=panel_inches,
                         outlier_perc=outlier_perc, zero_maps_as_ones=zero_maps_as_ones)
    with atomic_path(figure_path) as tmp:
        fig.savefig(tmp, dpi=dpi)
    plt.close(fig)


def score_cmap():
    """The original's score colours as a colormap over [-1, 1]: red (255 |s|, 0, 0) below 0,
    green (0, 255 s, 0) above (generative_exp.py:233)."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("score", [(1.0, 0.0, 0.0), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0)])


#: Canvas page layout in inches: score bar height, gap between rows, margins.
_BAR, _GAP, _LEFT, _RIGHT, _TOP, _BOTTOM = 0.3, 0.12, 1.25, 0.2, 1.15, 1.2


def canvas_pages(arrays: dict, *, hw: int = 96, mult: float = 0.25, rows_per_page: int = 6, dpi: int = 100):
    """The canvases of one evaluated classifier as pages: ``(name, Figure)`` per direction and
    block of at most ``rows_per_page`` input faces.

    ``arrays`` is the cache of :func:`xairepro.interactive.steps.explain_images`: ``frames``
    uint8 (D, N, S, H, W, 3), ``eval_logits`` (D, N, S), ``grid`` (S,), ``directions``,
    ``names``, ``eval_attr`` and ``inputs`` uint8 (N, H, W, 3). A row is one face: its input,
    then its frames at shift g (column headings), each under a bar of the evaluated score
    tanh(mult * logit) with its value; a colourbar gives the bars' scale. Frames are ``hw``
    pixels at ``dpi``. Pages are named ``move_<direction>`` (``_<k>`` when a direction needs
    more than one).
    """
    n_dir, n_img, _ = arrays["eval_logits"].shape
    n_pages = math.ceil(n_img / rows_per_page)
    pages = []
    for d in range(n_dir):
        for page in range(n_pages):
            rows = list(range(page * rows_per_page, min(n_img, (page + 1) * rows_per_page)))
            part = f" (page {page + 1} of {n_pages}, faces {rows[0] + 1}-{rows[-1] + 1} of {n_img})" * (n_pages > 1)
            name = f"move_{arrays['directions'][d]}" + (f"_{page + 1}" if n_pages > 1 else "")
            pages.append((name, _canvas_page(arrays, d, rows, part, side=hw / dpi, mult=mult)))
    return pages


def _canvas_page(arrays: dict, d: int, rows: list[int], part: str, *, side: float, mult: float):
    """One canvas page: direction ``d``, the faces ``rows``; frames ``side`` inches wide."""
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    frames, logits = arrays["frames"][d], arrays["eval_logits"][d]  # (N, S, H, W, 3), (N, S)
    steps = logits.shape[1]
    grid = arrays["grid"] if "grid" in arrays else np.arange(steps)
    eval_attr = str(arrays["eval_attr"]) if "eval_attr" in arrays else "evaluated"
    direction = str(arrays["directions"][d])
    first = int("inputs" in arrays)  # the input face takes the first column
    cmap, norm = score_cmap(), Normalize(-1, 1)
    width = _LEFT + (first + steps) * side + _RIGHT
    height = _TOP + len(rows) * (_BAR + side + _GAP) + _BOTTOM
    fig = plt.figure(figsize=(width, height))

    def axes_at(x, y, w, h):  # inches from the top left -> figure fractions
        ax = fig.add_axes((x / width, 1 - (y + h) / height, w / width, h / height))
        ax.set_xticks([])
        ax.set_yticks([])
        return ax

    fig.suptitle(f"Generative explanations of the {eval_attr} classifier{part}:\n"
                 f"each face projected into the generator's latent space and moved along\n"
                 f"the latent direction of {direction}; bars: the {eval_attr} classifier's score",
                 fontsize=FONT_PT + 1, y=1 - 0.08 / height, va="top")
    for r, i in enumerate(rows):
        y = _TOP + r * (_BAR + side + _GAP)
        if first:
            ax = axes_at(_LEFT, y + _BAR, side, side)
            ax.imshow(arrays["inputs"][i], interpolation="bicubic")
            ax.set_ylabel(str(arrays["names"][i]), fontsize=FONT_PT)
            if r == 0:
                ax.set_title("input", fontsize=FONT_PT, pad=_BAR * 72 + 4)
        # one axes for the row's score bars and one for its frames (a page draws in ~1 s)
        scores = np.tanh(mult * logits[i].astype(float))  # (S,)
        bar = axes_at(_LEFT + first * side, y, steps * side, _BAR)
        bar.imshow(scores[None], cmap=cmap, norm=norm, aspect="auto", extent=(0, steps, 0, 1), interpolation="nearest")
        for s, score in enumerate(scores):
            bar.text(s + 0.5, 0.5, f"{score:+.2f}", ha="center", va="center", fontsize=FONT_PT,
                     color="white" if abs(score) < 0.6 else "black")
            if r == 0:
                bar.text(s + 0.5, 1.15, f"step {s + 1}\ng = {round(float(grid[s]), 2) + 0.0:+.2f}", ha="center",
                         va="bottom", fontsize=FONT_PT)
        strip = axes_at(_LEFT + first * side, y + _BAR, steps * side, side)
        strip.imshow(np.concatenate(list(frames[i]), axis=1), interpolation="bicubic", aspect="auto",
                     extent=(0, steps, 1, 0))
        for s in range(1, steps):
            strip.axvline(s, color="black", linewidth=0.8)
    y_end = _TOP + len(rows) * (_BAR + side + _GAP)
    fig.text((_LEFT + (first + steps / 2) * side) / width, 1 - (y_end + 0.05) / height,
             f"shift g along the {direction} direction, in units of ||w|| (w + g ||w|| beta / ||beta||)",
             ha="center", va="top", fontsize=FONT_PT)
    cax = axes_at(_LEFT + first * side, y_end + 0.6, steps * side, 0.16)
    cax.set_label("colourbar")
    colourbar = fig.colorbar(ScalarMappable(norm, cmap), cax=cax, orientation="horizontal")
    colourbar.set_label(f"score of the {eval_attr} classifier: tanh({mult:g} x logit)", fontsize=FONT_PT)
    colourbar.ax.tick_params(labelsize=FONT_PT)
    return fig


def plot_canvases(npz_path: str | Path, out_dir: str | Path, *, hw: int = 96, mult: float = 0.25,
                  rows_per_page: int = 6, dpi: int = 100) -> list[Path]:
    """Write the :func:`canvas_pages` of the phase-3 cache ``npz_path`` into ``out_dir``
    (``<page name>.png``); returns their paths."""
    import matplotlib.pyplot as plt

    arrays = load_arrays(npz_path, required=("frames", "eval_logits", "directions", "names"))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fig in canvas_pages(arrays, hw=hw, mult=mult, rows_per_page=rows_per_page, dpi=dpi):
        with atomic_path(out_dir / f"{name}.png") as tmp:
            fig.savefig(tmp, dpi=dpi)
        plt.close(fig)
        written.append(out_dir / f"{name}.png")
    return written
