"""Claims of the ``labelfree`` study (pandas only)."""

from __future__ import annotations

import pandas as pd

METHOD_NAMES = {"integrated_gradients": "Integrated Gradients", "gradient_shap": "Gradient SHAP",
                "saliency": "Saliency", "random": "Random"}


def feature_consistency_claims(shifts: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Claim 1.1: masking the pixels that label-free methods rank highest moves the
    representation more than masking random pixels, at every intermediate masking level.

    ``shifts``: rows of (seed, method, fraction, representation_shift). Returns claim,
    metric, value, expected, tolerance, pass.
    """
    rows = []
    mean = shifts.groupby(["method", "fraction"])["representation_shift"].mean().unstack("fraction")
    zero = float(shifts.loc[shifts.fraction == 0, "representation_shift"].abs().max())
    rows.append({"claim": f"{dataset}: masking 0 % of the pixels leaves the representation unchanged",
                 "metric": "max shift at 0 %", "value": zero, "expected": "0", "tolerance": 1e-9,
                 "pass": zero <= 1e-9})
    levels = [f for f in mean.columns if 0 < f < 1]
    for method in [m for m in mean.index if m != "random"]:
        ratio = float((mean.loc[method, levels] / mean.loc["random", levels]).min())
        rows.append({"claim": f"{dataset}: label-free {METHOD_NAMES.get(method, method)} beats random masking",
                     "metric": "min over levels of shift(method) / shift(random)", "value": round(ratio, 6),
                     "expected": "> 1", "tolerance": 0, "pass": ratio > 1})
    return pd.DataFrame(rows)
