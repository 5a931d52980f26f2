import numpy as np
import pandas as pd
import torch

from xairepro.metrics.curves import summarise_curves
from xairepro.metrics.occlusion import sign_counts


def test_sign_counts_tabulate_input_and_gradient_signs():
    x = torch.tensor([[1.0, -2.0, 0.0, 3.0, -1.0]])
    g = torch.tensor([[-1.0, -1.0, 2.0, 0.0, 5.0]])
    mask = torch.tensor([[True, True, True, True, False]])
    counts = sign_counts(x, g, mask)
    expected = np.zeros((3, 3), dtype=np.int64)
    expected[0, 1] = 1  # x>0, g<0
    expected[1, 1] = 1  # x<0, g<0
    expected[2, 0] = 1  # x=0, g>0
    expected[0, 2] = 1  # x>0, g=0
    np.testing.assert_array_equal(counts, expected)
    assert counts.sum() == mask.sum()


def test_summarise_curves_over_seeds():
    frame = pd.DataFrame({"k": [0, 0, 10, 10], "seed": [0, 1, 0, 1], "accuracy": [1.0, 0.8, 0.5, 0.7]})
    out = summarise_curves(frame, ["k"]).set_index("k")
    assert out.loc[10, "mean"] == 0.6
    assert out.loc[0, "min"] == 0.8 and out.loc[0, "max"] == 1.0
    assert out.loc[10, "count"] == 2
