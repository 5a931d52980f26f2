"""Data of the esc50 study: the demo generator, the loader, bad inputs, the paper archive."""

import zipfile

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from xairepro.common.errors import ConfigError, InputError
from xairepro.esc50.data import (
    N_BINS, check_esc50_archive, extract_archive, fetch_paper_dataset, load_clip, load_split, log_spectrogram,
    planted_mask, read_meta, read_planted, resynthesise, write_demo_dataset,
)
from xairepro.esc50.models import LogMel, to_image


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("esc50")
    write_demo_dataset(root, n_classes=3, clips_per_fold=1, seed=0)
    return root


def test_demo_folder_has_the_esc50_layout(demo):
    meta = read_meta(demo)
    assert list(meta.columns) == ["filename", "fold", "target", "category", "esc10", "src_file", "take"]
    assert len(meta) == 3 * 5 and sorted(meta["fold"].unique()) == [1, 2, 3, 4, 5]
    for row in meta.itertuples():
        fold, _, _, target = row.filename[:-4].split("-")
        assert int(fold) == row.fold and int(target) == row.target
        info = sf.info(demo / "audio" / row.filename)
        assert info.samplerate == 16000 and info.frames == 80000


def test_planted_box_holds_the_thresholded_input(demo):
    waves, targets, names = load_split(demo, [1, 2, 3, 4, 5], 16000)
    X, _ = log_spectrogram(torch.from_numpy(waves), 16000)
    boxes = read_planted(demo)
    for x, name in zip(X, names):
        box = torch.from_numpy(planted_mask(*boxes.loc[name, ["t0", "t1", "f0", "f1"]], 16000))
        loud = x > 0.35 * x.max()  # the PIQ training target
        assert (loud & box).sum() >= 0.9 * loud.sum()
        assert x[box].mean() > 2 * x[~box].mean()


def test_loader_resamples_to_mono_peak_normalised(tmp_path):
    t = np.arange(44100 * 5) / 44100
    stereo = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.1 * np.sin(2 * np.pi * 440 * t)], 1)
    sf.write(tmp_path / "a.wav", stereo, 44100)
    x = load_clip(tmp_path / "a.wav", 16000)
    assert x.shape == (80000,) and x.dtype == np.float32
    assert np.abs(x).max() == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("sample_rate", [16000, 44100], ids=["16k", "44k1"])
def test_feature_shapes_of_a_5s_clip(sample_rate):
    waves = torch.randn(2, 5 * sample_rate)
    X, phase = log_spectrogram(waves, sample_rate)
    assert X.shape == phase.shape == (2, 431, N_BINS) == (2, 431, 513)
    assert (X >= 0).all()
    assert LogMel(sample_rate, 80)(X).shape == (2, 431, 80)
    assert to_image(X).shape == (2, 3, 224, 224)


def test_inverse_stft_with_original_phase_restores_the_clip():
    x = torch.randn(1, 80000) * 0.1
    X, phase = log_spectrogram(x, 16000)
    y = resynthesise(X, phase, 16000, 80000)
    assert torch.allclose(x, y, atol=1e-3)


def _wav_bytes(tmp_path):
    sf.write(tmp_path / "ok.wav", np.zeros(16000, np.float32), 16000, subtype="PCM_16")
    return (tmp_path / "ok.wav").read_bytes()


