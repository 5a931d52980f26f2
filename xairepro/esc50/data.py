"""ESC-50-format data: the synthetic demo folder, the paper archive, one loader for both.

Both scales are read by :func:`load_split` from the same layout as karoldvl/ESC-50::

    <root>/audio/{fold}-{id}-{take}-{target}.wav
    <root>/meta/esc50.csv      filename, fold, target, category, esc10, src_file, take

The demo folder (:func:`write_demo_dataset`) holds synthetic sound classes, each confined
to a known time-frequency box over low white noise; the boxes are written to
``meta/planted.csv`` so that interpretations can be scored against them.
Audio is read with soundfile, made mono, resampled (polyphase) to the model's rate and
divided by its peak, as in the SpeechBrain ESC50 recipes.

Spectral features, with SpeechBrain's own feature classes: STFT n_fft 1024, hop 11.6099 ms,
window 23.2199 ms (Hamming, centred), magnitude (power 0.5), log1p: a 5 s clip gives 431
frames x 513 bins at 16 kHz and at 44.1 kHz (:func:`log_spectrogram`, :func:`load_features`).
"""

from __future__ import annotations

import logging
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import torch
from scipy.signal import butter, resample_poly, sosfilt
from speechbrain.processing.features import ISTFT, STFT, spectral_magnitude

from xairepro.common.download import download, safe_extract
from xairepro.common.errors import ConfigError, InputError
from xairepro.common.audio import read_audio
from xairepro.common.io import atomic_path

log = logging.getLogger(__name__)

ESC50_URL = "https://github.com/karoldvl/ESC-50/archive/master.zip"
CLIP_SECONDS = 5.0
META_COLUMNS = ["filename", "fold", "target", "category", "esc10", "src_file", "take"]
PLANTED_COLUMNS = ["filename", "t0", "t1", "f0", "f1"]
N_FFT = 1024
HOP_MS = 11.6099
WIN_MS = 23.2199
N_BINS = N_FFT // 2 + 1


@dataclass(frozen=True)
class SoundClass:
    """One synthetic class: a kind of sound confined to the band [f0, f1] Hz."""

    name: str
    kind: str
    f0: float
    f1: float


#: The demo classes, each in its own frequency band (all below 8 kHz, the 16 kHz Nyquist).
DEMO_CLASSES = (
    SoundClass("harmonic_stack", "harmonic", 250.0, 1000.0),
    SoundClass("chirp", "chirp", 1400.0, 2600.0),
    SoundClass("band_noise", "noise", 3400.0, 4600.0),
    SoundClass("am_tone", "am", 5700.0, 6300.0),
    SoundClass("click_train", "clicks", 6800.0, 7600.0),
    SoundClass("fm_tone", "fm", 2900.0, 3300.0),
)


