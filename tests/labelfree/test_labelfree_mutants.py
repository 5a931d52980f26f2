"""Exact claims tables of xairepro/labelfree/tables.py on hand-made inputs, to kill its
mutants (`make mutation`, docs/testing.md). Per-item statistics are made equal across items,
so a bootstrap interval is the mean itself (:func:`xairepro.common.stats.mean_above` of
values with no spread) and every row is known in closed form; one value per table is 1/3,
which only the tables' 6 digits round to 0.333333."""

import math

import numpy as np
import pandas as pd
import pytest

from xairepro.common.claims import COLUMNS
from xairepro.labelfree import tables

NAN = math.nan
THIRD = 0.333333


def claim(text, statistic, threshold, value, passed, control, control_value, control_passed, ci=None):
    """A claim row decided by a bootstrap bound (``ci``: its interval, the value when none)."""
    low, high = ci if ci is not None else (value, value)
    verdict = "fail" if not passed else ("uninformative" if control_passed else "pass")
    return {"claim": text, "kind": "claim", "statistic": statistic, "threshold": threshold, "value": value,
            "p_value": NAN, "ci_low": low, "ci_high": high, "pass": passed, "control": control,
            "control_value": control_value, "control_p_value": NAN, "control_pass": control_passed,
            "verdict": verdict}


def not_applicable(text, statistic, threshold, control):
    return {"claim": text, "kind": "claim", "statistic": statistic, "threshold": threshold, "value": NAN,
            "p_value": NAN, "ci_low": NAN, "ci_high": NAN, "pass": False, "control": control,
            "control_value": NAN, "control_p_value": NAN, "control_pass": False, "verdict": "not applicable"}


def assert_rows(got: pd.DataFrame, rows: list[dict]):
    pd.testing.assert_frame_equal(got, pd.DataFrame(rows, columns=list(COLUMNS)), check_exact=True)


# ---------------------------------------------------------------- claim 1.1


def test_masking_curve_area_averages_the_levels_strictly_between_0_and_1():
    rows = [(0, "a", 0.25, 1.0), (0, "a", 0.5, 3.0), (0, "b", 0.25, 2.0), (0, "b", 0.5, 6.0),
            (1, "a", 0.25, 10.0), (1, "a", 0.5, 20.0), (1, "b", 0.25, 0.0), (1, "b", 0.5, 1.0)]
    rows += [(item, method, 0.0, 100.0) for item in (0, 1) for method in "ab"]
    rows += [(item, method, 1.0, 1000.0) for item in (0, 1) for method in "ab"]
    shifts = pd.DataFrame(rows, columns=["item", "method", "fraction", "representation_shift"])
    expected = pd.DataFrame({"a": [2.0, 15.0], "b": [4.0, 0.5]}, index=pd.Index([0, 1], name="item"))
    expected.columns.name = "method"
    pd.testing.assert_frame_equal(tables.masking_curve_area(shifts), expected)


def shift_table(per_method: dict[str, list[float]], zero: float = 0.0) -> pd.DataFrame:
    """Shifts of two items at 0 % (``zero``, with alternating signs), 50 % (the given ones)
    and 100 % masked (9, which must not count)."""
    rows = []
    for method, values in per_method.items():
        for item, value in enumerate(values):
            rows += [{"seed": 0, "method": method, "fraction": 0.0, "item": item,
                      "representation_shift": zero * (-1) ** item},
                     {"seed": 0, "method": method, "fraction": 0.5, "item": item, "representation_shift": value},
                     {"seed": 0, "method": method, "fraction": 1.0, "item": item, "representation_shift": 9.0}]
    return pd.DataFrame(rows)


FEATURE_STATISTIC = ("mean over items of shift(method) - 1.5 x shift(random ranking), "
                     "shift averaged over the masked levels 0-100 % exclusive")


