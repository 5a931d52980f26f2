"""A user's own MIDI clips as the pianist study's data (``pianist.user_data``).

The layout is the original's (deep-pianist-identification, ``dataloader.py``: clips under
``data/clips/<dataset>/<track>/clip_NNN.mid``, one ``{split}_split.csv`` per split with
``,track,pianist,duration`` rows, ``references/data_splits/<dir>/pianist_mapping.csv``)::

    <path>/clips/<dataset>/<track>/clip_000.mid ...     the clips of one recording
    <path>/splits/{train,validation,test}_split.csv     track (= <dataset>/<track>), pianist (class 0..K-1)
    <path>/splits/pianist_mapping.csv                   optional class names (",idx" or "name,pianist")

or, with ``splits: generate``, no ``splits/`` folder and one folder per performer::

    <path>/clips/<performer>/<track>/clip_000.mid ...

where every performer's tracks are split at track level, ``n_validation`` and ``n_test``
held out (seeded), as the demo generator does.

:func:`read_user_data` checks everything before anything is written and stops with one
:class:`~xairepro.common.errors.InputError` (or :class:`~xairepro.common.errors.ConfigError`
for a config key naming a clip the data lack) naming the first problem. :func:`import_user_data`
then writes the files the demo generator writes (``clips/``, ``splits/``, ``voicings/``,
``raw/``, ``truth.json``) so every later rule runs unchanged; ``truth.json`` has
``planted: null``: the data carry no planted concept, and the claims that need one are
``not applicable``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xairepro.common.errors import ConfigError, InputError
from xairepro.common.io import write_json
from xairepro.pianist.data import SPLITS, filter_notes, generate_concept_set, read_midi, read_split

log = logging.getLogger(__name__)

SPLIT_MODES = ("tables", "generate")


@dataclass
class UserData:
    """A checked data set: ``tracks`` (columns track, pianist, split, duration), the class
    ``names`` (index = class) and every track's clip files."""

    root: Path
    tracks: pd.DataFrame
    names: list[str]
    clips: dict[str, list[Path]] = field(default_factory=dict)

    @property
    def clip_names(self) -> list[str]:
        return [f"{track}/{path.name}" for track, files in self.clips.items() for path in files]


def _track_clips(folder: Path, clip_seconds: float, min_duration: float) -> tuple[list[Path], float]:
    """A track's clips, each read and checked; and the track's length in seconds."""
    files = sorted(folder.glob("clip_*.mid"))
    if not folder.is_dir() or not files:
        raise InputError(folder, "track has no clip_NNN.mid files", "each track folder holds its clips")
    for path in files:
        if not len(filter_notes(read_midi(path), clip_seconds, min_duration)):
            raise InputError(path, f"clip holds no notes in its first {clip_seconds} s",
                             "remove it or set pianist.data.demo.clip_seconds")
    return files, len(files) * clip_seconds


def _names(split_dir: Path, n_classes: int) -> list[str]:
    mapping = split_dir / "pianist_mapping.csv"
    if not mapping.is_file():
        return [f"pianist{k}" for k in range(n_classes)]
    table = pd.read_csv(mapping)
    if {"name", "pianist"} <= set(table.columns):
        names = dict(zip(table.pianist.astype(int), table.name.astype(str)))
    elif "idx" in table.columns and table.columns[0] != "idx":
        names = dict(zip(table.idx.astype(int), table.iloc[:, 0].astype(str)))
    else:
        raise InputError(mapping, f"columns {list(table.columns)}: expected ',idx' (the original's) or 'name,pianist'")
    return [names.get(k, f"pianist{k}") for k in range(n_classes)]


def _tables(root: Path) -> tuple[pd.DataFrame, list[str]]:
    split_dir = root / "splits"
    if not split_dir.is_dir():
        raise InputError(split_dir, "split folder not found",
                         "write {train,validation,test}_split.csv there, or set pianist.user_data.splits: generate")
    frames = []
    for split in SPLITS:
        table = read_split(split_dir / f"{split}_split.csv")
        labels = pd.to_numeric(table.pianist, errors="coerce")
        if labels.isna().any() or (labels < 0).any() or (labels % 1 != 0).any():
            raise InputError(split_dir / f"{split}_split.csv", "column 'pianist' must hold class numbers 0, 1, ...")
        frames.append(pd.DataFrame({"track": table.track.astype(str), "pianist": labels.astype(int), "split": split}))
    tracks = pd.concat(frames, ignore_index=True)
    twice = tracks[tracks.track.duplicated(keep=False)]
    if len(twice):
        row = twice.iloc[0]
        raise InputError(split_dir, f"track {row.track!r} is in more than one split "
                         f"({', '.join(sorted(twice[twice.track == row.track].split))})")
    n_classes = int(tracks.pianist.max()) + 1 if len(tracks) else 0
    return tracks, _names(split_dir, n_classes)


