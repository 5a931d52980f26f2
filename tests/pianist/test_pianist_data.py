"""The demo generator, clip splitting, the clip loader and the paper archive."""

import zipfile

import numpy as np
import pandas as pd
import pytest

from xairepro.common.errors import InputError
from xairepro.pianist.data import (
    CONCEPT_RULES, concept_chords, concept_rolls, extract_archive, generate_demo, invert, list_concepts, load_clips,
    performer_names, prepare_clips, render_performance, split_clips,
)

PERFORMERS = [
    {"name": "ana", "concepts": ["shell"], "register": 72, "density": 2.0, "velocity": [70, 8], "timing": 0.01},
    {"name": "ben", "concepts": ["quartal"], "register": 80, "density": 4.0, "velocity": [90, 8], "timing": 0.02},
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    truth = generate_demo(root, performers=PERFORMERS, concepts=["shell", "quartal", "diminished"],
                          tracks_per_performer=3, n_validation=1, n_test=1, clips_per_track=2, clip_seconds=4.0,
                          pad_seconds=1.0, chord_seconds=1.0, root_range=[48, 60], concept_files=2, seed=0)
    return root, truth


def test_demo_writes_the_archive_layout_and_the_planted_truth(demo):
    root, truth = demo
    assert truth["planted"] == {"ana": ["shell"], "ben": ["quartal"]}
    for split in ("train", "validation", "test"):
        table = pd.read_csv(root / "splits" / f"{split}_split.csv")
        assert {"track", "pianist", "duration"} <= set(table.columns)
        assert sorted(table.pianist) == ([0, 1] if split != "train" else [0, 1])
    assert len(list((root / "clips" / "synth").glob("*/clip_*.mid"))) == 2 * 3 * 2
    assert [name for name, _ in list_concepts(root / "voicings" / "midi_final", root / "voicings" / "cav_mapping.csv")] \
        == ["shell", "quartal", "diminished"]


def test_demo_performers_play_only_their_planted_voicings():
    # left hands: shell = root + minor seventh (10), quartal = root + fourth (5)
    for performer, interval in ((PERFORMERS[0], 10), (PERFORMERS[1], 5)):
        _, lh = render_performance(dict(performer, timing=0.0), 20.0, np.random.default_rng(0), chord_seconds=1.0,
                                   root_range=(48, 60))
        chords = [np.sort(lh[lh[:, 1] == t, 0]) for t in np.unique(lh[:, 1])]
        assert len(chords) >= 15
        assert {int(c[1] - c[0]) for c in chords} == {interval}


def test_track_level_split_keeps_every_clip_of_a_track_together(demo):
    root, _ = demo
    arrays = load_clips(root / "clips", root / "splits", clip_seconds=4.0)
    for track in np.unique(arrays["track"]):
        assert len(np.unique(arrays["split"][arrays["track"] == track])) == 1
    assert set(arrays["split"]) == {0, 1, 2}
    assert arrays["clip_name"][0].startswith("synth/") and arrays["clip_name"][0].endswith("clip_000.mid")


def test_clip_splitting_shifts_notes_and_keeps_the_padding():
    notes = np.array([[60, 0.5, 1.0, 80], [62, 4.5, 5.0, 80], [64, 9.0, 9.5, 80]], np.float32)
    clips = split_clips(notes, duration=9.5, clip_seconds=4.0, pad_seconds=1.0)
    assert len(clips) == 3  # the last clip [8, 9.5) is shorter than the window
    np.testing.assert_allclose(clips[0][:, 1], [0.5, 4.5])  # 4.5 s lies in clip 0's padding
    np.testing.assert_allclose(clips[1][:, 1], [0.5])
    np.testing.assert_allclose(clips[2][:, 1], [1.0])


def _tiny_corpus(root, midi_writer, clip_notes):
    (root / "splits").mkdir(parents=True)
    pd.DataFrame({"track": ["jtd/a-track"], "pianist": [0], "duration": [30.0]}).to_csv(root / "splits" / "train_split.csv")
    for split in ("validation", "test"):
        pd.DataFrame({"track": ["jtd/a-track"], "pianist": [0], "duration": [30.0]}).to_csv(
            root / "splits" / f"{split}_split.csv")
    return midi_writer(root / "clips" / "jtd" / "a-track" / "clip_000.mid", clip_notes)


def test_a_clip_without_notes_is_an_input_error_and_nothing_is_written(tmp_path, midi_writer):
    clip = _tiny_corpus(tmp_path, midi_writer, [])
    out = tmp_path / "clips.npz"
    with pytest.raises(InputError, match=str(clip)):
        prepare_clips(tmp_path / "clips", tmp_path / "splits", out, clip_seconds=4.0)
    assert not out.exists() and not list(tmp_path.glob(".clips.npz*"))


def test_a_corrupt_clip_is_an_input_error_naming_it_and_nothing_is_written(tmp_path, midi_writer):
    clip = _tiny_corpus(tmp_path, midi_writer, [(60, 0.0, 1.0, 80)])
    clip.write_bytes(b"not a midi file")
    out = tmp_path / "clips.npz"
    with pytest.raises(InputError, match="clip_000.mid"):
        prepare_clips(tmp_path / "clips", tmp_path / "splits", out, clip_seconds=4.0)
    assert not out.exists()


def test_concept_rules_inversions_and_renderings():
    assert invert([60, 64, 67], 1) == [64, 67, 72]
    assert all(len(rh) >= 3 for name in CONCEPT_RULES for _, rh in concept_chords(name, 48))
    lh, rh = concept_chords("quartal", 48)[0]
    assert lh == [48, 53] and rh == [58, 63, 68]


def test_concept_rolls_cover_inversions_transpositions_and_hands(tmp_path, midi_writer):
    path = midi_writer(tmp_path / "1_cav" / "c.mid", [], hands=[[(64, 0, 1, 80), (67, 0, 1, 80), (71, 0, 1, 80)],
                                                              [(48, 0, 1, 80), (55, 0, 1, 80)]])
    rolls = concept_rolls([path], fps=10, clip_seconds=2, transpositions=[-1, 0, 1], n_inversions=2,
                          harmony_window=0.3, hands="split", stretch=False)
    assert rolls.shape == (2 * 3 * 2, 88, 20)
    root_position_with_lh = rolls[2]  # inversion 0, shift 0, with left hand
    assert sorted(np.where(root_position_with_lh[:, 0] > 0)[0] + 21) == [48, 55, 64, 67, 71]
    first_inversion_no_lh = rolls[6 + 3]
    assert sorted(np.where(first_inversion_no_lh[:, 0] > 0)[0] + 21) == [67, 71, 76]


def _paper_zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_paper_archive_is_extracted_into_the_shared_layout_and_read_by_the_same_loader(tmp_path, midi_writer):
    clip = midi_writer(tmp_path / "src.mid", [(60, 0.0, 1.0, 80), (64, 0.0, 1.0, 80), (67, 0.0, 1.0, 80)]).read_bytes()
    split = "track,pianist,duration\njtd/evansb-x,0,60\npijama/monkt-y,1,60\n"
    base = "deep-pianist-identification/"
    members = {
        f"{base}data/clips/jtd/evansb-x/clip_000.mid": clip,
        f"{base}data/clips/jtd/evansb-x/clip_001.mid": clip,
        f"{base}data/clips/pijama/monkt-y/clip_000.mid": clip,
        f"{base}references/data_splits/20class_80min/pianist_mapping.csv": "name,pianist\nBill Evans,0\nThelonious Monk,1\n",
        f"{base}references/cav_resources/voicings/midi_final/1_cav/a.mid": clip,
        f"{base}references/cav_resources/voicings/midi_final/2_cav/b.mid": clip,
        f"{base}references/cav_resources/voicings/cav_mapping.csv": ",idx\nBlock Chords,0\nShell Voicings,1\n",
    }
    for s in ("train", "validation", "test"):
        members[f"{base}references/data_splits/20class_80min/{s}_split.csv"] = split
    archive = _paper_zip(tmp_path / "archive.zip", members)
    dest = extract_archive(archive, tmp_path / "data", checksum=None, split_dir="references/data_splits/20class_80min")
    arrays = load_clips(dest / "clips", dest / "splits", clip_seconds=30.0)
    assert list(arrays["performer"]) == ["Bill Evans", "Thelonious Monk"]
    assert len(arrays["label"]) == 9 and "jtd/evansb-x/clip_001.mid" in list(arrays["clip_name"])
    names = [n for n, _ in list_concepts(dest / "voicings" / "midi_final", dest / "voicings" / "cav_mapping.csv")]
    assert names == ["Block Chords", "Shell Voicings"]


@pytest.mark.parametrize("mapping", [",idx\nAbdullah Ibrahim,0\nAhmad Jamal,1\nBill Evans,2\n",
                                     "name,pianist\nAbdullah Ibrahim,0\nAhmad Jamal,1\nBill Evans,2\n"],
                         ids=["original-idx", "demo-name-pianist"])
def test_performer_names_read_both_mapping_layouts(tmp_path, mapping):
    (tmp_path / "pianist_mapping.csv").write_text(mapping)
    assert performer_names(tmp_path, [0, 2, 1]) == ["Abdullah Ibrahim", "Ahmad Jamal", "Bill Evans"]


def test_paper_archive_member_escaping_the_folder_is_refused(tmp_path):
    archive = _paper_zip(tmp_path / "evil.zip", {"data/clips/x/clip_000.mid": b"x", "../escape.txt": b"boom"})
    with pytest.raises(InputError, match="evil.zip"):
        extract_archive(archive, tmp_path / "data", checksum=None, split_dir="splits")
    assert not (tmp_path / "escape.txt").exists()


def test_paper_archive_with_a_wrong_checksum_is_refused(tmp_path):
    archive = _paper_zip(tmp_path / "a.zip", {"data/clips/x/clip_000.mid": b"x"})
    with pytest.raises(InputError, match="checksum mismatch"):
        extract_archive(archive, tmp_path / "data", checksum="sha256:" + "0" * 64, split_dir="splits")
