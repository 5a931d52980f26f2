"""Tests written to kill the surviving mutants of xairepro.pianist.tables (issue 24).

Every table is compared cell by cell with a hand-made expectation (first-seen orders that
are not sorted, population standard deviations, scipy's exact Wilcoxon p-values on distinct
differences), every threshold at its boundary (stars at 0.001 / 0.01 / 0.05, outlining at
the coverage bounds) and every claim row's words and numbers in full.
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform
from scipy.stats import wilcoxon

from xairepro.common.claims import Claims
from xairepro.common.stats import ALPHA, Decision, binomial_above, permutation_greater, within
from xairepro.pianist import tables
from xairepro.pianist.tables import RANDOM_CONCEPT, RANDOMISED


# --------------------------------------------------------------------------- stars
@pytest.mark.parametrize("p,expected", [(0.0, "***"), (0.000999, "***"), (0.001, "**"), (0.00999, "**"),
                                        (0.01, "*"), (0.0499, "*"), (0.05, ""), (0.5, ""), (1.0, "")])
def test_stars_at_each_boundary(p, expected):
    assert tables.stars(p) == expected


# --------------------------------------------------------------------------- significance
def test_significance_is_scipys_two_sided_wilcoxon_per_performer_and_concept_with_bonferroni():
    random = np.array([[0.5, 0.4, 0.6, 0.3, 0.45], [0.2, 0.2, 0.2, 0.2, 0.2], [0.1, 0.2, 0.3, 0.4, 0.5]])
    concept = np.stack([
        [[0.6, 0.6, 0.9, 0.7, 1.0], [0.4, 0.3, 0.5, 0.1, 0.35]],      # all above; all below
        [[0.2, 0.2, 0.2, 0.2, 0.2], [0.5, 0.1, 0.45, 0.16, 0.21]],     # all tied; mixed
        [[0.1, 0.2, np.nan, 0.4, 0.5], [0.35, 0.22, 0.31, 0.9, 0.45]],  # a NaN; mixed
    ])
    p, p_bonf = tables.significance(concept, random)
    assert p.shape == (3, 2) and p_bonf.shape == (3, 2)
    assert p[0, 0] == pytest.approx(2 / 2**5) and p[0, 1] == pytest.approx(2 / 2**5)
    assert p[1, 0] == 1.0 and p[2, 0] == 1.0  # nothing to test
    for i, c in ((1, 1), (2, 1)):
        expected = wilcoxon(random[i], concept[i, c], alternative="two-sided").pvalue
        assert p[i, c] == pytest.approx(expected) and 0.05 < p[i, c] < 1
    assert p_bonf[0, 0] == pytest.approx(3 * 2 / 2**5)
    assert p_bonf[1, 1] == 1.0 and p_bonf[2, 1] == pytest.approx(0.9375)  # 3 x 0.625 capped at 1; 3 x 0.3125
    np.testing.assert_allclose(p_bonf, np.minimum(3 * p, 1.0))


def test_significance_of_one_performer_is_not_corrected():
    random = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]])
    concept = np.array([[[0.9, 0.7, 0.75, 0.95, 0.8, 0.85]]])
    p, p_bonf = tables.significance(concept, random)
    assert p[0, 0] == pytest.approx(2 / 2**6) and p_bonf[0, 0] == p[0, 0]


def test_thirty_tied_experiments_are_not_tested():
    # scipy's Wilcoxon of 30 zero differences is NaN (its normal approximation divides by 0): never asked
    p, p_bonf = tables.significance(np.full((1, 1, 30), 0.5), np.full((1, 30), 0.5))
    assert p[0, 0] == 1.0 and p_bonf[0, 0] == 1.0


def test_a_nan_in_the_random_counts_is_not_tested():
    random = np.array([[0.1, np.nan, 0.3, 0.4, 0.5]])
    concept = np.array([[[0.9, 0.8, 0.7, 0.95, 0.85]]])
    p, p_bonf = tables.significance(concept, random)
    assert p[0, 0] == 1.0 and p_bonf[0, 0] == 1.0


# --------------------------------------------------------------------------- summary tables
def _long3() -> pd.DataFrame:
    """Performers b, a (not sorted) x concepts y, x x 5 experiments in a shuffled row order."""
    rows = []
    values = {("b", "y"): [0.9, 0.8, 0.95, 0.85, 0.7], ("b", "x"): [0.1, 0.3, 0.2, 0.25, 0.4],
              ("a", "y"): [0.5, 0.6, 0.55, 0.45, 0.65], ("a", "x"): [0.6, 0.9, 0.7, 0.8, 1.0]}
    random = {"b": [0.5, 0.4, 0.6, 0.3, 0.45], "a": [0.1, 0.2, 0.3, 0.4, 0.5]}
    for (p, c), counts in values.items():
        for e in (3, 0, 4, 1, 2):
            rows.append({"performer": p, "concept": c, "experiment": e, "sign_count": counts[e],
                         "magnitude": counts[e] / 2, "random_sign_count": random[p][e],
                         "control_sign_count": random[p][(e + 1) % 5]})
    return pd.DataFrame(rows)


def test_summary_has_every_column_in_first_seen_order():
    long = _long3()
    summary = tables.summarise(long)
    assert list(summary.columns) == ["performer", "concept", "sign_count", "sign_count_std", "magnitude",
                                     "random_sign_count", "p_value", "p_bonferroni", "stars"]
    assert list(zip(summary.performer, summary.concept)) == [("b", "y"), ("b", "x"), ("a", "y"), ("a", "x")]
    by = summary.set_index(["performer", "concept"])
    for (p, c), sub in long.groupby(["performer", "concept"]):
        sub = sub.sort_values("experiment")
        row = by.loc[(p, c)]
        assert row.sign_count == pytest.approx(sub.sign_count.mean())
        assert row.sign_count_std == pytest.approx(np.std(sub.sign_count.to_numpy()))  # ddof 0
        assert row.magnitude == pytest.approx(sub.magnitude.mean())
        assert row.random_sign_count == pytest.approx(sub.random_sign_count.mean())
        expected = wilcoxon(sub.random_sign_count.to_numpy(), sub.sign_count.to_numpy()).pvalue
        assert row.p_value == pytest.approx(expected)
        assert row.p_bonferroni == pytest.approx(min(2 * expected, 1.0))
        assert row.stars == tables.stars(row.p_bonferroni)
    # (b, y) and (a, x): every difference positive, exact p = 2 / 32, Bonferroni 1/8: no star
    assert by.loc[("b", "y"), "p_value"] == pytest.approx(1 / 16) and by.loc[("b", "y"), "stars"] == ""
    assert by.loc[("a", "y"), "sign_count_std"] == pytest.approx(math.sqrt(0.005))


def test_summary_of_significant_pairs_has_stars():
    rows = [{"performer": "p", "concept": c, "experiment": e, "sign_count": 0.9 + 0.001 * e * (c == "x"),
             "magnitude": 0.5, "random_sign_count": 0.1 + 0.01 * e} for c in ("x", "w") for e in range(12)]
    summary = tables.summarise(pd.DataFrame(rows))
    assert summary.p_value.tolist() == pytest.approx([2 / 2**12] * 2)
    assert summary.stars.tolist() == ["***", "***"] and summary.concept.tolist() == ["x", "w"]


def test_summary_of_one_concept():
    long = _long3()
    one = long[long.concept == "y"]
    summary = tables.summarise(one)
    assert summary.concept.tolist() == ["y", "y"] and summary.performer.tolist() == ["b", "a"]
    sub = one[one.performer == "a"].sort_values("experiment")
    assert summary.p_value.iloc[1] == pytest.approx(wilcoxon(sub.random_sign_count, sub.sign_count).pvalue)


def test_wide_is_performers_by_concepts_in_first_seen_order():
    summary = pd.DataFrame({"performer": ["b", "b", "a", "a"], "concept": ["y", "x", "y", "x"],
                            "sign_count": [1.0, 2.0, 3.0, 4.0], "magnitude": [5.0, 6.0, 7.0, 8.0]})
    table = tables.wide(summary)
    assert table.index.tolist() == ["b", "a"] and table.columns.tolist() == ["y", "x"]
    assert table.to_numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert tables.wide(summary, "magnitude").to_numpy().tolist() == [[5.0, 6.0], [7.0, 8.0]]


def test_observations_have_one_column_per_key_in_first_seen_order():
    long = _long3()
    by_concept = tables.observations(long, "concept")
    assert by_concept.columns.tolist() == ["y", "x"]
    assert by_concept.index.names == ["performer", "experiment"]
    assert by_concept.index.tolist() == [(p, e) for p in ("b", "a") for e in (3, 0, 4, 1, 2)]
    assert by_concept.loc[("a", 1), "x"] == 0.9 and by_concept.loc[("b", 4), "y"] == 0.7
    by_performer = tables.observations(long, "performer")
    assert by_performer.columns.tolist() == ["b", "a"]
    assert by_performer.index.names == ["concept", "experiment"]
    assert by_performer.index.tolist() == [(c, e) for c in ("y", "x") for e in (3, 0, 4, 1, 2)]
    assert by_performer.loc[("x", 4), "a"] == 1.0


def test_correlations_are_pearson_and_a_constant_column_correlates_zero():
    rows = []
    counts = {("p", "x"): [0.1, 0.2, 0.3], ("p", "y"): [0.3, 0.1, 0.2], ("p", "z"): [0.5, 0.5, 0.5],
              ("q", "x"): [0.4, 0.6, 0.5], ("q", "y"): [0.9, 0.3, 0.1], ("q", "z"): [0.5, 0.5, 0.5]}
    for (p, c), values in counts.items():
        rows += [{"performer": p, "concept": c, "experiment": e, "sign_count": v} for e, v in enumerate(values)]
    long = pd.DataFrame(rows)
    concept_r, performer_r = tables.correlations(long)
    x = np.array(counts[("p", "x")] + counts[("q", "x")])
    y = np.array(counts[("p", "y")] + counts[("q", "y")])
    assert concept_r.index.tolist() == ["x", "y", "z"] == concept_r.columns.tolist()
    assert concept_r.index.name is None and concept_r.columns.name is None
    assert performer_r.index.name is None and performer_r.columns.name is None
    assert concept_r.loc["x", "y"] == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert concept_r.loc["x", "z"] == 0.0 and concept_r.loc["z", "z"] == 0.0
    p = np.concatenate([counts[("p", c)] for c in "xyz"])
    q = np.concatenate([counts[("q", c)] for c in "xyz"])
    assert performer_r.loc["p", "q"] == pytest.approx(np.corrcoef(p, q)[0, 1])
    # Pearson, not Spearman: the ranks of x and y agree less than their values
    assert concept_r.loc["x", "y"] != pytest.approx(pd.Series(x).corr(pd.Series(y), method="spearman"))


# --------------------------------------------------------------------------- dendrogram order
def _r(matrix) -> pd.DataFrame:
    names = [f"k{i}" for i in range(len(matrix))]
    return pd.DataFrame(np.array(matrix, float), index=names, columns=names)


def test_a_constant_performer_correlates_zero():
    rows = [{"performer": p, "concept": c, "experiment": e, "sign_count": 0.5 if p == "q" else 0.1 * (e + 2 * k)}
            for p in ("p", "q") for k, c in enumerate("xy") for e in range(3)]
    _, performer_r = tables.correlations(pd.DataFrame(rows))
    assert performer_r.to_numpy().tolist() == [[1.0, 0.0], [0.0, 0.0]]


def test_dendrogram_order_of_fewer_than_three_is_the_given_order():
    assert tables.dendrogram_order(_r([[1.0]])) == [0]
    assert tables.dendrogram_order(_r([[1.0, -1.0], [-1.0, 1.0]])) == [0, 1]
    assert tables.dendrogram_order(_r(np.zeros((0, 0)))) == []


def test_dendrogram_order_of_three_puts_the_correlated_pair_together():
    # k0 and k2 correlate; k1 is apart: average linkage joins (0, 2) first
    order = tables.dendrogram_order(_r([[1, -0.5, 0.9], [-0.5, 1, -0.4], [0.9, -0.4, 1]]))
    assert order == [1, 0, 2] and all(type(i) is int for i in order)


def test_dendrogram_order_is_average_linkage_on_one_minus_r():
    # single, complete and average linkage give three different trees on these distances
    r = np.array([[1.0, 0.8, 0.1, -0.3, -0.2],
                  [0.8, 1.0, 0.5, 0.0, -0.9],
                  [0.1, 0.5, 1.0, 0.45, 0.3],
                  [-0.3, 0.0, 0.45, 1.0, 0.7],
                  [-0.2, -0.9, 0.3, 0.7, 1.0]])
    dist = 1 - r
    np.fill_diagonal(dist, 0)
    expected = [int(i) for i in leaves_list(linkage(squareform(dist), method="average"))]
    assert tables.dendrogram_order(_r(r)) == expected
    single = [int(i) for i in leaves_list(linkage(squareform(dist), method="single"))]
    assert expected != single


def test_dendrogram_order_clips_the_distance_and_symmetrises_it():
    # r outside [-1, 1] (rounding) is clipped to a distance in [0, 2]; an asymmetric r is averaged
    r = np.array([[1.0, 1.2, 0.0, -0.1], [1.2, 1.0, 0.1, 0.0], [0.0, 0.1, 1.0, -1.5], [-0.1, 0.0, -1.5, 1.0]])
    clipped = np.clip(1 - r, 0, 2)
    np.fill_diagonal(clipped, 0)
    expected = [int(i) for i in leaves_list(linkage(squareform(clipped), method="average"))]
    assert tables.dendrogram_order(_r(r)) == expected
    asym = np.array([[1.0, 0.9, 0.0, 0.2], [0.5, 1.0, 0.0, 0.1], [0.0, 0.0, 1.0, 0.6], [0.2, 0.1, 0.4, 1.0]])
    sym = (asym + asym.T) / 2
    assert tables.dendrogram_order(_r(asym)) == tables.dendrogram_order(_r(sym))
    diag = _r(np.where(np.eye(4, dtype=bool), 0.2, sym))  # the diagonal is ignored
    assert tables.dendrogram_order(diag) == tables.dendrogram_order(_r(sym))


def test_dendrogram_order_clips_a_distance_above_two():
    # A, B merge first (0.1); d(A, C) = 2.5 clipped to 2 makes AB-C (1.1) closer than AB-D (1.2), so C
    # joins AB before D; unclipped (1.35) D would join first
    r = np.array([[1.0, 0.9, -1.5, -0.2], [0.9, 1.0, 0.8, -0.2], [-1.5, 0.8, 1.0, -0.9], [-0.2, -0.2, -0.9, 1.0]])
    clipped = np.clip(1 - r, 0, 2)
    np.fill_diagonal(clipped, 0)
    expected = [int(i) for i in leaves_list(linkage(squareform(clipped), method="average"))]
    unclipped = 1 - r
    np.fill_diagonal(unclipped, 0)
    assert expected != [int(i) for i in leaves_list(linkage(squareform(unclipped), method="average"))]
    assert tables.dendrogram_order(_r(r)) == expected
    # 1 - r, not 2 - r clipped at 2: AB (r 0.9) merge, then D (r 0 to both, 1.0) before C (1.9 and 0.3, 1.1)
    r = np.array([[1.0, 0.9, -0.9, 0.0], [0.9, 1.0, 0.7, 0.0], [-0.9, 0.7, 1.0, -0.5], [0.0, 0.0, -0.5, 1.0]])
    assert tables.dendrogram_order(_r(r)) == [2, 3, 0, 1]  # C, then D beside A, B; 2 - r puts D outside


def test_dendrogram_order_of_a_nan_correlation_names_the_problem():
    r = np.eye(3)
    r[0, 1] = r[1, 0] = np.nan
    with pytest.raises(ValueError, match="only finite values"):
        tables.dendrogram_order(_r(r))


def test_ordered_sorts_the_summary_and_both_matrices_by_the_dendrograms():
    concepts, performers = ["x", "y", "z"], ["p", "q", "s"]
    c_r = pd.DataFrame([[1, -0.5, 0.9], [-0.5, 1, -0.4], [0.9, -0.4, 1]], index=concepts, columns=concepts)
    p_r = pd.DataFrame([[1, 0.9, -0.5], [0.9, 1, -0.4], [-0.5, -0.4, 1]], index=performers, columns=performers)
    summary = pd.DataFrame([{"performer": p, "concept": c, "v": 10 * i + j}
                            for i, p in enumerate(performers) for j, c in enumerate(concepts)])
    out, c_out, p_out = tables.ordered(summary, c_r, p_r)
    c_order = [concepts[i] for i in tables.dendrogram_order(c_r)]
    p_order = [performers[i] for i in tables.dendrogram_order(p_r)]
    assert c_order == ["y", "x", "z"] and p_order == ["s", "p", "q"]
    assert list(zip(out.performer, out.concept)) == [(p, c) for p in p_order for c in c_order]
    assert out.index.tolist() == list(range(9)) and out.columns.tolist() == ["performer", "concept", "v"]
    assert out.v.tolist() == [21, 20, 22, 1, 0, 2, 11, 10, 12]
    assert c_out.index.tolist() == c_order == c_out.columns.tolist()
    assert p_out.index.tolist() == p_order == p_out.columns.tolist()
    assert c_out.loc["x", "z"] == 0.9 and p_out.loc["s", "q"] == -0.4


# --------------------------------------------------------------------------- claims' statistics
TRUTH = {"planted": {"b": ["y"], "a": ["x"]}}


def _same(got: Decision, want: Decision) -> None:
    assert got.value == pytest.approx(want.value) and got.passed is want.passed
    assert got.p_value == pytest.approx(want.p_value)
    assert math.isnan(got.ci_low) and math.isnan(got.ci_high)


def test_planted_marks_the_truths_pairs_and_a_performer_absent_from_the_truth():
    long = pd.DataFrame({"performer": ["a", "a", "b", "c"], "concept": ["x", "y", "y", "x"]})
    assert tables._planted(long, TRUTH).tolist() == [True, False, True, False]


def test_pair_tests_are_one_permutation_test_per_planted_pair_in_sorted_order():
    long = _long3()
    got = tables.pair_tests(long, TRUTH)
    assert len(got) == 2
    for decision, (p, c) in zip(got, [("a", "x"), ("b", "y")]):  # sorted by performer, concept
        sub = long[(long.performer == p) & (long.concept == c)].sort_values("experiment")
        _same(decision, permutation_greater(sub.sign_count, sub.random_sign_count))
    control = tables.pair_tests(long, TRUTH, "control_sign_count")
    sub = long[(long.performer == "a") & (long.concept == "x")].sort_values("experiment")
    _same(control[0], permutation_greater(sub.control_sign_count, sub.random_sign_count))


def test_every_pair_takes_the_largest_p_and_the_smallest_value_and_passes_below_alpha():
    decisions = [Decision(0.3, True, p_value=0.001), Decision(0.1, True, p_value=0.004)]
    assert tables.every_pair(decisions) == Decision(value=0.1, passed=True, p_value=0.004)
    at_alpha = [Decision(0.5, True, p_value=ALPHA), Decision(0.2, True, p_value=0.0)]
    assert tables.every_pair(at_alpha) == Decision(value=0.2, passed=False, p_value=ALPHA)
    assert tables.every_pair([Decision(0.7, False, p_value=0.5)]).passed is False
    with pytest.raises(ValueError) as info:
        tables.every_pair([])
    assert str(info.value) == "no planted (performer, concept) pair in the sign counts"


def test_ranking_test_compares_planted_with_unplanted_pair_means():
    long = _long3()
    got = tables.ranking_test(long, TRUTH)
    means = long.groupby(["performer", "concept"])["sign_count"].mean()  # (a,x) (a,y) (b,x) (b,y)
    _same(got, permutation_greater(means.iloc[[0, 3]], means.iloc[[1, 2]]))
    assert got.value == pytest.approx((0.8 + 0.84 - 0.55 - 0.25) / 2)
    control = tables.ranking_test(long, TRUTH, "control_sign_count")
    c_means = long.groupby(["performer", "concept"])["control_sign_count"].mean()
    _same(control, permutation_greater(c_means.iloc[[0, 3]], c_means.iloc[[1, 2]]))


def test_ranking_test_takes_the_pair_means_in_sorted_order():
    # on these sign counts the difference of the means is +-5.6e-17 by the order of the sums
    rng = np.random.default_rng(0)
    rows = [{"performer": p, "concept": c, "experiment": e, "sign_count": rng.integers(0, 10) / 10}
            for p in ("d", "b", "c", "a") for c in ("z", "x", "y") for e in range(2)]
    long = pd.DataFrame(rows)
    truth = {"planted": {"d": ["z"], "b": ["x"], "a": ["y"]}}
    means = long.groupby(["performer", "concept"], sort=True)["sign_count"].mean().reset_index()
    planted = tables._planted(means, truth)
    want = permutation_greater(means.sign_count[planted], means.sign_count[~planted])
    got = tables.ranking_test(long, truth)
    assert got.value == want.value and got.p_value == want.p_value


def test_tcav_claims_rows_in_full():
    long = _long3()
    table = Claims()
    tables.tcav_claims(table, long, TRUTH)
    first, second = table.frame().to_dict("records")
    assert first["claim"] == "TCAV finds each planted concept in its performer's playing"
    assert first["statistic"] == ("per planted pair: mean sign count minus the performer's random-CAV sign count "
                                  "over 5 experiments, one-sided permutation test; value = smallest difference, "
                                  "p = largest")
    assert first["threshold"] == "every pair p < 0.01" and first["control"] == RANDOM_CONCEPT
    want = tables.every_pair(tables.pair_tests(long, TRUTH))
    want_control = tables.every_pair(tables.pair_tests(long, TRUTH, "control_sign_count"))
    assert first["value"] == pytest.approx(want.value) and first["p_value"] == pytest.approx(want.p_value)
    assert first["control_value"] == pytest.approx(want_control.value)
    assert first["control_p_value"] == pytest.approx(want_control.p_value)
    assert second["claim"] == "sign counts rank planted concept-performer pairs above unplanted pairs"
    assert second["statistic"] == ("mean sign count of planted minus unplanted pairs, one-sided permutation test "
                                   "over pairs")
    assert second["threshold"] == "p < 0.01" and second["control"] == RANDOM_CONCEPT
    rank, rank_control = tables.ranking_test(long, TRUTH), tables.ranking_test(long, TRUTH, "control_sign_count")
    assert second["value"] == pytest.approx(rank.value) and second["p_value"] == pytest.approx(rank.p_value)
    assert second["control_value"] == pytest.approx(rank_control.value)
    assert second["control_p_value"] == pytest.approx(rank_control.p_value)


def test_tcav_claims_without_planted_concepts_are_not_applicable_in_full():
    table = Claims()
    tables.tcav_claims(table, _long3(), {"planted": None})
    first, second = table.frame().to_dict("records")
    why = " (not applicable: no concept is planted in these data, a user's own)"
    assert first["claim"] == "TCAV finds each planted concept in its performer's playing"
    assert first["statistic"] == ("per planted pair: mean sign count minus the performer's random-CAV sign count"
                                  + why)
    assert first["threshold"] == "every pair p < 0.01" and first["control"] == RANDOM_CONCEPT
    assert second["claim"] == "sign counts rank planted concept-performer pairs above unplanted pairs"
    assert second["statistic"] == ("mean sign count of planted minus unplanted pairs, one-sided permutation test over "
                                   "pairs" + why)
    assert second["threshold"] == "p < 0.01" and second["control"] == RANDOM_CONCEPT
    assert {first["verdict"], second["verdict"]} == {"not applicable"}
    # a truth without the key at all is a user's too
    empty = Claims()
    tables.tcav_claims(empty, _long3(), {})
    assert empty.frame().verdict.tolist() == ["not applicable"] * 2


def _accuracy(**columns) -> pd.DataFrame:
    base = {"model": ["resnet", "disentangle", "resnet"], "split": ["test", "test", "val"],
            "track_accuracy": [0.75, 0.5, 1.0], "randomised_track_accuracy": [0.25, 0.3, 0.0],
            "n_tracks": [8, 8, 8], "n_classes": [4, 4, 4]}
    return pd.DataFrame({**base, **columns})


def test_demo_accuracy_claims_are_binomial_tests_against_one_over_the_classes():
    table = Claims()
    tables.accuracy_claims(table, _accuracy(), "demo", tolerance=0.03)
    rows = table.frame().to_dict("records")
    assert [r["claim"] for r in rows] == ["resnet identifies the demo performers",
                                          "disentangle identifies the demo performers"]  # test split only
    assert rows[0]["statistic"] == ("track accuracy (test, 8 recordings), one-sided binomial test vs chance 1/4")
    assert rows[0]["threshold"] == "p < 0.01" and rows[0]["control"] == RANDOMISED
    want, control = binomial_above(6, 8, 0.25), binomial_above(2, 8, 0.25)
    assert rows[0]["value"] == want.value and rows[0]["p_value"] == pytest.approx(want.p_value)
    assert rows[0]["control_value"] == control.value
    assert rows[0]["control_p_value"] == pytest.approx(control.p_value)
    assert rows[1]["value"] == 0.5 and rows[1]["p_value"] == pytest.approx(binomial_above(4, 8, 0.25).p_value)
    # 0.3 * 8 = 2.4 recordings: rounded to 2
    assert rows[1]["control_p_value"] == pytest.approx(binomial_above(2, 8, 0.25).p_value)


def test_demo_accuracy_claims_name_whom_they_identify_and_round_the_recordings():
    table = Claims()
    acc = _accuracy(track_accuracy=[0.6875, 0.5, 1.0], n_tracks=[16, 16, 16], n_classes=[2, 2, 2])
    tables.accuracy_claims(table, acc, "demo", tolerance=0.03, who="the performers of these data")
    rows = table.frame().to_dict("records")
    assert rows[0]["claim"] == "resnet identifies the performers of these data"
    assert rows[0]["statistic"].endswith("chance 1/2")
    assert rows[0]["p_value"] == pytest.approx(binomial_above(11, 16, 0.5).p_value)


def test_paper_accuracy_claims_are_within_the_published_band():
    table = Claims()
    acc = _accuracy(track_accuracy=[0.95, 0.88, 1.0], randomised_track_accuracy=[0.05, 0.9, 0.0],
                    n_tracks=[40, 41, 40])
    tables.accuracy_claims(table, acc, "paper", tolerance=0.03)
    rows = table.frame().to_dict("records")
    assert [r["claim"] for r in rows] == ["resnet recording-level test accuracy as published",
                                          "disentangle recording-level test accuracy as published"]
    assert rows[0]["statistic"] == "track accuracy (test, 40 recordings)"
    assert rows[1]["statistic"] == "track accuracy (test, 41 recordings)"
    assert rows[0]["threshold"] == "within 0.03 of 0.944" and rows[1]["threshold"] == "within 0.03 of 0.913"
    assert rows[0]["control"] == RANDOMISED
    for row, (value, control, expected) in zip(rows, [(0.95, 0.05, 0.944), (0.88, 0.9, 0.913)]):
        want, want_control = within(value, expected, 0.03), within(control, expected, 0.03)
        assert row["value"] == want.value and row["pass"] == want.passed
        assert row["ci_low"] == pytest.approx(want.ci_low) and row["ci_high"] == pytest.approx(want.ci_high)
        assert row["control_value"] == want_control.value and row["control_pass"] == want_control.passed
    assert [r["pass"] for r in rows] == [True, False] and [r["control_pass"] for r in rows] == [False, True]


def test_outlining_bounds_are_inclusive_and_missing_coverage_never_outlines():
    coverage = [0.2, 0.19999, 0.6, 0.60001, 0.4, None, np.nan, np.inf]
    assert tables.outlining(coverage, 0.2, 0.6).tolist() == [True, False, True, False, True, False, False, False]
    assert tables.outlining(np.array([0, 1]), 0, 1).tolist() == [True, True]


def test_lime_claim_row_in_full():
    table = Claims()
    lime = {"note_coverage": np.array([0.3, 0.5, 1.0, 0.0, 0.4]),
            "control_note_coverage": np.array([1.0, 0.0, 0.5, 0.0, 1.0])}
    tables.lime_claims(table, lime, coverage=(0.05, 0.8), share=0.4)
    (row,) = table.frame().to_dict("records")
    assert row["claim"] == "LIME top superpixels outline a part of each roll, neither nothing nor every note"
    assert row["statistic"] == ("share of the 5 held-out clips whose mask holds between 0.05 and 0.8 of the roll's "
                                "notes (cells with velocity above 0), one-sided exact binomial test against 0.4")
    assert row["threshold"] == "p < 0.01"
    assert row["control"] == ("the same LIME with the original's quickshift kernel (4 px), a handful of superpixels "
                              "per demo roll")
    want, control = binomial_above(3, 5, 0.4), binomial_above(1, 5, 0.4)
    assert row["value"] == want.value == 0.6 and row["p_value"] == pytest.approx(want.p_value)
    assert row["control_value"] == control.value == 0.2
    assert row["control_p_value"] == pytest.approx(control.p_value)


# --------------------------------------------------------------------------- claims()
THRESHOLDS = {"accuracy_tolerance": 0.03, "lime_coverage": [0.05, 0.8], "lime_share": 0.4}
LIME = {"note_coverage": np.array([0.3, 0.5, 1.0, 0.0, 0.4]),
        "control_note_coverage": np.array([1.0, 0.0, 0.5, 0.0, 1.0])}
CAVS = {"cavs": np.zeros((2, 3, 24), np.float32), "layer_shape": (2, 3, 4)}


def test_claims_in_order_with_rounded_values_and_the_invariant():
    out = tables.claims(_accuracy(track_accuracy=[1 / 7, 0.5, 1.0], n_tracks=[7, 8, 8]), _long3(), TRUTH,
                        "demo", THRESHOLDS, cavs=CAVS, lime=LIME)
    assert out.claim.tolist() == [
        "resnet identifies the demo performers", "disentangle identifies the demo performers",
        "TCAV finds each planted concept in its performer's playing",
        "sign counts rank planted concept-performer pairs above unplanted pairs",
        "LIME top superpixels outline a part of each roll, neither nothing nor every note",
        "the CAVs live in the harmony layer read from the model"]
    assert out.value.iloc[0] == 0.1429  # Claims(digits=4)
    assert out.statistic.iloc[4].startswith("share of the 5 held-out clips whose mask holds between 0.05 and 0.8")
    assert out.statistic.iloc[4].endswith("against 0.4")
    last = out.iloc[-1]
    assert last.kind == "invariant" and last.verdict == "holds" and last.value == 0.0
    assert last.statistic == "CAV dimension minus the size of the harmony branch's last block"
    assert last.threshold == "0"


def test_claims_invariant_breaks_by_the_size_difference():
    cavs = {"cavs": np.zeros((2, 3, 20), np.float32), "layer_shape": np.array([2, 3, 4])}
    out = tables.claims(_accuracy(), _long3(), None, "demo", THRESHOLDS, cavs=cavs)
    assert out.claim.tolist()[-1] == "the CAVs live in the harmony layer read from the model"
    assert out.value.iloc[-1] == -4.0 and out.verdict.iloc[-1] == "broken"
    assert len(out) == 3  # no truth: no TCAV claims; no lime: no LIME claim


def test_claims_on_a_users_own_data_name_its_performers():
    out = tables.claims(_accuracy(), _long3(), {"planted": None}, "demo", THRESHOLDS, lime=LIME)
    assert out.claim.tolist()[:2] == ["resnet identifies the performers of these data",
                                      "disentangle identifies the performers of these data"]
    assert out.verdict.tolist()[2:4] == ["not applicable"] * 2 and len(out) == 5
    planted = tables.claims(_accuracy(), _long3(), TRUTH, "demo", THRESHOLDS)
    assert planted.claim.iloc[0] == "resnet identifies the demo performers" and len(planted) == 4


def test_claims_without_a_lime_control_have_no_lime_claim():
    out = tables.claims(_accuracy(), _long3(), None, "demo", THRESHOLDS, lime={"note_coverage": LIME["note_coverage"]})
    assert len(out) == 2
    paper = tables.claims(_accuracy(track_accuracy=[0.944, 0.913, 1.0]), _long3(), None, "paper",
                          {"accuracy_tolerance": 0.001})
    assert paper["pass"].tolist() == [True, True]
    assert paper.threshold.tolist() == ["within 0.001 of 0.944", "within 0.001 of 0.913"]
