"""Closed forms that kill the mutants of xairepro/metrics that the hand-made values of
test_metric_closed_forms.py let through (`make mutation`, docs/testing.md)."""

import numpy as np
import pandas as pd
import pytest
import torch

from xairepro.metrics.interpretation import mask_mass_ratio


def test_mask_mass_ratio_of_one_cell_regions_and_an_empty_one():
    # one-cell regions: the means are the cells themselves (0.8 / 0.2), whatever a floor on
    # the cell count above 1 would make of them
    mask = torch.tensor([[0.8, 0.2], [0.0, 0.0]])
    a = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    b = torch.tensor([[0.0, 1.0], [0.0, 0.0]])
    assert float(mask_mass_ratio(mask, a, b)) == pytest.approx(4.0)
    assert float(mask_mass_ratio(mask, b, a)) == pytest.approx(0.25)
    # an empty region has mean 0, not NaN: the ratio is 0 over it, and huge (/1e-12) under it
    empty = torch.zeros(2, 2)
    assert float(mask_mass_ratio(mask, empty, a)) == 0.0
    assert float(mask_mass_ratio(mask, a, empty)) == pytest.approx(0.8e12)


def test_summarise_curves_groups_sorted_and_a_single_seed_has_zero_std():
    from xairepro.metrics.curves import summarise_curves

    frame = pd.DataFrame({"k": [9, 9, 1], "loss": [1.0, 3.0, 5.0]})
    out = summarise_curves(frame, ["k"], value="loss")
    assert out["k"].tolist() == [1, 9] and out.columns.tolist() == ["k", "mean", "std", "min", "max", "count"]
    assert out["mean"].tolist() == [5.0, 2.0] and out["count"].tolist() == [1, 2]
    assert out["std"].tolist()[0] == 0.0 and out["std"].tolist()[1] == pytest.approx(np.sqrt(2))


def test_coinciding_groups_at_the_tolerance_edge():
    from xairepro.metrics.curves import coinciding_groups

    # span 10 (0..10), rtol 0.02 -> curves within 0.2 everywhere coincide
    curves = {"a": [0.0, 10.0], "b": [0.2, 10.0], "c": [0.5, 10.0], "d": [0.0, 10.0, 1.0]}
    assert coinciding_groups(curves) == [["a", "b"]]
    assert coinciding_groups(curves, rtol=0.05) == [["a", "b", "c"]]  # a-b, a-c within 0.5
    # an explicit span replaces the data's: 0.2 is 2 % of 10 but 20 % of 1
    assert coinciding_groups(curves, span=1.0) == []
    assert coinciding_groups(curves, rtol=0.25, span=1.0) == [["a", "b"]]
    assert coinciding_groups(curves, rtol=0.35, span=1.0) == [["a", "b", "c"]]  # b-c within 0.3
    # chains connect: x~y and y~z put x, y, z in one group though x and z differ by 0.3
    chain = {"x": [0.0, 10.0], "y": [0.15, 10.0], "z": [0.3, 10.0], "w": [5.0, 10.0]}
    assert coinciding_groups(chain) == [["x", "y", "z"]]
    # flat data: span 0 -> rtol is the absolute tolerance
    flat = {"p": [1.0, 1.0], "q": [1.0, 1.0], "r": [1.03, 1.03]}
    assert coinciding_groups(flat) == [["p", "q"]]
    # a span of 0 given explicitly: rtol is absolute (0.01 apart coincide), not a zero tolerance
    close = {"u": [0.0, 1.0], "v": [0.01, 1.0]}
    assert coinciding_groups(close, span=0.0) == [["u", "v"]]
    # a span under 1 scales rtol down: 0.015 apart is over 2 % of 0.5 (0.01)
    assert coinciding_groups({"u": [0.0, 1.0], "v": [0.015, 1.0]}, span=0.5) == []
    assert coinciding_groups({"u": [0.0, 1.0], "v": [0.005, 1.0]}, span=0.5) == [["u", "v"]]
    # NaNs are left out of the span, and no curve at all gives no group
    with_nan = {"a": [0.0, np.nan, 10.0], "b": [0.1, np.nan, 10.0]}
    assert coinciding_groups(with_nan) == []  # NaN != NaN at the middle point
    assert coinciding_groups({"a": [0.0, 10.0], "b": [0.1, 10.0], "n": [np.nan, np.nan]}) == [["a", "b"]]
    assert coinciding_groups({}) == []


