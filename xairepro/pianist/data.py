"""The data of the pianist study: MIDI notes and piano rolls, the harmony concepts, the demo
corpus with planted concepts, the clip loader, and the paper's Zenodo archive.

Piano rolls. A clip's notes are an array ``(M, 4)`` of ``pitch, start, end, velocity``
(seconds relative to the clip start, float32). The roll is 88 keys (MIDI 21..108, row 0 =
A0) by ``fps * clip_seconds`` frames; a kept note fills frames ``int(start * fps)`` up to
``int(end * fps)`` (at least its onset frame) with its velocity, the louder note winning
where two overlap. Kept notes start inside the clip, last longer than ``min_duration`` and
have 0 < velocity < 127 (the original's filters). Every roll is min-max normalised per clip.
The four concept channels (melody, harmony, rhythm, dynamics) and the training augmentation
act on notes too.

Harmony concepts. A voicing is a left-hand and a right-hand set of pitches. Each concept is
a rule that turns a root into a short chord sequence (one voicing repeated around the cycle
of fourths, or a progression such as II-V-I). Concept MIDI files hold the right hand in
instrument 0 and the left hand in instrument 1, as the original's CAV set does
(``references/cav_resources/voicings/midi_final/<k>_cav/*.mid``).

Both scales share the layout of the paper's Zenodo archive::

    clips/<dataset>/<track>/clip_NNN.mid       clip i spans [i L, i L + L) (+ padding)
    clips/<dataset>/<track>/metadata.json      the track's metadata (optional: figure titles)
    splits/{train,validation,test}_split.csv   ",track,pianist,duration" (track = <dataset>/<track>)
    splits/pianist_mapping.csv                 ",idx" (the original's; name,pianist read too): class names (optional)
    voicings/<k>_cav/*.mid, cav_mapping.csv    the concept MIDI set

The demo renders synthetic performers with pretty_midi. Each comps only with the voicings
of its planted concepts (the other concepts never occur in its playing), and has its own
melody register, density, velocity and timing; the concept -> performer links are written
to ``truth.json``: TCAV's ground truth.

The paper corpus is Zenodo record 14774191, one zip with the clips, split tables, concept
MIDIs and checkpoints of the original. The download is verified against a pinned sha256
(``pianist.data.paper.archive_sha256``) or else the md5 Zenodo publishes for the file in the
record's JSON. Extraction refuses any member that would leave the folder
(:func:`xairepro.common.download.safe_extract`), then moves the three parts the workflow
reads into the layout the demo uses too::

    <archive>/data/clips/<dataset>/<track>/clip_NNN.mid                    -> clips/
    <archive>/<split_dir>/{train,validation,test}_split.csv                -> splits/
    <archive>/references/cav_resources/voicings/midi_final/<k>_cav/*.mid   -> voicings/midi_final/
    <archive>/references/cav_resources/voicings/cav_mapping.csv            -> voicings/cav_mapping.csv
    <archive>/data/raw/<dataset>/<track>/metadata.json                     -> clips/<dataset>/<track>/

The track metadata (``bandleader``, ``track_name``, ``album_name``, ``recording_year``, ...: the
JSON the original's ``create_lime_plots.py`` titles its figures with) is copied beside the
clips of each track that has them; the demo writes one per track in the same format.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xairepro.common.errors import InputError, XaiReproError
from xairepro.common.io import atomic_path, read_csv, save_arrays, write_json
from xairepro.common.logs import progress

log = logging.getLogger(__name__)


# =========================================================================== piano rolls
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


# =========================================================================== harmony concepts
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
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    for k, name in enumerate(concepts, start=1):
        for i in range(files_per_concept):
            root = int(rng.integers(48, 60))
            chords = concept_chords(name, root, inversion=0)
            write_hands_midi(out_dir / f"{k}_cav" / f"{name}_{i:02d}.mid", chords, chord_seconds)
    mapping = pd.DataFrame({"name": concepts, "idx": range(len(concepts))})
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


def chords_of(notes: np.ndarray) -> list[np.ndarray]:
    """Indices of ``notes`` ``(M, 4)`` grouped by onset (notes sharing a start time), in time order."""
    onsets = notes[:, 1]
    return [np.where(onsets == onset)[0] for onset in np.unique(onsets)]


def combine_hands(rh: np.ndarray, lh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The original's hands of a concept MIDI: in every left-hand chord the lowest note (the
    bass) stays in the left hand and the others join the right hand.

    Returns ``(right hand, left hand)`` notes ``(M, 4)``; the left hand then holds one note per onset.
    """
    bass = np.zeros(len(lh), dtype=bool)
    for idx in chords_of(lh):
        bass[idx[np.argmin(lh[idx, 0])]] = True
    return np.concatenate([rh, lh[~bass]]), lh[bass]


