"""Log-mel spectrograms, train-set z-normalisation and 115-frame excerpts for singing-voice detection.

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

from xairepro.common.io import load_arrays
from xairepro.lossgrad.svd_data import SAMPLE_RATE, SPLITS, frame_labels, read_audio, read_filelist, read_lab

log = logging.getLogger(__name__)

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
            spect = front_end(read_audio(root / "audio" / name))
            segments = read_lab(root / "labels" / f"{Path(name).stem}.lab")
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