def test_occlusion_sign_counts_fill_the_three_by_three_table():
    from xairepro.metrics.occlusion import sign_counts

    # inputs and grads over the 9 sign pairs, plus one feature left unmasked
    x = torch.tensor([[1.0, 1.0, 1.0, -2.0, -2.0, -2.0, 0.0, 0.0, 0.0, 5.0]])
    g = torch.tensor([[3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 3.0, -3.0, 0.0, 5.0]])
    mask = torch.ones(1, 10, dtype=torch.bool)
    mask[0, -1] = False
    counts = sign_counts(x, g, mask)
    np.testing.assert_array_equal(counts, np.ones((3, 3), dtype=np.int64))
    assert counts.dtype == np.int64
    # a second positive/positive feature lands in cell (0, 0) only
    mask[0, -1] = True
    expected = np.ones((3, 3), dtype=np.int64)
    expected[0, 0] = 2
    np.testing.assert_array_equal(sign_counts(x, g, mask), expected)


def test_median_smooth_filters_each_file_on_its_own():
    from xairepro.metrics.detection import median_smooth

    p = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 9.0, 1.0])
    offsets = np.array([0, 3, 7])
    # file 0: [0, 1, 0] -> median 3 with nearest edges: [0, 0, 0]; file 1: [1, 1, 9, 1] -> [1, 1, 1, 1]
    np.testing.assert_array_equal(median_smooth(p, offsets, 3), [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0])
    # one file across the boundary would carry file 1's ones into file 0's last frame
    out = median_smooth(p, offsets, 1)
    np.testing.assert_array_equal(out, p)
    out[0] = 5.0
    assert p[0] == 0.0  # a copy, not the input
    assert median_smooth([0, 1], np.array([0, 2]), 0).dtype == np.float64


def test_tune_threshold_candidates_are_midpoints_and_just_outside():
    from xairepro.metrics.detection import tune_threshold

    # separable: the best threshold is the midpoint between 0.4 and 0.6
    assert tune_threshold(np.array([0.2, 0.4, 0.6, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.5)
    # all positive: just under the smallest prediction (1e-6 below)
    assert tune_threshold(np.array([0.2, 0.4]), np.array([1, 1])) == pytest.approx(0.2 - 1e-6, abs=1e-9)
    # all negative: just over the largest
    assert tune_threshold(np.array([0.2, 0.4]), np.array([0, 0])) == pytest.approx(0.4 + 1e-6, abs=1e-9)
    # labels are read as > 0.5 (soft 0.7 is positive, 0.3 negative)
    assert tune_threshold(np.array([0.1, 0.9]), np.array([0.3, 0.7])) == pytest.approx(0.5)
    # errors per candidate: 2, 1 at 0.15 (fp 0.3), 2 at 0.25, 1 at 0.6 (fn 0.2), 2: the first minimum
    assert tune_threshold(np.array([0.1, 0.2, 0.3, 0.9]), np.array([0, 1, 0, 1])) == pytest.approx(0.15)


def test_detection_metrics_every_entry_on_a_hand_count():
    from xairepro.metrics.detection import detection_metrics

    # at 0.5: tp 2 (0.9, 0.8), fp 1 (0.7), fn 1 (0.1), tn 2 (0.2, 0.3)
    p = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.3])
    y = np.array([1, 1, 0, 1, 0, 0])
    m = detection_metrics(p, y, 0.5)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["specificity"] == pytest.approx(2 / 3) and m["f1"] == pytest.approx(2 / 3)
    assert m["error"] == pytest.approx(2 / 6) and m["n_frames"] == 6 and m["threshold"] == 0.5
    assert m["auroc"] == pytest.approx(6 / 9)  # 6 of the 9 positive-negative pairs ordered right
    # precision and recall differ: f1 is their harmonic mean
    m = detection_metrics(np.array([0.9, 0.8, 0.1, 0.2]), np.array([1, 0, 1, 1]), 0.5)
    assert m["precision"] == 0.5 and m["recall"] == pytest.approx(1 / 3)
    assert m["f1"] == pytest.approx(2 * 0.5 / 3 / (0.5 + 1 / 3)) and m["specificity"] == 0.0
    # nothing predicted positive and no negatives: zeros, not divisions by zero; AUROC undefined
    m = detection_metrics(np.array([0.1, 0.2]), np.array([1, 1]), 0.5)
    assert (m["precision"], m["recall"], m["specificity"], m["f1"], m["error"]) == (0.0, 0.0, 0.0, 0.0, 1.0)
    assert np.isnan(m["auroc"])
    assert np.isnan(detection_metrics(np.array([0.1, 0.9]), np.array([0, 0]), 0.5)["auroc"])


