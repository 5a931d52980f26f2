"""The tables of the pianist study: the TCAV summary (sign counts with Wilcoxon stars, the
concept and performer correlations) and the claims.

Significance: two-sided Wilcoxon signed-rank test of random vs concept sign counts over
experiments, Bonferroni over performers; stars at 0.05 / 0.01 / 0.001.

Claims (:func:`claims`, rows of :class:`xairepro.common.claims.Claims`), each decided at
the one-sided level ``ALPHA`` = 1 % of :mod:`xairepro.common.stats` and checked against a
negative control with the same statistic:

* demo, per model: the recording-level (track) test accuracy is above chance (exact
  binomial test against 1 / performers); control: the same model with every weight
  re-initialised (``randomised_copy``).
* demo, TCAV: every planted (performer, concept) pair's sign counts over the experiments
  exceed that performer's random-CAV sign counts (one-sided permutation test per pair; the
  claim is the intersection, decided by the largest p); and the planted pairs' mean sign
  counts exceed the unplanted pairs' (one-sided permutation test over pairs). Control: the
  TCAV null of Kim et al. (2018), a random concept (random-vs-random CAVs drawn like the
  random CAVs, one per concept and experiment) in each concept's place.
  On a user's own data (``truth.json`` with ``planted: null``, :mod:`xairepro.pianist.user_data`)
  both are ``not applicable``; the accuracy and LIME claims still run.
* demo, LIME: the masks outline a region of the roll: the share of held-out clips whose
  top-5 positive superpixels hold between ``lime_coverage`` of the roll's notes (neither
  nothing nor every note) is above ``lime_share``, one-sided exact binomial test. Control:
  the same LIME with the original's quickshift kernel (4 px) on the demo's 88 x 60 roll,
  which merges it into 2-6 superpixels (the figures' degenerate masks before the fix).
* paper, per model: the published recording-level test accuracy, 0.944 (ResNet-50 +
  augmentation) and 0.913 (factorised, DisentangleNet), within ``accuracy_tolerance``;
  control: the randomised model's accuracy within the same band.

Invariant (demo and paper, when the CAVs are given): the CAV dimension equals the size of
the harmony layer read from the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from xairepro.common.claims import Claims
from xairepro.common.stats import ALPHA, Decision, binomial_above, permutation_greater, within

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


def observations(long: pd.DataFrame, by: str) -> pd.DataFrame:
    """Sign counts with one column per ``by`` (``concept`` or ``performer``) and one row per
    observation of the other two keys (performer or concept, experiment), in first-seen order."""
    other = "performer" if by == "concept" else "concept"
    table = long.pivot_table(index=[other, "experiment"], columns=by, values="sign_count", sort=False)
    return table[list(dict.fromkeys(long[by]))]


def correlations(long: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pearson r between concepts over the performer x experiment sign counts, and between
    performers over the concept x experiment sign counts (the original's 200 observations
    each at 20 x 20 x 10), from the long table of
    :func:`xairepro.pianist.steps.compute_sensitivities`. A constant column correlates 0."""
    concept_r, performer_r = (observations(long, by).corr(method="pearson") for by in ("concept", "performer"))
    for r in (concept_r, performer_r):
        r.index.name = r.columns.name = None
    return concept_r.fillna(0.0), performer_r.fillna(0.0)


def dendrogram_order(r: pd.DataFrame) -> list[int]:
    """Leaf order of average-linkage clustering on the distance 1 - r of a correlation
    matrix (the original's ``AgglomerativeClustering(linkage='average')`` on ``1 - corr``; the
    same tree, though two children may be drawn swapped)."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    if len(r) < 3:
        return list(range(len(r)))
    dist = np.clip(1 - r.to_numpy(float), 0, 2)
    dist = (dist + dist.T) / 2
    np.fill_diagonal(dist, 0)
    return [int(i) for i in leaves_list(linkage(squareform(dist, checks=False), method="average"))]


def ordered(summary: pd.DataFrame, concept_r: pd.DataFrame,
            performer_r: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The summary's rows and both correlation matrices in dendrogram order of concepts and
    performers (:func:`dendrogram_order` of the correlations), the order the figures draw."""
    concepts = [concept_r.index[i] for i in dendrogram_order(concept_r)]
    performers = [performer_r.index[i] for i in dendrogram_order(performer_r)]
    rank = {"performer": {p: i for i, p in enumerate(performers)}, "concept": {c: i for i, c in enumerate(concepts)}}
    summary = summary.sort_values(["performer", "concept"], key=lambda col: col.map(rank[col.name]),
                                  kind="stable").reset_index(drop=True)
    return summary, concept_r.loc[concepts, concepts], performer_r.loc[performers, performers]


