"""Tables of the ``labelfree`` study (pandas only): the claims of every experiment, built
with :mod:`xairepro.common.claims`, and the LaTeX tables of the pretext correlations.

Every claim is decided over test items (each item's value averaged over the runs, which
all explain the same test items) by a one-sided statistic of
:mod:`xairepro.common.stats` at level 1 %, and carries a negative control, the same
statistic computed where the claim must not hold:

* 1.1 feature consistency: a random attribution in place of the label-free one;
* 1.2 example consistency: the same scores against shuffled training labels;
* 2.1 / 2.2 pretext tasks: untrained encoders (every layer re-initialised, the end of the
  model-parameter randomisation cascade) in place of the trained ones;
* encoder vs full model: the full model with every layer re-initialised;
* 3 disentanglement: the same VAE, untrained (every layer re-initialised).
"""

from __future__ import annotations

import pandas as pd

from xairepro.common.claims import Claims
from xairepro.common.stats import mean_above, mean_below, within

DIGITS = 6
DATASET_NAMES = {"mnist": "MNIST", "ecg": "ECG5000", "cifar10": "CIFAR-10", "cifar100": "CIFAR-100",
                 "dsprites": "dSprites"}
METHOD_NAMES = {"integrated_gradients": "Integrated Gradients", "gradient_shap": "Gradient SHAP",
                "gradient_shap_original_pairing": "Gradient SHAP (original pairing)", "saliency": "Saliency",
                "random": "Random"}
#: The reference ranking of claim 1.1 (the paper's curve) and its negative control.
REFERENCE, RANDOM_ATTRIBUTION = "random", "random_attribution"


def masking_curve_area(shifts: pd.DataFrame) -> pd.DataFrame:
    """Per test item and method, the representation shift averaged over the intermediate
    masking levels (0 < fraction < 1) and over the runs (every run explains the same test
    items): an item x method table."""
    levels = shifts[(shifts.fraction > 0) & (shifts.fraction < 1)]
    return levels.groupby(["item", "method"])["representation_shift"].mean().unstack("method")


def feature_consistency_claims(shifts: pd.DataFrame, dataset: str, margin: float = 1.5) -> pd.DataFrame:
    """Claim 1.1: masking the features a label-free method ranks highest moves the
    representation more than masking random ones (by a factor ``margin``).

    ``shifts``: rows of (seed, method, fraction, item, representation_shift), with the
    rankings ``random`` (reference) and ``random_attribution`` (control). Per test item,
    the shift averaged over the intermediate masking levels; the statistic is the mean over
    items of shift(method) - ``margin`` x shift(random), decided by its one-sided 99 %
    bootstrap lower bound (> 0). The control replaces the method by a random attribution
    (a chance-level explainer, whose expected value is (1 - margin) x shift(random) < 0).
    Masking 0 % of the features shifting nothing is an invariant.
    """
    table = Claims(digits=DIGITS)
    zero = float(shifts.loc[shifts.fraction == 0, "representation_shift"].abs().max())
    table.invariant(f"{dataset}: masking 0 % of the features leaves the representation unchanged",
                    "max shift at 0 % masked, every ranking", zero, "0", zero <= 1e-9)
    area = masking_curve_area(shifts)
    statistic = (f"mean over items of shift(method) - {margin:g} x shift(random ranking), "
                 "shift averaged over the masked levels 0-100 % exclusive")
    control_result = mean_above(area[RANDOM_ATTRIBUTION] - margin * area[REFERENCE], 0.0)
    for method in [m for m in area.columns if m not in (REFERENCE, RANDOM_ATTRIBUTION)]:
        result = mean_above(area[method] - margin * area[REFERENCE], 0.0)
        table.claim(f"{dataset}: masking the top label-free {METHOD_NAMES.get(method, method)} features shifts "
                    "the representation more than masking random ones", statistic, "bootstrap 99 % lower bound > 0",
                    result, "a random attribution in place of the method", control_result)
    return table.frame()


