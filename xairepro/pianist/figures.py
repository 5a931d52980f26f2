"""Figures of the pianist study: LIME piano rolls, the TCAV sign-count heatmap, the two
correlation heatmaps, and kernel-occlusion sensitivity maps."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.ticker import FuncFormatter

from xairepro.pianist.data import HIGHEST, LOWEST


def mmss(seconds: float, _pos=None) -> str:
    """``75.0 -> '01:15'``."""
    seconds = max(0.0, float(seconds))
    return f"{int(seconds // 60):02d}:{int(round(seconds % 60)) % 60:02d}"


def octave_ticks(ax) -> None:
    """Label the key axis at every C: C1 (MIDI 24) ... C8 (MIDI 108)."""
    cs = [p for p in range(LOWEST, HIGHEST + 1) if p % 12 == 0]
    ax.set_yticks([p - LOWEST for p in cs])
    ax.set_yticklabels([f"C{p // 12 - 1}" for p in cs])


OUTLINE = "tab:red"  # LIME's outline; the rolls are grey, so red pixels are the outline's alone


def plot_lime_roll(roll: np.ndarray, mask: np.ndarray, *, fps: int, clip_start: float, title: str,
                   width: float, height: float, cmap: str = "Greys") -> plt.Figure:
    """The roll (velocity, normalised) with LIME's top positive superpixels outlined in red.

    x: time in the track (mm:ss); y: the 88 keys labelled by octave; a colourbar for the
    velocity. An empty mask is said in the legend, never drawn as an outline of nothing.
    """
    from matplotlib.lines import Line2D

    fig, ax = plt.subplots(figsize=(width, height))
    n_frames = roll.shape[1]
    extent = (clip_start, clip_start + n_frames / fps, -0.5, roll.shape[0] - 0.5)
    image = ax.imshow(roll, origin="lower", aspect="auto", cmap=cmap, extent=extent, interpolation="nearest",
                      vmin=0, vmax=1)
    if mask.any():
        # pad by one cell so that a superpixel on the roll's edge is closed too
        padded = np.pad(mask.astype(float), 1)
        xs = clip_start + (np.arange(-1, n_frames + 1) + 0.5) / fps
        ax.contour(xs, np.arange(-1, roll.shape[0] + 1), padded, levels=[0.5], colors=OUTLINE, linewidths=1.2)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        label = f"LIME superpixels ({mask.mean():.0%} of the roll)"
    else:
        label = "no superpixel with positive weight"
    ax.legend(handles=[Line2D([], [], color=OUTLINE if mask.any() else "none", linewidth=1.2)], labels=[label],
              loc="upper left", bbox_to_anchor=(0.0, -0.12), fontsize=7, frameon=False)
    ax.xaxis.set_major_formatter(FuncFormatter(mmss))
    octave_ticks(ax)
    ax.set_xlabel("time (mm:ss)")
    ax.set_ylabel("key")
    ax.grid(False)
    fig.colorbar(image, ax=ax, label="velocity (min-max normalised per clip)", pad=0.02)
    ax.set_title(title, fontsize=9)
    return fig


def grid_size(width: float, height: float, n_rows: int, n_cols: int, *, cell_width: float = 0.6,
              cell_height: float = 0.4, margin: float = 1.0) -> tuple[float, float]:
    """Figure size of a heatmap: ``(width, height)``, grown where it would give a cell less
    than ``cell_width`` x ``cell_height`` inches (plus ``margin`` for labels and colourbar).

    The paper's 20 performers x 20 concepts need 13 x 9 inches for their cell labels
    (``0.50***``) and names; the demo's 4 x 8 grid keeps the configured size.
    """
    return max(width, n_cols * cell_width + margin), max(height, n_rows * cell_height + margin)


def plot_sign_counts(summary: pd.DataFrame, *, width: float, height: float, cmap: str = "RdBu_r") -> plt.Figure:
    """Performers x concepts mean sign counts centred at 0.5, significance stars, rows and
    columns in the summary's order (dendrogram order: :func:`xairepro.pianist.tables.ordered`).
    The figure grows with the grid (:func:`grid_size`)."""
    from xairepro.pianist.tables import wide

    counts, marks = wide(summary), wide(summary, "stars")
    fig, ax = plt.subplots(figsize=grid_size(width, height, *counts.shape))
    image = ax.imshow(counts.to_numpy(float), cmap=cmap, vmin=0, vmax=1, aspect="auto")
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            ax.text(j, i, f"{counts.iat[i, j]:.2f}{marks.iat[i, j] if isinstance(marks.iat[i, j], str) else ''}",
                    ha="center", va="center", fontsize=7,
                    color="white" if abs(float(counts.iat[i, j]) - 0.5) > 0.3 else "black")
    ax.set_xticks(range(counts.shape[1]), counts.columns, rotation=45, ha="right")
    ax.set_yticks(range(counts.shape[0]), counts.index)
    ax.set_xlabel("harmony concept")
    ax.set_ylabel("performer")
    ax.grid(False)
    fig.colorbar(image, ax=ax, label="sign count (0.5 = no effect)")
    ax.set_title("TCAV sign counts (* p<.05, ** p<.01, *** p<.001 vs random, Bonferroni)")
    return fig


def plot_correlation(matrix: pd.DataFrame, *, title: str, width: float, height: float,
                     cmap: str = "RdBu_r") -> plt.Figure:
    """A Pearson-correlation heatmap in the matrix's order (dendrogram order:
    :func:`xairepro.pianist.tables.ordered`); the figure grows with the matrix (:func:`grid_size`)."""
    fig, ax = plt.subplots(figsize=grid_size(width, height, len(matrix), len(matrix), cell_width=0.4,
                                             cell_height=0.25, margin=2.5))
    image = ax.imshow(matrix.to_numpy(float), cmap=cmap, vmin=-1, vmax=1)
    ax.set_xticks(range(len(matrix)), matrix.columns, rotation=45, ha="right")
    ax.set_yticks(range(len(matrix)), matrix.index)
    ax.set_xlabel(matrix.index.name or "")
    ax.set_ylabel(matrix.index.name or "")
    ax.grid(False)
    fig.colorbar(image, ax=ax, label="Pearson r")
    ax.set_title(title)
    return fig


def plot_kernel_heatmap(roll: np.ndarray, maps: np.ndarray, concepts: list[str], pitches: np.ndarray,
                        times: np.ndarray, kernel: dict[str, float], *, fps: int, clip_start: float, title: str,
                        width: float, height: float, s_orig: np.ndarray | None = None,
                        panel_width: float = 3.0) -> plt.Figure:
    """One panel per concept: the harmony roll with the occlusion map
    ``(s_orig - s_masked) / s_orig`` laid over it at the kernel centres ``pitches`` (MIDI)
    and ``times`` (s in the clip).

    ``maps`` ``(C, n_pitch, n_time)``. Each panel has its own symmetric colour scale and
    colourbar: the ratio explodes where ``s_orig`` is near zero, and one shared scale left
    every other panel white. A constant map (``s_orig`` = 0: no ratio) is said in the panel,
    not drawn. Panels are at least ``panel_width`` inches wide (``width`` is the minimum).
    """
    from matplotlib.ticker import MaxNLocator

    n = len(concepts)
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(max(width, panel_width * cols), max(height / 2, 2.6) * rows),
                             squeeze=False, sharex=True, sharey=True, layout="constrained")
    n_frames = roll.shape[1]
    centres_t = clip_start + np.asarray(times, float)
    centres_p = np.asarray(pitches, float) - LOWEST
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.axis("off")
            continue
        ax.imshow(roll, origin="lower", aspect="auto", cmap="Greys", interpolation="nearest",
                  extent=(clip_start, clip_start + n_frames / fps, -0.5, roll.shape[0] - 0.5))
        heat = maps[k]
        subtitle = concepts[k] if s_orig is None else f"{concepts[k]} (s = {float(s_orig[k]):.2g})"
        if not np.ptp(heat):
            ax.set_title(f"{subtitle}\nconstant {float(heat.flat[0]):.2g}: no map", fontsize=8)
        else:
            limit = float(np.abs(heat).max())
            if len(centres_t) > 1 and len(centres_p) > 1:
                mesh = ax.pcolormesh(centres_t, centres_p, heat, cmap="RdBu_r", vmin=-limit, vmax=limit, alpha=0.6,
                                     shading="nearest")
            else:
                mesh = ax.scatter(np.repeat(centres_t, len(centres_p)), np.tile(centres_p, len(centres_t)),
                                  c=heat.T.ravel(), cmap="RdBu_r", vmin=-limit, vmax=limit, s=60)
            fig.colorbar(mesh, ax=ax, label="(s - s_masked) / s", shrink=0.9)
            ax.set_title(subtitle, fontsize=8)
        # the original's grid reaches the keyboard's and the clip's edges: keep the roll's frame
        ax.set_xlim(clip_start, clip_start + n_frames / fps)
        ax.set_ylim(-0.5, roll.shape[0] - 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=3))
        ax.xaxis.set_major_formatter(FuncFormatter(mmss))
        octave_ticks(ax)
        ax.grid(False)
    for ax in axes[-1]:
        ax.set_xlabel("time (mm:ss)")
    for ax in axes[:, 0]:
        ax.set_ylabel("key")
    fig.suptitle(title, fontsize=9)
    return fig


def lime_title(performer: str, track: str, start: float, end: float, metadata: str = "") -> str:
    """The first lines of a LIME figure's title: the track and the clip's span.

    With the track's ``metadata`` (JSON text of its ``metadata.json``), as the original's
    ``create_lime_plots.py``: ``bandleader — "track_name" (mm:ss—mm:ss)`` and
    ``from "album_name", recording_year`` (the year left out where it is null, as in
    PiJAMA's metadata, where the original printed None); without, ``performer | track | span``.
    """
    import json

    span = f"{mmss(start)}—{mmss(end)}"
    meta = json.loads(metadata) if metadata else {}
    if not {"bandleader", "track_name", "album_name"} <= set(meta):
        return f"{performer} | {track} | {mmss(start)}-{mmss(end)}"
    year = meta.get("recording_year")
    album = f'from "{meta["album_name"]}"' + ("" if year in (None, "") else f", {year}")
    return f'{meta["bandleader"]} — "{meta["track_name"]}" ({span})\n{album}'


def write_lime_figures(data_path, explanations_path, out_dir, *, roll: dict, width: float, height: float,
                       n_features: int = 5) -> list:
    """One LIME figure per explained clip: ``<out_dir>/<performer>/<track>_<clip>.png``
    (grouped by true performer). Returns the paths written."""
    from pathlib import Path

    from xairepro.common.io import load_arrays
    from xairepro.common.plotting import save_figure
    from xairepro.pianist.data import load_table
    from xairepro.pianist.train import clip_inputs

    table = load_table(data_path)
    lime = load_arrays(explanations_path, required=("index", "mask", "top_label", "probability"))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for i, mask, top, prob in zip(lime["index"], lime["mask"], lime["top_label"], lime["probability"]):
        i = int(i)
        x = clip_inputs(table, np.array([i]), "resnet", roll, 0)[0, 0]
        start = float(table.clip[i]) * roll["clip_seconds"]
        performer = table.performer[int(table.label[i])]
        track = table.track_name[int(table.track[i])]
        metadata = table.track_metadata[int(table.track[i])]
        title = (lime_title(performer, track, start, start + roll["clip_seconds"], metadata) + "\n"
                 + (f"{performer}: " if metadata else "")
                 + f"LIME top-{n_features} positive superpixels for predicted {table.performer[int(top)]} "
                 f"(p={prob:.2f})")
        fig = plot_lime_roll(x, mask, fps=roll["fps"], clip_start=start, title=title, width=width, height=height)
        path = out_dir / performer / f"{track.split('/')[-1]}_clip_{int(table.clip[i]):03d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_figure(fig, path)
        written.append(path)
    return written


def clip_slug(clip_name: str) -> str:
    """``"pijama/track/clip_008.mid" -> "pijama__track__clip_008"`` (a file name)."""
    return clip_name.removesuffix(".mid").replace("/", "__")


def write_kernel_figures(heatmaps_path, out_dir, *, roll: dict, kernel: dict, width: float, height: float) -> list:
    """One kernel-occlusion figure per mapped clip: ``<out_dir>/<clip slug>.png``."""
    from pathlib import Path

    from xairepro.common.io import load_arrays
    from xairepro.common.plotting import save_figure

    arrays = load_arrays(heatmaps_path, required=("clips", "concepts", "pitches", "times"))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    concepts = [str(c) for c in arrays["concepts"]]
    written = []
    for i, clip in enumerate(str(c) for c in arrays["clips"]):
        start = float(arrays["clip_start"][i])
        metadata = str(arrays["metadata"][i]) if "metadata" in arrays else ""
        title = (lime_title(str(arrays["performer"][i]), clip, start, start + roll["clip_seconds"], metadata)
                 + "\nkernel occlusion of the harmony channel, first CAV of each concept (own colour scale per panel)")
        fig = plot_kernel_heatmap(arrays[f"roll_{i}"], arrays[f"map_{i}"], concepts, arrays["pitches"], arrays["times"],
                                  kernel, fps=roll["fps"], clip_start=start, title=title, width=width, height=height,
                                  s_orig=arrays.get(f"s_orig_{i}"))
        path = out_dir / f"{clip_slug(clip)}.png"
        save_figure(fig, path)
        written.append(path)
    return written
