"""Data of the ``lossgrad`` study: MNIST, the singing-voice corpus and its features.

MNIST: both scales end in the same file, ``mnist.npz``, with arrays ``train_x``/``test_x``
(uint8, ``(N, 28, 28)``, 0-255 ink), ``train_y``/``test_y`` (int64) and the normalisation
statistics ``mean``/``std`` of the training pixels scaled to [0, 1].

* demo: :func:`make_demo_digits` upsamples scikit-learn's 1,797 8x8 digits (shipped with
  the package, no network) to 20x20 and centres them in 28x28 like MNIST's 20x20 boxes.
* paper: :func:`read_mnist_raw` reads the four IDX files that the download rule fetched
  (URLs and md5 sums from torchvision's table) with torchvision's own readers.

Singing voice: both scales share the Jamendo folder layout::

    <root>/audio/<name>.<ext>          mono or stereo audio (any rate; resampled to 22,050 Hz)
    <root>/labels/<stem>.lab           lines ``start end sing|nosing`` in seconds
    <root>/filelists/{train,valid,test}   one audio file name per line

* demo: :func:`write_demo_corpus` synthesises "songs": a chord bed (harmonic tones without
  vibrato), a kick/hi-hat pattern, and sung segments (a harmonic voice with 5-7 Hz vibrato
  whose partials are shaped by vowel formants). The ``.lab`` files are the planted truth.
* paper: the Jamendo corpus of Zenodo record 2585988, read by the same functions.

Features follow Schlüter & Grill (ISMIR 2015) as used by the original study: 22,050 Hz
audio, frames of 1024 samples at 70 fps (hop 315), magnitude STFT, 80 mel bands from 27.5
to 8000 Hz (torchaudio's HTK-scale filterbank), ``log(max(x, 1e-7))``, then each band
z-normalised with the training set's mean and standard deviation. Each frame gets the
excerpt of 115 frames centred on it: the normalised spectrogram is padded with 57 frames of
zeros (the training mean) on each side.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from xairepro.common.errors import InputError, XaiReproError
from xairepro.common.io import atomic_path, load_arrays

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- MNIST
ARRAYS = ("train_x", "train_y", "test_x", "test_y", "mean", "std")

#: The IDX files of MNIST, uncompressed name -> split and kind.
RAW_FILES = {
    "train-images-idx3-ubyte": ("train", "x"),
    "train-labels-idx1-ubyte": ("train", "y"),
    "t10k-images-idx3-ubyte": ("test", "x"),
    "t10k-labels-idx1-ubyte": ("test", "y"),
}


def mnist_resources(mirrors: list[str] | None = None, md5: dict[str, str] | None = None
                    ) -> dict[str, dict[str, object]]:
    """``{file.gz: {"urls": [...], "checksum": "md5:..."}}`` of the four MNIST archives.

    Parameters
    ----------
    mirrors
        Base URLs (each ending in ``/``) tried in order for every file; ``None`` takes
        torchvision's MNIST mirrors (config ``lossgrad.mnist.mirrors``).
    md5
        ``{file.gz: md5 hex}`` of the four archives; ``None`` takes torchvision's table
        (config ``lossgrad.mnist.md5``). A file missing from it is an error naming it.
    """
    from torchvision.datasets import MNIST

    mirrors = list(MNIST.mirrors) if mirrors is None else list(mirrors)
    sums = dict(MNIST.resources) if md5 is None else dict(md5)
    names = [name for name, _ in MNIST.resources]
    missing = [name for name in names if name not in sums]
    if missing:
        raise XaiReproError(f"config lossgrad.mnist.md5 has no checksum for {', '.join(missing)}")
    return {name: {"urls": [mirror + name for mirror in mirrors], "checksum": f"md5:{sums[name]}"} for name in names}


def make_demo_digits(seed: int = 0, test_fraction: float = 0.25) -> dict[str, np.ndarray]:
    """scikit-learn's digits as MNIST-shaped images, split stratified into train and test.

    Parameters
    ----------
    seed
        Seed of the stratified split.
    test_fraction
        Share of each class that goes to the test split.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = torch.from_numpy(digits.images.astype(np.float32) / 16.0).unsqueeze(1)  # (N, 1, 8, 8)
    boxes = torch.nn.functional.interpolate(images, size=(20, 20), mode="bilinear", align_corners=False)
    canvas = torch.nn.functional.pad(boxes, (4, 4, 4, 4)).squeeze(1).clamp(0, 1)  # (N, 28, 28)
    pixels = np.rint(canvas.numpy() * 255).astype(np.uint8)
    labels = digits.target.astype(np.int64)
    train_x, test_x, train_y, test_y = train_test_split(
        pixels, labels, test_size=test_fraction, random_state=seed, stratify=labels
    )
    return _with_stats(train_x, train_y, test_x, test_y)


