"""Tiny inputs of the ``pianist`` study's paper-scale smoke run, in the originals' formats.

Called by ``scripts/smoke/setup.py`` (``write_mirror(root)``); everything lands under
``root/mirror/pianist/`` and is served to the download rules as ``file://`` URLs. Nothing has
to be placed by hand: the original is one Zenodo download.

``zenodo/records/14774191/files/deep-pianist-identification.zip`` (imitates the Zenodo
archive of HuwCheston/deep-pianist-identification, record 14774191)
    The repository's folder structure (its README: "identical to this repository"), under
    one top folder ``deep-pianist-identification/``, written with ``zipfile`` (deflated,
    fixed dates). Only the parts the workflow reads, each file in the original's format:

    ``data/clips/{jtd,pijama}/<track>/clip_NNN.mid``
        Pre-cut 30 s clips, one-instrument piano MIDI (pretty_midi, as the original's
        clips: clip i holds the notes of [30 i, 30 i + 30) s of its track plus up to 30 s
        more for the augmentation's jitter, no pedal). Track names in the original's pattern
        (``<surname><initial>-<title>-<sidemen|unaccompanied>-<year|xxxx>-<8-char id>``). Each
        clip: a melody line and a left-hand chord every ~2 s (three or more pitches, so the
        harmony channel is never empty), velocities and register set per performer.
    ``data/raw/{jtd,pijama}/<track>/metadata.json``
        Each track's metadata, in the format of the original's JTD metadata and of its PiJAMA
        conversion (``convert_pijama_to_jtd_fmt.py``: ``track_name``, ``album_name``,
        ``recording_year`` (null for PiJAMA), ``bandleader``, ``pianist``, ``mbz_id``, ``live``,
        ``fname``; ``json.dump(..., ensure_ascii=False, indent=4)``): the LIME and kernel
        figures' titles. The full performances beside them are left out.
    ``references/data_splits/20class_80min/{train,validation,test}_split.csv``
        The track-level split tables, ``,track,pianist,duration`` (pandas' index column
        first; ``track`` = ``<dataset>/<track>``, ``pianist`` = class 0..19, ``duration`` in
        seconds). Train: 20 tracks (one per pianist, one clip each); validation: 2 tracks
        (the LIME figures' clips); test: 20 tracks (one clip each; McCoy Tyner's is the
        original's default kernel-heatmap clip ``pijama/tynerm-tivoli-unaccompanied-xxxx-
        zzs1xka8/clip_008.mid``, the only clip of that 270 s track kept in the mirror).
    ``references/data_splits/20class_80min/pianist_mapping.csv``
        ``,idx`` with the 20 pianists' names (the original's file, verbatim content).
    ``references/cav_resources/voicings/cav_mapping.csv``
        ``,idx`` with the 20 harmony concepts' names (the original's file, verbatim content).
    ``references/cav_resources/voicings/midi_final/<k>_cav/1.mid``
        One concept MIDI per concept (k = 1..20): right hand = instrument 0, left hand =
        instrument 1, four chords of a concept-specific voicing around the cycle of fourths.

``zenodo/api/records/14774191``
    The record's JSON in Zenodo's REST API format (``files`` entries with ``key``, ``size``,
    ``checksum: "md5:<hex>"`` and ``links``) carrying the tiny archive's md5: the download
    rule verifies the archive against it, as against Zenodo (``archive_sha256`` stays null).

``published/checkpoints/...`` (``write_published``: the second, published-weights pass)
    The original's two published checkpoints (issue 22) at their archive paths, paper size,
    random weights, in the original's checkpoint layout; read as the folder a user names
    (``pianist.published.paper.dir``), each file's sha256 pinned. About 270 MB.

Deterministic: fixed seeds, zip members with fixed dates. About 70 kB in all (without the
published checkpoints).
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import zenodo_record  # noqa: E402  (scripts/smoke/zenodo_record.py)

RECORD_ID = 14774191
ARCHIVE = "deep-pianist-identification.zip"
TOP = "deep-pianist-identification"
SPLIT_DIR = "references/data_splits/20class_80min"
VOICINGS = "references/cav_resources/voicings"
DATE = (2025, 1, 30, 0, 0, 0)
CLIP_SECONDS = 30.0
#: The 20 pianists of the 20class_80min split (its pianist_mapping.csv) and the track-name
#: prefix the original gives each.
PIANISTS = [
    ("Abdullah Ibrahim", "ibrahima"), ("Ahmad Jamal", "jamala"), ("Bill Evans", "evansb"),
    ("Brad Mehldau", "mehldaub"), ("Cedar Walton", "waltonc"), ("Chick Corea", "coreac"),
    ("Gene Harris", "harrisg"), ("Geri Allen", "alleng"), ("Hank Jones", "jonesh"), ("John Hicks", "hicksj"),
    ("Junior Mance", "mancej"), ("Keith Jarrett", "jarrettk"), ("Kenny Barron", "barronk"),
    ("Kenny Drew", "drewk"), ("McCoy Tyner", "tynerm"), ("Oscar Peterson", "petersono"),
    ("Stanley Cowell", "cowells"), ("Teddy Wilson", "wilsont"), ("Thelonious Monk", "monkt"),
    ("Tommy Flanagan", "flanagant"),
]
#: The 20 concepts of the original's cav_mapping.csv, in folder order (row i = <i + 1>_cav).
CONCEPTS = [
    "Block Chords", "Shell Voicings", "Diatonic 7th Chords", "Cycle Progressions", "II-V-I's in Major and Minor",
    "I-IV Cycle Progression", "Modal Fourthy Voicings", '"So What" Voicings', 'Modal "So What" Voicings',
    "Fourth II-V-I's", "Tri-Tone Sub II-V-I's", "Polychordal II-V-I's", "Cycling Altered Dominants",
    "Polychordal Blues Voicings", "Fourthy Blues Voicings", "Major 7th Blues Voicings", "Minor Blues Voicings",
    "Dominant 7th Polychords", "Dominant Polychord Groups", "Diminished Substitutions",
]
#: The original's default kernel-heatmap clip (cav_utils.HEATMAP_CLIPS), McCoy Tyner (class 14).
HEATMAP_TRACK, HEATMAP_CLIP, HEATMAP_LABEL = "pijama/tynerm-tivoli-unaccompanied-xxxx-zzs1xka8", 8, 14
#: The validation split's pianists (their clips are the LIME figures of the smoke run).
VALIDATION = (2, 18)


def _midi_bytes(hands: list[list[tuple[int, float, float, int]]]) -> bytes:
    """A piano MIDI file (pretty_midi, as the original writes its clips) with one instrument
    per list of ``(pitch, start, end, velocity)`` notes."""
    import pretty_midi

    midi = pretty_midi.PrettyMIDI()
    for notes in hands:
        piano = pretty_midi.Instrument(program=0)
        piano.notes = [pretty_midi.Note(int(v), int(p), float(s), float(e)) for p, s, e, v in notes]
        midi.instruments.append(piano)
    buffer = io.BytesIO()
    midi.write(buffer)
    return buffer.getvalue()


def _clip_notes(rng: np.random.Generator, label: int, seconds: float) -> list[tuple[int, float, float, int]]:
    """One clip of a pianist: a melody around a register and a left-hand chord every ~2 s."""
    register, loud = 60 + label, 40 + 3 * label  # velocities stay in 30..126
    notes = []
    t = 0.0
    while t < seconds:  # left-hand chords: root, seventh, third, fifth (>= 3 distinct pitches)
        root = int(rng.integers(36, 48))
        for interval in (0, 10, 16, 19):
            notes.append((root + interval, t, t + 1.5, int(rng.integers(loud - 10, loud + 10))))
        t += float(rng.uniform(1.6, 2.4))
    t = float(rng.uniform(0, 0.5))
    while t < seconds:
        pitch = int(np.clip(register + 12 + rng.integers(-7, 8), 21, 108))
        notes.append((pitch, t, t + float(rng.uniform(0.1, 0.6)), int(rng.integers(loud, loud + 20))))
        t += float(rng.exponential(0.4)) + 0.05
    return sorted(notes, key=lambda n: (n[1], n[0]))


def _concept_notes(rng: np.random.Generator, k: int) -> list[list[tuple[int, float, float, int]]]:
    """Right and left hand of one concept MIDI: four chords of a concept-specific voicing."""
    shape = sorted(rng.choice(np.arange(3, 20), 3, replace=False).tolist())  # right-hand intervals
    bass = [0, 7] if k % 2 else [0, 10]
    rh, lh = [], []
    root = int(rng.integers(45, 52))
    for i in range(4):
        start, end = 2.0 * i, 2.0 * i + 1.9
        lh += [(root + b, start, end, 80) for b in bass]
        rh += [(root + 12 + s, start, end, 80) for s in shape]
        root = 45 + (root - 45 + 5) % 12  # up a fourth, kept in one octave
    return [rh, lh]


def _tracks(rng: np.random.Generator) -> dict[str, list[tuple[str, int, float, list[int]]]]:
    """Per split: ``(track, pianist, duration, clip indices)``."""
    def name(label: int, split: str, i: int) -> str:
        prefix = PIANISTS[label][1]
        token = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz0123456789"), 8))
        if (label + i) % 2:
            return f"pijama/{prefix}-smoke{split}{i}-unaccompanied-xxxx-{token}"
        return f"jtd/{prefix}-smoke{split}{i}-trio{label:02d}-{1960 + label}-{token}"

    tracks: dict[str, list[tuple[str, int, float, list[int]]]] = {"train": [], "validation": [], "test": []}
    for label in range(len(PIANISTS)):
        tracks["train"].append((name(label, "train", 0), label, 29.98958333333333, [0]))
        if label == HEATMAP_LABEL:
            tracks["test"].append((HEATMAP_TRACK, label, 269.98958333333331, [HEATMAP_CLIP]))
        else:
            tracks["test"].append((name(label, "test", 0), label, 29.98958333333333, [0]))
    for label in VALIDATION:
        tracks["validation"].append((name(label, "validation", 0), label, 29.98958333333333, [0]))
    return tracks


def _metadata(track: str, label: int) -> bytes:
    """A track's ``metadata.json``: JTD's keys, or PiJAMA's with no recording year."""
    dataset, fname = track.split("/")
    pianist = PIANISTS[label][0]
    year = None if dataset == "pijama" else int(fname.split("-")[3])
    meta = {"track_name": fname.split("-")[1].title(), "album_name": f"Smoke Sessions {label:02d}",
            "recording_year": year, "bandleader": pianist, "pianist": pianist, "mbz_id": fname.split("-")[-1],
            "live": False, "fname": fname}
    return json.dumps(meta, ensure_ascii=False, indent=4).encode()


