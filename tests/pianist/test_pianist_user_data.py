"""A user's own MIDI clips (pianist.user_data) and the music21 corpus as data: the layout is
checked up front, converted to the demo generator's files, and the planted-truth claims say
``not applicable``. The two ``workflow`` tests run the study's DAG on such folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xairepro.common.claims import NOT_APPLICABLE
from xairepro.common.errors import ConfigError, InputError
from xairepro.pianist.data import SPLITS, load_clips
from xairepro.pianist.tables import claims
from xairepro.pianist.user_data import import_user_data, read_user_data

ROOT = Path(__file__).resolve().parents[2]
CLIP = 6.0
CHECKS = {"splits": "tables", "n_validation": 1, "n_test": 1, "seed": 0, "clip_seconds": CLIP}


def write_midi(path: Path, notes: list[tuple[int, float, float, int]]) -> None:
    import pretty_midi

    midi = pretty_midi.PrettyMIDI()
    midi.instruments.append(pretty_midi.Instrument(0))
    midi.instruments[0].notes = [pretty_midi.Note(v, p, s, e) for p, s, e, v in notes]
    path.parent.mkdir(parents=True, exist_ok=True)
    midi.write(str(path))


def clip_notes(performer: int, k: int) -> list[tuple[int, float, float, int]]:
    """A few notes: performer 0 plays low and slow, performer 1 high and fast."""
    base, step = (48, 1.0) if performer == 0 else (72, 0.4)
    return [(base + (i + k) % 7, i * step, i * step + step * 0.8, 80) for i in range(int(CLIP / step))]


def user_folder(root: Path, *, performers=("ana", "ben"), tracks=3, clips=2, tables=True) -> Path:
    """``root/clips/<dataset or performer>/<track>/clip_NNN.mid`` and, with ``tables``, the
    split tables (track 0 test, 1 validation, the rest train) and pianist_mapping.csv."""
    rows = {split: [] for split in SPLITS}
    for label, name in enumerate(performers):
        for j in range(tracks):
            track = f"{'mine' if tables else name}/{name}-{j}"
            for k in range(clips):
                write_midi(root / "clips" / track / f"clip_{k:03d}.mid", clip_notes(label, k + j))
            rows["test" if j == 0 else "validation" if j == 1 else "train"].append({"track": track, "pianist": label})
    if tables:
        (root / "splits").mkdir(parents=True)
        for split, part in rows.items():
            pd.DataFrame(part, columns=["track", "pianist"]).to_csv(root / "splits" / f"{split}_split.csv")
        pd.DataFrame({"idx": range(len(performers))}, index=list(performers)).to_csv(
            root / "splits" / "pianist_mapping.csv")
    return root


def convert(folder: Path, out: Path, **overrides):
    return import_user_data(folder, out, concepts=["shell", "quartal"], concept_files=1,
                            **(CHECKS | overrides))


def test_a_folder_in_the_originals_layout_becomes_the_demo_generators_files(tmp_path):
    folder, out = user_folder(tmp_path / "mine"), tmp_path / "data"
    truth = convert(folder, out)
    assert truth["performers"] == ["ana", "ben"] and truth["planted"] is None
    assert sorted(p.name for p in out.iterdir()) == ["clips", "raw", "splits", "truth.json", "voicings"]
    assert json.loads((out / "truth.json").read_text())["planted"] is None
    table = load_clips(out / "clips", out / "splits", CLIP)
    assert list(table["performer"]) == ["ana", "ben"]
    assert np.bincount(table["split"]).tolist() == [4, 4, 4]  # 2 performers x 1 track x 2 clips per split
    assert (out / "voicings" / "cav_mapping.csv").is_file()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no build folder left behind


def test_generated_splits_hold_out_tracks_per_performer_and_repeat_with_the_seed(tmp_path):
    folder = user_folder(tmp_path / "mine", tracks=4, tables=False)
    first = read_user_data(folder, **(CHECKS | {"splits": "generate"})).tracks
    again = read_user_data(folder, **(CHECKS | {"splits": "generate"})).tracks
    assert first.equals(again)
    counts = first.groupby(["pianist", "split"]).size().unstack()
    assert counts.to_dict("list") == {"test": [1, 1], "train": [2, 2], "validation": [1, 1]}
    assert set(first.track.str.split("/").str[0]) == {"ana", "ben"}


def missing_split_table(root):
    (root / "splits" / "test_split.csv").unlink()


def one_clip_in_a_class(root):
    for path in sorted((root / "clips" / "mine").glob("ben-*")):
        for clip in path.glob("*.mid"):
            clip.unlink()
        path.rmdir()
    write_midi(root / "clips" / "mine" / "ben-0" / "clip_000.mid", clip_notes(1, 0))
    for split in ("validation", "train"):
        table = pd.read_csv(root / "splits" / f"{split}_split.csv", index_col=0)
        table[table.pianist == 0].to_csv(root / "splits" / f"{split}_split.csv")


def unreadable_clip(root):
    (root / "clips" / "mine" / "ana-2" / "clip_001.mid").write_bytes(b"not a MIDI file")


def empty_folder(root):
    for path in sorted(root.rglob("*.mid")):
        path.unlink()


def track_in_two_splits(root):
    table = pd.read_csv(root / "splits" / "train_split.csv", index_col=0)
    pd.concat([pd.read_csv(root / "splits" / "test_split.csv", index_col=0), table.iloc[:1]]).reset_index(
        drop=True).to_csv(root / "splits" / "test_split.csv")


@pytest.mark.parametrize("damage,message", [
    (missing_split_table, r"splits/test_split\.csv: split table not found"),
    (one_clip_in_a_class, r"performer 'ben' \(class 1\) has 1 track\(s\) in \['test'\]: each performer needs at "
                          r"least one track in each of train, validation and test"),
    (unreadable_clip, r"ana-2/clip_001\.mid: not a readable MIDI file"),
    (empty_folder, r"no clip_NNN\.mid files under clips/ \(empty folder\)"),
    (track_in_two_splits, r"track 'mine/ana-2' is in more than one split \(test, train\)"),
], ids=["missing-split-table", "one-clip-in-a-class", "unreadable-file", "empty-folder", "track-in-two-splits"])
def test_a_bad_layout_stops_with_one_message_and_writes_nothing(tmp_path, damage, message):
    folder, out = user_folder(tmp_path / "mine"), tmp_path / "data"
    damage(folder)
    with pytest.raises(InputError, match=message):
        convert(folder, out)
    assert not out.exists()


def test_a_missing_folder_and_too_few_tracks_to_generate_splits_name_the_fix(tmp_path):
    with pytest.raises(InputError, match="user data folder not found.*pianist.user_data.path"):
        convert(tmp_path / "nowhere", tmp_path / "data")
    folder = user_folder(tmp_path / "mine", tracks=2, tables=False)
    with pytest.raises(InputError, match=r"needs at least 3 tracks \(n_test 1 \+ n_validation 1 \+ 1 to train on\)"):
        convert(folder, tmp_path / "data", splits="generate")
    assert not (tmp_path / "data").exists()


def test_a_config_key_naming_a_clip_the_data_lack_stops_before_training_naming_the_key(tmp_path):
    folder = user_folder(tmp_path / "mine")
    key = "pianist.tcav.demo.default_heatmap_clip"
    with pytest.raises(ConfigError, match=rf"config: {key} names clip 'synth/cleo-track08/clip_000\.mid'.*"
                                          r"look like 'mine/ana-2/clip_000\.mid'"):
        convert(folder, tmp_path / "data", config_clips={key: ["synth/cleo-track08/clip_000.mid"]})
    assert not (tmp_path / "data").exists()
    convert(folder, tmp_path / "data", config_clips={key: ["mine/ben-1/clip_001.mid"]})


def test_planted_truth_claims_are_not_applicable_without_planted_concepts():
    accuracy = pd.DataFrame([{"model": m, "split": "test", "track_accuracy": 1.0, "randomised_track_accuracy": 0.25,
                              "n_tracks": 12, "n_classes": 4} for m in ("resnet", "disentangle")])
    long = pd.DataFrame({"performer": ["a", "b"], "concept": ["shell", "shell"], "experiment": [0, 0],
                         "sign_count": [0.5, 0.5], "control_sign_count": [0.5, 0.5]})
    lime = {"note_coverage": np.full(40, 0.3), "control_note_coverage": np.ones(40)}
    table = claims(accuracy, long, {"performers": ["a", "b"], "concepts": ["shell"], "planted": None}, "demo",
                   {"accuracy_tolerance": 0.03, "lime_coverage": [0.05, 0.8], "lime_share": 0.8}, lime=lime)
    verdicts = dict(zip(table.claim, table.verdict))
    assert [v for c, v in verdicts.items() if "planted" in c] == [NOT_APPLICABLE, NOT_APPLICABLE]
    assert [v for c, v in verdicts.items() if "planted" not in c] == ["pass", "pass", "pass"]
    assert table[table.verdict == NOT_APPLICABLE].statistic.str.contains("not applicable: no concept is planted").all()


def test_music21_corpus_becomes_a_valid_user_folder_split_by_piece(tmp_path):
    from xairepro.pianist.music21_corpus import build_music21, first_test_clip

    summary = build_music21(tmp_path / "m21", composers=["bach", "monteverdi"], pieces_per_composer=3,
                            clips_per_piece=2, clip_seconds=CLIP, pad_seconds=2.0, seconds_per_quarter=0.5,
                            velocity=80, n_validation=1, n_test=1, seed=0)
    assert summary["pieces"] == {"train": 2, "validation": 2, "test": 2}
    data = read_user_data(tmp_path / "m21", **CHECKS, config_clips={"k": [first_test_clip(tmp_path / "m21")]})
    assert data.names == ["bach", "monteverdi"]
    assert not data.tracks.track.duplicated().any()  # a piece is in one split only
    assert data.tracks.track.str.match(r"^(bach|monteverdi)/").all()


# --------------------------------------------------------------------------- the DAG on such folders
SMALL = {"pianist": {
    "resnet": {"demo": {"epochs": 1}}, "disentangle": {"demo": {"epochs": 1}},
    "lime": {"demo": {"num_samples": 10}},
    "tcav": {"demo": {"n_experiments": 3, "n_random_clips": 4, "n_cavs": 2, "n_inversions": 1,
                      "kernel": {"semitones": 24, "seconds": 3.0, "stride_semitones": 24, "stride_seconds": 3.0}}},
    "data": {"demo": {"concept_files": 1}},
}}


def run_snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, XAIREPRO_PROGRESS="0")
    command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
               "--cores", "2", *args]
    return subprocess.run(command, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=900)


def merged(base: dict, extra: dict) -> dict:
    return base | {k: merged(base[k], v) if isinstance(v, dict) and k in base else v for k, v in extra.items()}


def small_config(path: Path, extra: dict) -> Path:
    path.write_text(json.dumps({"pianist": merged(SMALL["pianist"], extra)}))
    return path


@pytest.mark.workflow
def test_the_study_runs_on_a_users_folder_with_not_applicable_planted_claims(tmp_path):
    folder = user_folder(tmp_path / "mine", tracks=3, clips=2)
    run = tmp_path / "run"
    run.mkdir()
    config = small_config(tmp_path / "my.yaml", {
        "user_data": {"path": str(folder), "splits": "tables"},
        "tcav": {"demo": {"default_heatmap_clip": "mine/ana-0/clip_000.mid"}}})
    proc = run_snakemake(run, "--configfile", str(config), "--", "pianist")
    assert proc.returncode == 0, proc.stdout[-6000:]
    table = pd.read_csv(run / "results/demo/pianist/claims.csv", comment="#")
    verdicts = dict(zip(table.claim, table.verdict))
    assert [v for c, v in verdicts.items() if "planted" in c] == [NOT_APPLICABLE, NOT_APPLICABLE]
    assert all(v in ("pass", "fail", "uninformative") for c, v in verdicts.items()
               if "planted" not in c and c in set(table[table.kind == "claim"].claim))
    assert sorted(p.name for p in (run / "results/demo/pianist/lime/figures").glob("[!.]*")) == ["ana", "ben"]


@pytest.mark.workflow
def test_a_demo_heatmap_clip_on_a_users_folder_stops_before_training_naming_the_key(tmp_path):
    folder = user_folder(tmp_path / "mine", tracks=3, clips=1)
    run = tmp_path / "run"
    run.mkdir()
    config = small_config(tmp_path / "my.yaml", {"user_data": {"path": str(folder), "splits": "tables"}})
    proc = run_snakemake(run, "--configfile", str(config), "--", "pianist")
    assert proc.returncode != 0
    assert "config: pianist.tcav.demo.default_heatmap_clip names clip 'synth/cleo-track08/clip_000.mid'" in proc.stdout
    assert not (run / "data/demo/pianist").exists() and not (run / "results/demo/pianist/models").exists()


@pytest.mark.workflow
def test_music21_target_runs_the_study_on_real_music_beside_the_synthetic_demo(tmp_path):
    """`snakemake pianist_music21` on a reduced corpus (2 pieces to train per composer, 2
    clips each, one epoch): the claims that need no planted truth are decided, the planted
    ones are not applicable, the figures are copied up, and the synthetic demo's results
    are not touched. (Its verdicts at full size: docs/your-data/pianist.md.)"""
    run = tmp_path / "run"
    run.mkdir()
    config = small_config(tmp_path / "small.yaml", {"music21": {
        "composers": ["bach", "mozart"], "pieces_per_composer": 4, "clips_per_piece": 2, "seconds_per_quarter": 0.5,
        "velocity": 80, "n_validation": 1, "n_test": 1, "seed": 0}})
    proc = run_snakemake(run, "--configfile", str(config), "--", "pianist_music21")
    assert proc.returncode == 0, proc.stdout[-6000:]
    out = run / "results/demo/pianist_music21"
    table = pd.read_csv(out / "claims.csv", comment="#")
    claims_ = table[table.kind == "claim"]
    planted = claims_.claim.str.contains("planted")
    assert (claims_[planted].verdict == NOT_APPLICABLE).all() and planted.sum() == 2
    assert claims_[~planted].verdict.isin(["pass", "fail", "uninformative"]).all() and (~planted).sum() == 3
    figures = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert {"fig_tcav_sign_counts.png", "fig_performer_correlation.png"} <= set(figures)
    assert any(f.startswith("lime_bach_") for f in figures) and any(f.startswith("kernel_") for f in figures)
    assert not (run / "results/demo/pianist").exists() and not (run / "data/demo/pianist").exists()