def synth_event(cls: SoundClass, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of one event of ``cls`` (peak 1), band-limited to [f0, f1]."""
    t = np.arange(n) / sr
    lo, hi = cls.f0, cls.f1
    if cls.kind == "harmonic":
        f = rng.uniform(lo * 1.05, lo * 1.25)
        x = sum(np.sin(2 * np.pi * k * f * t + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 4) if k * f < hi)
    elif cls.kind == "chirp":
        fa, fb = lo + 0.1 * (hi - lo), hi - 0.1 * (hi - lo)
        x = np.sin(2 * np.pi * (fa * t + (fb - fa) * t**2 / (2 * t[-1])))
    elif cls.kind == "am":
        fc = 0.5 * (lo + hi)
        x = (1 + 0.9 * np.sin(2 * np.pi * rng.uniform(6, 10) * t)) * np.sin(2 * np.pi * fc * t)
    elif cls.kind == "fm":
        fc, dev = 0.5 * (lo + hi), 0.35 * (hi - lo)
        x = np.sin(2 * np.pi * fc * t + dev / 5.0 * np.sin(2 * np.pi * 5.0 * t))
    else:  # noise, clicks: white noise or an impulse train, band-passed
        if cls.kind == "clicks":
            x = np.zeros(n)
            x[:: int(sr / rng.uniform(15, 25))] = 1.0
        else:
            x = rng.standard_normal(n)
        sos = butter(6, [lo * 1.02, hi * 0.98], btype="band", fs=sr, output="sos")
        x = sosfilt(sos, x)
    ramp = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (0.01 * sr))
    x = np.asarray(x) * ramp
    return x / (np.abs(x).max() + 1e-12)


def write_demo_dataset(
    root: str | Path,
    n_classes: int = 4,
    clips_per_fold: int | list[int] = 3,
    n_folds: int = 5,
    sample_rate: int = 16000,
    noise_level: float = 0.02,
    event_seconds: tuple[float, float] = (1.5, 2.5),
    seed: int = 0,
) -> pd.DataFrame:
    """Write a synthetic ESC-50-format folder: ``clips_per_fold`` clips per class and fold.

    ``clips_per_fold`` is one count for every fold or a list of ``n_folds`` counts, one per
    fold (the demo grows its test fold alone, so that the claims' tests have power without
    lengthening training).
    Each clip is 5 s of white noise (std ``noise_level``) plus one event of its class at a
    random onset, lasting ``event_seconds`` (min, max), peak 0.5. Returns the planted
    boxes (filename, t0, t1 in s, f0, f1 in Hz), also written to ``meta/planted.csv``.
    """
    if not 2 <= n_classes <= len(DEMO_CLASSES):
        raise ValueError(f"n_classes must be in 2..{len(DEMO_CLASSES)}, got {n_classes}")
    root = Path(root)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    (root / "meta").mkdir(parents=True, exist_ok=True)
    per_fold = [clips_per_fold] * n_folds if isinstance(clips_per_fold, int) else list(clips_per_fold)
    if len(per_fold) != n_folds or not all(1 <= k <= 26 for k in per_fold):  # takes are letters A-Z
        raise ValueError(f"clips_per_fold must be a count in 1..26 or {n_folds} of them, got {clips_per_fold}")
    rng = np.random.default_rng(seed)
    n = int(CLIP_SECONDS * sample_rate)
    meta, planted = [], []
    clip_id = 0
    for fold in range(1, n_folds + 1):
        for target, cls in enumerate(DEMO_CLASSES[:n_classes]):
            for take in range(per_fold[fold - 1]):
                clip_id += 1
                dur = rng.uniform(*event_seconds)
                t0 = rng.uniform(0.25, CLIP_SECONDS - dur - 0.25)
                m = int(dur * sample_rate)
                start = int(t0 * sample_rate)
                x = noise_level * rng.standard_normal(n)
                x[start:start + m] += 0.5 * synth_event(cls, m, sample_rate, rng)
                name = f"{fold}-{clip_id:06d}-{chr(ord('A') + take)}-{target}.wav"
                with atomic_path(root / "audio" / name, suffix=".wav") as tmp:
                    sf.write(tmp, x.astype(np.float32), sample_rate, subtype="PCM_16")
                meta.append([name, fold, target, cls.name, False, f"{clip_id:06d}", chr(ord("A") + take)])
                planted.append([name, start / sample_rate, (start + m) / sample_rate, cls.f0, cls.f1])
    planted_df = pd.DataFrame(planted, columns=PLANTED_COLUMNS)
    with atomic_path(root / "meta" / "planted.csv") as tmp:
        planted_df.to_csv(tmp, index=False)
    with atomic_path(root / "meta" / "esc50.csv") as tmp:
        pd.DataFrame(meta, columns=META_COLUMNS).to_csv(tmp, index=False)
    return planted_df


#: What the released ESC-50 holds: 2000 clips, 50 classes of 40, 5 folds of 400.
ESC50_SHAPE = {"clips": 2000, "classes": 50, "per_class": 40, "folds": 5, "per_fold": 400}


def archive_shape(clips: int, classes: int, folds: int) -> dict[str, int]:
    """The content :func:`check_esc50_archive` expects of ``clips`` clips in ``classes`` equal
    classes and ``folds`` equal folds (the config's ``data`` ``shape``; the release's is
    :data:`ESC50_SHAPE`). Raises :class:`ConfigError` where the counts do not divide."""
    if clips % classes or clips % folds:
        raise ConfigError(f"esc50/data/paper/shape: {clips} clips do not split into {classes} equal classes "
                          f"and {folds} equal folds")
    return {"clips": clips, "classes": classes, "per_class": clips // classes, "folds": folds,
            "per_fold": clips // folds}


def check_esc50_archive(archive: str | Path, shape: dict[str, int] | None = None) -> None:
    """Check an ESC-50 zip by its content, without extracting it.

    GitHub publishes no checksum for master.zip (and regenerates the archive), so unless
    the config pins one, the download is accepted when ``meta/esc50.csv`` has the release's
    columns and ``shape`` (default :data:`ESC50_SHAPE`) and every clip it lists is in
    ``audio/``. Raises :class:`InputError` naming the archive otherwise.
    """
    import io
    import zipfile

    archive, shape = Path(archive), shape or ESC50_SHAPE
    try:
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            metas = [n for n in names if n.endswith("meta/esc50.csv")]
            if len(metas) != 1:
                raise InputError(archive, f"holds {len(metas)} meta/esc50.csv files, expected 1",
                                 "is this the ESC-50 master.zip?")
            meta = pd.read_csv(io.BytesIO(zf.read(metas[0])))
    except zipfile.BadZipFile as exc:
        raise InputError(archive, f"is not a zip archive ({exc})") from None
    if list(meta.columns) != META_COLUMNS:
        raise InputError(archive, f"meta/esc50.csv has columns {list(meta.columns)}, expected {META_COLUMNS}")
    per_class, per_fold = meta["target"].value_counts(), meta["fold"].value_counts()
    found = {"clips": len(meta), "classes": len(per_class), "per_class": int(per_class.min()),
             "folds": len(per_fold), "per_fold": int(per_fold.min())}
    if found != shape or per_class.max() != per_class.min() or per_fold.max() != per_fold.min():
        raise InputError(archive, f"meta/esc50.csv describes {found}, expected {shape}",
                         "is this the ESC-50 release?")
    audio = metas[0][: -len("meta/esc50.csv")] + "audio/"
    missing = sorted(set(audio + f for f in meta["filename"]) - set(names))
    if missing:
        raise InputError(archive, f"lacks {len(missing)} clips listed in meta/esc50.csv, e.g. {missing[0]}")


def fetch_paper_dataset(archive: str | Path, root: str | Path, url: str, checksum: str | None,
                        shape: dict[str, int] | None = None) -> Path:
    """Download (or accept a hand-placed) ESC-50 master.zip and extract it safely into ``root``.

    ``checksum`` (``"sha256:<hex>"``) comes from the config. GitHub publishes none for
    master.zip, so by default it is null and :func:`check_esc50_archive` decides by content,
    against ``shape`` (``clips``, ``classes``, ``folds``: the config's ``data`` ``shape``,
    default the release's 2000, 50, 5; the paper-scale smoke run states its tiny archive's);
    the archive's sha256 is then logged for pinning. The archive's top folder
    (``ESC-50-master``) is flattened so that ``root/audio`` and ``root/meta/esc50.csv``
    exist, as :func:`load_split` expects.
    """
    checksum = checksum or None
    if checksum is not None and not checksum.startswith(("sha256:", "md5:")):
        raise ConfigError(f"esc50/data/paper/checksum must be 'sha256:<hex>', 'md5:<hex>' or null, got {checksum!r}")
    expected = ESC50_SHAPE if shape is None else archive_shape(shape["clips"], shape["classes"], shape["folds"])
    download(url, archive, checksum=checksum,
             verify=None if checksum else (lambda path: check_esc50_archive(path, expected)))
    return extract_archive(archive, root)


def extract_archive(archive: str | Path, root: str | Path) -> Path:
    """Extract an ESC-50 archive (zip or tar) into ``root`` and flatten its top folder.

    An empty ``root/audio`` or ``root/meta`` is replaced (Snakemake creates the folders of a
    rule's outputs, ``meta/`` of ``meta/esc50.csv``, before the rule runs); one that holds
    anything is refused. The staging folder, with the rest of the archive, is removed.
    """
    root = Path(root)
    staging = root.parent / (root.name + ".extract")
    safe_extract(archive, staging)
    metas = sorted(staging.rglob("meta/esc50.csv"))
    if not metas:
        raise InputError(archive, "holds no meta/esc50.csv", "is this the ESC-50 master.zip?")
    top = metas[0].parent.parent
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("audio", "meta"):
        target = root / sub
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()
        if target.exists():
            raise InputError(target, "already exists; refusing to overwrite", "delete it and re-run")
        (top / sub).rename(target)
    shutil.rmtree(staging)  # the rest of the repository (README, tests, ...)
    return root


def read_meta(root: str | Path) -> pd.DataFrame:
    """``meta/esc50.csv`` of an ESC-50-format folder, checked for its columns."""
    path = Path(root) / "meta" / "esc50.csv"
    if not path.exists():
        raise InputError(path, "missing", "generate the demo data or download ESC-50 first")
    meta = pd.read_csv(path)
    missing = {"filename", "fold", "target"} - set(meta.columns)
    if missing:
        raise InputError(path, f"lacks the columns {sorted(missing)}")
    return meta


def load_clip(path: str | Path, sample_rate: int, seconds: float = CLIP_SECONDS) -> np.ndarray:
    """One clip as the recipes read it: mono, resampled to ``sample_rate``, divided by its peak.

    Returns float32 of exactly ``seconds * sample_rate`` samples (zero-padded or cut).
    Raises :class:`InputError` naming the file if it is empty, truncated or not audio.
    """
    audio, sr = read_audio(path)
    x = audio.mean(axis=1)
    if sr != sample_rate:
        g = math.gcd(sr, sample_rate)
        x = resample_poly(x, sample_rate // g, sr // g).astype(np.float32)
    n = int(round(seconds * sample_rate))
    x = np.pad(x, (0, max(0, n - x.size)))[:n]
    return x / (np.abs(x).max() + 1e-8)


def load_split(root: str | Path, folds: list[int], sample_rate: int,
               max_clips: int | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """All clips of ``folds`` (the first ``max_clips`` by file name where given): waveforms
    (N, 5 s * rate) float32, targets (N,), file names."""
    meta = read_meta(root)
    rows = meta[meta["fold"].isin(folds)].sort_values("filename").head(max_clips)
    if rows.empty:
        raise InputError(Path(root) / "meta" / "esc50.csv", f"has no clips in folds {folds}")
    waves = np.stack([load_clip(Path(root) / "audio" / f, sample_rate) for f in rows["filename"]])
    return waves, rows["target"].to_numpy(np.int64), list(rows["filename"])


def read_planted(root: str | Path) -> pd.DataFrame:
    """The planted boxes of a demo folder (``meta/planted.csv``), indexed by file name."""
    path = Path(root) / "meta" / "planted.csv"
    if not path.exists():
        raise InputError(path, "missing: planted regions exist only for the synthetic demo data")
    return pd.read_csv(path).set_index("filename")


# ----------------------------------------------------------------------------- spectral features
def stft(sample_rate: int) -> STFT:
    return STFT(sample_rate=sample_rate, win_length=WIN_MS, hop_length=HOP_MS, n_fft=N_FFT)


def istft(sample_rate: int) -> ISTFT:
    return ISTFT(sample_rate=sample_rate, win_length=WIN_MS, hop_length=HOP_MS, n_fft=N_FFT)


def log_spectrogram(waves: torch.Tensor, sample_rate: int) -> tuple[torch.Tensor, torch.Tensor]:
    """log1p magnitude and phase of ``waves`` (B, samples): both (B, T, 513)."""
    spec = stft(sample_rate)(waves)  # (B, T, F, 2)
    magnitude = spectral_magnitude(spec, power=0.5)
    phase = torch.atan2(spec[..., 1], spec[..., 0])
    return torch.log1p(magnitude), phase


def resynthesise(log_spec: torch.Tensor, phase: torch.Tensor, sample_rate: int, n_samples: int) -> torch.Tensor:
    """Waveforms (B, n_samples) from a log1p magnitude and the original phase (inverse STFT)."""
    magnitude = torch.expm1(log_spec.clamp_min(0))
    spec = torch.stack([magnitude * torch.cos(phase), magnitude * torch.sin(phase)], dim=-1)
    return istft(sample_rate)(spec, sig_length=n_samples)


def planted_mask(t0: float, t1: float, f0: float, f1: float, sample_rate: int,
                 n_frames: int = 431, n_bins: int = N_BINS) -> np.ndarray:
    """Boolean (T, F) mask of the STFT cells inside the box [t0, t1] s x [f0, f1] Hz."""
    hop = sample_rate * HOP_MS / 1000
    frames = np.arange(n_frames) * hop / sample_rate
    freqs = np.arange(n_bins) * sample_rate / N_FFT
    return ((frames >= t0) & (frames <= t1))[:, None] & ((freqs >= f0) & (freqs <= f1))[None, :]


def load_features(root: str | Path, folds: list[int], sample_rate: int, batch: int = 32,
                  max_clips: int | None = None):
    """log1p magnitudes X (N, 431, 513), phases, targets (N,), file names of ``folds`` (the
    first ``max_clips`` by file name where given)."""
    waves, targets, names = load_split(root, folds, sample_rate, max_clips)
    waves_t = torch.from_numpy(waves)
    parts = [log_spectrogram(w, sample_rate) for w in waves_t.split(batch)]
    X = torch.cat([p[0] for p in parts])
    phase = torch.cat([p[1] for p in parts])
    return X, phase, torch.from_numpy(targets), names


def n_classes_of(root: str | Path) -> int:
    return int(read_meta(root)["target"].max()) + 1


def planted_masks(data_root, names: list[str], sample_rate: int, shape: tuple[int, int]) -> torch.Tensor | None:
    """The (N, T, F) planted boxes of demo clips, or None where the data has none (paper)."""
    path = Path(data_root) / "meta" / "planted.csv"
    if not path.exists():
        return None
    boxes = read_planted(data_root)
    return torch.from_numpy(np.stack([
        planted_mask(*boxes.loc[n, ["t0", "t1", "f0", "f1"]], sample_rate, *shape) for n in names]))
