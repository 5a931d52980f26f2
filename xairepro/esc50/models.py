"""The classifiers of the ESC50 classification recipe, built from SpeechBrain's classes.

Every classifier takes the log1p magnitude X (B, 431, 513) of its own sample rate and
returns the cosine scores (B, n_classes) of ``ECAPA_TDNN.Classifier(lin_blocks=1)``; its
``representations`` are what the interpreters decode:

- conv2d: ``PIQ.Conv2dEncoder_v2(dim)`` -> (B, dim, 26, 32); embedding = mean over (T, F).
- cnn14: ``Cnn14.Cnn14(mel_bins, emb_dim, return_reps=True, l2i=True)`` on the log-mel of X
  -> (x1, x2, x3) of channels (emb_dim, 1024, 512).
- focalnet / vit: ``transformers`` backbones on the 224x224 3-channel image of X (random
  init from a config here; the paper uses the pretrained Hugging Face weights).
Loss: ``LogSoftmaxWrapper(AdditiveAngularMargin(margin=0.2, scale=30))`` (AAM softmax).
"""

from __future__ import annotations

from typing import Any

import torch
from speechbrain.lobes.models.Cnn14 import Cnn14
from speechbrain.lobes.models.ECAPA_TDNN import Classifier
from speechbrain.lobes.models.PIQ import Conv2dEncoder_v2
from speechbrain.nnet.losses import AdditiveAngularMargin, LogSoftmaxWrapper

from xairepro.esc50.features import LogMel, to_image

ARCHS = ("conv2d", "cnn14", "focalnet", "vit")


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
