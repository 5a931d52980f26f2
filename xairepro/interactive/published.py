"""The originals' published models of the interactive study (``interactive.weights: published``).

What the originals publish (docs/published-weights.md, "interactive"):

* HealthML/StyleGAN2-Hypotheses-Explorer ships one trained classifier in its repository,
  ``server/resources/evaluators/celeb-smile/discriminator.pt``: the CelebA-HQ Smiling
  ResNet-18 of the paper, written by the original's ``train.py`` (``export_model``,
  train.py:93-95: ``torch.save`` of torchvision's ``resnet18`` state dict with
  ``fc = Linear(512, 1)``) and read by its evaluator (``logic/evaluator/resnet18.py:14-17``).
  Its checksum is the git blob id the repository's tree publishes; :func:`git_blob_sha1`
  checks it. :func:`load_published_classifier` reads it into our
  :func:`~xairepro.interactive.models.resnet18_norepeat`, whose keys are torchvision's.
* NVlabs' StyleGAN2-ADA FFHQ generator is a pickle, which this project never unpickles. The
  published path reads ``G_ema`` converted once, in NVlabs' own environment, to a
  ``torch.save``'d record of plain values, its state dict, architecture name and
  constructor arguments (docs/published-weights.md gives the conversion), read weights-only;
  :func:`load_converted_generator` builds the network from the user's clone of
  stylegan2-ada-pytorch and loads it strictly.
* FairFace's ``res34_fair_align_multi_7`` (user-provided in the original too) is read by
  :func:`xairepro.interactive.models.load_fairface`, checked with
  :func:`xairepro.common.checkpoints.check_state_dict`.

Every loader is strict: a checkpoint that does not fit stops with one :class:`InputError`
naming the file and the first missing, unexpected or mis-shaped key.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from torch import nn

from xairepro.common.checkpoints import load_strict
from xairepro.common.errors import ConfigError, InputError

log = logging.getLogger(__name__)

# The generator architectures a converted file may name: NVlabs' network (needs the user's
# clone of stylegan2-ada-pytorch) or the demo generator (the smoke run and the tests).
GENERATOR_ARCHITECTURES = ("stylegan2-ada", "demo")
CONVERSION_HINT = "convert NVlabs' ffhq.pkl once in their environment, as docs/published-weights.md ('interactive') shows"


# --------------------------------------------------------------------------- fetching
def git_blob_sha1(path: str | Path) -> str:
    """The git blob id of a file, sha1 of ``b"blob <size>\\0"`` and the content: the checksum a
    git repository's tree publishes for every file it holds."""
    path = Path(path)
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())  # noqa: S324  # git's id, not security
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_published(urls: Sequence[str], dest: str | Path, *, git_blob: str | None = None,
                    sha256: str | None = None, folder: str | Path | None = None,
                    name: str | None = None, retries: int = 3) -> Path:
    """Fetch one published checkpoint to ``dest`` and check it.

    Parameters
    ----------
    urls
        Mirrors, tried in order (:func:`xairepro.common.download.download`); a file already at
        ``dest`` with the right checksum (placed by hand) is kept.
    git_blob, sha256
        The checksum as published: the git blob id of a file in a repository's tree, or a
        sha256. At least one.
    folder, name
        A folder the user names holding the file at ``name`` (relative, the original's
        layout): tried before the mirrors.
    """
    from xairepro.common.download import download

    if git_blob is None and sha256 is None:
        raise ValueError(f"{dest}: a published file needs its git blob id or sha256")
    mirrors = list(urls)
    if folder is not None:
        local = Path(folder).expanduser().resolve() / (name or Path(dest).name)
        if not local.is_file():
            raise InputError(local, "not found in the folder named by interactive.published.dir",
                             "place the published file there or set dir: null to download it")
        mirrors.insert(0, local.as_uri())

    def check_blob(path: Path) -> None:
        if git_blob is not None:
            actual = git_blob_sha1(path)
            if actual != git_blob.lower():
                raise InputError(path, f"git blob id {actual} differs from the published {git_blob}",
                                 "the download is corrupt or upstream changed; delete it and re-run")
            log.info("%s: git blob id %s as published", dest, actual)
        load_plain_state_dict(path)

    return download(mirrors, dest, f"sha256:{sha256}" if sha256 else None, retries=retries, verify=check_blob)


