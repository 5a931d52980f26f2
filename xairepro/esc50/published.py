"""The originals' published ESC-50 models (``esc50.weights: published``), read into this
study's model classes key for key.

What the recipes publish (SpeechBrain ``recipes/ESC50`` at afd34230c; docs/published-weights.md):

- the classifiers, as the ``Pretrainer`` of the interpret recipes fetches them: an
  ``embedding_model`` and a ``classifier`` (``ECAPA_TDNN.Classifier``) state dict each, saved
  with ``torch.save(module.state_dict())``:
  conv2d ``speechbrain/PIQ-ESC50`` ``embedding_modelft.ckpt`` + ``classifier.ckpt``
  (piq.yaml:100-101), CNN14 ``speechbrain/cnn14-esc50`` ``embedding_model_esc50ft.ckpt`` +
  ``classifier_esc50.ckpt`` (l2i_cnn14.yaml:156-157), FocalNet
  ``speechbrain/focalnet-base-esc50`` and ViT ``speechbrain/vit-base-esc50``
  ``embedding_model.ckpt`` + ``classifier.ckpt`` (piq_focalnet.yaml:96-97, piq_vit.yaml:96-97);
- the NMF dictionary ``speechbrain/PIQ-ESC50`` ``nmf_decoder.ckpt`` (``NMFDecoderAudio``,
  one key ``W`` (513, K); l2i_conv2d.yaml:147);
- the interpreters as their ``Checkpointer`` saves them: PIQ's ``psi_model.ckpt``
  (``VectorQuantizedPSI*_Audio``; piq.yaml:83-87), L2I's ``psi_model.ckpt`` and
  ``theta.ckpt`` (``PsiOptimized``/``Psi`` and ``Theta``; l2i_conv2d.yaml:80-85).

Key names: conv2d, CNN14, the heads and every interpreter are SpeechBrain's own classes,
which ours are, so their keys map one to one. FocalNet's encoder is a transformers
``FocalNetBackbone``, whose state dict holds a ``FocalNetModel`` under ``focalnet.``; its
output (``feature_maps[-1]``, classification/train.py:68-72) is the last stage before the
model's final layer norm, so the classifier is built with ``final_norm=False``
(:class:`~xairepro.esc50.models.SoundClassifier`). ViT's is a ``ViTModel`` with its default
pooler, in transformers 4's module names: the names are renamed to the installed ones
(:func:`~xairepro.esc50.models.current_names`) and the pooler's two tensors, which the
recipe's forward never reads (it averages ``last_hidden_state``, train.py:73-77), are the
only keys set aside (:data:`UNUSED_KEYS`). Any other missing, unexpected or mis-shaped key
stops with the file and the first such key.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from typing import Any

import torch

from xairepro.common.checkpoints import load_strict
from xairepro.common.download import download, verify_checksum
from xairepro.common.errors import ConfigError, InputError
from xairepro.common.io import load_torch, save_torch, write_json
from xairepro.esc50.models import L2I, SoundClassifier, build_piq, current_names

log = logging.getLogger(__name__)

#: Keys of a published encoder that the recipe's forward never reads (ViTModel's pooler).
UNUSED_KEYS = {"vit": ("pooler.dense.weight", "pooler.dense.bias")}
#: ViT's module names in transformers 5 and in transformers 4 (the published file's).
VIT4_MODULES = (("attention.q_proj", "attention.attention.query"), ("attention.k_proj", "attention.attention.key"),
                ("attention.v_proj", "attention.attention.value"), ("attention.o_proj", "attention.output.dense"),
                ("mlp.fc1", "intermediate.dense"), ("mlp.fc2", "output.dense"))
#: The prefix under which FocalNetBackbone keeps its FocalNetModel.
BACKBONE_PREFIX = {"focalnet": "focalnet."}


def vit4_names(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """An installed ViTModel's state dict under transformers 4's key names, as the published
    ``embedding_model.ckpt`` holds them (the inverse of
    :func:`~xairepro.esc50.models.current_names`; for writing files in that layout)."""
    renamed = {}
    for key, value in state.items():
        match = re.match(r"^layers\.(\d+)\.(.*)$", key)
        if match:
            i, rest = match.groups()
            for new, old in VIT4_MODULES:
                if rest.startswith(new + "."):
                    rest = old + rest[len(new):]
                    break
            key = f"encoder.layer.{i}.{rest}"
        renamed[key] = value
    return renamed


def read_state(path: str | Path) -> dict[str, torch.Tensor]:
    """A SpeechBrain ``.ckpt``: a state dict read weights-only; anything else is refused."""
    state = load_torch(path)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(path, "not a state dict of tensors (a SpeechBrain .ckpt saves module.state_dict())")
    return state


def fit_strictly(path: str | Path, state: dict[str, torch.Tensor], module: torch.nn.Module, what: str) -> None:
    """Load ``state`` into ``module`` strictly (:func:`xairepro.common.checkpoints.load_strict`),
    or stop naming the file and its first missing, unexpected or mis-shaped key."""
    load_strict(path, state, module, f"the {what}'s state dict",
                "check the file against docs/published-weights.md and the config's widths")


def encoder_state(arch: str, path: str | Path, own: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The published ``embedding_model`` state dict under our encoder's key names."""
    state = read_state(path)
    prefix = BACKBONE_PREFIX.get(arch)
    if prefix is not None:
        outside = [k for k in state if not k.startswith(prefix)]
        if outside:
            raise InputError(path, f"does not fit: key '{outside[0]}' is not under '{prefix}' (a FocalNetBackbone)")
        state = {k[len(prefix):]: v for k, v in state.items()}
    if arch == "vit":
        state = current_names(state, own)
        set_aside = [k for k in UNUSED_KEYS["vit"] if k in state]
        state = {k: v for k, v in state.items() if k not in UNUSED_KEYS["vit"]}
        if set_aside:
            log.info("%s: %s not loaded (ViTModel's pooler; the recipe averages last_hidden_state)", path, set_aside)
    return state


