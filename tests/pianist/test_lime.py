"""LIME on a roll finds the region a hand-made classifier looks at."""

import numpy as np
import torch
from torch import nn

from xairepro.pianist.explain import LimeRoll, explain_roll

FLAGS = {"kernel_width": 0.25, "hide_color": 0.0, "distance_metric": "cosine", "random_state": 42}
ARGS = {"num_samples": 150, "num_features": 2, "top_labels": 2, "batch_size": 50}


class RegisterModel(nn.Module):
    """Class 1 iff there are notes in the top two octaves (rows 64..87), else class 0."""

    def forward(self, x):
        high = x[:, 0, 64:].mean((1, 2)) * 50
        return torch.stack([-high, high], dim=1)


def _roll():
    rng = np.random.default_rng(0)
    roll = np.zeros((88, 40), np.float32)
    roll[20:30, 5:15] = rng.uniform(0.5, 1.0, (10, 10))  # low notes: ignored by the model
    roll[70:80, 20:30] = rng.uniform(0.5, 1.0, (10, 10))  # high notes: the evidence
    return roll


def test_lime_outlines_the_notes_the_classifier_uses():
    out = LimeRoll(RegisterModel(), **FLAGS).attribute(_roll()[None], **ARGS)
    assert out["label"].tolist() == [1] and out["probability"][0] > 0.5
    assert out["mask"].shape == (1, 88, 40) and out["mask"].dtype == bool
    mask = out["mask"][0]
    assert mask[70:80, 20:30].mean() > 0.5
    assert mask[20:30, 5:15].mean() < 0.5


def test_explain_roll_is_the_explainer_on_one_roll_and_a_batch_is_roll_by_roll():
    roll = _roll()
    single = explain_roll(RegisterModel(), roll, **ARGS, **FLAGS)
    batch = LimeRoll(RegisterModel(), **FLAGS).attribute(np.stack([roll, roll[::-1].copy(), roll]), **ARGS)
    assert np.array_equal(batch["mask"][0], single["mask"]) and np.array_equal(batch["mask"][2], single["mask"])
    assert batch["label"][0] == single["label"] and batch["probability"][0] == np.float32(single["probability"])


def test_a_given_target_is_the_class_explained():
    out = LimeRoll(RegisterModel(), **FLAGS).attribute(_roll()[None], target=0, **ARGS)
    assert out["label"].tolist() == [0] and out["probability"][0] < 0.5
    assert out["mask"][0, 70:80, 20:30].mean() < 0.5  # the high notes speak against class 0