def invert_notes(rh: np.ndarray, k: int) -> np.ndarray:
    """The ``k``-th inversion of every right-hand chord (notes sharing an onset): its ``k``
    lowest notes moved up an octave (every note when the chord has ``k`` or fewer)."""
    out = rh.copy()
    for idx in chords_of(out):
        lowest = idx[np.argsort(out[idx, 0], kind="stable")[:k]]
        out[lowest, 0] += 12
    return out


def stretch_chords(notes: np.ndarray, clip_seconds: float) -> np.ndarray:
    """Each chord (notes sharing an onset) fills an equal slot of the clip: chord i of n
    spans ``[i L / n, (i + 1) L / n)``, as the original renders its concept MIDIs."""
    out = notes.copy()
    groups = chords_of(out)
    edges = np.linspace(0.0, clip_seconds, len(groups) + 1)
    for idx, start, end in zip(groups, edges, edges[1:]):
        out[idx, 1], out[idx, 2] = start, end
    return out


def concept_rolls(files: list[Path], *, fps: int, clip_seconds: float, transpositions: list[int],
                  n_inversions: int | None, harmony_window: float, min_duration: float = 0.01,
                  stretch: bool = True, harmony_filter: bool = False, hands: str = "bass") -> np.ndarray:
    """Harmony-channel rolls ``(V, 88, T)`` of a concept's files: inversion x transposition x
    (with, without left hand), in that nesting order, each note at one velocity (cells 0 or 1).

    ``n_inversions``: root position and the next ``n_inversions - 1`` inversions; ``None``
    (the original's) every inversion of the file's first right-hand chord (as many renderings
    as it has notes). ``hands``: ``bass`` (the original's :func:`combine_hands`: only the
    lowest left-hand note is the left hand, so the rendering without it keeps the upper
    left-hand notes) or ``split`` (instrument 0 is the right hand, 1 the left). ``stretch``:
    each chord fills an equal slot of the clip (the original's); else the file's own timing.
    ``harmony_filter``: keep only chords of 3 or more distinct pitches
    (:func:`harmony_notes`, applied to the clips' harmony channel; the original does not apply
    it to concept renderings).
    """
    if hands not in ("bass", "split"):
        raise ValueError(f"unknown hands {hands!r}; choose bass or split")
    rolls = []
    for path in files:
        rh, lh = read_hands(path)
        if hands == "bass":
            rh, lh = combine_hands(rh, lh)
        count = len(chords_of(rh)[0]) if n_inversions is None and len(rh) else n_inversions or 1
        for k in range(count):
            inv = invert_notes(rh, k)
            for shift in transpositions:
                for with_lh in (True, False):
                    notes = np.concatenate([inv, lh]) if with_lh else inv.copy()
                    notes[:, 0] += shift
                    notes[:, 3] = 1.0
                    notes = notes[(notes[:, 0] >= LOWEST) & (notes[:, 0] <= HIGHEST)]
                    if stretch:
                        notes = stretch_chords(notes, clip_seconds)
                    if harmony_filter:
                        notes = harmony_notes(notes, harmony_window)
                    rolls.append(normalise(piano_roll(notes, fps, clip_seconds, min_duration)))
    return np.stack(rolls).astype(np.float32)


# =========================================================================== demo corpus and loader
SPLITS = ("train", "validation", "test")
SCALE = (0, 2, 4, 5, 7, 9, 10)  # the mixolydian degrees the demo melodies walk on


