"""Real music as a second pianist data set: composers of the music21 corpus as "performers".

music21 (pinned in requirements) ships its corpus inside the wheel, so this needs no
network. Each composer's scores (MusicXML ``.mxl``/``.xml`` and Humdrum ``.krn``; the
corpus's roman-numeral analyses are skipped) are sorted, a seeded choice of
``pieces_per_composer`` is parsed, and each piece (one score file: a chorale, a madrigal, a
mass section, a quartet movement) becomes one track: every part's notes (ties merged,
repeats not expanded) at ``seconds_per_quarter`` and one velocity (a score has no
performance), the lowest part as the left hand, cut into clips of ``clip_seconds`` as the
demo cuts its tracks (:func:`xairepro.pianist.data.split_clips`), at most
``clips_per_piece`` of them from the start. Tracks are split per composer by piece
(``n_validation`` and ``n_test`` pieces held out, seeded), so no piece is in two splits.

The folder written is the user-data layout of :mod:`xairepro.pianist.user_data` (split
tables), so the study reads it through ``pianist.user_data`` like anyone's own clips.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xairepro.common.logs import progress
from xairepro.pianist.data import SPLITS, split_clips, write_performance

log = logging.getLogger(__name__)

SCORE_SUFFIXES = (".mxl", ".xml", ".musicxml", ".krn")


def composer_scores(composer: str) -> list[Path]:
    """The corpus's score files of ``composer``, sorted (analyses and duplicates left out)."""
    from music21 import corpus

    paths = sorted({Path(str(p)) for p in corpus.getComposer(composer)})
    scores = [p for p in paths if p.suffix.lower() in SCORE_SUFFIXES]
    if not scores:
        raise ValueError(f"the music21 corpus has no scores of {composer!r}")
    return scores


def piece_name(path: Path, composer: str) -> str:
    """``bwv102.7``, ``k155-movement1``: the file's path below the composer's folder."""
    parts = list(path.with_suffix("").parts)
    below = parts[len(parts) - 1 - parts[::-1].index(composer) + 1:] if composer in parts else parts[-1:]
    return "-".join(below)


def score_notes(path: Path, seconds_per_quarter: float, velocity: int) -> tuple[np.ndarray, np.ndarray]:
    """A score's notes as ``(right hand, left hand)`` arrays ``(M, 4)`` of pitch, start, end,
    velocity in seconds: the part with the lowest mean pitch is the left hand."""
    from music21 import converter

    score = converter.parse(str(path)).stripTies()
    hands = []
    for part in score.parts:
        notes = [(p.midi, float(n.offset), float(n.offset + n.duration.quarterLength))
                 for n in part.flatten().notes for p in n.pitches if n.duration.quarterLength > 0]
        array = np.asarray(notes, np.float32).reshape(-1, 3)
        array[:, 1:] *= seconds_per_quarter
        hands.append(np.column_stack([array, np.full(len(array), velocity, np.float32)]))
    hands = [h for h in hands if len(h)]
    if not hands:
        raise ValueError(f"{path}: no notes")
    low = int(np.argmin([h[:, 0].mean() for h in hands]))
    rest = [h for i, h in enumerate(hands) if i != low] or [np.zeros((0, 4), np.float32)]
    right = np.concatenate(rest)
    return right[np.argsort(right[:, 1], kind="stable")], hands[low]


