"""Tables and claims of the esc50 study."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from xairepro.common.claims import Claims
from xairepro.common.io import read_json
from xairepro.common.stats import Decision, binomial_above, mean_above, wilcoxon_greater, within

#: The interpret README table (recipe commit afd34230c): fidelity-to-input, faithfulness (mask-in).
PUBLISHED_INTERPRETATION = {
    ("amt", "focalnet"): (0.305, 0.0111),
    ("amt", "vit"): (0.225, 0.0109),
    ("piq", "focalnet"): (0.278, 0.0111),
    ("piq", "vit"): (0.110, 0.0121),
}
#: Interpreters whose fidelity the README table reports, hence claimed at demo scale too.
CLAIMED_METHODS = ("piq", "amt")
#: Classifiers with no demo claim (their accuracy and AMT rows are in the tables and figures):
#: the tiny random-init FocalNet's randomised copy already beats chance (21 of 48 at seed
#: offset 0), and AMT's maps of both find no planted box at demo sizes.
DEMO_UNCLAIMED_ARCHS = ("focalnet", "vit")
#: Test accuracy (%) reported by the classification recipe.
PUBLISHED_ACCURACY = {"cnn14": 82.0, "conv2d": 75.0, "focalnet": 77.4, "vit": 73.6}

METRICS = ["fidelity_to_input", "faithfulness_mask_in", "fidelity_to_input_mask_out", "faithfulness_mask_out"]


def accuracy_table(records: Iterable[str | Path]) -> pd.DataFrame:
    """One row per classifier: validation and test accuracy (%), the test counts, the test
    accuracy of its negative control (the classifier with every layer re-initialised), the
    published test accuracy."""
    rows = []
    for path in records:
        rec = read_json(path)
        rows.append({"arch": rec["arch"], "n_classes": rec["n_classes"], "valid_accuracy": 100 * rec["valid_acc"],
                     "test_accuracy": 100 * rec["test_acc"], "n_test": rec["n_test"],
                     "test_correct": rec["test_correct"], "randomised_test_accuracy": 100 * rec["randomised_test_acc"],
                     "randomised_test_correct": rec["randomised_test_correct"], "best_epoch": rec["best_epoch"],
                     "published_test_accuracy": PUBLISHED_ACCURACY.get(rec["arch"])})
    return pd.DataFrame(rows)


#: Per-clip columns averaged into the interpretation table where present (the demo's
#: planted-box columns exist only on synthetic data).
OPTIONAL_COLUMNS = ("relevance_rank", "relevance_mass", "area_share", "planted_ratio", "oracle_fidelity_to_input")


def interpretation_table(clips: list[pd.DataFrame]) -> pd.DataFrame:
    """Mean over test clips per interpreter; faithfulness_mask_in is the README's faithfulness.

    ``control_<metric>`` is the metric of the negative control (the interpreter explaining
    the classifier with every layer re-initialised, its masks scored on the trained one).
    ``relevance_rank`` / ``relevance_mass`` (demo only) are Quantus' localisation metrics of
    the mask on the planted box, ``area_share`` what a random mask scores;
    ``planted_ratio`` the mean over clips of mean mask inside the planted box over mean mask
    outside it.
    """
    frame = pd.concat(clips, ignore_index=True)
    value_cols = [c for base in METRICS + list(OPTIONAL_COLUMNS) for c in (base, f"control_{base}") if c in frame]
    table = frame.groupby(["method", "arch"], sort=False)[value_cols].mean().reset_index()
    table.insert(2, "n_clips", frame.groupby(["method", "arch"], sort=False).size().to_numpy())
    table["chance_fidelity"] = 1.0 / frame["target"].nunique()
    pub = [PUBLISHED_INTERPRETATION.get((m, a), (None, None)) for m, a in zip(table["method"], table["arch"])]
    table["published_fidelity_to_input"] = [p[0] for p in pub]
    table["published_faithfulness"] = [p[1] for p in pub]
    return table


#: How much more of the planted box than a random mask the mask's top-ranked bins must hold.
#: Above zero alone is not enough: PIQ's decoder explaining the randomised classifier still
#: ranks the box slightly above a random map at some seeds (random conv features keep where
#: the energy is; 0.07 against an area share of 0.047 at seed offset 3).
LOCALISATION_MARGIN = 0.25

#: The negative control of every interpreter claim, in words.
INTERPRETER_CONTROL = "the same interpreter explaining the classifier with every layer re-initialised (randomised_copy)"
CLASSIFIER_CONTROL = "the same classifier with every layer re-initialised (randomised_copy)"


#: The overlap claim's margin: the mask's density in the source's box must exceed that in the
#: noise's by more than this. A mask that follows loudness alone (the randomised classifier's
#: does) is a little denser on the louder source (0.8 against 0.2): 0.002 over 48 mixtures at
#: seed offset 1, consistent enough in sign for a Wilcoxon test against zero.
OVERLAP_MARGIN = 0.05


def overlap_decision(source, noise) -> Decision:
    """The overlap claim's test: the paired difference ``source - noise`` above
    :data:`OVERLAP_MARGIN` (one-sided Wilcoxon signed-rank); the value is the mean difference."""
    if len(source) == 0:  # the classifier assigned no mixture to its source's class
        return Decision(value=float("nan"), passed=False, p_value=1.0)
    decided = wilcoxon_greater(np.subtract(source, OVERLAP_MARGIN), noise)
    return replace(decided, value=float(np.mean(np.subtract(source, noise))))


def _demo_claims(table: Claims, clips: pd.DataFrame, accuracy: pd.DataFrame, overlap: pd.DataFrame | None) -> None:
    if overlap is not None and len(overlap):
        # PIQ explains the classifier's decision on the mixture: where the classifier takes the
        # mixture for the noise's class (or a third), a faithful mask marks the noise, not the
        # source, so the claim is about the mixtures it assigns to the source's class
        heard = overlap[overlap["prediction_mixture"] == overlap["target"]]
        table.claim("overlap test: PIQ (conv2d) mask denser on the source's planted region than on the noise's",
                    "mask density in the source's box minus in the noise's, paired over the "
                    f"{len(heard)} of {len(overlap)} mixtures the classifier assigns to the source's class",
                    f"one-sided Wilcoxon signed-rank p < 0.01 against a difference of {OVERLAP_MARGIN}",
                    overlap_decision(heard["mask_in_source_region"], heard["mask_in_noise_region"]),
                    INTERPRETER_CONTROL,
                    overlap_decision(heard["control_mask_in_source_region"], heard["control_mask_in_noise_region"]))
    for (method, arch), rows in clips.groupby(["method", "arch"], sort=False):
        if method not in CLAIMED_METHODS or arch in DEMO_UNCLAIMED_ARCHS:
            continue
        n, chance = len(rows), 1.0 / rows["target"].nunique()
        if "relevance_rank" in rows:
            table.claim(f"{method} ({arch}) mask localises the planted region",
                        f"Quantus RelevanceRankAccuracy on the planted box minus the box's area share "
                        f"(a random mask's level), mean over {n} test clips",
                        f"one-sided 99 % bootstrap lower bound > {LOCALISATION_MARGIN}",
                        mean_above(rows["relevance_rank"] - rows["area_share"], LOCALISATION_MARGIN),
                        INTERPRETER_CONTROL,
                        mean_above(rows["control_relevance_rank"] - rows["area_share"], LOCALISATION_MARGIN))
        table.claim(f"{method} ({arch}) fidelity-to-input above chance",
                    f"test clips whose masked input M X keeps the prediction (fidelity-to-input, mask-in), of {n}",
                    f"one-sided binomial p < 0.01 against chance {chance:.3f}",
                    binomial_above(int(round(rows["fidelity_to_input"].sum())), n, chance), INTERPRETER_CONTROL,
                    binomial_above(int(round(rows["control_fidelity_to_input"].sum())), n, chance))
    for r in accuracy.itertuples():
        if r.arch in DEMO_UNCLAIMED_ARCHS:
            continue
        chance = 1.0 / r.n_classes
        table.claim(f"{r.arch} classifier above chance on the synthetic classes",
                    f"test clips classified correctly, of {r.n_test}",
                    f"one-sided binomial p < 0.01 against chance {chance:.3f}",
                    binomial_above(r.test_correct, r.n_test, chance), CLASSIFIER_CONTROL,
                    binomial_above(r.randomised_test_correct, r.n_test, chance))


#: Why a claim cannot be decided on a user's own data.
NO_PLANTED_TRUTH = "needs the demo's planted time-frequency boxes; a user's own clips carry none"


def _user_claims(table: Claims, clips: pd.DataFrame, accuracy: pd.DataFrame) -> None:
    table.not_applicable("overlap test: PIQ (conv2d) mask denser on the source's planted region than on the noise's",
                         "mask density in the source's box minus in the noise's, paired over mixtures",
                         "one-sided Wilcoxon signed-rank p < 0.01", INTERPRETER_CONTROL, NO_PLANTED_TRUTH)
    for (method, arch), rows in clips.groupby(["method", "arch"], sort=False):
        if method not in CLAIMED_METHODS:
            continue
        n, chance = len(rows), 1.0 / rows["target"].nunique()
        table.not_applicable(f"{method} ({arch}) mask localises the planted region",
                             "Quantus RelevanceRankAccuracy on the planted box minus the box's area share",
                             f"one-sided 99 % bootstrap lower bound > {LOCALISATION_MARGIN}", INTERPRETER_CONTROL,
                             NO_PLANTED_TRUTH)
        table.claim(f"{method} ({arch}) fidelity-to-input above chance",
                    f"test clips whose masked input M X keeps the prediction (fidelity-to-input, mask-in), of {n}",
                    f"one-sided binomial p < 0.01 against chance {chance:.3f}",
                    binomial_above(int(round(rows["fidelity_to_input"].sum())), n, chance), INTERPRETER_CONTROL,
                    binomial_above(int(round(rows["control_fidelity_to_input"].sum())), n, chance))
    for r in accuracy.itertuples():
        chance = 1.0 / r.n_classes
        table.claim(f"{r.arch} classifier above chance on your classes",
                    f"test clips classified correctly, of {r.n_test}",
                    f"one-sided binomial p < 0.01 against chance {chance:.3f}",
                    binomial_above(r.test_correct, r.n_test, chance), CLASSIFIER_CONTROL,
                    binomial_above(r.randomised_test_correct, r.n_test, chance))


def _paper_claims(table: Claims, clips: pd.DataFrame, accuracy: pd.DataFrame) -> None:
    for (method, arch), rows in clips.groupby(["method", "arch"], sort=False):
        pub = PUBLISHED_INTERPRETATION.get((method, arch))
        if pub is None:
            continue
        n = len(rows)
        table.claim(f"{method}_{arch} fidelity-to-input (README table)",
                    f"mean fidelity-to-input (mask-in) over {n} test clips", f"within 0.05 of {pub[0]}",
                    within(rows["fidelity_to_input"].mean(), pub[0], 0.05), INTERPRETER_CONTROL,
                    within(rows["control_fidelity_to_input"].mean(), pub[0], 0.05))
        table.claim(f"{method}_{arch} faithfulness (README table, mask-in)",
                    f"mean faithfulness (mask-in) over {n} test clips", f"within 0.005 of {pub[1]}",
                    within(rows["faithfulness_mask_in"].mean(), pub[1], 0.005), INTERPRETER_CONTROL,
                    within(rows["control_faithfulness_mask_in"].mean(), pub[1], 0.005))
    for r in accuracy.itertuples():
        pub = PUBLISHED_ACCURACY.get(r.arch)
        if pub is not None:
            table.claim(f"{r.arch} test accuracy (classification recipe)", f"test accuracy (%) over {r.n_test} clips",
                        f"within 5 points of {pub}", within(r.test_accuracy, pub, 5.0), CLASSIFIER_CONTROL,
                        within(r.randomised_test_accuracy, pub, 5.0))


def claims(clips: pd.DataFrame, accuracy: pd.DataFrame, overlap: pd.DataFrame | None, scale: str,
           user_data: bool = False) -> pd.DataFrame:
    """Every claim decided by its statistic beside its negative control (:mod:`xairepro.common.claims`).

    ``clips`` holds the per-clip rows of every interpreter (``evaluate_interpreter``),
    ``accuracy`` the :func:`accuracy_table`, ``overlap`` the overlap test's rows (or None).

    Demo, each at one-sided level 0.01 so that a chance-level model or explainer passes
    with probability below 1 %, each beside the same statistic for its control (the
    classifier, or the classifier the interpreter explains, with every layer
    re-initialised):

    - overlap test: Wilcoxon signed-rank test of the mask's density in the source's box
      against the noise's, paired over mixtures;
    - planted region (PIQ, AMT): Quantus' RelevanceRankAccuracy of the mask on the planted
      box minus the box's area share (what a random mask scores), its mean over clips with
      a one-sided 99 % bootstrap lower bound above :data:`LOCALISATION_MARGIN`;
    - fidelity-to-input (PIQ, AMT): exact binomial test of the clips whose masked input
      keeps the prediction against chance (1 / classes);
    - each classifier: exact binomial test of the correct test clips against chance.

    The demo's tiny FocalNet and ViT (:data:`DEMO_UNCLAIMED_ARCHS`) and AMT on them are in the
    tables and figures only.

    Fidelity is claimed for the interpreters of the README table (PIQ, AMT); L2I's is in
    the table only (the recipe publishes no fidelity for it, and at demo scale its mask
    does not find the planted region). The planted box's own fidelity
    (``oracle_fidelity_to_input``) stays in the table as the ceiling a perfect interpreter
    reaches with this classifier; it is not a claim.

    Paper: the README table's fidelity-to-input (within 0.05) and faithfulness (within
    0.005) and the recipe's test accuracies (within 5 points); the published numbers are
    single runs.

    A user's own data (``user_data``, at either scale; :mod:`xairepro.esc50.user_data`):
    the demo's tests that need no planted truth (each classifier and each claimed
    interpreter's fidelity-to-input above chance, with their controls) run for every
    classifier; the planted-region and overlap claims are ``not applicable``, and so are the
    published numbers, which are ESC-50's.
    """
    table = Claims()
    if user_data:
        _user_claims(table, clips, accuracy)
    elif scale == "demo":
        _demo_claims(table, clips, accuracy, overlap)
    else:
        _paper_claims(table, clips, accuracy)
    return table.frame()
