"""The original's published checkpoints, loaded key for key into our two classifiers.

The Zenodo record 14774191 (one zip, also the paper data) holds, beside the data, the
checkpoints the original's figures come from (``preprocessing/create_zenodo_zipfile.py:17-39``
of HuwCheston/deep-pianist-identification):

``checkpoints/baselines/resnet50-jtd+pijama-augment/checkpoint_099.pth``
    The LIME model, the original's ``ResNet50`` (``encoders/resnet.py``): torchvision's
    ResNet-50 key layout (``conv1``, ``bn1``, ``layer<i>.<j>.conv1..bn3``, ``downsample.0/1``,
    ``fc``) with a one-channel stem and ``fc`` of 2048 x 20.
``checkpoints/disentangle-resnet-channel/disentangle-jtd+pijama-resnet18-mask30concept3-augment50-noattention-avgpool-onefc/checkpoint_099.pth``
    The TCAV model, the original's ``DisentangleNet`` with a torchvision ResNet-18 per concept
    (``encoders/disentangle.py:96-175``): ``<concept>_concept.<resnet-18 keys>`` (one-channel
    ``conv1``, no ``fc``: it is an identity), and the head ``fc2.fc`` (512 x 20); ``fc1`` is an
    identity (``use_2fc: false``), the concept pooling a mean.

Each file is ``torch.save(dict(**metrics, model_state_dict=..., optimizer_state_dict=...,
scheduler_state_dict=..., epoch=...))`` (``training.py:486-494``); the metrics are numpy
float64 scalars (``np.mean``) beside Python floats. Both are read with ``weights_only=True``:
the only globals allowed beyond torch's own are numpy's scalar constructor and float/int
dtypes, which the metrics need (never a full unpickle).

Our classes name their modules differently (``trunk.stem.0`` for ``conv1``, ``body.<n>`` for a
bottleneck's convolutions, ``down`` for ``downsample``, ``branches.<concept>``, ``fc``):
:func:`original_name` maps each of our keys to the original's, and :func:`load_published`
loads strictly. A checkpoint that does not fit stops with one message naming the file and
the first missing, unexpected or mis-shaped key, in the original's names.
"""

from __future__ import annotations

import logging
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from xairepro.common.download import file_digest, verify_checksum
from xairepro.common.errors import InputError
from xairepro.common.io import atomic_path, save_torch, write_csv, write_json
from xairepro.common.provenance import stamp
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.pianist.data import CHANNELS, load_table
from xairepro.pianist.models import build_model

log = logging.getLogger(__name__)

RECORD = "Zenodo record 14774191 (https://zenodo.org/records/14774191)"
#: Top-level keys of the original's checkpoint dict besides its metrics (training.py:486-494).
CHECKPOINT_KEYS = ("model_state_dict", "optimizer_state_dict", "scheduler_state_dict", "epoch")
#: A bottleneck's ``body`` Sequential index -> the original's module (torchvision's names).
_BODY = {"0": "conv1", "1": "bn1", "3": "conv2", "4": "bn2", "6": "conv3", "7": "bn3"}


def _trunk_name(key: str) -> str:
    """Our :class:`~xairepro.pianist.models.ResNetTrunk` key -> torchvision's ResNet key."""
    key = re.sub(r"^stem\.0\.", "conv1.", key)
    key = re.sub(r"^stem\.1\.", "bn1.", key)
    key = re.sub(r"\.down\.", ".downsample.", key)
    return re.sub(r"\.body\.(\d)\.", lambda m: f".{_BODY[m.group(1)]}.", key)


def original_name(kind: str, key: str) -> str:
    """The original's name of one of our state-dict keys.

    >>> original_name("resnet", "trunk.layer1.0.body.3.weight")
    'layer1.0.conv2.weight'
    >>> original_name("disentangle", "branches.harmony.layer4.1.down.0.weight")
    'harmony_concept.layer4.1.downsample.0.weight'
    >>> original_name("disentangle", "fc.bias")
    'fc2.fc.bias'
    """
    if kind == "resnet":
        return _trunk_name(key[len("trunk."):]) if key.startswith("trunk.") else key
    if key.startswith("branches."):
        concept, _, rest = key[len("branches."):].partition(".")
        return f"{concept}_concept.{_trunk_name(rest)}"
    return f"fc2.{key}"


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The original's checkpoint dict, read with ``weights_only=True`` (numpy scalars allowed)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "published checkpoint not found",
                         f"it is a member of the archive of {RECORD}; see docs/published-weights.md")
    scalar = np._core.multiarray.scalar if hasattr(np, "_core") else np.core.multiarray.scalar
    allowed = [(scalar, "numpy.core.multiarray.scalar"), (scalar, "numpy._core.multiarray.scalar"), np.dtype,
               *(type(np.dtype(t)) for t in ("float64", "float32", "int64"))]
    try:
        with torch.serialization.safe_globals(allowed):
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises RuntimeError, UnpicklingError, EOFError, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(path, f"not a readable checkpoint ({type(exc).__name__}: {first[:200]})",
                         "only tensors, plain values and numpy scalars are read; never unpickled") from exc
    if not isinstance(state, dict) or "model_state_dict" not in state:
        raise InputError(path, "missing key 'model_state_dict' (not the original's checkpoint dict)",
                         f"expected a dict with {list(CHECKPOINT_KEYS)}, as in the archive of {RECORD}")
    return state


