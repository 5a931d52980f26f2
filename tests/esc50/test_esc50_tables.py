"""Interpretation table and claims of the esc50 study."""

import numpy as np
import pandas as pd

from xairepro.common.claims import COLUMNS, broken_invariants, claims_only, failed_claims
from xairepro.esc50.tables import claims, interpretation_table

N = 48  # the demo's test clips: 12 per class


def clips(method, arch, fid, control_fid=None, rank=0.6, control_rank=0.0, n=N, seed=0):
    """Per-clip rows of one interpreter: ``fid`` clips of ``n`` keep the prediction."""
    rng = np.random.default_rng(seed)
    keep = np.zeros(n)
    keep[:fid] = 1
    control = np.zeros(n)
    control[:n // 4 if control_fid is None else control_fid] = 1
    share = rng.uniform(0.03, 0.07, n)
    return pd.DataFrame({"method": method, "arch": arch, "filename": [f"c{i}" for i in range(n)],
                         "target": np.arange(n) % 4, "prediction": np.arange(n) % 4,
                         "fidelity_to_input": keep, "faithfulness_mask_in": 0.01,
                         "fidelity_to_input_mask_out": 0.5, "faithfulness_mask_out": 0.02,
                         "control_fidelity_to_input": control, "control_faithfulness_mask_in": 0.0,
                         "control_fidelity_to_input_mask_out": 1.0, "control_faithfulness_mask_out": 0.0,
                         "area_share": share, "relevance_rank": share + rank * rng.uniform(0.5, 1.5, n),
                         "control_relevance_rank": share + control_rank * rng.uniform(0.5, 1.5, n) - 0.01,
                         "relevance_mass": 0.6, "control_relevance_mass": 0.01, "planted_ratio": 3.0,
                         "oracle_fidelity_to_input": 0.9})


def accuracy(correct=45, control_correct=12, arch="conv2d", accuracy_pct=None):
    return pd.DataFrame({"arch": [arch], "n_classes": [4], "n_test": [N], "test_correct": [correct],
                         "randomised_test_correct": [control_correct],
                         "test_accuracy": [100 * correct / N if accuracy_pct is None else accuracy_pct],
                         "randomised_test_accuracy": [100 * control_correct / N]})


def overlap(shift=0.1, control_shift=0.0, n=N, seed=0):
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0.05, 0.1, n)
    return pd.DataFrame({"target": 0, "prediction_mixture": 0,  # every mixture heard as its source
                         "mask_in_source_region": noise + shift * rng.uniform(0.2, 1.8, n),
                         "mask_in_noise_region": noise,
                         "control_mask_in_source_region": noise + control_shift + rng.normal(0, 0.01, n),
                         "control_mask_in_noise_region": noise})


def test_table_means_over_clips_with_controls_and_published_numbers():
    table = interpretation_table([clips("piq", "conv2d", 24), clips("amt", "vit", 12)])
    piq = table.set_index(["method", "arch"]).loc[("piq", "conv2d")]
    assert piq.fidelity_to_input == 0.5 and piq.n_clips == N and piq.chance_fidelity == 0.25
    assert piq.control_fidelity_to_input == 0.25 and piq.oracle_fidelity_to_input == 0.9
    assert {"relevance_rank", "control_relevance_rank", "area_share"} <= set(table.columns)
    amt = table.set_index(["method", "arch"]).loc[("amt", "vit")]
    assert (amt.published_fidelity_to_input, amt.published_faithfulness) == (0.225, 0.0109)


def test_demo_claims_pass_with_their_controls_failing():
    frame = claims(clips("piq", "conv2d", 24), accuracy(), overlap(), "demo")
    assert list(frame.columns) == list(COLUMNS)
    assert failed_claims(frame) == [] and broken_invariants(frame) == []
    assert len(claims_only(frame)) == 4  # overlap, planted region, fidelity, accuracy
    assert frame.control.str.len().gt(0).all() and (~frame.control_pass).all()
    tested = frame.p_value.notna()
    assert (frame.p_value[tested] < 0.01).all() and (frame.ci_low[~tested] > 0.25).all()


def test_chance_level_explainer_or_classifier_fails_its_claim():
    """The claims can fail: a fidelity of 16 in 48 (p ~ 0.2 against 1/4), a classifier at
    chance, a mask no better than random on the planted box, no preference in the mixtures."""
    frame = claims(clips("piq", "conv2d", 16, rank=0.0), accuracy(correct=13), overlap(shift=0.0), "demo")
    assert (frame.verdict == "fail").all(), frame.to_string()


def test_a_control_that_passes_makes_the_claim_uninformative():
    """If the interpreter on the randomised classifier finds the planted box too, the
    localisation claim does not test the explanation."""
    frame = claims(clips("piq", "conv2d", 24, control_rank=0.6), accuracy(), overlap(), "demo").set_index("claim")
    assert frame.loc["piq (conv2d) mask localises the planted region", "verdict"] == "uninformative"


def test_l2i_is_in_the_table_but_not_claimed():
    frame = claims(clips("l2i", "conv2d", 12), accuracy(), None, "demo")
    assert not frame.claim.str.contains("l2i").any()


def test_paper_claims_compare_with_the_readme_table():
    frame = claims(clips("piq", "vit", 12, n=400), accuracy(arch="cnn14", accuracy_pct=81.0), None, "paper")
    # fidelity 0.25 vs 0.110 published; faithfulness 0.01 vs 0.0121 within 0.005; accuracy 81 vs 82
    assert list(frame["pass"]) == [False, True, True]
    assert list(frame["verdict"]) == ["fail", "pass", "pass"]
