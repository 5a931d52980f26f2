"""The statistics that decide claims: one-sided tests and bootstrap bounds at level ``ALPHA``.

Every function returns a :class:`Decision`: the statistic's value, whether the claim's test
passes, and its p-value or bootstrap interval. The level is one-sided 1 %, so a model or
explainer at chance level passes any of these tests with probability below 1 %. The same
function, applied to a claim's negative control (a randomised model, shuffled labels, a
random attribution), says whether the control wrongly passes.

>>> binomial_above(11, 12, 0.25).passed
True
>>> binomial_above(4, 12, 0.25).passed      # 4/12 on 4 classes: chance level, p = 0.35
False
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# scipy.stats is imported inside the functions that use it: importing it costs about a second
# on a slow 2-core machine, and the Snakefile and many jobs import this module without
# deciding anything.

ALPHA = 0.01
N_RESAMPLES = 4999


@dataclass(frozen=True)
class Decision:
    """A statistic decided against its threshold: ``value`` (the effect), ``passed``, and the
    one-sided ``p_value`` or the bootstrap interval ``ci_low``..``ci_high`` (NaN where unused)."""

    value: float
    passed: bool
    p_value: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan


def _values(values) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    if array.size == 0 or not np.isfinite(array).all():
        raise ValueError(f"a statistic needs finite values, got {array.size} values with "
                         f"{int((~np.isfinite(array)).sum())} non-finite")
    return array


def binomial_above(successes: int, n: int, chance: float, alpha: float = ALPHA) -> Decision:
    """``successes`` out of ``n`` is above the ``chance`` rate: one-sided exact binomial test.
    The value is the rate ``successes / n``."""
    from scipy import stats
    if n <= 0:
        raise ValueError("a binomial test needs n > 0 trials")
    p = stats.binomtest(int(successes), int(n), chance, alternative="greater").pvalue
    return Decision(value=successes / n, passed=bool(p < alpha), p_value=float(p))


def _bootstrap_mean(values: np.ndarray, alpha: float, seed: int) -> tuple[float, float]:
    from scipy import stats
    if values.size < 2 or np.ptp(values) == 0:
        return float(values.mean()), float(values.mean())
    result = stats.bootstrap((values,), np.mean, n_resamples=N_RESAMPLES, confidence_level=1 - 2 * alpha,
                             method="percentile", rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def mean_above(values, threshold: float, alpha: float = ALPHA, seed: int = 0) -> Decision:
    """The mean of per-item ``values`` is above ``threshold``: the lower end of its one-sided
    (1 - alpha) percentile-bootstrap bound must exceed it. The interval reported is the
    two-sided (1 - 2 alpha) one, whose lower end is that bound."""
    values = _values(values)
    low, high = _bootstrap_mean(values, alpha, seed)
    return Decision(value=float(values.mean()), passed=bool(low > threshold), ci_low=low, ci_high=high)


def mean_below(values, threshold: float, alpha: float = ALPHA, seed: int = 0) -> Decision:
    """The mean of per-item ``values`` is below ``threshold`` (upper bootstrap bound below it)."""
    values = _values(values)
    low, high = _bootstrap_mean(values, alpha, seed)
    return Decision(value=float(values.mean()), passed=bool(high < threshold), ci_low=low, ci_high=high)


def wilcoxon_greater(a, b=None, alpha: float = ALPHA) -> Decision:
    """Paired items: ``a`` exceeds ``b`` (or zero): one-sided Wilcoxon signed-rank test. The
    value is the mean difference. With n paired items the smallest p-value is 2**-n, so the
    test can pass only from 7 items on."""
    from scipy import stats
    a = _values(a)
    diff = a - (0.0 if b is None else _values(b))
    if not np.any(diff):
        return Decision(value=0.0, passed=False, p_value=1.0)
    p = stats.wilcoxon(diff, alternative="greater", zero_method="zsplit").pvalue
    return Decision(value=float(diff.mean()), passed=bool(p < alpha), p_value=float(p))


def permutation_greater(a, b, alpha: float = ALPHA, seed: int = 0) -> Decision:
    """Two independent groups: the mean of ``a`` exceeds that of ``b``: one-sided permutation
    test of the difference in means. The value is that difference."""
    from scipy import stats
    a, b = _values(a), _values(b)
    result = stats.permutation_test((a, b), lambda x, y: np.mean(x) - np.mean(y), alternative="greater",
                                    n_resamples=N_RESAMPLES, rng=np.random.default_rng(seed))
    return Decision(value=float(a.mean() - b.mean()), passed=bool(result.pvalue < alpha),
                    p_value=float(result.pvalue))


def correlation_above(x, y, method: str = "spearman", alpha: float = ALPHA) -> Decision:
    """``x`` and ``y`` are positively associated: one-sided Spearman (or Pearson) test of a
    correlation above zero. The value is the correlation coefficient."""
    from scipy import stats
    x, y = _values(x), _values(y)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return Decision(value=0.0, passed=False, p_value=1.0)
    test = {"spearman": stats.spearmanr, "pearson": stats.pearsonr}[method]
    result = test(x, y, alternative="greater")
    return Decision(value=float(result.statistic), passed=bool(result.pvalue < alpha), p_value=float(result.pvalue))


def within(value: float, expected: float, tolerance: float) -> Decision:
    """A measured number reproduces a published one: ``|value - expected| <= tolerance``
    (paper scale; the interval reported is the accepted band)."""
    return Decision(value=float(value), passed=bool(abs(value - expected) <= tolerance),
                    ci_low=expected - tolerance, ci_high=expected + tolerance)
