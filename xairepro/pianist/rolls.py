"""MIDI notes -> piano rolls, the four concept channels, and training augmentation.

A clip's notes are an array ``(M, 4)`` of ``pitch, start, end, velocity`` (seconds relative
to the clip start, float32). The roll is 88 keys (MIDI 21..108, row 0 = A0) by
``fps * clip_seconds`` frames; a kept note fills frames ``int(start * fps)`` up to
``int(end * fps)`` (at least its onset frame) with its velocity, the louder note winning
where two overlap. Kept notes start inside the clip, last longer than ``min_duration`` and
have 0 < velocity < 127 (the original's filters). Every roll is min-max normalised per clip.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from xairepro.common.errors import InputError

LOWEST, HIGHEST = 21, 108
N_KEYS = HIGHEST - LOWEST + 1
CHANNELS = ("melody", "harmony", "rhythm", "dynamics")


def read_midi(path: str | Path) -> np.ndarray:
    """Every note of a MIDI file as ``(M, 4)`` float32 ``pitch, start, end, velocity``, by onset.

    Pedal and other control changes are ignored (the original removes pedal CCs), drum
    tracks skipped. A file that cannot be parsed is an :class:`InputError` naming it.
    """
    import pretty_midi

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "MIDI file not found")
    try:
        midi = pretty_midi.PrettyMIDI(str(path))
    except Exception as exc:  # mido/pretty_midi raise OSError, EOFError, ValueError, KeyError, ...
        raise InputError(path, f"not a readable MIDI file ({type(exc).__name__}: {exc})",
                         "re-extract or regenerate the file") from exc
    notes = [(n.pitch, n.start, n.end, n.velocity) for inst in midi.instruments if not inst.is_drum
             for n in inst.notes]
    out = np.asarray(notes, dtype=np.float32).reshape(-1, 4)
    return out[np.lexsort((out[:, 0], out[:, 1]))] if len(out) else out


def filter_mask(notes: np.ndarray, clip_seconds: float, min_duration: float = 0.01) -> np.ndarray:
    """Which notes a roll keeps: onset in ``[0, clip_seconds)``, duration > ``min_duration``,
    0 < velocity < 127, pitch in 21..108."""
    pitch, start, end, vel = notes.T
    return ((start >= 0) & (start < clip_seconds) & (end - start > min_duration) & (vel > 0) & (vel < 127)
            & (pitch >= LOWEST) & (pitch <= HIGHEST))


def filter_notes(notes: np.ndarray, clip_seconds: float, min_duration: float = 0.01) -> np.ndarray:
    """The notes :func:`filter_mask` keeps."""
    return notes[filter_mask(notes, clip_seconds, min_duration)]


def piano_roll(notes: np.ndarray, fps: int, clip_seconds: float, min_duration: float = 0.01,
               values: np.ndarray | None = None) -> np.ndarray:
    """The raw (not normalised) roll ``(88, round(fps * clip_seconds))`` of a clip's notes.

    ``values`` (one per note) replaces the velocities as cell values (the rhythm channel).
    A clip shorter than the window is padded with silence.
    """
    n_frames = int(round(fps * clip_seconds))
    roll = np.zeros((N_KEYS, n_frames), dtype=np.float32)
    keep = filter_mask(notes, clip_seconds, min_duration)
    cells = notes[:, 3] if values is None else np.asarray(values, np.float32)
    for (pitch, start, end, _), value in zip(notes[keep], cells[keep]):
        first = int(start * fps)
        last = min(max(int(end * fps), first + 1), n_frames)
        row = int(pitch) - LOWEST
        np.maximum(roll[row, first:last], value, out=roll[row, first:last])
    return roll


def normalise(roll: np.ndarray) -> np.ndarray:
    """Min-max normalise one roll to [0, 1]; an all-equal roll (no notes) becomes zeros."""
    low, high = float(roll.min()), float(roll.max())
    if high <= low:
        return np.zeros_like(roll)
    return (roll - low) / (high - low)


# --------------------------------------------------------------------------- concept channels
def melody_notes(notes: np.ndarray, window: float = 0.05) -> np.ndarray:
    """Skyline: of the notes whose onsets fall in the same ``window``, keep the highest."""
    if not len(notes):
        return notes
    group = np.floor(notes[:, 1] / window).astype(np.int64)
    order = np.lexsort((-notes[:, 0], group))
    first = np.ones(len(order), dtype=bool)
    first[1:] = group[order][1:] != group[order][:-1]
    return notes[np.sort(order[first])]


def harmony_notes(notes: np.ndarray, window: float = 0.3, min_pitches: int = 3) -> np.ndarray:
    """Chords: onsets quantised to ``window`` seconds; groups of >= ``min_pitches`` distinct
    pitches are kept whole, every other note dropped."""
    if not len(notes):
        return notes
    group = np.floor(notes[:, 1] / window).astype(np.int64)
    keep = np.zeros(len(notes), dtype=bool)
    for g in np.unique(group):
        members = group == g
        if len(np.unique(notes[members, 0])) >= min_pitches:
            keep |= members
    return notes[keep]


def random_pitch(notes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same notes at random pitches (rhythm and dynamics channels keep only timing/velocity)."""
    out = notes.copy()
    out[:, 0] = rng.integers(LOWEST, HIGHEST + 1, len(notes))
    return out