def test_feature_consistency_claims_exact_table_with_the_default_margin():
    random = np.array([1.0, 2.0])
    shifts = shift_table({"random": random, "random_attribution": 1.5 * random + 0.5,
                          "saliency": 1.5 * random + 0.25, "lime": 1.5 * random - 0.25,
                          "integrated_gradients": 1.5 * random + 1 / 3})
    control = "a random attribution in place of the method"
    what = "features shifts the representation more than masking random ones"
    assert_rows(tables.feature_consistency_claims(shifts, "MNIST"), [
        {"claim": "MNIST: masking 0 % of the features leaves the representation unchanged", "kind": "invariant",
         "statistic": "max shift at 0 % masked, every ranking", "threshold": "0", "value": 0.0, "p_value": NAN,
         "ci_low": NAN, "ci_high": NAN, "pass": True, "control": "", "control_value": NAN, "control_p_value": NAN,
         "control_pass": False, "verdict": "holds"},
        claim(f"MNIST: masking the top label-free Integrated Gradients {what}", FEATURE_STATISTIC,
              "bootstrap 99 % lower bound > 0", THIRD, True, control, 0.5, True),
        claim(f"MNIST: masking the top label-free lime {what}", FEATURE_STATISTIC,
              "bootstrap 99 % lower bound > 0", -0.25, False, control, 0.5, True),
        claim(f"MNIST: masking the top label-free Saliency {what}", FEATURE_STATISTIC,
              "bootstrap 99 % lower bound > 0", 0.25, True, control, 0.5, True),
    ])


def test_feature_consistency_claims_use_the_given_margin():
    random = np.array([1.0, 2.0])
    shifts = shift_table({"random": random, "random_attribution": 2 * random - 0.5, "saliency": 2 * random + 0.25})
    table = tables.feature_consistency_claims(shifts, "ECG5000", margin=2.0)
    row = table.iloc[1]
    assert row.statistic == FEATURE_STATISTIC.replace("1.5 x", "2 x")
    assert (row.value, row.control_value, row.verdict) == (0.25, -0.5, "pass")


@pytest.mark.parametrize("zero,verdict", [(1e-9, "holds"), (2e-9, "broken"), (1e-6, "broken")],
                         ids=["at the tolerance", "above it", "far above"])
def test_feature_consistency_invariant_holds_up_to_1e9_in_absolute_value(zero, verdict):
    random = np.array([1.0, 2.0])
    shifts = shift_table({"random": random, "random_attribution": random, "saliency": random}, zero=zero)
    invariant = tables.feature_consistency_claims(shifts, "MNIST").iloc[0]
    assert (invariant.kind, invariant.verdict, invariant.value) == ("invariant", verdict, round(zero, 6))


# ---------------------------------------------------------------- claim 1.2


def rate_table() -> pd.DataFrame:
    """Similarity rates of two seeds, two items; at the smallest fraction (0.1) per item:
    dknn true most 0.5 (0.25, 0.75 over seeds), least 0.25; shuffled most 0.25, least 0.125;
    foo true most = least = 1/3; shuffled 0.125 each. Every rate at 0.5 is 0.9."""
    at_smallest = {("dknn", "true", "most important"): (0.25, 0.75), ("dknn", "true", "least important"): (0.25, 0.25),
                   ("dknn", "shuffled", "most important"): (0.25, 0.25),
                   ("dknn", "shuffled", "least important"): (0.125, 0.125),
                   ("foo", "true", "most important"): (1 / 3, 1 / 3),
                   ("foo", "true", "least important"): (1 / 3, 1 / 3),
                   ("foo", "shuffled", "most important"): (0.125, 0.125),
                   ("foo", "shuffled", "least important"): (0.125, 0.125)}
    rows = []
    for (explainer, labels, examples), by_seed in at_smallest.items():
        for seed, rate in enumerate(by_seed):
            for item in (0, 1):
                for fraction, value in ((0.1, rate), (0.5, 0.9)):
                    rows.append({"seed": seed, "explainer": explainer, "examples": examples, "labels": labels,
                                 "fraction": fraction, "item": item, "similarity_rate": value})
    return pd.DataFrame(rows)


