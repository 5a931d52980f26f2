"""The steps of the interactive study that explain, one function per workflow rule (the
trainers are in :mod:`xairepro.interactive.train`): each reads its inputs, computes, and
writes its declared outputs.

* :func:`compute_heatmaps` (static_exp.py): the captum heatmaps of one classifier's
  validation images, their attribution cache and a table.
* :func:`create_latent_dataset` (generative_exp.py, phase 1): z ~ N(0, I), w = mapping(z),
  truncation w = w_avg + psi (w - w_avg) (the original computes w_avg + psi (w + w_avg): a
  sign bug, fixed here, the size of the difference recorded), images synthesised and scored
  by each attribute classifier (soft label = sigmoid of the logit); w[:, 0] is stored.
* :func:`explain_images` (phase 3): :class:`~xairepro.interactive.explain.LatentMoves` of
  the input images along every direction, the frames and a table of their scores.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from xairepro.common.io import save_arrays, write_csv
from xairepro.common.logs import progress
from xairepro.common.seeding import seed_everything
from xairepro.interactive import data as D
from xairepro.interactive.explain import METHODS, LatentMoves, explain, map_correlation, normalise, region_mass, resize_regions
from xairepro.interactive.models import load_classifier, to_unit, truncate, truncate_original
from xairepro.interactive.tables import monotonicity

log = logging.getLogger(__name__)


def compute_heatmaps(root: str | Path, model_path: str | Path, classifier: str, out_npz: str | Path,
                     out_csv: str | Path, *, size: int, split_seed: int, ratio: float, n_imgs: int,
                     methods=METHODS, n_steps: int, nt_samples: int, nt_type: str, internal_batch_size: int | None,
                     nt_samples_batch_size: int | None, outlier_perc: float, pad: int = 0, crop_ratio: float = 0.0,
                     regions_path: str | Path | None = None, seed: int = 0, threads: int | None = None,
                     provenance: dict | None = None) -> pd.DataFrame:
    """Heatmaps of validation images of one classifier: the attribution cache and a table
    (per image and method: logit, planted-region mass and area where the data plant one,
    and the correlation of the guided methods with the plain gradient)."""
    seed_everything(seed, threads)
    split = D.load_split(root, classifier, size=size, split_seed=split_seed, ratio=ratio, pad=pad, crop_ratio=crop_ratio,
                       splits=("valid",))
    idx = D.pick_images(split["y_valid"], n_imgs)
    images, labels, names = split["x_valid"][idx], split["y_valid"][idx], split["names_valid"][idx]
    model = load_classifier(model_path)
    x = D.to_tensor(images)
    with torch.no_grad():
        logits = model(x).flatten().numpy()
    raw = explain(model, x, (*methods, "gradient"), n_steps=n_steps, nt_samples=nt_samples, nt_type=nt_type,
                  internal_batch_size=internal_batch_size, nt_samples_batch_size=nt_samples_batch_size)
    gradient = raw.pop("gradient")
    maps = {m: normalise(a, outlier_perc) for m, a in raw.items()}
    regions = None
    if regions_path is not None:
        dset, target = D.parse_classifier(classifier)
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


@torch.no_grad()
def create_latent_dataset(generator: nn.Module, classifiers: dict[str, nn.Module], out_path: str | Path, *,
                          n_train: int, n_valid: int, psi: float, gen_bs: int, classifier_size: int,
                          seed: int = 0) -> dict:
    """Phase 1: latent codes w (N, w_dim) and each classifier's logit on the image of w.

    Writes ``w_train``, ``w_valid`` and ``logit_<attr>_train`` / ``_valid`` (soft labels
    are their sigmoid) and returns a record including the truncation deviation.
    """
    rng = torch.Generator().manual_seed(seed)
    w_avg = generator.mapping.w_avg.detach().cpu()
    out: dict[str, np.ndarray] = {}
    deviation = []
    for split, n in (("train", n_train), ("valid", n_valid)):
        ws, logits = [], {a: [] for a in classifiers}
        for start in progress(range(0, n, gen_bs), desc=f"latent {split}"):
            z = torch.randn(min(gen_bs, n - start), generator.z_dim, generator=rng)
            w = generator.mapping(z, None)  # (B, num_ws, w_dim)
            fixed = truncate(w, w_avg, psi)
            deviation.append((truncate_original(w, w_avg, psi) - fixed)[:, 0].norm(dim=1) / fixed[:, 0].norm(dim=1))
            images = to_unit(generator.synthesis(fixed, noise_mode="const"))
            x = D.classifier_input(images, classifier_size)
            for attr, model in classifiers.items():
                logits[attr].append(model(x).flatten())
            ws.append(fixed[:, 0])
        out[f"w_{split}"] = torch.cat(ws).numpy()
        for attr in classifiers:
            out[f"logit_{attr}_{split}"] = torch.cat(logits[attr]).numpy()
    save_arrays(out_path, **out, attrs=np.array(list(classifiers)))
    dev = torch.cat(deviation)
    record = {"psi": psi, "n_train": n_train, "n_valid": n_valid,
              "truncation": "w_avg + psi * (w - w_avg)",
              "original_truncation": "w_avg + psi * (w + w_avg)",
              "original_relative_deviation_mean": float(dev.mean()),
              "label_means": {a: float(torch.sigmoid(torch.from_numpy(out[f"logit_{a}_train"])).mean())
                              for a in classifiers}}
    log.info("latent dataset: %d train / %d valid codes; the original's truncation would move w by %.2f x ||w||",
             n_train, n_valid, record["original_relative_deviation_mean"])
    return record


def explain_images(generator: nn.Module, eval_attr: str, classifiers: dict[str, nn.Module],
                   directions: dict[str, torch.Tensor], images: np.ndarray, names: np.ndarray, out_npz: str | Path,
                   out_csv: str | Path, *, classifier_size: int, reconstruction_steps: int,
                   initial_learning_rate: float, projection_loss: str, ampl: float, steps: int,
                   provenance: dict | None = None) -> pd.DataFrame:
    """Phase 3 for every input image and direction: projection, frames and their scores.

    images: uint8 (N, H, W, 3). The table has one row per direction, image and step with
    the evaluated classifier's logit and the direction's own classifier's logit.
    """
    moves = LatentMoves(classifiers, generator, directions, classifier_size=classifier_size,
                        reconstruction_steps=reconstruction_steps, initial_learning_rate=initial_learning_rate,
                        projection_loss=projection_loss).attribute(images, target=eval_attr, ampl=ampl, steps=steps)
    grid = moves.grid
    rows, all_frames, eval_logits = [], [], []
    for attr in directions:
        logit_eval, logit_own = moves.eval_logits[attr], moves.own_logits[attr]
        for i in range(len(moves.w)):
            for s in range(steps):
                rows.append({"eval_attr": eval_attr, "direction": attr, "image": str(names[i]), "step": s,
                             "shift": float(grid[s]), "eval_logit": float(logit_eval[i, s]),
                             "own_logit": float(logit_own[i, s])})
        all_frames.append((moves.frames[attr].permute(0, 1, 3, 4, 2) * 255).round().byte().numpy())
        eval_logits.append(logit_eval)
    table = pd.DataFrame(rows)
    save_arrays(out_npz, frames=np.stack(all_frames), grid=grid.numpy(), eval_logits=np.stack(eval_logits),
                directions=np.array(list(directions)), names=np.asarray(names, dtype=str), inputs=images,
                reconstructions=(moves.reconstructions.permute(0, 2, 3, 1) * 255).round().byte().numpy(),
                eval_attr=np.array(eval_attr))
    write_csv(out_csv, table, provenance)
    mono = monotonicity(table)
    log.info("phase 3 (%s): mean Spearman of own score along each direction %s", eval_attr,
             mono.set_index("direction")["spearman_own"].round(3).to_dict())
    return table