def archive_members() -> dict[str, bytes]:
    """Every member of the tiny archive: path inside ``TOP/`` -> bytes."""
    rng = np.random.default_rng(14774191)
    members: dict[str, bytes] = {}
    for split, rows in _tracks(rng).items():
        lines = [",track,pianist,duration"]
        for i, (track, label, duration, clips) in enumerate(rows):
            lines.append(f"{i},{track},{label},{duration!r}")
            members[f"data/raw/{track}/metadata.json"] = _metadata(track, label)
            for c in clips:
                members[f"data/clips/{track}/clip_{c:03d}.mid"] = _midi_bytes([_clip_notes(rng, label, CLIP_SECONDS)])
        members[f"{SPLIT_DIR}/{split}_split.csv"] = ("\n".join(lines) + "\n").encode()
    members[f"{SPLIT_DIR}/pianist_mapping.csv"] = (
        ",idx\n" + "".join(f"{name},{i}\n" for i, (name, _) in enumerate(PIANISTS))).encode()
    members[f"{VOICINGS}/cav_mapping.csv"] = (",idx\n" + "".join(f"{c},{i}\n" for i, c in enumerate(CONCEPTS))).encode()
    for k in range(1, len(CONCEPTS) + 1):
        members[f"{VOICINGS}/midi_final/{k}_cav/1.mid"] = _midi_bytes(_concept_notes(rng, k))
    return members