def load_published(path: str | Path, kind: str, arch: dict[str, Any], n_classes: int) -> nn.Module:
    """Our ``kind`` model (eval mode) holding the original's published weights, loaded strictly.

    Raises
    ------
    InputError
        Naming ``path`` and the first key (the original's name) that is missing from the
        checkpoint, unexpected in it, or of another shape than our model's.
    """
    source = read_checkpoint(path)["model_state_dict"]
    model = build_model(kind, n_classes, arch)
    ours = model.state_dict()
    names = {original_name(kind, key): key for key in ours}
    for name, key in names.items():
        if name not in source:
            raise InputError(path, f"missing key '{name}' (our {kind}'s '{key}')",
                             "the checkpoint does not hold the original's published architecture")
    for name in source:
        if name not in names:
            raise InputError(path, f"unexpected key '{name}' (no parameter of our {kind} takes it)",
                             "the checkpoint does not hold the original's published architecture")
    for name, key in names.items():
        if tuple(source[name].shape) != tuple(ours[key].shape):
            raise InputError(path, f"key '{name}' has shape {tuple(source[name].shape)}, our {kind}'s '{key}' "
                             f"{tuple(ours[key].shape)}", "check the class count and pianist.<model>.paper.arch")
    model.load_state_dict({key: source[name] for name, key in names.items()}, strict=True)
    return model.eval()


def fetch_published(out: str | Path, *, member: str, archive: str | Path | None = None,
                    archive_checksum: str | None = None, folder: str | Path | None = None,
                    sha256: str | None = None) -> Path:
    """One published checkpoint at ``out``: ``member`` (its path in the original's layout) copied
    from ``folder`` (the unzipped archive or the original's repository) when one is named,
    else extracted from the Zenodo ``archive`` (verified again against ``archive_checksum``).
    A pinned ``sha256`` is checked; without one the file's sha256 is logged, to pin it."""
    out = Path(out)
    if folder is not None:
        src = Path(folder) / member
        if not src.is_file():
            raise InputError(src, "published checkpoint not found",
                             f"unzip the archive of {RECORD} there, or set pianist.published.paper.dir: null")
        with atomic_path(out) as tmp:
            shutil.copyfile(src, tmp)
    else:
        if archive_checksum:
            verify_checksum(archive, archive_checksum)
        with zipfile.ZipFile(archive) as zf:
            found = [n for n in zf.namelist() if n == member or n.endswith(f"/{member}")]
            if not found:
                raise InputError(archive, f"no member '{member}'", f"the archive of {RECORD} holds it")
            with zf.open(min(found, key=len)) as src_handle, atomic_path(out) as tmp, open(tmp, "wb") as handle:
                shutil.copyfileobj(src_handle, handle, 1 << 20)
    if sha256:
        try:
            verify_checksum(out, f"sha256:{sha256}")
        except InputError:
            out.unlink()
            raise
        log.info("%s: matches its pinned sha256", out)
    else:
        log.info("%s: sha256 %s (pin it as pianist.published.paper.sha256)", out, file_digest(out))
    return out


def evaluate_published(checkpoint: str | Path, data_path: str | Path, model_path: str | Path,
                       metrics_path: str | Path, accuracy_path: str | Path, confusion_path: str | Path, *,
                       kind: str, arch: dict[str, Any], roll: dict[str, Any], batch_size: int, seed: int,
                       threads: int = 1, device: str = "auto") -> dict[str, Any]:
    """Load a published checkpoint into our ``kind`` model, write it in our weights format
    (what the attribution rules read) and evaluate it on the held-out splits as a trained
    model is (accuracy with its randomised control, confusion counts)."""
    from xairepro.pianist.train import held_out_tables

    seed_everything(seed, threads)
    device = pick_device(device)
    table = load_table(data_path)
    n_classes = len(table.performer)
    model = load_published(checkpoint, kind, arch, n_classes).to(device)
    save_torch(model_path, {"state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                            "kind": kind, "arch": arch, "n_classes": n_classes, "performers": table.performer,
                            "published": str(checkpoint)})
    accuracy, confusion = held_out_tables(model, table, kind, roll, seed, batch_size, device)
    original = read_checkpoint(checkpoint)
    record = {"kind": kind, "weights": "published", "checkpoint": str(checkpoint),
              "checkpoint_sha256": file_digest(checkpoint),
              "original_epoch": int(original.get("epoch", -1)),
              "original_metrics": {k: float(v) for k, v in original.items()
                                   if k not in CHECKPOINT_KEYS and np.ndim(v) == 0 and not isinstance(v, str)},
              **{f"{r['split']}_{k}": r[k] for r in accuracy.to_dict("records")
                 for k in ("clip_accuracy", "track_accuracy")}}
    write_json(metrics_path, record)
    params = {"kind": kind, "arch": arch, "roll": roll, "batch_size": batch_size, "seed": seed,
              "weights": "published", "checkpoint_sha256": record["checkpoint_sha256"]}
    provenance = stamp("pianist", params, seed)
    write_csv(accuracy_path, accuracy, provenance)
    write_csv(confusion_path, confusion, provenance)
    log.info("%s (published): %s", kind, {k: round(v, 3) for k, v in record.items() if k.endswith("accuracy")})
    return record


