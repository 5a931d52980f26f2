"""A user's own sounds in the ESC-50 layout: validated up front, then copied into the study's folder.

The layout is ESC-50's own (karoldvl/ESC-50, as the SpeechBrain recipe reads it:
recipes/ESC50/esc50_prepare.py:351-364 reads ``<folder>/meta/esc50.csv``, :223-231 takes the
clips of the configured folds from ``<folder>/audio/<filename>``; speechbrain commit afd34230c)::

    <folder>/meta/esc50.csv    filename, fold, target, category (other columns are kept)
    <folder>/audio/<filename>  one clip per row, any format soundfile reads (WAV, FLAC, OGG)

:func:`check_user_dataset` reads every row and every clip before anything is written and
stops at the first problem with one :class:`~xairepro.common.errors.InputError` naming the
file (or a :class:`~xairepro.common.errors.ConfigError` naming the config key whose folds the
data lack). Unlike the recipe, which skips a clip it cannot read (esc50_prepare.py:232-259),
an unreadable clip stops the import: a silently smaller test fold changes every claim.
:func:`import_user_dataset` then writes ``meta/esc50.csv`` and ``audio/`` of the study's data
folder, both through temporary paths, so a failure leaves neither behind.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from xairepro.common.audio import read_audio
from xairepro.common.errors import ConfigError, InputError

log = logging.getLogger(__name__)

#: The columns meta/esc50.csv must have (ESC-50's esc10, src_file and take are optional).
REQUIRED_COLUMNS = ("filename", "fold", "target", "category")
#: Each class needs this many clips in each of the train, validation and test folds: a class
#: absent from one split cannot be learnt, selected on, or scored.
MIN_CLIPS_PER_SPLIT = 1
FIX = "see docs/your-data/esc50.md for the layout"


def _integers(meta: pd.DataFrame, column: str, path: Path) -> pd.Series:
    values = pd.to_numeric(meta[column], errors="coerce")
    bad = values.isna() | (values != values.round())
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(path, f"row {row + 2}: {column} {meta[column].iloc[row]!r} is not an integer", FIX)
    return values.astype(int)


def check_user_dataset(folder: str | Path, folds: dict[str, list[int]]) -> pd.DataFrame:
    """The rows of ``<folder>/meta/esc50.csv`` in the configured folds, after checking the
    whole folder; stops at the first problem.

    Parameters
    ----------
    folder
        The user's ESC-50-format folder (config ``esc50.user_data.path``).
    folds
        ``{"train": [...], "valid": [...], "test": [...]}`` (config ``esc50.classify.*_folds``).

    Raises
    ------
    InputError
        Missing folder, meta file or audio folder; a meta file without rows or lacking a
        column; a fold or target that is not an integer; targets that are not 0..K-1 with
        K >= 2; a target with two category names; a file name listed twice; a class with
        fewer than :data:`MIN_CLIPS_PER_SPLIT` clips in a split; a missing, empty or
        unreadable clip.
    ConfigError
        A configured fold with no clip (naming ``esc50.classify.<split>_folds``).
    """
    if folder is None:
        raise ConfigError("config: esc50.user_data.path is null; set it to your ESC-50-format folder")
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "is not a folder (config esc50.user_data.path)", FIX)
    meta_path, audio = folder / "meta" / "esc50.csv", folder / "audio"
    if not meta_path.is_file():
        raise InputError(meta_path, "missing: the clips' table (filename, fold, target, category)", FIX)
    if not audio.is_dir():
        raise InputError(audio, "missing: the folder of the clips listed in meta/esc50.csv", FIX)
    try:
        meta = pd.read_csv(meta_path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(meta_path, f"not a readable CSV table ({exc})", FIX) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in meta.columns]
    if missing:
        raise InputError(meta_path, f"lacks the columns {missing} (has {list(meta.columns)})", FIX)
    if meta.empty:
        raise InputError(meta_path, "lists no clips", FIX)
    meta = meta.assign(fold=_integers(meta, "fold", meta_path), target=_integers(meta, "target", meta_path))
    for row, name in enumerate(meta["filename"]):
        parts = Path(str(name)).parts
        if not isinstance(name, str) or not name.strip() or Path(name).is_absolute() or ".." in parts:
            raise InputError(meta_path, f"row {row + 2}: filename {name!r} is not a path inside audio/", FIX)
    twice = meta["filename"][meta["filename"].duplicated()]
    if len(twice):
        raise InputError(meta_path, f"lists {twice.iloc[0]!r} twice", FIX)
    classes = sorted(int(t) for t in meta["target"].unique())
    if len(classes) < 2 or classes != list(range(len(classes))):
        raise InputError(meta_path, f"targets must be 0..K-1 with K >= 2 classes, found {classes}", FIX)
    names = meta.groupby("target")["category"].nunique()
    if (names > 1).any():
        raise InputError(meta_path, f"target {int(names[names > 1].index[0])} has more than one category name", FIX)
    present = set(meta["fold"])
    for split, wanted in folds.items():
        for fold in wanted:
            if fold not in present:
                raise ConfigError(f"config: esc50.classify.{split}_folds lists fold {fold}, which has no clip in "
                                  f"{meta_path} (folds there: {sorted(present)})")
        counts = meta[meta["fold"].isin(wanted)].groupby("target").size().reindex(classes, fill_value=0)
        short = counts[counts < MIN_CLIPS_PER_SPLIT]
        if len(short):
            target = int(short.index[0])
            category = meta.loc[meta["target"] == target, "category"].iloc[0]
            total = int((meta["target"] == target).sum())
            raise InputError(meta_path, f"class {target} ({category}) has {total} clip(s) in all and "
                             f"{int(short.iloc[0])} in the {split} folds {wanted}; each class needs at least "
                             f"{MIN_CLIPS_PER_SPLIT} in each of the train, valid and test folds", FIX)
    used = meta[meta["fold"].isin([f for wanted in folds.values() for f in wanted])]
    for name in used["filename"]:
        clip = audio / name
        if not clip.is_file():
            raise InputError(clip, "missing: listed in meta/esc50.csv", FIX)
        read_audio(clip)  # an empty, truncated or undecodable clip stops here, naming it
    skipped = len(meta) - len(used)
    if skipped:
        log.info("%s: %d clips in folds outside the configured ones are not used", meta_path, skipped)
    return used.reset_index(drop=True)


def import_user_dataset(folder: str | Path, meta_out: str | Path, audio_out: str | Path,
                        folds: dict[str, list[int]]) -> pd.DataFrame:
    """Check ``folder`` (:func:`check_user_dataset`), then write its used rows to ``meta_out``
    and copy their clips under ``audio_out`` (the study's ESC-50-format folder). Nothing is
    written unless every check passes; both outputs appear only once complete."""
    rows = check_user_dataset(folder, folds)
    meta_out, audio_out = Path(meta_out), Path(audio_out)
    for path in (meta_out, audio_out):
        path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".esc50_user.", dir=audio_out.parent))
    try:
        for name in rows["filename"]:
            target = staging / "audio" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(folder) / "audio" / name, target)
        rows.to_csv(staging / "esc50.csv", index=False)
        if audio_out.exists():
            shutil.rmtree(audio_out)
        (staging / "audio").replace(audio_out)
        (staging / "esc50.csv").replace(meta_out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("imported %d clips of %d classes from %s", len(rows), rows["target"].nunique(), folder)
    return rows
