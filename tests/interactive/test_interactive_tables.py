"""Claims of the interactive study from small hand-made tables."""

import pandas as pd

from xairepro.interactive.data import classifier_name, parse_classifier
from xairepro.interactive.tables import claims

CFG = {"min_acc_gain": 0.1, "mass_methods": ["integrated_gradients"], "max_guided_corr": 0.99,
       "min_latent_acc_gain": 0.0, "min_rising_share": 0.8,
       "min_nonfalling_share": 0.9, "mono_tol": 0.5}


def test_claims_pass_and_fail_where_they_should():
    classifiers = pd.DataFrame({"classifier": ["celeb-Smiling", "celeb-Male"], "valid_acc": [0.9, 0.6],
                                "baseline_acc": [0.5, 0.55]})
    heatmaps = pd.DataFrame({"classifier": ["celeb-Smiling"] * 3, "method": ["integrated_gradients", "guided_backprop",
                                                                          "saliency_smoothgrad_sq"],
                             "region_area": [0.1, 0.1, 0.1], "mass_to_area": [2.0, 0.5, 0.5],
                             "corr_with_gradient": [0.3, 0.999, 0.2]})
    latent = pd.DataFrame({"attr": ["Smiling"], "valid_bce": [0.3], "baseline_bce": [0.69], "valid_acc": [0.9],
                           "baseline_acc": [0.5]})
    generative = pd.DataFrame({"direction": ["Smiling", "Male"], "rising_share": [1.0, 0.5],
                               "nonfalling_share": [0.95, 1.0]})
    table = claims(classifiers, heatmaps, latent, generative, {"original_relative_deviation_mean": 0.4}, CFG)
    assert list(table.columns) == ["claim", "metric", "value", "expected", "tolerance", "pass"]
    by_claim = dict(zip(table.claim, table["pass"]))
    assert by_claim["classifier celeb-Smiling beats the class baseline"]
    assert not by_claim["classifier celeb-Male beats the class baseline"]
    assert by_claim["integrated_gradients heatmap mass of celeb-Smiling falls on the planted region"]
    assert not by_claim["guided_backprop of celeb-Smiling differs from the plain gradient (ReLU hooks active)"]
    assert by_claim["moving along the latent Smiling direction raises the Smiling score"]
    assert by_claim["moving along the latent Smiling direction raises the Smiling score monotonically"]
    assert not by_claim["moving along the latent Male direction raises the Male score"]
    assert by_claim["moving along the latent Male direction raises the Male score monotonically"]
    assert len(table) == 2 + 1 + 1 + 2 + 2 * 2 + 1


def test_classifier_names_follow_the_originals_folders():
    assert classifier_name("celeb", "Smiling") == "celeb-Smiling"
    assert classifier_name("flowers102", "49-65") == "flowers102_c49-c65"
    assert parse_classifier("flowers102_c63-c54") == ("flowers102", (63, 54))
    assert parse_classifier("celeb-Heavy_Makeup") == ("celeb", "Heavy_Makeup")