# --------------------------------------------------------------------------- classifiers
def load_plain_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A ``torch.save``'d state dict of tensors (the originals' format), read weights-only."""
    from xairepro.common.io import load_torch

    state = load_torch(path)
    if not isinstance(state, Mapping) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(path, "not a state dict of tensors (the original's torch.save(model.state_dict()))")
    return dict(state)


def load_published_classifier(path: str | Path) -> nn.Module:
    """The original's classifier file (``celeb-<attr>/discriminator.pt``: torchvision's
    ResNet-18 keys, ``fc.weight`` (1, 512), ``fc.bias`` (1,)) in our ResNet-18, eval mode.

    Our :func:`~xairepro.interactive.models.resnet18_norepeat` has torchvision's parameter
    names (its extra ReLU modules hold no parameters), so the keys map one to one.
    """
    from xairepro.interactive.models import resnet18_norepeat

    return load_strict(path, load_plain_state_dict(path), resnet18_norepeat(),
                       "the original's ResNet-18 classifier (torchvision keys, fc 512 -> 1)").eval()


# --------------------------------------------------------------------------- generator
def _stylegan2_networks(stylegan2_code: str | None):
    """NVlabs' ``training.networks`` module from the user's clone of stylegan2-ada-pytorch."""
    if not stylegan2_code:
        raise ConfigError("config: interactive.generator.stylegan2_code is null; the converted StyleGAN2-ADA "
                          "generator needs a clone of https://github.com/NVlabs/stylegan2-ada-pytorch there")
    code = Path(stylegan2_code).expanduser().resolve()
    if not (code / "training" / "networks.py").is_file():
        raise InputError(code, "not a clone of NVlabs/stylegan2-ada-pytorch (no training/networks.py)")
    if str(code) not in sys.path:
        sys.path.insert(0, str(code))
    import importlib

    return importlib.import_module("training.networks")


def is_converted_generator(record: Mapping) -> bool:
    """True for a record in the converted format (it names its ``architecture``)."""
    return "architecture" in record


def load_converted_generator(path: str | Path, record: Mapping | None = None, stylegan2_code: str | None = None,
                             device: str = "cpu") -> nn.Module:
    """A generator converted once to a weights-only record: ``state_dict`` (its tensors),
    ``architecture`` (one of :data:`GENERATOR_ARCHITECTURES`) and ``init_kwargs`` (the
    constructor's keyword arguments, plain values; NVlabs' networks keep them as
    ``G.init_kwargs``). ``record``: the file's content when already read."""
    from xairepro.common.io import load_torch

    path = Path(path)
    if record is None:
        if not path.is_file():
            raise InputError(path, "converted generator not found", CONVERSION_HINT)
        record = load_torch(path)
    arch = record.get("architecture")
    if arch not in GENERATOR_ARCHITECTURES or not {"init_kwargs", "state_dict"} <= set(record):
        raise InputError(path, f"a converted generator names 'architecture' (one of {GENERATOR_ARCHITECTURES}), "
                         f"'init_kwargs' and 'state_dict'; found {sorted(record)}", CONVERSION_HINT)
    kwargs = dict(record["init_kwargs"])
    if arch == "demo":
        from xairepro.interactive.models import DemoGenerator

        model = DemoGenerator(**kwargs)
    else:
        model = _stylegan2_networks(stylegan2_code).Generator(**kwargs)
    model = load_strict(path, record["state_dict"], model)
    log.info("loaded the %s generator %s (weights only)", arch, path)
    return model.eval().to(device)
