"""Tables of the ``lossgrad`` study: aggregated sweeps and the claims (no torch needed)."""

from __future__ import annotations

import pandas as pd

from xairepro.common.claims import Claims
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


def mnist_claims(roar: pd.DataFrame, models: pd.DataFrame, scale: str) -> pd.DataFrame:
    """The claims table: claim, metric, value, expected, tolerance, pass.

    The paper's claim is qualitative: occluding by the loss gradient can make the occluded
    test set score *better* than the clean one. A first-order expansion says when:
    L(x') - L(x) ~ g . (x' - x), so replacing pixels where g and (value - x) have opposite
    signs lowers the loss. With ``grad_orig`` that is ROAR=1 (g > 0 first) with a value
    below the pixels (``mean``, ``image_min``) and ROAR=0 (g < 0 first) with one above
    (``image_max``). Those predictions are checked at the smallest occlusion level (10 % at
    paper scale) on the mean test loss and accuracy over seeds, with random occlusion as
    the control; plus the invariants (k=0 is clean, random ignores order).
    """
    claims = Claims(digits=6)
    clean = roar[roar.k == 0]
    k_min = int(roar.loc[roar.k > 0, "k"].min())

    keys = ["variant", "seed"]
    reference = models.set_index(keys)["test_accuracy"]
    k0 = clean.set_index(keys)["accuracy"]
    k0_gap = float((k0 - reference.reindex(k0.index)).abs().max())
    claims.add("k=0 occlusion leaves accuracy unchanged (every method, replacement, order)",
               "max |acc(k=0) - clean acc|", k0_gap, "0", 1e-9, k0_gap <= 1e-9)

    min_clean = 0.9 if scale == "demo" else 0.98
    for variant, group in models.groupby("variant"):
        acc = group["test_accuracy"].mean()
        claims.add(f"{variant}: classifier is accurate before occlusion", "mean clean test accuracy", acc,
                   f">= {min_clean}", 0, acc >= min_clean)

    def change(metric, method, replacement, order):
        sel = roar[(roar.method == method) & (roar.replacement == replacement) & (roar.order == order)]
        at_k = sel[sel.k == k_min].groupby("variant")[metric].mean()
        at_0 = sel[sel.k == 0].groupby("variant")[metric].mean()
        return (at_k - at_0).dropna()

    for replacement, order in (("mean", 1), ("image_min", 1), ("image_max", 0)):
        condition = f"grad_orig, ROAR={order}, {replacement}, k={k_min}"
        for variant, value in change("loss", "grad_orig", replacement, order).items():
            claims.add(f"{variant}: loss-gradient occlusion lowers the test loss ({condition})",
                       "loss(occluded) - loss(clean)", value, "< 0", 0, value < 0)
        for variant, value in change("accuracy", "grad_orig", replacement, order).items():
            claims.add(f"{variant}: loss-gradient occlusion does not lower accuracy ({condition})",
                       "acc(occluded) - acc(clean)", value, ">= 0", 0.01, value >= -0.01)
    for variant, value in change("loss", "random", "mean", 1).items():
        claims.add(f"{variant}: random occlusion raises the test loss (control, mean, k={k_min})",
                   "loss(occluded) - loss(clean)", value, "> 0", 0, value > 0)
    random = roar[(roar.method == "random") & (roar.k > 0)]
    by_order = random.groupby(["variant", "replacement", "k", "order"])["accuracy"].mean().unstack("order")
    if {0, 1} <= set(by_order.columns):
        gap = float((by_order[1] - by_order[0]).abs().mean())
        claims.add("random ranking: ROAR=1 and ROAR=0 agree within noise", "mean |acc(ROAR=1) - acc(ROAR=0)|",
                   gap, "0", 0.05, gap <= 0.05)
    return claims.frame()


def svd_claims(evaluation: pd.DataFrame, roar: pd.DataFrame, scale: str) -> pd.DataFrame:
    """Claims of the singing-voice-detection half: claim, metric, value, expected, tolerance, pass.

    * the detector works before occlusion (test AUROC; demo: the planted voice is learnable);
    * ``k=0`` reproduces the clean predictions, for every condition (up to float noise from
      a different batch composition);
    * the first-order prediction of the MNIST half, carried over: removing the bins with the
      most positive loss gradient (``grad_orig``, ROAR=1) by the mean lowers the test loss
      at the smallest level, and more than random occlusion of as many bins does;
    * the anomaly: removing the top ``grad_inp`` bins (g * x) lowers both the test loss and
      the error at the smallest level, i.e. the occluded excerpts score *better*;
    * the sanity check of a ranking: removing the top |g| bins hurts AUROC more than
      removing random ones (mean over occlusion levels).
    """
    claims = Claims(digits=6)

    test = evaluation.set_index("split").loc["test"]
    min_auroc = 0.8 if scale == "demo" else 0.9
    claims.add("svd: the detector finds the singing voice before occlusion", "test AUROC (median-filtered)",
               test["auroc"], f">= {min_auroc}", 0, test["auroc"] >= min_auroc)
    gap = float(roar.loc[roar.k == 0, "max_abs_diff_clean"].max())
    claims.add("svd: k=0 occlusion reproduces the clean predictions (every method, replacement, order)",
               "max |p(k=0) - p(clean)|", gap, "0", 1e-6, gap <= 1e-6)

    k_min = int(roar.loc[roar.k > 0, "k"].min())
    mean_roar = roar[(roar.replacement == "mean") & (roar.order == 1)]

    def change(metric, method):
        at = mean_roar[mean_roar.method == method].set_index("k")[metric]
        return float(at.loc[k_min] - at.loc[0]) if {0, k_min} <= set(at.index) else None

    orig, rand = change("loss", "grad_orig"), change("loss", "random")
    if orig is not None:
        claims.add(f"svd: loss-gradient occlusion lowers the test loss (grad_orig, ROAR=1, mean, k={k_min})",
                   "loss(occluded) - loss(clean)", orig, "< 0", 0, orig < 0)
    if orig is not None and rand is not None:
        claims.add(f"svd: ... by more than random occlusion of as many bins (mean, k={k_min})",
                   "loss change(grad_orig) - loss change(random)", orig - rand, "< 0", 0, orig - rand < 0)
    for metric in ("loss", "error"):
        value = change(metric, "grad_inp")
        if value is not None:
            claims.add(f"svd: occluding the top g*x bins improves the test {metric} "
                       f"(grad_inp, ROAR=1, mean, k={k_min})",
                       f"{metric}(occluded) - {metric}(clean)", value, "< 0", 0, value < 0)
    curve = mean_roar[mean_roar.k > 0].groupby("method")["auroc"].mean()
    if {"abs_grad", "random"} <= set(curve.index):
        value = float(curve["random"] - curve["abs_grad"])
        claims.add("svd: removing the top |g| bins lowers AUROC more than random bins (ROAR=1, mean, all k)",
                   "mean AUROC(random) - mean AUROC(abs_grad)", value, "> 0", 0, value > 0)
    return claims.frame()
