"""The models of the study, built from SpeechBrain's classes: the classifiers of the ESC50
classification recipe and the interpreters' decoders.

Every classifier takes the log1p magnitude X (B, 431, 513) of its own sample rate and
returns the cosine scores (B, n_classes) of ``ECAPA_TDNN.Classifier(lin_blocks=1)``; its
``representations`` are what the interpreters decode:

- conv2d: ``PIQ.Conv2dEncoder_v2(dim)`` -> (B, dim, 26, 32); embedding = mean over (T, F).
- cnn14: ``Cnn14.Cnn14(mel_bins, emb_dim, return_reps=True, l2i=True)`` on the log-mel of X
  -> (x1, x2, x3) of channels (emb_dim, 1024, 512).
- focalnet / vit: ``transformers`` backbones on the 224x224 3-channel image of X, built from
  a config; with ``use_pretrained`` (paper scale) they start from the ImageNet weights the
  recipes load (``FocalNetBackbone.from_pretrained("microsoft/focalnet-base")``,
  ``ViTModel.from_pretrained("google/vit-base-patch16-224")``: ``hparams/focalnet.yaml:87``,
  ``hparams/vit.yaml:87`` at afd34230c).
Loss: ``LogSoftmaxWrapper(AdditiveAngularMargin(margin=0.2, scale=30))`` (AAM softmax).

CNN14 sees an 80-mel filterbank (log-mel, dB) of the magnitude (:class:`LogMel`); FocalNet/ViT
a 224x224 resize of the log-spectrogram repeated to 3 channels (:func:`to_image`).
The interpreters' own models: the PIQ decoder (:func:`build_piq`, SpeechBrain's
``VectorQuantizedPSI*_Audio``), L2I's Psi and Theta (:class:`L2I`) and the NMF dictionary
(:func:`nmf_dictionary`); :func:`load_classifier` reads a trained classifier back and
:func:`load_pretrained_encoder` puts the recipes' pretrained encoder weights into a new one.
"""

from __future__ import annotations

import re
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