def test_example_consistency_claims_exact_table_with_the_defaults():
    shuffled = "the same scores, training labels shuffled"
    above = "bootstrap 99 % lower bound > 1.5 x chance = 0.15"
    top = "mean over test items of the similarity rate of the top 10% examples"
    most_least = "mean over test items of similarity rate, top 10% most - least important"
    reason = tables.PUBLISHED_MODEL_REASON
    assert "TracIn" in reason and reason.endswith("(experiments/mnist.py:248-255)")
    rows = [
        claim("MNIST: DKNN's most important examples share the test example's label above chance", top, above,
              0.5, True, shuffled, 0.25, True),
        claim("MNIST: DKNN's most important examples share the label more than its least important", most_least,
              "bootstrap 99 % lower bound > 0.05", 0.25, True, shuffled, 0.125, True),
        claim("MNIST: foo's most important examples share the test example's label above chance", top, above,
              THIRD, True, shuffled, 0.125, False),
        claim("MNIST: foo's most important examples share the label more than its least important", most_least,
              "bootstrap 99 % lower bound > 0.05", 0.0, False, shuffled, 0.0, False),
    ]
    for name in ("TracIn", "bar"):
        rows += [not_applicable(f"MNIST: {name}'s most important examples share the test example's label above chance",
                                f"similarity rate, top examples (not applicable: {reason})", "-", shuffled),
                 not_applicable(f"MNIST: {name}'s most important examples share the label more than its least "
                                "important", f"similarity rate, most - least (not applicable: {reason})", "-",
                                shuffled)]
    assert_rows(tables.example_consistency_claims(rate_table(), "MNIST", not_run=("tracin", "bar")), rows)


def test_example_consistency_claims_with_given_classes_lift_gap_and_reason():
    table = tables.example_consistency_claims(rate_table(), "CIFAR-10", n_classes=4, lift=1.2, gap=0.2,
                                              not_run=("simplex",), reason="no corpus")
    assert table.threshold.tolist()[:2] == ["bootstrap 99 % lower bound > 1.2 x chance = 0.3",
                                            "bootstrap 99 % lower bound > 0.2"]
    assert table["pass"].tolist() == [True, True, True, False, False, False]  # 0.5, 0.25 > 0.2; 1/3 > 0.3
    assert table.control_pass.tolist()[:3] == [False, False, False]  # 0.25 < 0.3, 0.125 < 0.2
    assert table.statistic.tolist()[-1] == "similarity rate, most - least (not applicable: no corpus)"
    assert table.claim.tolist()[-1] == ("CIFAR-10: SimplEx's most important examples share the label more than its "
                                        "least important")


# ---------------------------------------------------------------- encoder vs full model


def correlation_rows(per_method: dict[str, dict[str, tuple[float, float]]]) -> pd.DataFrame:
    """Two seeds and two images per method and model, each image's Pearson by seed; a
    ``label`` column beside them."""
    return pd.DataFrame([{"seed": seed, "method": method, "model": model, "image": image, "label": 3,
                          "pearson": value}
                         for method, models in per_method.items() for model, by_seed in models.items()
                         for image in (0, 1) for seed, value in enumerate(by_seed)])


EVF_CONTROL = "encoder vs the full model with every layer re-initialised"
EVF_STATISTIC = "mean per-image Pearson over non-blank pixels"


def test_encoder_vs_full_claims_at_demo_scale_exact_table():
    table = correlation_rows({"saliency": {"trained": (0.5, 1.0), "randomised": (0.25, 0.25)},
                              "foo": {"trained": (1 / 3, 1 / 3), "randomised": (0.625, 0.625)}})
    # an image with no Pearson (blank) is left out, a row with another value missing is kept
    table = pd.concat([table, pd.DataFrame([{"seed": 0, "method": "saliency", "model": "trained", "image": 2,
                                             "label": 3, "pearson": NAN}])], ignore_index=True)
    table.loc[(table.method == "saliency") & (table.model == "trained") & (table.seed == 1), "label"] = NAN
    assert_rows(tables.encoder_vs_full_claims(table, "MNIST", "demo"), [
        claim("MNIST: encoder and full-model Saliency attributions agree", EVF_STATISTIC,
              "bootstrap 99 % lower bound > 0.5", 0.75, True, EVF_CONTROL, 0.25, False),
        claim("MNIST: encoder and full-model foo attributions agree", EVF_STATISTIC,
              "bootstrap 99 % lower bound > 0.5", THIRD, False, EVF_CONTROL, 0.625, True),
    ])


def test_encoder_vs_full_claims_at_paper_scale_compare_published_methods_only():
    table = correlation_rows({"integrated_gradients": {"trained": (0.25, 0.75), "randomised": (0.25, 0.25)},
                              "gradient_shap_original_pairing": {"trained": (0.75, 0.75),
                                                                 "randomised": (0.25, 0.25)}})
    assert_rows(tables.encoder_vs_full_claims(table, "MNIST", "paper", floor=0.7), [
        claim("MNIST: encoder and full-model Integrated Gradients attributions correlate as published", EVF_STATISTIC,
              "within 0.1 of FACT's 0.43", 0.5, True, EVF_CONTROL, 0.25, False, ci=(0.33, 0.53)),
        claim("MNIST: encoder and full-model Gradient SHAP (original pairing) attributions agree", EVF_STATISTIC,
              "bootstrap 99 % lower bound > 0.7", 0.75, True, EVF_CONTROL, 0.25, False),
    ])


