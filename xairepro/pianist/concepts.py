"""Harmony concepts: chord rules, the concept MIDI sets, and their renderings for CAVs.

A voicing is a left-hand and a right-hand set of pitches. Each concept is a rule that
turns a root into a short chord sequence (one voicing repeated around the cycle of
fourths, or a progression such as II-V-I). Concept MIDI files hold the right hand in
instrument 0 and the left hand in instrument 1, as the original's CAV set does
(``references/cav_resources/voicings/midi_final/<k>_cav/*.mid``).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from xairepro.common.errors import InputError
from xairepro.common.io import read_csv
from xairepro.pianist.rolls import HIGHEST, LOWEST, harmony_notes, normalise, piano_roll

log = logging.getLogger(__name__)

#: name -> list of (root offset, left hand intervals, right hand intervals), one per chord of
#: the rule's unit; static voicings repeat around the cycle of fourths.
CONCEPT_RULES: dict[str, list[tuple[int, tuple[int, ...], tuple[int, ...]]]] = {
    "shell": [(0, (0, 10), (16, 19, 24))],
    "so_what": [(0, (0, 5), (10, 15, 19))],
    "quartal": [(0, (0, 5), (10, 15, 20))],
    "block": [(0, (0,), (12, 16, 19, 21, 24))],
    "diminished": [(0, (0, 6), (9, 12, 15))],
    "polychord": [(0, (0, 4, 10), (13, 17, 20))],
    "ii_v_i": [(2, (0,), (3, 7, 10)), (7, (0,), (4, 10, 14)), (0, (0,), (4, 7, 11))],
    "tritone_sub": [(2, (0,), (3, 7, 10)), (1, (0,), (4, 7, 10)), (0, (0,), (4, 7, 11))],
}
STATIC_LENGTH = 3  # chords per unit of a static voicing
CYCLE = (0, 5, -2)  # roots of a static unit: up a fourth, up another (an octave lower)


def invert(rh: list[int], k: int) -> list[int]:
    """The ``k``-th inversion of a right-hand voicing: the lowest note moved up an octave, k times."""
    rh = sorted(rh)
    for _ in range(k):
        rh = sorted(rh[1:] + [rh[0] + 12])
    return rh


def concept_chords(name: str, root: int, inversion: int = 0) -> list[tuple[list[int], list[int]]]:
    """One unit of a concept as absolute ``(left hand, right hand)`` pitch lists."""
    if name not in CONCEPT_RULES:
        raise ValueError(f"unknown concept {name!r}; choose from {sorted(CONCEPT_RULES)}")
    rule = CONCEPT_RULES[name]
    if len(rule) == 1:
        offset, lh, rh = rule[0]
        rule = [(offset + step, lh, rh) for step in CYCLE[:STATIC_LENGTH]]
    return [([root + off + i for i in lh], invert([root + off + i for i in rh], inversion)) for off, lh, rh in rule]


def write_hands_midi(path: str | Path, chords: list[tuple[list[int], list[int]]], chord_seconds: float,
                     velocity: int = 80) -> None:
    """A concept MIDI file: right hand = instrument 0, left hand = instrument 1, one chord
    every ``chord_seconds``."""
    import pretty_midi

    from xairepro.common.io import atomic_path

    midi = pretty_midi.PrettyMIDI()
    hands = [pretty_midi.Instrument(0, name="right hand"), pretty_midi.Instrument(0, name="left hand")]
    for i, (lh, rh) in enumerate(chords):
        start, end = i * chord_seconds, (i + 1) * chord_seconds * 0.95
        for hand, pitches in ((hands[0], rh), (hands[1], lh)):
            hand.notes += [pretty_midi.Note(velocity, int(p), start, end) for p in pitches]
    midi.instruments = hands
    with atomic_path(path, suffix=".mid") as tmp:
        midi.write(str(tmp))


def generate_concept_set(out_dir: str | Path, concepts: list[str], files_per_concept: int, chord_seconds: float,
                         seed: int) -> Path:
    """The demo CAV set: ``<out_dir>/<k>_cav/<name>_<i>.mid`` (k = 1-based concept index)
    and ``<out_dir>/../cav_mapping.csv`` (name, idx), as in the original archive."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    for k, name in enumerate(concepts, start=1):
        for i in range(files_per_concept):
            root = int(rng.integers(48, 60))
            chords = concept_chords(name, root, inversion=0)
            write_hands_midi(out_dir / f"{k}_cav" / f"{name}_{i:02d}.mid", chords, chord_seconds)
    mapping = pd.DataFrame({"name": concepts, "idx": range(len(concepts))})
    from xairepro.common.io import atomic_path

    with atomic_path(out_dir.parent / "cav_mapping.csv") as tmp:
        mapping.to_csv(tmp, index=False)
    return out_dir


