"""The claims of the pianist study on hand-made summaries."""

import pandas as pd

from xairepro.pianist.tables import claims

THRESHOLDS = {"min_gap": 0.3, "min_auroc": 0.8, "min_significant": 0.75, "min_track_accuracy": 0.75,
              "accuracy_tolerance": 0.03}
TRUTH = {"planted": {"a": ["x"], "b": ["y"]}}


def _summary(planted_count, p_planted):
    rows = []
    for p, c in (("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")):
        planted = c in TRUTH["planted"][p]
        rows.append({"performer": p, "concept": c, "sign_count": planted_count if planted else 0.1,
                     "random_sign_count": 0.5, "p_bonferroni": p_planted if planted else 0.01})
    return pd.DataFrame(rows)


ACCURACY = pd.DataFrame({"model": ["resnet", "disentangle"], "split": ["test", "test"],
                         "track_accuracy": [0.95, 0.90]})


def test_recovered_planted_truth_passes_every_demo_claim():
    table = claims(_summary(0.95, 0.01), ACCURACY, TRUTH, "demo", THRESHOLDS)
    assert len(table) == 5 and table["pass"].all()


def test_planted_pairs_below_random_fail_the_significance_claim():
    table = claims(_summary(0.3, 0.01), ACCURACY, TRUTH, "demo", THRESHOLDS).set_index("metric")
    assert not table.filter(like="share of planted", axis=0)["pass"].any()
    assert not table.filter(like="planted - unplanted", axis=0)["pass"].any()


def test_paper_claims_compare_with_the_published_accuracies():
    table = claims(_summary(0.95, 0.01), ACCURACY, None, "paper", THRESHOLDS)
    assert list(table["expected"]) == ["0.944", "0.913"] and table["pass"].all()
    worse = ACCURACY.assign(track_accuracy=[0.80, 0.90])
    assert list(claims(_summary(0.95, 0.01), worse, None, "paper", THRESHOLDS)["pass"]) == [False, True]