def original_network(kind: str, n_classes: int, seed: int | None = None) -> nn.Module:
    """The original's published network rebuilt from torchvision, for tests and the smoke run.

    Its ``state_dict()`` has exactly the original's key names and shapes and its eval-mode
    forward is the original's: ``resnet`` = torchvision ResNet-50 with a one-channel stem and
    a ``fc`` of ``n_classes`` (``encoders/resnet.py``); ``disentangle`` = one torchvision
    ResNet-18 per concept (one-channel stem, ``fc`` an identity) as ``<concept>_concept``, the
    mean of the four 512-d embeddings and ``fc2.fc`` (``encoders/disentangle.py``, ``use_2fc:
    false``). With ``seed``, every parameter and normalisation statistic is drawn at random
    at the scale of a trained network (He-scaled weights, batch-norm scales in [0.25, 0.75],
    variances in [0.5, 1.5], small shifts and means), so that a key loaded into the wrong
    place changes the output and activations neither vanish nor explode through 50 layers.
    """
    from torchvision.models import resnet50

    network = _one_channel(resnet50(weights=None, num_classes=n_classes)) if kind == "resnet" \
        else _OriginalDisentangle(n_classes)
    if seed is not None:
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, tensor in network.state_dict().items():
                if not tensor.is_floating_point():
                    continue
                if name.endswith("running_var"):
                    tensor.copy_(0.5 + torch.rand(tensor.shape, generator=gen))
                elif tensor.dim() == 1 and name.endswith(".weight"):  # batch-norm scales
                    tensor.copy_(0.25 + 0.5 * torch.rand(tensor.shape, generator=gen))
                elif tensor.dim() > 1:  # conv and linear weights: He scale of their fan-in
                    fan_in = tensor[0].numel()
                    tensor.copy_(torch.randn(tensor.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                else:  # biases, batch-norm shifts and running means
                    tensor.copy_(torch.randn(tensor.shape, generator=gen) * 0.1)
    return network.eval()


class _OriginalDisentangle(nn.Module):
    def __init__(self, n_classes: int):
        super().__init__()
        from torchvision.models import resnet18

        for concept in CHANNELS:
            trunk = _one_channel(resnet18(weights=None))
            trunk.fc = nn.Identity()
            setattr(self, f"{concept}_concept", trunk)
        self.fc2 = nn.Module()
        self.fc2.fc = nn.Linear(512, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (N, 4, 88, T) -> embeddings (N, 4, 512) -> mean over concepts -> logits (N, n_classes)
        emb = torch.stack([getattr(self, f"{c}_concept")(x[:, i:i + 1]) for i, c in enumerate(CHANNELS)], dim=1)
        return self.fc2.fc(emb.mean(dim=1))


def _one_channel(net: nn.Module) -> nn.Module:
    old = net.conv1
    net.conv1 = nn.Conv2d(1, old.out_channels, old.kernel_size, old.stride, old.padding, bias=False)
    return net


def original_checkpoint(network: nn.Module, kind: str, epoch: int = 99) -> dict[str, Any]:
    """A checkpoint dict in the original's layout (training.py:486-494): its metrics (numpy
    float64 where ``np.mean`` gives them), the network's state, an optimizer and scheduler
    state of the original's kinds (SGD + cosine for the baseline; Adam + a constant schedule,
    the original's no-op, for DisentangleNet), before any step (no moment tensors), the epoch."""
    params = list(network.parameters())
    if kind == "resnet":
        optim = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(optim, T_max=100)
    else:
        optim = torch.optim.Adam(params, lr=1e-4)
        sched = torch.optim.lr_scheduler.ConstantLR(optim, factor=1.0, total_iters=0)
    metrics = {"epoch_time": 60.0, "train_loss": np.float64(0.5), "train_acc": np.float64(0.8),
               "train_acc_track": 0.9, "test_loss": np.float64(0.6), "test_acc": np.float64(0.7),
               "test_acc_track": 0.9, "lr": 1e-4}
    return {**metrics, "model_state_dict": network.state_dict(), "optimizer_state_dict": optim.state_dict(),
            "scheduler_state_dict": sched.state_dict(), "epoch": epoch}
