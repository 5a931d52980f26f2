"""The singing-voice claims of lossgrad on synthetic per-excerpt arrays (no torch)."""

import numpy as np
import pandas as pd

from xairepro.common.claims import broken_invariants, claims_only, failed_claims
from xairepro.lossgrad.tables import condition, detection_accuracy, svd_claims

LEVELS = (920, 2760)


def _svd_inputs(informative=True, n=300, seed=0):
    """Clean predictions and occlusion items of a detector whose g*x occlusion lowers every
    excerpt's loss and moves its detection towards the truth (or, ``informative=False``, does what the
    randomised network's ranking does: nothing systematic)."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 10 < 4).astype(np.float64)  # 40 % sung
    correct = rng.random(n) < 0.96
    smooth = np.where(correct == (labels > 0.5), 0.9, 0.1)
    predictions = {"test_labels": labels, "test_smooth": smooth, "threshold": np.array(0.5),
                   "control_test_smooth": rng.random(n), "control_test_frames": np.arange(n),
                   "control_threshold": np.array(0.5)}
    clean_loss = rng.uniform(0.05, 0.5, n)
    clean_margin = rng.normal(0.3, 0.2, n)
    names, loss, margin = [], [], []

    def add(method, k, l, m):
        names.append(condition(method, "mean", 1, k))
        loss.append(l)
        margin.append(m)

    def noise():
        return clean_loss + rng.normal(0, 0.05, n), clean_margin + rng.normal(0, 0.05, n)

    for method in ("random", "abs_grad", "grad_inp", "abs_grad@randomised", "grad_inp@randomised"):
        add(method, 0, clean_loss, clean_margin)
        for k in LEVELS:
            if method == "grad_inp" and informative:
                add(method, k, clean_loss * 0.5, clean_margin + 0.1)
            elif method == "abs_grad" and informative:
                add(method, k, clean_loss + 0.3, clean_margin)
            elif method.startswith("abs_grad"):
                add(method, k, clean_loss + 0.1 + rng.normal(0, 0.05, n), clean_margin)
            else:
                add(method, k, *noise())
    items = {"conditions": np.array(names), "loss": np.stack(loss), "margin": np.stack(margin)}
    roar = pd.DataFrame([{"method": "random", "replacement": "mean", "order": 1, "k": k,
                          "max_abs_diff_clean": 0.0} for k in (0, *LEVELS)])
    return pd.DataFrame(), predictions, roar, items


def test_svd_claims_pass_with_controls_when_gx_occlusion_helps():
    claims = svd_claims(*_svd_inputs(), scale="demo")
    assert failed_claims(claims) == []
    assert broken_invariants(claims) == []
    assert (claims_only(claims).control != "").all() and len(claims_only(claims)) == 4


def test_svd_claims_fail_when_the_ranking_is_the_randomised_networks():
    claims = claims_only(svd_claims(*_svd_inputs(informative=False), scale="demo")).set_index("claim")
    occlusion = claims[~claims.index.str.contains("detector")]
    assert (occlusion.verdict == "fail").all(), occlusion.verdict


def test_svd_detection_claim_fails_for_a_chance_level_detector():
    _, predictions, roar, items = _svd_inputs()
    predictions["test_smooth"] = np.random.default_rng(1).random(len(predictions["test_labels"]))
    claims = claims_only(svd_claims(pd.DataFrame(), predictions, roar, items, scale="demo")).set_index("claim")
    assert claims.filter(like="detector", axis=0).verdict.eq("fail").all()


def test_detection_accuracy_counts_matches_on_every_step_th_frame():
    smooth, labels = np.array([0.9, 0.1, 0.8, 0.7]), np.array([1, 1, 0, 1])
    np.testing.assert_array_equal(detection_accuracy(smooth, labels, 0.5), [1, 0, 0, 1])
    np.testing.assert_array_equal(detection_accuracy(smooth, labels, 0.5, step=2), [1, 0])
