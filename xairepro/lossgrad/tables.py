"""Tables of the ``lossgrad`` study: aggregated sweeps and the claims (no torch needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from xairepro.common.claims import Claims
from xairepro.common.stats import mean_above, wilcoxon_greater
from xairepro.common.io import read_csv, read_json
from xairepro.metrics.curves import SIGNS


def aggregate_sweeps(curve_paths, sign_paths, metric_paths) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Concatenate per-model sweeps; sum sign counts over seeds; tabulate clean metrics.

    Returns ``(roar, sign_table, models)``. The sign table has one row per (variant,
    method, order, k, input_sign) with counts and row fractions over all seeds and images.
    """
    roar = pd.concat([read_csv(p, required=("variant", "seed", "method", "k", "accuracy")) for p in curve_paths],
                     ignore_index=True)
    roar = roar.sort_values(["variant", "seed", "method", "replacement", "order", "k"], ignore_index=True)
    signs = pd.concat([read_csv(p, required=("variant", "method", "order", "k", "input_sign")) for p in sign_paths],
                      ignore_index=True)
    grad_cols = [f"grad_{s}" for s in SIGNS]
    table = signs.groupby(["variant", "method", "order", "k", "input_sign"], sort=False)[grad_cols].sum().reset_index()
    totals = table.groupby(["variant", "method", "order", "k"])[grad_cols].transform("sum").sum(axis=1)
    for col in grad_cols:
        table[f"{col}_share"] = (table[col] / totals).round(6)
    records = [read_json(p) for p in metric_paths]
    models = pd.DataFrame([{"variant": r["variant"], "seed": r["seed"], "test_accuracy": r["test_accuracy"],
                            "test_loss": r["test_loss"], "epochs": len(r["history"])} for r in records])
    return roar, table, models.sort_values(["variant", "seed"], ignore_index=True)


