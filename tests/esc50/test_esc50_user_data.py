"""esc50 on a user's own ESC-50-format folder: the checks, the import, the claims, one DAG run."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml

from xairepro.common.claims import NOT_APPLICABLE
from xairepro.common.errors import ConfigError, InputError
from xairepro.esc50.tables import claims
from xairepro.esc50.user_data import check_user_dataset, import_user_dataset

ROOT = Path(__file__).resolve().parents[2]
FOLDS = {"train": [1, 2, 3], "valid": [4], "test": [5]}


def write_folder(root: Path, per_fold: int = 1, classes: tuple[str, ...] = ("dog", "rain")) -> Path:
    """An ESC-50-format folder: ``per_fold`` 0.5 s clips of each class in each of folds 1..5."""
    (root / "audio").mkdir(parents=True)
    (root / "meta").mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for target, category in enumerate(classes):
        for fold in range(1, 6):
            for take in range(per_fold):
                name = f"{fold}-{target}{take}-A-{target}.wav"
                sf.write(root / "audio" / name, rng.normal(0, 0.1, 8000).astype(np.float32), 16000)
                rows.append({"filename": name, "fold": fold, "target": target, "category": category,
                             "esc10": False, "src_file": target, "take": "A"})
    pd.DataFrame(rows).to_csv(root / "meta" / "esc50.csv", index=False)
    return root


def imported(tmp_path, folder, folds=FOLDS):
    out = tmp_path / "data" / "demo" / "esc50_user"
    return import_user_dataset(folder, out / "meta" / "esc50.csv", out / "audio", folds), out


def test_user_folder_is_imported_in_the_esc50_layout(tmp_path):
    folder = write_folder(tmp_path / "mine")
    rows, out = imported(tmp_path, folder)
    assert len(rows) == 10
    meta = pd.read_csv(out / "meta" / "esc50.csv")
    assert list(meta["filename"]) == list(rows["filename"]) and set(meta["category"]) == {"dog", "rain"}
    assert sorted(p.name for p in (out / "audio").iterdir()) == sorted(meta["filename"])
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_clips_outside_the_configured_folds_are_not_imported(tmp_path):
    folder = write_folder(tmp_path / "mine")
    rows, out = imported(tmp_path, folder, {"train": [1, 2], "valid": [3], "test": [4]})
    assert set(rows["fold"]) == {1, 2, 3, 4} and len(list((out / "audio").iterdir())) == 8


def _drop_meta(folder):
    (folder / "meta" / "esc50.csv").unlink()


def _one_clip_class(folder):
    meta = pd.read_csv(folder / "meta" / "esc50.csv")
    meta.loc[len(meta)] = {"filename": "5-99-A-2.wav", "fold": 5, "target": 2, "category": "bird",
                           "esc10": False, "src_file": 99, "take": "A"}
    sf.write(folder / "audio" / "5-99-A-2.wav", np.zeros(8000, np.float32), 16000)
    meta.to_csv(folder / "meta" / "esc50.csv", index=False)


def _empty_table(folder):
    (folder / "meta" / "esc50.csv").write_text("filename,fold,target,category\n")


def _unreadable_clip(folder):
    (folder / "audio" / "5-10-A-1.wav").write_bytes(b"not audio at all")


def _missing_clip(folder):
    (folder / "audio" / "5-10-A-1.wav").unlink()


def _gap_in_targets(folder):
    meta = pd.read_csv(folder / "meta" / "esc50.csv")
    meta.loc[meta["target"] == 1, "target"] = 3
    meta.to_csv(folder / "meta" / "esc50.csv", index=False)


def _escaping_name(folder):
    meta = pd.read_csv(folder / "meta" / "esc50.csv")
    meta.loc[0, "filename"] = "../../outside.wav"
    meta.to_csv(folder / "meta" / "esc50.csv", index=False)


def _no_category(folder):
    meta = pd.read_csv(folder / "meta" / "esc50.csv")
    meta.drop(columns="category").to_csv(folder / "meta" / "esc50.csv", index=False)


@pytest.mark.parametrize("spoil, message", [
    (_drop_meta, r"meta/esc50.csv: missing: the clips' table"),
    (_one_clip_class, r"class 2 \(bird\) has 1 clip\(s\) in all and 0 in the train folds \[1, 2, 3\]; each class "
                      r"needs at least 1 in each of the train, valid and test folds"),
    (_empty_table, r"meta/esc50.csv: lists no clips"),
    (_unreadable_clip, r"5-10-A-1.wav: "),
    (_missing_clip, r"5-10-A-1.wav: missing: listed in meta/esc50.csv"),
    (_gap_in_targets, r"targets must be 0..K-1 with K >= 2 classes, found \[0, 3\]"),
    (_no_category, r"lacks the columns \['category'\]"),
    (_escaping_name, r"row 2: filename '../../outside.wav' is not a path inside audio/"),
], ids=["missing-table", "one-clip-class", "empty-table", "unreadable-clip", "missing-clip", "target-gap",
        "no-category", "escaping-name"])
def test_bad_folder_stops_with_one_message_and_no_output(tmp_path, spoil, message):
    folder = write_folder(tmp_path / "mine")
    spoil(folder)
    with pytest.raises(InputError, match=message):
        imported(tmp_path, folder)
    assert not (tmp_path / "data").exists()


def test_empty_folder_stops_naming_the_table(tmp_path):
    (tmp_path / "mine").mkdir()
    with pytest.raises(InputError, match=r"mine/meta/esc50.csv: missing"):
        imported(tmp_path, tmp_path / "mine")
    assert not (tmp_path / "data").exists()


def test_missing_folder_names_the_config_key(tmp_path):
    with pytest.raises(InputError, match=r"not a folder \(config esc50.user_data.path\)"):
        check_user_dataset(tmp_path / "nowhere", FOLDS)


def test_configured_fold_absent_from_the_data_names_the_config_key(tmp_path):
    folder = write_folder(tmp_path / "mine")
    meta = pd.read_csv(folder / "meta" / "esc50.csv")
    meta[meta["fold"] != 4].to_csv(folder / "meta" / "esc50.csv", index=False)
    with pytest.raises(ConfigError, match=r"esc50.classify.valid_folds lists fold 4"):
        check_user_dataset(folder, FOLDS)


def test_planted_claims_are_not_applicable_on_user_data():
    n = 40
    clips = pd.DataFrame({"method": "piq", "arch": "conv2d", "target": np.arange(n) % 4,
                          "fidelity_to_input": np.r_[np.ones(30), np.zeros(10)],
                          "control_fidelity_to_input": np.r_[np.ones(10), np.zeros(30)]})
    accuracy = pd.DataFrame([{"arch": "conv2d", "n_classes": 4, "n_test": n, "test_correct": 35,
                              "randomised_test_correct": 9, "test_accuracy": 87.5, "randomised_test_accuracy": 22.5}])
    table = claims(clips, accuracy, None, "demo", user_data=True).set_index("claim")
    assert table.loc["piq (conv2d) mask localises the planted region", "verdict"] == NOT_APPLICABLE
    assert table.loc["overlap test: PIQ (conv2d) mask denser on the source's planted region than on the noise's",
                     "verdict"] == NOT_APPLICABLE
    assert table.loc["piq (conv2d) fidelity-to-input above chance", "verdict"] == "pass"
    assert table.loc["conv2d classifier above chance on your classes", "verdict"] == "pass"
    assert not table.index.str.contains("README|recipe").any()  # ESC-50's published numbers


@pytest.mark.workflow
def test_esc50_runs_on_a_user_folder(tmp_path):
    """The whole esc50 DAG, from a small folder the test writes (the demo's generator, its
    planted boxes deleted: what a user's recordings look like to the workflow)."""
    from xairepro.esc50.data import write_demo_dataset

    folder = tmp_path / "my_sounds"
    write_demo_dataset(folder, n_classes=2, clips_per_fold=[2, 2, 2, 2, 6], seed=3)
    (folder / "meta" / "planted.csv").unlink()
    small = {"number_of_epochs": 2}
    config = {"esc50": {"user_data": {"path": str(folder)}, "classify": {"archs": ["conv2d"], "demo": {"conv2d": {"number_of_epochs": 3}}},
                        "amt": {"archs": []}, "piq": {"demo": small}, "l2i": {"demo": {"number_of_epochs": 1}},
                        "nmf": {"demo": {"number_of_epochs": 1}}}}
    (tmp_path / "my.yaml").write_text(yaml.safe_dump(config))
    run = tmp_path / "run"
    run.mkdir()
    snakemake = Path(sys.executable).parent / "snakemake"
    proc = subprocess.run([str(snakemake), "-s", str(ROOT / "Snakefile"), "--directory", str(run), "--cores", "2",
                           "--configfile", str(tmp_path / "my.yaml"), "--", "esc50"],
                          env=dict(os.environ, XAIREPRO_PROGRESS="0"), text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=900)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert not (run / "data" / "demo" / "esc50").exists()  # the demo generator never ran
    assert (run / "data" / "demo" / "esc50_user" / "meta" / "esc50.csv").is_file()
    table = pd.read_csv(run / "results" / "demo" / "esc50" / "claims.csv", comment="#").set_index("claim")
    assert table.loc["piq (conv2d) mask localises the planted region", "verdict"] == NOT_APPLICABLE
    assert table.loc["conv2d classifier above chance on your classes", "verdict"] in ("pass", "fail", "uninformative")
    assert (run / "results" / "demo" / "esc50" / "fig_clips_piq_conv2d.png").is_file()
