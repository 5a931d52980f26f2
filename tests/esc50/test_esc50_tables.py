"""Interpretation table and claims of the esc50 study."""

import pandas as pd

from xairepro.esc50.tables import claims, interpretation_table


def clips(method, arch, fid, oracle=None):
    frame = pd.DataFrame({"method": method, "arch": arch, "filename": ["a", "b", "c", "d"], "target": [0, 1, 2, 3],
                          "fidelity_to_input": fid, "faithfulness_mask_in": 0.01, "fidelity_to_input_mask_out": 0.5,
                          "faithfulness_mask_out": 0.02, "planted_ratio": 3.0})
    if oracle is not None:
        frame["oracle_fidelity_to_input"] = oracle
    return frame


def test_table_means_over_clips_and_marks_published_numbers():
    table = interpretation_table([clips("piq", "conv2d", [1, 1, 0, 0], [1, 0, 0, 0]), clips("amt", "vit", [1, 0, 0, 0])])
    piq = table.set_index(["method", "arch"]).loc[("piq", "conv2d")]
    assert piq.fidelity_to_input == 0.5 and piq.n_clips == 4 and piq.chance_fidelity == 0.25
    assert piq.oracle_fidelity_to_input == 0.25
    amt = table.set_index(["method", "arch"]).loc[("amt", "vit")]
    assert (amt.published_fidelity_to_input, amt.published_faithfulness) == (0.225, 0.0109)


def test_demo_claims_check_planted_truth_and_chance():
    table = interpretation_table([clips("piq", "conv2d", [1, 1, 0, 0], [1, 0, 0, 0])])
    overlap = pd.DataFrame({"ratio": [2.0, 3.0, 0.5]})
    accuracy = pd.DataFrame({"arch": ["conv2d"], "test_accuracy": [80.0]})
    c = claims(table, accuracy, overlap, "demo").set_index("claim")["pass"]
    assert c.all() and len(c) == 4  # overlap, planted region, fidelity, accuracy; the oracle is a column only
    at_chance = interpretation_table([clips("piq", "conv2d", [1, 0, 0, 0], [1, 1, 1, 1])])
    c = claims(at_chance, accuracy, overlap, "demo").set_index("claim")["pass"]
    assert not c["piq (conv2d) fidelity-to-input above chance"] and c.drop("piq (conv2d) fidelity-to-input above chance").all()
    l2i = interpretation_table([clips("l2i", "conv2d", [1, 0, 0, 0])])  # not in the README table: no claim
    assert not claims(l2i, accuracy, overlap, "demo").claim.str.contains("fidelity").any()


def test_paper_claims_compare_with_the_readme_table():
    table = interpretation_table([clips("piq", "vit", [0, 0, 0, 1])])  # 0.25 vs 0.110 published
    accuracy = pd.DataFrame({"arch": ["cnn14"], "test_accuracy": [81.0]})
    c = claims(table, accuracy, None, "paper")
    assert list(c["pass"]) == [False, True, True]  # fidelity off by 0.14; faithfulness 0.01 vs 0.0121 is within
