"""The models of the study, built from SpeechBrain's classes: the classifiers of the ESC50
classification recipe and the interpreters' decoders.

Every classifier takes the log1p magnitude X (B, 431, 513) of its own sample rate and
returns the cosine scores (B, n_classes) of ``ECAPA_TDNN.Classifier(lin_blocks=1)``; its
``representations`` are what the interpreters decode:

- conv2d: ``PIQ.Conv2dEncoder_v2(dim)`` -> (B, dim, 26, 32); embedding = mean over (T, F).
- cnn14: ``Cnn14.Cnn14(mel_bins, emb_dim, return_reps=True, l2i=True)`` on the log-mel of X
  -> (x1, x2, x3) of channels (emb_dim, 1024, 512).
- focalnet / vit: ``transformers`` backbones on the 224x224 3-channel image of X (random
  init from a config here; the paper uses the pretrained Hugging Face weights).
Loss: ``LogSoftmaxWrapper(AdditiveAngularMargin(margin=0.2, scale=30))`` (AAM softmax).

CNN14 sees an 80-mel filterbank (log-mel, dB) of the magnitude (:class:`LogMel`); FocalNet/ViT
a 224x224 resize of the log-spectrogram repeated to 3 channels (:func:`to_image`).
The interpreters' own models: the PIQ decoder (:func:`build_piq`, SpeechBrain's
``VectorQuantizedPSI*_Audio``), L2I's Psi and Theta (:class:`L2I`) and the NMF dictionary
(:func:`nmf_dictionary`); :func:`load_classifier` reads a trained classifier back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from speechbrain.lobes.models.Cnn14 import Cnn14
from speechbrain.lobes.models.ECAPA_TDNN import Classifier
from speechbrain.lobes.models.L2I import Psi, PsiOptimized, Theta
from speechbrain.lobes.models.PIQ import (
    Conv2dEncoder_v2, VectorQuantizedPSI_Audio, VectorQuantizedPSIFocalNet_Audio, VectorQuantizedPSIViT_Audio,
)
from speechbrain.nnet.losses import AdditiveAngularMargin, LogSoftmaxWrapper
from speechbrain.processing.features import Filterbank

from xairepro.common.io import load_torch
from xairepro.esc50.data import N_FFT

ARCHS = ("conv2d", "cnn14", "focalnet", "vit")
PIQ_CLASSES = {"conv2d": VectorQuantizedPSI_Audio, "focalnet": VectorQuantizedPSIFocalNet_Audio,
               "vit": VectorQuantizedPSIViT_Audio}


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


def aam_loss(margin: float = 0.2, scale: float = 30.0) -> LogSoftmaxWrapper:
    """The recipes' AAM-softmax loss; call as ``loss(scores.unsqueeze(1), targets.unsqueeze(1))``."""
    return LogSoftmaxWrapper(AdditiveAngularMargin(margin=margin, scale=scale))


def _transformer_backbone(arch: str, cfg: dict[str, Any]) -> tuple[torch.nn.Module, int]:
    if arch == "focalnet":
        from transformers import FocalNetConfig, FocalNetModel

        config = FocalNetConfig(image_size=224, patch_size=4, embed_dim=cfg["emb_dim"],
                                depths=cfg["depths"], focal_levels=[2] * len(cfg["depths"]))
        model = FocalNetModel(config)
        return model, model.num_features
    from transformers import ViTConfig, ViTModel

    config = ViTConfig(image_size=224, patch_size=16, hidden_size=cfg["emb_dim"], num_hidden_layers=len(cfg["depths"]),
                       num_attention_heads=cfg["heads"], intermediate_size=4 * cfg["emb_dim"])
    config._attn_implementation = "eager"  # AMT reads the attention weights
    return ViTModel(config, add_pooling_layer=False), cfg["emb_dim"]


