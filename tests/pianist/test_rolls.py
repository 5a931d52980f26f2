"""Piano rolls, concept channels and augmentation against hand-computed cells."""

import numpy as np
import pytest

from xairepro.common.errors import InputError
from xairepro.pianist.data import (
    augment, concept_channels, filter_notes, harmony_notes, melody_notes, normalise, piano_roll, read_midi,
)


def test_roll_of_a_known_midi_matches_hand_computed_cells(tmp_path, midi_writer):
    path = midi_writer(tmp_path / "known.mid", [
        (60, 0.0, 0.5, 100),   # C4 -> row 39, frames 0..4 at 10 fps
        (21, 1.0, 1.25, 50),   # A0 -> row 0, frames 10..11
        (108, 2.0, 2.06, 30),  # C8 -> row 87, one frame (shorter than a frame: onset frame kept)
        (64, 0.2, 0.3, 0),     # velocity 0 is not a note at all
        (62, 0.1, 0.105, 90),  # 5 ms: shorter than min_duration, dropped
        (67, 2.9, 3.5, 80),    # starts inside a 3 s clip, runs past its end: cut at the edge
        (69, 3.1, 3.5, 80),    # starts after the clip: dropped
    ])
    notes = read_midi(path)
    roll = piano_roll(notes, fps=10, clip_seconds=3)
    assert roll.shape == (88, 30)
    expected = np.zeros((88, 30), np.float32)
    expected[39, 0:5] = 100
    expected[0, 10:12] = 50
    expected[87, 20] = 30
    expected[46, 29] = 80
    np.testing.assert_array_equal(roll, expected)
    normed = normalise(roll)
    assert normed.max() == 1.0 and normed.min() == 0.0
    assert normed[0, 10] == pytest.approx(0.5)


def test_velocity_127_is_filtered_and_overlaps_keep_the_louder_note():
    notes = np.array([[60, 0.0, 1.0, 127], [62, 0.0, 1.0, 40], [62, 0.5, 1.0, 90]], np.float32)
    roll = piano_roll(notes, fps=4, clip_seconds=1)
    assert roll[39].sum() == 0
    np.testing.assert_array_equal(roll[41], [40, 40, 90, 90])


def test_clip_shorter_than_the_window_is_padded_with_silence():
    notes = np.array([[60, 0.0, 1.0, 64]], np.float32)  # a 1 s clip in a 4 s window
    roll = piano_roll(notes, fps=5, clip_seconds=4)
    assert roll.shape == (88, 20)
    assert (roll[39, :5] == 64).all() and (roll[:, 5:] == 0).all()


def test_a_roll_without_notes_normalises_to_zeros():
    assert not normalise(np.zeros((88, 10), np.float32)).any()


def test_harmony_keeps_only_groups_of_three_distinct_pitches():
    notes = np.array([
        [48, 0.0, 1, 80], [52, 0.1, 1, 80], [55, 0.2, 1, 80],    # a triad within 0.3 s
        [60, 0.5, 1, 80], [60, 0.55, 1, 80], [64, 0.59, 1, 80],  # three notes, two pitches
        [72, 1.0, 2, 80],                                        # a single note
    ], np.float32)
    kept = harmony_notes(notes, window=0.3)
    assert sorted(kept[:, 0].tolist()) == [48, 52, 55]


def test_melody_skyline_keeps_the_highest_note_of_each_onset_group():
    notes = np.array([[48, 0.0, 1, 80], [67, 0.01, 1, 80], [60, 0.02, 1, 80], [55, 0.5, 1, 80]], np.float32)
    assert sorted(melody_notes(notes, window=0.05)[:, 0].tolist()) == [55, 67]


def test_concept_channels_shape_and_random_pitch_channels_keep_timing():
    notes = np.array([[48, 0.0, 1.0, 80], [52, 0.0, 1.0, 60], [55, 0.0, 1.0, 70], [72, 1.5, 2.0, 100]], np.float32)
    x = concept_channels(notes, fps=10, clip_seconds=3, rng=np.random.default_rng(0))
    assert x.shape == (4, 88, 30) and x.min() >= 0 and x.max() <= 1
    active = lambda c: (x[c] > 0).any(axis=0)  # noqa: E731
    # rhythm and dynamics keep every note's timing, wherever their random pitches land
    np.testing.assert_array_equal(active(2), active(3))
    assert active(2)[:10].all() and active(2)[15:20].all() and not active(2)[10:15].any()
    assert not (x[1][:, 15:] > 0).any()  # the lone melody note is not harmony
    assert set(np.unique(x[2])) <= {0.0, 1.0}


def test_augmentation_transposes_dilates_and_stays_deterministic():
    notes = np.array([[60, 1.0, 2.0, 80], [64, 2.0, 3.0, 90]], np.float32)
    kwargs = dict(prob=1.0, transpose=(3, 3), dilation=(2.0, 2.0), velocity=0, jitter_seconds=0.0)
    out = augment(notes, np.random.default_rng(0), **kwargs)
    np.testing.assert_allclose(out, [[63, 2.0, 4.0, 80], [67, 4.0, 6.0, 90]])
    a = augment(notes, np.random.default_rng(5), prob=0.5, transpose=(-6, 5), dilation=(0.8, 1.2), velocity=12,
                jitter_seconds=1.0)
    b = augment(notes, np.random.default_rng(5), prob=0.5, transpose=(-6, 5), dilation=(0.8, 1.2), velocity=12,
                jitter_seconds=1.0)
    np.testing.assert_array_equal(a, b)
    assert len(filter_notes(notes, 3.0)) == 2


def test_corrupt_midi_is_an_input_error_naming_the_file(tmp_path):
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    with pytest.raises(InputError, match="broken.mid"):
        read_midi(bad)
