"""The claims of the pianist study on hand-made sign counts and accuracies: a recovered planted
truth passes, a chance-level classifier or a TCAV that cannot tell the planted pairs fails,
and each claim's control is the same statistic on its null."""

import numpy as np
import pandas as pd
import pytest

from xairepro.common.claims import broken_invariants, claims_only, failed_claims
from xairepro.pianist.tables import claims, every_pair, pair_tests, ranking_test

THRESHOLDS = {"accuracy_tolerance": 0.03}
# 4 planted of 16 pairs: the smallest p of the ranking test is 1 / C(16, 4), below 1 %
PERFORMERS, CONCEPTS = ("a", "b", "c", "d"), ("w", "x", "y", "z")
TRUTH = {"planted": {"a": ["x"], "b": ["y"], "c": ["z"], "d": ["w"]}}
N_E = 10


def _long(planted: float, seed: int = 0, control_like_concept: bool = False) -> pd.DataFrame:
    """Sign counts per performer, concept and experiment: planted pairs around ``planted``,
    unplanted near 0, random and control CAVs uniform on [0, 1] (the TCAV null)."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in PERFORMERS:
        random = rng.random(N_E)
        for c in CONCEPTS:
            mean = planted if c in TRUTH["planted"][p] else 0.05
            counts = np.clip(mean + 0.03 * rng.standard_normal(N_E), 0, 1)
            control = counts if control_like_concept else rng.random(N_E)
            rows += [{"performer": p, "concept": c, "experiment": e, "sign_count": counts[e],
                      "random_sign_count": random[e], "control_sign_count": control[e]} for e in range(N_E)]
    return pd.DataFrame(rows)


def _accuracy(track: float, randomised: float) -> pd.DataFrame:
    return pd.DataFrame({"model": ["resnet", "disentangle"], "split": ["test", "test"],
                         "track_accuracy": [track, track], "randomised_track_accuracy": [randomised, randomised],
                         "n_tracks": [24, 24], "n_classes": [4, 4]})


CAVS = {"cavs": np.zeros((4, N_E, 24), np.float32), "layer_shape": np.array([4, 3, 2])}


def test_recovered_planted_truth_passes_every_demo_claim_against_its_control():
    table = claims(_accuracy(1.0, 0.25), _long(0.95), TRUTH, "demo", THRESHOLDS, cavs=CAVS)
    assert failed_claims(table) == [] and broken_invariants(table) == []
    rows = claims_only(table)
    assert len(rows) == 4 and (rows.control != "").all() and not rows.control_pass.any()
    assert (rows.p_value < 0.01).all()


def test_chance_level_classifier_fails_the_accuracy_claims():
    table = claims(_accuracy(6 / 24, 7 / 24), _long(0.95), TRUTH, "demo", THRESHOLDS).set_index("claim")
    assert table.filter(like="identifies", axis=0).verdict.tolist() == ["fail", "fail"]


def test_planted_pairs_at_random_level_fail_both_tcav_claims():
    """Planted pairs scoring like the random CAVs (sign count 0.5): nothing beats the null."""
    table = claims(_accuracy(1.0, 0.25), _long(0.5), TRUTH, "demo", THRESHOLDS).set_index("claim")
    assert table.loc["TCAV finds each planted concept in its performer's playing", "verdict"] == "fail"
    # planted above unplanted still holds (0.5 vs 0.05): a ranking, not a test against random
    assert table.loc["sign counts rank planted concept-performer pairs above unplanted pairs", "verdict"] == "pass"


def test_a_control_that_behaves_like_the_concept_makes_the_claims_uninformative():
    table = claims(_accuracy(1.0, 1.0), _long(0.95, control_like_concept=True), TRUTH, "demo", THRESHOLDS)
    assert set(claims_only(table).verdict) == {"uninformative"}
    assert len(failed_claims(table)) == 4


def test_every_pair_is_an_intersection_union_test():
    long = _long(0.95)
    pairs = pair_tests(long, TRUTH)
    assert len(pairs) == 4 and all(d.passed for d in pairs)
    combined = every_pair(pairs)
    assert combined.p_value == max(d.p_value for d in pairs) and combined.value == min(d.value for d in pairs)
    one_pair_lost = long.copy()
    lost = (one_pair_lost.performer == "a") & (one_pair_lost.concept == "x")
    one_pair_lost.loc[lost, "sign_count"] = one_pair_lost.loc[lost, "random_sign_count"]
    assert not every_pair(pair_tests(one_pair_lost, TRUTH)).passed
    with pytest.raises(ValueError, match="planted"):
        every_pair([])


def test_ranking_test_compares_pair_means():
    result = ranking_test(_long(0.95), TRUTH)
    assert result.passed and result.value == pytest.approx(0.9, abs=0.05)


def test_cav_size_invariant_breaks_when_the_layer_differs():
    wrong = {**CAVS, "layer_shape": np.array([4, 3, 3])}
    table = claims(_accuracy(1.0, 0.25), _long(0.95), TRUTH, "demo", THRESHOLDS, cavs=wrong)
    assert broken_invariants(table) == ["the CAVs live in the harmony layer read from the model"]


def test_paper_claims_compare_with_the_published_accuracies():
    accuracy = _accuracy(0.95, 0.05).assign(track_accuracy=[0.95, 0.90], n_classes=[20, 20])
    table = claims(accuracy, _long(0.95), None, "paper", THRESHOLDS)
    assert list(table.threshold) == ["within 0.03 of 0.944", "within 0.03 of 0.913"]
    assert list(table.verdict) == ["pass", "pass"]
    worse = accuracy.assign(track_accuracy=[0.80, 0.90])
    assert list(claims(worse, _long(0.95), None, "paper", THRESHOLDS).verdict) == ["fail", "pass"]


LIME_THRESHOLDS = {**THRESHOLDS, "lime_coverage": [0.05, 0.8], "lime_share": 0.8}


def _lime(coverage: np.ndarray, control: np.ndarray) -> dict:
    return {"note_coverage": np.asarray(coverage, np.float32), "control_note_coverage": np.asarray(control, np.float32)}


def test_outlining_masks_pass_the_lime_claim_and_whole_or_empty_masks_fail_it():
    rng = np.random.default_rng(0)
    partial = rng.uniform(0.1, 0.7, 48)
    degenerate = np.r_[np.ones(33), np.zeros(12), rng.uniform(0.1, 0.7, 3)]  # the demo's masks before the fix
    table = claims(_accuracy(1.0, 0.25), _long(0.95), TRUTH, "demo", LIME_THRESHOLDS, cavs=CAVS,
                   lime=_lime(partial, degenerate)).set_index("claim")
    row = table.filter(like="LIME", axis=0).iloc[0]
    assert row.verdict == "pass" and row.value == 1.0 and row.p_value < 0.01
    assert row.control_value == pytest.approx(3 / 48, abs=1e-4) and not row.control_pass
    assert "#" not in row.name and "#" not in row.statistic


def test_lime_claim_fails_when_a_fifth_of_the_masks_cover_every_note():
    coverage = np.r_[np.full(38, 0.3), np.ones(10)]  # 38 of 48 outline: 0.79, not above 0.8
    table = claims(_accuracy(1.0, 0.25), _long(0.95), TRUTH, "demo", LIME_THRESHOLDS,
                   lime=_lime(coverage, np.zeros(48))).set_index("claim")
    assert table.filter(like="LIME", axis=0).verdict.tolist() == ["fail"]


def test_lime_claim_needs_its_control_and_silent_rolls_never_outline():
    from xairepro.pianist.tables import outlining

    assert outlining(np.array([0.0, 0.05, 0.5, 0.8, 0.81, 1.0, np.nan]), 0.05, 0.8).tolist() == [
        False, True, True, True, False, False, False]
    table = claims(_accuracy(1.0, 0.25), _long(0.95), TRUTH, "demo", THRESHOLDS,
                   lime={"note_coverage": np.full(48, 0.3)})  # no control (paper scale): no claim
    assert not table.claim.str.contains("LIME").any()
