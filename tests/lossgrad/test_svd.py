"""The singing-voice half of lossgrad: demo corpus, Jamendo loader, features, model, gradients."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import soundfile as sf
import torch

from xairepro.common.errors import InputError, XaiReproError
from xairepro.lossgrad.data import (
    BLOCKLEN,
    FPS,
    HOP,
    MEL_BANDS,
    SAMPLE_RATE,
    ExcerptSet,
    LogMel,
    compute_spectrograms,
    extract_jamendo,
    frame_labels,
    generate_song,
    read_audio,
    read_lab,
    write_demo_corpus,
    write_lab,
)
from xairepro.lossgrad.explain import SVDLossGradient
from xairepro.lossgrad.models import PAPER_ARCH, SVDNet, soft_targets

TINY_ARCH = {"conv1": 2, "conv2": 2, "conv3": 3, "conv4": 2, "fc1": 4, "fc2": 3}


def _write_tiny_corpus(root, files):
    """``files``: {name: (audio, rate, segments, split)} -> a Jamendo-layout corpus."""
    for sub in ("audio", "labels", "filelists"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    lists = {"train": [], "valid": [], "test": []}
    for name, (audio, rate, segments, split) in files.items():
        sf.write(root / "audio" / name, audio, rate)
        write_lab(root / "labels" / f"{name.rsplit('.', 1)[0]}.lab", segments)
        lists[split].append(name)
    for split, names in lists.items():
        (root / "filelists" / split).write_text("\n".join(names) + "\n")
    return root


def test_frame_hop_and_rate_are_the_originals():
    assert HOP == 315 and SAMPLE_RATE / HOP == FPS == 70


def test_generated_voice_sounds_exactly_where_the_labels_say_sing():
    rng = np.random.default_rng(3)
    audio, segments = generate_song(rng, duration=12.0)
    assert audio.dtype == np.float32 and len(audio) == 12 * SAMPLE_RATE and np.abs(audio).max() <= 1
    assert segments[0][0] == 0 and segments[-1][1] == 12.0
    assert any(s for *_, s in segments) and not all(s for *_, s in segments)
    spect = LogMel()(audio)
    labels = frame_labels(segments, len(spect), FPS)
    # the formant region (about 250-3000 Hz in mel bands) carries more energy when sung
    band = spect[:, 25:65].mean(axis=1)
    assert band[labels == 1].mean() > band[labels == 0].mean() + 0.3


def test_generated_voice_has_vibrato():
    """A sung stretch alone: its strongest partial's frequency wobbles at 5-7 Hz."""
    from xairepro.lossgrad import data

    rng = np.random.default_rng(0)
    voice = data._voice(rng, 2 * SAMPLE_RATE, SAMPLE_RATE)
    spectrum = np.abs(np.fft.rfft(voice * np.hanning(len(voice))))
    peak = np.argmax(spectrum)
    # a vibrato of 2-4 % spreads the partial over many 0.5 Hz bins instead of one
    assert (spectrum > 0.3 * spectrum[peak]).sum() > 5


def test_lab_round_trip_and_frame_labels(tmp_path):
    segments = [(0.0, 1.0, False), (1.0, 2.5, True), (2.5, 3.0, False)]
    write_lab(tmp_path / "a.lab", segments)
    assert read_lab(tmp_path / "a.lab") == segments
    labels = frame_labels(segments, 3 * FPS, FPS)
    assert labels[:FPS].sum() == 0 and labels[FPS:int(2.5 * FPS)].all() and labels[int(2.5 * FPS):].sum() == 0


def test_malformed_lab_names_the_file(tmp_path):
    (tmp_path / "bad.lab").write_text("0.0 1.0 singing\n")
    with pytest.raises(InputError, match="bad.lab"):
        read_lab(tmp_path / "bad.lab")


