"""The steps of the interactive study that explain, one function per workflow rule (the
trainers are in :mod:`xairepro.interactive.train`): each reads its inputs, computes, and
writes its declared outputs.

* :func:`compute_heatmaps` (static_exp.py): the captum heatmaps of one classifier's
  validation images, their attribution cache and a table, with the randomised-classifier
  controls of the claims.
* :func:`compute_fairface_heatmaps` (static_exp.py ``--model_name fairface``): the same
  heatmaps of FairFace's gender or age output (user-provided weights).
* :func:`create_latent_dataset` (generative_exp.py, phase 1): z ~ N(0, I), w = mapping(z),
  truncation w = w_avg + psi (w - w_avg) (the original computes w_avg + psi (w + w_avg): a
  sign bug, fixed here, the size of the difference recorded), images synthesised and scored
  by each attribute classifier (soft label = sigmoid of the logit; ``ff-skin-color``:
  FairFace's skin-colour head at 224 px); w[:, 0] is stored.
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

from xairepro.common.controls import randomised_copy
from xairepro.common.io import save_arrays, write_csv, write_json
from xairepro.common.logs import progress
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.interactive import data as D
from xairepro.interactive.explain import (METHODS, LatentMoves, explain, localisation, map_correlation, normalise,
                                          region_mass, resize_regions)
from xairepro.interactive.models import classifier_size_of, load_classifier, to_unit, truncate, truncate_original
from xairepro.interactive.tables import monotonicity

log = logging.getLogger(__name__)


def compute_heatmaps(root: str | Path, model_path: str | Path, classifier: str, out_npz: str | Path,
                     out_csv: str | Path, *, size: int, split_seed: int, ratio: float, n_imgs: int,
                     methods=METHODS, n_steps: int, nt_samples: int, nt_type: str, internal_batch_size: int | None,
                     nt_samples_batch_size: int | None, outlier_perc: float, pad: int = 0, crop_ratio: float = 0.0,
                     regions_path: str | Path | None = None, control_methods=(), out_json: str | Path | None = None,
                     seed: int = 0, threads: int | None = None, provenance: dict | None = None,
                     device: str = "auto") -> pd.DataFrame:
    """Heatmaps of validation images of one classifier: the attribution cache and a table
    (per image, method and model: logit, planted-region mass and area and Quantus' relevance
    rank and mass accuracy where the data plant a region, and the correlation of the guided
    methods with the plain gradient).

    The negative controls: where regions exist, ``control_methods`` explain the same images
    on copies of the classifier with every layer re-initialised, two independent copies per
    image (:func:`randomised_attributions`; rows with ``model`` ``randomised`` and
    ``randomised_twin``); and one randomised copy (seeded by ``seed``) scores the whole
    validation split: both models' validation accuracy and the majority share go to
    ``out_json``. Everything runs on ``device`` (``"auto"``: CUDA when there is one).
    """
    seed_everything(seed, threads)
    device = pick_device(device)
    split = D.load_split(root, classifier, size=size, split_seed=split_seed, ratio=ratio, pad=pad, crop_ratio=crop_ratio,
                       splits=("valid",))
    idx = D.pick_images(split["y_valid"], n_imgs)
    images, labels, names = split["x_valid"][idx], split["y_valid"][idx], split["names_valid"][idx]
    model = load_classifier(model_path).to(device)
    control = randomised_copy(model, seed=seed).eval()
    x = D.to_tensor(images).to(device)
    with torch.no_grad():
        logits = model(x).flatten().cpu().numpy()
    if out_json is not None:
        write_json(out_json, validation_accuracy(model, control, split["x_valid"], split["y_valid"], classifier))
    raw = explain(model, x, (*methods, "gradient"), n_steps=n_steps, nt_samples=nt_samples, nt_type=nt_type,
                  internal_batch_size=internal_batch_size, nt_samples_batch_size=nt_samples_batch_size)
    gradient = raw.pop("gradient")
    maps = {m: normalise(a, outlier_perc) for m, a in raw.items()}
    regions = None
    if regions_path is not None:
        dset, target = D.parse_classifier(classifier)
        index = D.PLANTED_ATTRIBUTES.index(target) if dset == "celeb" else 0
        regions = resize_regions(D.load_regions(regions_path, names, index), size)
    explained = {"trained": raw}
    if regions is not None and control_methods:
        flags = {"n_steps": n_steps, "nt_samples": nt_samples, "nt_type": nt_type,
                 "internal_batch_size": internal_batch_size, "nt_samples_batch_size": nt_samples_batch_size}
        for copy, kind in enumerate(RANDOMISED):
            explained[kind] = randomised_attributions(model, x, tuple(control_methods), seed=seed, copy=copy, **flags)
    nan = np.full(len(idx), np.nan)
    rows = []
    for kind, attributions in explained.items():
        for m, a in attributions.items():
            corr = map_correlation(a, gradient) if kind == "trained" else nan
            mass, area = region_mass(normalise(a, outlier_perc), regions) if regions is not None else (nan, nan)
            rank, relevance = localisation(a, regions) if regions is not None else (nan, nan)
            for i in range(len(idx)):
                rows.append({"classifier": classifier, "image": names[i], "label": labels[i], "logit": logits[i],
                             "method": m, "model": kind, "region_mass": mass[i], "region_area": area[i],
                             "relevance_rank": rank[i], "relevance_mass": relevance[i],
                             "corr_with_gradient": corr[i]})
    table = pd.DataFrame(rows)
    arrays = {"images": images, "labels": labels, "names": names.astype(str), "logits": logits,
              "methods": np.array(methods)}
    arrays |= {f"raw_{m}": raw[m] for m in methods} | {f"map_{m}": maps[m] for m in methods}
    if regions is not None:
        arrays["regions"] = regions
    save_arrays(out_npz, **arrays)
    write_csv(out_csv, table, provenance)
    log.info("%s: mean relevance rank accuracy / area share %s", classifier,
             table.groupby(["model", "method"])[["relevance_rank", "region_area"]].mean().to_dict())
    return table


def compute_fairface_heatmaps(weights: str | Path, attr: str, out_npz: str | Path, out_csv: str | Path, *,
                              root: str | Path | None, img_dir: str | Path | None, n_imgs: int, split_seed: int,
                              ratio: float, methods=METHODS, n_steps: int, nt_samples: int, nt_type: str,
                              internal_batch_size: int | None, nt_samples_batch_size: int | None,
                              outlier_perc: float, seed: int = 0, threads: int | None = None,
                              provenance: dict | None = None, device: str = "auto") -> pd.DataFrame:
    """Heatmaps of FairFace's ``attr`` output (static_exp.py ``--model_name fairface --attr``):
    the network of :func:`~xairepro.interactive.models.load_fairface` explains the images of
    :func:`~xairepro.interactive.data.fairface_inputs` at 224 px with the same methods and
    flags as the classifiers' heatmaps. Writes the attribution cache (the keys of
    :func:`compute_heatmaps`, so the heatmap figure draws it) and a table (per image and
    method: output, correlation with the plain gradient); no planted regions, no controls.
    """
    from xairepro.interactive.models import FAIRFACE_SIZE, load_fairface

    seed_everything(seed, threads)
    device = pick_device(device)
    model = load_fairface(weights, attr).to(device)
    images, labels, names = D.fairface_inputs(root, attr, size=FAIRFACE_SIZE, n_imgs=n_imgs, split_seed=split_seed,
                                              ratio=ratio, img_dir=img_dir)
    x = D.to_tensor(images).to(device)
    with torch.no_grad():
        outputs = model(x).flatten().cpu().numpy()  # gender: the "Male" logit; age: expected years
    raw = explain(model, x, (*methods, "gradient"), n_steps=n_steps, nt_samples=nt_samples, nt_type=nt_type,
                  internal_batch_size=internal_batch_size, nt_samples_batch_size=nt_samples_batch_size)
    gradient = raw.pop("gradient")
    classifier = f"fairface-{attr}"
    rows = []
    for m, a in raw.items():
        corr = map_correlation(a, gradient)
        for i in range(len(names)):
            rows.append({"classifier": classifier, "image": names[i], "label": labels[i], "logit": outputs[i],
                         "method": m, "model": "trained", "corr_with_gradient": corr[i]})
    table = pd.DataFrame(rows)
    arrays = {"images": images, "labels": labels, "names": names.astype(str), "logits": outputs,
              "methods": np.array(methods)}
    arrays |= {f"raw_{m}": raw[m] for m in methods} | {f"map_{m}": normalise(raw[m], outlier_perc) for m in methods}
    save_arrays(out_npz, **arrays)
    write_csv(out_csv, table, provenance)
    return table


RANDOMISED = ("randomised", "randomised_twin")


def randomised_attributions(model: nn.Module, x: torch.Tensor, methods: tuple[str, ...], *, seed: int, copy: int,
                            **flags) -> dict[str, np.ndarray]:
    """Attributions of each image by its own copy of ``model`` with every layer re-initialised
    (:func:`~xairepro.common.controls.randomised_copy`, seeded by ``(seed, copy, image)``).

    One copy per image makes the images independent draws of the randomised null, so a test
    over images compares with the null's distribution rather than with one random network;
    ``copy`` 0 and 1 give two independent sets (the claim's comparison and its control).
    x: (N, 3, H, W). Returns method -> (N, 3, H, W).
    """
    parts = []
    for i in range(len(x)):
        image_seed = int(np.random.SeedSequence([seed, copy, i]).generate_state(1)[0])
        parts.append(explain(randomised_copy(model, seed=image_seed), x[i:i + 1], methods, **flags))
    return {m: np.concatenate([p[m] for p in parts]) for m in methods}


@torch.no_grad()
def validation_accuracy(model: nn.Module, control: nn.Module, images: np.ndarray, labels: np.ndarray,
                        classifier: str, batch_size: int = 100) -> dict:
    """Validation accuracy of a classifier and of its randomised copy, and the majority share.

    images: uint8 (N, H, W, 3); labels: (N,) in {0, 1}.
    """
    y = np.asarray(labels).astype(int)
    device = next(model.parameters()).device
    record = {"classifier": classifier, "n_valid": int(len(y)), "baseline_acc": float(max(y.mean(), 1 - y.mean()))}
    for key, net in (("valid_acc", model), ("randomised_acc", control)):
        net.eval()
        # batches normalised one at a time: the paper's validation split is 1.5 GB as uint8
        logits = torch.cat([net(D.to_tensor(images[i:i + batch_size]).to(device)).flatten()
                            for i in range(0, len(images), batch_size)]).cpu().numpy()
        record[key] = float(np.mean((logits > 0).astype(int) == y))
    return record


@torch.no_grad()
def create_latent_dataset(generator: nn.Module, classifiers: dict[str, nn.Module], out_path: str | Path, *,
                          n_train: int, n_valid: int, psi: float, gen_bs: int, classifier_size: int,
                          seed: int = 0, device: str = "auto") -> dict:
    """Phase 1: latent codes w (N, w_dim) and each classifier's logit on the image of w.

    Writes ``w_train``, ``w_valid`` and ``logit_<attr>_train`` / ``_valid`` (soft labels
    are their sigmoid) and returns a record including the truncation deviation. The generator
    and classifiers run on ``device`` (``"auto"``: CUDA when there is one); z is drawn on the CPU.
    """
    device = pick_device(device)
    generator = generator.to(device)
    classifiers = {attr: model.to(device) for attr, model in classifiers.items()}
    rng = torch.Generator().manual_seed(seed)
    w_avg = generator.mapping.w_avg.detach()
    out: dict[str, np.ndarray] = {}
    deviation = []
    for split, n in (("train", n_train), ("valid", n_valid)):
        ws, logits = [], {a: [] for a in classifiers}
        for start in progress(range(0, n, gen_bs), desc=f"latent {split}"):
            z = torch.randn(min(gen_bs, n - start), generator.z_dim, generator=rng).to(device)
            w = generator.mapping(z, None)  # (B, num_ws, w_dim)
            fixed = truncate(w, w_avg, psi)
            deviation.append((truncate_original(w, w_avg, psi) - fixed)[:, 0].norm(dim=1) / fixed[:, 0].norm(dim=1))
            images = to_unit(generator.synthesis(fixed, noise_mode="const"))
            inputs = {}  # input size -> (B, 3, size, size): FairFace reads 224 px
            for attr, model in classifiers.items():
                size = classifier_size_of(attr, classifier_size)
                if size not in inputs:
                    inputs[size] = D.classifier_input(images, size)
                logits[attr].append(model(inputs[size]).flatten())
            ws.append(fixed[:, 0])
        out[f"w_{split}"] = torch.cat(ws).cpu().numpy()
        for attr in classifiers:
            out[f"logit_{attr}_{split}"] = torch.cat(logits[attr]).cpu().numpy()
    save_arrays(out_path, **out, attrs=np.array(list(classifiers)))
    dev = torch.cat(deviation).cpu()
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
                   vgg16_weights: str | None = None, random_seed: int | None = None,
                   provenance: dict | None = None, device: str = "auto") -> pd.DataFrame:
    """Phase 3 for every input image and direction: projection, frames and their scores.

    images: uint8 (N, H, W, 3). The table has one row per move, direction, image and step
    with the evaluated classifier's logit and the direction's own classifier's logit; the
    ``move`` is ``latent`` (the learned direction) or, with ``random_seed``, ``random`` (a
    random direction per face, the claims' negative control).
    """
    moves = LatentMoves(classifiers, generator, directions, classifier_size=classifier_size,
                        reconstruction_steps=reconstruction_steps, initial_learning_rate=initial_learning_rate,
                        projection_loss=projection_loss, vgg16_weights=vgg16_weights,
                        device=device).attribute(images, target=eval_attr, ampl=ampl, steps=steps,
                                                 random_seed=random_seed)
    grid = moves.grid
    rows, all_frames, eval_logits = [], [], []
    kinds = {"latent": (moves.eval_logits, moves.own_logits)}
    if moves.random_own_logits is not None:
        kinds["random"] = (moves.random_eval_logits, moves.random_own_logits)
    for move, (evals, owns) in kinds.items():
        for attr in directions:
            for i in range(len(moves.w)):
                for s in range(steps):
                    rows.append({"eval_attr": eval_attr, "move": move, "direction": attr, "image": str(names[i]),
                                 "step": s, "shift": float(grid[s]), "eval_logit": float(evals[attr][i, s]),
                                 "own_logit": float(owns[attr][i, s])})
    for attr in directions:
        all_frames.append((moves.frames[attr].permute(0, 1, 3, 4, 2) * 255).round().byte().numpy())
        eval_logits.append(moves.eval_logits[attr])
    table = pd.DataFrame(rows)
    save_arrays(out_npz, frames=np.stack(all_frames), grid=grid.numpy(), eval_logits=np.stack(eval_logits),
                directions=np.array(list(directions)), names=np.asarray(names, dtype=str), inputs=images,
                reconstructions=(moves.reconstructions.permute(0, 2, 3, 1) * 255).round().byte().numpy(),
                eval_attr=np.array(eval_attr))
    write_csv(out_csv, table, provenance)
    mono = monotonicity(table).set_index(["move", "direction"])
    log.info("phase 3 (%s): mean own-logit change along each direction %s", eval_attr,
             mono["own_change"].round(3).to_dict())
    return table
