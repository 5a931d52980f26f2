"""The esc50 study's paper-smoke mirror (`make paper-smoke`, docs/paper-smoke.md).

``write_mirror(root)`` writes one file, ``root/mirror/esc50/master.zip``, in the format of
the archive GitHub serves for karoldvl/ESC-50 (``archive/master.zip``):

- a zip (deflate) whose members sit under the top folder ``ESC-50-master/``, with the
  folders' own entries, the repository's ``README.md`` and ``LICENSE`` beside the data, and
  a 40-hex commit id as the archive comment, as GitHub's code-load zips carry;
- ``ESC-50-master/meta/esc50.csv``: the release's columns
  ``filename,fold,target,category,esc10,src_file,take``, one row per clip, sorted by file
  name; ``category`` and ``esc10`` are the release's for each target (0 dog ... 9 crow);
- ``ESC-50-master/audio/{fold}-{freesound id}-{take}-{target}.wav``: 5 s, 44.1 kHz, mono,
  16-bit PCM RIFF/WAVE (as every ESC-50 clip), written with scipy.io.wavfile. Like the
  release's clips of short sounds, each is one event padded with digital silence: a 0.6 s
  tone of two harmonics (a class-specific pitch whose period is a whole number of
  samples, so the zip stays small) at a class-specific onset, with 10 ms ramps.

The tiny release holds 10 classes (targets 0-9), one clip each, two per fold (the least
that keeps the folds equal and gives the overlap test two classes in the test fold): the
classifiers train on folds 1-3 (capped to 2 clips), validate on 2 clips (fold 4) and the
interpreters explain 2 test clips (fold 5) of two different classes. The archive is not the
2000-clip release, so the returned override states its shape (``esc50.data.paper.shape``)
for the download's content check, which stays the paper path (``checksum`` null: GitHub
publishes none), and points ``url`` at the file. About 30 kB; deterministic.

The caps (config/smoke/esc50.yaml) are one epoch per trainer and ``classify``
``max_train_clips: 2``.

It also places, as a user must, the conv2d classifier's starting weights where the paper
config reads them (``classify`` ``conv2d`` ``embedding_model_path``): a SpeechBrain
``embedding_model.ckpt``, the encoder's state dict saved with ``torch.save`` as the recipe's
Pretrainer fetches it from speechbrain/PIQ-ESC50, here of a seeded, untrained
``speechbrain.lobes.models.PIQ.Conv2dEncoder_v2`` of the paper's width (256; 15 MB), so the
smoke runs the pretrained-loading path. CNN14's (300 MB) and the ImageNet FocalNet/ViT files
(~350 MB each) are too large to write; the smoke starts those three from random weights
(``use_pretrained: false`` in config/smoke/esc50.yaml).

``write_published(root)`` writes the published-weights pass's files (issue 22,
docs/published-weights.md): the recipes' released models in their layouts (SpeechBrain
state dicts; FocalNetBackbone; transformers-4 ViTModel), seeded and untrained, served by
``file://`` urls with pinned sha256; ``PUBLISHED_TARGETS`` are the outputs built from them.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from scipy.io import wavfile

SAMPLE_RATE = 44100
SECONDS = 5
N_CLASSES = 10
N_FOLDS = 5
EVENT_SECONDS = 0.6
#: The release's categories of targets 0-9 and whether each is in ESC-10.
CATEGORIES = ["dog", "rooster", "pig", "cow", "frog", "cat", "hen", "insects", "sheep", "crow"]
ESC10 = {"dog", "rooster"}
COMMIT = "33c8ce9eb2cf0b1c2f8bcf322eb349b6be34dbb6"  # the zip comment: a commit id, as GitHub writes it
README = b"# ESC-50: Dataset for Environmental Sound Classification (tiny smoke-test copy)\n"
LICENSE = b"Attribution-NonCommercial 3.0 Unported (CC BY-NC 3.0)\n"


def clip(target: int) -> np.ndarray:
    """5 s of int16 silence holding one 0.6 s two-harmonic tone of class ``target``."""
    n, m = SECONDS * SAMPLE_RATE, int(EVENT_SECONDS * SAMPLE_RATE)
    period = 20 + 9 * target  # samples: 2205 Hz (target 0) down to 438 Hz (target 9)
    t = np.arange(m)
    tone = np.sin(2 * np.pi * t / period) + 0.5 * np.sin(4 * np.pi * t / period)
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / (0.01 * SAMPLE_RATE))
    x = np.zeros(n)
    start = int((0.5 + 0.35 * target) * SAMPLE_RATE)
    x[start:start + m] = 0.5 * tone * ramp / 1.5
    return np.round(x * 32767).astype(np.int16)


def write_archive(path: Path) -> dict[str, int]:
    """Write the tiny master.zip; return its shape (clips, classes, folds)."""
    rows = []
    for target in range(N_CLASSES):
        fold = target // (N_CLASSES // N_FOLDS) + 1
        src = f"{100000 + 1037 * target}"
        rows.append((f"{fold}-{src}-A-{target}.wav", fold, target, CATEGORIES[target],
                     CATEGORIES[target] in ESC10, src, "A"))
    rows.sort()
    meta = "filename,fold,target,category,esc10,src_file,take\n" + "".join(
        f"{name},{fold},{target},{cat},{esc10},{src},{take}\n" for name, fold, target, cat, esc10, src, take in rows)
    top = "ESC-50-master/"

    def entry(name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(top + name, date_time=(2023, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.comment = COMMIT.encode()
        for folder in ("", "audio/", "meta/"):
            zf.writestr(zipfile.ZipInfo(top + folder, date_time=(2023, 1, 1, 0, 0, 0)), b"")
        zf.writestr(entry("LICENSE"), LICENSE)
        zf.writestr(entry("README.md"), README)
        for name, _, target, *_ in rows:
            buffer = io.BytesIO()
            wavfile.write(buffer, SAMPLE_RATE, clip(target))
            zf.writestr(entry("audio/" + name), buffer.getvalue())
        zf.writestr(entry("meta/esc50.csv"), meta.encode())
    return {"clips": len(rows), "classes": N_CLASSES, "folds": N_FOLDS}


def write_encoder_checkpoint(path: Path, dim: int = 256) -> None:
    """A SpeechBrain ``embedding_model.ckpt`` of the recipe's conv2d encoder (seeded, untrained)."""
    import torch
    from speechbrain.lobes.models.PIQ import Conv2dEncoder_v2

    torch.manual_seed(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(Conv2dEncoder_v2(dim=dim).state_dict(), path)


def write_mirror(root: Path) -> dict:
    """Write the mirror under ``root/mirror/esc50`` and the conv2d starting weights under
    ``root/data/paper/esc50/pretrained/``; return the esc50 part of the override."""
    archive = Path(root).resolve() / "mirror" / "esc50" / "master.zip"
    shape = write_archive(archive)
    placed = Path(root).resolve() / "data" / "paper" / "esc50" / "pretrained"
    write_encoder_checkpoint(placed / "conv2d" / "embedding_model.ckpt")
    return {"esc50": {"data": {"paper": {"url": archive.as_uri(), "shape": shape}}}}


# ----------------------------------------------------------------------------- published weights
#: The esc50 outputs of the published-weights pass (docs/published-weights.md), relative to the run folder.
PUBLISHED_TARGETS = [
    # one figure per importer kind (PIQ, L2I with the NMF dictionary, AMT on FocalNet) and every
    # imported classifier's accuracy; the claims need every interpretation (CI time)
    "results/paper/esc50/accuracy_table.csv",
    "results/paper/esc50/fig_clips_piq_conv2d.png",
    "results/paper/esc50/fig_clips_l2i_conv2d.png",
    "results/paper/esc50/fig_clips_amt_focalnet.png",
]
#: The published pass's archs: CNN14's published encoder (300 MB at the paper's emb_dim 2048)
#: is too large to write, so the pass interprets conv2d (paper widths), FocalNet and ViT
#: (reduced widths, their paper files being ~350 MB each); tests/esc50/test_esc50_published_weights.py
#: loads a CNN14 file of the same key names.
PUBLISHED_WIDTHS = {"focalnet": {"emb_dim": 16, "depths": [1, 1]},
                    "vit": {"emb_dim": 32, "depths": [1, 1], "heads": 2}}


def _published_models(n_classes: int) -> dict:
    """Seeded, untrained modules in the originals' classes and layouts, at the widths the
    published pass builds (config/esc50.yaml's paper block; FocalNet/ViT: PUBLISHED_WIDTHS):
    name -> state dict, as the recipes' Checkpointer/Pretrainer files hold them."""
    import torch
    import yaml
    from speechbrain.lobes.models.ECAPA_TDNN import Classifier
    from speechbrain.lobes.models.L2I import NMFDecoderAudio, PsiOptimized, Theta
    from speechbrain.lobes.models.PIQ import Conv2dEncoder_v2
    from transformers import FocalNetBackbone, FocalNetConfig, ViTConfig, ViTModel

    from xairepro.esc50.models import build_piq
    from xairepro.esc50.published import vit4_names

    cfg = yaml.safe_load((Path(__file__).resolve().parents[2] / "config" / "esc50.yaml").read_text())["esc50"]
    conv2d = cfg["classify"]["paper"]["conv2d"]
    piq = {"K": cfg["piq"]["paper"]["K"], "shared_keys": cfg["piq"]["shared_keys"]}
    k_l2i = cfg["l2i"]["paper"]["K"]
    torch.manual_seed(0)
    focal = PUBLISHED_WIDTHS["focalnet"]
    focal_dims = [focal["emb_dim"] * 2 ** i for i in range(len(focal["depths"]))]
    vit = PUBLISHED_WIDTHS["vit"]
    vit_config = ViTConfig(image_size=224, patch_size=16, hidden_size=vit["emb_dim"],
                           num_hidden_layers=len(vit["depths"]), num_attention_heads=vit["heads"],
                           intermediate_size=4 * vit["emb_dim"])
    lin = conv2d["lin_neurons"]
    states = {
        "conv2d_embedding": Conv2dEncoder_v2(dim=conv2d["emb_dim"]).state_dict(),
        "conv2d_classifier": Classifier(input_size=conv2d["emb_dim"], lin_blocks=1, lin_neurons=lin,
                                        out_neurons=n_classes).state_dict(),
        "conv2d_piq": build_piq("conv2d", conv2d["emb_dim"], n_classes, piq).state_dict(),
        "conv2d_l2i_psi": PsiOptimized(dim=conv2d["emb_dim"], K=k_l2i, numclasses=n_classes, use_adapter=False,
                                       adapter_reduce_dim=False).state_dict(),
        "conv2d_l2i_theta": Theta(n_comp=k_l2i, T=417, num_classes=n_classes).state_dict(),
        "nmf": NMFDecoderAudio(k_l2i, 513).state_dict(),
        # FocalNetBackbone.from_pretrained, then trained: its FocalNetModel under focalnet.*
        "focalnet_embedding": FocalNetBackbone(FocalNetConfig(
            image_size=224, patch_size=4, embed_dim=focal["emb_dim"], depths=focal["depths"],
            focal_levels=[2] * len(focal["depths"]), hidden_sizes=focal_dims)).state_dict(),
        "focalnet_classifier": Classifier(input_size=focal_dims[-1], lin_blocks=1, lin_neurons=lin,
                                          out_neurons=n_classes).state_dict(),
        "focalnet_piq": build_piq("focalnet", focal_dims[-1], n_classes, piq).state_dict(),
        # ViTModel.from_pretrained (with its pooler), in transformers 4's key names
        "vit_embedding": vit4_names(ViTModel(vit_config).state_dict()),
        "vit_classifier": Classifier(input_size=vit["emb_dim"], lin_blocks=1, lin_neurons=lin,
                                     out_neurons=n_classes).state_dict(),
        "vit_piq": build_piq("vit", vit["emb_dim"], n_classes, piq).state_dict(),
    }
    return {name: {k: v.contiguous() for k, v in state.items()} for name, state in states.items()}


def write_published(root: Path) -> dict:
    """Write the published files under ``root/mirror/esc50/published/<name>.ckpt``
    (``torch.save`` of each state dict, as SpeechBrain writes them) and return the override
    switching esc50 to them: ``weights: published``, each file's ``file://`` url and sha256
    (so the download's checksum path runs), and the pass's archs and widths."""
    import hashlib

    import torch

    folder = Path(root).resolve() / "mirror" / "esc50" / "published"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, state in _published_models(N_CLASSES).items():
        path = folder / f"{name}.ckpt"
        torch.save(state, path)
        files[name] = {"url": path.as_uri(), "checksum": "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()}
    return {"esc50": {
        "weights": "published",
        "published": {"paper": {"files": files}},
        "classify": {"paper": {"archs": ["conv2d", "focalnet", "vit"], **PUBLISHED_WIDTHS}},
        "l2i": {"paper": {"archs": ["conv2d"]}},
    }}
