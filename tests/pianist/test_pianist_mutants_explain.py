"""Tests written to kill the surviving mutants of xairepro.pianist.explain (issue 24).

LIME is replaced by a recording stand-in (explainer, segmenter and explanation), so that
every flag :class:`LimeRoll` hands to lime is compared in full, defaults included; the
kernel occlusion runs against a stand-in sensitivity whose values are the rolls' sums, so
that its map has a closed form; CAVs are replayed from the seed; sensitivities are compared
with captum's layer attributions called directly.
"""

import numpy as np
import pytest
import torch
from torch import nn

from xairepro.pianist import explain
from xairepro.pianist.data import LOWEST, N_KEYS, filter_notes, harmony_notes, normalise, piano_roll
from xairepro.pianist.explain import CavSensitivity, KernelOcclusion, LimeRoll
from xairepro.pianist.models import DisentangleNet

SMALL = {"block": "basic", "layers": (1, 1, 1, 1), "width": 4, "stem": "small"}


# --------------------------------------------------------------------------- small helpers
class Linear(nn.Module):
    """Two logits of a roll ``(B, 1, 88, T)``: the sums of its low and high halves."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(1.0))
        self.seen = []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return torch.stack([x[:, 0, :44].sum((1, 2)), x[:, 0, 44:].sum((1, 2))], dim=1) * self.scale


def test_device_of_a_model_without_parameters_is_the_cpu():
    assert explain._device(nn.Identity()) == torch.device("cpu")
    assert explain._device(Linear()) == torch.device("cpu")


def test_per_input_repeats_an_int_and_keeps_an_array():
    assert explain._per_input(3, 4).tolist() == [3, 3, 3, 3]
    assert explain._per_input(np.int64(2), 2).tolist() == [2, 2]
    assert explain._per_input([1, 0, 2], 3).tolist() == [1, 0, 2]
    assert explain._per_input(np.array([1, 2]), 5).tolist() == [1, 2]  # an array is never broadcast


def test_classifier_function_reads_the_first_channel_and_memoises_in_first_seen_order():
    rng = np.random.default_rng(0)
    rolls = rng.random((2, 88, 6)).astype(np.float32)
    images = np.stack([rolls[0], rolls[1], rolls[0], rolls[1]])[..., None].repeat(3, axis=-1)
    images[..., 1:] = 7.0  # the other channels are never read
    images[2, ..., 1] = 3.0  # same roll, other colours: the same key
    expected = torch.softmax(torch.tensor([[r[:44].sum(), r[44:].sum()] for r in rolls[[0, 1, 0, 1]]]), dim=1)
    model = Linear()
    plain = explain.classifier_fn(model)(images)
    np.testing.assert_allclose(plain, expected.numpy(), rtol=1e-4)
    assert plain.dtype == np.float32 and len(model.seen) == 1 and model.seen[0].shape == (4, 1, 88, 6)
    memo_model = Linear()
    memo = explain.classifier_fn(memo_model, memo=True)
    np.testing.assert_allclose(memo(images[::-1].copy()), expected.numpy()[::-1], rtol=1e-4)
    (batch,) = memo_model.seen  # two distinct rolls, in first-seen order: roll 1, then roll 0
    np.testing.assert_array_equal(batch[:, 0].numpy(), rolls[[1, 0]])
    np.testing.assert_allclose(memo(images[:1]), expected.numpy()[:1], rtol=1e-4)
    assert len(memo_model.seen) == 1  # seen before: no call
    third = rng.random((1, 88, 6, 3)).astype(np.float32)
    memo(np.concatenate([third, images[:1]]))
    assert len(memo_model.seen) == 2 and memo_model.seen[1].shape == (1, 1, 88, 6)


# --------------------------------------------------------------------------- LIME with a stand-in
class Record:
    """What the stand-in lime saw, per explanation."""

    def __init__(self):
        self.explainers, self.segmenters, self.calls, self.masks = [], [], [], []


@pytest.fixture
def fake_lime(monkeypatch):
    from lime import lime_image
    from lime.wrappers import scikit_image

    record = Record()
    weights = {0: [(3, 0.9), (1, -0.8), (0, 0.5), (2, 0.1)], 1: [(2, 0.7), (0, 0.6), (3, -0.2), (1, 0.05)]}

    class Segmenter:
        def __init__(self, *args, **kwargs):
            record.segmenters.append((args, kwargs))

        def __call__(self, image):
            # four superpixels: time quarters of the roll
            t = image.shape[1]
            return np.broadcast_to(np.arange(t) * 4 // t, image.shape[:2]).copy()

    class Explanation:
        def __init__(self, segments):
            self.segments = segments
            self.local_exp = {k: list(v) for k, v in weights.items()}

        def get_image_and_mask(self, label, *args, **kwargs):
            record.masks.append((label, args, kwargs))
            keep = [f for f, w in self.local_exp[label] if w > 0][:kwargs["num_features"]]  # as lime
            return None, np.isin(self.segments, keep).astype(np.int64)

    class Explainer:
        def __init__(self, *args, **kwargs):
            record.explainers.append((args, kwargs))

        def explain_instance(self, image, classifier_fn, *args, **kwargs):
            assert list(lime_image.tqdm(iter([1, 2]), total=2)) == [1, 2]  # the bar is switched off
            batch = np.repeat(image[None, ..., None], 3, axis=-1)
            record.calls.append({"image": image, "fn": classifier_fn, "args": args, "kwargs": kwargs,
                                 "probabilities": classifier_fn(batch)})
            classifier_fn(batch)  # lime's perturbations repeat
            return Explanation(kwargs["segmentation_fn"](image))

    monkeypatch.setattr(lime_image, "LimeImageExplainer", Explainer)
    monkeypatch.setattr(scikit_image, "SegmentationAlgorithm", Segmenter)
    return record


def _lime_roll(t: int = 8) -> np.ndarray:
    roll = np.zeros((88, t), np.float32)
    roll[60, 0] = 1.0       # quarter 0: a high note
    roll[10, t // 2] = 0.5  # quarter 2: a low note; quarters 1 and 3 are silent
    return roll


FLAGS = {"kernel_width": 0.25, "hide_color": 0.0, "distance_metric": "cosine", "random_state": 42}
ARGS = {"num_samples": 150, "num_features": 2, "top_labels": 3, "batch_size": 50}


def test_lime_roll_hands_every_flag_to_lime_with_the_originals_defaults(fake_lime):
    roll = _lime_roll()
    out = LimeRoll(Linear(), **FLAGS).attribute(roll[None], **ARGS)
    assert fake_lime.explainers == [((), {"kernel_width": 0.25, "feature_selection": "auto", "random_state": 42})]
    assert fake_lime.segmenters == [(("quickshift",), {"kernel_size": 4, "max_dist": 200, "ratio": 0.2,
                                                       "random_seed": 42})]
    (call,) = fake_lime.calls
    assert call["image"].dtype == np.float64 and np.array_equal(call["image"], roll) and call["args"] == ()
    kwargs = dict(call["kwargs"])
    assert callable(kwargs.pop("segmentation_fn"))
    # the roll's top class is 1 (the high note 1.0 against the low 0.5)
    assert kwargs == {"hide_color": 0.0, "num_features": 2, "num_samples": 150, "batch_size": 50,
                      "distance_metric": "cosine", "random_seed": 42, "labels": (1,), "top_labels": None}
    assert fake_lime.masks == [(1, (), {"positive_only": True, "hide_rest": True, "num_features": 2})]
    # class 1's top two positive superpixels: 2 and 0 (quarters 2 and 0)
    expected = np.zeros((88, 8), bool)
    expected[:, 0:2] = expected[:, 4:6] = True
    np.testing.assert_array_equal(out["mask"], expected[None])
    assert out["mask"].dtype == bool and out["label"].tolist() == [1] and out["label"].dtype == np.int64
    probability = torch.softmax(torch.tensor([0.5, 1.0]), 0)[1].item()
    assert out["probability"].dtype == np.float32 and out["probability"][0] == np.float32(probability)
    assert out["n_segments"].tolist() == [4] and out["n_segments"].dtype == np.int64


def test_lime_roll_passes_its_own_flags_and_a_target(fake_lime):
    seg = {"kernel_size": 1, "max_dist": 50, "ratio": 0.5}
    flags = {"kernel_width": 0.5, "hide_color": 0.25, "distance_metric": "l2", "random_state": 7}
    rolls = np.stack([_lime_roll(), _lime_roll()])
    out = LimeRoll(Linear(), segmentation=seg, feature_selection="none", **flags).attribute(
        rolls, target=np.array([0, 1]), num_samples=10, num_features=3, top_labels=1, batch_size=4)
    assert fake_lime.explainers == [((), {"kernel_width": 0.5, "feature_selection": "none", "random_state": 7})] * 2
    assert fake_lime.segmenters == [(("quickshift",), {**seg, "random_seed": 7})] * 2
    for call, label in zip(fake_lime.calls, (0, 1)):
        kwargs = {k: v for k, v in call["kwargs"].items() if k != "segmentation_fn"}
        assert kwargs == {"hide_color": 0.25, "num_features": 3, "num_samples": 10, "batch_size": 4,
                          "distance_metric": "l2", "random_seed": 7, "labels": (label,), "top_labels": None}
    assert [m[0] for m in fake_lime.masks] == [0, 1]
    assert out["label"].tolist() == [0, 1]
    p1 = torch.softmax(torch.tensor([0.5, 1.0]), 0)
    np.testing.assert_allclose(out["probability"], [p1[0].item(), p1[1].item()], rtol=1e-6)
    # the top three positive superpixels: class 0's 3, 0 and 2; class 1's 2, 0 and 1
    assert out["mask"][0, 0, :].tolist() == [True, True, False, False, True, True, True, True]
    assert out["mask"][1, 0, :].tolist() == [True, True, True, True, True, True, False, False]
    # an int target is every roll's
    again = LimeRoll(Linear(), **FLAGS).attribute(rolls, target=0, **ARGS)
    assert again["label"].tolist() == [0, 0]


def test_lime_roll_sounding_only_drops_silent_superpixels(fake_lime):
    roll = _lime_roll()
    out = LimeRoll(Linear(), sounding_only=True, **FLAGS).attribute(roll[None], target=0, **ARGS)
    # class 0's weights: 3 (silent, dropped), 1 (silent), 0 and 2 (sounding): top two positive 0, 2
    assert out["mask"][0, 0, :].tolist() == [True, True, False, False, True, True, False, False]
    loose = LimeRoll(Linear(), **FLAGS).attribute(roll[None], target=0, **ARGS)
    assert loose["mask"][0, 0, :].tolist() == [True, True, False, False, False, False, True, True]
    # with hide_color 0.5 the silent cells (0) differ from it: every superpixel sounds, as without the filter
    flags = {**FLAGS, "hide_color": 0.5}
    half = LimeRoll(Linear(), sounding_only=True, **flags).attribute(roll[None], target=0, **ARGS)
    assert half["mask"][0, 0, :].tolist() == loose["mask"][0, 0, :].tolist()


def test_lime_roll_of_no_rolls_is_empty():
    out = LimeRoll(Linear(), **FLAGS).attribute(np.zeros((0, 88, 5), np.float32), **ARGS)
    assert out["mask"].shape == (0, 88, 5) and out["mask"].dtype == bool
    assert out["label"].shape == (0,) and out["label"].dtype == np.int64
    assert out["probability"].dtype == np.float32 and out["n_segments"].dtype == np.int64
    targeted = LimeRoll(Linear(), **FLAGS).attribute(np.zeros((0, 88, 5), np.float32), target=1, **ARGS)
    assert targeted["mask"].shape == (0, 88, 5)


def test_lime_puts_the_model_in_eval_mode(fake_lime):
    model = Linear().train()
    LimeRoll(model, **FLAGS).attribute(_lime_roll()[None], **ARGS)
    assert not model.training


def test_explain_roll_hands_every_argument_on(fake_lime):
    roll = _lime_roll()
    out = explain.explain_roll(Linear(), roll, num_samples=11, num_features=1, top_labels=2, batch_size=3,
                               kernel_width=0.75, hide_color=0.0, distance_metric="l1", random_state=5)
    assert fake_lime.explainers == [((), {"kernel_width": 0.75, "feature_selection": "auto", "random_state": 5})]
    assert fake_lime.segmenters == [(("quickshift",), {"kernel_size": 4, "max_dist": 200, "ratio": 0.2,
                                                       "random_seed": 5})]
    kwargs = {k: v for k, v in fake_lime.calls[0]["kwargs"].items() if k != "segmentation_fn"}
    assert kwargs == {"hide_color": 0.0, "num_features": 1, "num_samples": 11, "batch_size": 3,
                      "distance_metric": "l1", "random_seed": 5, "labels": (1,), "top_labels": None}
    assert set(out) == {"mask", "label", "probability"}
    assert out["mask"].shape == (88, 8) and out["mask"][0].tolist() == [False] * 4 + [True] * 2 + [False] * 2
    assert type(out["label"]) is int and out["label"] == 1
    assert type(out["probability"]) is float
    assert out["probability"] == pytest.approx(torch.softmax(torch.tensor([0.5, 1.0]), 0)[1].item())
    seg = {"kernel_size": 2, "max_dist": 9, "ratio": 0.1}
    explain.explain_roll(Linear(), roll, num_samples=11, num_features=3, top_labels=2, batch_size=3,
                         kernel_width=0.75, hide_color=0.5, distance_metric="l1", random_state=5, segmentation=seg,
                         feature_selection="lasso_path", sounding_only=True)
    assert fake_lime.explainers[1][1]["feature_selection"] == "lasso_path"
    assert fake_lime.segmenters[1][1] == {**seg, "random_seed": 5}
    assert fake_lime.calls[1]["kwargs"]["hide_color"] == 0.5
    assert fake_lime.masks[1][0] == 1
    # a roll sounding in its first quarter only: class 1's top positive superpixel (2) is silent
    high = np.zeros((88, 8), np.float32)
    high[60, 0] = 1.0
    loose = explain.explain_roll(Linear(), high, num_samples=11, num_features=1, top_labels=2, batch_size=3,
                                 kernel_width=0.75, hide_color=0.0, distance_metric="l1", random_state=5)
    assert loose["mask"][0].tolist() == [False] * 4 + [True] * 2 + [False] * 2  # sounding_only False by default
    strict = explain.explain_roll(Linear(), high, num_samples=11, num_features=1, top_labels=2, batch_size=3,
                                  kernel_width=0.75, hide_color=0.0, distance_metric="l1", random_state=5,
                                  sounding_only=True)
    assert strict["mask"][0].tolist() == [True] * 2 + [False] * 6


def test_lime_memoises_the_model_over_its_perturbations(fake_lime):
    model = Linear()
    LimeRoll(model, **FLAGS).attribute(_lime_roll()[None], **ARGS)
    # the roll's own prediction (float32), the stand-in's batch of the float64 roll, then that batch again:
    # two forward passes, the repeat answered from the memo
    assert len(model.seen) == 2 and model.seen[1].shape == (1, 1, 88, 8)


def test_note_coverage_of_one_sounding_cell():
    rolls = np.zeros((3, 88, 4), np.float32)
    rolls[0, 5, 1] = 0.2
    rolls[1, 5, 1], rolls[1, 6, 2] = 0.5, 1.0
    rolls[2, 5, :] = -1.0  # negative cells never sound
    masks = np.zeros((3, 88, 4), bool)
    masks[0, 5, 1] = masks[1, 6, 2] = masks[2] = True
    cover = explain.note_coverage(masks.astype(int), rolls)
    assert cover[:2].tolist() == [1.0, 0.5] and np.isnan(cover[2])
    # any truthy mask value is inside: 2 and 0.5 as much as True
    np.testing.assert_array_equal(explain.note_coverage(masks * 2, rolls), cover)
    np.testing.assert_array_equal(explain.note_coverage(masks * 0.5, rolls), cover)


# --------------------------------------------------------------------------- TCAV pieces
def test_harmony_only_fills_the_harmony_channel():
    rolls = np.arange(2 * 88 * 3, dtype=np.float32).reshape(2, 88, 3)
    x = explain.harmony_only(rolls)
    assert x.shape == (2, 4, 88, 3) and x.dtype == torch.float32
    assert torch.equal(x[:, 1], torch.as_tensor(rolls))
    assert float(x[:, [0, 2, 3]].abs().sum()) == 0.0


def test_harmony_layer_is_the_harmony_branchs_last_block():
    model = DisentangleNet(2, **SMALL)
    assert explain.harmony_layer(model) is model.branches["harmony"].layer4


def test_fit_is_scikit_learns_logistic_regression_with_the_given_seed_and_solver():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    pos, neg = rng.normal(1, 1, (12, 3)), rng.normal(-1, 1, (9, 3))
    x, y = np.concatenate([pos, neg]), np.r_[np.ones(12), np.zeros(9)]
    for solver in ("lbfgs", "liblinear"):
        ref = LogisticRegression(solver=solver, random_state=4).fit(x, y)
        coef, accuracy = explain._fit(pos, neg, 4, solver)
        assert coef.dtype == np.float32 and np.array_equal(coef, ref.coef_[0].astype(np.float32))
        assert type(accuracy) is float and accuracy == ref.score(x, y)
    default, _ = explain._fit(pos, neg, 4)
    assert np.array_equal(default, LogisticRegression(random_state=4).fit(x, y).coef_[0].astype(np.float32))
    # the positives are class 1: the CAV points from the negatives to them
    assert (explain._fit(np.full((3, 1), 2.0), np.full((3, 1), -2.0), 0)[0] > 0).all()
    assert explain._fit(np.full((3, 1), 2.0), np.full((3, 1), -2.0), 0)[1] == 1.0


def test_fit_seeds_a_randomised_solver():
    import warnings

    # saga shuffles with its random_state: the seed given is used, every time
    rng = np.random.default_rng(0)
    pos, neg = rng.normal(0.3, 1, (15, 4)), rng.normal(-0.3, 1, (15, 4))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = [explain._fit(pos, neg, 6, "saga")[0] for _ in range(3)]
    assert all(np.array_equal(g, got[0]) for g in got)
    other = explain._fit(pos, neg, 7, "saga")[0]
    assert not np.array_equal(got[0], other)


def test_fit_hides_only_the_convergence_warning():
    import warnings

    rng = np.random.default_rng(1)
    pos, neg = rng.normal(0, 50, (60, 40)), rng.normal(0, 50, (60, 40))  # lbfgs stops at 100 iterations
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        explain._fit(pos, neg, 0, "lbfgs")
        warnings.warn("another warning", UserWarning)
    assert [str(w.message) for w in caught] == ["another warning"]


def test_fit_with_an_unknown_solver_names_it():
    with pytest.raises(ValueError, match="newton|solver"):
        explain._fit(np.ones((2, 1)), np.zeros((2, 1)), 0, "no-such-solver")


def test_random_sets_replay_the_generator():
    first, second = explain.random_sets(np.random.default_rng(5), 10, 4, "fake_voicings")
    rng = np.random.default_rng(5)
    assert first.tolist() == rng.choice(10, 4, replace=False).tolist()
    assert second.tolist() == rng.choice(10, 4, replace=False).tolist()
    a, b = explain.random_sets(np.random.default_rng(5), 10, 5, "training_clips")
    chosen = np.random.default_rng(5).choice(10, 5, replace=False)
    assert a.tolist() == chosen[:2].tolist() and b.tolist() == chosen[2:].tolist()
    # capped at the pool
    a, b = explain.random_sets(np.random.default_rng(5), 3, 8, "fake_voicings")
    assert sorted(a.tolist()) == [0, 1, 2] == sorted(b.tolist())
    a, b = explain.random_sets(np.random.default_rng(5), 4, 9, "training_clips")
    assert len(a) == 2 and sorted(a.tolist() + b.tolist()) == [0, 1, 2, 3]
    with pytest.raises(ValueError) as info:
        explain.random_sets(np.random.default_rng(5), 4, 2, "shuffled")
    assert str(info.value) == "unknown random_cavs 'shuffled'; choose from ('fake_voicings', 'training_clips')"


def _replay_cavs(concept_acts, pool, *, n_experiments, n_random_clips, fraction, seed, random_cavs, solver):
    rng = np.random.default_rng(seed)
    cavs, accuracy = [], []
    for c, acts in enumerate(concept_acts):
        others = np.concatenate([a for k, a in enumerate(concept_acts) if k != c])
        row, row_acc = [], []
        for e in range(n_experiments):
            n_pos = max(2, int(round(fraction * len(acts))))
            pos = acts[rng.choice(len(acts), n_pos, replace=False)]
            neg = others[rng.choice(len(others), min(n_pos, len(others)), replace=False)]
            v, acc = explain._fit(pos, neg, seed + e, solver)
            row.append(v)
            row_acc.append(acc)
        cavs.append(row)
        accuracy.append(row_acc)

    def random_cav(e):
        first, second = explain.random_sets(rng, len(pool), n_random_clips, random_cavs)
        return explain._fit(pool[first], pool[second], seed + e, solver)[0]

    random = [random_cav(e) for e in range(n_experiments)]
    control = [[random_cav(e) for e in range(n_experiments)] for _ in concept_acts]
    return np.array(cavs), np.array(accuracy), np.array(random), np.array(control)


def test_fit_cavs_defaults_are_fake_voicings_from_the_pooled_renderings_and_lbfgs():
    rng = np.random.default_rng(2)
    concept = [rng.normal(k, 1, (n, 5)).astype(np.float32) for k, n in enumerate((9, 6, 7))]
    fitted = explain.fit_cavs(concept, n_experiments=2, n_random_clips=5, positive_fraction=0.5, seed=11)
    cavs, accuracy, random, control = _replay_cavs(
        concept, np.concatenate(concept), n_experiments=2, n_random_clips=5, fraction=0.5, seed=11,
        random_cavs="fake_voicings", solver="lbfgs")
    assert set(fitted) == {"cavs", "random_cavs", "control_cavs", "cav_accuracy"}
    for key in fitted:
        assert fitted[key].dtype == np.float32, key
    assert fitted["cavs"].shape == (3, 2, 5) and fitted["cav_accuracy"].shape == (3, 2)
    assert fitted["random_cavs"].shape == (2, 5) and fitted["control_cavs"].shape == (3, 2, 5)
    np.testing.assert_array_equal(fitted["cavs"], cavs)
    np.testing.assert_array_equal(fitted["cav_accuracy"], accuracy.astype(np.float32))
    np.testing.assert_array_equal(fitted["random_cavs"], random)
    np.testing.assert_array_equal(fitted["control_cavs"], control)


def test_fit_cavs_with_few_positives_takes_two_and_caps_the_negatives():
    rng = np.random.default_rng(3)
    concept = [rng.normal(0, 1, (6, 4)).astype(np.float32), rng.normal(2, 1, (3, 4)).astype(np.float32)]
    clips = rng.normal(0, 1, (8, 4)).astype(np.float32)
    for fraction in (0.1, 1.0):  # 0.1 of 6: two positives; 1.0: six positives against the three others
        fitted = explain.fit_cavs(concept, clips, n_experiments=3, n_random_clips=6, positive_fraction=fraction,
                                  seed=1, random_cavs="training_clips", solver="liblinear")
        cavs, accuracy, random, control = _replay_cavs(
            concept, clips, n_experiments=3, n_random_clips=6, fraction=fraction, seed=1,
            random_cavs="training_clips", solver="liblinear")
        np.testing.assert_array_equal(fitted["cavs"], cavs)
        np.testing.assert_array_equal(fitted["cav_accuracy"], accuracy.astype(np.float32))
        np.testing.assert_array_equal(fitted["random_cavs"], random)
        np.testing.assert_array_equal(fitted["control_cavs"], control)


def test_fit_cavs_refuses_an_unknown_null_and_training_clips_without_clips():
    concept = [np.zeros((4, 2), np.float32), np.ones((4, 2), np.float32)]
    with pytest.raises(ValueError) as info:
        explain.fit_cavs(concept, n_experiments=1, n_random_clips=2, positive_fraction=1.0, seed=0,
                         random_cavs="noise")
    assert str(info.value) == "unknown random_cavs 'noise'; choose from ('fake_voicings', 'training_clips')"
    with pytest.raises(ValueError) as info:
        explain.fit_cavs(concept, n_experiments=1, n_random_clips=2, positive_fraction=1.0, seed=0,
                         random_cavs="training_clips")
    assert str(info.value) == "random_cavs training_clips needs the training clips' activations"


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return DisentangleNet(3, **SMALL).eval()


def _rolls(n, seed=0, t=24):
    rng = np.random.default_rng(seed)
    return ((rng.random((n, 88, t)) < 0.1) * rng.random((n, 88, t))).astype(np.float32)


def _captum(model, rolls, targets, method, **kwargs):
    from captum.attr import LayerGradientXActivation, LayerIntegratedGradients

    make = {"gxa": LayerGradientXActivation, "ig": LayerIntegratedGradients}[method]
    flags = {k: v for k, v in kwargs.items() if k != "n_steps"}
    steps = {"n_steps": kwargs["n_steps"]} if "n_steps" in kwargs else {}
    return make(model, explain.harmony_layer(model), **flags).attribute(
        explain.harmony_only(rolls), target=torch.as_tensor(targets), **steps).detach()


def test_cav_sensitivity_defaults_and_its_error():
    model = DisentangleNet(2, **SMALL)
    tcav = CavSensitivity(model)
    assert (tcav.attribution_fn, tcav.multiply_by_inputs, tcav.ig_steps) == ("gradient_x_activation", True, 5)
    assert tcav.model is model and tcav.layer is model.branches["harmony"].layer4
    other = CavSensitivity(model, attribution_fn="integrated_gradients", multiply_by_inputs=False, ig_steps=3)
    assert (other.attribution_fn, other.multiply_by_inputs, other.ig_steps) == ("integrated_gradients", False, 3)
    with pytest.raises(ValueError) as info:
        CavSensitivity(model, attribution_fn="saliency")
    assert str(info.value) == ("unknown attribution_fn 'saliency'; choose gradient_x_activation or "
                               "integrated_gradients")


def test_layer_attributions_are_captums_in_eval_mode(model):
    rolls, targets = _rolls(2, 1), np.array([2, 0])
    x, y = explain.harmony_only(rolls), torch.as_tensor(targets)
    model.train()
    got = CavSensitivity(model).layer_attributions(x, y)
    assert not model.training
    torch.testing.assert_close(got, _captum(model, rolls, targets, "gxa"))
    grads = CavSensitivity(model, multiply_by_inputs=False).layer_attributions(x, y)
    torch.testing.assert_close(grads, _captum(model, rolls, targets, "gxa", multiply_by_inputs=False))
    assert not torch.allclose(grads, got)
    ig = CavSensitivity(model, attribution_fn="integrated_gradients", ig_steps=3).layer_attributions(x, y)
    torch.testing.assert_close(ig, _captum(model, rolls, targets, "ig", n_steps=3))
    ig5 = CavSensitivity(model, attribution_fn="integrated_gradients").layer_attributions(x, y)
    torch.testing.assert_close(ig5, _captum(model, rolls, targets, "ig", n_steps=5))
    assert (ig5 - ig).abs().max() > 0
    ig_plain = CavSensitivity(model, attribution_fn="integrated_gradients", multiply_by_inputs=False,
                              ig_steps=3).layer_attributions(x, y)
    torch.testing.assert_close(ig_plain, _captum(model, rolls, targets, "ig", n_steps=3, multiply_by_inputs=False))


def test_sensitivities_of_stacked_cavs_and_an_int_target_in_uneven_batches(model):
    rolls = _rolls(5, 2)
    attr = _captum(model, rolls, np.full(5, 1), "gxa").flatten(1).numpy()
    cavs = np.random.default_rng(0).standard_normal((2, 3, attr.shape[1])).astype(np.float32)
    s = CavSensitivity(model).attribute(rolls, target=1, cavs=cavs, batch_size=2)
    assert s.shape == (5, 6)
    np.testing.assert_allclose(s, attr @ cavs.reshape(6, -1).T, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(CavSensitivity(model).attribute(rolls, target=1, cavs=cavs, batch_size=3), s,
                               rtol=1e-4, atol=1e-6)


def test_sensitivities_function_hands_every_flag_on(model):
    rolls, targets = _rolls(2, 3), np.array([0, 2])
    dim = _captum(model, rolls[:1], targets[:1], "gxa").flatten(1).shape[1]
    cavs = np.random.default_rng(1).standard_normal((2, dim)).astype(np.float32)
    for flags in ({}, {"attribution_fn": "integrated_gradients"}, {"multiply_by_inputs": False},
                  {"attribution_fn": "integrated_gradients", "ig_steps": 2}):
        want = CavSensitivity(model, **flags).attribute(rolls, target=targets, cavs=cavs, batch_size=1)
        got = explain.sensitivities(model, rolls, targets, cavs, batch_size=1, **flags)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    ig = explain.sensitivities(model, rolls, targets, cavs, batch_size=2, attribution_fn="integrated_gradients")
    gxa = explain.sensitivities(model, rolls, targets, cavs, batch_size=2)
    ig2 = explain.sensitivities(model, rolls, targets, cavs, batch_size=2, attribution_fn="integrated_gradients",
                                ig_steps=2)
    assert not np.array_equal(ig, gxa) and not np.array_equal(ig, ig2)
    plain = explain.sensitivities(model, rolls, targets, cavs, batch_size=2, multiply_by_inputs=False)
    assert not np.allclose(plain, gxa, rtol=0.01, atol=0)


def test_sign_counts_of_a_performer_without_clips_are_nan_and_extra_axes_are_kept():
    s = np.array([[[1.0, -2.0]], [[3.0, 0.0]], [[-1.0, 2.0]]])  # (3 clips, 1, 2)
    counts, magnitude = explain.sign_counts(s, np.array([0, 0, 2]), 3)
    assert counts.shape == (3, 1, 2) and magnitude.shape == (3, 1, 2)
    np.testing.assert_allclose(counts[0, 0], [1.0, 0.0])
    np.testing.assert_allclose(magnitude[0, 0], [1.0, 0.0])
    assert np.isnan(counts[1]).all() and np.isnan(magnitude[1]).all()
    np.testing.assert_allclose(counts[2, 0], [0.0, 1.0])
    np.testing.assert_allclose(magnitude[2, 0], [0.0, 1.0])
    counts, magnitude = explain.sign_counts(np.array([[0.5], [-1.5], [4.0]]), np.array([0, 0, 0]), 1)
    np.testing.assert_allclose(counts[0], [2 / 3])
    np.testing.assert_allclose(magnitude[0], [4.5 / 6.0])


# --------------------------------------------------------------------------- kernel occlusion
def test_kernel_positions_overshoot_by_less_than_a_stride():
    pitches, times = explain.kernel_positions(2.5, {"stride_semitones": 30, "stride_seconds": 1.0})
    assert pitches.tolist() == [21, 51, 81, 111] and pitches.dtype == np.int64
    assert times.tolist() == [0.0, 1.0, 2.0, 3.0] and times.dtype == np.float64
    pitches, times = explain.kernel_positions(2.0, {"stride_semitones": 44, "stride_seconds": 0.5})
    assert pitches.tolist() == [21, 65, 109] and times.tolist() == [0.0, 0.5, 1.0, 1.5, 2.0]


def _note(pitch, start, end):
    return np.array([[pitch, start, end, 80.0]])


KERNEL = {"semitones": 4, "seconds": 1.0, "stride_semitones": 12, "stride_seconds": 1.0}


@pytest.mark.parametrize("pitch,start,end,expected", [
    (58, 1.5, 3.0, True), (62, 1.5, 3.0, True),          # pitch range 58..62 inclusive
    (57, 1.5, 3.0, False), (63, 1.5, 3.0, False),
    (60, 2.5, 3.0, True), (60, 0.5, 1.5, True),          # start / end on the time bounds 1.5..2.5
    (60, 2.51, 3.0, False), (60, 0.5, 1.49, False),
    (60, 1.0, 3.0, False),                               # spans the kernel: stays
    (60, 1.8, 2.2, True),
], ids=["low-pitch", "high-pitch", "below", "above", "start-at-end", "end-at-start", "after", "before", "spans",
        "inside"])
def test_occluded_bounds_are_inclusive(pitch, start, end, expected):
    assert explain.occluded(_note(pitch, start, end), 60, 2.0, KERNEL, 10.0).tolist() == [expected]


def test_occluded_clamps_to_the_keyboard_and_the_clip():
    wide = {"semitones": 20, "seconds": 4.0}
    notes = np.array([[LOWEST - 1, 0.0, 0.5, 80], [LOWEST, 0.0, 0.5, 80], [LOWEST + N_KEYS, 0.1, 0.5, 80],
                      [LOWEST + N_KEYS + 1, 0.1, 0.5, 80], [30, -0.5, -0.1, 80], [30, 3.5, 3.9, 80]])
    low = explain.occluded(notes, LOWEST + 2, 0.5, wide, 3.0)
    assert low.tolist() == [False, True, False, False, False, False]
    high = explain.occluded(notes, LOWEST + N_KEYS - 2, 0.5, wide, 3.0)
    assert high.tolist() == [False, False, True, False, False, False]
    late = explain.occluded(notes, 30, 2.5, wide, 3.0)
    assert late.tolist() == [False, True, False, False, False, False]
    assert explain.occluded(np.zeros((0, 4)), 30, 1.0, wide, 3.0).shape == (0,)


ROLL = {"fps": 4, "clip_seconds": 3.0, "min_duration": 0.01, "harmony_window": 0.3}
OCCLUSION_KERNEL = {"semitones": 24, "seconds": 1.0, "stride_semitones": 44, "stride_seconds": 1.5}


class SumSensitivity:
    """s[n, k] = (k + 1) x the roll's sum: occluding notes lowers every CAV's s alike."""

    def __init__(self):
        self.calls = []

    def attribute(self, rolls, target, *, cavs, batch_size):
        self.calls.append({"rolls": rolls, "target": target, "cavs": cavs, "batch_size": batch_size})
        return rolls.sum((1, 2))[:, None] * (np.arange(len(cavs)) + 1.0)[None]


def _chords():
    # a C major chord at 0-1 s (MIDI 48, 52, 55) and an A minor chord high at 2-3 s (MIDI 81, 84, 88)
    return np.array([[48, 0.0, 1.0, 80], [52, 0.0, 1.0, 80], [55, 0.0, 1.0, 80],
                     [81, 2.0, 2.9, 60], [84, 2.0, 2.9, 60], [88, 2.0, 2.9, 60], [30, 1.0, 1.005, 90]],
                    np.float64)


def test_kernel_occlusion_init_hands_the_flags_to_the_sensitivity():
    model = DisentangleNet(2, **SMALL)
    occlusion = KernelOcclusion(model, roll=ROLL, kernel=OCCLUSION_KERNEL)
    s = occlusion.sensitivity
    assert (s.model, s.attribution_fn, s.multiply_by_inputs, s.ig_steps) == (model, "gradient_x_activation", True, 5)
    assert occlusion.roll is ROLL and occlusion.kernel is OCCLUSION_KERNEL
    s = KernelOcclusion(model, roll=ROLL, kernel=OCCLUSION_KERNEL, attribution_fn="integrated_gradients",
                        multiply_by_inputs=False, ig_steps=2).sensitivity
    assert (s.attribution_fn, s.multiply_by_inputs, s.ig_steps) == ("integrated_gradients", False, 2)


def test_kernel_occlusion_harmony_roll_of_notes():
    occlusion = KernelOcclusion(nn.Linear(1, 1), roll=ROLL, kernel=OCCLUSION_KERNEL)
    notes = _chords()
    want = normalise(piano_roll(harmony_notes(notes, 0.3), 4, 3.0, 0.01))
    got = occlusion._harmony(notes)
    assert got.shape == (88, 12) and np.array_equal(got, want)
    short = {**ROLL, "min_duration": 0.95}  # the high chord (0.9 s) is too short
    got = KernelOcclusion(nn.Linear(1, 1), roll=short, kernel=OCCLUSION_KERNEL)._harmony(notes)
    assert np.array_equal(got, normalise(piano_roll(harmony_notes(notes, 0.3), 4, 3.0, 0.95)))
    assert got[81 - LOWEST:, :].sum() == 0 and got[48 - LOWEST].sum() > 0
    wide = {**ROLL, "harmony_window": 2.5}  # one onset group: six pitches, all kept
    assert np.array_equal(KernelOcclusion(nn.Linear(1, 1), roll=wide, kernel=OCCLUSION_KERNEL)._harmony(notes),
                          normalise(piano_roll(harmony_notes(notes, 2.5), 4, 3.0, 0.01)))


def test_kernel_occlusion_map_in_closed_form():
    occlusion = KernelOcclusion(nn.Linear(1, 1), roll=ROLL, kernel=OCCLUSION_KERNEL)
    fake = occlusion.sensitivity = SumSensitivity()
    notes = _chords()
    cavs = np.zeros((2, 7), np.float32)
    out = occlusion.attribute(notes, 2, cavs=cavs, batch_size=3)
    pitches, times = explain.kernel_positions(3.0, OCCLUSION_KERNEL)
    assert pitches.tolist() == [21, 65, 109] and times.tolist() == [0.0, 1.5, 3.0]
    (call,) = fake.calls
    assert call["cavs"] is cavs and call["batch_size"] == 3
    assert call["target"].tolist() == [2] * 10
    kept = filter_notes(notes, 3.0, 0.01)
    assert len(kept) == 6  # the 5 ms note goes
    rolls = call["rolls"]
    assert rolls.shape == (10, 88, 12)
    assert np.array_equal(rolls[0], occlusion._harmony(kept))
    for i, p in enumerate(pitches):
        for j, t in enumerate(times):
            expected = occlusion._harmony(kept[~explain.occluded(kept, p, t, OCCLUSION_KERNEL, 3.0)])
            assert np.array_equal(rolls[1 + i * 3 + j], expected), (p, t)
    sums = rolls.sum((1, 2))
    s_orig = sums[0] * np.array([1.0, 2.0])
    masked = sums[1:].reshape(3, 3)[None] * np.array([1.0, 2.0])[:, None, None]
    np.testing.assert_allclose(out["map"], (s_orig[:, None, None] - masked) / s_orig[:, None, None], rtol=1e-6)
    assert out["map"].shape == (2, 3, 3) and out["map"].dtype == np.float32
    # 21 +- 12 reaches 33: no chord note; 65 +- 12 holds the low chord's 55 (0-1 s): deleting it leaves two
    # notes, no chord, when the kernel's 0-0.5 s or 1-2 s holds its start or end; 109 - 12 is above both chords
    assert out["map"][0, 0].tolist() == [0.0, 0.0, 0.0] and out["map"][0, 2].tolist() == [0.0, 0.0, 0.0]
    assert out["map"][0, 1, 0] > 0 and out["map"][0, 1, 1] > 0 and out["map"][0, 1, 2] == 0
    np.testing.assert_allclose(out["s_orig"], s_orig)
    assert out["s_orig"].dtype == np.float32
    assert out["pitches"].tolist() == [21, 65, 109] and out["pitches"].dtype == np.int64
    assert out["times"].tolist() == [0.0, 1.5, 3.0] and out["times"].dtype == np.float32


def test_kernel_occlusion_of_a_zero_sensitivity_maps_zero():
    occlusion = KernelOcclusion(nn.Linear(1, 1), roll=ROLL, kernel=OCCLUSION_KERNEL)
    occlusion.sensitivity = SumSensitivity()
    out = occlusion.attribute(np.zeros((0, 4)), 0, cavs=np.zeros((3, 2), np.float32), batch_size=4)
    assert out["map"].shape == (3, 3, 3) and (out["map"] == 0).all() and not np.isnan(out["map"]).any()
    assert out["s_orig"].tolist() == [0.0, 0.0, 0.0]


def test_magnitude_of_small_sensitivities_and_no_warning_on_zero():
    import warnings

    counts, magnitude = explain.sign_counts(np.array([[0.25], [-0.25]]), np.array([0, 0]), 1)
    assert counts[0, 0] == 0.5 and magnitude[0, 0] == 0.5  # 0.25 / 0.5, a total under 1
    counts, magnitude = explain.sign_counts(np.array([[0.3], [0.1]]), np.array([0, 0]), 1)
    assert magnitude[0, 0] == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a zero total is never divided by
        counts, magnitude = explain.sign_counts(np.zeros((2, 1)), np.array([0, 0]), 1)
    assert magnitude[0, 0] == 0.5 and counts[0, 0] == 0.0


def test_occluded_note_ending_on_the_kernels_last_instant():
    assert explain.occluded(_note(60, 1.0, 2.5), 60, 2.0, KERNEL, 10.0).tolist() == [True]
    assert explain.occluded(_note(60, 1.0, 2.5001), 60, 2.0, KERNEL, 10.0).tolist() == [False]


def test_kernel_occlusion_harmony_uses_the_rolls_window():
    notes = np.array([[60, 0.0, 1.0, 80], [64, 0.0, 1.0, 80], [67, 0.5, 1.5, 80]], np.float64)
    one_group = {**ROLL, "harmony_window": 1.0}  # 0.3 would split the onsets into two groups of 2 and 1
    got = KernelOcclusion(nn.Linear(1, 1), roll=one_group, kernel=OCCLUSION_KERNEL)._harmony(notes)
    assert np.array_equal(got, normalise(piano_roll(notes, 4, 3.0, 0.01))) and got.sum() > 0
    assert KernelOcclusion(nn.Linear(1, 1), roll=ROLL, kernel=OCCLUSION_KERNEL)._harmony(notes).sum() == 0


class UnitSensitivity(SumSensitivity):
    """s[n, k] = (k + 1) x the roll's sum / the first roll's sum: s_orig is exactly 1 for CAV 0."""

    def attribute(self, rolls, target, *, cavs, batch_size):
        return super().attribute(rolls, target, cavs=cavs, batch_size=batch_size) / rolls[0].sum()


def test_kernel_occlusion_filters_short_notes_before_the_chords_and_keeps_s_orig_of_one():
    roll = {**ROLL, "min_duration": 0.6}
    kernel = {"semitones": 24, "seconds": 1.0, "stride_semitones": 44, "stride_seconds": 1.5}
    # a chord at 1.5 s whose third note (0.5 s) is too short, and a full chord low on the keyboard at 0-1 s,
    # under the first kernel position (21 +- 12 semitones, 0-0.5 s)
    notes = np.array([[48, 1.5, 2.5, 80], [52, 1.5, 2.5, 80], [55, 1.5, 2.0, 80],
                      [24, 0.0, 1.0, 80], [28, 0.0, 1.0, 80], [31, 0.0, 1.0, 80]], np.float64)
    occlusion = KernelOcclusion(nn.Linear(1, 1), roll=roll, kernel=kernel)
    fake = occlusion.sensitivity = UnitSensitivity()
    out = occlusion.attribute(notes, 1, cavs=np.zeros((2, 3), np.float32), batch_size=5)
    rolls = fake.calls[0]["rolls"]
    kept = notes[3:]  # the short 55 is filtered before the harmony: 48 and 52 are no chord
    assert np.array_equal(rolls[0], occlusion._harmony(kept))
    assert rolls[0][48 - LOWEST].sum() == 0 and rolls[0][24 - LOWEST].sum() > 0
    assert out["s_orig"].tolist() == [1.0, 2.0]
    # kernel (21, 0 s) deletes the low chord: every note of the roll goes, map 1 for both CAVs
    assert rolls[1].sum() == 0 and out["map"][:, 0, 0].tolist() == [1.0, 1.0]
    assert out["map"][:, 0, 2].tolist() == [0.0, 0.0]


def test_fit_cavs_logs_its_progress_as_cavs(monkeypatch):
    import logging

    monkeypatch.delenv("XAIREPRO_PROGRESS", raising=False)
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    lines = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    logger, handler = logging.getLogger("xairepro"), Keep(level=logging.DEBUG)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        concept = [np.zeros((4, 2), np.float32), np.ones((4, 2), np.float32)]
        explain.fit_cavs(concept, n_experiments=1, n_random_clips=4, positive_fraction=1.0, seed=0)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert lines and all(line.startswith("CAVs: ") for line in lines if line.strip())


def test_fit_cavs_seeds_each_experiments_fit():
    import warnings

    # saga shuffles with the seed it is given: seed + experiment, for concept and random CAVs alike
    rng = np.random.default_rng(4)
    concept = [rng.normal(k, 1, (8, 3)).astype(np.float32) for k in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = explain.fit_cavs(concept, n_experiments=2, n_random_clips=6, positive_fraction=1.0, seed=3,
                                  solver="saga")
        cavs, accuracy, random, control = _replay_cavs(
            concept, np.concatenate(concept), n_experiments=2, n_random_clips=6, fraction=1.0, seed=3,
            random_cavs="fake_voicings", solver="saga")
    np.testing.assert_array_equal(fitted["cavs"], cavs)
    np.testing.assert_array_equal(fitted["random_cavs"], random)
    np.testing.assert_array_equal(fitted["control_cavs"], control)


def test_sensitivities_take_targets_of_any_integer_or_float_dtype(model):
    rolls = _rolls(2, 6)
    dim = _captum(model, rolls[:1], np.array([0]), "gxa").flatten(1).shape[1]
    cavs = np.random.default_rng(2).standard_normal((1, dim)).astype(np.float32)
    want = CavSensitivity(model).attribute(rolls, target=np.array([2, 1]), cavs=cavs, batch_size=2)
    for targets in (np.array([2, 1], np.int32), np.array([2.0, 1.0])):
        got = CavSensitivity(model).attribute(rolls, target=targets, cavs=cavs, batch_size=2)
        np.testing.assert_array_equal(got, want)