def list_concepts(voicing_dir: str | Path, mapping_csv: str | Path | None = None) -> list[tuple[str, list[Path]]]:
    """``[(concept name, [midi files])]`` in concept-index order from ``<k>_cav`` folders.

    Names come from ``cav_mapping.csv`` (first column = name, row i = folder i + 1) when it
    exists, else ``concept_<k>``. An empty folder is an :class:`InputError`.
    """
    voicing_dir = Path(voicing_dir)
    folders = sorted((p for p in voicing_dir.iterdir() if p.is_dir() and re.fullmatch(r"\d+_cav", p.name)),
                     key=lambda p: int(p.name.split("_")[0]))
    if not folders:
        raise InputError(voicing_dir, "no <k>_cav concept folders found", "point the rule at midi_final/")
    names = None
    if mapping_csv is not None and Path(mapping_csv).is_file():
        table = read_csv(mapping_csv)
        names = [str(v) for v in table.iloc[:, 0]]
    out = []
    for folder in folders:
        k = int(folder.name.split("_")[0])
        files = sorted(folder.glob("*.mid"))
        if not files:
            raise InputError(folder, "concept folder holds no .mid files")
        name = names[k - 1] if names and k - 1 < len(names) else f"concept_{k}"
        out.append((name, files))
    return out


def read_hands(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Right- and left-hand notes ``(M, 4)`` of a concept MIDI (instrument 0 and 1)."""
    import pretty_midi

    path = Path(path)
    try:
        midi = pretty_midi.PrettyMIDI(str(path))
    except Exception as exc:
        raise InputError(path, f"not a readable MIDI file ({type(exc).__name__}: {exc})") from exc
    if not midi.instruments or not any(inst.notes for inst in midi.instruments):
        raise InputError(path, "concept MIDI holds no notes")
    hands = []
    for inst in midi.instruments[:2]:
        hands.append(np.asarray([(n.pitch, n.start, n.end, n.velocity) for n in inst.notes],
                                np.float32).reshape(-1, 4))
    if len(hands) == 1:
        hands.append(np.zeros((0, 4), np.float32))
    return hands[0], hands[1]


def invert_notes(rh: np.ndarray, k: int) -> np.ndarray:
    """Invert every right-hand chord (notes sharing an onset) ``k`` times."""
    out = rh.copy()
    for onset in np.unique(out[:, 1]):
        idx = np.where(out[:, 1] == onset)[0]
        for _ in range(k):
            low = idx[np.argmin(out[idx, 0])]
            out[low, 0] += 12
    return out


def concept_rolls(files: list[Path], *, fps: int, clip_seconds: float, transpositions: list[int],
                  n_inversions: int, harmony_window: float, min_duration: float = 0.01) -> np.ndarray:
    """Harmony-channel rolls ``(V, 88, T)`` of a concept's files: every inversion (0 ..
    ``n_inversions``-1) x transposition x (with, without left hand)."""
    rolls = []
    for path in files:
        rh, lh = read_hands(path)
        for k in range(n_inversions):
            inv = invert_notes(rh, k)
            for shift in transpositions:
                for with_lh in (True, False):
                    notes = np.concatenate([inv, lh]) if with_lh else inv
                    notes = notes.copy()
                    notes[:, 0] += shift
                    notes = notes[(notes[:, 0] >= LOWEST) & (notes[:, 0] <= HIGHEST)]
                    roll = piano_roll(harmony_notes(notes, harmony_window), fps, clip_seconds, min_duration)
                    rolls.append(normalise(roll))
    return np.stack(rolls).astype(np.float32)
