"""The steps of the study that are neither training, tables nor figures, one function per rule's
computation: the interpretations of the test fold with their per-clip metrics
(``esc50_compute_interpretations``), the overlap test (``esc50_compute_overlap``) and the
interpretation audio (``esc50_write_audio``). The scripts write what they return.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import soundfile as sf
import torch

from xairepro.common.controls import area_share, randomised_copy, relevance_mass, relevance_rank
from xairepro.common.io import atomic_path, load_torch
from xairepro.common.seeding import pick_device
from xairepro.esc50.data import (
    load_clip, load_features, load_split, log_spectrogram, planted_masks, read_planted, resynthesise,
)
from xairepro.esc50.explain import (
    AMTInterpreter, Interpreter, L2IInterpreter, PIQInterpreter, classify, score_masks,
)
from xairepro.esc50.models import L2I, build_piq, load_classifier, nmf_dictionary
from xairepro.metrics.interpretation import mask_mass_ratio

log = logging.getLogger(__name__)


def build_interpreter(method: str, classifier_path, model_path=None, nmf_path=None,
                      cfg: dict[str, Any] | None = None, device: str | None = None) -> Interpreter:
    """The interpreter of ``method`` (piq, l2i, amt) on a trained classifier, every model of
    it on ``device`` (default :func:`~xairepro.common.seeding.pick_device`: the job's GPU where
    it has one)."""
    cfg = cfg or {}
    device = device or pick_device()
    clf = load_classifier(classifier_path, device)
    if method == "amt":
        return AMTInterpreter(clf, cfg["quantile"])
    record = load_torch(model_path)
    if method == "piq":
        psi = build_piq(record["arch"], record["emb_dim"], record["n_classes"], record["cfg"])
        psi.load_state_dict(record["state_dict"])
        return PIQInterpreter(clf, psi.to(device))
    l2i = L2I(record["arch"], record["emb_dim"], record["n_classes"], record["n_frames"], record["cfg"])
    l2i.load_state_dict(record["state_dict"])
    return L2IInterpreter(clf, l2i.to(device), nmf_dictionary(nmf_path).to(device), record["cfg"]["relevance_th"])


def evaluate_interpreter(interpreter: Interpreter, data_root, folds: list[int], sample_rate: int,
                         method: str, arch: str, control_seed: int = 0) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Masks and interpretations of the test clips, and one metrics row per clip.

    Every metric is also computed for the negative control, in ``control_<metric>``: the
    same interpreter (its own trained decoder unchanged) explaining the classifier with
    every layer re-initialised (:func:`xairepro.common.controls.randomised_copy`, seed
    ``control_seed``; the end of the model-parameter randomisation cascade), its masks
    scored on the trained classifier. On demo data the rows also hold, against each
    clip's planted box, Quantus' ``relevance_rank`` and ``relevance_mass`` of the mask (and
    of the control's), the box's ``area_share`` (what a random mask scores), the mean mask
    inside the box over the mean outside it (``planted_ratio``) and the fidelity-to-input
    of the box itself used as the mask (``oracle_fidelity_to_input``).
    """
    X, _, y, names = load_features(data_root, folds, sample_rate)
    masks, interp = interpreter.attribute(X)
    metrics = score_masks(interpreter.classifier, X, masks)
    control = interpreter.with_classifier(randomised_copy(interpreter.classifier, seed=control_seed).eval())
    control_masks, _ = control.attribute(X)
    control_metrics = score_masks(interpreter.classifier, X, control_masks)
    rows = pd.DataFrame({"method": method, "arch": arch, "filename": names, "target": y.numpy(),
                         **{k: v.numpy() for k, v in metrics.items()},
                         **{f"control_{k}": v.numpy() for k, v in control_metrics.items() if k != "prediction"}})
    planted = planted_masks(data_root, names, sample_rate, X.shape[1:])
    if planted is not None:
        # (N, 1, T, F): Quantus' localisation metrics take one channel axis
        boxes = planted.numpy()[:, None]
        rows["area_share"] = area_share(boxes)
        rows["relevance_rank"] = relevance_rank(masks.numpy()[:, None], boxes)
        rows["relevance_mass"] = relevance_mass(masks.numpy()[:, None], boxes)
        rows["control_relevance_rank"] = relevance_rank(control_masks.numpy()[:, None], boxes)
        rows["control_relevance_mass"] = relevance_mass(control_masks.numpy()[:, None], boxes)
        rows["planted_ratio"] = mask_mass_ratio(masks, planted.float(), (~planted).float()).numpy()
        # the planted box itself as the mask: the fidelity this classifier allows a perfect interpreter
        oracle = score_masks(interpreter.classifier, X, planted.float())
        rows["oracle_fidelity_to_input"] = oracle["fidelity_to_input"].numpy()
    # X and the masks serve the figure only: float16 saves a third of the compressed write
    # (about 0.8 s per interpreter); the interpretations, resynthesised as audio, stay float32
    arrays = {"X": X.numpy().astype(np.float16), "masks": masks.numpy().astype(np.float16),
              "interpretations": interp.numpy(),
              "targets": y.numpy(), "predictions": metrics["prediction"].numpy(), "names": np.array(names),
              "sample_rate": np.array(sample_rate)}
    return rows, arrays