def _with_stats(train_x, train_y, test_x, test_y) -> dict[str, np.ndarray]:
    scaled = train_x.astype(np.float64) / 255.0
    return {
        "train_x": train_x,
        "train_y": train_y,
        "test_x": test_x,
        "test_y": test_y,
        "mean": np.array(scaled.mean(), dtype=np.float32),
        "std": np.array(scaled.std(), dtype=np.float32),
    }


def read_mnist_raw(raw_dir: str | Path) -> dict[str, np.ndarray]:
    """Read the four uncompressed MNIST IDX files in ``raw_dir`` with torchvision's readers.

    A missing, truncated or foreign file raises :class:`InputError` naming it.
    """
    from torchvision.datasets.mnist import read_image_file, read_label_file

    raw_dir = Path(raw_dir)
    parts: dict[str, np.ndarray] = {}
    for name, (split, kind) in RAW_FILES.items():
        path = raw_dir / name
        if not path.is_file():
            raise InputError(path, "MNIST file not found", "run the download rule or place the file there")
        try:
            tensor = read_image_file(str(path)) if kind == "x" else read_label_file(str(path))
        except Exception as exc:  # torchvision asserts on magic numbers and shapes
            raise InputError(path, f"not a readable MNIST IDX file ({type(exc).__name__}: {exc})") from exc
        parts[f"{split}_{kind}"] = tensor.numpy().astype(np.uint8 if kind == "x" else np.int64)
    for split in ("train", "test"):
        if len(parts[f"{split}_x"]) != len(parts[f"{split}_y"]):
            raise InputError(raw_dir, f"{split} images and labels differ in count")
        if parts[f"{split}_x"].shape[1:] != (28, 28):
            raise InputError(raw_dir, f"{split} images are {parts[f'{split}_x'].shape[1:]}, expected (28, 28)")
    return _with_stats(parts["train_x"], parts["train_y"], parts["test_x"], parts["test_y"])