class SoundClassifier(torch.nn.Module):
    """Embedding model + cosine classifier head of one recipe architecture.

    Parameters
    ----------
    arch
        conv2d, cnn14, focalnet or vit.
    cfg
        The classifier's config block: ``emb_dim`` (conv2d ``dim`` / CNN14 ``emb_dim``),
        ``n_mels`` (CNN14), ``lin_neurons``, ``depths``/``heads`` (transformers).
    """

    def __init__(self, arch: str, n_classes: int, sample_rate: int, cfg: dict[str, Any]):
        super().__init__()
        self.arch = arch
        if arch == "conv2d":
            self.embedding_model = Conv2dEncoder_v2(dim=cfg["emb_dim"])
            emb = cfg["emb_dim"]
        elif arch == "cnn14":
            self.fbank = LogMel(sample_rate, cfg["n_mels"])
            self.embedding_model = Cnn14(mel_bins=cfg["n_mels"], emb_dim=cfg["emb_dim"], return_reps=True, l2i=True)
            emb = cfg["emb_dim"]
        elif arch in ("focalnet", "vit"):
            self.embedding_model, emb = _transformer_backbone(arch, cfg)
        else:
            raise ValueError(f"unknown architecture {arch!r}; one of {ARCHS}")
        self.rep_dim = emb  # channels of ``representations`` (the PIQ/L2I decoders' dim)
        self.classifier = Classifier(input_size=emb, lin_blocks=1, lin_neurons=cfg["lin_neurons"], out_neurons=n_classes)

    def representations(self, X: torch.Tensor) -> Any:
        """conv2d: (B, dim, 26, 32); cnn14: (x1, x2, x3); focalnet/vit: (B, C, h, w) tokens."""
        if self.arch == "conv2d":
            return self.embedding_model(X)
        if self.arch == "cnn14":
            return self.embedding_model(self.fbank(X))[1]
        out = self.embedding_model(pixel_values=to_image(X))
        tokens = out.last_hidden_state
        if self.arch == "vit":
            tokens = tokens[:, 1:]
        side = int(round(tokens.shape[1] ** 0.5))
        return tokens.transpose(1, 2).reshape(tokens.shape[0], -1, side, side)

    def embed(self, X: torch.Tensor) -> torch.Tensor:
        """The embedding (B, 1, emb) fed to the classifier head."""
        if self.arch == "cnn14":
            return self.embedding_model(self.fbank(X))[0]
        return self.representations(X).mean((-1, -2)).unsqueeze(1)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Cosine scores (B, n_classes) of log1p magnitudes X (B, T, F)."""
        return self.classifier(self.embed(X)).squeeze(1)


def build_classifier(meta: dict[str, Any]) -> SoundClassifier:
    """A classifier from the record saved beside its weights (arch, n_classes, sample_rate, cfg)."""
    return SoundClassifier(meta["arch"], int(meta["n_classes"]), int(meta["sample_rate"]), meta["cfg"])


def load_classifier(path: str | Path, device: str = "cpu") -> SoundClassifier:
    """A trained classifier, frozen and in eval mode."""
    record = load_torch(path)
    model = build_classifier(record)
    model.load_state_dict(record["state_dict"])
    return model.to(device).eval().requires_grad_(False)


def clf_rate(classifier_path) -> int:
    return int(load_torch(classifier_path)["sample_rate"])


# ----------------------------------------------------------------------------- PIQ, NMF, L2I
def build_piq(arch: str, emb_dim: int, n_classes: int, cfg: dict[str, Any]) -> torch.nn.Module:
    return PIQ_CLASSES[arch](dim=emb_dim, K=cfg["K"], numclasses=n_classes, activate_class_partitioning=True,
                             shared_keys=cfg["shared_keys"], use_adapter=True, adapter_reduce_dim=True)


def nmf_dictionary(path: str | Path) -> torch.Tensor:
    """The non-negative NMF dictionary W (513, K) of a trained NMF model."""
    state = load_torch(path)["state_dict"]
    return F.relu(state["decoder.W"])


class L2I(torch.nn.Module):
    """Psi (classifier representations -> NMF activations H (B, K, T)) and Theta (H -> classes)."""

    def __init__(self, arch: str, emb_dim: int, n_classes: int, n_frames: int, cfg: dict[str, Any]):
        super().__init__()
        self.arch = arch
        if arch == "cnn14":
            if emb_dim < 512:
                raise ValueError(f"L2I on CNN14 needs emb_dim >= 512 (Psi concatenates the 512-channel block 4 "
                                 f"with the others compressed to min(emb_dims)); got {emb_dim}")
            self.psi = Psi(n_comp=cfg["K"], T=n_frames, in_emb_dims=[emb_dim, 1024, 512])
            t_h = n_frames
        else:
            self.psi = PsiOptimized(dim=emb_dim, K=cfg["K"], numclasses=n_classes, use_adapter=False,
                                    adapter_reduce_dim=False)
            t_h = 417  # PsiOptimized's decoder gives 417 frames for the (26, 32) conv2d grid
        self.theta = Theta(n_comp=cfg["K"], T=t_h, num_classes=n_classes)

    def activations(self, reps) -> torch.Tensor:
        if self.arch == "cnn14":
            return self.psi(reps)  # (B, K, T)
        return self.psi(reps)[0].squeeze(1).transpose(1, 2)  # (B, 1, 417, K) -> (B, K, 417)
