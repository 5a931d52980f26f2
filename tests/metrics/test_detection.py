"""Frame-wise detection metrics on inputs with known answers."""

import numpy as np
import pytest

from xairepro.metrics.detection import detection_metrics, median_smooth, tune_threshold


def test_median_smooth_filters_each_file_on_its_own():
    pred = np.array([0, 0, 1, 0, 0, 1, 1, 0, 1, 1], dtype=float)
    out = median_smooth(pred, np.array([0, 5, 10]), size=3)
    np.testing.assert_array_equal(out, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    # no file boundary: the isolated 1 at index 2 and the 0 at 7 still vanish, edges differ
    np.testing.assert_array_equal(median_smooth(pred, np.array([0, 10]), size=3), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(median_smooth(pred, np.array([0, 10]), size=1), pred)


def test_median_smooth_does_not_leak_across_files():
    pred = np.array([1, 1, 1, 0, 0, 0], dtype=float)
    out = median_smooth(pred, np.array([0, 3, 6]), size=5)
    np.testing.assert_array_equal(out, pred)


def test_tuned_threshold_separates_separable_data():
    pred = np.array([0.1, 0.2, 0.35, 0.6, 0.7, 0.9])
    labels = np.array([0, 0, 0, 1, 1, 1])
    threshold = tune_threshold(pred, labels)
    assert 0.35 < threshold < 0.6
    assert detection_metrics(pred, labels, threshold)["error"] == 0


def test_tuned_threshold_minimises_error():
    rng = np.random.default_rng(0)
    labels = rng.random(500) > 0.4
    pred = np.clip(labels * 0.3 + rng.random(500) * 0.7, 0, 1)
    threshold = tune_threshold(pred, labels)
    best = min(np.mean((pred > t) != labels) for t in np.linspace(0, 1, 2001))
    assert np.mean((pred > threshold) != labels) <= best + 1e-12


def test_detection_metrics_on_a_confusion_matrix():
    # tp=2, fp=1, tn=3, fn=2 at threshold 0.5
    pred = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.3, 0.4, 0.45])
    labels = np.array([1, 1, 0, 0, 0, 0, 1, 1])
    m = detection_metrics(pred, labels, 0.5)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 4)
    assert m["specificity"] == pytest.approx(3 / 4)
    assert m["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert m["error"] == pytest.approx(3 / 8)
    # AUROC: share of (positive, negative) pairs ranked right: 0.9, 0.8 beat all 4 negatives;
    # 0.4 and 0.45 beat 0.1, 0.2, 0.3 but not 0.7
    assert m["auroc"] == pytest.approx((4 + 4 + 3 + 3) / 16)
    assert detection_metrics(np.array([0.1, 0.9]), np.array([0, 1]), 0.5)["auroc"] == 1.0


def test_tied_thresholds_go_to_the_smallest():
    # errors per candidate: 2 (all positive), 1 at 0.3, 2 at 0.5, 1 at 0.7, 2 (all negative)
    pred = np.array([0.2, 0.4, 0.6, 0.8])
    labels = np.array([0, 1, 0, 1])
    assert tune_threshold(pred, labels) == pytest.approx(0.3)
    # reversed order of the frames changes nothing
    assert tune_threshold(pred[::-1], labels[::-1]) == pytest.approx(0.3)


def test_threshold_below_or_above_every_prediction_when_one_class_is_absent():
    pred = np.array([0.2, 0.4, 0.6])
    assert tune_threshold(pred, np.ones(3)) < 0.2  # everything positive: no error
    assert tune_threshold(pred, np.zeros(3)) > 0.6  # everything negative


def test_a_frame_at_the_threshold_counts_as_negative():
    m = detection_metrics(np.array([0.5, 0.5, 0.9]), np.array([0, 1, 1]), 0.5)
    # p > t decides: the two frames at 0.5 are negatives -> tn 1, fn 1, tp 1
    assert m["error"] == pytest.approx(1 / 3) and m["recall"] == pytest.approx(1 / 2)
    assert m["precision"] == 1.0 and m["specificity"] == 1.0