# ---------------------------------------------------------------- claims 2.1 and 2.2


def pretext_rows() -> pd.DataFrame:
    """Per-item Pearson (items 0, 1; seeds 0, 1) between tasks a, b, the untrained
    randomised_0, randomised_1 and reference_0; pooled rows (item NaN) all 0. Features: the
    tasks' within - reference is 0.5 (seed 0) and 0.25 (seed 1), the untrained ones' 0;
    examples: 5/6 - 1/2 = 1/3 for the tasks, 0.5 for the untrained ones."""
    values = {
        "features": {("a", "b"): (0.75, 0.5), ("a", "reference_0"): (0.25, 0.25), ("b", "reference_0"): (0.25, 0.25),
                     ("randomised_0", "randomised_1"): (0.25, 0.25), ("randomised_0", "reference_0"): (0.25, 0.25),
                     ("randomised_1", "reference_0"): (0.25, 0.25)},
        "examples": {("a", "b"): (5 / 6, 5 / 6), ("a", "reference_0"): (0.5, 0.5), ("b", "reference_0"): (0.5, 0.5),
                     ("randomised_0", "randomised_1"): (0.75, 0.75), ("randomised_0", "reference_0"): (0.25, 0.25),
                     ("randomised_1", "reference_0"): (0.25, 0.25)},
    }
    rows = []
    for kind, pairs in values.items():
        for (a, b), by_seed in pairs.items():
            for seed, value in enumerate(by_seed):
                rows += [{"seed": seed, "kind": kind, "task_a": a, "task_b": b, "item": item, "pearson": value,
                          "spearman": NAN} for item in (0.0, 1.0)]
                rows.append({"seed": seed, "kind": kind, "task_a": a, "task_b": b, "item": NAN, "pearson": 0.0,
                             "spearman": 0.0})
    return pd.DataFrame(rows)


def test_shared_structure_per_item_within_minus_reference_mean_over_seeds():
    table = pretext_rows()
    # item 1 of seed 1: the tasks' Pearson 1.0 and a missing one, which is left out
    table.loc[(table.kind == "features") & (table.task_a == "a") & (table.task_b == "b") & (table.seed == 1)
              & (table["item"] == 1.0), "pearson"] = 1.0
    extra = {"seed": 1, "kind": "features", "task_a": "a", "task_b": "b", "item": 1.0, "pearson": NAN,
             "spearman": NAN}
    table = pd.concat([table, pd.DataFrame([extra])], ignore_index=True)
    trained = tables._shared_structure(table, "features", False)
    # item 0: (0.5 + 0.25) / 2; item 1: (0.5 + 0.75) / 2
    pd.testing.assert_series_equal(trained, pd.Series([0.375, 0.625], index=pd.Index([0.0, 1.0], name="item"),
                                                      name="pearson"))
    untrained = tables._shared_structure(table, "examples", True)
    pd.testing.assert_series_equal(untrained, pd.Series([0.5, 0.5], index=pd.Index([0.0, 1.0], name="item"),
                                                        name="pearson"))


def test_pretext_claims_exact_table_with_the_default_margin():
    control = "untrained encoders (every layer re-initialised) in place of the tasks"
    tail = "[mean Pearson between a task's and an untrained encoder's]"
    assert_rows(tables.pretext_claims(pretext_rows(), "MNIST"), [
        claim("MNIST: features importance of different pretext tasks shares learned structure (claim 2.1)",
              "mean over test images of [mean Pearson between two tasks' Gradient SHAP over non-blank pixels] - "
              + tail, "bootstrap 99 % lower bound > 0.04", 0.375, True, control, 0.0, False),
        claim("MNIST: examples importance of different pretext tasks shares learned structure (claim 2.2)",
              "mean over test images of [mean Pearson between two tasks' DKNN over the sub-train set] - " + tail,
              "bootstrap 99 % lower bound > 0.04", THIRD, True, control, 0.5, True),
    ])
    given = tables.pretext_claims(pretext_rows(), "MNIST", margin=0.4)
    assert given.threshold.tolist() == ["bootstrap 99 % lower bound > 0.4"] * 2
    assert given.verdict.tolist() == ["fail", "fail"]  # 0.375 and 1/3 under 0.4


