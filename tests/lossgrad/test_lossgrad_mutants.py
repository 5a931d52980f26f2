"""Exact tables of ``xairepro.lossgrad.tables`` on small hand-made inputs (issue 24: written
against mutmut's survivors; every test asserts whole frames or exact values)."""

import numpy as np
import pandas as pd
import pytest

from xairepro.common.claims import claim_row, claims_frame, invariant_row, not_applicable_row
from xairepro.common.errors import InputError
from xairepro.common.io import write_csv, write_json
from xairepro.common.stats import mean_above, wilcoxon_greater
from xairepro.lossgrad.tables import (
    _clean_name,
    _row,
    aggregate_svd,
    aggregate_sweeps,
    detection_accuracy,
    mnist_claims,
    svd_claims,
    svd_not_applicable,
)

N = 8  # images / excerpts: the Wilcoxon test can pass from 7 items on


# --------------------------------------------------------------------------- aggregate_sweeps


def _curve_rows(seed):
    # deliberately out of order: the aggregate sorts by variant, seed, method, replacement, order, k
    return pd.DataFrame([
        {"variant": "softmax10", "seed": seed, "method": "random", "replacement": "mean", "order": 1, "k": 3,
         "accuracy": 0.5},
        {"variant": "softmax10", "seed": seed, "method": "grad_orig", "replacement": "mean", "order": 1, "k": 0,
         "accuracy": 0.75},
        {"variant": "sigmoid2", "seed": seed, "method": "grad_orig", "replacement": "mean", "order": 0, "k": 3,
         "accuracy": 0.25},
    ])


def _sign_rows(seed, positive):
    # first appearance: random before abs_grad, k=3 before k=1 (groupby(sort=False) keeps that order)
    rows = []
    for method, k in (("random", 3), ("abs_grad", 1)):
        for sign in ("positive", "negative"):
            rows.append({"variant": "sigmoid2", "seed": seed, "method": method, "order": 1, "k": k,
                         "input_sign": sign, "grad_positive": positive, "grad_negative": 1, "grad_zero": 1})
    return pd.DataFrame(rows)


def _write_sweeps(tmp_path):
    curves, signs, metrics = [], [], []
    for seed, variant in ((1, "softmax10"), (0, "softmax10"), (0, "sigmoid2")):
        write_json(tmp_path / f"m_{variant}_{seed}.json",
                   {"variant": variant, "seed": seed, "test_accuracy": 0.5 + seed / 4, "test_loss": 1.0 - seed / 8,
                    "history": [{"epoch": e} for e in range(seed + 2)], "extra": "ignored"})
        metrics.append(tmp_path / f"m_{variant}_{seed}.json")
    for seed in (1, 0):
        write_csv(tmp_path / f"c{seed}.csv", _curve_rows(seed))
        write_csv(tmp_path / f"s{seed}.csv", _sign_rows(seed, positive=seed))
        curves.append(tmp_path / f"c{seed}.csv")
        signs.append(tmp_path / f"s{seed}.csv")
    return curves, signs, metrics