# =========================================================================== claims
RANDOMISED = "same model, every weight re-initialised (randomised_copy)"
RANDOM_CONCEPT = "a random concept in each concept's place (random-vs-random CAVs, the TCAV null)"


def _planted(long: pd.DataFrame, truth: dict[str, Any]) -> np.ndarray:
    return np.array([c in truth["planted"].get(p, []) for p, c in zip(long.performer, long.concept)])


def pair_tests(long: pd.DataFrame, truth: dict[str, Any], column: str = "sign_count") -> list[Decision]:
    """Per planted (performer, concept) pair: ``column`` over the experiments (the concept's
    sign counts, or its control's) above the performer's random-CAV sign counts, one-sided
    permutation test (the value is the difference of the means)."""
    pairs = long[_planted(long, truth)]
    return [permutation_greater(sub.sort_values("experiment")[column], sub.sort_values("experiment").random_sign_count)
            for _, sub in pairs.groupby(["performer", "concept"], sort=True)]


def every_pair(decisions: list[Decision]) -> Decision:
    """Intersection-union test: every pair passes; the value is the smallest effect and the
    p-value the largest (a level-``ALPHA`` test of the claim that all pairs hold)."""
    if not decisions:
        raise ValueError("no planted (performer, concept) pair in the sign counts")
    p = max(d.p_value for d in decisions)
    return Decision(value=min(d.value for d in decisions), passed=bool(p < ALPHA), p_value=p)


def ranking_test(long: pd.DataFrame, truth: dict[str, Any], column: str = "sign_count") -> Decision:
    """Mean ``column`` per (performer, concept) pair over the experiments: planted pairs above
    unplanted ones, one-sided permutation test (value: difference of the means)."""
    means = long.groupby(["performer", "concept"], sort=True)[column].mean().reset_index()
    planted = _planted(means, truth)
    return permutation_greater(means[column][planted], means[column][~planted])


def tcav_claims(table: Claims, long: pd.DataFrame, truth: dict[str, Any]) -> None:
    """TCAV recovers the planted concept -> performer pairs of the demo (two claims); on data
    without planted concepts (``truth["planted"]`` null: a user's own) both are ``not applicable``."""
    n_e = long.experiment.nunique()
    if truth.get("planted") is None:
        why = "no concept is planted in these data, a user's own"
        table.not_applicable("TCAV finds each planted concept in its performer's playing",
                             "per planted pair: mean sign count minus the performer's random-CAV sign count",
                             f"every pair p < {ALPHA}", RANDOM_CONCEPT, why)
        table.not_applicable("sign counts rank planted concept-performer pairs above unplanted pairs",
                             "mean sign count of planted minus unplanted pairs, one-sided permutation test over "
                             "pairs", f"p < {ALPHA}", RANDOM_CONCEPT, why)
        return
    table.claim("TCAV finds each planted concept in its performer's playing",
                f"per planted pair: mean sign count minus the performer's random-CAV sign count over {n_e} "
                "experiments, one-sided permutation test; value = smallest difference, p = largest",
                f"every pair p < {ALPHA}", every_pair(pair_tests(long, truth)),
                RANDOM_CONCEPT, every_pair(pair_tests(long, truth, "control_sign_count")))
    table.claim("sign counts rank planted concept-performer pairs above unplanted pairs",
                "mean sign count of planted minus unplanted pairs, one-sided permutation test over pairs",
                f"p < {ALPHA}", ranking_test(long, truth), RANDOM_CONCEPT,
                ranking_test(long, truth, "control_sign_count"))


