"""Exact tables that kill the mutants of xairepro/interactive/tables.py (issue 24, `make
mutation`, docs/testing.md): every claim's wording, order, pairing and value on small
hand-made tables, the groups kept and skipped, ties at every threshold (a guided map's
correlation equal to the limit, a step equal to -tol, a flat move), and defaults used when
an argument is not given. The explainers' mutants: test_interactive_mutants_explain.py."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest, spearmanr

from xairepro.common.claims import COLUMNS
from xairepro.common.stats import wilcoxon_greater
from xairepro.interactive.tables import (_accuracy_above_majority, claims, face_moves, monotonicity,
                                         monotonicity_index, spearman, summarise_heatmaps, summarise_records,
                                         user_claims)

RANDOMISED = "same classifier, every layer randomised (cascading)"
TWIN = "a second randomised copy in place of the trained classifier"
RANDOM_MOVES = "the same faces moved along random latent directions, one per face"
TRUNCATION = ("phase 1 truncation uses w_avg + psi (w - w_avg); the original's w_avg + psi (w + w_avg) "
              "would move w (recorded deviation)")
N_IMAGES = 8


# --------------------------------------------------------------------------- records and heatmaps
def test_summarise_records_keeps_the_named_columns_in_order():
    records = [{"classifier": "a", "n_train": 3, "extra": 1.0}, {"classifier": "b", "n_train": 5, "extra": 2.0}]
    out = summarise_records(records, ["n_train", "classifier"])
    pd.testing.assert_frame_equal(out, pd.DataFrame({"n_train": [3, 5], "classifier": ["a", "b"]}))


def heat(classifier, method, model, image, mass, area, rank, rel_mass, corr):
    return {"classifier": classifier, "method": method, "model": model, "image": image, "region_mass": mass,
            "region_area": area, "relevance_rank": rank, "relevance_mass": rel_mass, "corr_with_gradient": corr}


def test_summarise_heatmaps_means_per_group_in_order_of_appearance():
    # two tables whose indexes overlap; groups first met as (flowers, ig, trained),
    # (celeb, ig, randomised), (celeb, ig, trained): not the sorted order
    first = pd.DataFrame([heat("flowers", "ig", "trained", "a", 0.2, 0.1, 0.5, 0.3, 0.9),
                          heat("celeb", "ig", "randomised", "a", 0.1, 0.2, 0.25, 0.5, np.nan)])
    second = pd.DataFrame([heat("flowers", "ig", "trained", "b", 0.4, 0.3, 1.0, 0.1, 0.7),
                           heat("celeb", "ig", "trained", "a", 0.6, 0.2, 0.75, 0.25, 0.5)])
    out = summarise_heatmaps([first, second])
    want = pd.DataFrame({"classifier": ["flowers", "celeb", "celeb"], "method": ["ig", "ig", "ig"],
                         "model": ["trained", "randomised", "trained"], "n_images": [2, 1, 1],
                         "region_mass": [0.3, 0.1, 0.6], "region_area": [0.2, 0.2, 0.2],
                         "relevance_rank": [0.75, 0.25, 0.75], "relevance_mass": [0.2, 0.5, 0.25],
                         "corr_with_gradient": [0.8, np.nan, 0.5]})
    want["mass_to_area"] = want["region_mass"] / want["region_area"]
    pd.testing.assert_frame_equal(out, want)
    assert out["mass_to_area"].tolist() == pytest.approx([1.5, 0.5, 3.0])


def test_summarise_heatmaps_without_model_or_relevance_columns():
    # a table of trained maps only, no Quantus scores: model "trained", relevance NaN
    table = pd.DataFrame([heat("c", "gb", None, "a", 0.5, 0.25, 0, 0, 0.1)]).drop(
        columns=["model", "relevance_rank", "relevance_mass"])
    out = summarise_heatmaps([table])
    assert out.columns.tolist() == ["classifier", "method", "model", "n_images", "region_mass", "region_area",
                                    "relevance_rank", "relevance_mass", "corr_with_gradient", "mass_to_area"]
    row = out.iloc[0]
    assert (row.model, row.n_images, row.region_mass, row.mass_to_area) == ("trained", 1, 0.5, 2.0)
    assert np.isnan(row.relevance_rank) and np.isnan(row.relevance_mass)
    assert out["relevance_rank"].dtype == out["relevance_mass"].dtype == np.float64


# --------------------------------------------------------------------------- moves
def test_spearman_of_a_flat_and_of_a_unit_span_score():
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([4.0, 4.0, 4.0])) == 0.0
    # a span of exactly 1 is not flat
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5])) == pytest.approx(0.5)
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])) == -1.0


def test_monotonicity_index_default_tol_and_unsigned_scores():
    assert monotonicity_index([0.0, 2.0, 1.0]) == pytest.approx(1.0 / 3.5)  # (1) / (2 + 1 + 0.5)
    assert monotonicity_index([0.0, 2.0, 1.0], tol=0.0) == pytest.approx(1.0 / 3.0)
    # uint8 scores are read as floats: a fall from 3 to 1 is -2, not a wrap-around to 254
    assert monotonicity_index(np.array([3, 1], dtype=np.uint8)) == pytest.approx(-2.0 / 2.5)


SHIFT = [-1.5, -0.5, 0.5, 1.5]
FACES = {  # image -> own logits by step, eval logits by step
    "z.png": ([0.0, 1.0, 1.0, 0.5], [0.0, 0.5, 1.0, 0.2]),   # a flat step, a fall of exactly 0.5; eval span 1
    "a.png": ([2.0, 2.0, 2.0, 2.0], [1.0, 2.0, 3.0, 4.0]),   # flat: no change, no rise, spearman 0
    "m.png": ([0.0, 1.0, 2.0, 3.0], [3.0, 2.0, 1.0, 0.0]),   # strictly rising by 1 a step
}


def move_table(with_move=True):
    rows = []
    for move, sign in (("latent", 1.0), ("random", -1.0)) if with_move else (("latent", 1.0),):
        for image, (own, ev) in FACES.items():
            for step in (2, 0, 3, 1):  # rows out of step order
                row = {"direction": "Smiling", "image": image, "step": step, "shift": SHIFT[step],
                       "eval_logit": ev[step], "own_logit": sign * own[step]}
                rows.append({"move": move, **row} if with_move else row)
    return pd.DataFrame(rows)


def test_face_moves_exact_per_face_rows():
    out = face_moves(move_table(), tol=0.5)
    assert out.columns.tolist() == ["move", "direction", "image", "own_change", "monotonicity", "spearman_own",
                                    "spearman_eval", "strictly_increasing", "rises", "nonfalling_steps", "n_steps"]
    assert out["move"].tolist() == ["latent"] * 3 + ["random"] * 3
    assert out["image"].tolist() == ["z.png", "a.png", "m.png"] * 2  # order of appearance, not sorted
    latent = out[out.move == "latent"].set_index("image")
    z, a, m = latent.loc["z.png"], latent.loc["a.png"], latent.loc["m.png"]
    assert (z.own_change, z.monotonicity) == (0.5, pytest.approx(0.5 / (1.5 + 0.5)))
    assert z.spearman_own == pytest.approx(spearmanr(SHIFT, FACES["z.png"][0]).statistic)
    assert z.spearman_eval == pytest.approx(spearmanr(SHIFT, FACES["z.png"][1]).statistic)
    assert not z.strictly_increasing and z.rises and z.nonfalling_steps == 3 and z.n_steps == 3
    assert (a.own_change, a.monotonicity, a.spearman_own, a.spearman_eval) == (0.0, 0.0, 0.0, 1.0)
    assert not a.strictly_increasing and not a.rises and a.nonfalling_steps == 3
    assert m.strictly_increasing and m.rises and m.monotonicity == pytest.approx(3.0 / 3.5)
    random = out[out.move == "random"].set_index("image").loc["z.png"]
    assert random.own_change == -0.5 and random.nonfalling_steps == 2 and not random.rises


def test_face_moves_default_tol_and_a_table_without_move():
    out = face_moves(move_table(with_move=False)).set_index("image")
    assert out["move"].tolist() == ["latent"] * 3
    assert out.loc["z.png", "monotonicity"] == pytest.approx(0.5 / 2.0)  # default tol 0.5
    assert out.loc["z.png", "nonfalling_steps"] == 3
    tight = face_moves(move_table(with_move=False), tol=0.25).set_index("image")
    assert tight.loc["z.png", "nonfalling_steps"] == 2  # the 0.5 fall is more than 0.25
    assert tight.loc["z.png", "monotonicity"] == pytest.approx(0.5 / 1.75)


def test_face_moves_rise_compares_the_two_ends_only():
    rows = [{"direction": "A", "image": "x", "step": s, "shift": s, "eval_logit": v, "own_logit": v}
            for s, v in enumerate([1.0, 2.0, 2.0, 0.0])]  # up, flat, then down below the start
    face = face_moves(pd.DataFrame(rows)).iloc[0]
    assert not face.rises and face.own_change == -1.0


def test_monotonicity_keeps_the_order_of_appearance():
    out = monotonicity(move_table().iloc[::-1])  # random moves first
    assert out["move"].tolist() == ["random", "latent"]
    assert out["rising_share"].tolist() == [0.0, pytest.approx(2 / 3)]


def test_monotonicity_exact_summary_and_default_tol():
    out = monotonicity(move_table(), tol=0.25)
    assert out.columns.tolist() == ["move", "direction", "n_images", "rising_share", "nonfalling_share",
                                    "own_change", "monotonicity", "spearman_own", "spearman_eval",
                                    "strictly_increasing", "tol"]
    latent = out.iloc[0]
    assert (latent.move, latent.direction, latent.n_images, latent.tol) == ("latent", "Smiling", 3, 0.25)
    assert latent.rising_share == pytest.approx(2 / 3) and latent.strictly_increasing == pytest.approx(1 / 3)
    assert latent.nonfalling_share == pytest.approx(8 / 9)  # z's 0.5 fall is more than 0.25
    assert latent.own_change == pytest.approx(3.5 / 3)
    assert latent.monotonicity == pytest.approx((0.5 / 1.75 + 0 + 3 / 3.25) / 3)
    assert out.iloc[1].move == "random" and out.iloc[1].rising_share == 0.0
    default = monotonicity(move_table())
    assert default["tol"].tolist() == [0.5, 0.5] and default.iloc[0].nonfalling_share == 1.0


# --------------------------------------------------------------------------- claims
def test_accuracy_above_majority_rounds_the_count():
    got = _accuracy_above_majority(0.95, 75, 0.55)  # 71.25 -> 71 correct of 75
    assert got.value == 71 / 75 and got.p_value == binomtest(71, 75, 0.55, alternative="greater").pvalue


CFG = {"mass_methods": {"celeb": ["integrated_gradients", "guided_backprop"], "flowers": ["saliency_smoothgrad_sq"]},
       "max_guided_corr": 0.5, "mono_tol": 0.25}
IMAGES = [f"{i}.png" for i in (3, 0, 7, 5, 1, 6, 2, 4)]  # rows out of image order
TRAINED_RANK = np.array([0.9, 0.85, 0.8, 0.7, 0.95, 0.75, 0.6, 0.65])  # by sorted image 0..7
RANDOM_RANK = np.array([0.1, 0.5, 0.2, 0.3, 0.15, 0.4, 0.05, 0.35])
TWIN_RANK = np.array([0.2, 0.1, 0.3, 0.25, 0.0, 0.45, 0.1, 0.3])


def rank_rows(classifier, method, scale=1.0):
    rows = []
    for model, ranks, order in (("trained", TRAINED_RANK, IMAGES), ("randomised", RANDOM_RANK, IMAGES[::-1]),
                                ("randomised_twin", TWIN_RANK, IMAGES[2:] + IMAGES[:2])):
        for image in order:
            i = int(image[0])
            rows.append({"classifier": classifier, "method": method, "model": model, "image": image,
                         "region_area": 0.1, "relevance_rank": scale * ranks[i], "corr_with_gradient": 0.95})
    return rows


def guided_rows():
    rows = []  # gradcam first (not sorted); per classifier means 0.2 / 0.5 and 0.1 / 0.3
    for method, corr in (("guided_gradcam", {"celeb-Smiling": [0.1, 0.3], "flowers102_c2-c1": [0.4, 0.6]}),
                         ("guided_backprop", {"celeb-Smiling": [0.0, 0.2], "flowers102_c2-c1": [0.2, 0.4]})):
        for classifier, values in corr.items():
            for image, value in zip(("0.png", "1.png"), values):
                rows.append({"classifier": classifier, "method": method, "model": "trained", "image": image,
                             "region_area": np.nan, "relevance_rank": 0.0, "corr_with_gradient": value})
                rows.append({**rows[-1], "model": "randomised", "corr_with_gradient": 0.9})
    return rows


CHANGES = np.array([3.0, 2.5, 4.0, 1.5, 5.0, 2.0, 3.5, 0.5])
NULL = np.array([1.0, -2.0, 0.5, -1.5, 2.5, -0.5, 1.5, -3.0])


def moves_rows():
    rows = []
    for move, direction, changes in (("random", "Extra", NULL), ("latent", "Smiling", CHANGES),
                                     ("random", "Smiling", NULL)):
        for i, change in enumerate(changes):
            for s in range(3):
                rows.append({"move": move, "direction": direction, "image": f"{i}.png", "step": s,
                             "shift": s - 1, "eval_logit": 0.0, "own_logit": change * s / 2})
    return pd.DataFrame(rows)


def claims_inputs(dev=0.4):
    validation = pd.DataFrame({"classifier": ["flowers102_c2-c1", "celeb-Smiling"], "n_valid": [75, 40],
                               "valid_acc": [0.95, 0.8], "baseline_acc": [0.5512, 0.6],
                               "randomised_acc": [0.5, 0.55]})
    heatmaps = pd.DataFrame(rank_rows("flowers102_c2-c1", "integrated_gradients")  # not a flowers method
                            + rank_rows("flowers102_c2-c1", "saliency_smoothgrad_sq", scale=0.5)
                            + rank_rows("celeb-Smiling", "saliency_smoothgrad_sq")  # not a celeb method
                            + rank_rows("celeb-Smiling", "integrated_gradients") + guided_rows())
    return validation, heatmaps, moves_rows(), {"original_relative_deviation_mean": dev}, CFG


def round6(x):
    return round(float(x), 6)


def test_claims_exact_table():
    table = claims(*claims_inputs())
    assert table.columns.tolist() == list(COLUMNS)
    heat_claim = "{} heatmap of {} finds the planted region (trained vs randomised classifier)"
    assert table["claim"].tolist() == [
        "classifier flowers102_c2-c1 beats the class baseline", "classifier celeb-Smiling beats the class baseline",
        heat_claim.format("saliency_smoothgrad_sq", "flowers102_c2-c1"),
        heat_claim.format("integrated_gradients", "celeb-Smiling"),
        "guided_gradcam differs from the plain gradient (ReLU hooks act)",
        "guided_backprop differs from the plain gradient (ReLU hooks act)",
        "moving along the latent Smiling direction raises the Smiling score", TRUNCATION]
    assert table["kind"].tolist() == ["claim"] * 4 + ["invariant"] * 2 + ["claim", "invariant"]
    rank_statistic = ("per image, Quantus relevance rank accuracy on the planted region minus that of the same "
                      "method on the classifier with every layer randomised (8 images), Wilcoxon signed-rank")
    assert table["statistic"].tolist() == [
        "validation accuracy (75 images), exact binomial test", "validation accuracy (40 images), exact binomial test",
        rank_statistic, rank_statistic, "largest per-classifier mean Pearson r with the gradient",
        "largest per-classifier mean Pearson r with the gradient",
        "per face, own logit at +ampl minus at -ampl (8 faces), Wilcoxon signed-rank",
        "mean ||w_original - w|| / ||w||"]
    assert table["threshold"].tolist() == [
        "p < 0.01 vs the majority share 0.551", "p < 0.01 vs the majority share 0.600", "one-sided p < 0.01",
        "one-sided p < 0.01", "< 0.5", "< 0.5", "one-sided p < 0.01", "> 0 when w_avg != 0"]
    assert table["control"].tolist() == [RANDOMISED, RANDOMISED, TWIN, TWIN, "", "", RANDOM_MOVES, ""]
    # values: binomial counts 71/75 and 32/40; ranks paired by image; the worst classifier's mean
    flowers = binomtest(71, 75, 0.5512, alternative="greater").pvalue
    celeb = binomtest(32, 40, 0.6, alternative="greater").pvalue
    assert table["p_value"].iloc[:2].tolist() == [round6(flowers), round6(celeb)]
    assert table["control_p_value"].iloc[:2].tolist() == [
        round6(binomtest(38, 75, 0.5512, alternative="greater").pvalue),  # 37.5 rounds to 38
        round6(binomtest(22, 40, 0.6, alternative="greater").pvalue)]
    for row, scale in ((2, 0.5), (3, 1.0)):
        want = wilcoxon_greater(scale * TRAINED_RANK, scale * RANDOM_RANK)
        control = wilcoxon_greater(scale * TWIN_RANK, scale * RANDOM_RANK)
        assert (table["value"].iloc[row], table["p_value"].iloc[row]) == (round6(want.value), round6(want.p_value))
        assert table["control_p_value"].iloc[row] == round6(control.p_value)
    assert table["value"].iloc[4:6].tolist() == [0.5, pytest.approx(0.3)]
    move, move_control = wilcoxon_greater(CHANGES), wilcoxon_greater(NULL)
    assert table["value"].iloc[6] == round6(move.value) and table["p_value"].iloc[6] == round6(move.p_value)
    assert table["control_value"].iloc[6] == round6(move_control.value)
    assert table["value"].iloc[7] == 0.4
    # guided gradcam's worst mean equals the limit: broken (the limit is strict)
    assert table["verdict"].tolist() == ["pass", "pass", "pass", "pass", "broken", "holds", "pass", "holds"]


def test_claims_round_to_six_digits():
    validation, heatmaps, moves, record, cfg = claims_inputs(dev=0.123456789)
    table = claims(validation, heatmaps, moves, record, cfg)
    assert table["value"].iloc[-1] == 0.123457
    assert table["value"].iloc[0] == round(71 / 75, 6) != 71 / 75


def test_truncation_invariant_at_zero_deviation_is_broken():
    table = claims(*claims_inputs(dev=0.0))
    assert table["verdict"].iloc[-1] == "broken" and table["value"].iloc[-1] == 0.0
    assert claims(*claims_inputs(dev=1.0))["verdict"].iloc[-1] == "holds"


def test_claims_without_move_control_rows_of_another_direction():
    # only latent rows of a direction give a claim; the random-only direction gives none
    validation, heatmaps, moves, record, cfg = claims_inputs()
    table = claims(validation, heatmaps, moves[moves.direction == "Extra"], record, cfg)
    assert not table["claim"].str.startswith("moving along").any()


NO_LABELS = "needs labelled validation images; static_exp.py explains unlabelled ones"
NO_REGIONS = "needs the demo's planted regions; your images carry none"
NO_GENERATOR = "needs a generator and its latent directions; with user_data only the heatmaps run"
TOP = np.array([0.9, 0.8, 0.7, 0.95, 0.6, 0.85, 0.75, 0.65])
RANDOM_DEL = np.array([0.1, 0.2, 0.15, 0.3, 0.05, 0.25, 0.2, 0.1])
SHUFFLED = np.array([0.2, 0.1, 0.2, 0.2, 0.1, 0.3, 0.1, 0.2])


def user_heatmaps():
    rows = []
    # per method, the trained maps' correlations alternate around their mean (0.9, 0.5, 0.25)
    for method, corr in (("integrated_gradients", (0.8, 1.0)), ("guided_gradcam", (0.25, 0.75)),
                         ("guided_backprop", (0.125, 0.375))):
        for i in (3, 0, 7, 5, 1, 6, 2, 4):
            rows.append({"image": f"{i}.png", "method": method, "model": "trained", "deletion_top": TOP[i],
                         "deletion_random": RANDOM_DEL[i], "deletion_shuffled": SHUFFLED[i],
                         "corr_with_gradient": corr[i % 2]})
            rows.append({**rows[-1], "model": "randomised", "deletion_top": 0.0, "corr_with_gradient": 0.99})
    return pd.DataFrame(rows)


def test_user_claims_exact_table():
    cfg = {"mass_methods": {"celeb": ["integrated_gradients", "guided_backprop"],
                            "flowers": ["guided_backprop", "saliency_smoothgrad_sq"]}, "max_guided_corr": 0.5}
    table = user_claims(user_heatmaps(), cfg)
    assert table.columns.tolist() == list(COLUMNS)
    planted = "{} heatmap finds the planted region (trained vs randomised classifier)"
    faithful = "{} heatmap of your classifier is faithful (deletion test)"
    guided = "{} differs from the plain gradient (ReLU hooks act)"
    assert table["claim"].tolist() == [
        "classifier beats the class baseline", planted.format("integrated_gradients"),
        planted.format("guided_backprop"), planted.format("saliency_smoothgrad_sq"),
        "moving along a latent attribute direction raises that attribute's score",
        faithful.format("integrated_gradients"), faithful.format("guided_gradcam"),
        faithful.format("guided_backprop"), guided.format("guided_gradcam"), guided.format("guided_backprop")]
    na_rank = ("per image, Quantus relevance rank accuracy on the planted region minus the randomised classifier's, "
               f"Wilcoxon signed-rank (not applicable: {NO_REGIONS})")
    deletion = ("per image, |logit change| deleting the map's top pixels minus deleting as many random pixels "
                "(8 images), Wilcoxon signed-rank")
    assert table["statistic"].tolist() == [
        f"validation accuracy, exact binomial test (not applicable: {NO_LABELS})", na_rank, na_rank, na_rank,
        f"per face, own logit at +ampl minus at -ampl, Wilcoxon signed-rank (not applicable: {NO_GENERATOR})",
        deletion, deletion, deletion, "mean Pearson r with the gradient over your images",
        "mean Pearson r with the gradient over your images"]
    assert table["threshold"].tolist() == ["p < 0.01 vs the majority share"] + ["one-sided p < 0.01"] * 7 + [
        "< 0.5", "< 0.5"]
    assert table["control"].tolist() == [
        RANDOMISED, TWIN, TWIN, TWIN, RANDOM_MOVES] + [
        "the same map with its pixels shuffled (a map that carries no information)"] * 3 + ["", ""]
    want, control = wilcoxon_greater(TOP, RANDOM_DEL), wilcoxon_greater(SHUFFLED, RANDOM_DEL)
    assert table["value"].iloc[5] == round6(want.value) and table["p_value"].iloc[5] == round6(want.p_value)
    assert table["control_value"].iloc[5] == round6(control.value)
    assert table["control_p_value"].iloc[5] == round6(control.p_value)
    # gradcam's mean over the trained maps is 0.5 exactly (the limit: broken), backprop's 0.25
    assert table["value"].iloc[8:].tolist() == [pytest.approx(0.5), pytest.approx(0.25)]
    assert table["verdict"].tolist() == ["not applicable"] * 5 + ["pass", "pass", "pass", "broken", "holds"]
