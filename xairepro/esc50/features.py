"""Spectral features of the ESC50 recipes, with SpeechBrain's own feature classes.

STFT n_fft 1024, hop 11.6099 ms, window 23.2199 ms (Hamming, centred), magnitude
(power 0.5), log1p: a 5 s clip gives 431 frames x 513 bins at 16 kHz and at 44.1 kHz.
CNN14 sees an 80-mel filterbank (log-mel, dB) of the magnitude; FocalNet/ViT a 224x224
resize of the log-spectrogram repeated to 3 channels.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from speechbrain.processing.features import ISTFT, STFT, Filterbank, spectral_magnitude

N_FFT = 1024
HOP_MS = 11.6099
WIN_MS = 23.2199
N_BINS = N_FFT // 2 + 1


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


class LogMel(torch.nn.Module):
    """The CNN14 input: ``n_mels`` log-mel bands of a log1p magnitude (B, T, 513) -> (B, T, n_mels)."""

    def __init__(self, sample_rate: int, n_mels: int = 80):
        super().__init__()
        self.fbank = Filterbank(n_mels=n_mels, n_fft=N_FFT, sample_rate=sample_rate, f_max=sample_rate / 2)

    def forward(self, log_spec: torch.Tensor) -> torch.Tensor:
        return self.fbank(torch.expm1(log_spec.clamp_min(0)))


def to_image(log_spec: torch.Tensor, size: int = 224) -> torch.Tensor:
    """The FocalNet/ViT input: (B, T, F) resized to (B, 3, size, size)."""
    img = F.interpolate(log_spec.unsqueeze(1), size=(size, size), mode="bilinear", align_corners=False)
    return img.repeat(1, 3, 1, 1)


def planted_mask(t0: float, t1: float, f0: float, f1: float, sample_rate: int,
                 n_frames: int = 431, n_bins: int = N_BINS) -> np.ndarray:
    """Boolean (T, F) mask of the STFT cells inside the box [t0, t1] s x [f0, f1] Hz."""
    hop = sample_rate * HOP_MS / 1000
    frames = np.arange(n_frames) * hop / sample_rate
    freqs = np.arange(n_bins) * sample_rate / N_FFT
    return ((frames >= t0) & (frames <= t1))[:, None] & ((freqs >= f0) & (freqs <= f1))[None, :]
