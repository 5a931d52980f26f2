"""Concept activation vectors on the harmony branch of DisentangleNet (the original's
``create_harmony_cavs.py``, not ``captum.concept.TCAV``).

* Activations: the harmony branch's last block (``branches["harmony"].layer4``), flattened;
  its size is read from the model, never hard-coded.
* CAV of a concept, one per experiment: logistic-regression coefficients separating the
  concept's renderings (inversions x transpositions x with/without left hand, harmony
  channel only) from as many renderings of the other concepts, drawn afresh per experiment
  (the positives are a fresh ``positive_fraction`` subsample too).
* Random CAV, one per experiment: two random halves of ``n_random_clips`` training clips.
* Sensitivity of a held-out clip to a CAV v: ``< flatten(d logit_y / d a * a), v >`` with
  captum's ``LayerGradientXActivation`` (or ``LayerIntegratedGradients``), y = true performer,
  every channel but harmony zeroed.
* Sign count (performer, concept, experiment) = share of the performer's clips with s > 0;
  magnitude = sum of positive s / sum of |s|.
* Significance: two-sided Wilcoxon signed-rank test of random vs concept sign counts over
  experiments, Bonferroni over performers; stars at 0.05 / 0.01 / 0.001.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from xairepro.common.logs import progress
from xairepro.pianist.rolls import CHANNELS

log = logging.getLogger(__name__)
HARMONY = CHANNELS.index("harmony")


def harmony_only(rolls: np.ndarray) -> torch.Tensor:
    """``(N, 88, T)`` harmony rolls -> model inputs ``(N, 4, 88, T)``, other channels zero."""
    x = torch.zeros(rolls.shape[0], len(CHANNELS), *rolls.shape[1:])
    x[:, HARMONY] = torch.as_tensor(rolls)
    return x


def harmony_layer(model: nn.Module) -> nn.Module:
    return model.branches["harmony"].layer4


@torch.no_grad()
def activations(model: nn.Module, rolls: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Flattened harmony-branch activations ``(N, D)`` of harmony rolls ``(N, 88, T)``."""
    model.eval()
    branch = model.branches["harmony"]
    device = next(model.parameters(), torch.empty(0)).device
    out = []
    for start in range(0, len(rolls), batch_size):
        x = torch.as_tensor(rolls[start:start + batch_size]).unsqueeze(1).to(device)
        a = branch.layer4(branch.layer3(branch.layer2(branch.layer1(branch.stem(x)))))
        out.append(a.flatten(1).cpu().numpy())
    return np.concatenate(out).astype(np.float32)