def test_loader_reads_a_tiny_corpus(tmp_path):
    t = np.arange(2 * 44100) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 0.5
    mono = np.sin(2 * np.pi * 1000 * np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE) * 0.5
    root = _write_tiny_corpus(tmp_path / "jamendo", {
        "a.wav": (stereo, 44100, [(0.0, 1.0, True), (1.0, 2.0, False)], "train"),
        "b.flac": (mono, SAMPLE_RATE, [(0.0, 3.0, False)], "train"),
        "c.wav": (mono[:SAMPLE_RATE], SAMPLE_RATE, [(0.0, 1.0, True)], "valid"),
        "d.ogg": (mono, SAMPLE_RATE, [(0.0, 1.5, False), (1.5, 3.0, True)], "test"),
    })
    assert len(read_audio(root / "audio" / "a.wav")) == 2 * SAMPLE_RATE  # resampled from 44.1 kHz
    arrays = compute_spectrograms(root)
    frames = lambda n: 1 + n // HOP  # noqa: E731  (centred frames)
    assert arrays["train_offsets"].tolist() == [0, frames(2 * SAMPLE_RATE), frames(2 * SAMPLE_RATE) + frames(3 * SAMPLE_RATE)]
    assert arrays["train_spect"].shape == (arrays["train_offsets"][-1], MEL_BANDS)
    assert arrays["train_names"].tolist() == ["a.wav", "b.flac"]
    first = arrays["train_labels"][:frames(2 * SAMPLE_RATE)]
    assert first[:FPS].all() and not first[FPS + 1:].any()
    assert arrays["test_labels"][int(1.5 * FPS) + 1:-1].all()  # the last frame sits at 3.0 s, the end
    assert np.isfinite(arrays["valid_spect"]).all() and arrays["valid_spect"].min() >= np.log(1e-7) - 1e-6


def test_truncated_wav_is_an_input_error_naming_the_file(tmp_path):
    audio = np.zeros(SAMPLE_RATE, dtype=np.float32)
    sf.write(tmp_path / "song.wav", audio, SAMPLE_RATE)
    (tmp_path / "cut.wav").write_bytes((tmp_path / "song.wav").read_bytes()[:30])
    (tmp_path / "junk.wav").write_bytes(b"not a wav file at all" * 10)
    for name in ("cut.wav", "junk.wav"):
        with pytest.raises(InputError, match=name):
            read_audio(tmp_path / name)