def concept_channels(notes: np.ndarray, fps: int, clip_seconds: float, rng: np.random.Generator,
                     min_duration: float = 0.01, harmony_window: float = 0.3,
                     melody_window: float = 0.05) -> np.ndarray:
    """The four normalised channels ``(4, 88, T)``: melody, harmony, rhythm, dynamics.

    Rhythm cells are 1 (onset to offset), dynamics cells the velocity; both at random pitches.
    """
    kept = filter_notes(notes, clip_seconds, min_duration)
    rhythm = random_pitch(kept, rng)
    dynamics = random_pitch(kept, rng)
    return np.stack([
        normalise(piano_roll(melody_notes(kept, melody_window), fps, clip_seconds, min_duration)),
        normalise(piano_roll(harmony_notes(kept, harmony_window), fps, clip_seconds, min_duration)),
        normalise(piano_roll(rhythm, fps, clip_seconds, min_duration, values=np.ones(len(rhythm)))),
        normalise(piano_roll(dynamics, fps, clip_seconds, min_duration)),
    ])


def model_input(notes: np.ndarray, kind: str, fps: int, clip_seconds: float, rng: np.random.Generator,
                min_duration: float = 0.01, harmony_window: float = 0.3) -> np.ndarray:
    """``(1, 88, T)`` normalised roll for the ``resnet`` baseline, ``(4, 88, T)`` channels for
    the ``disentangle`` model."""
    if kind == "resnet":
        return normalise(piano_roll(filter_notes(notes, clip_seconds, min_duration), fps, clip_seconds,
                                    min_duration))[None]
    return concept_channels(notes, fps, clip_seconds, rng, min_duration, harmony_window)


# --------------------------------------------------------------------------- augmentation
def augment(notes: np.ndarray, rng: np.random.Generator, *, prob: float, transpose: tuple[int, int],
            dilation: tuple[float, float], velocity: int, jitter_seconds: float) -> np.ndarray:
    """Training augmentation of a clip's notes (each kind applied with probability ``prob``).

    transpose: all pitches by an integer in ``[lo, hi]``; dilation: times scaled by
    U(lo, hi); velocity: all velocities shifted by an integer in ``[-velocity, velocity]``
    (kept in 1..126); jitter: the clip starts up to ``jitter_seconds`` later (the padding
    after the clip supplies the notes).
    """
    out = notes.copy()
    if rng.random() < prob:
        out[:, 0] += rng.integers(transpose[0], transpose[1] + 1)
    if rng.random() < prob:
        out[:, 1:3] *= rng.uniform(*dilation)
    if rng.random() < prob:
        out[:, 3] = np.clip(out[:, 3] + rng.integers(-velocity, velocity + 1), 1, 126)
    if rng.random() < prob and jitter_seconds > 0:
        out[:, 1:3] -= rng.uniform(0, jitter_seconds)
    return out
