"""Frame-wise binary detection metrics: smoothing, a tuned threshold, AUROC and friends.

Plain functions on numpy arrays, as used for singing-voice detection (Schlüter & Grill,
ISMIR 2015): per-file median filtering of the network's frame probabilities, a decision
threshold chosen on the validation set, and metrics over the pooled test frames.
"""

from __future__ import annotations

import numpy as np


def median_smooth(predictions: np.ndarray, offsets: np.ndarray, size: int) -> np.ndarray:
    """Median-filter ``(sum T,)`` predictions over ``size`` frames, each file on its own.

    ``offsets`` ``(files + 1,)`` delimit the files; edges repeat the nearest value
    (``mode="nearest"``). ``size <= 1`` returns a copy.
    """
    from scipy.ndimage import median_filter

    predictions = np.asarray(predictions, dtype=np.float64)
    if size <= 1:
        return predictions.copy()
    out = np.empty_like(predictions)
    for a, b in zip(offsets[:-1], offsets[1:]):
        out[a:b] = median_filter(predictions[a:b], size=size, mode="nearest")
    return out


def tune_threshold(predictions: np.ndarray, labels: np.ndarray) -> float:
    """The threshold ``t`` minimising the error of ``predictions > t`` on these labels.

    Candidates are the midpoints between consecutive distinct prediction values (and
    below/above all of them); ties go to the smallest threshold.
    """
    p = np.asarray(predictions, dtype=np.float64)
    y = np.asarray(labels) > 0.5
    values = np.unique(p)  # ascending
    candidates = np.concatenate([[values[0] - 1e-6], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-6]])
    # frames predicted positive at threshold c are those with p > c
    pos_sorted = np.sort(p[y])
    neg_sorted = np.sort(p[~y])
    false_neg = np.searchsorted(pos_sorted, candidates, side="right")  # positives with p <= c
    false_pos = len(neg_sorted) - np.searchsorted(neg_sorted, candidates, side="right")
    errors = false_neg + false_pos
    return float(candidates[int(np.argmin(errors))])


def detection_metrics(predictions: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    """AUROC (threshold-free) and precision, recall, specificity, F1, error at ``threshold``.

    Parameters
    ----------
    predictions
        ``(N,)`` scores, higher = more likely positive.
    labels
        ``(N,)`` 0/1 truth.
    threshold
        Frames with ``prediction > threshold`` count as positive.
    """
    from sklearn.metrics import roc_auc_score

    p = np.asarray(predictions, dtype=np.float64)
    y = np.asarray(labels) > 0.5
    decided = p > threshold
    tp = int(np.sum(decided & y))
    fp = int(np.sum(decided & ~y))
    tn = int(np.sum(~decided & ~y))
    fn = int(np.sum(~decided & y))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    auroc = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")
    return {
        "auroc": auroc,
        "precision": precision,
        "recall": recall,
        "specificity": tn / (tn + fp) if tn + fp else 0.0,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "error": (fp + fn) / len(y),
        "threshold": float(threshold),
        "n_frames": len(y),
    }
