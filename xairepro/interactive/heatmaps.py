"""Static explanations (static_exp.py): four captum heatmaps of a scalar-logit classifier.

Methods, as the original's ``explain_all``: ``IntegratedGradients`` (zero baseline,
``n_steps``), ``NoiseTunnel(Saliency)`` with ``smoothgrad_sq`` (``nt_samples``),
``GuidedBackprop`` and ``GuidedGradCam`` on ``layer4[-1]``. Each method gets its own
explainer; the model's ReLUs are unique modules and not in-place (see
:func:`xairepro.interactive.models.resnet18_norepeat`), which the guided methods need.
Unlike the original's loop over single images, every method runs on the whole batch.

Display follows captum's ``visualize_image_attr(..., sign="all", outlier_perc=2)`` that the
original calls through ``_normalize_image_attr``: sum over channels, divide by the value
where the cumulative sum of |attr| reaches 98 %, clip to [-1, 1]; an all-zero map is
shown as ones (the original's plot).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from captum import attr as captum_attr

from xairepro.common.io import load_arrays, save_arrays
from xairepro.common.seeding import seed_everything
from xairepro.interactive import data as D
from xairepro.interactive.classifier import load_classifier, load_split, parse_classifier, to_tensor

log = logging.getLogger(__name__)

METHODS = ("integrated_gradients", "saliency_smoothgrad_sq", "guided_backprop", "guided_gradcam")
TITLES = {"integrated_gradients": "Integrated Gradients", "saliency_smoothgrad_sq": "Saliency",
          "guided_backprop": "Guided Backprop", "guided_gradcam": "Guided GradCAM"}


def explain(model: torch.nn.Module, x: torch.Tensor, methods=METHODS, *, n_steps: int = 200, nt_samples: int = 200,
            nt_type: str = "smoothgrad_sq", internal_batch_size: int | None = None,
            nt_samples_batch_size: int | None = None, target: int = 0) -> dict[str, np.ndarray]:
    """Attributions of the logit ``target`` for a batch of images.

    Parameters
    ----------
    x : (N, 3, H, W) normalised images.

    Returns
    -------
    method -> (N, 3, H, W) float32 attributions.
    """
    model.eval()
    out = {}
    for method in methods:
        inputs = x.clone().requires_grad_(True)
        if method == "integrated_gradients":
            a = captum_attr.IntegratedGradients(model).attribute(
                inputs, target=target, n_steps=n_steps, internal_batch_size=internal_batch_size)
        elif method == "saliency_smoothgrad_sq":
            a = captum_attr.NoiseTunnel(captum_attr.Saliency(model)).attribute(
                inputs, target=target, nt_type=nt_type, nt_samples=nt_samples,
                nt_samples_batch_size=nt_samples_batch_size)
        elif method == "guided_backprop":
            a = captum_attr.GuidedBackprop(model).attribute(inputs, target=target)
        elif method == "guided_gradcam":
            a = captum_attr.GuidedGradCam(model, model.layer4[-1]).attribute(inputs, target=target)
        elif method == "gradient":
            a = captum_attr.Saliency(model).attribute(inputs, target=target, abs=False)
        else:
            raise ValueError(f"unknown heatmap method {method!r}; choose from {METHODS + ('gradient',)}")
        out[method] = a.detach().float().cpu().numpy()
    return out


def normalise(attributions: np.ndarray, outlier_perc: float = 2.0) -> np.ndarray:
    """captum's display normalisation (``visualize_image_attr`` with sign "all") of
    (N, C, H, W) maps -> (N, H, W) in [-1, 1].

    Per image: sum over channels, take the value at which the cumulative sum of the sorted
    |values| reaches (100 - outlier_perc) % of the total, divide by it, clip to [-1, 1].
    """
    maps = []
    for a in attributions:
        summed = a.sum(axis=0)
        if np.allclose(summed, 0):
            maps.append(np.ones_like(summed))  # the original's plot shows an all-zero map as ones
            continue
        sorted_vals = np.sort(np.abs(summed).ravel())
        cum = np.cumsum(sorted_vals)
        threshold = sorted_vals[np.flatnonzero(cum >= cum[-1] * 0.01 * (100.0 - outlier_perc))[0]]
        maps.append(np.clip(summed / threshold, -1, 1))
    return np.stack(maps).astype(np.float32)


def region_mass(maps: np.ndarray, regions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of |map| on the planted region, and the region's share of the image.

    maps, regions : (N, H, W). Returns (mass, area), each (N,).
    """
    weight = np.abs(maps)
    mass = (weight * regions).sum((1, 2)) / np.maximum(weight.sum((1, 2)), 1e-12)
    return mass, regions.mean((1, 2))


