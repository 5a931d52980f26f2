"""Demo performers with planted concepts, clip splitting, the split tables, and the loader
that turns ``clips/<dataset>/<track>/clip_NNN.mid`` + split CSVs into one note table.

Both scales share the layout of the paper's Zenodo archive::

    clips/<dataset>/<track>/clip_NNN.mid       clip i spans [i L, i L + L) (+ padding)
    splits/{train,validation,test}_split.csv   ",track,pianist,duration" (track = <dataset>/<track>)
    splits/pianist_mapping.csv                 name,pianist (optional: names of the classes)
    voicings/<k>_cav/*.mid, cav_mapping.csv    the concept MIDI set

The demo renders synthetic performers with pretty_midi. Each comps only with the voicings
of its planted concepts (the other concepts never occur in its playing), and has its own
melody register, density, velocity and timing; the concept -> performer links are written
to ``truth.json``: TCAV's ground truth.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xairepro.common.errors import InputError
from xairepro.common.io import atomic_path, save_arrays, write_json
from xairepro.common.logs import progress
from xairepro.pianist.concepts import concept_chords, generate_concept_set
from xairepro.pianist.rolls import filter_notes, read_midi

log = logging.getLogger(__name__)
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
            for i, clip in enumerate(split_clips(notes, seconds, clip_seconds, pad_seconds)):
                write_performance(root / "clips" / dataset / name / f"clip_{i:03d}.mid",
                                  clip[clip[:, 4] == 0, :4], clip[clip[:, 4] == 1, :4])
            split = "test" if order[j] < n_test else "validation" if order[j] < n_test + n_validation else "train"
            rows[split].append({"track": f"{dataset}/{name}", "pianist": label, "duration": seconds})
    for split in SPLITS:
        with atomic_path(root / "splits" / f"{split}_split.csv") as tmp:
            pd.DataFrame(rows[split]).to_csv(tmp)
    with atomic_path(root / "splits" / "pianist_mapping.csv") as tmp:
        pd.DataFrame({"name": [p["name"] for p in performers], "pianist": range(len(performers))}).to_csv(tmp, index=False)
    generate_concept_set(root / "voicings" / "midi_final", concepts, concept_files, clip_seconds / 4, seed + 1)
    truth = {"performers": [p["name"] for p in performers], "concepts": list(concepts),
             "planted": {p["name"]: list(p["concepts"]) for p in performers}}
    write_json(root / "truth.json", truth)
    return truth


# --------------------------------------------------------------------------- loader (both scales)
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
    """Class names from ``pianist_mapping.csv`` (name, pianist) when present, else ``pianist<k>``."""
    mapping = Path(split_dir) / "pianist_mapping.csv"
    n = max(labels) + 1
    if mapping.is_file():
        table = pd.read_csv(mapping)
        if {"name", "pianist"} <= set(table.columns):
            names = dict(zip(table.pianist.astype(int), table.name.astype(str)))
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
    (N,) int64; ``clip_name`` (N,) and ``track_name``, ``performer`` (str arrays).
    """
    clip_root, split_dir = Path(clip_root), Path(split_dir)
    tables = {split: read_split(split_dir / f"{split}_split.csv") for split in SPLITS}
    all_labels = [int(v) for t in tables.values() for v in t.pianist]
    notes, offsets, meta = [], [0], {k: [] for k in ("label", "split", "track", "clip", "clip_name")}
    track_names: list[str] = []
    for s, split in enumerate(SPLITS):
        for row in progress(list(tables[split].itertuples()), desc=f"clips {split}"):
            folder = clip_root / str(row.track)
            files = sorted(folder.glob("clip_*.mid"))
            if not files:
                raise InputError(folder, "track has no clip_NNN.mid files", "check the clips folder of the split table")
            track_names.append(str(row.track))
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
        "performer": np.asarray(performer_names(split_dir, all_labels)),
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
