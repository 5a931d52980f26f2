"""The smaller points where the pianist study follows HuwCheston/deep-pianist-identification
(issue 20): integrated-gradients steps, the baseline's batch size, the kernel-occlusion grid and
deletion rule, the class-name mapping's layout, and the LIME titles from track metadata."""

from __future__ import annotations

import importlib.util
import json
import zipfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
import yaml

from xairepro.pianist import explain, figures
from xairepro.pianist.data import extract_archive, load_clips, performer_names, prepare_clips
from xairepro.pianist.explain import CavSensitivity, KernelOcclusion, kernel_positions, occluded
from xairepro.pianist.models import DisentangleNet

ROOT = Path(__file__).resolve().parents[2]
PAPER_KERNEL = {"semitones": 24, "seconds": 2.5, "stride_semitones": 2, "stride_seconds": 2.0}
SMALL = {"block": "basic", "layers": (1, 1, 1, 1), "width": 4, "stem": "small"}
# A JTD track's metadata.json as the original reads it (create_lime_plots.py: bandleader,
# track_name, album_name, recording_year), written as its preprocessing writes it
# (json.dump(..., ensure_ascii=False, indent=4)).
JTD_META = {"track_name": "Gloria's Step (take 1, interrupted)", "album_name": "Sunday at the Village Vanguard",
            "recording_year": 1961, "bandleader": "Bill Evans", "pianist": "Bill Evans",
            "mbz_id": "af9c1ed7-0000-0000-0000-000000000000", "live": True,
            "fname": "evansb-gloriassteptake1interrupted-lafarosmotianp-1961-af9c1ed7"}
# PiJAMA's, as the original's convert_pijama_to_jtd_fmt.py writes it (no recording year).
PIJAMA_META = {"track_name": "Tivoli", "album_name": "Solo Piano Album", "recording_year": None,
               "bandleader": "McCoy Tyner", "pianist": "McCoy Tyner", "mbz_id": "zzs1xka8-0000", "live": False,
               "fname": "tynerm-tivoli-unaccompanied-xxxx-zzs1xka8"}


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return DisentangleNet(2, **SMALL).eval()


def _smoke_writer():
    spec = importlib.util.spec_from_file_location("smoke_pianist", ROOT / "scripts" / "smoke" / "pianist.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- config defaults
def test_paper_defaults_are_the_originals_ig_steps_and_baseline_batch_size():
    cfg = yaml.safe_load((ROOT / "config" / "pianist.yaml").read_text())["pianist"]
    assert cfg["tcav"]["ig_steps"] == 5 == explain.IG_STEPS  # cav_utils.py: n_steps=5
    assert cfg["resnet"]["paper"]["batch_size"] == 5  # config/baselines/resnet50-jtd+pijama-augment.yaml
    assert cfg["disentangle"]["paper"]["batch_size"] == 20  # its DisentangleNet config: already the original's


# --------------------------------------------------------------------------- integrated gradients steps
@pytest.mark.parametrize("make", [
    lambda m, steps: CavSensitivity(m, attribution_fn="integrated_gradients", **steps),
    lambda m, steps: KernelOcclusion(m, roll={}, kernel={}, attribution_fn="integrated_gradients", **steps).sensitivity,
], ids=["sensitivity", "kernel-occlusion"])
@pytest.mark.parametrize("steps, expected", [({}, 5), ({"ig_steps": 7}, 7)], ids=["default", "configured"])
def test_layer_integrated_gradients_gets_the_configured_steps(model, make, steps, expected):
    from captum.attr import LayerIntegratedGradients

    seen = []
    original = LayerIntegratedGradients.attribute

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("n_steps"))
        return original(self, *args, **kwargs)

    rolls = np.random.default_rng(0).random((2, 88, 20)).astype(np.float32)
    cavs = np.ones((1, explain.activations(model, rolls[:1]).shape[1]), np.float32)
    with mock.patch.object(LayerIntegratedGradients, "attribute", spy):
        s = make(model, steps).attribute(rolls, target=np.array([0, 1]), cavs=cavs, batch_size=2)
    assert seen == [expected] and np.isfinite(s).all()


