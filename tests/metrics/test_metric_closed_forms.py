"""The metrics against values worked out by hand, chosen so that a plausible slip (a sum for a
mean, a median for a mean, totals for per-cell means, a mask applied the other way) changes
the answer."""

import numpy as np
import pandas as pd
import pytest
import torch

from xairepro.metrics.curves import summarise_curves
from xairepro.metrics.interpretation import faithfulness, fidelity_to_input, mask_mass_ratio
from xairepro.metrics.representation import mean_offdiagonal_correlation, representation_shift


def test_representation_shift_is_the_mean_over_items_of_the_squared_distance():
    # identity encoder, d = 3: ||x - x~||^2 = 4 and 16 for the two items -> mean 10
    # (a mean over coordinates as well would give 10/3; a sum over items 20)
    x = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    masked = torch.tensor([[1.0, 0.0, 3.0], [4.0, 0.0, 0.0]])
    assert representation_shift(lambda t: t, x, masked) == pytest.approx(10.0)
    # an encoder that doubles its input quadruples the shift
    assert representation_shift(lambda t: 2 * t, x, masked) == pytest.approx(40.0)


def test_mean_offdiagonal_correlation_matches_a_hand_computed_matrix():
    a = torch.tensor([1.0, 2.0, 3.0, 4.0])
    b = torch.tensor([1.0, -1.0, 1.0, -1.0])  # orthogonal to a's centred version: corr 0
    maps = torch.stack([a, -a, b])[None]  # (1, d=3, 4)
    # off-diagonal: corr(a, -a) = -1 twice, the four others 0 -> -2 / (3 * 2)
    torch.testing.assert_close(mean_offdiagonal_correlation(maps), torch.tensor([-1 / 3]))
    # the correlation is that of the maps, not of their absolute values or of a mean per unit
    scaled = torch.stack([3 * a + 5, -a, b])[None]
    torch.testing.assert_close(mean_offdiagonal_correlation(scaled), torch.tensor([-1 / 3]))


def test_summarise_curves_reports_the_mean_not_the_median():
    frame = pd.DataFrame({"k": [5, 5, 5], "seed": [0, 1, 2], "accuracy": [0.0, 0.0, 0.9]})
    row = summarise_curves(frame, ["k"]).iloc[0]
    assert row["mean"] == pytest.approx(0.3)  # the median is 0
    assert row["std"] == pytest.approx(np.std([0.0, 0.0, 0.9], ddof=1))
    assert (row["min"], row["max"], row["count"]) == (0.0, 0.9, 3)


def test_fidelity_and_faithfulness_on_hand_scores():
    scores = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    masked = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    torch.testing.assert_close(fidelity_to_input(scores, masked), torch.tensor([1.0, 0.0]))
    # clip 0: softmax(2,0,0)_0 - softmax(0,0,0)_0; clip 1: softmax(0,1,0)_1 - softmax(0,0,3)_1
    e = np.e
    expected = torch.tensor([e**2 / (e**2 + 2) - 1 / 3, e / (e + 2) - 1 / (2 + e**3)])
    torch.testing.assert_close(faithfulness(scores, masked), expected)
    # the class is the prediction on X, not on the masked input
    assert faithfulness(scores, masked)[1] > 0


def test_mask_mass_ratio_compares_per_cell_means_not_totals():
    mask = torch.tensor([[1.0, 1.0, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0]])
    region_a = torch.tensor([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])  # 2 cells, mean 1
    region_b = torch.tensor([[0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]])  # 4 cells, mean 0.25
    # per-cell means: 1 / 0.25 = 4; totals would give 2 / 1 = 2
    assert float(mask_mass_ratio(mask, region_a, region_b)) == pytest.approx(4.0)
    batched = mask_mass_ratio(torch.stack([mask, 2 * mask]), torch.stack([region_a] * 2), torch.stack([region_b] * 2))
    torch.testing.assert_close(batched, torch.tensor([4.0, 4.0]))