def write_archive(zenodo: Path) -> tuple[Path, Path]:
    """The Zenodo archive and the record JSON; returns their paths."""
    archive = zenodo / "records" / str(RECORD_ID) / "files" / ARCHIVE
    archive.parent.mkdir(parents=True, exist_ok=True)
    members = archive_members()
    folders = sorted({f"{TOP}/" + "/".join(name.split("/")[:i]) + "/" for name in members
                      for i in range(1, name.count("/") + 1)} | {f"{TOP}/"})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for folder in folders:
            zf.writestr(zipfile.ZipInfo(folder, date_time=DATE), b"")
        for name, data in sorted(members.items()):
            info = zipfile.ZipInfo(f"{TOP}/{name}", date_time=DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    archive.write_bytes(buffer.getvalue())
    record = zenodo_record.write_record(zenodo, RECORD_ID, archive, "Deconstructing Jazz Piano Style Using Machine Learning (smoke mirror)")
    return archive, record


def write_mirror(root: Path) -> dict:
    """Write the study's mirror under ``root/mirror/pianist``; return its part of the override."""
    mirror = Path(root).resolve() / "mirror" / "pianist"
    archive, record = write_archive(mirror / "zenodo")
    return {"pianist": {"data": {"zenodo_record_api": record.as_uri(),
                                 "paper": {"archive_urls": [archive.as_uri()]}}}}


#: The published checkpoints' paths in the original's layout (create_zenodo_zipfile.py,
#: get_checkpoints; config/pianist.yaml, published.paper.members).
PUBLISHED_MEMBERS = {
    "resnet": "checkpoints/baselines/resnet50-jtd+pijama-augment/checkpoint_099.pth",
    "disentangle": "checkpoints/disentangle-resnet-channel/disentangle-jtd+pijama-resnet18-mask30concept3-"
                   "augment50-noattention-avgpool-onefc/checkpoint_099.pth",
}
#: What the second smoke pass builds from the published checkpoints (relative to the run dir):
#: both checkpoints fetched, loaded and evaluated on the held-out clips. LIME, TCAV, the kernel
#: heatmaps and the claims on them run the first pass's lines on other weights (9-18 min on a
#: slow 2-core machine: beyond CI's budget); docs/published-weights.md says how to build them.
PUBLISHED_TARGETS = [
    "results/paper/pianist/published/accuracy_resnet.csv",
    "results/paper/pianist/published/accuracy_disentangle.csv",
]


def write_published(root: Path) -> dict:
    """The original's two published checkpoints, paper size (ResNet-50; four ResNet-18 branches)
    with random weights, in its exact layout (key names, shapes, the checkpoint dict of
    training.py with numpy metrics), under ``root/mirror/pianist/published/`` as a user-named
    folder in the archive's layout; returns the override switching the study to them, with
    each file's sha256 pinned (~270 MB)."""
    import torch

    from xairepro.common.download import file_digest
    from xairepro.pianist.published import original_checkpoint, original_network

    folder = Path(root).resolve() / "mirror" / "pianist" / "published"
    sha256 = {}
    for seed, (kind, member) in enumerate(PUBLISHED_MEMBERS.items()):
        path = folder / member
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(original_checkpoint(original_network(kind, len(PIANISTS), seed=RECORD_ID + seed), kind), path)
        sha256[kind] = file_digest(path)
    return {"pianist": {"weights": "published",
                        "published": {"paper": {"dir": str(folder), "members": dict(PUBLISHED_MEMBERS),
                                                "sha256": sha256}}}}