def build_music21(out: str | Path, *, composers: list[str], pieces_per_composer: int, clips_per_piece: int,
                  clip_seconds: float, pad_seconds: float, seconds_per_quarter: float, velocity: int,
                  n_validation: int, n_test: int, seed: int) -> dict[str, Any]:
    """Write ``out/clips/<composer>/<piece>/clip_NNN.mid`` and ``out/splits/`` (layout in the
    module docstring); built beside ``out`` and moved in whole. Returns a summary record
    (composers, pieces per split, clips)."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    rows, n_clips = [], 0
    try:
        for label, composer in enumerate(composers):
            scores = composer_scores(composer)
            if len(scores) < n_validation + n_test + 1:
                raise ValueError(f"{composer}: {len(scores)} scores, fewer than n_validation + n_test + 1")
            chosen = [scores[i] for i in sorted(rng.choice(len(scores), min(pieces_per_composer, len(scores)),
                                                           replace=False))]
            order = rng.permutation(len(chosen))
            for j, path in enumerate(progress(chosen, desc=composer)):
                right, left = score_notes(path, seconds_per_quarter, velocity)
                notes = np.concatenate([np.column_stack([right, np.zeros(len(right))]),
                                        np.column_stack([left, np.ones(len(left))])])
                notes = notes[np.argsort(notes[:, 1], kind="stable")]
                duration = float(notes[:, 2].max())
                clips = [c for c in split_clips(notes, duration, clip_seconds, pad_seconds)
                         if (c[:, 1] < clip_seconds).any()][:clips_per_piece]
                track = f"{composer}/{piece_name(path, composer)}"
                for i, clip in enumerate(clips):
                    write_performance(build / "clips" / track / f"clip_{i:03d}.mid",
                                      clip[clip[:, 4] == 0, :4], clip[clip[:, 4] == 1, :4])
                n_clips += len(clips)
                split = "test" if order[j] < n_test else "validation" if order[j] < n_test + n_validation else "train"
                rows.append({"track": track, "pianist": label, "duration": len(clips) * clip_seconds,
                             "split": split})
        table = pd.DataFrame(rows)
        (build / "splits").mkdir()
        for split in SPLITS:
            part = table[table.split == split].drop(columns="split").reset_index(drop=True)
            part.to_csv(build / "splits" / f"{split}_split.csv")
        pd.DataFrame({"name": composers, "pianist": range(len(composers))}).to_csv(
            build / "splits" / "pianist_mapping.csv", index=False)
        if out.exists():
            shutil.rmtree(out)
        os.replace(build, out)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    summary = {"composers": list(composers), "clips": n_clips,
               "pieces": {s: int((table.split == s).sum()) for s in SPLITS}}
    log.info("music21 corpus: %s", summary)
    return summary


def first_test_clip(folder: str | Path) -> str:
    """The first clip of the first test track: the kernel heatmap's clip on these data."""
    from xairepro.pianist.data import read_split

    track = str(read_split(Path(folder) / "splits" / "test_split.csv").track.iloc[0])
    return f"{track}/{sorted((Path(folder) / 'clips' / track).glob('clip_*.mid'))[0].name}"


FIGURES = ("fig_tcav_sign_counts.png", "fig_concept_correlation.png", "fig_performer_correlation.png")


def run_study(folder: str | Path, run_dir: str | Path, claims: str | Path, figures: str | Path, *,
              snakefile: str | Path, cores: int, log_path: str | Path, study_config: dict[str, Any],
              deployment: list[str] = ()) -> None:
    """The pianist study on ``folder`` (the user-data layout), as a user runs it: a config file
    holding the outer run's ``pianist`` section ``study_config`` (its seeds already moved by
    any seed offset, so the inner run gets none), with ``pianist.user_data`` set and the
    heatmap clip :func:`first_test_clip`, then ``snakemake --directory run_dir --configfile
    ... pianist`` at demo scale. ``claims.csv``
    is copied to ``claims``; the TCAV heatmaps, the kernel heatmaps and the LIME figures
    (``lime_<performer>_<clip>.png``) into the folder ``figures``."""
    import subprocess
    import sys

    import copy
    import json

    from xairepro.common.errors import XaiReproError

    run_dir, figures = Path(run_dir), Path(figures)
    run_dir.mkdir(parents=True, exist_ok=True)
    config = copy.deepcopy(dict(study_config))
    config["user_data"] = {"path": str(Path(folder).resolve()), "splits": "tables"}
    config["tcav"]["sensitivity_heatmap_clips"] = []
    config["tcav"]["demo"]["default_heatmap_clip"] = first_test_clip(folder)
    config_path = run_dir / "music21.yaml"
    config_path.write_text(json.dumps({"pianist": config}, indent=1))  # JSON is YAML
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), "--directory", str(run_dir),
               "--cores", str(cores), *deployment, "--configfile", str(config_path), "--config", "scale=demo",
               "seed_offset=0", "--", "pianist"]
    log.info("music21 run: %s", " ".join(command))
    with open(log_path, "a") as stream:
        stream.flush()
        code = subprocess.run(command, stdout=stream, stderr=subprocess.STDOUT, check=False).returncode
    if code:
        raise XaiReproError(f"the pianist study on the music21 folder failed (exit {code}); see {log_path} "
                            f"and the run's own logs under {run_dir}/logs")
    results = run_dir / "results" / "demo" / "pianist"
    shutil.copy2(results / "claims.csv", claims)
    figures.mkdir(parents=True, exist_ok=True)
    for name in FIGURES:
        shutil.copy2(results / name, figures / name)
    for path in sorted((results / "kernel_heatmaps").glob("*.png")):
        shutil.copy2(path, figures / f"kernel_{path.name}")
    for path in sorted((results / "lime" / "figures").glob("*/*.png")):
        shutil.copy2(path, figures / f"lime_{path.parent.name}_{path.name}")
