"""The attribution steps of the study, one function per workflow rule.

Every function reads its inputs, computes, and writes its declared outputs atomically;
nothing is cached between runs outside declared outputs (the original silently reloaded
pickled CAVs; here the CAVs are an ``.npz`` output that Snakemake rebuilds when its
inputs or parameters change).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from xairepro.common.io import load_arrays, read_csv, save_arrays, write_csv, write_json
from xairepro.common.logs import progress
from xairepro.common.provenance import stamp
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.pianist.data import (
    concept_rolls, filter_notes, harmony_notes, list_concepts, load_table, normalise, piano_roll,
)
from xairepro.pianist.explain import (
    IG_STEPS, CavSensitivity, KernelOcclusion, LimeRoll, activations, fit_cavs, note_coverage, sign_counts,
)
from xairepro.pianist.tables import correlations, ordered, summarise
from xairepro.pianist.train import clip_inputs, load_model

log = logging.getLogger(__name__)


def harmony_rolls(table, indices: np.ndarray, roll: dict[str, Any]) -> np.ndarray:
    """Normalised harmony channels ``(N, 88, T)`` of some clips (no augmentation)."""
    return np.stack([
        normalise(piano_roll(harmony_notes(filter_notes(table.notes_of(int(i)), roll["clip_seconds"],
                                                        roll["min_duration"]), roll["harmony_window"]),
                             roll["fps"], roll["clip_seconds"], roll["min_duration"]))
        for i in indices
    ]).astype(np.float32)


def compute_cavs(model_path: str | Path, data_path: str | Path, voicing_dir: str | Path, mapping_csv: str | Path,
                 out: str | Path, *, roll: dict[str, Any], n_cavs: int, n_experiments: int, n_random_clips: int,
                 positive_fraction: float, transpositions: list[int], n_inversions: int | str, batch_size: int,
                 seed: int, random_cavs: str = "fake_voicings", solver: str = "lbfgs", stretch: bool = True,
                 harmony_filter: bool = False, hands: str = "bass", threads: int = 1) -> dict[str, np.ndarray]:
    """Render the first ``n_cavs`` concepts, take harmony-branch activations, fit the CAVs,
    random CAVs and control CAVs (:func:`~xairepro.pianist.explain.fit_cavs`); write them
    (with names and layer shape) to ``out`` (npz).

    The renderings follow :func:`~xairepro.pianist.data.concept_rolls` (``n_inversions``
    ``all``: every inversion). The random CAVs' pool (``random_cavs``) is every concept's
    renderings (``fake_voicings``, the original's) or ``n_random_clips`` training clips
    (``training_clips``).
    """
    seed_everything(seed, threads)
    model = load_model(model_path, pick_device())
    table = load_table(data_path)
    concepts = list_concepts(voicing_dir, mapping_csv)[:n_cavs]
    concept_acts = []
    for name, files in progress(concepts, desc="concept activations"):
        rolls = concept_rolls(files, fps=roll["fps"], clip_seconds=roll["clip_seconds"], transpositions=transpositions,
                              n_inversions=None if n_inversions == "all" else int(n_inversions),
                              harmony_window=roll["harmony_window"], min_duration=roll["min_duration"],
                              stretch=stretch, harmony_filter=harmony_filter, hands=hands)
        concept_acts.append(activations(model, rolls, batch_size))
        log.info("concept %s: %d renderings", name, len(rolls))
    random_acts = None  # fake_voicings: the concepts' renderings
    if random_cavs == "training_clips":
        train = table.indices("train")
        rng = np.random.default_rng(seed)
        pool = rng.choice(train, min(len(train), n_random_clips), replace=False)
        random_acts = activations(model, harmony_rolls(table, pool, roll), batch_size)
    with torch.no_grad():
        branch = model.branches["harmony"]
        probe = torch.zeros(1, 1, 88, int(round(roll["fps"] * roll["clip_seconds"])),
                            device=next(model.parameters()).device)
        layer_shape = branch.layer4(branch.layer3(branch.layer2(branch.layer1(branch.stem(probe))))).shape[1:]
    fitted = fit_cavs(concept_acts, random_acts, n_experiments=n_experiments, n_random_clips=n_random_clips,
                      positive_fraction=positive_fraction, seed=seed, random_cavs=random_cavs, solver=solver)
    log.info("CAV dimension %d (harmony layer4 %s); mean CAV accuracy %.3f; random CAVs from %s", fitted["cavs"].shape[-1],
             tuple(layer_shape), float(fitted["cav_accuracy"].mean()), random_cavs)
    arrays = {**fitted, "concepts": np.asarray([name for name, _ in concepts]),
              "layer_shape": np.asarray(tuple(layer_shape), np.int64)}
    save_arrays(out, **arrays)
    return arrays


def load_cavs(path: str | Path) -> dict[str, np.ndarray]:
    return load_arrays(path, required=("cavs", "random_cavs", "control_cavs", "concepts", "cav_accuracy",
                                         "layer_shape"))


def compute_sensitivities(model_path: str | Path, data_path: str | Path, cavs_path: str | Path,
                          json_out: str | Path, csv_out: str | Path, *, roll: dict[str, Any], splits: list[str],
                          attribution_fn: str, multiply_by_inputs: bool, ig_steps: int, batch_size: int,
                          seed: int, threads: int = 1) -> pd.DataFrame:
    """Sensitivities of every held-out clip to every CAV (JSON, per clip) and the sign
    counts and magnitudes per performer, concept and experiment (CSV, long format), with
    those of the random CAVs and of each concept's control CAVs (a random concept in its
    place, the negative control of the TCAV claims)."""
    seed_everything(seed, threads)
    model = load_model(model_path, pick_device())
    table = load_table(data_path)
    cavs = load_cavs(cavs_path)
    n_c, n_e, dim = cavs["cavs"].shape
    concepts = [str(c) for c in cavs["concepts"]]
    idx = table.indices(*splits)
    labels = table.label[idx]
    # vectors: (C * E concept CAVs + E random CAVs + C * E control CAVs, D)
    vectors = np.concatenate([cavs["cavs"].reshape(-1, dim), cavs["random_cavs"],
                              cavs["control_cavs"].reshape(-1, dim)])
    s = np.zeros((len(idx), len(vectors)), np.float32)
    tcav = CavSensitivity(model, attribution_fn=attribution_fn, multiply_by_inputs=multiply_by_inputs,
                          ig_steps=ig_steps)
    # clips streamed in chunks: never all held-out rolls at once (the original held ~8 GB)
    chunk = max(batch_size, 10 * batch_size)
    for start in progress(range(0, len(idx), chunk), desc="sensitivities"):
        part = idx[start:start + chunk]
        s[start:start + chunk] = tcav.attribute(harmony_rolls(table, part, roll), target=table.label[part],
                                                cavs=vectors, batch_size=batch_size)
    concept_s, random_s = s[:, :n_c * n_e].reshape(-1, n_c, n_e), s[:, n_c * n_e:n_c * n_e + n_e]
    control_s = s[:, n_c * n_e + n_e:].reshape(-1, n_c, n_e)
    n_p = len(table.performer)
    counts, magnitude = sign_counts(concept_s, labels, n_p)
    r_counts, r_magnitude = sign_counts(random_s, labels, n_p)
    c_counts, c_magnitude = sign_counts(control_s, labels, n_p)
    rows = [{"performer": table.performer[p], "concept": concepts[c], "experiment": e,
             "sign_count": counts[p, c, e], "magnitude": magnitude[p, c, e],
             "random_sign_count": r_counts[p, e], "random_magnitude": r_magnitude[p, e],
             "control_sign_count": c_counts[p, c, e], "control_magnitude": c_magnitude[p, c, e],
             "n_clips": int((labels == p).sum())}
            for p in range(n_p) if (labels == p).any() for c in range(n_c) for e in range(n_e)]
    long = pd.DataFrame(rows)
    write_json(json_out, {
        "concepts": concepts, "n_experiments": n_e, "attribution_fn": attribution_fn,
        "clips": {table.clip_name[i]: {"performer": table.performer[int(table.label[i])],
                                       "sensitivity": {c: [float(v) for v in concept_s[k, j]] for j, c in enumerate(concepts)},
                                       "random": [float(v) for v in random_s[k]]}
                  for k, i in enumerate(idx)},
    })
    write_csv(csv_out, long, stamp("pianist", {"splits": splits, "attribution_fn": attribution_fn,
                                               "multiply_by_inputs": multiply_by_inputs, "seed": seed}))
    return long


def summarise_tcav(sign_counts_csv: str | Path, summary_out: str | Path, concept_out: str | Path,
                   performer_out: str | Path) -> pd.DataFrame:
    """Mean sign counts with Wilcoxon stars, and the two correlation matrices (CSVs), each in
    dendrogram order (:func:`~xairepro.pianist.tables.ordered`): the figures draw them as listed."""
    long = read_csv(sign_counts_csv, required=("performer", "concept", "experiment", "sign_count", "random_sign_count"))
    concept_r, performer_r = correlations(long)
    summary, concept_r, performer_r = ordered(summarise(long), concept_r, performer_r)
    provenance = stamp("pianist", {"source": Path(sign_counts_csv).name})
    write_csv(summary_out, summary, provenance)
    write_csv(concept_out, concept_r.rename_axis("concept").reset_index(), provenance)
    write_csv(performer_out, performer_r.rename_axis("performer").reset_index(), provenance)
    return summary


def heatmap_clips(clips: list[str], default_clip: str) -> list[str]:
    """The clips to map: the configured list, or the default clip only when it is empty
    (the original always added its default to ``-s``)."""
    return list(clips) if clips else [default_clip]


def compute_kernel_heatmaps(model_path: str | Path, data_path: str | Path, cavs_path: str | Path, out: str | Path, *,
                            clips: list[str], roll: dict[str, Any], kernel: dict[str, float], batch_size: int,
                            attribution_fn: str, multiply_by_inputs: bool, seed: int, ig_steps: int = IG_STEPS,
                            threads: int = 1) -> None:
    """Kernel-occlusion maps of the named clips against the first CAV of each concept (npz:
    ``map_<i>``, ``s_orig_<i>``, ``roll_<i>`` per clip, plus the kernel centres and names)."""
    seed_everything(seed, threads)
    model = load_model(model_path, pick_device())
    table = load_table(data_path)
    cavs = load_cavs(cavs_path)
    occlusion = KernelOcclusion(model, roll=roll, kernel=kernel, attribution_fn=attribution_fn,
                                multiply_by_inputs=multiply_by_inputs, ig_steps=ig_steps)
    arrays: dict[str, np.ndarray] = {"clips": np.asarray(clips), "concepts": cavs["concepts"]}
    for i, name in enumerate(clips):
        k = table.index_of(name)
        result = occlusion.attribute(table.notes_of(k), target=int(table.label[k]), cavs=cavs["cavs"][:, 0],
                                     batch_size=batch_size)
        arrays.update({f"map_{i}": result["map"], f"s_orig_{i}": result["s_orig"],
                       f"roll_{i}": harmony_rolls(table, np.array([k]), roll)[0]})
        arrays["pitches"], arrays["times"] = result["pitches"], result["times"]
        log.info("%s: sensitivities %s", name, np.round(result["s_orig"], 4).tolist())
    arrays["performer"] = np.asarray([table.performer[int(table.label[table.index_of(c)])] for c in clips])
    arrays["clip_start"] = np.asarray([float(table.clip[table.index_of(c)]) * roll["clip_seconds"] for c in clips])
    # the tracks' metadata.json (JSON text, "" when absent): the figures' titles, as the original's
    arrays["metadata"] = np.asarray([table.track_metadata[int(table.track[table.index_of(c)])] for c in clips])
    save_arrays(out, **arrays)


def compute_lime(model_path: str | Path, data_path: str | Path, out: str | Path, *, roll: dict[str, Any],
                 splits: list[str], num_samples: int, num_features: int, top_labels: int, batch_size: int,
                 kernel_width: float, hide_color: float, distance_metric: str, seed: int,
                 segmentation: dict[str, float], feature_selection: str, sounding_only: bool,
                 control_segmentation: dict[str, float] | None = None, threads: int = 1) -> dict[str, np.ndarray]:
    """LIME (``lime_image``, quickshift superpixels) of every held-out clip for the
    baseline; writes the top-``num_features`` positive superpixel mask of the top class,
    the predicted class and its probability, the number of superpixels and the share of
    the roll's notes inside the mask (:func:`~xairepro.pianist.explain.note_coverage`) (npz).
    With ``control_segmentation``, the same LIME with that segmentation too (``control_*``
    arrays: the negative control of the coverage claim). Clips are explained one at a time;
    ``seed`` is LIME's and quickshift's ``random_state``."""
    seed_everything(seed, threads)
    model = load_model(model_path, pick_device())
    table = load_table(data_path)
    idx = table.indices(*splits)

    def rolled(i: int) -> np.ndarray:
        """``(1, 88, T)``: the baseline's input of one clip, without augmentation (rolls are
        built per clip: all held-out rolls at once would hold ~1 MB per clip at paper scale)."""
        return clip_inputs(table, np.array([i]), "resnet", roll, seed)[:, 0]

    flags = {"kernel_width": kernel_width, "hide_color": hide_color, "distance_metric": distance_metric,
             "random_state": seed, "feature_selection": feature_selection, "sounding_only": sounding_only}
    args = {"num_samples": num_samples, "num_features": num_features, "top_labels": top_labels,
            "batch_size": batch_size}
    runs = {"": segmentation} | ({"control_": control_segmentation} if control_segmentation else {})
    arrays: dict[str, np.ndarray] = {"index": idx.astype(np.int64)}
    for prefix, segments in runs.items():
        lime = LimeRoll(model, segmentation=segments, **flags)
        parts, coverage = [], []
        for i in progress(idx, desc=f"{prefix}LIME"):
            x = rolled(int(i))
            parts.append(lime.attribute(x, **args))
            coverage.append(note_coverage(parts[-1]["mask"], x))
        mask = np.concatenate([p["mask"] for p in parts]).astype(bool)
        arrays |= {f"{prefix}mask": mask, f"{prefix}n_segments": np.concatenate([p["n_segments"] for p in parts]),
                   f"{prefix}note_coverage": np.concatenate(coverage).astype(np.float32)}
        if not prefix:
            arrays |= {"top_label": np.concatenate([p["label"] for p in parts]).astype(np.int64),
                       "probability": np.concatenate([p["probability"] for p in parts]).astype(np.float32)}
        cover = arrays[f"{prefix}note_coverage"]
        log.info("%sLIME: %s superpixels (median), share of notes in the mask %.2f-%.2f, %d empty, %d whole",
                 prefix, int(np.median(arrays[f"{prefix}n_segments"])), np.nanmin(cover), np.nanmax(cover),
                 int((cover == 0).sum()), int((cover == 1).sum()))
    save_arrays(out, **arrays)
    return arrays