from xairepro.common.errors import InputError
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
    final_norm
        FocalNet only: represent a clip by ``last_hidden_state``, after the model's final
        layer norm (true: our trained classifiers), or by the last stage's feature map before
        it, as the recipe's ``FocalNetBackbone`` does (false: the published classifier,
        :mod:`xairepro.esc50.published`).
    """

    def __init__(self, arch: str, n_classes: int, sample_rate: int, cfg: dict[str, Any], final_norm: bool = True):
        super().__init__()
        self.arch = arch
        self.final_norm = final_norm
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
        if self.arch == "focalnet" and not self.final_norm:
            # FocalNetBackbone's feature_maps[-1]: the last stage, before the final layer norm
            return self.embedding_model(pixel_values=to_image(X), output_hidden_states=True).reshaped_hidden_states[-1]
        out = self.embedding_model(pixel_values=to_image(X))
        tokens = out.last_hidden_state
        if self.arch == "vit":
            tokens = tokens[:, 1:]
        side = int(round(tokens.shape[1] ** 0.5))
        return tokens.transpose(1, 2).reshape(tokens.shape[0], -1, side, side)

    def embed(self, X: torch.Tensor) -> torch.Tensor:
        """The embedding (B, 1, emb) fed to the classifier head: ViT's is the mean over all 197
        tokens, CLS included, as the recipe's (classification/train.py:73-77 at afd34230c)."""
        if self.arch == "cnn14":
            return self.embedding_model(self.fbank(X))[0]
        if self.arch == "vit":
            return self.embedding_model(pixel_values=to_image(X)).last_hidden_state.mean(1).unsqueeze(1)
        return self.representations(X).mean((-1, -2)).unsqueeze(1)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Cosine scores (B, n_classes) of log1p magnitudes X (B, T, F)."""
        return self.classifier(self.embed(X)).squeeze(1)


def build_classifier(meta: dict[str, Any]) -> SoundClassifier:
    """A classifier from the record saved beside its weights (arch, n_classes, sample_rate, cfg;
    ``final_norm`` in the records of published FocalNet classifiers)."""
    return SoundClassifier(meta["arch"], int(meta["n_classes"]), int(meta["sample_rate"]), meta["cfg"],
                           final_norm=bool(meta.get("final_norm", True)))


def load_classifier(path: str | Path, device: str = "cpu") -> SoundClassifier:
    """A trained classifier, frozen and in eval mode."""
    record = load_torch(path)
    model = build_classifier(record)
    model.load_state_dict(record["state_dict"])
    return model.to(device).eval().requires_grad_(False)


# Where the recipes' starting weights come from (``use_pretrained``): conv2d.yaml:138 and
# cnn14.yaml:149 (``embedding_model_path``, fetched by the recipe's ``Pretrainer``),
# focalnet.yaml:87 and vit.yaml:87 (``from_pretrained``), at afd34230c.
PRETRAINED_SOURCES = {
    "conv2d": "embedding_model.ckpt of https://huggingface.co/speechbrain/PIQ-ESC50",
    "cnn14": "embedding_model.ckpt of https://huggingface.co/speechbrain/cnn14-esc50",
    "focalnet": "pytorch_model.bin or model.safetensors of https://huggingface.co/microsoft/focalnet-base",
    "vit": "pytorch_model.bin or model.safetensors of https://huggingface.co/google/vit-base-patch16-224",
}
# The Hugging Face image-classification checkpoints hold the backbone under this prefix
# (and a ``classifier.*`` head, which the recipes replace by ECAPA_TDNN.Classifier)
HF_BACKBONE_PREFIX = {"focalnet": "focalnet.", "vit": "vit."}
# The published ViT checkpoint keeps the module names of transformers 4
# (encoder.layer.<i>.attention.attention.query, ...); transformers 5 renamed them. Applied
# only to keys the installed model does not have, so either version loads it.
VIT_LEGACY_NAMES = (
    (r"^encoder\.layer\.(\d+)\.attention\.attention\.query\.", r"layers.\1.attention.q_proj."),
    (r"^encoder\.layer\.(\d+)\.attention\.attention\.key\.", r"layers.\1.attention.k_proj."),
    (r"^encoder\.layer\.(\d+)\.attention\.attention\.value\.", r"layers.\1.attention.v_proj."),
    (r"^encoder\.layer\.(\d+)\.attention\.output\.dense\.", r"layers.\1.attention.o_proj."),
    (r"^encoder\.layer\.(\d+)\.intermediate\.dense\.", r"layers.\1.mlp.fc1."),
    (r"^encoder\.layer\.(\d+)\.output\.dense\.", r"layers.\1.mlp.fc2."),
    (r"^encoder\.layer\.(\d+)\.", r"layers.\1."),
)


def current_names(state: dict[str, torch.Tensor], own: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` with transformers-4 ViT key names renamed to the installed ones where ``own`` lacks them."""
    renamed = {}
    for key, value in state.items():
        if key not in own:
            for pattern, replacement in VIT_LEGACY_NAMES:
                key, n = re.subn(pattern, replacement, key)
                if n:
                    break
        renamed[key] = value
    return renamed


def read_weights(path: str | Path, arch: str) -> dict[str, torch.Tensor]:
    """A state dict from a ``.safetensors`` file or a torch file read weights-only."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, f"pretrained {arch} weights not found (use_pretrained is true)",
                         f"place the {PRETRAINED_SOURCES[arch]} there, or set use_pretrained: false")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    return load_torch(path)


def load_pretrained_encoder(model: SoundClassifier, path: str | Path) -> None:
    """Load the recipe's pretrained weights into ``model.embedding_model`` (the head stays new).

    conv2d and CNN14: a SpeechBrain ``embedding_model.ckpt`` (the encoder's state dict, as
    the recipe's ``Pretrainer`` loads it). FocalNet and ViT: a Hugging Face
    ``pytorch_model.bin`` / ``model.safetensors`` of the image classifier, whose backbone
    keys (``focalnet.*`` / ``vit.*``) are taken and its ImageNet head dropped. Every encoder
    key must be present and fit; a file of another architecture or width stops with the
    keys that do not fit.
    """
    state = read_weights(path, model.arch)
    prefix = HF_BACKBONE_PREFIX.get(model.arch)
    own = model.embedding_model.state_dict()
    if prefix is not None:
        state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        state = current_names(state, own)
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        raise InputError(path, f"does not fit the {model.arch} encoder of this config: missing {missing[:5]}, "
                               f"unexpected {unexpected[:5]}, wrong shape {wrong[:5]}",
                         f"expected the {PRETRAINED_SOURCES[model.arch]}")
    model.embedding_model.load_state_dict(state, strict=True)


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
