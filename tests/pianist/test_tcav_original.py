"""TCAV as the original computes it (HuwCheston/deep-pianist-identification, commit e0cae4d):
its random-CAV null (``RandomCAV`` on ``VoicingLoaderFake``), its concept renderings
(``VoicingLoaderReal``), its correlations over experiments and the paper block's values.

Built cases only: activations, attributions and sign counts with known structure, tiny MIDI
files; no model is trained."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from xairepro.pianist import explain, tables
from xairepro.pianist.data import LOWEST, combine_hands, concept_rolls, invert_notes, stretch_chords

ROOT = Path(__file__).resolve().parents[2]


# =========================================================================== the random-CAV null
def _built_case(seed: int = 0):
    """Concept renderings varying in dims 0-19 (concept 0 shifted along dim 0), training clips
    varying in dims 20-21 only, and one performer's clip attributions ``g`` ``(N, 22)``:
    biased along dim 0 (towards concept 0), noise in dims 0-19, the same vector in dims 20-21.

    So a fake-voicing random CAV is a random direction of dims 0-19 (the performer's sign
    counts stay near 0.5), a training-clip random CAV lives in dims 20-21 (every clip gets
    the same sign: sign counts 0 or 1), and concept 0's CAV points along dim 0 (sign counts ~0.9).
    """
    rng = np.random.default_rng(seed)
    dim = 22
    concepts = []
    for c in range(3):
        acts = np.zeros((40, dim), np.float32)
        acts[:, :20] = rng.normal(0, 1, (40, 20))
        acts[:, 0] += 3.0 * (c == 0)
        concepts.append(acts)
    clips = np.zeros((40, dim), np.float32)
    clips[:, 20:] = rng.normal(0, 1, (40, 2))
    g = np.zeros((30, dim), np.float32)
    g[:, :20] = rng.normal(0, 1, (30, 20))
    g[:, 0] += 1.5
    g[:, 20:] = 1.0
    return concepts, clips, g


def _stars(concepts, clips, g, random_cavs):
    fitted = explain.fit_cavs(concepts, clips if random_cavs == "training_clips" else None, n_experiments=10,
                              n_random_clips=30, positive_fraction=1.0, seed=1, random_cavs=random_cavs)
    labels = np.zeros(len(g), np.int64)
    concept_counts, _ = explain.sign_counts(g @ fitted["cavs"].reshape(-1, g.shape[1]).T, labels, 1)
    random_counts, _ = explain.sign_counts(g @ fitted["random_cavs"].T, labels, 1)
    concept_counts = concept_counts.reshape(1, len(concepts), -1)  # (P, C, E)
    _, p_bonf = tables.significance(concept_counts, random_counts)
    return [tables.stars(p) for p in p_bonf[0]], concept_counts[0, 0], random_counts[0], fitted


def test_original_random_cavs_and_training_clip_random_cavs_give_different_stars():
    """Issue 20, item 4: the choice of null is visible in the figure's stars."""
    concepts, clips, g = _built_case()
    fake_stars, concept0, fake_null, fake = _stars(concepts, clips, g, "fake_voicings")
    train_stars, concept0_again, train_null, _ = _stars(concepts, clips, g, "training_clips")
    np.testing.assert_allclose(concept0, concept0_again)  # the same concept CAVs under both nulls
    assert concept0.min() > 0.8
    # the original's null: random directions among the renderings, sign counts near 0.5
    assert np.abs(fake_null - 0.5).max() < 0.3
    assert fake_stars == ["**", "**", "**"]  # exact Wilcoxon: 2 / 2**10 (concepts 1 and 2 below the null)
    # ours: every clip on the same side of a training-clip CAV, sign counts 0 or 1
    assert set(np.round(train_null, 6)) == {0.0, 1.0}
    assert train_stars == ["*", "", ""]
    # fake-voicing random CAVs never see the training clips' dimensions
    assert np.abs(fake["random_cavs"][:, 20:]).max() < 1e-3
    assert np.abs(fake["control_cavs"][:, :, 20:]).max() < 1e-3  # the controls follow the same null


def test_fake_voicing_random_sets_are_two_independent_draws_and_training_clips_two_halves():
    first, second = explain.random_sets(np.random.default_rng(0), 50, 30, "fake_voicings")
    assert len(first) == len(second) == 30 and len(set(first)) == len(set(second)) == 30
    assert set(first) & set(second)  # two draws of 30 of 50 must share renderings
    first, second = explain.random_sets(np.random.default_rng(0), 50, 30, "training_clips")
    assert len(first) == len(second) == 15 and not set(first) & set(second)
    first, second = explain.random_sets(np.random.default_rng(0), 10, 250, "fake_voicings")
    assert len(first) == 10  # capped at the pool, as the original's loader
    with pytest.raises(ValueError, match="random_cavs"):
        explain.random_sets(np.random.default_rng(0), 10, 4, "clips")


