"""Helpers of the pianist tests: MIDI files written on the spot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi
import pytest


def write_midi(path: Path, notes: list[tuple[int, float, float, int]], hands: list[list] | None = None) -> Path:
    """A MIDI file with ``notes`` (pitch, start, end, velocity) in one instrument, or one
    instrument per entry of ``hands``."""
    midi = pretty_midi.PrettyMIDI()
    for group in hands if hands is not None else [notes]:
        inst = pretty_midi.Instrument(0)
        inst.notes = [pretty_midi.Note(v, p, s, e) for p, s, e, v in group]
        midi.instruments.append(inst)
    path.parent.mkdir(parents=True, exist_ok=True)
    midi.write(str(path))
    return path


@pytest.fixture
def midi_writer():
    return write_midi


@pytest.fixture
def chord_case():
    """One three-note chord (0-1 s) in a 4 s roll at 10 fps, and a 24-semitone x 1 s kernel
    with stride 12 x 1 s: the kernel-occlusion tests' case. ``cavs(model, n, seed)`` draws n
    random CAVs of the model's harmony-layer size."""
    from xairepro.pianist import explain

    notes = np.array([[48, 0.0, 1.0, 80], [52, 0.0, 1.0, 80], [55, 0.0, 1.0, 80]], np.float32)
    roll = {"fps": 10, "clip_seconds": 4.0, "min_duration": 0.01, "harmony_window": 0.3}
    kernel = {"semitones": 24, "seconds": 1.0, "stride_semitones": 12, "stride_seconds": 1.0}

    def cavs(model, n, seed):
        dim = explain.activations(model, np.zeros((1, 88, 40), np.float32)).shape[1]
        return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)

    return notes, roll, kernel, cavs
