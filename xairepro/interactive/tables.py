"""Tables and claims of the interactive study.

The paper's numbers are user-study results, which computation cannot regenerate; the
computable claims are checked instead: classifiers beat their class baseline, heatmap mass
falls on the planted region more than its area share (demo data only), the guided methods
differ from the plain gradient (their ReLU hooks are active), the latent logistic
regressions beat a constant, and moving along a learned latent direction raises that
attribute's classifier score monotonically (:func:`monotonicity`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from xairepro.common.claims import Claims

CLASSIFIER_COLUMNS = ("classifier", "n_train", "n_valid", "valid_acc", "baseline_acc", "valid_bce", "baseline_bce")
LATENT_COLUMNS = ("attr", "valid_acc", "baseline_acc", "valid_bce", "baseline_bce", "baseline_bce_original")


def summarise_records(records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """One row per training record (the JSON a trainer writes), the named columns only."""
    return pd.DataFrame([{c: r[c] for c in columns} for r in records])


def summarise_heatmaps(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Per classifier and method: mean region mass, area, their ratio, correlation with the gradient."""
    table = pd.concat(tables, ignore_index=True)
    out = table.groupby(["classifier", "method"], sort=False).agg(
        n_images=("image", "size"), region_mass=("region_mass", "mean"), region_area=("region_area", "mean"),
        corr_with_gradient=("corr_with_gradient", "mean")).reset_index()
    out["mass_to_area"] = out["region_mass"] / out["region_area"]
    return out


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    from scipy.stats import spearmanr

    if np.ptp(y) == 0:
        return 0.0
    return float(spearmanr(x, y).statistic)


def monotonicity(table: pd.DataFrame, tol: float = 0.5) -> pd.DataFrame:
    """Per direction, over the images: how the own score follows the move.

    * ``rising_share``: share of images whose own logit is higher at +ampl than at -ampl;
    * ``nonfalling_share``: share of steps (all images) where the own logit falls by no
      more than ``tol`` logits, so noise on a saturated plateau (|logit| ~ 10, where 0.1
      logit is a 1e-5 change of probability) is not read as a reversal;
    * ``spearman_own`` / ``spearman_eval``: mean Spearman correlation of the shift with the
      own / evaluated logit (descriptive: it ranks that plateau noise too);
    * ``strictly_increasing``: share of images whose own logit rises at every step.
    """
    rows = []
    for (direction, image), g in table.groupby(["direction", "image"], sort=False):
        g = g.sort_values("step")
        own = g["own_logit"].to_numpy()
        steps = np.diff(own)
        rows.append({"direction": direction, "image": image,
                     "spearman_own": spearman(g["shift"].to_numpy(), own),
                     "spearman_eval": spearman(g["shift"].to_numpy(), g["eval_logit"].to_numpy()),
                     "strictly_increasing": bool(np.all(steps > 0)),
                     "rises": bool(own[-1] > own[0]),
                     "nonfalling_steps": int(np.sum(steps >= -tol)), "n_steps": len(steps),
                     "own_change": float(own[-1] - own[0])})
    per_image = pd.DataFrame(rows)
    out = per_image.groupby("direction", sort=False).agg(
        n_images=("image", "size"), rising_share=("rises", "mean"), nonfalling=("nonfalling_steps", "sum"),
        n_steps=("n_steps", "sum"), spearman_own=("spearman_own", "mean"), spearman_eval=("spearman_eval", "mean"),
        strictly_increasing=("strictly_increasing", "mean"), own_change=("own_change", "mean")).reset_index()
    out.insert(3, "nonfalling_share", out.pop("nonfalling") / out.pop("n_steps"))
    return out.assign(tol=tol)


def claims(classifiers: pd.DataFrame, heatmaps: pd.DataFrame, latent: pd.DataFrame, generative: pd.DataFrame,
           latent_record: Mapping[str, Any], cfg: Mapping[str, Any]) -> pd.DataFrame:
    """Every claim row (claim, metric, value, expected, tolerance, pass).

    cfg: ``min_acc_gain`` (classifier accuracy above baseline), ``mass_methods`` (heatmap
    methods whose planted-region mass must exceed the area share), ``max_guided_corr``,
    ``min_rising_share`` and ``min_nonfalling_share`` (latent moves: the share of images
    whose own score ends higher than it starts, and of steps where it does not fall by more
    than ``mono_tol`` logits), ``min_latent_acc_gain``.
    """
    table = Claims()
    gain = cfg["min_acc_gain"]
    for r in classifiers.itertuples():
        table.add(f"classifier {r.classifier} beats the class baseline", "valid_acc - baseline_acc",
                  r.valid_acc - r.baseline_acc, f">= {gain}", 0.0, r.valid_acc - r.baseline_acc >= gain)
    if heatmaps["region_area"].notna().any():
        for r in heatmaps[heatmaps.method.isin(cfg["mass_methods"])].itertuples():
            table.add(f"{r.method} heatmap mass of {r.classifier} falls on the planted region",
                      "region mass / region area", r.mass_to_area, "> 1", 0.0, r.mass_to_area > 1)
    for r in heatmaps[heatmaps.method.isin(["guided_backprop", "guided_gradcam"])].itertuples():
        table.add(f"{r.method} of {r.classifier} differs from the plain gradient (ReLU hooks active)",
                  "mean Pearson r with the gradient", r.corr_with_gradient, f"< {cfg['max_guided_corr']}", 0.0,
                  r.corr_with_gradient < cfg["max_guided_corr"])
    lgain = cfg["min_latent_acc_gain"]
    for r in latent.itertuples():
        table.add(f"latent logistic regression {r.attr} beats the constant (BCE)", "baseline_bce - valid_bce",
                  r.baseline_bce - r.valid_bce, "> 0", 0.0, r.valid_bce < r.baseline_bce)
        table.add(f"latent logistic regression {r.attr} beats the constant (accuracy)",
                  "valid_acc - baseline_acc", r.valid_acc - r.baseline_acc, f">= {lgain}", 0.0,
                  r.valid_acc - r.baseline_acc >= lgain)
    rise, nonfall, tol = cfg["min_rising_share"], cfg["min_nonfalling_share"], cfg["mono_tol"]
    for r in generative.itertuples():
        table.add(f"moving along the latent {r.direction} direction raises the {r.direction} score",
                  "share of images whose own logit is higher at +ampl than at -ampl", r.rising_share,
                  f">= {rise}", 0.0, r.rising_share >= rise)
        table.add(f"moving along the latent {r.direction} direction raises the {r.direction} score "
                  "monotonically", f"share of steps where the own logit falls by at most {tol}",
                  r.nonfalling_share, f">= {nonfall}", tol, r.nonfalling_share >= nonfall)
    dev = latent_record["original_relative_deviation_mean"]
    table.add("phase 1 truncation uses w_avg + psi (w - w_avg); the original's w_avg + psi (w + w_avg) "
              "would move w (recorded deviation)", "mean ||w_original - w|| / ||w||", dev, "> 0 when w_avg != 0",
              0.0, dev > 0)
    return table.frame()