# ---------------------------------------------------------------- claim 3


def disvae_rows(groups: dict[tuple[str, str], dict[str, dict[int, tuple]]],
                pooled: dict[tuple[str, str, str, int], tuple] | None = None) -> pd.DataFrame:
    """Correlations of two images per (dataset, loss), model and beta, by seed (one pair of
    seeds for both images, or one pair per image); each model's ``pooled`` value by seed
    from ``pooled[(dataset, loss, model, beta)]`` (NaN where not given)."""
    rows = []
    for (dataset, loss), models in groups.items():
        for model, betas in models.items():
            for beta, by_seed in betas.items():
                per_image = by_seed if isinstance(by_seed[0], tuple) else (by_seed, by_seed)
                whole = (pooled or {}).get((dataset, loss, model, beta), (NAN,) * len(per_image[0]))
                rows += [{"dataset": dataset, "loss": loss, "beta": beta, "seed": seed, "model": model, "image": image,
                          "correlation": value, "pooled": whole[seed]}
                         for image, values in enumerate(per_image) for seed, value in enumerate(values)]
    return pd.DataFrame(rows)


def test_disvae_claims_at_demo_scale_lowest_minus_highest_beta_in_table_order():
    table = disvae_rows({
        ("mnist", "beta_vae"): {"trained": {1: ((0.25, 0.5), (0.5, 0.75)), 5: (0.875, 0.875), 10: (0.25, 0.25)},
                                "randomised": {1: (0.5, 0.5), 5: (0.5, 0.5), 10: (0.5, 0.5)},
                                "random_attribution": {1: (0.9, 0.9), 5: (0.9, 0.9), 10: (0.0, 0.0)}},
        ("dsprites", "foo"): {"trained": {1: (5 / 6, 5 / 6), 10: (0.5, 0.5)},
                              "random_attribution": {1: (0.9, 0.9), 10: (0.5, 0.5)}},
    })
    statistic = "mean over images of correlation at beta=1 - at beta=10"
    control = "independent random saliency maps per unit at beta=10"
    what = "raising beta does not decorrelate the saliency maps"
    # mnist: per image 0.375 - 0.25 and 0.625 - 0.25; the bootstrap interval of two values is
    # their range (either is drawn twice with probability 1/4 > 1 %)
    assert_rows(tables.disvae_claims(table, "demo"), [
        claim(f"mnist, beta-VAE: {what}", statistic, "bootstrap 99 % upper bound < 0.4", 0.25, True, control, 0.5,
              False, ci=(0.125, 0.375)),
        claim(f"dsprites, foo: {what}", statistic, "bootstrap 99 % upper bound < 0.4", THIRD, True, control, THIRD,
              True),
    ])
    given = tables.disvae_claims(table, "demo", max_drop=0.35)
    assert given.threshold.tolist() == ["bootstrap 99 % upper bound < 0.35"] * 2
    assert given["pass"].tolist() == [False, True]  # upper bounds 0.375 and 1/3


def paper_disvae_rows() -> pd.DataFrame:
    """Per-image correlations of 0.9 everywhere (the per-image mean is not the paper's
    statistic) and pooled values that decide the claims; runs 0 and 1."""
    flat = (0.9, 0.9)
    return disvae_rows({
        ("mnist", "beta_vae"): {"trained": {1: flat, 2: flat, 5: flat}, "random_attribution": {1: flat, 2: flat, 5: flat}},
        ("dsprites", "beta_tcvae"): {"trained": {1: flat}, "random_attribution": {1: flat}},
        ("mnist", "foo"): {"trained": {1: (0.5, 0.5), 10: (0.25, 0.25)},
                           "random_attribution": {1: (0.9, 0.9), 10: (0.5, 0.5)}},
    }, pooled={
        ("mnist", "beta_vae", "trained", 1): (0.25, 0.375), ("mnist", "beta_vae", "random_attribution", 1): (0.0, 0.0),
        ("mnist", "beta_vae", "trained", 2): (0.5, 0.5), ("mnist", "beta_vae", "random_attribution", 2): (0.0, 0.0),
        ("mnist", "beta_vae", "trained", 5): (0.5, 0.5), ("mnist", "beta_vae", "random_attribution", 5): (0.25, 0.25),
        ("dsprites", "beta_tcvae", "trained", 1): (0.25, 0.25),
        ("dsprites", "beta_tcvae", "random_attribution", 1): (0.5, 0.5),
    })