# --------------------------------------------------------------------------- kernel occlusion
def test_kernel_positions_are_the_originals_grid_of_centres():
    pitches, times = kernel_positions(30.0, PAPER_KERNEL)
    # np.arange(0, 88 + 2, 2) keys and np.arange(0, 30 + 2, 2) s: 45 x 16 centres, both ends in
    assert len(pitches) == 45 and pitches[0] == 21 and pitches[-1] == 21 + 88
    assert len(times) == 16 and times[0] == 0.0 and times[-1] == 30.0
    # a stride that does not divide the range overshoots its end, as the original's arange
    pitches, times = kernel_positions(30.0, PAPER_KERNEL | {"stride_semitones": 32, "stride_seconds": 14.0})
    assert pitches.tolist() == [21, 53, 85, 117] and times.tolist() == [0.0, 14.0, 28.0, 42.0]


def test_occlusion_deletes_a_note_whose_start_or_end_lies_under_the_kernel():
    # kernel centred on MIDI 60 at 10 s: pitches 48..72, times 8.75..11.25, bounds included
    notes = np.array([
        [60, 9.0, 9.5, 80],    # inside
        [60, 8.0, 9.0, 80],    # only its end inside: deleted (the original's rule)
        [60, 11.0, 12.0, 80],  # only its start inside
        [60, 8.0, 12.0, 80],   # spans the whole kernel, neither end inside: stays
        [72, 9.0, 9.5, 80],    # on the upper pitch bound: included
        [48, 11.25, 13.0, 80],  # on the lower pitch bound, starting on the right edge: included
        [73, 9.0, 9.5, 80],    # a semitone above
        [60, 5.0, 8.7, 80],    # ends just before
    ], np.float32)
    deleted = occluded(notes, 60, 10.0, {"semitones": 24, "seconds": 2.5}, 30.0)
    assert deleted.tolist() == [True, True, True, False, True, True, False, False]


def test_occlusion_kernel_is_clamped_to_the_keyboard_and_the_clip():
    kernel = {"semitones": 24, "seconds": 2.5}
    notes = np.array([[21, 0.0, 0.5, 80], [33, 0.5, 2.0, 80], [34, 0.5, 1.0, 80], [108, 29.5, 31.0, 80]], np.float32)
    # centred on key 0 at 0 s: keys 0..12 (MIDI 21..33), 0..1.25 s
    assert occluded(notes, 21, 0.0, kernel, 30.0).tolist() == [True, True, False, False]
    # centred on key 88 at 30 s: clamped to MIDI 97..109 and 28.75..30 s; the last note starts there
    assert occluded(notes, 109, 30.0, kernel, 30.0).tolist() == [False, False, False, True]


def test_kernel_occlusion_map_follows_the_notes_deleted_by_their_end(model, chord_case):
    # one chord that ends at 1 s: the kernel centred at 1 s (0.5-1.5 s) takes it by its end only
    notes, roll, kernel, draw = chord_case
    cavs = draw(model, 1, seed=1)
    out = KernelOcclusion(model, roll=roll, kernel=kernel).attribute(notes, target=0, cavs=cavs, batch_size=16)
    row = int(np.where(out["pitches"] == 45)[0][0])  # keys 33..57 hold the chord
    # deleting the whole chord leaves a silent roll: (s - s_silent) / s at t = 0 and 1 s alike
    assert out["map"][0, row, 0] == pytest.approx(out["map"][0, row, 1]) and out["map"][0, row, 1] != 0
    assert np.allclose(out["map"][0, :, 2:], 0, atol=1e-5)


# --------------------------------------------------------------------------- class names
def test_smoke_archive_writes_the_originals_pianist_mapping_and_it_is_read():
    smoke = _smoke_writer()
    text = smoke.archive_members()[f"{smoke.SPLIT_DIR}/pianist_mapping.csv"].decode()
    # the original's file: ",idx" header (pandas' unnamed index of names), "<name>,<class>" rows, LF
    assert text.startswith(",idx\nAbdullah Ibrahim,0\nAhmad Jamal,1\n") and text.endswith("Tommy Flanagan,19\n")
    assert "\r" not in text and len(text.splitlines()) == 21