EXPLAINER_NAMES = {"influence_functions": "Influence Functions", "tracin": "TracIn", "simplex": "SimplEx",
                   "dknn": "DKNN", "cosine": "Cosine NN"}


#: Why claim 1.2's influence functions and TracIn are not run on FACT's published model.
PUBLISHED_MODEL_REASON = ("FACT's published model comes without its training snapshots and loss history, which "
                          "TracIn and influence functions need; FACT's --inference skips both too "
                          "(experiments/mnist.py:248-255)")


def example_consistency_claims(rates: pd.DataFrame, dataset: str, n_classes: int = 10, lift: float = 1.5,
                               gap: float = 0.05, not_run: tuple[str, ...] = (),
                               reason: str = PUBLISHED_MODEL_REASON) -> pd.DataFrame:
    """Claim 1.2: the training examples a label-free explainer ranks most important share the
    test example's label more often than chance and than the least important ones, at the
    smallest selected fraction.

    ``rates``: rows of (seed, explainer, examples, labels, fraction, item, similarity_rate);
    ``labels`` ``true`` or ``shuffled`` (the control: the same scores against shuffled
    training labels, where every explainer is at chance). Per test item: the rate of its
    most important examples (mean above ``lift`` x chance, 1 / ``n_classes`` on balanced
    subsets) and that rate minus the least important ones' (mean above ``gap``), each
    decided by its one-sided 99 % bootstrap lower bound over test items. The explainers
    ``not_run`` (absent from ``rates``) get both claims as ``not applicable``, for ``reason``.
    """
    table = Claims(digits=DIGITS)
    smallest = rates.fraction.min()
    at = rates[rates.fraction == smallest]
    # mean over runs of each test item (every run explains the same balanced sub-test set)
    per_item = at.pivot_table(index=["explainer", "labels", "item"], columns="examples", values="similarity_rate")
    chance = 1 / n_classes
    control = "the same scores, training labels shuffled"
    for explainer in dict.fromkeys(at.explainer):
        name = EXPLAINER_NAMES.get(explainer, explainer)
        true, null = per_item.loc[(explainer, "true")], per_item.loc[(explainer, "shuffled")]
        table.claim(f"{dataset}: {name}'s most important examples share the test example's label above chance",
                    f"mean over test items of the similarity rate of the top {smallest:.0%} examples",
                    f"bootstrap 99 % lower bound > {lift:g} x chance = {lift * chance:g}",
                    mean_above(true["most important"], lift * chance), control,
                    mean_above(null["most important"], lift * chance))
        table.claim(f"{dataset}: {name}'s most important examples share the label more than its least important",
                    f"mean over test items of similarity rate, top {smallest:.0%} most - least important",
                    f"bootstrap 99 % lower bound > {gap:g}",
                    mean_above(true["most important"] - true["least important"], gap), control,
                    mean_above(null["most important"] - null["least important"], gap))
    for explainer in not_run:
        name = EXPLAINER_NAMES.get(explainer, explainer)
        for claim, statistic in (("share the test example's label above chance", "similarity rate, top examples"),
                                 ("share the label more than its least important", "similarity rate, most - least")):
            table.not_applicable(f"{dataset}: {name}'s most important examples {claim}", statistic, "-",
                                 "the same scores, training labels shuffled", reason)
    return table.frame()


#: FACT's mean per-image correlations between encoder and full-model attributions (Fig. 5).
ENCODER_VS_FULL_PUBLISHED = {"integrated_gradients": 0.43, "gradient_shap": 0.34, "saliency": 0.18}