def test_aggregate_sweeps_sorts_the_curves_with_a_fresh_index(tmp_path):
    roar, _, _ = aggregate_sweeps(*_write_sweeps(tmp_path))
    expected = pd.concat([_curve_rows(0), _curve_rows(1)]).sort_values(
        ["variant", "seed", "method", "replacement", "order", "k"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(roar, expected)
    assert isinstance(roar.index, pd.RangeIndex)


def test_aggregate_sweeps_sums_signs_over_seeds_in_first_seen_order_with_six_digit_shares(tmp_path):
    _, table, _ = aggregate_sweeps(*_write_sweeps(tmp_path))
    # per (method, k): seed 1 gives 1+1+1 per sign row, seed 0 gives 0+1+1: sums 1, 2, 2 per row
    expected = pd.DataFrame({
        "variant": ["sigmoid2"] * 4, "method": ["random", "random", "abs_grad", "abs_grad"], "order": [1] * 4,
        "k": [3, 3, 1, 1], "input_sign": ["positive", "negative"] * 2,
        "grad_positive": [1] * 4, "grad_negative": [2] * 4, "grad_zero": [2] * 4,
        # totals per (variant, method, order, k): 2 rows x 5 = 10
        "grad_positive_share": [0.1] * 4, "grad_negative_share": [0.2] * 4, "grad_zero_share": [0.2] * 4,
    })
    pd.testing.assert_frame_equal(table, expected)


def test_aggregate_sweeps_rounds_shares_to_six_digits(tmp_path):
    # one sign row per condition with 1, 1, 1: every share is 1/3, kept as 0.333333
    rows = pd.DataFrame([{"variant": "v", "method": "m", "order": 1, "k": 1, "input_sign": "zero",
                          "grad_positive": 1, "grad_negative": 1, "grad_zero": 1}])
    write_csv(tmp_path / "s.csv", rows)
    curves, _, metrics = _write_sweeps(tmp_path)
    _, table, _ = aggregate_sweeps(curves, [tmp_path / "s.csv"], metrics)
    assert table[["grad_positive_share", "grad_negative_share", "grad_zero_share"]].iloc[0].tolist() == [
        0.333333] * 3


def test_aggregate_sweeps_tabulates_each_models_metrics_sorted(tmp_path):
    _, _, models = aggregate_sweeps(*_write_sweeps(tmp_path))
    expected = pd.DataFrame({"variant": ["sigmoid2", "softmax10", "softmax10"], "seed": [0, 0, 1],
                             "test_accuracy": [0.5, 0.5, 0.75], "test_loss": [1.0, 1.0, 0.875],
                             "epochs": [2, 2, 3]})
    pd.testing.assert_frame_equal(models, expected)


@pytest.mark.parametrize("which, column", [("curves", "accuracy"), ("signs", "input_sign")])
def test_aggregate_sweeps_names_a_missing_column(tmp_path, which, column):
    curves, signs, metrics = _write_sweeps(tmp_path)
    bad = tmp_path / "bad.csv"
    source = curves[0] if which == "curves" else signs[0]
    write_csv(bad, pd.read_csv(source, comment="#").drop(columns=[column]))
    args = ([bad], signs, metrics) if which == "curves" else (curves, [bad], metrics)
    with pytest.raises(InputError, match=rf"bad\.csv: missing columns \['{column}'\]"):
        aggregate_sweeps(*args)


# --------------------------------------------------------------------------- aggregate_svd


def _write_svd_tables(tmp_path):
    evals, roars = [], []
    for seed in (2, 1):
        write_csv(tmp_path / f"eval{seed}.csv", pd.DataFrame(
            [{"split": "valid", "auroc": 0.5 + seed / 8, "error": 0.25},
             {"split": "test", "auroc": 0.5, "error": 0.5}]))
        write_csv(tmp_path / f"roar{seed}.csv", pd.DataFrame(
            [{"seed": seed, "method": m, "replacement": "mean", "order": 1, "k": k, "auroc": k / 8, "error": seed / 4}
             for m, k in (("random", 5), ("grad_inp", 5), ("grad_inp", 0))]))
        evals.append(tmp_path / f"eval{seed}.csv")
        roars.append(tmp_path / f"roar{seed}.csv")
    return evals, roars


def test_aggregate_svd_puts_seed_first_with_a_fresh_index(tmp_path):
    evals, roars = _write_svd_tables(tmp_path)
    evaluation, roar = aggregate_svd(evals, roars, [2, 1])
    expected = pd.DataFrame({"seed": [2, 2, 1, 1], "split": ["valid", "test"] * 2,
                             "auroc": [0.75, 0.5, 0.625, 0.5], "error": [0.25, 0.5, 0.25, 0.5]})
    pd.testing.assert_frame_equal(evaluation, expected)
    expected_roar = pd.DataFrame({
        "seed": [1, 1, 1, 2, 2, 2], "method": ["grad_inp", "grad_inp", "random"] * 2, "replacement": ["mean"] * 6,
        "order": [1] * 6, "k": [0, 5, 5] * 2, "auroc": [0.0, 0.625, 0.625] * 2,
        "error": [0.25] * 3 + [0.5] * 3})
    pd.testing.assert_frame_equal(roar, expected_roar)


@pytest.mark.parametrize("which, column", [("eval", "error"), ("roar", "k")])
def test_aggregate_svd_names_a_missing_column(tmp_path, which, column):
    evals, roars = _write_svd_tables(tmp_path)
    bad = tmp_path / "bad.csv"
    source = evals[0] if which == "eval" else roars[0]
    write_csv(bad, pd.read_csv(source, comment="#").drop(columns=[column]))
    args = ([bad, evals[1]], roars) if which == "eval" else (evals, [bad, roars[1]])
    with pytest.raises(InputError, match=rf"bad\.csv: missing columns \['{column}'\]"):
        aggregate_svd(*args, [2, 1])


@pytest.mark.parametrize("n_eval, n_roar, n_seeds", [(1, 2, 2), (2, 1, 2), (2, 2, 1)])
def test_aggregate_svd_refuses_lists_of_different_lengths(tmp_path, n_eval, n_roar, n_seeds):
    evals, roars = _write_svd_tables(tmp_path)
    with pytest.raises(ValueError, match=rf"^{n_seeds} seeds but {n_eval} evaluations and {n_roar} occlusion tables$"):
        aggregate_svd(evals[:n_eval], roars[:n_roar], [2, 1][:n_seeds])


# --------------------------------------------------------------------------- _row, _clean_name


def test_row_returns_the_named_conditions_values_as_float64():
    items = {"conditions": np.array(["a|mean|1|0", "a|mean|1|5"]),
             "correct": np.array([[True, False], [False, True]])}
    row = _row(items, "a|mean|1|5", "correct")
    assert row.dtype == np.float64 and row.tolist() == [0.0, 1.0]
    with pytest.raises(KeyError, match=r"condition 'b\|mean\|1\|5' is not among the occlusion items"):
        _row(items, "b|mean|1|5", "correct")


def test_clean_name_is_the_first_condition_at_k0():
    items = {"conditions": np.array(["g|mean|1|10", "g|mean|0|0", "r|mean|1|0"])}
    assert _clean_name(items) == "g|mean|0|0"


def test_detection_accuracy_at_the_threshold_counts_as_negative():
    # a prediction equal to the threshold is not a detection; a label of 0.5 is not sung
    smooth, labels = np.array([0.5, 0.5, 0.6, 0.4]), np.array([0.0, 1.0, 0.5, 0.5])
    np.testing.assert_array_equal(detection_accuracy(smooth, labels, 0.5), [1.0, 0.0, 0.0, 1.0])
    assert detection_accuracy(smooth, labels, 0.5).dtype == np.float64


# --------------------------------------------------------------------------- mnist_claims

LEVELS = (3, 1)  # k_min = 1: the claims read k=1, never k=3
CONDITIONS = (("mean", 1), ("image_min", 1), ("image_max", 0))


def _mnist_inputs(variants, scenario):
    """Per-image items with distinct planted loss changes per condition, and the tables.

    ``scenario``: ``edge`` (both invariants exactly at their thresholds: they hold),
    ``broken`` (beyond them) or ``one_order`` (random ranking swept at ROAR=1 only)."""
    rng = np.random.default_rng(7)
    items, rows, models = {}, [], []
    for variant, seeds in variants:
        for seed in seeds:
            ref = 0.5 if models else 0.0  # the first model's clean accuracy is 0, the others' 0.5
            names, loss, correct = [], [], []
            clean_loss = rng.uniform(0.2, 0.9, N)
            clean_correct = np.arange(N) % 2 == 0  # half the images
            for method in ("grad_orig", "random"):
                pairs = CONDITIONS + ((("mean", 0),) if method == "random" and scenario != "one_order" else ())
                for replacement, order in pairs:
                    for k in (0, *LEVELS):
                        if k == 0:
                            l, c = clean_loss, clean_correct
                        else:
                            shift = -0.3 if method == "grad_orig" else 0.1
                            l = clean_loss + rng.normal(shift, 0.1, N) * (1 + k)
                            every = method == "grad_orig" or scenario == "broken"  # broken: the control passes too
                            c = np.ones(N, bool) if every else rng.random(N) < 0.4
                        names.append(f"{method}|{replacement}|{order}|{k}")
                        loss.append(l)
                        correct.append(c)
                        acc = 0.0  # what the claims never read
                        if k == 0:
                            acc = ref
                            if scenario == "edge" and (method, replacement, order) == ("random", "mean", 1) and not ref:
                                acc = 1e-6  # exactly 1e-6 from the clean accuracy
                            elif scenario == "broken" and method == "random":
                                acc = ref + 0.25
                        elif method == "random" and replacement == "mean":
                            if scenario == "edge":
                                acc = 0.05 if order == 1 else 0.0
                            else:  # gaps 0.125 at k=1 and 0.0625 at k=3
                                acc = 0.5 + (0.125 if k == 1 else 0.0625) * order
                        rows.append(dict(variant=variant, seed=seed, method=method, replacement=replacement,
                                         order=order, k=k, accuracy=acc, loss=float(l.mean())))
            items[(variant, seed)] = {"conditions": np.array(names), "loss": np.stack(loss),
                                      "correct": np.stack(correct), "control_correct": rng.random(N) < 0.2,
                                      "labels": np.array([0.0, 1.0, 1.0, 2.0, 1.0, 0.0, 1.0, 2.0])}  # as floats
            models.append({"variant": variant, "seed": seed, "test_accuracy": ref, "test_loss": 1.0})
    roar = pd.DataFrame(rows).sample(frac=1.0, random_state=3)  # row order must not matter
    if scenario == "one_order":  # the table has the random ranking at ROAR=1 only
        roar = roar[(roar.method != "random") | (roar.order == 1)]
    items = dict(reversed(list(items.items())))  # nor the order of the items
    return roar, pd.DataFrame(models), items


def _per_image(items, variant, fn):
    runs = [run for (v, _), run in sorted(items.items()) if v == variant]
    return np.mean([fn(run) for run in runs], axis=0)


def _change(items, variant, key, method, replacement, order, k=1):
    def one(run):
        names = list(run["conditions"])
        occluded = run[key][names.index(f"{method}|{replacement}|{order}|{k}")].astype(np.float64)
        clean = run[key][names.index(f"{method}|{replacement}|{order}|0")].astype(np.float64)
        return occluded - clean
    return _per_image(items, variant, one)


def _expected_mnist(items, variants, k0_gap, k0_holds, random_gap, floors):
    rows = [invariant_row("k=0 occlusion leaves accuracy unchanged (every method, replacement, order)",
                          "max |acc(k=0) - clean acc| (tables keep 6 digits)", k0_gap, "<= 1e-6", k0_holds,
                          digits=6)]
    if random_gap is not None:
        rows.append(invariant_row("random ranking: ROAR=1 and ROAR=0 agree within noise",
                                  "mean |acc(ROAR=1) - acc(ROAR=0)|", random_gap[0], "<= 0.05", random_gap[1],
                                  digits=6))
    for variant in variants:
        accurate = _per_image(items, variant, lambda run: run["correct"][0].astype(np.float64))
        control = _per_image(items, variant, lambda run: run["control_correct"].astype(np.float64))
        floor, name = floors
        rows.append(claim_row(f"{variant}: classifier is accurate before occlusion",
                              "clean test accuracy per image (mean over seeds), bootstrap over images",
                              f"99 % lower bound > {name}", mean_above(accurate, floor),
                              "same network, every layer re-initialised (randomised_copy)",
                              mean_above(control, floor), digits=6))
    for variant in variants:
        for replacement, order in CONDITIONS:
            text = f"grad_orig, ROAR={order}, {replacement}, k=1"
            rows.append(claim_row(
                f"{variant}: loss-gradient occlusion lowers the test loss ({text})",
                "loss(clean) - loss(occluded) per image (mean over seeds), Wilcoxon signed-rank over images",
                "one-sided p < 0.01",
                wilcoxon_greater(-_change(items, variant, "loss", "grad_orig", replacement, order)),
                f"random attribution (random ranking, ROAR={order}, {replacement}, k=1)",
                wilcoxon_greater(-_change(items, variant, "loss", "random", replacement, order)), digits=6))
    if "softmax10" in variants:
        rows.append(claim_row(
            "softmax10: loss-gradient occlusion raises accuracy (grad_orig, ROAR=1, mean, k=1)",
            "correct(occluded) - correct(clean) per image (mean over seeds), bootstrap over images",
            "99 % lower bound > 0", mean_above(_change(items, "softmax10", "correct", "grad_orig", "mean", 1), 0.0),
            "random attribution (random ranking, ROAR=1, mean, k=1)",
            mean_above(_change(items, "softmax10", "correct", "random", "mean", 1), 0.0), digits=6))
    return claims_frame(rows)


def test_mnist_claims_table_at_the_invariants_thresholds_demo():
    variants = [("softmax10", (0, 1)), ("sigmoid2", (0,))]
    roar, models, items = _mnist_inputs(variants, "edge")
    claims = mnist_claims(roar, models, items, "demo")
    expected = _expected_mnist(items, ["sigmoid2", "softmax10"], 1e-6, True, (0.05, True), (0.9, "0.9"))
    pd.testing.assert_frame_equal(claims, expected)
    # the planted truth decides: grad_orig lowers the loss, the random ranking does not
    assert claims.verdict.tolist()[2:4] == ["fail", "fail"]  # half the images correct: not above 0.9
    assert set(claims.verdict[4:10]) == {"pass"}
    assert claims.verdict.iloc[-1] == "pass"  # occluding by grad_orig makes every image correct


def test_mnist_claims_table_with_broken_invariants_at_paper_scale():
    variants = [("softmax10", (0, 1)), ("sigmoid2", (0,))]
    roar, models, items = _mnist_inputs(variants, "broken")
    claims = mnist_claims(roar, models, items, "paper")
    expected = _expected_mnist(items, ["sigmoid2", "softmax10"], 0.25, False, (0.09375, False), (0.98, "0.98"))
    pd.testing.assert_frame_equal(claims, expected)
    assert claims.verdict.iloc[-1] == "uninformative"  # the random ranking makes every image correct too


def test_mnist_claims_on_user_data_use_the_most_frequent_class_as_chance():
    # labels 0,1,1,2,1,0,1,2: class 1 holds 4 of 8 images, chance 0.5
    variants = [("sigmoid2", (1, 0))]
    roar, models, items = _mnist_inputs(variants, "one_order")
    claims = mnist_claims(roar, models, items, "demo", user_data=True)
    expected = _expected_mnist(items, ["sigmoid2"], 0.0, True, None,
                               (0.5, "chance (0.500, the most frequent test class)"))
    pd.testing.assert_frame_equal(claims, expected)


def test_mnist_claims_refuse_two_clean_accuracies_for_one_model():
    roar, models, items = _mnist_inputs([("sigmoid2", (0,))], "one_order")
    with pytest.raises(ValueError, match="non-unique"):  # a model twice in the metrics is an error
        mnist_claims(roar, pd.concat([models, models]), items, "demo")


def test_mnist_claims_without_user_data_by_default():
    variants = [("sigmoid2", (0,))]
    roar, models, items = _mnist_inputs(variants, "one_order")
    claims = mnist_claims(roar, models, items, "paper")
    assert claims.threshold[1] == "99 % lower bound > 0.98"


# --------------------------------------------------------------------------- svd_claims

SVD_LEVELS = (6, 1, 4)  # k_min = 1; the |g| claim averages k = 1, 4, 6
SVD_METHODS = ("random", "abs_grad", "grad_inp", "abs_grad@randomised", "grad_inp@randomised")


def _svd_inputs(positive_share, gap, n=20):
    rng = np.random.default_rng(11)
    labels = (np.arange(n) < positive_share * n).astype(np.float64)
    smooth = np.where(rng.random(n) < 0.9, labels, 1 - labels) * 0.8 + 0.1
    predictions = {"test_labels": labels, "test_smooth": smooth, "threshold": np.array(0.5),
                   "control_test_smooth": rng.random(n // 2), "control_test_frames": np.arange(0, n, 2),
                   "control_threshold": np.array(0.3)}
    names, loss, margin = [], [], []
    clean_loss, clean_margin = rng.uniform(0.1, 0.6, N), rng.normal(0.2, 0.1, N)
    shifts = {"random": (0.02, 0.0), "abs_grad": (0.4, 0.0), "grad_inp": (-0.2, 0.1),
              "abs_grad@randomised": (0.1, 0.0), "grad_inp@randomised": (0.01, -0.01)}
    for method in SVD_METHODS:
        for k in (0, *SVD_LEVELS):
            names.append(f"{method}|mean|1|{k}")
            if k == 0:
                loss.append(clean_loss)
                margin.append(clean_margin)
            else:
                dl, dm = shifts[method]
                loss.append(clean_loss + rng.normal(dl, 0.05, N) * (k + 1) / 2)
                margin.append(clean_margin + rng.normal(dm, 0.05, N) * (k + 1) / 2)
    items = {"conditions": np.array(names), "loss": np.stack(loss), "margin": np.stack(margin)}
    roar = pd.DataFrame([{"method": "random", "replacement": "mean", "order": 1, "k": k,
                          "max_abs_diff_clean": gap if k == 0 else 0.5} for k in (4, 0, 1, 6)])
    return predictions, roar, items


def _svd_change(items, key, method, k=1):
    names = list(items["conditions"])
    return items[key][names.index(f"{method}|mean|1|{k}")] - items[key][names.index("random|mean|1|0")]


def _expected_svd(predictions, items, min_accuracy, frame_step, gap, holds):
    labels = predictions["test_labels"]
    accuracy = ((predictions["test_smooth"] > 0.5) == (labels > 0.5))[::frame_step].astype(np.float64)
    control = (predictions["control_test_smooth"] > 0.3) == (labels[::2] > 0.5)
    randomised = "randomised network's loss gradient"

    def curve(method):
        return np.mean([_svd_change(items, "loss", method, k) for k in (1, 4, 6)], axis=0)

    rows = [
        claim_row("svd: the detector finds the singing voice before occlusion",
                  f"test frame accuracy (median-filtered, every {frame_step}th frame), bootstrap over frames",
                  f"99 % lower bound > {min_accuracy} (>= the majority class)",
                  mean_above(accuracy, min_accuracy),
                  "same network, every layer re-initialised (randomised_copy), threshold tuned on validation",
                  mean_above(control.astype(np.float64), min_accuracy), digits=6),
        invariant_row("svd: k=0 occlusion reproduces the clean predictions (every method, replacement, order)",
                      "max |p(k=0) - p(clean)|", gap, "<= 1e-6", holds, digits=6),
        claim_row("svd: occluding the top g*x bins improves the test loss (grad_inp, ROAR=1, mean, k=1)",
                  "loss(clean) - loss(occluded) per test excerpt, Wilcoxon signed-rank over excerpts",
                  "one-sided p < 0.01", wilcoxon_greater(-_svd_change(items, "loss", "grad_inp")),
                  f"g*x of the {randomised} (same occlusion)",
                  wilcoxon_greater(-_svd_change(items, "loss", "grad_inp@randomised")), digits=6),
        claim_row("svd: occluding the top g*x bins moves the detections towards the truth "
                  "(grad_inp, ROAR=1, mean, k=1)",
                  "margin(occluded) - margin(clean) per test excerpt (smoothed prediction minus the clean "
                  "threshold, signed by the label), Wilcoxon signed-rank over excerpts", "one-sided p < 0.01",
                  wilcoxon_greater(_svd_change(items, "margin", "grad_inp")),
                  f"g*x of the {randomised} (same occlusion)",
                  wilcoxon_greater(_svd_change(items, "margin", "grad_inp@randomised")), digits=6),
        claim_row("svd: removing the top |g| bins raises the loss more than the randomised network's top |g| bins "
                  "(ROAR=1, mean, all k)",
                  "loss(abs_grad) - loss(abs_grad of the randomised network), mean over k, per test excerpt, "
                  "Wilcoxon signed-rank", "one-sided p < 0.01",
                  wilcoxon_greater(curve("abs_grad"), curve("abs_grad@randomised")),
                  "random attribution in place of the trained |g| (random ranking, same occlusion)",
                  wilcoxon_greater(curve("random"), curve("abs_grad@randomised")), digits=6),
    ]
    return claims_frame(rows)


def test_svd_claims_table_demo_with_the_invariant_at_its_threshold():
    # 40 % sung: the majority class (0.6) is under the demo's 0.75
    predictions, roar, items = _svd_inputs(0.4, 1e-6)
    claims = svd_claims(pd.DataFrame(), predictions, roar, items, "demo")
    pd.testing.assert_frame_equal(claims, _expected_svd(predictions, items, 0.75, 1, 1e-6, True))
    assert claims.verdict.tolist()[1:] == ["holds", "pass", "pass", "pass"]


def test_svd_claims_table_paper_with_a_broken_invariant():
    # 40 % sung: the paper's floor 0.9 is above the majority class
    predictions, roar, items = _svd_inputs(0.4, 2e-6)
    claims = svd_claims(pd.DataFrame(), predictions, roar, items, "paper", frame_step=3)
    pd.testing.assert_frame_equal(claims, _expected_svd(predictions, items, 0.9, 3, 2e-6, False))


def test_svd_claims_threshold_is_the_majority_class_to_three_digits_when_above_the_floor():
    # 3 of 16 frames sung: majority 13/16 = 0.8125, above the demo's 0.75, written 0.812
    predictions, roar, items = _svd_inputs(3 / 16, 0.0, n=16)
    claims = svd_claims(pd.DataFrame(), predictions, roar, items, "demo", frame_step=2)
    pd.testing.assert_frame_equal(claims, _expected_svd(predictions, items, 0.812, 2, 0.0, True))


def test_svd_not_applicable_lists_the_four_claims_with_the_reason():
    reason = "a user-data run takes images only; the singing-voice half needs labelled audio and did not run"
    expected = claims_frame([
        not_applicable_row("svd: the detector finds the singing voice before occlusion", "test frame accuracy",
                           "-", "same network, every layer re-initialised", reason),
        not_applicable_row("svd: occluding the top g*x bins improves the test loss",
                           "loss(clean) - loss(occluded) per excerpt", "-",
                           "g*x of the randomised network's loss gradient", reason),
        not_applicable_row("svd: occluding the top g*x bins moves the detections towards the truth",
                           "margin(occluded) - margin(clean) per excerpt", "-",
                           "g*x of the randomised network's loss gradient", reason),
        not_applicable_row("svd: removing the top |g| bins raises the loss more than the randomised network's "
                           "top |g| bins", "loss(abs_grad) - loss(abs_grad of the randomised network)", "-",
                           "random attribution", reason),
    ])
    pd.testing.assert_frame_equal(svd_not_applicable(), expected)