def load_split(
    path: str | Path, split: str, num_classes: int, limit: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised images ``(N, 1, 28, 28)`` and labels ``(N,)`` of one split, labels < num_classes.

    ``limit`` keeps the first ``limit`` samples after filtering (``None``: all).
    """
    arrays = load_arrays(path, required=ARRAYS)
    x, y = arrays[f"{split}_x"], arrays[f"{split}_y"]
    keep = y < num_classes
    x, y = x[keep], y[keep]
    if limit is not None:
        x, y = x[:limit], y[:limit]
    images = (torch.from_numpy(x.astype(np.float32) / 255.0) - float(arrays["mean"])) / float(arrays["std"])
    return images.unsqueeze(1), torch.from_numpy(y.astype(np.int64))


def black_pixel(path: str | Path) -> float:
    """The normalised value of a black pixel, ``-mean / std``: the data set's minimum (MNIST's
    and the demo digits' darkest pixel is 0), the original's ``dataset_min`` replacement
    (there the constant -0.1307/0.3081)."""
    arrays = load_arrays(path, required=("mean", "std"))
    return -float(arrays["mean"]) / float(arrays["std"])


# --------------------------------------------------------------------------- singing voice
SAMPLE_RATE = 22050
SPLITS = ("train", "valid", "test")

#: Formant centre frequencies and bandwidths (Hz) of five vowels, (F1, F2, F3).
VOWELS = (
    ((730, 1090, 2440), (80, 90, 120)),   # a
    ((530, 1840, 2480), (60, 100, 120)),  # e
    ((270, 2290, 3010), (60, 90, 100)),   # i
    ((570, 840, 2410), (60, 80, 120)),    # o
    ((300, 870, 2240), (60, 80, 100)),    # u
)


# --------------------------------------------------------------------------- singing voice: demo corpus
def _segments(rng: np.random.Generator, duration: float) -> list[tuple[float, float, bool]]:
    """Alternating nosing/sing segments of 1.5-4 s covering ``[0, duration]``."""
    segments, t, sing = [], 0.0, bool(rng.integers(2))
    while t < duration:
        end = min(duration, t + float(rng.uniform(1.5, 4.0)))
        if duration - end < 1.0:
            end = duration
        segments.append((round(t, 3), round(end, 3), sing))
        t, sing = end, not sing
    return segments


def _formant_gain(freqs: np.ndarray, vowel: int) -> np.ndarray:
    centres, widths = VOWELS[vowel]
    gain = sum(np.exp(-0.5 * ((freqs - c) / w) ** 2) for c, w in zip(centres, widths))
    return 0.05 + gain


def _voice(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """A sung phrase of ``n`` samples: notes of 0.25-0.6 s, vibrato, formant-shaped partials."""
    t = np.arange(n) / sr
    f0 = np.empty(n)
    vowel_of = np.empty(n, dtype=int)
    pos = 0
    base = float(rng.uniform(160, 320))
    while pos < n:
        length = int(rng.uniform(0.25, 0.6) * sr)
        f0[pos:pos + length] = base * 2 ** (int(rng.integers(-5, 8)) / 12)
        vowel_of[pos:pos + length] = rng.integers(len(VOWELS))
        pos += length
    rate, depth = float(rng.uniform(5.0, 7.0)), float(rng.uniform(0.02, 0.04))
    f_inst = f0 * (1 + depth * np.sin(2 * np.pi * rate * t))  # (n,) Hz
    phase = 2 * np.pi * np.cumsum(f_inst) / sr
    out = np.zeros(n)
    for h in range(1, 25):
        freq = h * f0
        gain = np.zeros(n)
        for v in range(len(VOWELS)):
            sel = vowel_of == v
            gain[sel] = _formant_gain(freq[sel], v)
        gain[freq * (1 + depth) > 0.45 * sr] = 0.0
        out += gain / h**0.7 * np.sin(h * phase)
    ramp = min(n // 2, int(0.05 * sr))
    envelope = np.ones(n)
    envelope[:ramp] = np.linspace(0, 1, ramp)
    envelope[n - ramp:] = np.linspace(1, 0, ramp)
    return out * envelope / (np.abs(out).max() + 1e-9)


def _bed(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Chords (steady harmonic tones) plus a kick and hi-hat pattern."""
    t = np.arange(n) / sr
    bed = np.zeros(n)
    chord_len = int(sr * float(rng.uniform(1.0, 2.0)))
    root = float(rng.uniform(90, 180))
    for start in range(0, n, chord_len):
        stop = min(n, start + chord_len)
        tonic = root * 2 ** (int(rng.choice([0, 3, 5, 7, 8, 10])) / 12)
        for interval in (0, 4 if rng.random() < 0.5 else 3, 7):
            f = tonic * 2 ** (interval / 12)
            for h in range(1, 9):
                if h * f < 0.45 * sr:
                    bed[start:stop] += np.sin(2 * np.pi * h * f * t[start:stop] + rng.uniform(0, 2 * np.pi)) / h**1.3
    bed /= np.abs(bed).max() + 1e-9
    beat = int(sr * 60 / float(rng.uniform(90, 140)))
    hit = np.arange(int(0.15 * sr)) / sr
    kick = np.sin(2 * np.pi * (60 + 80 * np.exp(-hit * 30)) * hit) * np.exp(-hit * 20)
    hat = rng.normal(size=int(0.05 * sr)) * np.exp(-np.arange(int(0.05 * sr)) / sr * 80)
    hat = np.diff(hat, prepend=0.0)  # brighter
    for i, start in enumerate(range(0, n, beat // 2)):
        sound = kick if i % 2 == 0 else 0.3 * hat
        stop = min(n, start + len(sound))
        bed[start:stop] += sound[: stop - start]
    return bed


def generate_song(
    rng: np.random.Generator, duration: float, sample_rate: int = SAMPLE_RATE, voice_gain_db: tuple = (-3.0, 3.0)
) -> tuple[np.ndarray, list[tuple[float, float, bool]]]:
    """One demo song and its planted labels.

    Returns
    -------
    audio
        ``(duration * sample_rate,)`` float32 in [-1, 1].
    segments
        ``[(start_s, end_s, is_sung), ...]`` covering the song; the voice sounds exactly in
        the sung segments.
    """
    n = int(round(duration * sample_rate))
    segments = _segments(rng, duration)
    audio = 0.5 * _bed(rng, n, sample_rate)
    for start, end, sing in segments:
        if sing:
            a, b = int(start * sample_rate), min(n, int(end * sample_rate))
            gain = 0.5 * 10 ** (float(rng.uniform(*voice_gain_db)) / 20)
            audio[a:b] += gain * _voice(rng, b - a, sample_rate)
    audio += 0.003 * rng.normal(size=n)
    return (0.9 * audio / np.abs(audio).max()).astype(np.float32), segments


def write_lab(path: str | Path, segments: list[tuple[float, float, bool]]) -> None:
    """Write ``start end sing|nosing`` lines (seconds), atomically."""
    lines = "".join(f"{s:.3f} {e:.3f} {'sing' if sung else 'nosing'}\n" for s, e, sung in segments)
    with atomic_path(path) as tmp:
        tmp.write_text(lines)


def write_demo_corpus(
    root: str | Path, *, n_train: int, n_valid: int, n_test: int, duration: float, seed: int
) -> dict[str, list[str]]:
    """Write a Jamendo-layout corpus of generated songs under ``root``; return the filelists."""
    import soundfile as sf

    root = Path(root)
    for sub in ("audio", "labels", "filelists"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    lists: dict[str, list[str]] = {}
    counter = 0
    for split, count in zip(SPLITS, (n_train, n_valid, n_test)):
        lists[split] = []
        for _ in range(count):
            name = f"song{counter:03d}.wav"
            counter += 1
            audio, segments = generate_song(rng, duration)
            with atomic_path(root / "audio" / name) as tmp:
                sf.write(tmp, audio, SAMPLE_RATE, subtype="PCM_16", format="WAV")
            write_lab(root / "labels" / f"{Path(name).stem}.lab", segments)
            lists[split].append(name)
        with atomic_path(root / "filelists" / split) as tmp:
            tmp.write_text("".join(f"{name}\n" for name in lists[split]))
        log.info("%s: %d songs of %.1f s", split, count, duration)
    return lists


# --------------------------------------------------------------------------- singing voice: reading
def read_filelist(root: str | Path, split: str) -> list[str]:
    """Audio file names of one split (``filelists/<split>``), blank lines skipped."""
    path = Path(root) / "filelists" / split
    if not path.is_file():
        raise InputError(path, "filelist not found", "the corpus needs filelists/train, valid and test")
    names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not names:
        raise InputError(path, "filelist is empty")
    return names


def read_lab(path: str | Path) -> list[tuple[float, float, bool]]:
    """Segments of a ``.lab`` file: ``[(start_s, end_s, is_sung), ...]``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "label file not found")
    segments = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            start, end, tag = float(parts[0]), float(parts[1]), parts[2]
        except (IndexError, ValueError) as exc:
            raise InputError(path, f"line {number} is not 'start end sing|nosing': {line!r}") from exc
        if tag not in ("sing", "nosing") or end < start:
            raise InputError(path, f"line {number} is not 'start end sing|nosing': {line!r}")
        segments.append((start, end, tag == "sing"))
    return segments


def read_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 samples of an audio file, resampled to ``sample_rate``.

    A missing, empty, undecodable or truncated file (fewer frames than its header declares)
    is an :class:`~xairepro.common.errors.InputError` naming it
    (:func:`xairepro.common.audio.read_audio`).
    """
    from xairepro.common.audio import read_audio as read_checked

    audio, rate = read_checked(path)
    audio = audio.mean(axis=1)
    if rate != sample_rate:
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(rate, sample_rate)
        audio = resample_poly(audio, sample_rate // g, rate // g).astype(np.float32)
    return audio


#: Seconds a recording may end before its last labelled segment (decoder padding, rounding).
LABEL_SLACK_S = 1.0


def check_covers_labels(path: Path, seconds: float, segments: list[tuple[float, float, bool]]) -> None:
    """Raise if a recording ends before its annotation does: a file cut short whose format
    declares no length (MP3, Ogg) still carries its full ``.lab``."""
    end = max((stop for _, stop, _ in segments), default=0.0)
    if seconds < end - LABEL_SLACK_S:
        raise InputError(
            path, f"is truncated: it lasts {seconds:.1f} s but its labels run to {end:.1f} s",
            "re-extract or re-download the corpus; see README, 'Bad inputs'",
        )


def frame_labels(segments: list[tuple[float, float, bool]], n_frames: int, fps: float) -> np.ndarray:
    """``(n_frames,)`` float32, 1 where frame ``i`` (centred at ``i / fps`` s) is sung."""
    times = np.arange(n_frames) / fps
    labels = np.zeros(n_frames, dtype=np.float32)
    for start, end, sung in segments:
        if sung:
            labels[(times >= start) & (times < end)] = 1.0
    return labels


# --------------------------------------------------------------------------- singing voice: paper corpus
#: The paper corpus: Zenodo record 2585988 (its file is named ``jamando.zip``). Zenodo
#: publishes an md5 for every file in the record's JSON; that is what the download is checked
#: against, unless a sha256 is pinned in the config (lossgrad.svd.archive_sha256).
JAMENDO_RECORD = "https://zenodo.org/records/2585988"


def _no_checksum(archive: Path, why: str) -> XaiReproError:
    from xairepro.common.download import file_digest

    digest = file_digest(archive, "sha256") if archive.is_file() else None
    found = f"the file there has sha256 {digest}; " if digest else ""
    return XaiReproError(
        f"{archive}: no checksum to verify the Jamendo archive against ({why}; {found}check the file against "
        f"{JAMENDO_RECORD} and set lossgrad.svd.archive_sha256 in config/lossgrad.yaml to its sha256)"
    )


def fetch_jamendo(urls: list[str], archive: str | Path, checksum_path: str | Path, sha256: str | None,
                  record_api: str | None = None, name: str | None = None) -> Path:
    """Download the Jamendo archive and verify it; write the checksum used to ``checksum_path``.

    The checksum is the configured ``sha256`` when set, else the one Zenodo publishes for
    ``name`` in ``record_api``. A file already at ``archive`` (placed by hand) is accepted
    when it matches. Without either checksum, stops with instructions.
    """
    from xairepro.common.download import download, zenodo_checksum
    from xairepro.common.io import atomic_path

    archive = Path(archive)
    if sha256:
        checksum = f"sha256:{sha256}"
    elif record_api and name:
        try:
            checksum = zenodo_checksum(record_api, name)
        except (OSError, ValueError) as exc:
            raise _no_checksum(archive, f"the published checksum could not be read: {exc}") from exc
    else:
        raise _no_checksum(archive, "neither archive_sha256 nor a Zenodo record is configured")
    if not urls and not archive.exists():
        raise XaiReproError(f"{archive}: no download URL configured; download the corpus from {JAMENDO_RECORD} "
                            "and place it there")
    download(urls, archive, checksum=checksum)
    with atomic_path(checksum_path) as tmp:
        tmp.write_text(checksum + "\n")
    return archive


def extract_jamendo(archive: str | Path, dest: str | Path, checksum: str | None) -> Path:
    """Verify the archive (``"md5:..."`` or ``"sha256:..."``), extract it safely, and move the
    corpus folder to ``dest``.

    The corpus folder is the one holding ``filelists/`` (at the top or one level down).
    """
    import shutil
    import tempfile

    from xairepro.common.download import safe_extract, verify_checksum

    archive, dest = Path(archive), Path(dest)
    if not checksum:
        raise _no_checksum(archive, "no checksum was recorded by the download rule")
    verify_checksum(archive, checksum)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        safe_extract(archive, tmp)
        roots = [p.parent for p in Path(tmp).glob("**/filelists") if p.is_dir()]
        if not roots:
            raise InputError(archive, "no filelists/ folder inside", "the archive must hold audio/, labels/, filelists/")
        root = min(roots, key=lambda p: len(p.parts))
        for split in SPLITS:
            read_filelist(root, split)
        shutil.move(str(root), dest)
    return dest


# --------------------------------------------------------------------------- singing voice: features
FRAME_LEN = 1024
FPS = 70
HOP = SAMPLE_RATE // FPS  # 315 samples
MEL_BANDS = 80
MEL_MIN, MEL_MAX = 27.5, 8000.0
LOG_FLOOR = 1e-7
BLOCKLEN = 115


class LogMel:
    """Audio ``(samples,)`` -> log-mel spectrogram ``(frames, 80)`` float32 at 70 fps.

    Frame ``i`` is centred on sample ``i * 315`` (``center=True``), so it sits at ``i / 70`` s.
    """

    def __init__(self):
        import torchaudio

        self.stft = torchaudio.transforms.Spectrogram(n_fft=FRAME_LEN, hop_length=HOP, power=1.0, center=True)
        self.fbank = torchaudio.functional.melscale_fbanks(
            FRAME_LEN // 2 + 1, MEL_MIN, MEL_MAX, MEL_BANDS, SAMPLE_RATE, norm=None, mel_scale="htk"
        )  # (513, 80)

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            magnitude = self.stft(torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)))  # (513, T)
            mel = magnitude.T @ self.fbank  # (T, 80)
            return torch.log(torch.clamp(mel, min=LOG_FLOOR)).numpy().astype(np.float32)


def compute_spectrograms(root: str | Path) -> dict[str, np.ndarray]:
    """Log-mel spectrograms and frame labels of every file of every split.

    Returns arrays ``<split>_spect`` ``(sum T, 80)`` (files concatenated), ``<split>_labels``
    ``(sum T,)``, ``<split>_offsets`` ``(files + 1,)`` (file ``i`` is rows
    ``offsets[i]:offsets[i+1]``) and ``<split>_names`` (file names, unicode).
    """
    root = Path(root)
    front_end = LogMel()
    arrays: dict[str, np.ndarray] = {}
    for split in SPLITS:
        names = read_filelist(root, split)
        spects, labels = [], []
        for name in names:
            audio = read_audio(root / "audio" / name)
            segments = read_lab(root / "labels" / f"{Path(name).stem}.lab")
            check_covers_labels(root / "audio" / name, len(audio) / SAMPLE_RATE, segments)
            spect = front_end(audio)
            spects.append(spect)
            labels.append(frame_labels(segments, len(spect), FPS))
        lengths = [len(s) for s in spects]
        arrays[f"{split}_spect"] = np.concatenate(spects)
        arrays[f"{split}_labels"] = np.concatenate(labels)
        arrays[f"{split}_offsets"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        arrays[f"{split}_names"] = np.array(names, dtype=str)
        log.info("%s: %d files, %d frames, %.1f%% sung", split, len(names), sum(lengths),
                 100 * arrays[f"{split}_labels"].mean())
    return arrays


def znorm_stats(train_spect: np.ndarray) -> dict[str, np.ndarray]:
    """Per-band mean and standard deviation ``(80,)`` of the training frames."""
    mean = train_spect.mean(axis=0, dtype=np.float64)
    std = train_spect.std(axis=0, dtype=np.float64)
    return {"mean": mean.astype(np.float32), "std": np.maximum(std, 1e-8).astype(np.float32)}


class ExcerptSet:
    """The 115 x 80 excerpts centred on every frame of one split, built on demand.

    Parameters
    ----------
    spect
        ``(sum T, 80)`` log-mel frames of the split's files, concatenated.
    offsets
        ``(files + 1,)`` file boundaries in ``spect``.
    mean, std
        ``(80,)`` training statistics for the z-normalisation.
    blocklen
        Excerpt length in frames (115): each file is padded with ``blocklen // 2`` zero
        frames on each side after normalisation, so excerpts never straddle two files.
    """

    def __init__(self, spect: np.ndarray, offsets: np.ndarray, mean: np.ndarray, std: np.ndarray,
                 blocklen: int = BLOCKLEN):
        pad = blocklen // 2
        norm = (spect - mean) / std
        pieces, starts = [], []
        position = 0
        for a, b in zip(offsets[:-1], offsets[1:]):
            padded = np.pad(norm[a:b], ((pad, pad), (0, 0)))
            pieces.append(padded)
            starts.append(position + np.arange(b - a))
            position += len(padded)
        self.frames = torch.from_numpy(np.concatenate(pieces).astype(np.float32))  # (sum T + 2 pad files, 80)
        self.starts = torch.from_numpy(np.concatenate(starts))  # (sum T,)
        self.offsets = np.asarray(offsets)
        self.blocklen = blocklen

    def __len__(self) -> int:
        return len(self.starts)

    def head(self, n: int) -> "ExcerptSet":
        """The first ``n`` excerpts as one set (sharing the frames), e.g. for benchmarks."""
        subset = ExcerptSet.__new__(ExcerptSet)
        subset.frames, subset.starts, subset.blocklen = self.frames, self.starts[:n], self.blocklen
        subset.offsets = np.array([0, len(subset.starts)])
        return subset

    def every(self, step: int) -> tuple["ExcerptSet", np.ndarray]:
        """Every ``step``-th frame of each file (from its first): the subset and the kept frame
        indices ``(M,)`` into this set. ``step=1`` keeps everything."""
        keep = np.concatenate([np.arange(a, b, step) for a, b in zip(self.offsets[:-1], self.offsets[1:])])
        counts = [len(range(a, b, step)) for a, b in zip(self.offsets[:-1], self.offsets[1:])]
        subset = ExcerptSet.__new__(ExcerptSet)
        subset.frames, subset.starts, subset.blocklen = self.frames, self.starts[torch.from_numpy(keep)], self.blocklen
        subset.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return subset, keep

    def get(self, index: torch.Tensor | np.ndarray | slice) -> torch.Tensor:
        """Excerpts of the frames ``index``, ``(B, 1, blocklen, 80)`` float32 (a copy)."""
        if isinstance(index, slice):
            index = torch.arange(len(self))[index]
        rows = self.starts[torch.as_tensor(index)].unsqueeze(1) + torch.arange(self.blocklen)  # (B, blocklen)
        return self.frames[rows].unsqueeze(1)

    def batches(self, batch_size: int):
        """``(index, excerpts)`` over all frames in order, ``batch_size`` at a time."""
        for start in range(0, len(self), batch_size):
            index = torch.arange(start, min(len(self), start + batch_size))
            yield index, self.get(index)


def load_excerpts(spect_path: str | Path, znorm_path: str | Path, split: str) -> tuple[ExcerptSet, np.ndarray]:
    """The excerpts and frame labels ``(sum T,)`` of one split from the cached spectrograms."""
    data = load_arrays(spect_path, required=(f"{split}_spect", f"{split}_labels", f"{split}_offsets"))
    stats = load_arrays(znorm_path, required=("mean", "std"))
    excerpts = ExcerptSet(data[f"{split}_spect"], data[f"{split}_offsets"], stats["mean"], stats["std"])
    return excerpts, data[f"{split}_labels"]