def aggregate_svd(eval_paths, roar_paths, seeds) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every SVDNet's clean evaluation and occlusion table in one each, ``(evaluation, roar)``.

    ``eval_paths`` and ``roar_paths`` are per model, in the order of ``seeds``; the
    evaluation gains a ``seed`` column (the occlusion tables carry theirs). The original
    prints each model's metrics (``run_all_ROAR_predict.py`` calls ``eval.py`` per model);
    averaging is left to the figure.
    """
    if not len(eval_paths) == len(roar_paths) == len(seeds):
        raise ValueError(f"{len(seeds)} seeds but {len(eval_paths)} evaluations and {len(roar_paths)} occlusion tables")
    evaluation = pd.concat([read_csv(p, required=("split", "auroc", "error")).assign(seed=s)
                            for p, s in zip(eval_paths, seeds)], ignore_index=True)
    evaluation = evaluation[["seed", *(c for c in evaluation.columns if c != "seed")]]
    roar = pd.concat([read_csv(p, required=("seed", "method", "replacement", "order", "k", "auroc", "error"))
                      for p in roar_paths], ignore_index=True)
    return evaluation, roar.sort_values(["seed", "method", "replacement", "order", "k"], ignore_index=True)


# Items of one condition, ``method|replacement|order|k``, as the occlusion steps name them.
def condition(method: str, replacement: str, order: int, k: int) -> str:
    return f"{method}|{replacement}|{order}|{k}"


def _row(items: dict[str, np.ndarray], name: str, key: str) -> np.ndarray:
    """``items[key]`` of one condition ``(N,)`` as float64 (KeyError names what is missing)."""
    names = [str(c) for c in items["conditions"]]
    if name not in names:
        raise KeyError(f"condition {name!r} is not among the occlusion items")
    return np.asarray(items[key][names.index(name)], dtype=np.float64)


def _clean_name(items: dict[str, np.ndarray]) -> str:
    """A ``k = 0`` condition (every one of them is the clean test set)."""
    return next(str(c) for c in items["conditions"] if str(c).endswith("|0"))


MNIST_LOSS_CONDITIONS = (("mean", 1), ("image_min", 1), ("image_max", 0))


def mnist_claims(roar: pd.DataFrame, models: pd.DataFrame, items: dict[tuple[str, int], dict[str, np.ndarray]],
                 scale: str, user_data: bool = False) -> pd.DataFrame:
    """The MNIST claims (decided per test image) and invariants, columns of :class:`Claims`.

    ``items`` maps ``(variant, seed)`` to the per-image arrays of
    :func:`xairepro.lossgrad.steps.occlusion_sweep`. Every statistic is computed per test
    image (its value averaged over the seeds of a head, so the items are the images) and
    decided over images at one-sided 1 %: loss changes by a Wilcoxon signed-rank test (most
    images change a little, a few a lot: the test counts the many), accuracies by a
    percentile bootstrap bound of the mean.

    The paper's claim is qualitative: occluding by the loss gradient can make the occluded
    test set score *better* than the clean one. A first-order expansion says when:
    L(x') - L(x) ~ g . (x' - x), so replacing pixels where g and (value - x) have opposite
    signs lowers the loss. With ``grad_orig`` that is ROAR=1 (g > 0 first) with a value
    below the pixels (``mean``, ``image_min``) and ROAR=0 (g < 0 first) with one above
    (``image_max``). Those predictions are checked at the smallest occlusion level (10 % at
    paper scale). Their negative control is a random attribution (the sweep's ``random``
    ranking: as many pixels, same replacement and order), which carries no information on
    the loss and must not lower it. The accuracy claim's control is the same network with
    every layer re-initialised (:func:`~xairepro.common.controls.randomised_copy`).
    Invariants: k=0 is clean; a random ranking ignores the order.

    On a user's own images (``user_data``) no MNIST accuracy is expected: the accuracy claim's
    threshold is chance, the share of the head's most frequent test class.
    """
    claims = Claims(digits=6)
    clean = roar[roar.k == 0]
    k_min = int(roar.loc[roar.k > 0, "k"].min())

    keys = ["variant", "seed"]
    reference = models.set_index(keys)["test_accuracy"]
    k0 = clean.set_index(keys)["accuracy"]
    k0_gap = float((k0 - reference.reindex(k0.index)).abs().max())
    claims.invariant("k=0 occlusion leaves accuracy unchanged (every method, replacement, order)",
                     "max |acc(k=0) - clean acc| (tables keep 6 digits)", k0_gap, "<= 1e-6", k0_gap <= 1e-6)
    random = roar[(roar.method == "random") & (roar.k > 0)]
    by_order = random.groupby(["variant", "replacement", "k", "order"])["accuracy"].mean().unstack("order")
    if {0, 1} <= set(by_order.columns):
        gap = float((by_order[1] - by_order[0]).abs().mean())
        claims.invariant("random ranking: ROAR=1 and ROAR=0 agree within noise", "mean |acc(ROAR=1) - acc(ROAR=0)|",
                         gap, "<= 0.05", gap <= 0.05)

    def per_image(variant, fn):
        """``fn(items of one seed)`` ``(N,)``, averaged over the head's seeds: ``(N,)``."""
        runs = [run for (v, _), run in sorted(items.items()) if v == variant]
        return np.mean([fn(run) for run in runs], axis=0)

    def change(variant, key, method, replacement, order):
        def one(run):
            return _row(run, condition(method, replacement, order, k_min), key) - _row(run, _clean_name(run), key)
        return per_image(variant, one)

    variants = sorted({v for v, _ in items})
    min_clean = 0.9 if scale == "demo" else 0.98
    for variant in variants:
        accurate = per_image(variant, lambda run: _row(run, _clean_name(run), "correct"))
        control = per_image(variant, lambda run: np.asarray(run["control_correct"], dtype=np.float64))
        floor, name = min_clean, f"{min_clean}"
        if user_data:
            labels = next(run["labels"] for (v, _), run in sorted(items.items()) if v == variant)
            floor = float(np.bincount(np.asarray(labels, dtype=np.int64)).max() / len(labels))
            name = f"chance ({floor:.3f}, the most frequent test class)"
        claims.claim(f"{variant}: classifier is accurate before occlusion",
                     "clean test accuracy per image (mean over seeds), bootstrap over images",
                     f"99 % lower bound > {name}", mean_above(accurate, floor),
                     "same network, every layer re-initialised (randomised_copy)", mean_above(control, floor))

    for variant in variants:
        for replacement, order in MNIST_LOSS_CONDITIONS:
            condition_text = f"grad_orig, ROAR={order}, {replacement}, k={k_min}"
            claims.claim(f"{variant}: loss-gradient occlusion lowers the test loss ({condition_text})",
                         "loss(clean) - loss(occluded) per image (mean over seeds), Wilcoxon signed-rank over images",
                         "one-sided p < 0.01",
                         wilcoxon_greater(-change(variant, "loss", "grad_orig", replacement, order)),
                         f"random attribution (random ranking, ROAR={order}, {replacement}, k={k_min})",
                         wilcoxon_greater(-change(variant, "loss", "random", replacement, order)))
    if "softmax10" in variants:
        claims.claim(f"softmax10: loss-gradient occlusion raises accuracy (grad_orig, ROAR=1, mean, k={k_min})",
                     "correct(occluded) - correct(clean) per image (mean over seeds), bootstrap over images",
                     "99 % lower bound > 0", mean_above(change("softmax10", "correct", "grad_orig", "mean", 1), 0.0),
                     f"random attribution (random ranking, ROAR=1, mean, k={k_min})",
                     mean_above(change("softmax10", "correct", "random", "mean", 1), 0.0))
    return claims.frame()