def test_representation_shift_and_correlation_edge_cases():
    from xairepro.metrics.representation import mean_offdiagonal_correlation, representation_shift

    # inputs of more than two dimensions are flattened per item: (2, 1, 2) -> ||.||^2 = 8 and 0
    x = torch.zeros(2, 1, 2)
    masked = torch.tensor([[[2.0, 2.0]], [[0.0, 0.0]]])
    assert representation_shift(lambda t: t, x, masked) == pytest.approx(4.0)
    # a constant map counts as uncorrelated (0), and the result is float32 (N,)
    a = torch.tensor([1.0, 2.0, 3.0])
    maps = torch.stack([a, a, torch.ones(3)])[None]  # corr(a, a) = 1 twice, the rest 0 -> 2 / 6
    out = mean_offdiagonal_correlation(maps)
    assert out.dtype == torch.float32 and out.shape == (1,)
    torch.testing.assert_close(out, torch.tensor([1 / 3]))
    # two samples with their own answers, and 2-D maps flattened
    pair = torch.stack([torch.stack([a, a]), torch.stack([a, -a])]).reshape(2, 2, 3, 1)
    torch.testing.assert_close(mean_offdiagonal_correlation(pair), torch.tensor([1.0, -1.0]))


def test_fidelity_compares_each_clip_with_its_own_prediction():
    from xairepro.metrics.interpretation import fidelity_to_input

    # clip 0 predicts class 2, clip 1 class 1; both masked inputs keep their clip's class
    scores = torch.tensor([[0.0, 0.0, 3.0], [0.0, 1.0, 0.0]])
    masked = torch.tensor([[0.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
    torch.testing.assert_close(fidelity_to_input(scores, masked), torch.tensor([1.0, 1.0]))


def test_mean_offdiagonal_correlation_does_not_depend_on_the_maps_scale():
    from xairepro.metrics.representation import mean_offdiagonal_correlation

    # saliency maps of norm far below 1 (tiny gradients) correlate as their scaled-up copies
    a = torch.tensor([1.0, 2.0, 3.0, 4.0])
    b = torch.tensor([1.0, -1.0, 1.0, -1.0])
    maps = torch.stack([a, -a, b])[None]
    for scale in (1e-3, 1.0, 1e3):
        torch.testing.assert_close(mean_offdiagonal_correlation(scale * maps), torch.tensor([-1 / 3]))


def test_median_smooth_is_scipys_nearest_median_per_file_from_size_two():
    from scipy.ndimage import median_filter

    from xairepro.metrics.detection import median_smooth

    p = np.array([0.0, 1.0, 1.0, 0.0, 3.0, 0.0, 2.0, 5.0, 1.0])
    offsets = np.array([0, 4, 9])
    for size in (2, 3, 5):
        expected = np.concatenate([median_filter(p[:4], size=size, mode="nearest"),
                                   median_filter(p[4:], size=size, mode="nearest")])
        np.testing.assert_array_equal(median_smooth(p, offsets, size), expected)
    # size 2 already smooths (the larger of each pair), size 5's edges repeat the end frames
    assert not np.array_equal(median_smooth(p, offsets, 2), p)
    assert median_smooth(p, offsets, 5)[0] == 0.0  # "reflect" edges would give 1


def test_detection_labels_are_positive_above_one_half_only():
    from xairepro.metrics.detection import detection_metrics

    m = detection_metrics(np.array([0.9, 0.1]), np.array([0.5, 1.0]), 0.5)
    # 0.5 is a negative: frame 0 a false positive, frame 1 a false negative
    assert (m["precision"], m["recall"], m["specificity"], m["error"]) == (0.0, 0.0, 0.0, 1.0)


def test_detection_without_positives_has_recall_zero_and_no_auroc_warning():
    import warnings

    from xairepro.metrics.detection import detection_metrics

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # AUROC of one class is left undefined, not asked of sklearn
        m = detection_metrics(np.array([0.9, 0.1]), np.array([0, 0]), 0.5)
        assert np.isnan(detection_metrics(np.array([0.9, 0.1]), np.array([1, 1]), 0.5)["auroc"])
    assert m["recall"] == 0.0 and m["precision"] == 0.0 and m["specificity"] == 0.5 and np.isnan(m["auroc"])


def test_tune_threshold_reads_a_label_of_one_half_as_negative():
    from xairepro.metrics.detection import tune_threshold

    # a 0.5 label on the high frame: everything negative is best (above 0.9), not a cut at 0.5
    assert tune_threshold(np.array([0.1, 0.9]), np.array([0.0, 0.5])) == pytest.approx(0.9 + 1e-6, abs=1e-9)
