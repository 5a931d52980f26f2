"""Tables and claims of the interactive study.

The paper's numbers are user-study results, which computation cannot regenerate; the
computable claims are checked instead: classifiers beat their class baseline, heatmap mass
falls on the planted region more than its area share (demo data only), the guided methods
differ from the plain gradient (their ReLU hooks are active), the latent logistic
regressions beat a constant, and moving along a learned latent direction raises that
attribute's classifier score monotonically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

CLASSIFIER_COLUMNS = ("classifier", "n_train", "n_valid", "valid_acc", "baseline_acc", "valid_bce", "baseline_bce")
LATENT_COLUMNS = ("attr", "valid_acc", "baseline_acc", "valid_bce", "baseline_bce", "baseline_bce_original")


def summarise_records(records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """One row per training record (the JSON a trainer writes), the named columns only."""
    return pd.DataFrame([{c: r[c] for c in columns} for r in records])


def _row(claim, metric, value, expected, tolerance, ok) -> dict:
    return {"claim": claim, "metric": metric, "value": float(value), "expected": expected,
            "tolerance": tolerance, "pass": bool(ok)}


def claims(classifiers: pd.DataFrame, heatmaps: pd.DataFrame, latent: pd.DataFrame, generative: pd.DataFrame,
           latent_record: Mapping[str, Any], cfg: Mapping[str, Any]) -> pd.DataFrame:
    """Every claim row (claim, metric, value, expected, tolerance, pass).

    cfg: ``min_acc_gain`` (classifier accuracy above baseline), ``mass_methods`` (heatmap
    methods whose planted-region mass must exceed the area share), ``max_guided_corr``,
    ``min_rising_share`` and ``min_nonfalling_share`` (latent moves: the share of images
    whose own score ends higher than it starts, and of steps where it does not fall by more
    than ``mono_tol`` logits), ``min_latent_acc_gain``.
    """
    rows = []
    gain = cfg["min_acc_gain"]
    for r in classifiers.itertuples():
        rows.append(_row(f"classifier {r.classifier} beats the class baseline", "valid_acc - baseline_acc",
                         r.valid_acc - r.baseline_acc, f">= {gain}", 0.0, r.valid_acc - r.baseline_acc >= gain))
    if heatmaps["region_area"].notna().any():
        for r in heatmaps[heatmaps.method.isin(cfg["mass_methods"])].itertuples():
            rows.append(_row(f"{r.method} heatmap mass of {r.classifier} falls on the planted region",
                             "region mass / region area", r.mass_to_area, "> 1", 0.0, r.mass_to_area > 1))
    for r in heatmaps[heatmaps.method.isin(["guided_backprop", "guided_gradcam"])].itertuples():
        rows.append(_row(f"{r.method} of {r.classifier} differs from the plain gradient (ReLU hooks active)",
                         "mean Pearson r with the gradient", r.corr_with_gradient, f"< {cfg['max_guided_corr']}", 0.0,
                         r.corr_with_gradient < cfg["max_guided_corr"]))
    lgain = cfg["min_latent_acc_gain"]
    for r in latent.itertuples():
        rows.append(_row(f"latent logistic regression {r.attr} beats the constant (BCE)", "baseline_bce - valid_bce",
                         r.baseline_bce - r.valid_bce, "> 0", 0.0, r.valid_bce < r.baseline_bce))
        rows.append(_row(f"latent logistic regression {r.attr} beats the constant (accuracy)",
                         "valid_acc - baseline_acc", r.valid_acc - r.baseline_acc, f">= {lgain}", 0.0,
                         r.valid_acc - r.baseline_acc >= lgain))
    rise, nonfall, tol = cfg["min_rising_share"], cfg["min_nonfalling_share"], cfg["mono_tol"]
    for r in generative.itertuples():
        rows.append(_row(f"moving along the latent {r.direction} direction raises the {r.direction} score",
                         "share of images whose own logit is higher at +ampl than at -ampl", r.rising_share,
                         f">= {rise}", 0.0, r.rising_share >= rise))
        rows.append(_row(f"moving along the latent {r.direction} direction raises the {r.direction} score "
                         "monotonically", f"share of steps where the own logit falls by at most {tol}",
                         r.nonfalling_share, f">= {nonfall}", tol, r.nonfalling_share >= nonfall))
    dev = latent_record["original_relative_deviation_mean"]
    rows.append(_row("phase 1 truncation uses w_avg + psi (w - w_avg); the original's w_avg + psi (w + w_avg) "
                     "would move w (recorded deviation)", "mean ||w_original - w|| / ||w||", dev, "> 0 when w_avg != 0",
                     0.0, dev > 0))
    return pd.DataFrame(rows)
