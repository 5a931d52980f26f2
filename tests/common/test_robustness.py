"""Claims across studies and seed offsets: the cross-study table, pass rates, the figure."""

import numpy as np
import pandas as pd
from PIL import Image

from xairepro.common.claims import Claims
from xairepro.common.io import write_csv
from xairepro.common.robustness import cross_study_table, offset_table, pass_rates, plot_pass_rates
from xairepro.common.stats import Decision

PASS, FAIL = Decision(1.0, True, p_value=0.001), Decision(0.0, False, p_value=0.5)


def claims_file(path, outcomes: dict[str, tuple[Decision, Decision]]):
    table = Claims(digits=4)
    for name, (result, control) in outcomes.items():
        table.claim(name, "statistic", "p < 0.01", result, "weights randomised", control)
    table.invariant("k = 0 occludes nothing", "pixels", 0, "== 0", True)
    write_csv(path, table.frame(), {"study": "x"})
    return path


def test_the_cross_study_table_puts_the_study_first(tmp_path):
    a = claims_file(tmp_path / "a.csv", {"a1": (PASS, FAIL)})
    b = claims_file(tmp_path / "b.csv", {"b1": (PASS, PASS), "b2": (FAIL, FAIL)})
    table = cross_study_table({"alpha": a, "beta": b})
    assert list(table.columns[:3]) == ["study", "claim", "kind"]
    claims = table[table.kind == "claim"]
    assert claims.groupby("study").size().to_dict() == {"alpha": 1, "beta": 2}
    assert claims.verdict.tolist() == ["pass", "uninformative", "fail"]


def test_pass_rates_count_a_failed_run_as_missing_claims(tmp_path):
    zero = {"alpha": claims_file(tmp_path / "a0.csv", {"a1": (PASS, FAIL), "a2": (PASS, FAIL)})}
    one = {"alpha": claims_file(tmp_path / "a1.csv", {"a1": (PASS, FAIL), "a2": (PASS, PASS)})}
    reference = cross_study_table(zero)
    per_offset = offset_table({0: zero, 1: one, 2: {"alpha": None}}, reference)
    assert len(per_offset) == 6 and set(per_offset[per_offset.offset == 2].verdict) == {"missing"}
    rates = pass_rates(per_offset).set_index("claim")
    assert rates.loc["a1", "pass_rate"] == 2 / 3 and rates.loc["a1", "not_passed_at"] == "2:missing"
    assert rates.loc["a2", "passed"] == 1 and rates.loc["a2", "not_passed_at"] == "1:uninformative 2:missing"


def test_the_pass_rate_figure_shows_every_verdict(tmp_path):
    per_offset = pd.DataFrame({"study": "alpha", "claim": ["c1", "c1", "c2", "c2"], "offset": [0, 1, 0, 1],
                               "verdict": ["pass", "fail", "uninformative", "missing"], "value": np.nan,
                               "control_value": np.nan})
    plot_pass_rates(per_offset, "alpha", tmp_path / "fig.png")
    pixels = np.asarray(Image.open(tmp_path / "fig.png").convert("RGB")).reshape(-1, 3)
    for colour in ("#4c9a5f", "#e0b040", "#c0392b", "#9e9e9e"):
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(pixels - rgb).sum(axis=1) < 8).sum() > 500, colour
