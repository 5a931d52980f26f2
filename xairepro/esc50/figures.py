"""Figures of the esc50 study."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from xairepro.common.plotting import save_figure, use_style


def _show(ax, image: np.ndarray, title: str, vmax: float | None = None) -> None:
    ax.imshow(image.T, origin="lower", aspect="auto", cmap="magma", vmin=0, vmax=vmax)
    ax.set_title(title, fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])


def _show_own_scale(ax, image: np.ndarray, title: str, quantile: float = 0.99) -> None:
    """A panel coloured from 0 to its own ``quantile`` (a PIQ mask is often far below 1, and its
    maximum can sit in a one-bin edge artefact of the decoder); the title gives both values."""
    top, peak = float(np.quantile(image, quantile)), float(image.max())
    _show(ax, image, f"{title} (0 to {top:.2g}; max {peak:.2g})", top if top > 0 else None)


def plot_clips(arrays: dict[str, np.ndarray], path: str | Path, title: str, mask_th: float = 0.35,
               n_clips: int = 4, panel_size: tuple[float, float] = (2.4, 2.0)) -> None:
    """Per clip (rows): input log-spectrogram, thresholded input, interpretation, estimated mask."""
    use_style()
    X, masks, interp = arrays["X"], arrays["masks"], arrays["interpretations"]
    n = min(n_clips, len(X))
    fig, axes = plt.subplots(n, 4, figsize=(4 * panel_size[0], n * panel_size[1]), squeeze=False)
    for i in range(n):
        x = X[i]
        vmax = float(x.max())
        _show(axes[i, 0], x, f"{arrays['names'][i]} (class {arrays['targets'][i]})", vmax)
        _show(axes[i, 1], x * (x > mask_th * vmax), f"input > {mask_th} max", vmax)
        _show_own_scale(axes[i, 2], interp[i], "interpretation")
        _show_own_scale(axes[i, 3], masks[i], "mask")
    fig.suptitle(title)
    save_figure(fig, path)


def plot_overlap(arrays: dict[str, np.ndarray], path: str | Path, n_clips: int = 4,
                 panel_size: tuple[float, float] = (2.4, 2.0)) -> None:
    """Per mixture (rows): source, noise, 0.8/0.2 mixture, PIQ mask, interpretation."""
    use_style()
    n = min(n_clips, len(arrays["source"]))
    fig, axes = plt.subplots(n, 5, figsize=(5 * panel_size[0], n * panel_size[1]), squeeze=False)
    for i in range(n):
        vmax = float(arrays["mixture"][i].max())
        _show(axes[i, 0], arrays["source"][i], f"source {arrays['names'][i]}", vmax)
        _show(axes[i, 1], arrays["noise"][i], "noise (other class)", vmax)
        _show(axes[i, 2], arrays["mixture"][i], "0.8 source + 0.2 noise", vmax)
        _show_own_scale(axes[i, 3], arrays["masks"][i], "PIQ mask")
        _show_own_scale(axes[i, 4], arrays["interpretations"][i], "interpretation")
    fig.suptitle("PIQ overlap test")
    save_figure(fig, path)
