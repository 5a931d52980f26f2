"""LIME on a roll finds the region a hand-made classifier looks at."""

import numpy as np
import torch
from torch import nn

from xairepro.pianist.explain import LimeRoll, explain_roll, note_coverage

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


def _sparse_roll(n_frames: int = 60) -> np.ndarray:
    """A demo-like roll: ~5 % of the cells sound (short notes on a silent background)."""
    rng = np.random.default_rng(1)
    roll = np.zeros((88, n_frames), np.float32)
    for _ in range(30):
        pitch, start = rng.integers(20, 70), rng.integers(0, n_frames - 8)
        roll[pitch, start:start + rng.integers(3, 8)] = rng.uniform(0.3, 1.0)
    return roll


def test_quickshift_kernel_sets_the_number_of_superpixels_of_a_sparse_roll():
    """lime's default kernel (4 px) merges a sparse 88 x 60 roll into a handful of superpixels,
    so that the top 5 are the whole roll or nothing; a 1 px kernel cuts it into dozens."""
    roll = _sparse_roll()
    coarse = LimeRoll(RegisterModel(), **FLAGS).attribute(roll[None], **ARGS)
    fine = LimeRoll(RegisterModel(), segmentation={"kernel_size": 1, "max_dist": 200, "ratio": 0.2},
                    **FLAGS).attribute(roll[None], **ARGS)
    assert coarse["n_segments"][0] <= 6 < 30 < fine["n_segments"][0]


def test_feature_selection_none_fits_every_superpixel_and_keeps_the_top_positive():
    roll = _roll()
    seg = {"kernel_size": 1, "max_dist": 200, "ratio": 0.2}
    out = LimeRoll(RegisterModel(), segmentation=seg, feature_selection="none", **FLAGS).attribute(roll[None], **ARGS)
    mask = out["mask"][0]
    assert 0 < mask.sum() < mask.size
    assert mask[70:80, 20:30].any() and not mask[20:30, 5:15].any()


def test_note_coverage_is_the_share_of_sounding_cells_inside_the_mask():
    rolls = np.zeros((4, 88, 10), np.float32)
    rolls[:3, 40, :] = 1.0                        # 10 sounding cells in each of the first three rolls
    masks = np.zeros((4, 88, 10), bool)
    masks[1, 40, :4] = True                       # 4 of 10
    masks[2] = True                               # the whole roll
    masks[3, 0, 0] = True                         # a silent roll: undefined
    cover = note_coverage(masks, rolls)
    assert cover[:3].tolist() == [0.0, 0.4, 1.0] and np.isnan(cover[3])


def test_sounding_only_never_outlines_silence():
    """A silent superpixel hidden with hide_color 0 leaves the roll unchanged: its weight is
    noise, and with sounding_only it is never outlined."""
    roll = _sparse_roll()
    seg = {"kernel_size": 1, "max_dist": 200, "ratio": 0.2}
    args = {**ARGS, "num_features": 5}
    loose = LimeRoll(RegisterModel(), segmentation=seg, feature_selection="none", **FLAGS).attribute(roll[None], **args)
    strict = LimeRoll(RegisterModel(), segmentation=seg, feature_selection="none", sounding_only=True,
                      **FLAGS).attribute(roll[None], **args)
    from lime.wrappers.scikit_image import SegmentationAlgorithm
    from skimage.color import gray2rgb

    segments = SegmentationAlgorithm("quickshift", **seg, random_seed=FLAGS["random_state"])(gray2rgb(roll.astype(float)))
    assert len(np.unique(segments)) == strict["n_segments"][0] == loose["n_segments"][0]

    def silent_outlined(mask):
        return [k for k in np.unique(segments[mask]) if not (roll[segments == k] > 0).any()]

    assert strict["mask"].any() and silent_outlined(strict["mask"][0]) == []
    assert silent_outlined(loose["mask"][0])  # without it, noise outlines silence on this roll


def test_memoised_classifier_calls_the_model_once_per_distinct_roll_and_answers_the_same():
    from xairepro.pianist.explain import classifier_fn

    calls = []

    class Counting(RegisterModel):
        def forward(self, x):
            calls.append(len(x))
            return super().forward(x)

    rolls = np.stack([_roll(), np.zeros((88, 40), np.float32), _roll()])
    images = np.repeat(rolls[..., None], 3, axis=-1)   # (3, 88, 40, 3), rolls 0 and 2 equal
    plain = classifier_fn(Counting())(images)
    memo = classifier_fn(Counting(), memo=True)
    first, again = memo(images), memo(images[::-1].copy())
    assert calls == [3, 2]                               # plain: 3; memo: 2 distinct, then none
    assert np.allclose(first, plain) and np.allclose(again, plain[::-1])