def overlap_partners(y: np.ndarray) -> np.ndarray:
    """The noise clip of each test clip in the overlap test: the clip of the same rank (cyclic)
    among the clips of the next class (classes in sorted order, cyclic).

    The recipe mixes the first two clips of each validation batch, so its noises differ from
    mixture to mixture; pairing every clip of a class with one and the same clip (as this
    function's predecessor did) made the 48 mixtures 4 clusters, which the paired Wilcoxon
    test of the claim counts as independent. With equally many clips per class every clip is
    the noise of exactly one mixture.
    """
    y = np.asarray(y)
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(f"the overlap test needs test clips of two classes at least, got {classes.tolist()}")
    members = {c: np.flatnonzero(y == c) for c in classes}
    following = dict(zip(classes, np.roll(classes, -1)))
    partner = np.empty(len(y), dtype=int)
    for c, own in members.items():
        other = members[following[c]]
        partner[own] = other[np.arange(len(own)) % len(other)]
    return partner


def overlap_test(interpreter: Interpreter, data_root, folds: list[int], sample_rate: int, mix_weight: float = 0.8,
                 control_seed: int = 0):
    """PIQ on mixtures mix_weight * s1 + (1 - mix_weight) * s2 of test clips of different classes.

    Pairs each test clip s1 with its own clip s2 of another class (:func:`overlap_partners`).
    Returns one row per
    pair (mean mask in the planted box of s1, in that of s2 minus s1's, their ratio; the
    same two densities for the negative control, the interpreter explaining the classifier
    with every layer re-initialised, seed ``control_seed``) and the arrays of the figure
    (sources, mixture, mask, interpretation, the noise clips' names, both clips' classes, the
    classifier's prediction on the mixture, both clips' planted boxes and the sample rate) of
    the first mixture of each source class.
    """
    waves, y, names = load_split(data_root, folds, sample_rate)
    partner = overlap_partners(y)
    s1, s2 = torch.from_numpy(waves), torch.from_numpy(waves[partner])
    mix = mix_weight * s1 + (1 - mix_weight) * s2
    X_mix, _ = log_spectrogram(mix, sample_rate)
    masks, interp = interpreter.attribute(X_mix)
    control = interpreter.with_classifier(randomised_copy(interpreter.classifier, seed=control_seed).eval())
    control_masks, _ = control.attribute(X_mix)
    shape = X_mix.shape[1:]
    p1 = planted_masks(data_root, names, sample_rate, shape)
    p2 = planted_masks(data_root, [names[j] for j in partner], sample_rate, shape)
    if p1 is None:  # paper data: no planted boxes, the figure only
        nan = torch.full((len(names),), float("nan"))
        in1 = in2 = c1 = c2 = nan
    else:
        p2_only = p2 & ~p1

        def density(m, region):
            return (m * region).sum((1, 2)) / region.sum((1, 2)).clamp_min(1)

        in1, in2 = density(masks, p1), density(masks, p2_only)
        c1, c2 = density(control_masks, p1), density(control_masks, p2_only)
    pred = classify(interpreter.classifier, X_mix).argmax(1)
    rows = pd.DataFrame({"source": names, "noise": [names[j] for j in partner], "target": y,
                         "prediction_mixture": pred.numpy(), "mask_in_source_region": in1.numpy(),
                         "mask_in_noise_region": in2.numpy(), "ratio": (in1 / in2.clamp_min(1e-12)).numpy(),
                         "control_mask_in_source_region": c1.numpy(), "control_mask_in_noise_region": c2.numpy()})
    # the figure's arrays: the first mixture of each source class (all 48 would be 200 MB)
    shown = torch.from_numpy(np.unique(y, return_index=True)[1])
    X1, _ = log_spectrogram(s1[shown], sample_rate)
    X2, _ = log_spectrogram(s2[shown], sample_rate)
    noise_names = [names[j] for j in partner[shown.numpy()]]
    arrays = {"source": X1.numpy(), "noise": X2.numpy(), "mixture": X_mix[shown].numpy(),
              "masks": masks[shown].numpy(), "interpretations": interp[shown].numpy(),
              "names": np.array(names)[shown.numpy()], "noise_names": np.array(noise_names),
              "targets": y[shown.numpy()], "noise_targets": y[partner[shown.numpy()]],
              "predictions": pred[shown].numpy(),
              "source_boxes": planted_boxes(data_root, np.array(names)[shown.numpy()]),
              "noise_boxes": planted_boxes(data_root, noise_names), "sample_rate": np.array(sample_rate)}
    return rows, arrays


def planted_boxes(data_root, names) -> np.ndarray:
    """(N, 4) planted boxes (t0, t1 in s, f0, f1 in Hz) of clips ``names``; NaN where the data
    has none (paper)."""
    if not (Path(data_root) / "meta" / "planted.csv").exists():
        return np.full((len(names), 4), np.nan)
    return read_planted(data_root).loc[list(names), ["t0", "t1", "f0", "f1"]].to_numpy(float)


def write_interpretation_audio(arrays: dict[str, np.ndarray], data_root: str | Path, sample_rate: int,
                               folder: str | Path) -> list[Path]:
    """One WAV per clip: the interpretation's magnitude with the original clip's phase (inverse STFT)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = [str(n) for n in arrays["names"]]
    waves = torch.from_numpy(np.stack([load_clip(Path(data_root) / "audio" / n, sample_rate) for n in names]))
    _, phase = log_spectrogram(waves, sample_rate)
    audio = resynthesise(torch.from_numpy(arrays["interpretations"]), phase, sample_rate, waves.shape[1]).numpy()
    written = []
    for name, x in zip(names, audio):
        target = folder / name
        with atomic_path(target, suffix=".wav") as tmp:
            sf.write(tmp, (x / (np.abs(x).max() + 1e-8)).astype(np.float32), sample_rate, subtype="PCM_16")
        written.append(target)
    return written
