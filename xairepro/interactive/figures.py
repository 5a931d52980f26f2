"""Figures of the interactive study: the heatmap rows of one classifier and the generative
explanation canvases of one evaluated classifier (the original's ``to_canvas``)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from xairepro.common.io import atomic_path, load_arrays

TITLES = {"integrated_gradients": "Integrated Gradients", "saliency_smoothgrad_sq": "Saliency",
          "guided_backprop": "Guided Backprop", "guided_gradcam": "Guided GradCAM"}


def plot_heatmaps(npz_path: str | Path, figure_path: str | Path, *, cmap: str = "seismic", interp: str = "bicubic",
                  panel_inches: float = 1.6, dpi: int = 100) -> None:
    """One row per image: the original, then each method's normalised map (range [-1, 1])."""
    import matplotlib.pyplot as plt

    arrays = load_arrays(npz_path, required=("images", "methods"))
    methods = [str(m) for m in arrays["methods"]]
    n = len(arrays["images"])
    fig, axes = plt.subplots(n, 1 + len(methods), figsize=(panel_inches * (1 + len(methods)), panel_inches * n),
                             squeeze=False)
    for i in range(n):
        panels = [arrays["images"][i] / 255.0] + [arrays[f"map_{m}"][i] for m in methods]
        for j, panel in enumerate(panels):
            ax = axes[i, j]
            ax.imshow(panel, cmap=None if j == 0 else cmap, vmin=-1, vmax=1, interpolation=interp)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title("original" if j == 0 else TITLES.get(methods[j - 1], methods[j - 1]), fontsize=8)
        axes[i, 0].set_ylabel(f"y={arrays['labels'][i]:g} logit={arrays['logits'][i]:.1f}", fontsize=7)
    fig.tight_layout()
    with atomic_path(figure_path) as tmp:
        fig.savefig(tmp, dpi=dpi)
    plt.close(fig)


def draw_canvas(frames: np.ndarray, logits: np.ndarray, *, hw: int, mult: float = 0.25, buffer: int = 20):
    """The original's ``to_canvas``: frames side by side under a header band with the
    evaluated score tanh(mult * logit) as text and as a green (> 0) / red (< 0) bar.

    frames: uint8 (steps, H, W, 3); logits: (steps,). Returns a PIL image.
    """
    from PIL import Image, ImageDraw

    canvas = Image.new("RGB", (hw * len(frames), 2 * buffer + hw))
    draw = ImageDraw.Draw(canvas)
    for i, (frame, logit) in enumerate(zip(frames, logits)):
        score = math.tanh(mult * float(logit))
        canvas.paste(Image.fromarray(frame).resize((hw, hw), Image.BICUBIC), (i * hw, 2 * buffer))
        color = (0, int(255 * score), 0) if score > 0 else (int(-255 * score), 0, 0)
        draw.rectangle([i * hw, 0, (i + 1) * hw, buffer], fill=(255, 255, 255))
        draw.rectangle([i * hw, buffer, (i + 1) * hw, 2 * buffer], fill=color)
        draw.text((i * hw + int(0.4 * hw), 5), f"{score:.2f}", fill=color if score != 0 else (0, 0, 0))
    return canvas


def plot_canvases(npz_path: str | Path, figure_path: str | Path, *, hw: int = 96, mult: float = 0.25,
                  buffer: int = 20, label_width: int = 110) -> None:
    """Every canvas of one evaluated classifier in one image: a block per direction, a row per input."""
    from PIL import Image, ImageDraw

    arrays = load_arrays(npz_path, required=("frames", "eval_logits", "directions", "names"))
    frames, logits = arrays["frames"], arrays["eval_logits"]  # (D, N, steps, H, W, 3), (D, N, steps)
    n_dir, n_img, steps = logits.shape
    row_h = 2 * buffer + hw
    sheet = Image.new("RGB", (label_width + hw * (steps + 1), row_h * n_dir * n_img), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for d in range(n_dir):
        for i in range(n_img):
            top = (d * n_img + i) * row_h
            draw.text((5, top + row_h // 2 - 12), f"move {arrays['directions'][d]}", fill=(0, 0, 0))
            draw.text((5, top + row_h // 2 + 2), f"{arrays['names'][i]}", fill=(90, 90, 90))
            if "inputs" in arrays:
                sheet.paste(Image.fromarray(arrays["inputs"][i]).resize((hw, hw), Image.BICUBIC),
                            (label_width, top + 2 * buffer))
            sheet.paste(draw_canvas(frames[d, i], logits[d, i], hw=hw, mult=mult, buffer=buffer),
                        (label_width + hw, top))
    with atomic_path(figure_path) as tmp:
        sheet.save(tmp, format="PNG")