def test_fake_voicing_random_cavs_replay_draws_from_the_pooled_renderings():
    rng = np.random.default_rng(2)
    concepts = [rng.normal(0, 1, (12, 5)).astype(np.float32) for _ in range(2)]
    fitted = explain.fit_cavs(concepts, n_experiments=2, n_random_clips=8, positive_fraction=1.0, seed=4)
    pool = np.concatenate(concepts)
    draws = np.random.default_rng(4)
    for _ in range(2 * 2):  # the concept CAVs' draws: positives, negatives
        draws.choice(12, 12, replace=False), draws.choice(12, 12, replace=False)
    for e in range(2):
        first, second = explain.random_sets(draws, len(pool), 8, "fake_voicings")
        expected, _ = explain._fit(pool[first], pool[second], 4 + e, "lbfgs")
        np.testing.assert_allclose(fitted["random_cavs"][e], expected, rtol=1e-5, atol=1e-6)


def test_every_rendering_is_a_positive_at_fraction_one():
    rng = np.random.default_rng(3)
    concepts = [rng.normal(0, 1, (10, 4)).astype(np.float32) + 2 * (k == 0) for k in range(3)]
    fitted = explain.fit_cavs(concepts, n_experiments=3, n_random_clips=6, positive_fraction=1.0, seed=0)
    # the same positives in every experiment, only the negatives are drawn afresh (CAV.fit)
    assert not np.allclose(fitted["cavs"][0, 0], fitted["cavs"][0, 1])
    with pytest.raises(ValueError, match="training clips"):
        explain.fit_cavs(concepts, n_experiments=1, n_random_clips=4, positive_fraction=1.0, seed=0,
                         random_cavs="training_clips")


# =========================================================================== concept renderings
def _rows(roll):
    return sorted(int(i) + LOWEST for i in np.where(roll.any(axis=1))[0])


def test_renderings_stretch_chords_over_the_clip_keep_the_bass_and_every_inversion(tmp_path, midi_writer):
    # right hand: two 3-note chords of 0.5 s; left hand: bass + one upper note under each
    rh = [(64, 0, 0.5, 70), (67, 0, 0.5, 70), (71, 0, 0.5, 70), (65, 1, 1.5, 90), (69, 1, 1.5, 90), (72, 1, 1.5, 90)]
    lh = [(48, 0, 0.5, 50), (55, 0, 0.5, 50), (53, 1, 1.5, 50), (60, 1, 1.5, 50)]
    path = midi_writer(tmp_path / "1_cav" / "c.mid", [], hands=[rh, lh])
    rolls = concept_rolls([path], fps=10, clip_seconds=4, transpositions=[0], n_inversions=None, harmony_window=0.3)
    # hands 'bass': the right hand holds 4 notes per chord (55 and 60 join it): 4 voicings x 2 hands
    assert rolls.shape == (4 * 2, 88, 40)
    root_with_bass, root_without = rolls[0], rolls[1]
    assert _rows(root_with_bass[:, :20]) == [48, 55, 64, 67, 71] and _rows(root_with_bass[:, 20:]) == [53, 60, 65, 69, 72]
    assert _rows(root_without[:, :20]) == [55, 64, 67, 71]  # only the bass goes with the left hand
    # stretched: chord 1 fills [0, 2) s, chord 2 [2, 4) s, the whole 4 s clip
    assert root_with_bass[:, :20].any(axis=0).all() and root_with_bass[:, 20:].any(axis=0).all()
    assert set(np.unique(rolls)) <= {0.0, 1.0}  # one velocity: cells 0 or 1
    third_inversion_without = rolls[3 * 2 + 1]
    assert _rows(third_inversion_without[:, :20]) == [67, 71, 76, 79]  # 55, 64, 67 up an octave


def test_renderings_without_the_filter_keep_two_note_chords(tmp_path, midi_writer):
    path = midi_writer(tmp_path / "2_cav" / "d.mid", [], hands=[[(64, 0, 1, 80), (70, 0, 1, 80)], []])
    kept = concept_rolls([path], fps=10, clip_seconds=2, transpositions=[0], n_inversions=1, harmony_window=0.3)
    assert _rows(kept[0]) == [64, 70]
    dropped = concept_rolls([path], fps=10, clip_seconds=2, transpositions=[0], n_inversions=1, harmony_window=0.3,
                            harmony_filter=True)
    assert not dropped[0].any()


