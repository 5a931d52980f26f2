"""Claims of the interactive study from small hand-made tables: each claim passes on a
planted effect, fails at chance level, and its control is the named null."""

import numpy as np
import pandas as pd
import pytest

from xairepro.common.claims import COLUMNS, broken_invariants, claims_only, failed_claims
from xairepro.interactive.data import classifier_name, parse_classifier
from xairepro.interactive.tables import claims, face_moves, monotonicity_index

CFG = {"mass_methods": {"celeb": ["integrated_gradients"], "flowers": []}, "max_guided_corr": 0.99, "mono_tol": 0.5}
N_IMAGES, N_FACES, STEPS = 10, 12, 7
# random directions: the score changes either way
NULL_CHANGES = np.array([3.0, -2.5, 1.0, -4.0, 0.5, -1.0, 2.0, -3.5, 4.5, -0.5, 1.5, -2.0])


def heatmap_rows(rank_trained, rank_random, rank_twin, corr=0.2):
    rows = []
    for model, ranks in (("trained", rank_trained), ("randomised", rank_random), ("randomised_twin", rank_twin)):
        for i, rank in enumerate(ranks):
            rows.append({"classifier": "celeb-Smiling", "image": f"{i}.jpg", "method": "integrated_gradients",
                         "model": model, "region_area": 0.1, "relevance_rank": rank,
                         "corr_with_gradient": corr if model == "trained" else np.nan})
            if model == "trained":
                rows.append({**rows[-1], "method": "guided_backprop", "relevance_rank": np.nan})
    return pd.DataFrame(rows)


def move_rows(change_latent, change_random, wobble=0.0):
    """Moves of N_FACES faces along one direction: linear in the step with a per-face total
    change, plus an alternating wobble."""
    rows = []
    for move, changes in (("latent", change_latent), ("random", change_random)):
        for i, change in enumerate(changes):
            for s in range(STEPS):
                logit = change * s / (STEPS - 1) + wobble * (-1) ** s
                rows.append({"move": move, "direction": "Smiling", "image": f"{i}.jpg", "step": s,
                             "shift": s - 3, "eval_logit": logit, "own_logit": logit})
    return pd.DataFrame(rows)


def inputs(*, acc=0.95, random_acc=0.5, rank=None, twin=None, moves=None):
    rng = np.random.default_rng(0)
    random_rank = 0.15 + 0.05 * rng.standard_normal(N_IMAGES)
    rank = 0.4 + 0.05 * rng.standard_normal(N_IMAGES) if rank is None else rank
    twin = 0.15 + 0.05 * rng.standard_normal(N_IMAGES) if twin is None else twin
    validation = pd.DataFrame({"classifier": ["celeb-Smiling"], "n_valid": [75], "valid_acc": [acc],
                               "baseline_acc": [0.55], "randomised_acc": [random_acc]})
    if moves is None:
        moves = move_rows(rng.uniform(3, 8, N_FACES), NULL_CHANGES)
    return (validation, heatmap_rows(rank, random_rank, twin), moves,
            {"original_relative_deviation_mean": 0.4}, CFG)


def verdicts(table):
    return dict(zip(table.claim, table.verdict))


def test_planted_effects_pass_with_every_control_failing():
    table = claims(*inputs())
    assert list(table.columns) == list(COLUMNS)
    assert failed_claims(table) == [] and broken_invariants(table) == []
    assert (claims_only(table)["control"] != "").all() and not claims_only(table)["control_pass"].any()
    # 1 classifier, 1 heatmap claim, 1 move; 2 invariants (guided backprop, truncation)
    assert len(claims_only(table)) == 1 + 1 + 1 and len(table) == 3 + 2


def test_chance_level_inputs_fail_every_claim():
    rng = np.random.default_rng(1)
    chance = inputs(acc=0.55, rank=0.15 + 0.05 * rng.standard_normal(N_IMAGES),
                    moves=move_rows(NULL_CHANGES[::-1], NULL_CHANGES))
    table = claims(*chance)
    assert set(verdicts(claims_only(table)).values()) == {"fail"}, table.to_string()


def test_a_control_that_passes_makes_its_claim_uninformative():
    rng = np.random.default_rng(2)
    table = claims(*inputs(random_acc=0.95, twin=0.4 + 0.05 * rng.standard_normal(N_IMAGES)))
    got = verdicts(table)
    assert got["classifier celeb-Smiling beats the class baseline"] == "uninformative"
    assert got["integrated_gradients heatmap of celeb-Smiling finds the planted region "
               "(trained vs randomised classifier)"] == "uninformative"


def test_guided_map_equal_to_the_gradient_breaks_its_invariant():
    validation, heatmaps, *rest = inputs()
    heatmaps.loc[heatmaps.method == "guided_backprop", "corr_with_gradient"] = 0.999
    assert broken_invariants(claims(validation, heatmaps, *rest)) == [
        "guided_backprop differs from the plain gradient (ReLU hooks act)"]


def test_monotonicity_index_of_known_moves():
    assert monotonicity_index([0.0, 1.0, 2.0, 3.0], tol=0.0) == 1.0
    assert monotonicity_index([3.0, 2.0, 0.0], tol=0.0) == -1.0
    # a reversal costs twice its size: up 4, down 2 -> (2) / (6 + 0.5)
    assert monotonicity_index([0.0, 4.0, 2.0], tol=0.5) == pytest.approx(2 / 6.5)
    # noise on a saturated plateau scores near 0, a flip after it near 1
    assert abs(monotonicity_index([-10.6, -10.5, -10.7, -10.6], tol=0.5)) < 0.1
    assert monotonicity_index([-10.6, -10.5, -10.7, -10.6, -10.8, -8.3, 2.8]) > 0.9


def test_face_moves_per_face_statistics():
    table = move_rows([6.0] * N_FACES, [-6.0] * N_FACES)
    faces = face_moves(table).set_index(["move", "image"])
    assert faces.loc[("latent", "0.jpg"), "own_change"] == pytest.approx(6.0)
    assert faces.loc[("latent", "0.jpg"), "monotonicity"] == pytest.approx(6.0 / 6.5)
    assert faces.loc[("random", "0.jpg"), "own_change"] == pytest.approx(-6.0)


def test_classifier_names_follow_the_originals_folders():
    assert classifier_name("celeb", "Smiling") == "celeb-Smiling"
    assert classifier_name("flowers102", "49-65") == "flowers102_c49-c65"
    assert parse_classifier("flowers102_c63-c54") == ("flowers102", (63, 54))
    assert parse_classifier("celeb-Heavy_Makeup") == ("celeb", "Heavy_Makeup")