def published_classifier(arch: str, n_classes: int, sample_rate: int, cfg: dict[str, Any],
                         embedding_ckpt: str | Path, classifier_ckpt: str | Path) -> SoundClassifier:
    """The recipe's trained classifier from its two published files, in eval mode.

    Parameters
    ----------
    cfg
        The ``classify.<arch>`` block (widths); FocalNet is built with ``final_norm=False``.
    """
    model = SoundClassifier(arch, n_classes, sample_rate, cfg, final_norm=arch != "focalnet")
    fit_strictly(embedding_ckpt, encoder_state(arch, embedding_ckpt, model.embedding_model.state_dict()),
                 model.embedding_model, f"{arch} embedding model")
    fit_strictly(classifier_ckpt, read_state(classifier_ckpt), model.classifier, f"{arch} classifier head")
    return model.eval()


def classifier_record(model: SoundClassifier, n_classes: int, sample_rate: int, cfg: dict[str, Any]) -> dict:
    """What :func:`~xairepro.esc50.models.load_classifier` reads back."""
    return {"state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "arch": model.arch,
            "n_classes": n_classes, "sample_rate": sample_rate, "rep_dim": model.rep_dim, "cfg": dict(cfg),
            "final_norm": model.final_norm}


def import_classifier(data_root, embedding_ckpt, classifier_ckpt, model_path, metrics_path, *, arch: str,
                      folds: dict[str, list[int]], cfg: dict[str, Any]) -> dict[str, Any]:
    """Rule esc50_import_classifier: a published classifier, evaluated on the validation and
    test folds and written as a trained one is (the recipes' ``--test_only``)."""
    from xairepro.esc50.data import load_features, n_classes_of
    from xairepro.esc50.train import _accuracy, test_counts

    n_classes = n_classes_of(data_root)
    model = published_classifier(arch, n_classes, cfg["sample_rate"], cfg, embedding_ckpt, classifier_ckpt)
    Xva, _, yva, _ = load_features(data_root, folds["valid"], cfg["sample_rate"])
    Xte, _, yte, _ = load_features(data_root, folds["test"], cfg["sample_rate"])
    record = {"arch": arch, "valid_acc": _accuracy(model, Xva, yva), **test_counts(model, Xte, yte, 0), "best_epoch": None,
              "n_classes": n_classes, "resumed_from_epoch": 0, "history": [],
              "params": {"arch": arch, "weights": "published", "embedding_model": str(embedding_ckpt),
                         "classifier": str(classifier_ckpt), "folds": folds, **cfg}}
    save_torch(model_path, classifier_record(model, n_classes, cfg["sample_rate"], cfg))
    write_json(metrics_path, record)
    return record