POOLED_STATISTIC = "pooled correlation between latent units (FACT's pearson_saliency)"


def test_disvae_claims_at_paper_scale_every_published_beta_then_the_demo_form():
    statistic = f"mean over runs of the {POOLED_STATISTIC}"
    control = "independent random saliency maps per unit"
    assert_rows(tables.disvae_claims(paper_disvae_rows(), "paper"), [
        claim("mnist, beta-VAE: saliency correlation at beta=1 as published", statistic, "within 0.1 of FACT's 0.24",
              0.3125, True, control, 0.0, False, ci=(0.14, 0.34)),
        claim("mnist, beta-VAE: saliency correlation at beta=5 as published", statistic, "within 0.1 of FACT's 0.25",
              0.5, False, control, 0.25, True, ci=(0.15, 0.35)),
        claim("dsprites, beta-TCVAE: saliency correlation at beta=1 as published", statistic,
              "within 0.1 of FACT's 0.22", 0.25, True, control, 0.5, False, ci=(0.12, 0.32)),
        claim("mnist, foo: raising beta does not decorrelate the saliency maps",
              "mean over images of correlation at beta=1 - at beta=10", "bootstrap 99 % upper bound < 0.4", 0.25, True,
              "independent random saliency maps per unit at beta=10", 0.0, True),
    ])


def fact_rows(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["dataset", "loss", "beta", "seed", "pearson"])


def test_disvae_claims_compare_facts_files_run_for_run():
    fact = fact_rows([
        ("mnist", "beta_vae", 5.0, 0, 0.5), ("mnist", "beta_vae", 5.0, 1, 0.4375),  # claims go in order of beta
        ("mnist", "beta_vae", 1.0, 0, 0.28125), ("mnist", "beta_vae", 1.0, 1, 0.375),
        ("mnist", "beta_vae", 1.0, 7, 0.0),  # a run not explained: not compared
        ("mnist", "beta_vae", 2.0, 5, 0.5),  # no run in common
        ("mnist", "beta_vae", 3.0, 0, 0.5), ("mnist", "beta_vae", 10.0, 0, 0.5),  # betas not explained: no claim
        ("mnist", "beta_tcvae", 1.0, 0, 0.9), ("dsprites", "beta_vae", 1.0, 0, 0.9),  # other VAEs
        ("dsprites", "beta_tcvae", 1.0, 1, 0.25),
    ])
    got = tables.disvae_claims(paper_disvae_rows(), "paper", fact=fact)
    statistic = f"largest |ours - FACT's metrics.csv| over the files' runs, {POOLED_STATISTIC}"
    control = "independent random saliency maps per unit in ours' place"
    name = "FACT's VAE files give FACT's published saliency correlation at beta="
    expected = [
        claim(f"mnist, beta-VAE: {name}1 (runs 0, 1)", statistic, "<= 0.05", 0.03125, True, control, 0.375, False,
              ci=(-0.05, 0.05)),
        not_applicable(f"mnist, beta-VAE: {name}2", f"{statistic} (not applicable: none of the runs explained "
                       "([0, 1]) is in FACT's metrics.csv)", "<= 0.05", control),
        claim(f"mnist, beta-VAE: {name}5 (runs 0, 1)", statistic, "<= 0.05", 0.0625, False, control, 0.25, False,
              ci=(-0.05, 0.05)),
        claim(f"dsprites, beta-TCVAE: {name}1 (runs 1)", statistic, "<= 0.05", 0.0, True, control, 0.25, False,
              ci=(-0.05, 0.05)),
    ]
    assert_rows(got[got.claim.str.contains("FACT's VAE files")].reset_index(drop=True), expected)
    assert len(got) == 4 + 4  # the published means stay
    wider = tables.disvae_claims(paper_disvae_rows(), "paper", fact=fact, tolerance=0.0625)
    files = wider[wider.claim.str.contains("FACT's VAE files")]
    assert files.threshold.tolist() == ["<= 0.0625"] * 4
    assert files["pass"].tolist() == [True, False, True, True]  # a gap of exactly the tolerance passes
    assert tables.disvae_claims(paper_disvae_rows(), "demo", fact=fact).claim.str.contains("FACT").sum() == 0
    # random maps that land on FACT's values: the control passes, the claim is uninformative
    rows = paper_disvae_rows()
    rows.loc[(rows.dataset == "dsprites") & (rows.model == "random_attribution"), "pooled"] = 0.25
    tied = tables.disvae_claims(rows, "paper", fact=fact)
    tied = tied[tied.claim.str.startswith("dsprites") & tied.claim.str.contains("FACT's VAE files")].iloc[0]
    assert (tied.control_value, tied.control_pass, tied.verdict) == (0.0, True, "uninformative")