def encoder_vs_full_claims(correlations: pd.DataFrame, dataset: str, scale: str,
                           floor: float = 0.5) -> pd.DataFrame:
    """Extension (Fig. 5): the encoder's label-free attributions agree with the full
    classifier's.

    ``correlations``: rows of (seed, method, model, image, pearson); ``model`` ``trained``,
    or ``randomised`` for the control (the encoder's attributions against those of the full
    model with every layer re-initialised). Demo: the mean per-image Pearson is above
    ``floor`` (one-sided 99 % bootstrap lower bound over images). Paper: within 0.1 of
    FACT's mean.
    """
    table = Claims(digits=DIGITS)
    control = "encoder vs the full model with every layer re-initialised"
    for method in dict.fromkeys(correlations.method):
        name = METHOD_NAMES.get(method, method)
        sel = correlations[correlations.method == method].dropna(subset=["pearson"])
        per_image = sel.groupby(["model", "image"])["pearson"].mean()  # mean over runs of each test image
        trained, randomised = per_image["trained"], per_image["randomised"]
        if scale == "paper" and method in ENCODER_VS_FULL_PUBLISHED:
            expected = ENCODER_VS_FULL_PUBLISHED[method]
            table.claim(f"{dataset}: encoder and full-model {name} attributions correlate as published",
                        "mean per-image Pearson over non-blank pixels", f"within 0.1 of FACT's {expected:g}",
                        within(trained.mean(), expected, 0.1), control, within(randomised.mean(), expected, 0.1))
        else:
            table.claim(f"{dataset}: encoder and full-model {name} attributions agree",
                        "mean per-image Pearson over non-blank pixels", f"bootstrap 99 % lower bound > {floor:g}",
                        mean_above(trained, floor), control, mean_above(randomised, floor))
    return table.frame()


def _shared_structure(correlations: pd.DataFrame, kind: str, untrained: bool) -> pd.Series:
    """Per test item (mean over runs): the mean per-item Pearson between two encoders of a
    set minus the mean Pearson between an encoder of the set and an untrained reference
    encoder (``reference_<j>``). The set is the trained tasks, or (``untrained``) the
    untrained encoders ``randomised_<j>``."""
    rows = correlations[(correlations.kind == kind) & correlations["item"].notna()].dropna(subset=["pearson"])
    rows = rows[rows.task_a.str.startswith("randomised_") == untrained]
    to_reference = rows.task_b.str.startswith("reference_")
    within = rows[~to_reference].groupby(["seed", "item"])["pearson"].mean()
    reference = rows[to_reference].groupby(["seed", "item"])["pearson"].mean()
    return (within - reference).groupby("item").mean()


def pretext_claims(correlations: pd.DataFrame, dataset: str, margin: float = 0.04) -> pd.DataFrame:
    """Claims 2.1 (features) and 2.2 (examples): the explanations of encoders trained on
    different pretext tasks (and as a classifier) share structure that training put there.

    ``correlations``: rows of (seed, kind, task_a, task_b, item, pearson) with per-item rows
    (``item`` not NaN) between every two tasks, every two untrained encoders
    ``randomised_<j>``, and each of them and each untrained reference encoder
    ``reference_<j>``. Per test image: the mean Pearson between two tasks' explanations
    minus the mean Pearson between a task's and a reference encoder's (an untrained
    encoder's |Gradient SHAP| still follows the ink, and its DKNN the pixel distances: what
    that explains is not learned). The claim: its mean over images exceeds ``margin``
    (one-sided 99 % bootstrap lower bound). The control: the same statistic for the
    untrained encoders in place of the tasks (exchangeable with the references: expected 0). The paper's "depends on the
    task" (correlations below 1) is shown in the LaTeX table, not claimed: no null makes a
    ceiling fail.
    """
    table = Claims(digits=DIGITS)
    what = {"features": "Gradient SHAP over non-blank pixels", "examples": "DKNN over the sub-train set"}
    for kind, claim in (("features", "2.1"), ("examples", "2.2")):
        table.claim(f"{dataset}: {kind} importance of different pretext tasks shares learned structure (claim {claim})",
                    f"mean over test images of [mean Pearson between two tasks' {what[kind]}] - "
                    "[mean Pearson between a task's and an untrained encoder's]",
                    f"bootstrap 99 % lower bound > {margin:g}",
                    mean_above(_shared_structure(correlations, kind, False), margin),
                    "untrained encoders (every layer re-initialised) in place of the tasks",
                    mean_above(_shared_structure(correlations, kind, True), margin))
    return table.frame()