def test_helpers_follow_the_original_inversions_hands_and_slots():
    # a chord wider than an octave: its k lowest notes go up an octave (get_inversions)
    chord = np.array([[60, 0, 1, 1], [74, 0, 1, 1], [77, 0, 1, 1]], np.float32)
    assert sorted(invert_notes(chord, 2)[:, 0]) == [72, 77, 86]
    assert sorted(invert_notes(chord, 5)[:, 0]) == [72, 86, 89]  # past the chord's size: every note
    rh, lh = combine_hands(chord, np.array([[40, 0, 1, 1], [47, 0, 1, 1], [52, 0, 1, 1]], np.float32))
    assert sorted(rh[:, 0]) == [47, 52, 60, 74, 77] and lh[:, 0].tolist() == [40]
    notes = np.array([[60, 0.0, 0.2, 1], [64, 0.0, 0.2, 1], [62, 0.5, 0.6, 1], [65, 3.0, 3.1, 1]], np.float32)
    out = stretch_chords(notes, 6.0)
    assert out[:, 1].tolist() == [0, 0, 2, 4] and out[:, 2].tolist() == [2, 2, 4, 6]


# =========================================================================== correlations
def _long(counts: np.ndarray, performers, concepts) -> pd.DataFrame:
    """The long table of sign counts ``(P, C, E)``."""
    return pd.DataFrame([{"performer": p, "concept": c, "experiment": e, "sign_count": counts[i, j, e],
                          "magnitude": 0.5, "random_sign_count": 0.5}
                         for i, p in enumerate(performers) for j, c in enumerate(concepts)
                         for e in range(counts.shape[2])])


def test_correlations_are_over_experiments_as_the_original():
    """The original correlates concepts over performer x experiment observations and
    performers over concept x experiment ones (create_harmony_cavs.py, main); the means of
    this built case correlate the other way round."""
    rng = np.random.default_rng(0)
    n_p, n_c, n_e = 4, 3, 10
    means = np.array([[0.2, 0.8, 0.5], [0.4, 0.6, 0.5], [0.6, 0.4, 0.5], [0.8, 0.2, 0.5]])
    # within each cell, concepts 0 and 1 move together over experiments, far more than their means move apart
    shared = rng.normal(0, 1, (n_p, n_e))
    counts = means[:, :, None] + np.stack([shared, shared, rng.normal(0, 1, (n_p, n_e))], axis=1)
    performers, concepts = list("abcd"), ["x", "y", "z"]
    concept_r, performer_r = tables.correlations(_long(counts, performers, concepts))
    original = counts.transpose(1, 0, 2)  # (C, P, E), the original's all_sign_counts
    expected_concept = np.corrcoef(original.reshape(n_c, -1))  # columns: P * E observations
    expected_performer = np.corrcoef(np.swapaxes(original, 0, 1).reshape(n_p, -1))  # C * E observations
    np.testing.assert_allclose(concept_r.to_numpy(), expected_concept, atol=1e-12)
    np.testing.assert_allclose(performer_r.to_numpy(), expected_performer, atol=1e-12)
    assert concept_r.loc["x", "y"] > 0.5 and np.corrcoef(means[:, 0], means[:, 1])[0, 1] < -0.99  # of the means: -1


def test_summary_and_correlations_come_in_dendrogram_order():
    rng = np.random.default_rng(1)
    performers, concepts = ["p0", "p1", "p2", "p3"], ["c0", "c1", "c2", "c3"]
    base = rng.normal(0, 1, (2, 4, 10))
    # p0 and p2 play alike, p1 and p3 alike; c0 and c2 alike, c1 and c3 alike
    counts = np.stack([base[0], base[1], base[0] + 0.1 * rng.normal(0, 1, (4, 10)),
                       base[1] + 0.1 * rng.normal(0, 1, (4, 10))])
    counts[:, 2] = counts[:, 0] + 0.1 * rng.normal(0, 1, (4, 10))
    counts[:, 3] = counts[:, 1] + 0.1 * rng.normal(0, 1, (4, 10))
    long = _long(counts, performers, concepts)
    concept_r, performer_r = tables.correlations(long)
    summary, concept_r, performer_r = tables.ordered(tables.summarise(long), concept_r, performer_r)
    rows = list(dict.fromkeys(summary.performer))
    assert rows == list(performer_r.index) and list(dict.fromkeys(summary.concept)) == list(concept_r.index)
    assert abs(rows.index("p0") - rows.index("p2")) == 1 and abs(rows.index("p1") - rows.index("p3")) == 1
    cols = list(concept_r.index)
    assert abs(cols.index("c0") - cols.index("c2")) == 1
    assert list(tables.wide(summary).index) == rows  # the figure draws the summary's order


# =========================================================================== the paper block
def test_paper_block_holds_the_original_tcav():
    cfg = yaml.safe_load((ROOT / "config" / "pianist.yaml").read_text())["pianist"]["tcav"]
    paper = {**{k: v for k, v in cfg.items() if k not in ("demo", "paper")}, **cfg["paper"]}
    assert paper["random_cavs"] == "fake_voicings" and paper["solver"] == "lbfgs"
    assert paper["positive_fraction"] == 1.0 and paper["n_inversions"] == "all"
    assert paper["hands"] == "bass" and paper["stretch"] is True and paper["harmony_filter"] is False
    assert paper["splits"] == ["validation", "test"] and paper["n_random_clips"] == 250
