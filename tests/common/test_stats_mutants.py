"""Tests written to kill the surviving mutants of xairepro.common.stats (issue 24).

Each test is decided at its boundary (a p-value equal to alpha, a bound equal to the
threshold, a difference equal to the tolerance), and every bootstrap and permutation result
is compared with scipy called as the documentation states (percentile method, 1 - 2 alpha
two-sided interval, 4999 resamples, the given seed), so that no seed, level or method can
change unseen.
"""

import math

import numpy as np
import pytest
from scipy import stats as sps

from xairepro.common import stats
from xairepro.common.stats import (Decision, binomial_above, correlation_above, mean_above, mean_below,
                                   permutation_greater, wilcoxon_greater, within)

VALUES = np.random.default_rng(7).normal(0.3, 1.0, size=40)


def same(got: Decision, want: Decision) -> bool:
    for field in ("value", "passed", "p_value", "ci_low", "ci_high"):
        a, b = getattr(got, field), getattr(want, field)
        assert type(a) is type(b), (field, a, b)
        assert (math.isnan(a) and math.isnan(b)) if isinstance(b, float) and math.isnan(b) else a == b, (field, a, b)
    return True


def reference_interval(values, alpha=stats.ALPHA, seed=0):
    result = sps.bootstrap((np.asarray(values, dtype=float),), np.mean, n_resamples=4999,
                           confidence_level=1 - 2 * alpha, method="percentile", rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


# --------------------------------------------------------------------------- _values
@pytest.mark.parametrize("values,message", [([], "got 0 values with 0 non-finite"),
                                            ([1.0, np.nan, np.inf], "got 3 values with 2 non-finite")])
def test_a_statistic_refuses_empty_or_non_finite_values(values, message):
    with pytest.raises(ValueError) as info:
        mean_above(values, 0.0)
    assert str(info.value) == f"a statistic needs finite values, {message}"


def test_values_are_flattened():
    assert same(mean_above([[1.0, 1.0], [1.0, 1.0]], 0.5), Decision(1.0, True, ci_low=1.0, ci_high=1.0))


# --------------------------------------------------------------------------- binomial
def test_binomial_needs_at_least_one_trial():
    for n in (0, -3):
        with pytest.raises(ValueError) as info:
            binomial_above(0, n, 0.5)
        assert str(info.value) == "a binomial test needs n > 0 trials"


def test_binomial_of_one_trial_in_closed_form():
    # one success in one trial at chance 0.005: p = 0.005
    assert same(binomial_above(1, 1, 0.005), Decision(1.0, True, p_value=0.005))
    assert same(binomial_above(0, 1, 0.005), Decision(0.0, False, p_value=1.0))


def test_binomial_at_p_equal_to_alpha_does_not_pass():
    p = sps.binomtest(9, 10, 0.5, alternative="greater").pvalue  # 11/1024
    assert p == 11 / 1024
    assert binomial_above(9, 10, 0.5, alpha=p).passed is False
    assert binomial_above(9, 10, 0.5, alpha=np.nextafter(p, 1)).passed is True


# --------------------------------------------------------------------------- bootstrap means
def test_constant_values_have_a_point_interval():
    assert same(mean_above([2.0, 2.0, 2.0, 2.0], 1.5), Decision(2.0, True, ci_low=2.0, ci_high=2.0))
    assert same(mean_below([2.0, 2.0, 2.0], 2.5), Decision(2.0, True, ci_low=2.0, ci_high=2.0))
    assert same(mean_above([3.0], 2.0), Decision(3.0, True, ci_low=3.0, ci_high=3.0))


def test_two_distinct_values_are_bootstrapped():
    # resampled means are 0, 0.5 or 1 (probabilities 1/4, 1/2, 1/4): the 1 % and 99 %
    # percentiles are 0 and 1, whereas a point interval would sit at 0.5
    assert same(mean_above([0.0, 1.0], -0.5), Decision(0.5, True, ci_low=0.0, ci_high=1.0))
    assert same(mean_below([0.0, 1.0], 1.5), Decision(0.5, True, ci_low=0.0, ci_high=1.0))


def test_values_spanning_exactly_one_are_bootstrapped():
    low, high = reference_interval([0.0, 1.0, 0.5, 0.25])
    assert low < high
    assert same(mean_above([0.0, 1.0, 0.5, 0.25], 0.0), Decision(0.4375, True, ci_low=low, ci_high=high))


@pytest.mark.parametrize("seed", [0, 3])
def test_mean_above_matches_scipys_percentile_bootstrap(seed):
    low, high = reference_interval(VALUES, seed=seed)
    kwargs = {} if seed == 0 else {"seed": seed}  # the default seed is 0
    got = mean_above(VALUES, 0.0, **kwargs)
    assert same(got, Decision(float(VALUES.mean()), bool(low > 0.0), ci_low=low, ci_high=high))
    assert same(mean_below(VALUES, 1.0, **kwargs), Decision(float(VALUES.mean()), bool(high < 1.0), ci_low=low,
                                                             ci_high=high))


def test_the_interval_level_follows_alpha():
    low, high = reference_interval(VALUES, alpha=0.05)
    got = mean_above(VALUES, 0.0, alpha=0.05)
    assert (got.ci_low, got.ci_high) == (low, high)
    assert low > mean_above(VALUES, 0.0).ci_low  # a 90 % interval is narrower than a 98 % one


def test_bounds_equal_to_the_threshold_do_not_pass():
    low, high = reference_interval(VALUES)
    assert mean_above(VALUES, low).passed is False
    assert mean_above(VALUES, np.nextafter(low, -1)).passed is True
    assert mean_below(VALUES, high).passed is False
    assert mean_below(VALUES, np.nextafter(high, 2)).passed is True


# --------------------------------------------------------------------------- wilcoxon
def test_no_difference_at_all_is_a_plain_failure():
    assert same(wilcoxon_greater([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]), Decision(0.0, False, p_value=1.0))
    assert same(wilcoxon_greater([0.0] * 10), Decision(0.0, False, p_value=1.0))


def test_wilcoxon_splits_zero_differences():
    a = np.arange(10.0, 20.0)
    b = a - np.array([0.0, 1.0, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    p = float(sps.wilcoxon(a - b, alternative="greater", zero_method="zsplit").pvalue)
    assert p == 0.0078125 != sps.wilcoxon(a - b, alternative="greater").pvalue  # the zero counts
    assert same(wilcoxon_greater(a, b), Decision(float((a - b).mean()), bool(p < 0.01), p_value=p))


def test_wilcoxon_at_p_equal_to_alpha_does_not_pass():
    diff = np.arange(1.0, 8.0)  # seven positive differences: exact p = 2**-7
    p = wilcoxon_greater(diff).p_value
    assert p == 2.0 ** -7
    assert wilcoxon_greater(diff, alpha=p).passed is False
    assert wilcoxon_greater(diff, alpha=np.nextafter(p, 1)).passed is True


# --------------------------------------------------------------------------- permutation
def test_permutation_matches_scipy_with_the_seed():
    a, b = VALUES[:20], VALUES[20:]  # p about 0.3: each seed gives its own p
    pvalues = set()
    for seed in (0, 1, 5):
        ref = sps.permutation_test((a, b), lambda x, y: np.mean(x) - np.mean(y), alternative="greater",
                                   n_resamples=4999, rng=np.random.default_rng(seed))
        kwargs = {} if seed == 0 else {"seed": seed}
        assert same(permutation_greater(a, b, **kwargs),
                    Decision(float(a.mean() - b.mean()), bool(ref.pvalue < 0.01), p_value=float(ref.pvalue)))
        pvalues.add(float(ref.pvalue))
        assert permutation_greater(a, b, alpha=ref.pvalue, **kwargs).passed is False  # p = alpha fails
        assert permutation_greater(a, b, alpha=np.nextafter(ref.pvalue, 1), **kwargs).passed is True
    assert len(pvalues) == 3


def test_permutation_of_separated_groups_passes_and_reversed_fails():
    a, b = np.arange(10.0, 20.0), np.arange(0.0, 10.0)
    assert permutation_greater(a, b).passed is True and permutation_greater(a, b).value == 10.0
    assert permutation_greater(b, a).passed is False and permutation_greater(b, a).value == -10.0


# --------------------------------------------------------------------------- correlation
def test_a_constant_variable_has_no_correlation():
    assert same(correlation_above([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]), Decision(0.0, False, p_value=1.0))
    assert same(correlation_above([1.0, 2.0, 3.0], [5.0, 5.0, 5.0], "pearson"), Decision(0.0, False, p_value=1.0))


def test_correlation_matches_spearman_by_default_and_pearson_on_request():
    x = np.arange(12.0)
    y = x ** 3 + np.array([0, 5, -5, 3, 0, 0, 9, -9, 0, 1, 0, 0])
    for method, test in (("spearman", sps.spearmanr), ("pearson", sps.pearsonr)):
        ref = test(x, y, alternative="greater")
        got = correlation_above(x, y) if method == "spearman" else correlation_above(x, y, method)
        assert same(got, Decision(float(ref.statistic), bool(ref.pvalue < 0.01), p_value=float(ref.pvalue)))
        assert correlation_above(x, y, method, alpha=ref.pvalue).passed is False  # p = alpha fails
        assert correlation_above(x, y, method, alpha=np.nextafter(ref.pvalue, 1)).passed is True
    assert correlation_above(x, y).value != correlation_above(x, y, "pearson").value
    assert correlation_above(x, -y).passed is False


def test_an_unknown_correlation_method_is_refused():
    with pytest.raises(KeyError):
        correlation_above([1.0, 2.0, 3.0], [1.0, 3.0, 2.0], "kendall")


# --------------------------------------------------------------------------- within
def test_within_at_the_edge_of_its_band():
    assert same(within(1.5, 1.0, 0.5), Decision(1.5, True, ci_low=0.5, ci_high=1.5))
    assert same(within(np.float32(0.25), 1.0, 0.5), Decision(0.25, False, ci_low=0.5, ci_high=1.5))


def test_values_may_be_bools_or_numeric_text():
    # per-item hits as bools: differences of floats, not numpy's refused bool subtraction
    hits = [True] * 8 + [False] * 2
    assert same(wilcoxon_greater(hits, [False] * 10), Decision(0.8, True, p_value=2.0 ** -8))
    assert same(mean_above(["1.5", "1.5"], 1.0), Decision(1.5, True, ci_low=1.5, ci_high=1.5))


def test_correlation_of_values_spanning_exactly_one():
    x = np.linspace(0.0, 1.0, 12)
    y = np.linspace(2.0, 3.0, 12) ** 2
    p = float(sps.spearmanr(x, y, alternative="greater").pvalue)
    assert same(correlation_above(x, y), Decision(1.0, True, p_value=p))
    assert same(correlation_above(y, x), correlation_above(x, y))