def _fit(pos: np.ndarray, neg: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    """Logistic-regression coefficients (the CAV) and the training accuracy."""
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([pos, neg])
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    clf = LogisticRegression(solver="liblinear", random_state=seed).fit(x, y)
    return clf.coef_[0].astype(np.float32), float(clf.score(x, y))


def fit_cavs(concept_acts: list[np.ndarray], clip_acts: np.ndarray, *, n_experiments: int, n_random_clips: int,
             positive_fraction: float, seed: int) -> dict[str, np.ndarray]:
    """CAVs ``(C, E, D)``, random CAVs ``(E, D)`` and the CAV classifiers' accuracies.

    ``concept_acts[c]`` are the activations of concept c's renderings; ``clip_acts`` those
    of the training clips the random CAVs are drawn from.
    """
    rng = np.random.default_rng(seed)
    n_c, dim = len(concept_acts), concept_acts[0].shape[1]
    cavs = np.zeros((n_c, n_experiments, dim), np.float32)
    accuracy = np.zeros((n_c, n_experiments), np.float32)
    for c in progress(range(n_c), desc="CAVs"):
        others = np.concatenate([a for k, a in enumerate(concept_acts) if k != c])
        for e in range(n_experiments):
            n_pos = max(2, int(round(positive_fraction * len(concept_acts[c]))))
            pos = concept_acts[c][rng.choice(len(concept_acts[c]), n_pos, replace=False)]
            neg = others[rng.choice(len(others), min(n_pos, len(others)), replace=False)]
            cavs[c, e], accuracy[c, e] = _fit(pos, neg, seed + e)
    random_cavs = np.zeros((n_experiments, dim), np.float32)
    n_rand = min(n_random_clips, len(clip_acts))
    for e in range(n_experiments):
        chosen = rng.choice(len(clip_acts), n_rand, replace=False)
        half = n_rand // 2
        random_cavs[e], _ = _fit(clip_acts[chosen[:half]], clip_acts[chosen[half:]], seed + e)
    return {"cavs": cavs, "random_cavs": random_cavs, "cav_accuracy": accuracy}


def layer_attributions(model: nn.Module, x: torch.Tensor, target: torch.Tensor, *, attribution_fn: str,
                       multiply_by_inputs: bool, ig_steps: int = 20) -> torch.Tensor:
    """Gradient x activation (or layer IG) at the harmony layer: ``(B, C', H', W')``."""
    from captum.attr import LayerGradientXActivation, LayerIntegratedGradients

    model.eval()
    layer = harmony_layer(model)
    if attribution_fn == "gradient_x_activation":
        method = LayerGradientXActivation(model, layer, multiply_by_inputs=multiply_by_inputs)
        return method.attribute(x, target=target)
    if attribution_fn == "integrated_gradients":
        method = LayerIntegratedGradients(model, layer, multiply_by_inputs=multiply_by_inputs)
        return method.attribute(x, target=target, n_steps=ig_steps)
    raise ValueError(f"unknown attribution_fn {attribution_fn!r}; choose gradient_x_activation or integrated_gradients")


def sensitivities(model: nn.Module, rolls: np.ndarray, targets: np.ndarray, vectors: np.ndarray, *, batch_size: int,
                  attribution_fn: str = "gradient_x_activation", multiply_by_inputs: bool = True,
                  ig_steps: int = 20) -> np.ndarray:
    """``s[n, k] = < flatten(attribution of clip n), vectors[k] >``: ``(N, K)``.

    ``rolls`` ``(N, 88, T)`` harmony channels; ``vectors`` ``(K, D)`` CAVs; batched over clips.
    """
    device = next(model.parameters(), torch.empty(0)).device
    vecs = torch.as_tensor(vectors.reshape(-1, vectors.shape[-1])).to(device)
    out = []
    for start in range(0, len(rolls), batch_size):
        x = harmony_only(rolls[start:start + batch_size]).to(device)
        y = torch.as_tensor(targets[start:start + batch_size], dtype=torch.long).to(device)
        attr = layer_attributions(model, x, y, attribution_fn=attribution_fn, multiply_by_inputs=multiply_by_inputs,
                                  ig_steps=ig_steps)
        out.append((attr.detach().flatten(1) @ vecs.T).cpu().numpy())
    return np.concatenate(out)


def sign_counts(s: np.ndarray, labels: np.ndarray, n_performers: int) -> tuple[np.ndarray, np.ndarray]:
    """Sign counts and magnitudes ``(P, ...)`` from sensitivities ``s`` ``(N, ...)`` of clips
    with true performers ``labels``: the share of s > 0, and sum(s > 0) / sum|s|."""
    shape = (n_performers, *s.shape[1:])
    counts, magnitude = np.full(shape, np.nan), np.full(shape, np.nan)
    for p in range(n_performers):
        sp = s[labels == p]
        if len(sp):
            counts[p] = (sp > 0).mean(0)
            total = np.abs(sp).sum(0)
            magnitude[p] = np.where(total > 0, np.clip(sp, 0, None).sum(0) / np.where(total > 0, total, 1), 0.5)
    return counts, magnitude


def stars(p: float) -> str:
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def significance(concept_counts: np.ndarray, random_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilcoxon p-values ``(P, C)`` of random ``(P, E)`` vs concept ``(P, C, E)`` sign counts and
    their Bonferroni correction over the P performers (capped at 1)."""
    from scipy.stats import wilcoxon

    n_p, n_c, _ = concept_counts.shape
    p = np.ones((n_p, n_c))
    for i in range(n_p):
        for c in range(n_c):
            diff = concept_counts[i, c] - random_counts[i]
            if np.all(diff == 0) or np.isnan(diff).any():
                continue
            p[i, c] = wilcoxon(random_counts[i], concept_counts[i, c], alternative="two-sided").pvalue
    return p, np.minimum(p * n_p, 1.0)


def summarise(long: pd.DataFrame) -> pd.DataFrame:
    """Per (performer, concept): mean sign count and magnitude over experiments, the random
    CAVs' mean, Wilcoxon p-values (raw, Bonferroni) and stars, from the long table."""
    performers = list(dict.fromkeys(long.performer))
    concepts = list(dict.fromkeys(long.concept))
    n_e = long.experiment.nunique()
    grid = long.set_index(["performer", "concept", "experiment"]).sort_index()
    counts = np.array([[grid.loc[(p, c), "sign_count"].to_numpy() for c in concepts] for p in performers])
    random = np.array([grid.loc[(p, concepts[0]), "random_sign_count"].to_numpy() for p in performers])
    p_raw, p_bonf = significance(counts.reshape(len(performers), len(concepts), n_e), random)
    rows = []
    for i, p in enumerate(performers):
        for c, concept in enumerate(concepts):
            sub = grid.loc[(p, concept)]
            rows.append({"performer": p, "concept": concept, "sign_count": sub.sign_count.mean(),
                         "sign_count_std": sub.sign_count.std(ddof=0), "magnitude": sub.magnitude.mean(),
                         "random_sign_count": sub.random_sign_count.mean(), "p_value": p_raw[i, c],
                         "p_bonferroni": p_bonf[i, c], "stars": stars(p_bonf[i, c])})
    return pd.DataFrame(rows)


def wide(summary: pd.DataFrame, value: str = "sign_count") -> pd.DataFrame:
    """Performers x concepts matrix of one summary column, in first-seen order."""
    table = summary.pivot(index="performer", columns="concept", values=value)
    return table.loc[list(dict.fromkeys(summary.performer)), list(dict.fromkeys(summary.concept))]


def correlations(summary: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pearson r between concepts (over performers) and between performers (over concepts)
    of the mean sign counts."""
    matrix = wide(summary)
    concept_r = pd.DataFrame(np.corrcoef(matrix.to_numpy().T), index=matrix.columns, columns=matrix.columns)
    performer_r = pd.DataFrame(np.corrcoef(matrix.to_numpy()), index=matrix.index, columns=matrix.index)
    return concept_r.fillna(0.0), performer_r.fillna(0.0)


def dendrogram_order(matrix: np.ndarray) -> list[int]:
    """Leaf order of average-linkage clustering of the rows on 1 - Pearson r."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    if len(matrix) < 3:
        return list(range(len(matrix)))
    r = np.nan_to_num(np.corrcoef(matrix), nan=0.0)
    dist = np.clip(1 - r, 0, 2)
    np.fill_diagonal(dist, 0)
    return [int(i) for i in leaves_list(linkage(squareform(dist, checks=False), method="average"))]


def kernel_positions(clip_seconds: float, kernel: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Lowest pitches and start times of the kernel's positions over the 88 keys and the clip."""
    from xairepro.pianist.rolls import HIGHEST, LOWEST

    pitches = np.arange(LOWEST, max(LOWEST, HIGHEST + 1 - kernel["semitones"]) + 1, kernel["stride_semitones"])
    times = np.arange(0.0, max(0.0, clip_seconds - kernel["seconds"]) + 1e-9, kernel["stride_seconds"])
    return pitches, times


def kernel_heatmap(model: nn.Module, notes: np.ndarray, label: int, cavs: np.ndarray, *, roll: dict[str, Any],
                   kernel: dict[str, float], batch_size: int, attribution_fn: str = "gradient_x_activation",
                   multiply_by_inputs: bool = True) -> dict[str, np.ndarray]:
    """Kernel occlusion of one clip: delete the notes inside each kernel position, recompute
    the sensitivity to each CAV in ``cavs`` ``(C, D)``; ``map = (s_orig - s_masked) / s_orig``.

    Returns ``map`` ``(C, n_pitch, n_time)``, ``s_orig`` ``(C,)``, ``pitches``, ``times``.
    """
    from xairepro.pianist.rolls import filter_notes, harmony_notes, normalise, piano_roll

    notes = filter_notes(notes, roll["clip_seconds"], roll["min_duration"])
    pitches, times = kernel_positions(roll["clip_seconds"], kernel)

    def harmony(n: np.ndarray) -> np.ndarray:
        return normalise(piano_roll(harmony_notes(n, roll["harmony_window"]), roll["fps"], roll["clip_seconds"],
                                    roll["min_duration"]))

    variants = [harmony(notes)]
    for p0 in pitches:
        for t0 in times:
            inside = ((notes[:, 0] >= p0) & (notes[:, 0] < p0 + kernel["semitones"]) & (notes[:, 1] >= t0)
                      & (notes[:, 1] < t0 + kernel["seconds"]))
            variants.append(harmony(notes[~inside]))
    rolls = np.stack(variants)
    s = sensitivities(model, rolls, np.full(len(rolls), label), cavs, batch_size=batch_size,
                      attribution_fn=attribution_fn, multiply_by_inputs=multiply_by_inputs)
    s_orig, s_masked = s[0], s[1:].reshape(len(pitches), len(times), -1)
    safe = np.where(s_orig != 0, s_orig, np.nan)
    heat = ((s_orig - s_masked) / safe).transpose(2, 0, 1)
    return {"map": np.nan_to_num(heat).astype(np.float32), "s_orig": s_orig.astype(np.float32),
            "pitches": pitches.astype(np.int64), "times": times.astype(np.float32)}