#: FACT's mean saliency correlations between latent units (its pooled ``pearson_saliency``,
#: the mean over its 5 runs in its published metrics.csv), per (dataset, loss) and beta.
DISVAE_PUBLISHED = {
    ("mnist", "beta_vae"): {1: 0.24, 5: 0.25, 10: 0.24},
    ("mnist", "beta_tcvae"): {1: 0.23, 5: 0.24, 10: 0.23},
    ("dsprites", "beta_vae"): {1: 0.24, 5: 0.23, 10: 0.29},
    ("dsprites", "beta_tcvae"): {1: 0.22, 5: 0.30, 10: 0.37},
    ("cifar100", "beta_vae"): {1: 0.19, 5: 0.25, 10: 0.25},
    ("cifar100", "beta_tcvae"): {1: 0.20, 5: 0.28, 10: 0.23},
}
LOSS_NAMES = {"beta_vae": "beta-VAE", "beta_tcvae": "beta-TCVAE"}
POOLED = "pooled correlation between latent units (FACT's pearson_saliency)"


def disvae_claims(table: pd.DataFrame, scale: str, max_drop: float = 0.4, fact: pd.DataFrame | None = None,
                  tolerance: float = 0.05) -> pd.DataFrame:
    """Claim 3: disentangling (raising beta) does not decorrelate the latent units' saliency.

    ``table``: rows of (dataset, loss, beta, seed, model, image, correlation, pooled);
    ``model`` ``trained``, ``randomised`` (untrained VAE, reported) or ``random_attribution``
    (independent random maps per unit: fully decorrelated units, the control); ``pooled``
    the model's one number over all images (FACT's metric). Demo: per image, the
    correlation of the smallest beta's VAE minus that of the largest beta's; its mean over
    images is below ``max_drop`` (one-sided 99 % bootstrap upper bound). The control
    replaces the largest beta's maps by the random ones. Paper: the mean over runs of the
    pooled correlation within 0.1 of FACT's published mean, the control the random maps'.
    ``fact`` (weights: published, where our VAEs are FACT's own files): FACT's published
    value of every file (:func:`xairepro.labelfree.published.read_fact_vae_metrics`); per
    (loss, beta), the largest |ours - FACT's| over the runs, file for file, is at most
    ``tolerance``; the control puts the random maps' pooled value in ours' place.
    """
    claims = Claims(digits=DIGITS)
    for (dataset, loss), sel in table.groupby(["dataset", "loss"], sort=False):
        label = f"{dataset}, {LOSS_NAMES.get(loss, loss)}"
        betas = sorted(sel.beta.unique())
        if scale == "paper" and (dataset, loss) in DISVAE_PUBLISHED:
            pooled = sel.groupby(["model", "beta", "seed"])["pooled"].first()
            for beta in betas:
                expected = DISVAE_PUBLISHED[(dataset, loss)].get(int(beta))
                if expected is None:
                    continue
                claims.claim(f"{label}: saliency correlation at beta={beta:g} as published",
                             f"mean over runs of the {POOLED}", f"within 0.1 of FACT's {expected:g}",
                             within(pooled["trained", beta].mean(), expected, 0.1),
                             "independent random saliency maps per unit",
                             within(pooled["random_attribution", beta].mean(), expected, 0.1))
            if fact is not None:
                _file_for_file(claims, label, pooled, fact[(fact.dataset == dataset) & (fact.loss == loss)],
                               tolerance)
            continue
        # mean over runs of each test image
        per_image = sel.pivot_table(index="image", columns=["model", "beta"], values="correlation")
        low, high = betas[0], betas[-1]
        claims.claim(f"{label}: raising beta does not decorrelate the saliency maps",
                     f"mean over images of correlation at beta={low:g} - at beta={high:g}",
                     f"bootstrap 99 % upper bound < {max_drop:g}",
                     mean_below(per_image["trained", low] - per_image["trained", high], max_drop),
                     f"independent random saliency maps per unit at beta={high:g}",
                     mean_below(per_image["trained", low] - per_image["random_attribution", high], max_drop))
    return claims.frame()