def test_a_corpus_with_a_song_cut_short_stops_naming_it(tmp_path):
    """The review's case: a WAV cut to half its length used to run through with exit 0; an
    Ogg file, whose header declares no length, is caught by its labels running past its end."""
    mono = np.sin(2 * np.pi * 440 * np.arange(4 * SAMPLE_RATE) / SAMPLE_RATE) * 0.5
    labels = [(0.0, 2.0, False), (2.0, 4.0, True)]
    root = _write_tiny_corpus(tmp_path / "jamendo", {
        "a.wav": (mono, SAMPLE_RATE, labels, "train"), "b.ogg": (mono, SAMPLE_RATE, labels, "valid"),
        "c.wav": (mono, SAMPLE_RATE, labels, "test"),
    })
    compute_spectrograms(root)  # whole: reads
    song = root / "audio" / "a.wav"
    song.write_bytes(song.read_bytes()[: song.stat().st_size // 2])
    with pytest.raises(InputError, match="a.wav: is truncated"):
        compute_spectrograms(root)
    song.unlink()
    sf.write(song, mono, SAMPLE_RATE)
    sf.write(root / "audio" / "b.ogg", mono[: SAMPLE_RATE], SAMPLE_RATE)  # a whole file, 3 s too short
    with pytest.raises(InputError, match=r"b.ogg: is truncated: it lasts 1.0 s but its labels run to 4.0 s"):
        compute_spectrograms(root)


def test_log_mel_puts_a_tone_in_its_band():
    tone = np.sin(2 * np.pi * 1000 * np.arange(SAMPLE_RATE) / SAMPLE_RATE).astype(np.float32)
    spect = LogMel()(tone)
    assert spect.shape == (1 + SAMPLE_RATE // HOP, MEL_BANDS)
    mel = lambda f: 2595 * np.log10(1 + f / 700)  # noqa: E731  (HTK)
    edges = np.linspace(mel(27.5), mel(8000), MEL_BANDS + 2)
    expected = np.argmin(np.abs(edges[1:-1] - mel(1000)))
    assert abs(int(np.argmax(spect[FPS // 2])) - expected) <= 1
    silent = LogMel()(np.zeros(SAMPLE_RATE, dtype=np.float32))
    assert np.allclose(silent, np.log(1e-7))


def test_excerpts_are_centred_on_their_frame_and_padded_per_file():
    rng = np.random.default_rng(0)
    spect = rng.normal(size=(50, MEL_BANDS)).astype(np.float32)
    offsets = np.array([0, 20, 50])
    mean, std = spect.mean(0), spect.std(0)
    excerpts = ExcerptSet(spect, offsets, mean, std)
    assert len(excerpts) == 50
    batch = excerpts.get(torch.tensor([0, 19, 20, 49]))
    assert batch.shape == (4, 1, BLOCKLEN, MEL_BANDS)
    norm = (spect - mean) / std
    centre = BLOCKLEN // 2
    for row, frame in enumerate([0, 19, 20, 49]):
        np.testing.assert_allclose(batch[row, 0, centre].numpy(), norm[frame], rtol=1e-6)
    assert (batch[0, 0, :centre] == 0).all()  # padding before file 1
    assert (batch[1, 0, centre + 1:] == 0).all()  # frame 19 is the last of file 1: no frames of file 2
    subset, keep = excerpts.every(6)
    assert keep.tolist() == [0, 6, 12, 18, 20, 26, 32, 38, 44] and subset.offsets.tolist() == [0, 4, 9]
    torch.testing.assert_close(subset.get(torch.tensor([4])), excerpts.get(torch.tensor([20])))


def test_svd_net_shapes_and_original_widths():
    model = SVDNet(**TINY_ARCH).eval()
    out = model(torch.randn(3, 1, BLOCKLEN, MEL_BANDS))
    assert out.shape == (3,) and ((out > 0) & (out < 1)).all()
    paper = SVDNet(**PAPER_ARCH)
    assert paper.fc[0].in_features == 64 * 11 * 7
    torch.testing.assert_close(soft_targets(torch.tensor([0.0, 1.0])), torch.tensor([0.02, 0.98]))


def test_batched_loss_gradients_equal_the_per_excerpt_reference():
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    spect = rng.normal(size=(30, MEL_BANDS)).astype(np.float32)
    excerpts = ExcerptSet(spect, np.array([0, 12, 30]), spect.mean(0), spect.std(0))
    labels = (rng.random(30) > 0.5).astype(np.float32)
    model = SVDNet(**TINY_ARCH).eval()
    explainer = SVDLossGradient(model)
    batched = explainer.attribute(excerpts, target=labels, internal_batch_size=8)
    reference = explainer.attribute(excerpts, target=labels, internal_batch_size=1)
    assert batched.shape == (30, BLOCKLEN, MEL_BANDS)
    np.testing.assert_allclose(batched, reference, rtol=1e-4, atol=1e-9)
    # and the reference is autograd of that excerpt's own BCE
    x = excerpts.get(torch.tensor([5])).requires_grad_(True)
    loss = torch.nn.functional.binary_cross_entropy(model(x), torch.tensor([labels[5]]))
    loss.backward()
    np.testing.assert_allclose(reference[5], x.grad[0, 0].numpy(), rtol=1e-4, atol=1e-9)


def test_demo_corpus_has_the_jamendo_layout(tmp_path):
    lists = write_demo_corpus(tmp_path / "corpus", n_train=2, n_valid=1, n_test=1, duration=4.0, seed=0)
    root = tmp_path / "corpus"
    assert {k: len(v) for k, v in lists.items()} == {"train": 2, "valid": 1, "test": 1}
    for names in lists.values():
        for name in names:
            assert (root / "audio" / name).is_file() and (root / "labels" / name.replace(".wav", ".lab")).is_file()
    assert (root / "filelists" / "test").read_text().split() == lists["test"]


def test_paper_archive_needs_a_checksum_and_extracts_safely(tmp_path):
    corpus = write_demo_corpus(tmp_path / "src", n_train=1, n_valid=1, n_test=1, duration=4.0, seed=0)
    archive = tmp_path / "jamendo.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in (tmp_path / "src").rglob("*"):
            if path.is_file():
                zf.write(path, f"jamendo/{path.relative_to(tmp_path / 'src')}")
    with pytest.raises(XaiReproError, match="sha256"):
        extract_jamendo(archive, tmp_path / "out", None)
    with pytest.raises(InputError, match="checksum mismatch"):
        extract_jamendo(archive, tmp_path / "out", "sha256:" + "0" * 64)
    from xairepro.common.download import file_digest

    extract_jamendo(archive, tmp_path / "out", "sha256:" + file_digest(archive, "sha256"))
    assert (tmp_path / "out" / "filelists" / "train").read_text().split() == corpus["train"]


def test_paper_archive_is_verified_against_the_checksum_the_record_publishes(tmp_path):
    """A Zenodo-like record JSON and archive written by the test, reached through file:// URLs."""
    import json

    from xairepro.common.download import file_digest
    from xairepro.lossgrad.data import fetch_jamendo

    source = tmp_path / "jamando.zip"
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr("jamendo/filelists/train", "a.mp3\n")
    record = tmp_path / "record.json"
    record.write_text(json.dumps({"files": [{"key": "other.zip", "checksum": "md5:" + "0" * 32},
                                            {"key": "jamando.zip", "checksum": "md5:" + file_digest(source, "md5")}]}))
    archive, checksum = tmp_path / "data" / "jamendo.zip", tmp_path / "data" / "jamendo.zip.checksum"
    fetch_jamendo([source.as_uri()], archive, checksum, None, record_api=record.as_uri(), name="jamando.zip")
    assert archive.read_bytes() == source.read_bytes()
    assert checksum.read_text().strip() == "md5:" + file_digest(source, "md5")
    # a tampered record (or archive) fails, and leaves no archive behind
    record.write_text(json.dumps({"files": [{"key": "jamando.zip", "checksum": "md5:" + "1" * 32}]}))
    with pytest.raises(XaiReproError, match="could not download a verified copy"):
        fetch_jamendo([source.as_uri()], tmp_path / "again.zip", tmp_path / "again.checksum", None,
                      record_api=record.as_uri(), name="jamando.zip")
    assert not (tmp_path / "again.zip").exists()
    with pytest.raises(XaiReproError, match="no file named"):
        fetch_jamendo([source.as_uri()], tmp_path / "x.zip", tmp_path / "x.checksum", None,
                      record_api=record.as_uri(), name="missing.zip")


def test_svd_training_honours_the_smoke_batch_cap(tmp_path, monkeypatch):
    from xairepro.common import training
    from xairepro.common.io import save_arrays
    from xairepro.lossgrad import train as train_module

    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 150), ("valid", 60)):
        arrays[f"{split}_spect"] = rng.normal(size=(n, MEL_BANDS)).astype(np.float32)
        arrays[f"{split}_labels"] = (np.arange(n) % 2).astype(np.float32)
        arrays[f"{split}_offsets"] = np.array([0, n])
    save_arrays(tmp_path / "spects.npz", **arrays)
    save_arrays(tmp_path / "znorm.npz", mean=np.zeros(MEL_BANDS, np.float32), std=np.ones(MEL_BANDS, np.float32))
    steps = []
    loss = train_module.bce_per_excerpt
    monkeypatch.setattr(train_module, "bce_per_excerpt", lambda p, y: steps.append(p.requires_grad) or loss(p, y))

    def train(cap):
        steps.clear()
        training.set_batch_cap(cap)
        try:
            train_module.train_svd(tmp_path / "spects.npz", tmp_path / "znorm.npz", tmp_path / "m.pt", tmp_path / "m.json",
                                   tmp_path / "ckpt.pt", seed=0, epochs=1, batches_per_epoch=5, batch_size=4, lr=0.01,
                                   lr_decay=0.85, momentum=0.9, arch=TINY_ARCH, test_batch_size=64, device="cpu")
        finally:
            training.set_batch_cap(None)
        return sum(steps)  # training steps: the losses that carry a gradient

    assert train(None) == 5
    assert train(2) == 2


def test_svd_occlusion_writes_the_dataset_min_and_custom_values(tmp_path):
    """Occluding all 115 x 80 bins leaves one constant excerpt: 0 for dataset_min (the
    original's SVD default) and replacement_value for custom, so every excerpt's loss is the
    BCE of the model's prediction for that constant excerpt."""
    from xairepro.common.io import save_arrays, save_torch
    from xairepro.lossgrad.steps import svd_occlusion
    from xairepro.lossgrad.train import load_svd_model, predict_frames

    rng = np.random.default_rng(0)
    spect = rng.normal(size=(20, MEL_BANDS)).astype(np.float32)
    labels = (rng.random(20) > 0.5).astype(np.float32)
    offsets = np.array([0, 8, 20])
    save_arrays(tmp_path / "spects.npz", test_spect=spect, test_labels=labels, test_offsets=offsets)
    save_arrays(tmp_path / "znorm.npz", mean=spect.mean(0), std=spect.std(0))
    torch.manual_seed(0)
    model = SVDNet(**TINY_ARCH).eval()
    save_torch(tmp_path / "svd.pt", {"state_dict": model.state_dict(), "blocklen": BLOCKLEN,
                                     "mel_bands": MEL_BANDS, "arch": dict(TINY_ARCH)})
    grads = rng.normal(size=(20, BLOCKLEN, MEL_BANDS)).astype(np.float32)
    save_arrays(tmp_path / "grads.npz", grads=grads, frames=np.arange(20), labels=labels, control_grads=grads)
    excerpts = ExcerptSet(spect, offsets, spect.mean(0), spect.std(0))
    clean = predict_frames(load_svd_model(tmp_path / "svd.pt"), excerpts, batch_size=8)
    save_arrays(tmp_path / "preds.npz", threshold=np.float64(0.5), test_raw=clean)
    _, items = svd_occlusion(
        tmp_path / "spects.npz", tmp_path / "znorm.npz", tmp_path / "svd.pt", tmp_path / "grads.npz",
        tmp_path / "preds.npz", seed=0, attribution_methods=["abs_inp"], replacement_types=["dataset_min", "custom"],
        replacement_value=0.75, roar=[1], occlude_levels=[BLOCKLEN * MEL_BANDS], median_filter=1, test_batch_size=8)
    names = list(items["conditions"])
    losses = []
    for replacement, value in (("dataset_min", 0.0), ("custom", 0.75)):
        with torch.no_grad():
            p = model(torch.full((1, 1, BLOCKLEN, MEL_BANDS), value)).double().clamp(1e-7, 1 - 1e-7)
        expected = torch.nn.functional.binary_cross_entropy(p.expand(20), torch.from_numpy(labels).double(),
                                                            reduction="none").numpy()
        loss = items["loss"][names.index(f"abs_inp|{replacement}|1|{BLOCKLEN * MEL_BANDS}")]
        np.testing.assert_allclose(loss, expected, rtol=1e-4)
        losses.append(loss)
    assert not np.allclose(*losses)  # the two constants are told apart