@pytest.mark.parametrize("kind", ["truncated", "empty", "not_audio", "header_only"])
def test_bad_wav_gives_input_error_naming_the_file(tmp_path, kind):
    good = _wav_bytes(tmp_path)
    bad = tmp_path / f"1-1-A-0_{kind}.wav"
    bad.write_bytes({"truncated": good[: len(good) // 2], "empty": b"", "not_audio": b"this is not audio" * 50,
                     "header_only": good[:12]}[kind])
    with pytest.raises(InputError) as err:
        load_clip(bad, 16000)
    assert str(bad) in str(err.value)


def test_bad_wav_in_a_split_names_the_file(tmp_path):
    write_demo_dataset(tmp_path, n_classes=2, clips_per_fold=1, seed=1)
    victim = tmp_path / "audio" / read_meta(tmp_path)["filename"].iloc[0]
    victim.write_bytes(victim.read_bytes()[:1000])
    with pytest.raises(InputError, match=victim.name):
        load_split(tmp_path, [1], 16000)


def _tiny_archive(tmp_path, extra=None):
    root = tmp_path / "src" / "ESC-50-master"
    write_demo_dataset(root, n_classes=2, clips_per_fold=1, seed=2)
    archive = tmp_path / "master.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(tmp_path / "src").as_posix())
        if extra:
            zf.writestr(extra, b"x")
    return archive


def test_paper_archive_is_extracted_into_the_esc50_layout(tmp_path):
    root = extract_archive(_tiny_archive(tmp_path), tmp_path / "paper")
    waves, targets, names = load_split(root, [5], 44100)
    assert waves.shape == (2, 5 * 44100) and set(targets) == {0, 1}
    assert isinstance(read_meta(root), pd.DataFrame)


def test_paper_archive_replaces_the_empty_folders_snakemake_makes_for_its_outputs(tmp_path):
    (tmp_path / "paper" / "meta").mkdir(parents=True)  # the folder of the rule's meta/esc50.csv
    root = extract_archive(_tiny_archive(tmp_path), tmp_path / "paper")
    assert (root / "meta" / "esc50.csv").exists()
    (tmp_path / "again" / "meta").mkdir(parents=True)
    (tmp_path / "again" / "meta" / "esc50.csv").write_text("kept")
    with pytest.raises(InputError, match="already exists"):
        extract_archive(_tiny_archive(tmp_path), tmp_path / "again")


def test_archive_member_escaping_the_folder_is_refused(tmp_path):
    archive = _tiny_archive(tmp_path, extra="../../evil.txt")
    with pytest.raises(InputError, match="outside"):
        extract_archive(archive, tmp_path / "paper")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()


def test_malformed_checksum_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="checksum"):
        fetch_paper_dataset(tmp_path / "master.zip", tmp_path / "paper", "https://example.invalid/x.zip", "abc")


def test_archive_content_check_accepts_the_release_shape(tmp_path):
    archive = _tiny_archive(tmp_path)  # 2 classes x 1 clip x 5 folds
    check_esc50_archive(archive, {"clips": 10, "classes": 2, "per_class": 5, "folds": 5, "per_fold": 2})
    with pytest.raises(InputError, match="master.zip: meta/esc50.csv describes .*'clips': 10"):
        check_esc50_archive(archive)  # not the 2000-clip release


def test_archive_missing_a_listed_clip_is_refused(tmp_path):
    archive = _tiny_archive(tmp_path)
    with zipfile.ZipFile(archive) as zf:
        kept = [(i, zf.read(i)) for i in zf.infolist() if not i.filename.endswith("-1.wav")]
    archive.unlink()
    with zipfile.ZipFile(archive, "w") as zf:
        for info, data in kept:
            zf.writestr(info, data)
    with pytest.raises(InputError, match="lacks 5 clips"):
        check_esc50_archive(archive, {"clips": 10, "classes": 2, "per_class": 5, "folds": 5, "per_fold": 2})


def test_hand_placed_archive_without_checksum_is_checked_by_content(tmp_path):
    archive = _tiny_archive(tmp_path)
    with pytest.raises(InputError, match="describes"):  # the tiny archive is not the release
        fetch_paper_dataset(archive, tmp_path / "paper", "https://example.invalid/x.zip", None)
    assert archive.exists() and not (tmp_path / "paper").exists()


def test_archive_of_a_stated_shape_passes_the_same_content_check(tmp_path):
    archive = _tiny_archive(tmp_path)  # 2 classes x 5 clips, 5 folds x 2: the smoke run states it
    root = fetch_paper_dataset(archive, tmp_path / "paper", "https://example.invalid/x.zip", None,
                               {"clips": 10, "classes": 2, "folds": 5})
    assert (root / "meta" / "esc50.csv").exists()
    with pytest.raises(ConfigError, match="equal classes"):
        fetch_paper_dataset(archive, tmp_path / "other", "https://example.invalid/x.zip", None,
                            {"clips": 10, "classes": 3, "folds": 5})


def test_hand_placed_archive_with_matching_checksum_is_used(tmp_path):
    from xairepro.common.download import file_digest

    archive = _tiny_archive(tmp_path)
    root = fetch_paper_dataset(archive, tmp_path / "paper", "https://example.invalid/x.zip",
                               "sha256:" + file_digest(archive))
    assert (root / "meta" / "esc50.csv").exists()


def test_demo_generator_takes_one_clip_count_per_fold(tmp_path):
    write_demo_dataset(tmp_path, n_classes=2, clips_per_fold=[1, 1, 1, 1, 3], seed=0)
    assert read_meta(tmp_path).groupby("fold").size().tolist() == [2, 2, 2, 2, 6]
    with pytest.raises(ValueError, match="clips_per_fold"):
        write_demo_dataset(tmp_path / "bad", n_classes=2, clips_per_fold=[1, 1], seed=0)