def test_archive_in_the_originals_layout_gives_class_names_and_track_metadata(tmp_path, midi_writer):
    clip = midi_writer(tmp_path / "src.mid", [(60, 0.0, 1.0, 80), (64, 0.0, 1.0, 80), (67, 0.0, 1.0, 80)]).read_bytes()
    base = "deep-pianist-identification/"
    jtd = "jtd/evansb-gloriassteptake1interrupted-lafarosmotianp-1961-af9c1ed7"
    pijama = "pijama/tynerm-tivoli-unaccompanied-xxxx-zzs1xka8"
    split = f",track,pianist,duration\n0,{jtd},1,32.5\n1,{pijama},0,269.98958333333331\n"
    members = {
        f"{base}data/clips/{jtd}/clip_000.mid": clip,
        f"{base}data/clips/{pijama}/clip_008.mid": clip,
        f"{base}data/raw/{jtd}/metadata.json": json.dumps(JTD_META, ensure_ascii=False, indent=4),
        f"{base}data/raw/{jtd}/piano_midi.mid": clip,
        f"{base}data/raw/{pijama}/metadata.json": json.dumps(PIJAMA_META, ensure_ascii=False, indent=4),
        f"{base}data/raw/pijama/another-track-without-clips/metadata.json": json.dumps(PIJAMA_META),
        f"{base}references/data_splits/20class_80min/pianist_mapping.csv": ",idx\nMcCoy Tyner,0\nBill Evans,1\n",
        f"{base}references/cav_resources/voicings/midi_final/1_cav/1.mid": clip,
        f"{base}references/cav_resources/voicings/cav_mapping.csv": ",idx\nBlock Chords,0\n",
    }
    for s in ("train", "validation", "test"):
        members[f"{base}references/data_splits/20class_80min/{s}_split.csv"] = split
    with zipfile.ZipFile(tmp_path / "archive.zip", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    dest = extract_archive(tmp_path / "archive.zip", tmp_path / "data", checksum=None,
                           split_dir="references/data_splits/20class_80min")
    assert (dest / "clips" / jtd / "metadata.json").is_file()
    assert not (dest / "clips" / "pijama" / "another-track-without-clips").exists()
    assert performer_names(dest / "splits", [0, 1]) == ["McCoy Tyner", "Bill Evans"]
    arrays = load_clips(dest / "clips", dest / "splits", clip_seconds=30.0)
    assert list(arrays["performer"]) == ["McCoy Tyner", "Bill Evans"]
    by_track = dict(zip(arrays["track_name"], arrays["track_metadata"]))
    assert json.loads(by_track[jtd])["album_name"] == "Sunday at the Village Vanguard"
    assert json.loads(by_track[pijama])["recording_year"] is None


# --------------------------------------------------------------------------- LIME titles
def test_lime_title_has_album_and_year_from_the_metadata():
    title = figures.lime_title("Bill Evans", "jtd/evansb-x", 30.0, 60.0, json.dumps(JTD_META))
    assert title == ('Bill Evans — "Gloria\'s Step (take 1, interrupted)" (00:30—01:00)\n'
                     'from "Sunday at the Village Vanguard", 1961')
    # PiJAMA has no recording year: left out (the original printed "None")
    assert figures.lime_title("McCoy Tyner", "pijama/t", 240.0, 270.0, json.dumps(PIJAMA_META)).endswith(
        'from "Solo Piano Album"')
    # without metadata (or without its keys): performer, track folder and span
    assert figures.lime_title("ana", "synth/ana-track00", 0.0, 6.0) == "ana | synth/ana-track00 | 00:00-00:06"
    assert figures.lime_title("ana", "synth/x", 0.0, 6.0, '{"album_name": "A"}') == "ana | synth/x | 00:00-00:06"


def test_lime_figures_are_titled_from_the_track_metadata(tmp_path, midi_writer):
    notes = [(60, 0.0, 1.0, 80), (64, 0.0, 1.0, 80), (67, 0.0, 1.0, 80)]
    for track in ("jtd/evansb-x", "pijama/monkt-y"):
        midi_writer(tmp_path / "clips" / track / "clip_001.mid", notes)
    (tmp_path / "clips" / "jtd" / "evansb-x" / "metadata.json").write_text(json.dumps(JTD_META, indent=4))
    (tmp_path / "splits").mkdir()
    for s in ("train", "validation", "test"):
        (tmp_path / "splits" / f"{s}_split.csv").write_text(",track,pianist,duration\n0,jtd/evansb-x,0,60\n"
                                                           "1,pijama/monkt-y,1,60\n")
    (tmp_path / "splits" / "pianist_mapping.csv").write_text(",idx\nBill Evans,0\nThelonious Monk,1\n")
    prepare_clips(tmp_path / "clips", tmp_path / "splits", tmp_path / "clips.npz", clip_seconds=4.0)
    np.savez(tmp_path / "lime.npz", index=np.array([4, 5]), mask=np.zeros((2, 88, 40), bool),
             top_label=np.array([0, 0]), probability=np.array([0.9, 0.6], np.float32))
    roll = {"fps": 10, "clip_seconds": 4.0, "min_duration": 0.01, "harmony_window": 0.3}
    titles = []
    with mock.patch.object(figures, "plot_lime_roll", lambda *a, title, **k: titles.append(title) or _figure()):
        figures.write_lime_figures(tmp_path / "clips.npz", tmp_path / "lime.npz", tmp_path / "out", roll=roll,
                                   width=4, height=3)
    assert titles[0].splitlines() == [
        'Bill Evans — "Gloria\'s Step (take 1, interrupted)" (00:04—00:08)',
        'from "Sunday at the Village Vanguard", 1961',
        "Bill Evans: LIME top-5 positive superpixels for predicted Bill Evans (p=0.90)"]
    assert titles[1].splitlines()[0] == "Thelonious Monk | pijama/monkt-y | 00:04-00:08"


def _figure():
    from matplotlib import pyplot as plt

    return plt.figure()


def test_kernel_figures_are_titled_from_the_track_metadata(tmp_path):
    clip = "pijama/tynerm-tivoli-unaccompanied-xxxx-zzs1xka8/clip_008.mid"
    np.savez(tmp_path / "heat.npz", clips=np.array([clip, "synth/a/clip_000.mid"]), concepts=np.array(["shell"]),
             pitches=np.array([21, 45]), times=np.array([0.0, 2.0]), performer=np.array(["McCoy Tyner", "ana"]),
             clip_start=np.array([240.0, 0.0]), metadata=np.array([json.dumps(PIJAMA_META), ""]),
             **{f"{k}_{i}": v for i in range(2) for k, v in
                (("map", np.zeros((1, 2, 2))), ("s_orig", np.ones(1)), ("roll", np.zeros((88, 30))))})
    titles = []
    with mock.patch.object(figures, "plot_kernel_heatmap", lambda *a, title, **k: titles.append(title) or _figure()):
        figures.write_kernel_figures(tmp_path / "heat.npz", tmp_path / "out", roll={"fps": 1, "clip_seconds": 30.0},
                                     kernel=PAPER_KERNEL, width=4, height=3)
    assert titles[0].splitlines()[:2] == ['McCoy Tyner — "Tivoli" (04:00—04:30)', 'from "Solo Piano Album"']
    assert titles[1].splitlines()[0] == "ana | synth/a/clip_000.mid | 00:00-00:30"


def test_smoke_archive_carries_track_metadata_that_reaches_the_clip_table(tmp_path):
    smoke = _smoke_writer()
    archive, _ = smoke.write_archive(tmp_path / "zenodo")
    dest = extract_archive(archive, tmp_path / "data", checksum=None, split_dir=smoke.SPLIT_DIR)
    arrays = load_clips(dest / "clips", dest / "splits", clip_seconds=30.0)
    metadata = {str(t): json.loads(str(m)) for t, m in zip(arrays["track_name"], arrays["track_metadata"])}
    assert len(metadata) == 42 and list(arrays["performer"])[14] == "McCoy Tyner"
    tyner = metadata[smoke.HEATMAP_TRACK]
    assert tyner["bandleader"] == "McCoy Tyner" and tyner["recording_year"] is None
    assert all(isinstance(m["recording_year"], int) for t, m in metadata.items() if t.startswith("jtd/"))


def test_demo_writes_the_originals_mapping_layout_and_track_metadata(tmp_path):
    from xairepro.pianist.data import generate_demo

    performers = [{"name": "ana", "concepts": ["shell"], "register": 72, "density": 2.0, "velocity": [70, 8],
                   "timing": 0.01},
                  {"name": "ben", "concepts": ["quartal"], "register": 79, "density": 4.0, "velocity": [85, 12],
                   "timing": 0.03}]
    generate_demo(tmp_path, performers=performers, concepts=["shell", "quartal"], tracks_per_performer=3,
                  n_validation=1, n_test=1, clips_per_track=1, clip_seconds=4.0, pad_seconds=1.0, chord_seconds=1.0,
                  root_range=[48, 60], concept_files=1, seed=0)
    assert (tmp_path / "splits" / "pianist_mapping.csv").read_text() == ",idx\nana,0\nben,1\n"
    arrays = load_clips(tmp_path / "clips", tmp_path / "splits", clip_seconds=4.0)
    assert list(arrays["performer"]) == ["ana", "ben"]
    meta = [json.loads(str(m)) for m in arrays["track_metadata"]]
    assert len(meta) == 6 and {m["bandleader"] for m in meta} == {"Ana", "Ben"}
    assert all(m["recording_year"] is None and m["album_name"] for m in meta)