def accuracy_claims(table: Claims, accuracy: pd.DataFrame, scale: str, *, tolerance: float,
                    who: str = "the demo performers") -> None:
    """Recording-level test accuracy: above chance (demo) or as published (paper), with the
    randomised model as control; ``who`` names the classes in the claim."""
    for row in accuracy[accuracy.split == "test"].itertuples():
        if scale == "paper":
            expected = PUBLISHED_TRACK_ACCURACY[row.model]
            table.claim(f"{row.model} recording-level test accuracy as published",
                        f"track accuracy (test, {row.n_tracks} recordings)",
                        f"within {tolerance} of {expected}", within(row.track_accuracy, expected, tolerance),
                        RANDOMISED, within(row.randomised_track_accuracy, expected, tolerance))
            continue
        chance = 1.0 / row.n_classes

        def above_chance(rate: float) -> Decision:
            return binomial_above(int(round(rate * row.n_tracks)), int(row.n_tracks), chance)

        table.claim(f"{row.model} identifies {who}",
                    f"track accuracy (test, {row.n_tracks} recordings), one-sided binomial test vs chance "
                    f"1/{row.n_classes}", f"p < {ALPHA}", above_chance(row.track_accuracy),
                    RANDOMISED, above_chance(row.randomised_track_accuracy))


def outlining(coverage: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """Per clip: its mask holds between ``lower`` and ``upper`` of the roll's notes (a silent
    roll, coverage NaN, does not)."""
    coverage = np.asarray(coverage, float)
    return np.isfinite(coverage) & (coverage >= lower) & (coverage <= upper)


def lime_claims(table: Claims, lime: dict[str, np.ndarray], *, coverage: tuple[float, float], share: float) -> None:
    """LIME's masks outline a region: the share of clips with :func:`outlining` masks above
    ``share`` (one-sided exact binomial test), against the control segmentation's masks."""
    lower, upper = coverage
    n = len(lime["note_coverage"])

    def above(values: np.ndarray) -> Decision:
        return binomial_above(int(outlining(values, lower, upper).sum()), n, share)

    table.claim("LIME top superpixels outline a part of each roll, neither nothing nor every note",
                f"share of the {n} held-out clips whose mask holds between {lower} and {upper} of the roll's "
                f"notes (cells with velocity above 0), one-sided exact binomial test against {share}",
                f"p < {ALPHA}", above(lime["note_coverage"]),
                "the same LIME with the original's quickshift kernel (4 px), a handful of superpixels "
                "per demo roll", above(lime["control_note_coverage"]))


def claims(accuracy: pd.DataFrame, sign_counts: pd.DataFrame, truth: dict[str, Any] | None, scale: str,
           thresholds: dict[str, Any], cavs: dict[str, np.ndarray] | None = None,
           lime: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """``claims.csv``: the accuracy claims, then (demo, with ``truth``) the TCAV planted-truth
    claims from the long sign-count table, then (with ``lime`` holding a control) the LIME
    coverage claim, then the CAV-size invariant (with ``cavs``).

    ``accuracy``: rows per model and split with ``track_accuracy``,
    ``randomised_track_accuracy``, ``n_tracks``, ``n_classes``; ``sign_counts``: the long
    table of :func:`xairepro.pianist.steps.compute_sensitivities`.
    """
    table = Claims(digits=4)
    own_data = truth is not None and truth.get("planted") is None
    accuracy_claims(table, accuracy, scale, tolerance=thresholds["accuracy_tolerance"],
                    who="the performers of these data" if own_data else "the demo performers")
    if truth is not None:
        tcav_claims(table, sign_counts, truth)
    if lime is not None and "control_note_coverage" in lime:
        lime_claims(table, lime, coverage=tuple(thresholds["lime_coverage"]), share=thresholds["lime_share"])
    if cavs is not None:
        size, dim = int(np.prod(cavs["layer_shape"])), int(cavs["cavs"].shape[-1])
        table.invariant("the CAVs live in the harmony layer read from the model",
                        "CAV dimension minus the size of the harmony branch's last block", dim - size, "0",
                        dim == size)
    return table.frame()
