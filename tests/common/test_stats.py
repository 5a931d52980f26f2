"""The statistics that decide claims: each passes a real effect and fails chance at the
stated level (simulated here), and each matches its closed form where there is one."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from xairepro.common import stats


def false_pass_rate(decide, draws: int = 400) -> float:
    """How often ``decide(rng)`` passes on data drawn at chance level."""
    rngs = (np.random.default_rng(seed) for seed in range(draws))
    return float(np.mean([decide(rng).passed for rng in rngs]))


def test_binomial_matches_the_exact_tail_and_fails_chance():
    decision = stats.binomial_above(18, 40, 0.25)
    tail = scipy_stats.binom.sf(17, 40, 0.25)            # P(X >= 18)
    assert decision.p_value == pytest.approx(tail) and decision.value == 18 / 40
    assert decision.passed == (tail < 0.01)
    assert false_pass_rate(lambda rng: stats.binomial_above(rng.binomial(40, 0.25), 40, 0.25)) <= 0.01
    assert not stats.binomial_above(4, 12, 0.25).passed   # the review's 4/12: p = 0.35
    assert stats.binomial_above(36, 40, 0.25).passed


def test_bootstrap_mean_bound_fails_a_zero_mean_and_passes_a_clear_one():
    null = false_pass_rate(lambda rng: stats.mean_above(rng.normal(0, 1, 30), 0.0, seed=1), draws=200)
    assert null <= 0.03                                  # percentile bootstrap: about the 1 % level
    effect = stats.mean_above(np.random.default_rng(0).normal(1.0, 1.0, 30), 0.0)
    assert effect.passed and effect.ci_low > 0 and effect.ci_low < effect.value < effect.ci_high
    below = stats.mean_below(np.random.default_rng(0).normal(-1.0, 1.0, 30), 0.0)
    assert below.passed and below.ci_high < 0


def test_a_constant_sample_has_a_zero_width_interval():
    decision = stats.mean_above(np.full(5, 0.7), 0.5)
    assert decision.passed and decision.ci_low == decision.ci_high == pytest.approx(0.7)
    with pytest.raises(ValueError, match="non-finite"):
        stats.mean_above([0.1, float("nan")], 0.0)


def test_wilcoxon_needs_seven_items_to_pass():
    six, seven = np.arange(1.0, 7.0), np.arange(1.0, 8.0)
    assert stats.wilcoxon_greater(six).p_value == pytest.approx(2.0 ** -6)
    assert not stats.wilcoxon_greater(six).passed
    assert stats.wilcoxon_greater(seven).passed
    assert not stats.wilcoxon_greater(np.zeros(10)).passed
    assert stats.wilcoxon_greater(seven + 1, seven).value == pytest.approx(1.0)


def test_permutation_and_correlation_fail_chance_and_pass_an_effect():
    null = false_pass_rate(lambda rng: stats.permutation_greater(rng.normal(size=15), rng.normal(size=15)),
                           draws=150)
    assert null <= 0.03
    assert stats.permutation_greater(np.arange(10) + 5.0, np.arange(10.0)).passed
    x = np.arange(20.0)
    assert stats.correlation_above(x, x ** 2).passed
    assert stats.correlation_above(x, x, method="pearson").value == pytest.approx(1.0)
    assert not stats.correlation_above(x, -x).passed
    assert not stats.correlation_above(x, np.ones(20)).passed


def test_within_reports_the_accepted_band():
    decision = stats.within(0.95, 0.97, 0.03)
    assert decision.passed and (decision.ci_low, decision.ci_high) == pytest.approx((0.94, 1.0))
    assert not stats.within(0.90, 0.97, 0.03).passed
    assert math.isnan(decision.p_value)
