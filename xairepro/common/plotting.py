"""One plotting style for every figure, and an atomic save."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from xairepro.common.io import atomic_path  # noqa: E402

log = logging.getLogger(__name__)

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}


def use_style() -> None:
    """Apply the project's matplotlib style (call once per plotting script)."""
    plt.rcParams.update(STYLE)


def save_figure(fig: plt.Figure, path: str | Path) -> None:
    """Save ``fig`` atomically (format from the suffix) and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, bbox_inches="tight")
    plt.close(fig)


def add_notes(fig: plt.Figure, notes: Sequence[tuple[str, str]], y: float = -0.01) -> None:
    """Write ``(gid, text)`` notes under the axes from figure height ``y`` down, one per line,
    each a figure text with its ``gid`` (``"coincidence"``, ``"scale_note"``, italic) so that
    a test can find it, and each in the log. Call after ``tight_layout``: the saved figure's
    tight bounding box takes them in."""
    line = 7 * 1.35 / 72 / fig.get_figheight()  # one 7 pt line, as a share of the figure height
    for gid, text in notes:
        log.info("figure note: %s", text)
        wrapped = textwrap.fill(text, width=max(30, int(fig.get_figwidth() * 19)), break_on_hyphens=False)
        fig.text(0.02, y, wrapped, ha="left", va="top", fontsize=7, gid=gid,
                 style="italic" if gid == "scale_note" else "normal")
        y -= line * (wrapped.count("\n") + 1.3)