# --------------------------------------------------------------------------- demo rendering
def render_performance(performer: dict[str, Any], seconds: float, rng: np.random.Generator, *,
                       chord_seconds: float, root_range: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """One track of a performer: ``(right hand, left hand)`` notes ``(M, 4)``.

    Comping: units of the performer's planted concepts at random roots (``root_range``) and
    inversions (0-2), one chord every ~``chord_seconds`` (the same for every performer, so
    only the voicings tell them apart in the harmony channel). Melody: a walk around
    ``register`` with ``density`` notes per second; ``velocity`` (mean, sd) and ``timing``
    (onset sd in seconds) shape both hands.
    """
    rh, lh = [], []
    vel_mean, vel_sd = performer["velocity"]
    t = 0.0
    while t < seconds:
        concept = performer["concepts"][rng.integers(len(performer["concepts"]))]
        root = int(rng.integers(root_range[0], root_range[1] + 1))
        for left, right in concept_chords(concept, root, inversion=int(rng.integers(0, 3))):
            if t >= seconds:
                break
            duration = chord_seconds * rng.uniform(0.85, 1.15)
            for hand, pitches in ((lh, left), (rh, right)):
                for p in pitches:
                    onset = max(0.0, t + rng.normal(0, performer["timing"]))
                    velocity = np.clip(rng.normal(vel_mean, vel_sd), 20, 120)
                    hand.append((p, onset, onset + 0.9 * duration, velocity))
            t += duration
    pitch = performer["register"]
    t = rng.exponential(1 / performer["density"])
    while t < seconds:
        step = int(rng.integers(-2, 3))
        candidates = [p for p in range(performer["register"] - 9, performer["register"] + 10) if p % 12 in SCALE]
        pitch = candidates[int(np.clip(np.searchsorted(candidates, pitch) + step, 0, len(candidates) - 1))]
        duration = min(rng.exponential(1 / performer["density"]) + 0.05, 1.5)
        onset = max(0.0, t + rng.normal(0, performer["timing"]))
        rh.append((pitch, onset, onset + duration, np.clip(rng.normal(vel_mean + 10, vel_sd), 20, 120)))
        t += rng.exponential(1 / performer["density"])
    as_array = lambda notes: np.asarray(notes, np.float32).reshape(-1, 4)  # noqa: E731
    return as_array(rh), as_array(lh)


def write_performance(path: str | Path, rh: np.ndarray, lh: np.ndarray) -> None:
    """Write notes as a two-instrument MIDI file (right hand 0, left hand 1), atomically."""
    import pretty_midi

    midi = pretty_midi.PrettyMIDI()
    for name, notes in (("right hand", rh), ("left hand", lh)):
        inst = pretty_midi.Instrument(0, name=name)
        inst.notes = [pretty_midi.Note(int(round(v)), int(p), float(s), float(e)) for p, s, e, v in notes]
        midi.instruments.append(inst)
    with atomic_path(path, suffix=".mid") as tmp:
        midi.write(str(tmp))


def split_clips(notes: np.ndarray, duration: float, clip_seconds: float, pad_seconds: float) -> list[np.ndarray]:
    """Cut a track into clips: clip i holds the notes starting in ``[i L, i L + L + pad)``,
    shifted to start at 0 (the padding feeds the augmentation). Clips start while
    ``i L < duration``; the last one may be shorter than ``L``."""
    clips = []
    n = int(np.ceil(duration / clip_seconds - 1e-9))
    for i in range(n):
        start = i * clip_seconds
        inside = (notes[:, 1] >= start) & (notes[:, 1] < start + clip_seconds + pad_seconds)
        clip = notes[inside].copy()
        clip[:, 1:3] -= start
        clips.append(clip)
    return clips


def generate_demo(root: str | Path, *, performers: list[dict[str, Any]], concepts: list[str], tracks_per_performer: int,
                  n_validation: int, n_test: int, clips_per_track: int, clip_seconds: float, pad_seconds: float,
                  chord_seconds: float, root_range: list[int], concept_files: int, seed: int,
                  dataset: str = "synth") -> dict[str, Any]:
    """Render the whole demo corpus under ``root`` (layout in the module docstring).

    Tracks are split per performer at track level: ``n_validation`` and ``n_test`` tracks
    held out, the rest for training. Returns the truth record (also ``truth.json``).
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    unknown = sorted({c for p in performers for c in p["concepts"]} - set(concepts))
    if unknown:
        raise ValueError(f"performers use concepts {unknown} that are not in the concept list {concepts}")
    rows = {split: [] for split in SPLITS}
    seconds = clips_per_track * clip_seconds
    for label, performer in enumerate(progress(performers, desc="performers")):
        order = rng.permutation(tracks_per_performer)
        for j in range(tracks_per_performer):
            name = f"{performer['name']}-track{j:02d}"
            rh, lh = render_performance(performer, seconds + pad_seconds, rng, chord_seconds=chord_seconds,
                                        root_range=tuple(root_range))
            # column 4 = hand (0 right, 1 left), so clips keep the two instruments apart
            notes = np.concatenate([np.column_stack([rh, np.zeros(len(rh))]), np.column_stack([lh, np.ones(len(lh))])])
            notes = notes[np.argsort(notes[:, 1], kind="stable")]
            write_performance(root / "raw" / dataset / f"{name}.mid", rh, lh)
            write_json(root / "clips" / dataset / name / METADATA, demo_metadata(performer["name"], j))
            for i, clip in enumerate(split_clips(notes, seconds, clip_seconds, pad_seconds)):
                write_performance(root / "clips" / dataset / name / f"clip_{i:03d}.mid",
                                  clip[clip[:, 4] == 0, :4], clip[clip[:, 4] == 1, :4])
            split = "test" if order[j] < n_test else "validation" if order[j] < n_test + n_validation else "train"
            rows[split].append({"track": f"{dataset}/{name}", "pianist": label, "duration": seconds})
    for split in SPLITS:
        with atomic_path(root / "splits" / f"{split}_split.csv") as tmp:
            pd.DataFrame(rows[split]).to_csv(tmp)
    with atomic_path(root / "splits" / "pianist_mapping.csv") as tmp:  # the original's ",idx" layout
        pd.DataFrame({"idx": range(len(performers))}, index=[p["name"] for p in performers]).to_csv(tmp)
    generate_concept_set(root / "voicings" / "midi_final", concepts, concept_files, clip_seconds / 4, seed + 1)
    truth = {"performers": [p["name"] for p in performers], "concepts": list(concepts),
             "planted": {p["name"]: list(p["concepts"]) for p in performers}}
    write_json(root / "truth.json", truth)
    return truth


def demo_metadata(performer: str, j: int) -> dict[str, Any]:
    """A demo track's ``metadata.json`` in the original's format (the keys its PiJAMA
    conversion writes; no recording year, as PiJAMA's)."""
    name = f"{performer}-track{j:02d}"
    return {"track_name": f"Track {j:02d}", "album_name": f"Synthetic {performer.title()} (demo)",
            "recording_year": None, "bandleader": performer.title(), "pianist": performer.title(),
            "mbz_id": name, "live": False, "fname": name}


# --------------------------------------------------------------------------- loader (both scales)
METADATA = "metadata.json"


def read_metadata(folder: str | Path) -> str:
    """The track's ``metadata.json`` in ``folder`` as compact JSON text, or ``""`` when it is
    absent; a file that is not a JSON object stops with an :class:`InputError`."""
    import json

    path = Path(folder) / METADATA
    if not path.is_file():
        return ""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not readable JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise InputError(path, "not a JSON object")
    return json.dumps(meta, ensure_ascii=False, sort_keys=True)


def read_split(path: str | Path) -> pd.DataFrame:
    """A split table with at least ``track`` and ``pianist`` columns (the original's CSV)."""
    path = Path(path)
    try:
        table = pd.read_csv(path)
    except FileNotFoundError as exc:
        raise InputError(path, "split table not found") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not a readable split table ({exc})") from exc
    missing = {"track", "pianist"} - set(table.columns)
    if missing:
        raise InputError(path, f"missing columns {sorted(missing)}")
    return table


def performer_names(split_dir: str | Path, labels: list[int]) -> list[str]:
    """Class names from ``pianist_mapping.csv`` when present, else ``pianist<k>``.

    Two layouts: the original archive's ``,idx`` (names in the unnamed first column, class in
    ``idx``: ``references/data_splits/20class_80min/pianist_mapping.csv``) and the demo's
    ``name,pianist``.
    """
    mapping = Path(split_dir) / "pianist_mapping.csv"
    n = max(labels) + 1
    if mapping.is_file():
        table = pd.read_csv(mapping)
        names = None
        if {"name", "pianist"} <= set(table.columns):
            names = dict(zip(table.pianist.astype(int), table.name.astype(str)))
        elif "idx" in table.columns and table.columns[0] != "idx":
            names = dict(zip(table.idx.astype(int), table.iloc[:, 0].astype(str)))
        if names is not None:
            return [names.get(k, f"pianist{k}") for k in range(n)]
    return [f"pianist{k}" for k in range(n)]


def load_clips(clip_root: str | Path, split_dir: str | Path, clip_seconds: float, min_duration: float = 0.01,
               max_clips_per_track: int | None = None) -> dict[str, np.ndarray]:
    """Every clip of the split tables as one note table (the input of training and attribution).

    A clip that cannot be parsed, or that holds no note a roll would keep, stops with an
    :class:`InputError` naming the file: nothing is written. A clip shorter than the window
    is kept and padded with silence when rolled.

    Returns
    -------
    ``notes`` (M, 4) float32 (pitch, start, end, velocity; clip padding included);
    ``offsets`` (N + 1,) int64 (clip n = notes[offsets[n]:offsets[n + 1]]); ``label``,
    ``split`` (0 train, 1 validation, 2 test), ``track``, ``clip`` (index in its track)
    (N,) int64; ``clip_name`` (N,) and ``track_name``, ``performer`` (str arrays);
    ``track_metadata`` per track: its ``metadata.json`` as JSON text, ``""`` when absent.
    """
    clip_root, split_dir = Path(clip_root), Path(split_dir)
    tables = {split: read_split(split_dir / f"{split}_split.csv") for split in SPLITS}
    all_labels = [int(v) for t in tables.values() for v in t.pianist]
    notes, offsets, meta = [], [0], {k: [] for k in ("label", "split", "track", "clip", "clip_name")}
    track_names: list[str] = []
    track_metadata: list[str] = []
    for s, split in enumerate(SPLITS):
        for row in progress(list(tables[split].itertuples()), desc=f"clips {split}"):
            folder = clip_root / str(row.track)
            files = sorted(folder.glob("clip_*.mid"))
            if not files:
                raise InputError(folder, "track has no clip_NNN.mid files", "check the clips folder of the split table")
            track_names.append(str(row.track))
            track_metadata.append(read_metadata(folder))
            for path in files[:max_clips_per_track]:
                clip = read_midi(path)
                if not len(filter_notes(clip, clip_seconds, min_duration)):
                    raise InputError(path, "clip holds no notes inside its window",
                                     "remove it from the clips folder or regenerate it")
                notes.append(clip)
                offsets.append(offsets[-1] + len(clip))
                meta["label"].append(int(row.pianist))
                meta["split"].append(s)
                meta["track"].append(len(track_names) - 1)
                meta["clip"].append(int(path.stem.split("_")[-1]))
                meta["clip_name"].append(f"{row.track}/{path.name}")
    log.info("%d clips of %d tracks", len(meta["label"]), len(track_names))
    return {
        "notes": np.concatenate(notes).astype(np.float32), "offsets": np.asarray(offsets, np.int64),
        **{k: np.asarray(meta[k], np.int64) for k in ("label", "split", "track", "clip")},
        "clip_name": np.asarray(meta["clip_name"]), "track_name": np.asarray(track_names),
        "track_metadata": np.asarray(track_metadata), "performer": np.asarray(performer_names(split_dir, all_labels)),
    }


def prepare_clips(clip_root: str | Path, split_dir: str | Path, out: str | Path, **kwargs: Any) -> None:
    """:func:`load_clips`, written as one ``.npz``."""
    save_arrays(out, **load_clips(clip_root, split_dir, **kwargs))


class ClipTable:
    """The arrays of :func:`load_clips` with per-clip access."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = arrays
        for key, value in arrays.items():
            setattr(self, key, value)
        self.performer = [str(p) for p in arrays["performer"]]
        self.clip_name = [str(c) for c in arrays["clip_name"]]
        self.track_name = [str(t) for t in arrays["track_name"]]
        # tables written before track metadata was read have none
        self.track_metadata = [str(m) for m in arrays.get("track_metadata", [""] * len(self.track_name))]

    def __len__(self) -> int:
        return len(self.label)

    def notes_of(self, i: int) -> np.ndarray:
        return self.arrays["notes"][self.offsets[i]:self.offsets[i + 1]]

    def indices(self, *splits: str) -> np.ndarray:
        codes = [SPLITS.index(s) for s in splits]
        return np.where(np.isin(self.split, codes))[0]

    def index_of(self, clip_name: str) -> int:
        try:
            return self.clip_name.index(clip_name)
        except ValueError:
            raise KeyError(f"clip {clip_name!r} is not in the data set (names look like {self.clip_name[0]!r})") from None


def load_table(path: str | Path) -> ClipTable:
    from xairepro.common.io import load_arrays

    return ClipTable(load_arrays(path, required=("notes", "offsets", "label", "split", "track", "clip",
                                                 "clip_name", "track_name", "performer")))


# =========================================================================== paper archive
RECORD = "https://zenodo.org/records/14774191"
VOICINGS = "references/cav_resources/voicings"


def fetch_archive(urls: list[str], archive: str | Path, checksum_path: str | Path, *, sha256: str | None,
                  record_api: str | None, name: str) -> Path:
    """Download (or accept a hand-placed) archive, verified; record the checksum used."""
    from xairepro.common.download import download, file_digest, zenodo_checksum

    archive = Path(archive)
    if sha256:
        checksum = f"sha256:{sha256}"
    else:
        try:
            checksum = zenodo_checksum(record_api, name) if record_api else None
        except (OSError, ValueError) as exc:
            checksum, why = None, str(exc)
        else:
            why = "no Zenodo record API configured"
        if checksum is None:
            found = f"the file there has sha256 {file_digest(archive)}; " if archive.is_file() else ""
            raise XaiReproError(f"{archive}: no checksum to verify the archive against ({why}; {found}check it "
                                f"against {RECORD} and set pianist.data.paper.archive_sha256)")
    download(urls, archive, checksum=checksum)
    with atomic_path(checksum_path) as tmp:
        tmp.write_text(checksum + "\n")
    return archive


def extract_archive(archive: str | Path, dest: str | Path, *, checksum: str | None, split_dir: str) -> Path:
    """Verify and safely extract the archive; move clips, splits and voicings under ``dest``."""
    from xairepro.common.download import safe_extract, verify_checksum

    archive, dest = Path(archive), Path(dest)
    if checksum:
        verify_checksum(archive, checksum)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        safe_extract(archive, tmp)
        roots = [p.parent.parent for p in Path(tmp).glob("**/data/clips") if p.is_dir()]
        if not roots:
            raise InputError(archive, "no data/clips/ folder inside", f"the archive of {RECORD} holds data/clips/")
        root = min(roots, key=lambda p: len(p.parts))
        parts = {root / "data" / "clips": dest / "clips", root / split_dir: dest / "splits",
                 root / VOICINGS / "midi_final": dest / "voicings" / "midi_final",
                 root / VOICINGS / "cav_mapping.csv": dest / "voicings" / "cav_mapping.csv"}
        for src, target in parts.items():
            if not src.exists():
                raise InputError(archive, f"{src.relative_to(root)} is missing inside the archive")
            if target.exists():
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), target)
        copy_metadata(root / "data" / "raw", dest / "clips")
    log.info("extracted %s into %s", archive, dest)
    return dest


def copy_metadata(raw_root: Path, clip_root: Path) -> int:
    """Copy ``<raw_root>/<dataset>/<track>/metadata.json`` beside the clips of each track that
    has a folder under ``clip_root``; returns how many were copied (none without ``raw/``)."""
    copied = 0
    for source in sorted(Path(raw_root).glob(f"*/*/{METADATA}")):
        folder = Path(clip_root) / source.parent.parent.name / source.parent.name
        if folder.is_dir():
            shutil.copyfile(source, folder / METADATA)
            copied += 1
    log.info("track metadata: %d files copied beside the clips", copied)
    return copied
