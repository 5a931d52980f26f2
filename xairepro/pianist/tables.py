"""The tables of the pianist study: the TCAV summary (sign counts with Wilcoxon stars, the
concept and performer correlations) and the claims.

Significance: two-sided Wilcoxon signed-rank test of random vs concept sign counts over
experiments, Bonferroni over performers; stars at 0.05 / 0.01 / 0.001.

Claims. Demo: the planted concept -> performer links are recovered by TCAV (planted pairs
have clearly higher sign counts than unplanted ones, rank above them, and beat the random
CAVs significantly), and the classifiers learn the performers. Paper: the published
recording-level (track) test accuracies, 0.944 (ResNet-50 + augmentation) and 0.913
(factorised, DisentangleNet).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from xairepro.common.claims import claim_row, claims_frame

PUBLISHED_TRACK_ACCURACY = {"resnet": 0.944, "disentangle": 0.913}


# =========================================================================== TCAV summary
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


# =========================================================================== claims
def planted_claims(summary: pd.DataFrame, truth: dict[str, Any], *, min_gap: float, min_auroc: float,
                   min_significant: float, alpha: float = 0.05) -> list[dict[str, Any]]:
    """TCAV recovers the planted concept -> performer pairs of the demo."""
    planted = np.array([c in truth["planted"].get(p, []) for p, c in zip(summary.performer, summary.concept)])
    sc = summary.sign_count.to_numpy(float)
    gap = sc[planted].mean() - sc[~planted].mean()
    pos, neg = sc[planted], sc[~planted]
    auroc = float(((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum())
                  / (len(pos) * len(neg)))
    sig = summary[planted]
    share = float(((sig.p_bonferroni < alpha) & (sig.sign_count > sig.random_sign_count)).mean())
    return [
        claim_row("planted concept-performer pairs have higher sign counts than unplanted pairs",
                  "mean sign count planted - unplanted", gap, f">= {min_gap}", min_gap, gap >= min_gap),
        claim_row("sign counts rank planted pairs above unplanted pairs", "AUROC planted vs unplanted", auroc,
                  f">= {min_auroc}", min_auroc, auroc >= min_auroc),
        claim_row("planted pairs beat random CAVs (Wilcoxon, Bonferroni)",
                  f"share of planted pairs with p < {alpha} and sign count above random", share,
                  f">= {min_significant}", min_significant, share >= min_significant),
    ]


def accuracy_claims(accuracy: pd.DataFrame, scale: str, *, demo_min_track_accuracy: float,
                    tolerance: float) -> list[dict[str, Any]]:
    """Track-level test accuracy: above a floor (demo) or the published value (paper)."""
    rows = []
    for row in accuracy[accuracy.split == "test"].itertuples():
        if scale == "paper":
            expected = PUBLISHED_TRACK_ACCURACY[row.model]
            rows.append(claim_row(f"{row.model} recording-level test accuracy as published", "track accuracy (test)",
                                  row.track_accuracy, f"{expected}", tolerance,
                                  abs(row.track_accuracy - expected) <= tolerance))
        else:
            rows.append(claim_row(f"{row.model} identifies the demo performers", "track accuracy (test)",
                                  row.track_accuracy, f">= {demo_min_track_accuracy}", demo_min_track_accuracy,
                                  row.track_accuracy >= demo_min_track_accuracy))
    return rows


def claims(summary: pd.DataFrame, accuracy: pd.DataFrame, truth: dict[str, Any] | None, scale: str,
           thresholds: dict[str, float]) -> pd.DataFrame:
    """``claims.csv``: the accuracy claims, then (demo, with ``truth``) the planted-truth claims
    (rows of :func:`xairepro.common.claims.claim_row`)."""
    rows = accuracy_claims(accuracy, scale, demo_min_track_accuracy=thresholds["min_track_accuracy"],
                           tolerance=thresholds["accuracy_tolerance"])
    if truth is not None:
        rows += planted_claims(summary, truth, min_gap=thresholds["min_gap"], min_auroc=thresholds["min_auroc"],
                               min_significant=thresholds["min_significant"])
    return claims_frame(rows)
