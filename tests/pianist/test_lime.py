"""LIME on a roll finds the region a hand-made classifier looks at."""

import numpy as np
import torch
from torch import nn

from xairepro.pianist.lime_roll import explain_roll


class RegisterModel(nn.Module):
    """Class 1 iff there are notes in the top two octaves (rows 64..87), else class 0."""

    def forward(self, x):
        high = x[:, 0, 64:].mean((1, 2)) * 50
        return torch.stack([-high, high], dim=1)


def test_lime_outlines_the_notes_the_classifier_uses():
    rng = np.random.default_rng(0)
    roll = np.zeros((88, 40), np.float32)
    roll[20:30, 5:15] = rng.uniform(0.5, 1.0, (10, 10))  # low notes: ignored by the model
    roll[70:80, 20:30] = rng.uniform(0.5, 1.0, (10, 10))  # high notes: the evidence
    out = explain_roll(RegisterModel(), roll, num_samples=150, num_features=2, top_labels=2, batch_size=50,
                       kernel_width=0.25, hide_color=0.0, distance_metric="cosine", random_state=42)
    assert out["label"] == 1 and out["probability"] > 0.5
    assert out["mask"].shape == (88, 40) and out["mask"].dtype == bool
    assert out["mask"][70:80, 20:30].mean() > 0.5
    assert out["mask"][20:30, 5:15].mean() < 0.5