def detection_accuracy(smooth: np.ndarray, labels: np.ndarray, threshold: float, step: int = 1) -> np.ndarray:
    """Per frame, 1.0 where the smoothed prediction ``> threshold`` matches the label; every
    ``step``-th frame (neighbouring frames share most of their excerpt)."""
    correct = (np.asarray(smooth) > threshold) == (np.asarray(labels) > 0.5)
    return correct[::step].astype(np.float64)


def svd_claims(evaluation: pd.DataFrame, predictions: dict[str, np.ndarray], roar: pd.DataFrame,
               items: dict[str, np.ndarray], scale: str, frame_step: int = 1) -> pd.DataFrame:
    """Claims of the singing-voice-detection half, decided per test excerpt.

    ``predictions`` are :func:`xairepro.lossgrad.steps.evaluate_svd`'s arrays, ``items``
    :func:`xairepro.lossgrad.steps.svd_occlusion`'s per-excerpt ones. Every statistic is
    computed per test excerpt (every ``frame_step``-th frame: the occlusion's evaluated
    frames) and decided over excerpts at one-sided 1 %.

    * the detector works before occlusion: frame accuracy above 0.75 (paper 0.9) and above
      the majority class, bootstrap bound (control: the network with every layer
      re-initialised, its threshold tuned on validation alike);
    * ``k=0`` reproduces the clean predictions (an invariant);
    * the anomaly: removing the top ``grad_inp`` bins (g * x) lowers the test loss and moves
      the smoothed detections towards the correct side of the clean threshold (the error's
      continuous form; both Wilcoxon), i.e. the occluded excerpts score *better*; control: the
      same ranking from the loss gradient of the randomised network, occluding the trained
      network's inputs (``grad_inp@randomised``);
    * removing the top |g| bins raises the loss more than removing the top |g| bins of the
      randomised network (Wilcoxon, loss averaged over the occlusion levels): |g| depends on
      the learned weights. (Against *random* bins the randomised network's |g| wins too:
      gradients of a random network still follow the input, as Adebayo et al. 2018 found.)
      Control: a random ranking in place of the trained |g|.

    The MNIST half's first-order prediction for ``grad_orig`` (ROAR=1, mean) is not a claim
    here: on the demo excerpts it lowers the mean loss at some seeds through a few excerpts
    while most excerpts' loss rises (docs/lossgrad.md).
    """
    claims = Claims(digits=6)
    labels = np.asarray(predictions["test_labels"])
    majority = float(max(labels.mean(), 1 - labels.mean()))
    min_accuracy = max(0.75 if scale == "demo" else 0.9, round(majority, 3))
    claims.claim("svd: the detector finds the singing voice before occlusion",
                 f"test frame accuracy (median-filtered, every {frame_step}th frame), bootstrap over frames",
                 f"99 % lower bound > {min_accuracy} (>= the majority class)",
                 mean_above(detection_accuracy(predictions["test_smooth"], labels, float(predictions["threshold"]),
                                               frame_step), min_accuracy),
                 "same network, every layer re-initialised (randomised_copy), threshold tuned on validation",
                 mean_above(detection_accuracy(predictions["control_test_smooth"],
                                               labels[predictions["control_test_frames"]],
                                               float(predictions["control_threshold"])), min_accuracy))
    gap = float(roar.loc[roar.k == 0, "max_abs_diff_clean"].max())
    claims.invariant("svd: k=0 occlusion reproduces the clean predictions (every method, replacement, order)",
                     "max |p(k=0) - p(clean)|", gap, "<= 1e-6", gap <= 1e-6)

    k_min = int(roar.loc[roar.k > 0, "k"].min())
    levels = sorted(int(k) for k in roar.k.unique() if k > 0)
    clean = condition("random", "mean", 1, 0)

    def change(key, method, k=k_min):
        return _row(items, condition(method, "mean", 1, k), key) - _row(items, clean, key)

    randomised = "randomised network's loss gradient"
    per = "per test excerpt"
    claims.claim(f"svd: occluding the top g*x bins improves the test loss (grad_inp, ROAR=1, mean, k={k_min})",
                 f"loss(clean) - loss(occluded) {per}, Wilcoxon signed-rank over excerpts", "one-sided p < 0.01",
                 wilcoxon_greater(-change("loss", "grad_inp")),
                 f"g*x of the {randomised} (same occlusion)", wilcoxon_greater(-change("loss", "grad_inp@randomised")))
    claims.claim(f"svd: occluding the top g*x bins moves the detections towards the truth "
                 f"(grad_inp, ROAR=1, mean, k={k_min})",
                 f"margin(occluded) - margin(clean) {per} (smoothed prediction minus the clean threshold, "
                 f"signed by the label), Wilcoxon signed-rank over excerpts", "one-sided p < 0.01",
                 wilcoxon_greater(change("margin", "grad_inp")),
                 f"g*x of the {randomised} (same occlusion)", wilcoxon_greater(change("margin", "grad_inp@randomised")))

    def curve(method):
        return np.mean([change("loss", method, k) for k in levels], axis=0)

    claims.claim("svd: removing the top |g| bins raises the loss more than the randomised network's top |g| bins "
                 "(ROAR=1, mean, all k)",
                 f"loss(abs_grad) - loss(abs_grad of the randomised network), mean over k, {per}, Wilcoxon signed-rank",
                 "one-sided p < 0.01",
                 wilcoxon_greater(curve("abs_grad"), curve("abs_grad@randomised")),
                 "random attribution in place of the trained |g| (random ranking, same occlusion)",
                 wilcoxon_greater(curve("random"), curve("abs_grad@randomised")))
    return claims.frame()


def svd_not_applicable() -> pd.DataFrame:
    """The singing-voice claims on a user's own images: ``not applicable`` (that half needs
    audio with sung segments marked, the demo's planted truth or Jamendo's labels, and does
    not run on an array of images)."""
    claims = Claims(digits=6)
    reason = "a user-data run takes images only; the singing-voice half needs labelled audio and did not run"
    for claim, statistic, control in (
        ("svd: the detector finds the singing voice before occlusion", "test frame accuracy",
         "same network, every layer re-initialised"),
        ("svd: occluding the top g*x bins improves the test loss", "loss(clean) - loss(occluded) per excerpt",
         "g*x of the randomised network's loss gradient"),
        ("svd: occluding the top g*x bins moves the detections towards the truth",
         "margin(occluded) - margin(clean) per excerpt", "g*x of the randomised network's loss gradient"),
        ("svd: removing the top |g| bins raises the loss more than the randomised network's top |g| bins",
         "loss(abs_grad) - loss(abs_grad of the randomised network)", "random attribution"),
    ):
        claims.not_applicable(claim, statistic, "-", control, reason)
    return claims.frame()