# ---------------------------------------------------------------- LaTeX and user data


def latex_rows() -> pd.DataFrame:
    pooled = {("reconstruction", "reconstruction"): (1.0, 1.0), ("reconstruction", "denoising"): (0.5, 0.7),
              ("denoising", "reconstruction"): (0.25,), ("denoising", "denoising"): (0.8, 1.0)}
    rows = [{"seed": seed, "kind": "features", "task_a": a, "task_b": b, "item": NAN, "pearson": value,
             "spearman": value / 2} for (a, b), by_seed in pooled.items() for seed, value in enumerate(by_seed)]
    rows += [{"seed": 0, "kind": "features", "task_a": a, "task_b": b, "item": 0.0, "pearson": 0.0, "spearman": NAN}
             for a, b in pooled]  # per-item rows: not tabulated
    rows += [{"seed": 0, "kind": "examples", "task_a": a, "task_b": b, "item": NAN, "pearson": -0.5, "spearman": -0.5}
             for a, b in pooled]
    return pd.DataFrame(rows)


LATEX = (r"\begin{tabular}{lcc}" "\n" r"\toprule" "\n" r" & Reconstruction & Denoising \\" "\n" r"\midrule" "\n"
         r"Reconstruction & 1.00 $\pm$ 0.00 & 0.60 $\pm$ 0.14 \\" "\n" r"Denoising & 0.25 & 0.90 $\pm$ 0.14 \\" "\n"
         r"\bottomrule" "\n" r"\end{tabular}" "\n")


def test_latex_table_exact_text_of_the_pooled_rows():
    table = latex_rows()
    assert tables.latex_table(table, "features", ["reconstruction", "denoising"]) == LATEX
    assert tables.latex_table(table.drop(columns="item").iloc[:7], "features", ["reconstruction", "denoising"]) == LATEX
    spearman = tables.latex_table(table, "features", ["reconstruction", "denoising"], statistic="spearman")
    assert r"Reconstruction & 0.50 $\pm$ 0.00 & 0.30 $\pm$ 0.07 \\" in spearman
    single = tables.latex_table(table, "examples", ["denoising"])
    assert single == (r"\begin{tabular}{lc}" "\n" r"\toprule" "\n" r" & Denoising \\" "\n" r"\midrule" "\n"
                      r"Denoising & -0.50 \\" "\n" r"\bottomrule" "\n" r"\end{tabular}" "\n")


def test_user_data_not_applicable_exact_rows_at_both_scales():
    skipped = "a user-data run explains the user's images only"
    demo = [
        not_applicable("ECG5000: label-free feature importance (claim 1.1)",
                       "representation shift after masking the top features (not applicable: "
                       f"{skipped}; the demo's ECG truth is a planted T wave)", "-", "random feature ranking"),
        not_applicable("dSprites: raising beta does not decorrelate the saliency maps (claim 3)",
                       "correlation between latent units' saliency (not applicable: "
                       f"{skipped}; dSprites' factors are planted)", "-", "independent random saliency maps per unit"),
    ]
    assert_rows(tables.user_data_not_applicable("demo"), demo)
    published = "the user's images are not MNIST: no published value to compare with"
    assert_rows(tables.user_data_not_applicable("paper"), demo + [
        not_applicable("MNIST: encoder and full-model attributions correlate as published",
                       f"mean per-image Pearson (not applicable: {published})", "within 0.1 of FACT's",
                       "re-initialised full model"),
        not_applicable("MNIST: saliency correlation as published (claim 3)",
                       f"mean per-image correlation between latent units (not applicable: {published})",
                       "within 0.1 of FACT's", "independent random saliency maps per unit"),
    ])