def _file_for_file(claims: Claims, label: str, pooled: pd.Series, fact: pd.DataFrame, tolerance: float) -> None:
    """:func:`disvae_claims`' comparison with FACT's metrics.csv, one claim per beta: our
    pooled value of each of FACT's VAE files (``pooled``: model, beta, seed) against FACT's
    own value of that file (``fact``: beta, seed, pearson)."""
    for beta, theirs in fact.groupby("beta"):  # in order of beta
        if ("trained", beta) not in pooled.index.droplevel("seed"):
            continue
        theirs = theirs.set_index("seed")["pearson"]
        ours, random = pooled["trained", beta], pooled["random_attribution", beta]
        runs = ours.index.intersection(theirs.index)
        name = f"{label}: FACT's VAE files give FACT's published saliency correlation at beta={beta:g}"
        statistic = f"largest |ours - FACT's metrics.csv| over the files' runs, {POOLED}"
        control = "independent random saliency maps per unit in ours' place"
        if runs.empty:
            claims.not_applicable(name, statistic, f"<= {tolerance:g}", control,
                                  f"none of the runs explained ({sorted(ours.index)}) is in FACT's metrics.csv")
            continue
        claims.claim(f"{name} (runs {', '.join(str(r) for r in runs)})", statistic, f"<= {tolerance:g}",
                     within((ours[runs] - theirs[runs]).abs().max(), 0.0, tolerance), control,
                     within((random[runs] - theirs[runs]).abs().max(), 0.0, tolerance))


def latex_table(table: pd.DataFrame, kind: str, tasks: list[str], statistic: str = "pearson") -> str:
    """A LaTeX tabular of mean +- std over runs of one kind's correlation matrix (the mean
    alone when there is a single run); the pooled rows (``item`` NaN) only. ``statistic``
    is the column tabulated: ``pearson`` or ``spearman``."""
    if "item" in table.columns:
        table = table[table["item"].isna()]
    sel = table[table.kind == kind].groupby(["task_a", "task_b"])[statistic].agg(["mean", "std", "count"])
    lines = [r"\begin{tabular}{l" + "c" * len(tasks) + "}", r"\toprule",
             " & ".join(["", *(t.capitalize() for t in tasks)]) + r" \\", r"\midrule"]
    for a in tasks:
        cells = [f"{sel.loc[(a, b), 'mean']:.2f}" + (f" $\\pm$ {sel.loc[(a, b), 'std']:.2f}"
                                                     if sel.loc[(a, b), "count"] > 1 else "") for b in tasks]
        lines.append(" & ".join([a.capitalize(), *cells]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def user_data_not_applicable(scale: str) -> pd.DataFrame:
    """The claims a run on a user's own images cannot decide (``not applicable``): those of
    the data sets it does not run (ECG5000's planted T wave at demo scale, dSprites' planted
    factors) and, at paper scale, the comparisons with FACT's published MNIST values (the
    user's images are not MNIST; their scale-free form runs instead)."""
    claims = Claims(digits=DIGITS)
    skipped = "a user-data run explains the user's images only"
    claims.not_applicable("ECG5000: label-free feature importance (claim 1.1)",
                          "representation shift after masking the top features", "-",
                          "random feature ranking", f"{skipped}; the demo's ECG truth is a planted T wave")
    claims.not_applicable("dSprites: raising beta does not decorrelate the saliency maps (claim 3)",
                          "correlation between latent units' saliency", "-",
                          "independent random saliency maps per unit", f"{skipped}; dSprites' factors are planted")
    if scale == "paper":
        published = "the user's images are not MNIST: no published value to compare with"
        claims.not_applicable("MNIST: encoder and full-model attributions correlate as published",
                              "mean per-image Pearson", "within 0.1 of FACT's", "re-initialised full model",
                              published)
        claims.not_applicable("MNIST: saliency correlation as published (claim 3)",
                              "mean per-image correlation between latent units", "within 0.1 of FACT's",
                              "independent random saliency maps per unit", published)
    return claims.frame()