def import_interpreter(kind: str, model_path, *, classifier_path=None, psi_ckpt=None, theta_ckpt=None,
                       nmf_ckpt=None, cfg: dict[str, Any] | None = None, n_frames: int = 431) -> None:
    """Rule esc50_import_interpreter: a published PIQ decoder, L2I Psi + Theta or NMF
    dictionary, written as the trainers write theirs (``state_dict`` and the meta they read).

    ``n_frames``: STFT frames of a 5 s clip (CNN14's Psi and Theta, l2i_cnn14.yaml).
    """
    if kind == "nmf":
        state = read_state(nmf_ckpt)
        if set(state) != {"W"}:
            raise InputError(nmf_ckpt, f"does not fit: an NMFDecoderAudio holds one key 'W', found {sorted(state)[:3]}")
        save_torch(model_path, {"state_dict": {"decoder.W": state["W"]}, "K": int(state["W"].shape[1])})
        return
    rec = load_torch(classifier_path)
    meta = {"arch": rec["arch"], "emb_dim": rec["rep_dim"], "n_classes": rec["n_classes"], "cfg": dict(cfg)}
    if kind == "piq":
        model = build_piq(rec["arch"], rec["rep_dim"], rec["n_classes"], cfg)
        fit_strictly(psi_ckpt, read_state(psi_ckpt), model, f"PIQ decoder of {rec['arch']}")
    elif kind == "l2i":
        model = L2I(rec["arch"], rec["rep_dim"], rec["n_classes"], n_frames, cfg)
        fit_strictly(psi_ckpt, read_state(psi_ckpt), model.psi, f"L2I Psi of {rec['arch']}")
        fit_strictly(theta_ckpt, read_state(theta_ckpt), model.theta, f"L2I Theta of {rec['arch']}")
        meta["n_frames"] = n_frames
    else:
        raise ValueError(f"unknown interpreter {kind!r}")
    save_torch(model_path, {"state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}, **meta})


def fetch_published(dest, url: str | None, checksum: str | None, folder: str | None, name: str) -> Path:
    """Rule esc50_download_published: one published file, from the user's ``folder`` where
    set, else from ``url``; checked against ``checksum`` (``sha256:<hex>``) where pinned,
    else by reading it as a weights-only state dict (its sha256 is logged for pinning).

    A file placed at ``dest`` by hand is used as is (after the same checks); with neither a
    url nor a folder the message says where to put it.
    """
    dest = Path(dest)
    if checksum is not None and not str(checksum).startswith(("sha256:", "md5:")):
        raise ConfigError(f"esc50/published/paper/files/{name}/checksum must be 'sha256:<hex>', 'md5:<hex>' "
                          f"or null, got {checksum!r}")
    if folder is not None:
        source = Path(folder) / dest.name
        if not source.is_file():
            raise InputError(source, "published file not found in published.dir",
                             f"place {name} there (docs/published-weights.md), or set published.dir: null")
        if checksum is not None:
            verify_checksum(source, checksum)
        read_state(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        return dest
    if url is None and not dest.exists():
        raise InputError(dest, f"published file {name} has no download url",
                         "place it there by hand (its Dropbox folder is named in docs/published-weights.md)")
    return download(url or [], dest, checksum=checksum, verify=read_state)