def resize_regions(regions: np.ndarray, size: int) -> np.ndarray:
    """Planted-region masks (N, H, W) at the classifier's input size (a pixel belongs to the
    region when at least a quarter of its area does)."""
    if regions.shape[-1] == size:
        return regions
    area = torch.nn.functional.interpolate(torch.from_numpy(regions[:, None].astype(np.float32)), size=(size, size),
                                           mode="area")
    return (area[:, 0] >= 0.25).numpy()


def map_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image Pearson correlation of two (N, ...) attribution maps."""
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    a = a - a.mean(1, keepdims=True)
    b = b - b.mean(1, keepdims=True)
    return (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)


def pick_images(y: np.ndarray, n_imgs: int) -> np.ndarray:
    """The first ``n_imgs`` of each class (the original's exported c1_i / c2_i images)."""
    return np.concatenate([np.flatnonzero(y == 0)[:n_imgs], np.flatnonzero(y == 1)[:n_imgs]])


def compute_heatmaps(root: str | Path, model_path: str | Path, classifier: str, out_npz: str | Path,
                     out_csv: str | Path, *, size: int, split_seed: int, ratio: float, n_imgs: int,
                     methods=METHODS, n_steps: int, nt_samples: int, nt_type: str, internal_batch_size: int | None,
                     nt_samples_batch_size: int | None, outlier_perc: float, pad: int = 0, crop_ratio: float = 0.0,
                     regions_path: str | Path | None = None, seed: int = 0, threads: int | None = None,
                     provenance: dict | None = None) -> pd.DataFrame:
    """Heatmaps of validation images of one classifier: the attribution cache and a table
    (per image and method: logit, planted-region mass and area where the data plant one,
    and the correlation of the guided methods with the plain gradient)."""
    from xairepro.common.io import write_csv

    seed_everything(seed, threads)
    split = load_split(root, classifier, size=size, split_seed=split_seed, ratio=ratio, pad=pad, crop_ratio=crop_ratio,
                       splits=("valid",))
    idx = pick_images(split["y_valid"], n_imgs)
    images, labels, names = split["x_valid"][idx], split["y_valid"][idx], split["names_valid"][idx]
    model = load_classifier(model_path)
    x = to_tensor(images)
    with torch.no_grad():
        logits = model(x).flatten().numpy()
    raw = explain(model, x, (*methods, "gradient"), n_steps=n_steps, nt_samples=nt_samples, nt_type=nt_type,
                  internal_batch_size=internal_batch_size, nt_samples_batch_size=nt_samples_batch_size)
    gradient = raw.pop("gradient")
    maps = {m: normalise(a, outlier_perc) for m, a in raw.items()}
    regions = None
    if regions_path is not None:
        dset, target = parse_classifier(classifier)
        index = D.PLANTED_ATTRIBUTES.index(target) if dset == "celeb" else 0
        regions = resize_regions(D.load_regions(regions_path, names, index), size)
    rows = []
    for m in methods:
        corr = map_correlation(raw[m], gradient)
        mass, area = region_mass(maps[m], regions) if regions is not None else (np.full(len(idx), np.nan),) * 2
        for i in range(len(idx)):
            rows.append({"classifier": classifier, "image": names[i], "label": labels[i], "logit": logits[i],
                         "method": m, "region_mass": mass[i], "region_area": area[i],
                         "corr_with_gradient": corr[i]})
    table = pd.DataFrame(rows)
    arrays = {"images": images, "labels": labels, "names": names.astype(str), "logits": logits,
              "methods": np.array(methods)}
    arrays |= {f"raw_{m}": raw[m] for m in methods} | {f"map_{m}": maps[m] for m in methods}
    if regions is not None:
        arrays["regions"] = regions
    save_arrays(out_npz, **arrays)
    write_csv(out_csv, table, provenance)
    log.info("%s: mean region mass / area %s", classifier,
             table.groupby("method")[["region_mass", "region_area"]].mean().to_dict())
    return table


def summarise_heatmaps(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Per classifier and method: mean region mass, area, their ratio, correlation with the gradient."""
    table = pd.concat(tables, ignore_index=True)
    out = table.groupby(["classifier", "method"], sort=False).agg(
        n_images=("image", "size"), region_mass=("region_mass", "mean"), region_area=("region_area", "mean"),
        corr_with_gradient=("corr_with_gradient", "mean")).reset_index()
    out["mass_to_area"] = out["region_mass"] / out["region_area"]
    return out


def plot_heatmaps(npz_path: str | Path, figure_path: str | Path, *, cmap: str = "seismic", interp: str = "bicubic",
                  panel_inches: float = 1.6, dpi: int = 100) -> None:
    """One row per image: the original, then each method's normalised map (range [-1, 1])."""
    import matplotlib.pyplot as plt

    from xairepro.common.io import atomic_path

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
