"""Every audio reader compares what it decoded with what the file declares (issue 18)."""

import numpy as np
import pytest
import soundfile as sf

from xairepro.common.audio import declared_wav_bytes, read_audio
from xairepro.common.errors import InputError
from xairepro.esc50.data import load_clip
from xairepro.lossgrad.data import check_covers_labels, read_audio as read_song

RATE = 44_100


def _write(path, seconds=3.0, **kwargs):
    samples = (0.1 * np.random.default_rng(0).normal(size=int(seconds * RATE))).astype(np.float32)
    sf.write(path, samples, RATE, **kwargs)
    return samples


def _cut(path, keep):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_a_whole_wav_reads_every_frame(tmp_path):
    path = tmp_path / "a.wav"
    samples = _write(path, subtype="FLOAT")
    audio, rate = read_audio(path)
    assert rate == RATE and audio.shape == (len(samples), 1)
    np.testing.assert_array_equal(audio[:, 0], samples)
    declared, present = declared_wav_bytes(path)
    assert declared == present == 4 * len(samples)


@pytest.mark.parametrize("keep", [0.5, 0.1], ids=["half", "tenth"])
@pytest.mark.parametrize("reader", [read_audio, read_song, lambda p: load_clip(p, 16_000)], ids=["common", "jamendo", "esc50"])
def test_a_truncated_wav_is_refused_by_every_reader(tmp_path, keep, reader):
    path = tmp_path / "cut.wav"
    _write(path, subtype="PCM_16")
    _cut(path, keep)
    assert sf.info(str(path)).frames < 3 * RATE  # libsndfile alone reads the short file happily
    with pytest.raises(InputError, match="truncated") as info:
        reader(path)
    assert str(info.value).startswith(str(path)) and "re-download" in str(info.value)


def test_a_truncated_flac_is_refused(tmp_path):
    path = tmp_path / "cut.flac"
    _write(path, format="FLAC")
    _cut(path, 0.5)
    with pytest.raises(InputError, match=str(path)):
        read_audio(path)


@pytest.mark.parametrize(
    "content, problem",
    [(b"", "empty"), (b"RIFF\x24\x00\x00\x00WAVEfmt ", "without a data chunk"), (b"not audio" * 40, "not readable")],
    ids=["empty", "header_only", "not_audio"],
)
def test_broken_files_name_the_file_and_the_problem(tmp_path, content, problem):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(InputError, match=problem) as info:
        read_audio(path)
    assert str(info.value).startswith(str(path))


def test_a_recording_shorter_than_its_labels_is_truncated(tmp_path):
    segments = [(0.0, 4.0, False), (4.0, 10.0, True)]
    check_covers_labels(tmp_path / "song.ogg", 9.5, segments)  # within the slack: decoder padding
    with pytest.raises(InputError, match=r"lasts 5.0 s but its labels run to 10.0 s"):
        check_covers_labels(tmp_path / "song.ogg", 5.0, segments)
