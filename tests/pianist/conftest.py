"""Helpers of the pianist tests: MIDI files written on the spot."""

from __future__ import annotations

from pathlib import Path

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