def _generated(root: Path, *, n_validation: int, n_test: int, seed: int) -> tuple[pd.DataFrame, list[str]]:
    """Splits of ``clips/<performer>/<track>``: per performer (sorted), a seeded permutation
    of its tracks; the first ``n_test`` test, the next ``n_validation`` validation."""
    rng = np.random.default_rng(seed)
    names = sorted(p.name for p in (root / "clips").iterdir() if p.is_dir())
    rows = []
    for label, name in enumerate(names):
        tracks = sorted(p.name for p in (root / "clips" / name).iterdir() if p.is_dir())
        order = rng.permutation(len(tracks))
        for j, track in enumerate(tracks):
            split = "test" if order[j] < n_test else "validation" if order[j] < n_test + n_validation else "train"
            rows.append({"track": f"{name}/{track}", "pianist": label, "split": split})
    return pd.DataFrame(rows, columns=["track", "pianist", "split"]), names


def read_user_data(path: str | Path, *, splits: str, n_validation: int, n_test: int, seed: int,
                   clip_seconds: float, min_duration: float = 0.01,
                   config_clips: dict[str, list[str]] | None = None) -> UserData:
    """Check a user's folder (layout in the module docstring) and every clip in it.

    Every performer (class ``0..K-1``, at least two) needs a track in each of the three
    splits, so at least three tracks: with ``splits: generate``, ``n_validation + n_test + 1``.
    ``config_clips`` maps a config key to the clip names it holds
    (``<dataset>/<track>/clip_NNN.mid``); a name the data lack stops with a
    :class:`ConfigError` naming the key. The first problem found stops with its message.
    """
    root = Path(path)
    if splits not in SPLIT_MODES:
        raise ConfigError(f"config: pianist.user_data.splits is {splits!r}, expected one of {list(SPLIT_MODES)}")
    if not root.is_dir():
        raise InputError(root, "user data folder not found", "set pianist.user_data.path to your folder")
    clip_dir = root / "clips"
    if not clip_dir.is_dir() or not any(clip_dir.rglob("clip_*.mid")):
        raise InputError(clip_dir, "no clip_NNN.mid files under clips/ (empty folder)",
                         "layout: clips/<dataset or performer>/<track>/clip_000.mid")
    if splits == "tables":
        tracks, names = _tables(root)
        needed = "one track in each of train, validation and test"
    else:
        tracks, names = _generated(root, n_validation=n_validation, n_test=n_test, seed=seed)
        needed = f"{n_validation + n_test + 1} tracks (n_test {n_test} + n_validation {n_validation} + 1 to train on)"
    if len(names) < 2:
        raise InputError(clip_dir, f"{len(names)} performer(s): at least two are needed")
    for label, name in enumerate(names):
        mine = tracks[tracks.pianist == label]
        if set(mine.split) != set(SPLITS):
            raise InputError(root / ("splits" if splits == "tables" else f"clips/{name}"),
                             f"performer {name!r} (class {label}) has {len(mine)} track(s) in "
                             f"{sorted(set(mine.split)) or 'no split'}: each performer needs at least {needed}")
    data = UserData(root, tracks, names)
    durations = []
    for track in tracks.track:
        data.clips[track], seconds = _track_clips(clip_dir / track, clip_seconds, min_duration)
        durations.append(seconds)
    data.tracks = tracks.assign(duration=durations)
    known = set(data.clip_names)
    for key, names_ in (config_clips or {}).items():
        for name in names_:
            if name not in known:
                raise ConfigError(f"config: {key} names clip {name!r}, which is not in {root} "
                                  f"(clip names look like {data.clip_names[0]!r}); set it to one of your clips")
    log.info("%s: %d performers, %d tracks, %d clips", root, len(names), len(tracks), len(known))
    return data


def import_user_data(path: str | Path, out: str | Path, *, concepts: list[str], concept_files: int,
                     clip_seconds: float, seed: int, **checks: Any) -> dict[str, Any]:
    """:func:`read_user_data`, then write ``out/{clips,splits,voicings,raw}`` and
    ``out/truth.json`` (``planted: null``) as the demo generator lays them out. Nothing is
    written unless every check passes; the folders appear together (built beside ``out``,
    then moved in). The concept MIDI set is the demo's (chord rules, ``seed + 1``)."""
    data = read_user_data(path, clip_seconds=clip_seconds, seed=seed, **checks)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".user-data-", dir=out))
    try:
        for track, files in data.clips.items():
            (build / "clips" / track).mkdir(parents=True)
            for source in [*files, data.root / "clips" / track / "metadata.json"]:
                if source.is_file():
                    shutil.copy2(source, build / "clips" / track / source.name)
        (build / "splits").mkdir()
        for split in SPLITS:
            rows = data.tracks[data.tracks.split == split][["track", "pianist", "duration"]]
            rows.reset_index(drop=True).to_csv(build / "splits" / f"{split}_split.csv")
        pd.DataFrame({"name": data.names, "pianist": range(len(data.names))}).to_csv(
            build / "splits" / "pianist_mapping.csv", index=False)
        generate_concept_set(build / "voicings" / "midi_final", concepts, concept_files, clip_seconds / 4, seed + 1)
        (build / "raw").mkdir()
        for part in ("clips", "splits", "voicings", "raw"):
            if (out / part).exists():
                shutil.rmtree(out / part)
            os.replace(build / part, out / part)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    truth = {"performers": data.names, "concepts": list(concepts), "planted": None, "source": str(data.root)}
    write_json(out / "truth.json", truth)
    return truth
