"""Figures of the esc50 study: per-clip interpretations and the overlap test.

Every panel is a (T, F) array drawn on real axes (time in s, frequency in kHz, from the
STFT's hop and the clip's sample rate) with a colourbar. The input and the thresholded
input share the clip's input scale, 0 to max X; the interpretation has its own, 0 to its
maximum (L2I's W H stays far below X); masks are drawn on their own range, 0 to 1, with
colours following sqrt(M) (the colourbar's ticks show it): a faint mask stays visible while
the PIQ decoder's near-zero floor (the transposed convolutions' stride pattern) stays
black. Colouring each mask to its own 99th percentile, as before, blew that floor up into a
whole-panel checkerboard wherever the event covered under 1 % of the bins. A panel whose
values span under 5 % of its colour scale would read as one flat colour: its title says so.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import PowerNorm
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from xairepro.common.plotting import save_figure, use_style
from xairepro.esc50.data import HOP_MS, N_FFT

LOG_MAG = "log1p |STFT|"
FLAT = 0.05  # a panel spanning less than this fraction of its colour scale reads as one colour
MASK_GAMMA = 0.5  # masks: colour ~ sqrt(M), so a faint mask (0.1 to 0.3) shows and the decoder's ~0.003 floor does not
SOURCE_COLOUR, NOISE_COLOUR = "white", "red"


def extent(shape: tuple[int, int], sample_rate: int) -> tuple[float, float, float, float]:
    """imshow extent (s, s, kHz, kHz) of a (T, F) STFT array: frames at the hop, bins at rate / N_FFT."""
    n_frames, n_bins = shape
    return (0.0, n_frames * HOP_MS / 1000, 0.0, n_bins * sample_rate / N_FFT / 1000)


def _panel(fig, ax, image: np.ndarray, title: str, sample_rate: int, vmax: float, label: str,
           gamma: float = 1.0) -> None:
    """One (T, F) panel from 0 to ``vmax`` (colours linear in value**gamma), with axes in s and
    kHz and a labelled colourbar; a panel that would read as one flat colour says so."""
    vmax = vmax if vmax > 0 else 1.0
    if float(image.max() - image.min()) < FLAT * vmax:
        title = f"{title}\n(flat at this scale: {image.min():.2g} to {image.max():.2g})"
    norm = PowerNorm(gamma, vmin=0, vmax=vmax)
    shown = ax.imshow(image.T, origin="lower", aspect="auto", cmap="magma", norm=norm,
                      extent=extent(image.shape, sample_rate), interpolation="nearest")
    ax.grid(False)
    ax.set_title(title, fontsize=7)
    ax.tick_params(labelsize=6)
    bar = fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.03, extend="max" if image.max() > vmax else "neither")
    bar.ax.tick_params(labelsize=6)
    bar.locator = MaxNLocator(4)
    bar.update_ticks()
    bar.set_label(label, fontsize=6)


def _label_outer(axes: np.ndarray) -> None:
    """Axis labels and tick values on the outer panels only: every panel has the same axes,
    and each tick label drawn costs time in a demo that runs against a budget."""
    for ax in axes[:-1].flat:
        ax.tick_params(labelbottom=False)
    for ax in axes[:, 1:].flat:
        ax.tick_params(labelleft=False)
    for ax in axes[-1]:
        ax.set_xlabel("time (s)", fontsize=7)
    for ax in axes[:, 0]:
        ax.set_ylabel("frequency (kHz)", fontsize=7)


def one_per_class(targets: np.ndarray, n: int) -> np.ndarray:
    """Indices of the first clip of each class (in class order), then of the remaining clips, ``n`` in all."""
    first = np.unique(targets, return_index=True)[1]
    rest = np.setdiff1d(np.arange(len(targets)), first)
    return np.concatenate([first, rest])[:n]


def draw_clips(arrays: dict[str, np.ndarray], title: str, mask_th: float = 0.35, n_clips: int = 4,
               panel_size: tuple[float, float] = (2.4, 2.0)) -> plt.Figure:
    """Per clip (rows, the first of each class first): input log-spectrogram, thresholded input
    (the PIQ training target's bins), interpretation, estimated mask."""
    use_style()
    X, masks, interp = arrays["X"], arrays["masks"], arrays["interpretations"]
    sr = int(arrays["sample_rate"])
    rows = one_per_class(arrays["targets"], n_clips)
    height = len(rows) * panel_size[1]
    fig, axes = plt.subplots(len(rows), 4, figsize=(4 * panel_size[0] * 1.15, height), squeeze=False,
                             gridspec_kw={"wspace": 0.45, "hspace": 0.45, "top": 1 - 0.6 / height})
    for axrow, i in zip(axes, rows):
        x = X[i]
        vmax = float(x.max())
        pred = f", predicted {arrays['predictions'][i]}" if "predictions" in arrays else ""
        _panel(fig, axrow[0], x, f"{arrays['names'][i]} (class {arrays['targets'][i]}{pred})", sr, vmax, LOG_MAG)
        _panel(fig, axrow[1], x * (x > mask_th * vmax), f"input > {mask_th} max", sr, vmax, LOG_MAG)
        _panel(fig, axrow[2], interp[i], "interpretation (own scale)", sr, float(interp[i].max()), LOG_MAG)
        _panel(fig, axrow[3], masks[i], f"mask (max {masks[i].max():.2g})", sr, 1.0, "mask M", MASK_GAMMA)
    _label_outer(axes)
    fig.suptitle(title)
    return fig


def plot_clips(arrays: dict[str, np.ndarray], path: str | Path, title: str, mask_th: float = 0.35,
               n_clips: int = 4, panel_size: tuple[float, float] = (2.4, 2.0)) -> None:
    """:func:`draw_clips`, saved to ``path``."""
    save_figure(draw_clips(arrays, title, mask_th, n_clips, panel_size), path)


def _box(ax, box: np.ndarray, colour: str) -> None:
    """A dashed rectangle on the planted region ``box`` = (t0, t1 in s, f0, f1 in Hz); none where NaN."""
    t0, t1, f0, f1 = (float(v) for v in box)
    if np.isnan([t0, t1, f0, f1]).any():
        return
    ax.add_patch(Rectangle((t0, f0 / 1000), t1 - t0, (f1 - f0) / 1000, fill=False, linestyle="--",
                           linewidth=1.0, edgecolor=colour))


def draw_overlap(arrays: dict[str, np.ndarray], n_clips: int = 4,
                 panel_size: tuple[float, float] = (2.4, 2.0)) -> plt.Figure:
    """Per mixture (rows): source, noise, 0.8/0.2 mixture, PIQ mask, interpretation; dashed boxes
    on the planted regions (demo data) of the source (white) and the noise (red). The mixture's
    title says which class the classifier gave it (the source's, the noise's or another): PIQ
    explains the assigned class, and the overlap claim is decided on the mixtures assigned the
    source's."""
    use_style()
    n = min(n_clips, len(arrays["source"]))
    sr = int(arrays["sample_rate"])
    height = n * panel_size[1]
    fig, axes = plt.subplots(n, 5, figsize=(5 * panel_size[0] * 1.15, height), squeeze=False,
                             gridspec_kw={"wspace": 0.45, "hspace": 0.45, "top": 1 - 0.6 / height})
    for i in range(n):
        vmax = float(arrays["mixture"][i].max())
        row = axes[i]
        _panel(fig, row[0], arrays["source"][i], f"source {arrays['names'][i]}", sr, vmax, LOG_MAG)
        _panel(fig, row[1], arrays["noise"][i], f"noise {arrays['noise_names'][i]}", sr, vmax, LOG_MAG)
        _panel(fig, row[2], arrays["mixture"][i], "0.8 source + 0.2 noise" + _verdict(arrays, i), sr, vmax,
               LOG_MAG)
        _panel(fig, row[3], arrays["masks"][i], f"PIQ mask (max {arrays['masks'][i].max():.2g})", sr, 1.0, "mask M",
               MASK_GAMMA)
        interp = arrays["interpretations"][i]
        _panel(fig, row[4], interp, "interpretation (own scale)", sr, float(interp.max()), LOG_MAG)
        _box(row[0], arrays["source_boxes"][i], SOURCE_COLOUR)
        _box(row[1], arrays["noise_boxes"][i], NOISE_COLOUR)
        for ax in row[2:]:
            _box(ax, arrays["source_boxes"][i], SOURCE_COLOUR)
            _box(ax, arrays["noise_boxes"][i], NOISE_COLOUR)
    _label_outer(axes)
    boxed = np.isfinite(arrays["source_boxes"][:n]).all()
    fig.suptitle("PIQ overlap test" + (" (dashed: planted regions, white source, red noise)" if boxed else ""))
    return fig


def _verdict(arrays: dict[str, np.ndarray], i: int) -> str:
    """The second line of mixture ``i``'s title: the class the classifier gave the mixture, named
    as the source's or the noise's ("" for arrays written before the prediction was kept)."""
    if "predictions" not in arrays:
        return ""
    pred = int(arrays["predictions"][i])
    whose = {int(arrays["targets"][i]): "the source's class", int(arrays["noise_targets"][i]): "the noise's class"}
    other = "neither clip's class"
    return f"\nclassified {pred}: {whose.get(pred, other)}"


def plot_overlap(arrays: dict[str, np.ndarray], path: str | Path, n_clips: int = 4,
                 panel_size: tuple[float, float] = (2.4, 2.0)) -> None:
    """:func:`draw_overlap`, saved to ``path``."""
    save_figure(draw_overlap(arrays, n_clips, panel_size), path)
