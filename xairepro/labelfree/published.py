"""FACT's published models (``labelfree.weights: published``): fetch one, map its keys onto
our model classes, check it fits, and write it as our own checkpoint.

FACT (jwagenbach/FACT) commits its trained models to its repository as plain state dicts
(``torch.save(self.state_dict(), ...)``, FACT ``lfxai/models/images.py:272``,
``lfxai/models/time_series.py:172``), so they load with ``torch.load(weights_only=True)``;
nothing is unpickled. Their keys are FACT's module names:

* MNIST (``AutoEncoderMnist``): ``encoder.encoder_cnn.{0,2,3,5}``, ``encoder.encoder_lin.{0,2}``,
  ``decoder.decoder_lin.{0,2}``, ``decoder.decoder_conv.{0,1,3,4,6}``; our
  :class:`~xairepro.labelfree.models.MnistAutoencoder` holds the same layers in one flat
  ``nn.Sequential`` each, so the indices shift (:data:`KEY_MAPS`).
* ECG5000 (``RecurrentAutoencoder``): ``encoder.rnn1/rnn2``, ``decoder.rnn1/rnn2/output_layer``;
  ours are ``enc1/enc2/dec1/dec2/out``.
* CIFAR-10/100 (``AutoEncoderCIFAR``): our :class:`~xairepro.labelfree.models.CifarAutoencoder`
  has FACT's names, key for key.
* Classifiers (``ClassifierMnist``/``ClassifierCIFAR``): the encoder's keys plus
  ``lin_output.0``, our :class:`~xairepro.labelfree.models.EncoderClassifier`'s ``head``.
  The pretext classifiers (``pretext/Classifier_run<k>.pt``) hold exactly these keys too:
  FACT's ``strict=False`` there (``experiments/mnist.py:417``) skips nothing.
* VAEs (``VAE(EncoderBurgess, DecoderBurgess)``, claim 3): ``encoder.conv1..3``,
  ``conv_64`` (64x64), ``lin1/2``, ``mu_logvar_gen``; ``decoder.lin1..3``, ``convT_64``,
  ``convT1..3``; our :class:`~xairepro.labelfree.models.BurgessVAE` is the same network in
  two ``nn.Sequential`` (:func:`_burgess_map`), reading ``mu_logvar_gen``'s outputs as two
  halves where FACT interleaves them, so those rows are re-ordered
  (:func:`_interleaved_to_halves`).
* Claim 1.2's ``consistency_examples/model.pt`` and the pretext ``<Task>-ae_run<k>.pt``
  are autoencoders of the layouts above (:func:`layout_kind`).

FACT also publishes the metrics of its VAEs, one row per file (``results/<dataset>/vae/metrics.csv``);
:func:`read_fact_vae_metrics` reads them so claim 3 can compare our numbers from the same
files with FACT's.

Loading is strict, unlike FACT's own (``load_state_dict(..., strict=False)``, e.g.
``experiments/mnist.py:110``): a file whose keys or shapes do not fit stops with one
:class:`~xairepro.common.errors.InputError` naming the file and the first mismatching key.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pandas as pd
import torch

from xairepro.common.download import download, verify_checksum
from xairepro.common.errors import InputError
from xairepro.common.io import load_torch, save_torch
from xairepro.labelfree.models import BurgessVAE, EncoderClassifier, build_autoencoder

log = logging.getLogger(__name__)

#: FACT key prefix -> ours, per model kind; each pattern is anchored at the key's start and
#: its numbered groups (layer indices) are shifted by the offsets in the replacement.
_MNIST_ENCODER = [
    (r"encoder\.encoder_cnn\.(\d+)\.", "encoder.{0}."),
    (r"encoder\.encoder_lin\.(\d+)\.", "encoder.{8}."),  # after the 7 conv-block layers and Flatten
]
KEY_MAPS: dict[str, list[tuple[str, str]]] = {
    "autoencoder/mnist": [
        *_MNIST_ENCODER,
        (r"decoder\.decoder_lin\.(\d+)\.", "decoder.{0}."),
        (r"decoder\.decoder_conv\.(\d+)\.", "decoder.{5}."),  # after the 4 linear layers and Unflatten
    ],
    "autoencoder/ecg": [
        (r"encoder\.rnn1\.", "enc1."),
        (r"encoder\.rnn2\.", "enc2."),
        (r"decoder\.rnn1\.", "dec1."),
        (r"decoder\.rnn2\.", "dec2."),
        (r"decoder\.output_layer\.", "out."),
    ],
    "autoencoder/cifar10": [],
    "autoencoder/cifar100": [],
    "classifier/mnist": [*_MNIST_ENCODER, (r"lin_output\.0\.", "head.")],
    "classifier/cifar10": [(r"lin_output\.0\.", "head.")],
    "classifier/cifar100": [(r"lin_output\.0\.", "head.")],
}


def _burgess_map(size: int) -> list[tuple[str, str]]:
    """FACT's ``EncoderBurgess``/``DecoderBurgess`` (lfxai/models/images.py:720-867) -> our
    :class:`~xairepro.labelfree.models.BurgessVAE`'s flat ``nn.Sequential`` indices (each
    layer followed by a ReLU; 64x64 images add ``conv_64`` after ``conv3`` and ``convT_64``
    before ``convT1``, and the Flatten / Unflatten sit after the convolutions / linears)."""
    convs = ["conv1", "conv2", "conv3", *(["conv_64"] if size == 64 else [])]
    deconvs = [*(["convT_64"] if size == 64 else []), "convT1", "convT2", "convT3"]
    n = len(convs)
    encoder = [*convs, "lin1", "lin2", "mu_logvar_gen"]
    encoder_index = [2 * i for i in range(n)] + [2 * n + 1, 2 * n + 3, 2 * n + 5]
    decoder = ["lin1", "lin2", "lin3", *deconvs]
    decoder_index = [0, 2, 4] + [7 + 2 * i for i in range(n)]
    return ([(rf"encoder\.{name}\.", f"encoder.{i}.") for name, i in zip(encoder, encoder_index, strict=True)]
            + [(rf"decoder\.{name}\.", f"decoder.{i}.") for name, i in zip(decoder, decoder_index, strict=True)])


#: FACT's VAE of each claim-3 data set: image size and channels (MNIST padded to 32x32,
#: FACT experiments/mnist.py ``disvae_feature_importance``; dSprites 64x64; CIFAR 3x32x32).
VAE_IMAGES = {"mnist": (32, 1), "dsprites": (64, 1), "cifar10": (32, 3), "cifar100": (32, 3)}
KEY_MAPS |= {f"vae/{dataset}": _burgess_map(size) for dataset, (size, _) in VAE_IMAGES.items()}


def layout_kind(kind: str) -> str:
    """FACT's layout (autoencoder, classifier, vae) of our model ``kind`` (the {kind}
    wildcard of labelfree_download_published): claim 1.2's ``denoiser`` and the
    ``pretext_<task>`` autoencoders are autoencoders, ``pretext_classification`` a
    classifier, ``vae_<loss>_beta<beta>`` a Burgess VAE."""
    if kind in ("autoencoder", "classifier", "vae"):
        return kind
    if kind == "denoiser" or re.fullmatch(r"pretext_(reconstruction|denoising|inpainting)", kind):
        return "autoencoder"
    if kind == "pretext_classification":
        return "classifier"
    if re.fullmatch(r"vae_(beta_vae|beta_tcvae)_beta\d+(\.\d+)?", kind):
        return "vae"
    raise ValueError(f"unknown published model kind {kind!r}")


def _interleaved_to_halves(tensor: torch.Tensor) -> torch.Tensor:
    """FACT's ``mu_logvar_gen`` rows ``(mu_0, logvar_0, mu_1, ...)`` (its encoder reads them
    as ``view(-1, d, 2).unbind(-1)``, images.py:791) -> ours ``(mu_0..mu_d-1, logvar_0..)``
    (``chunk(2)``): a fixed permutation of the output rows, the same function."""
    d = tensor.shape[0] // 2
    return tensor.reshape(d, 2, *tensor.shape[1:]).transpose(0, 1).reshape(tensor.shape)


def map_key(key: str, rules: list[tuple[str, str]]) -> str:
    """Our name of FACT's parameter ``key`` (the first rule whose pattern matches; unchanged
    when none does). A replacement's ``{offset}`` is the matched layer index plus offset."""
    for pattern, replacement in rules:
        match = re.match(pattern, key)
        if match:
            prefix = re.sub(r"\{(\d+)\}", lambda m: str(int(match.group(1)) + int(m.group(1))), replacement)
            return prefix + key[match.end():]
    return key


def fit_state(model: torch.nn.Module, state: dict[str, torch.Tensor], path: str | Path,
              original: dict[str, str] | None = None) -> None:
    """Load ``state`` into ``model`` strictly; the first missing, unexpected or mis-shaped
    key stops with an :class:`InputError` naming ``path`` and that key (with its name in the
    file's own layout, ``original[key]``, where that differs)."""
    original = original or {}

    def name(key: str) -> str:
        return f"{key!r} (FACT's {original[key]!r})" if original.get(key, key) != key else repr(key)

    expected = model.state_dict()
    for key, value in expected.items():
        if key not in state:
            raise InputError(path, f"does not fit {type(model).__name__}: missing key {name(key)}")
        if tuple(state[key].shape) != tuple(value.shape):
            raise InputError(path, f"does not fit {type(model).__name__}: key {name(key)} has shape "
                                   f"{tuple(state[key].shape)}, the model's is {tuple(value.shape)}")
    for key in state:
        if key not in expected:
            raise InputError(path, f"does not fit {type(model).__name__}: unexpected key {name(key)}")
    model.load_state_dict(state, strict=True)


def build_model(kind: str, dataset: str, latent_dim: int, n_classes: int = 10) -> torch.nn.Module:
    """A fresh model of ours for FACT's ``kind`` (``autoencoder``, ``classifier``, ``vae``) of ``dataset``."""
    if f"{kind}/{dataset}" not in KEY_MAPS:
        raise ValueError(f"FACT publishes no {kind} of {dataset!r} that we map; known: {sorted(KEY_MAPS)}")
    if kind == "vae":
        size, channels = VAE_IMAGES[dataset]
        return BurgessVAE(latent_dim, size=size, channels=channels)
    if kind == "classifier":
        return EncoderClassifier(latent_dim, n_classes, dataset="cifar10" if dataset.startswith("cifar") else dataset)
    return build_autoencoder(dataset, latent_dim)


def load_fact_model(path: str | Path, kind: str, dataset: str, latent_dim: int,
                    n_classes: int = 10) -> torch.nn.Module:
    """FACT's state dict at ``path`` (``torch.load(weights_only=True)``) in our model class,
    every key mapped (:data:`KEY_MAPS`) and checked (:func:`fit_state`); eval mode."""
    state = load_torch(path)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(path, "is not a state dict of tensors (FACT saves model.state_dict())")
    kind = layout_kind(kind)
    model = build_model(kind, dataset, latent_dim, n_classes)
    rules = KEY_MAPS[f"{kind}/{dataset}"]
    # FACT's name of each of our keys: the file's own, else the one FACT's layout would use
    original = {map_key(k, rules): k for k in fact_layout(kind, dataset, latent_dim, n_classes)}
    original.update({map_key(k, rules): k for k in state})
    mapped = {map_key(k, rules): v for k, v in state.items()}
    if kind == "vae":
        for key, value in state.items():
            if key.startswith("encoder.mu_logvar_gen.") and value.ndim >= 1 and value.shape[0] % 2 == 0:
                mapped[map_key(key, rules)] = _interleaved_to_halves(value)
    fit_state(model, mapped, path, original)
    return model.eval()


def fetch_published(url: str, dest: str | Path, checksum: str, source_dir: str | Path | None = None,
                    repo_path: str | None = None) -> Path:
    """FACT's file at ``dest``: copied from ``source_dir / repo_path`` (a FACT checkout the
    user names) or downloaded from ``url``; checked against ``checksum`` either way. A file
    already at ``dest`` (placed by hand) is verified and kept."""
    dest = Path(dest)
    if source_dir is not None and not dest.exists():
        local = Path(source_dir) / str(repo_path)
        if not local.is_file():
            raise InputError(local, f"not found: labelfree.published.dir names {source_dir}, which should be "
                                    f"a FACT checkout holding {repo_path} (or set dir: null to download {url})")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, dest)
        verify_checksum(dest, checksum)
        return dest
    return download(url, dest, checksum=checksum)


def import_published(raw_path: str | Path, model_path: str | Path, *, kind: str, dataset: str,
                     latent_dim: int, run: int, source: str, n_classes: int | None = None) -> None:
    """Write FACT's model at ``raw_path`` as the checkpoint our training would have written
    at ``model_path`` (``state_dict``, ``latent_dim``, ``dataset``; ECG's decoder without the
    demo's positional input; a classifier's ``n_classes``, by default the data set's; a
    VAE's image ``size`` and ``channels``), with its provenance (``source``). ``kind``: one
    of our kinds (:func:`layout_kind`)."""
    from xairepro.labelfree.data import class_count

    n_classes = class_count(dataset) if n_classes is None else n_classes
    model = load_fact_model(raw_path, kind, dataset, latent_dim, n_classes)
    meta: dict[str, object] = {"positional_decoder": False} if dataset == "ecg" else {}
    if layout_kind(kind) == "classifier":
        meta["n_classes"] = n_classes
    if layout_kind(kind) == "vae":
        meta["size"], meta["channels"] = VAE_IMAGES[dataset]
    save_torch(model_path, {"state_dict": model.state_dict(), "latent_dim": latent_dim, "dataset": dataset,
                            "published": source, "run": run, **meta})
    log.info("%s: FACT's %s of %s (run %d) loaded key for key", raw_path, kind, dataset, run)


def _conv(c_out: int, c_in: int) -> dict[str, tuple[int, ...]]:
    return {"weight": (c_out, c_in, 3, 3), "bias": (c_out,)}


def _deconv(c_in: int, c_out: int) -> dict[str, tuple[int, ...]]:
    return {"weight": (c_in, c_out, 3, 3), "bias": (c_out,)}


def _linear(n_out: int, n_in: int) -> dict[str, tuple[int, ...]]:
    return {"weight": (n_out, n_in), "bias": (n_out,)}


def _batchnorm(c: int) -> dict[str, tuple[int, ...]]:
    return {"weight": (c,), "bias": (c,), "running_mean": (c,), "running_var": (c,), "num_batches_tracked": ()}


def _layernorm(*shape: int) -> dict[str, tuple[int, ...]]:
    return {"weight": shape, "bias": shape}


def _lstm(n_in: int, hidden: int) -> dict[str, tuple[int, ...]]:
    return {"weight_ih_l0": (4 * hidden, n_in), "weight_hh_l0": (4 * hidden, hidden),
            "bias_ih_l0": (4 * hidden,), "bias_hh_l0": (4 * hidden,)}


def fact_layout(kind: str, dataset: str, latent_dim: int, n_classes: int = 10) -> dict[str, tuple[int, ...]]:
    """FACT's state-dict keys and shapes of ``kind``/``dataset``, in its order, written from
    its model code (FACT ``lfxai/models/images.py:39-91``, ``lfxai/models/time_series.py:15-62``,
    ``lfxai/models/cifar100_models.py:4-63``) and checked against its published files in the
    tests. What the smoke run and the tests write as "FACT's checkpoint"."""
    kind, d = layout_kind(kind), latent_dim
    modules: dict[str, dict[str, tuple[int, ...]]]
    if kind == "vae":
        if dataset not in VAE_IMAGES:
            raise ValueError(f"FACT publishes no VAE of {dataset!r} that we map")
        return _burgess_layout(d, *VAE_IMAGES[dataset])
    if dataset == "mnist":
        encoder = {"encoder.encoder_cnn.0": _conv(8, 1), "encoder.encoder_cnn.2": _conv(16, 8),
                   "encoder.encoder_cnn.3": _batchnorm(16), "encoder.encoder_cnn.5": _conv(32, 16),
                   "encoder.encoder_lin.0": _linear(128, 288), "encoder.encoder_lin.2": _linear(d, 128)}
        decoder = {"decoder.decoder_lin.0": _linear(128, d), "decoder.decoder_lin.2": _linear(288, 128),
                   "decoder.decoder_conv.0": _deconv(32, 16), "decoder.decoder_conv.1": _batchnorm(16),
                   "decoder.decoder_conv.3": _deconv(16, 8), "decoder.decoder_conv.4": _batchnorm(8),
                   "decoder.decoder_conv.6": _deconv(8, 1)}
    elif dataset in ("cifar10", "cifar100"):
        encoder = {"encoder.encoder_cnn.0": _conv(32, 3), "encoder.encoder_cnn.1": _layernorm(32, 32, 32),
                   "encoder.encoder_cnn.4": _conv(64, 32), "encoder.encoder_cnn.5": _layernorm(64, 16, 16),
                   "encoder.encoder_cnn.8": _conv(128, 64), "encoder.encoder_cnn.9": _layernorm(128, 8, 8),
                   "encoder.encoder_cnn.12": _conv(128, 128),
                   "encoder.encoder_lin.0": _linear(128, 2048), "encoder.encoder_lin.2": _linear(d, 128)}
        decoder = {"decoder.decoder_lin.0": _linear(128, d), "decoder.decoder_lin.2": _linear(2048, 128),
                   "decoder.decoder_conv.0": _deconv(128, 64), "decoder.decoder_conv.1": _layernorm(64, 8, 8),
                   "decoder.decoder_conv.3": _deconv(64, 32), "decoder.decoder_conv.4": _layernorm(32, 16, 16),
                   "decoder.decoder_conv.6": _deconv(32, 3)}
    elif dataset == "ecg" and kind == "autoencoder":
        encoder = {"encoder.rnn1": _lstm(1, 2 * d), "encoder.rnn2": _lstm(2 * d, d)}
        decoder = {"decoder.rnn1": _lstm(d, d), "decoder.rnn2": _lstm(d, 2 * d),
                   "decoder.output_layer": _linear(1, 2 * d)}
    else:
        raise ValueError(f"FACT publishes no {kind} of {dataset!r} that we map")
    if kind == "autoencoder":
        modules = {**encoder, **decoder}
    elif kind == "classifier":
        modules = {**encoder, "lin_output.0": _linear(n_classes, d)}
    else:
        raise ValueError(f"unknown model kind {kind!r}; choose autoencoder or classifier")
    return {f"{module}.{name}": shape for module, params in modules.items() for name, shape in params.items()}


def _burgess_layout(d: int, size: int, channels: int) -> dict[str, tuple[int, ...]]:
    """FACT's ``VAE(EncoderBurgess, DecoderBurgess)`` keys and shapes (4x4 kernels, 32 channels)."""
    conv = lambda c_out, c_in: {"weight": (c_out, c_in, 4, 4), "bias": (c_out,)}  # noqa: E731
    deconv = lambda c_in, c_out: {"weight": (c_in, c_out, 4, 4), "bias": (c_out,)}  # noqa: E731
    extra = size == 64
    modules = {"encoder.conv1": conv(32, channels), "encoder.conv2": conv(32, 32), "encoder.conv3": conv(32, 32),
               **({"encoder.conv_64": conv(32, 32)} if extra else {}),
               "encoder.lin1": _linear(256, 512), "encoder.lin2": _linear(256, 256),
               "encoder.mu_logvar_gen": _linear(2 * d, 256),
               "decoder.lin1": _linear(256, d), "decoder.lin2": _linear(256, 256), "decoder.lin3": _linear(512, 256),
               **({"decoder.convT_64": deconv(32, 32)} if extra else {}),
               "decoder.convT1": deconv(32, 32), "decoder.convT2": deconv(32, 32),
               "decoder.convT3": deconv(32, channels)}
    return {f"{module}.{name}": shape for module, params in modules.items() for name, shape in params.items()}


def write_fact_checkpoint(path: str | Path, kind: str, dataset: str, latent_dim: int, seed: int = 0,
                          n_classes: int = 10) -> dict[str, torch.Tensor]:
    """Write a checkpoint in FACT's exact layout (:func:`fact_layout`, a plain state dict
    saved by :func:`torch.save`) with random tensors drawn from ``seed`` (BatchNorm variances
    positive, step counts 0); returns the state dict. For the smoke run and the tests."""
    generator = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    for key, shape in fact_layout(kind, dataset, latent_dim, n_classes).items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(0)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=generator) + 0.5
        else:
            state[key] = 0.2 * torch.randn(shape, generator=generator)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return state


#: FACT's "Loss Type" in its VAE metrics.csv (``str(BetaHLoss())``, ``str(BtcvaeLoss())``) -> ours.
FACT_LOSSES = {"Beta": "beta_vae", "TC": "beta_tcvae"}
#: The column of FACT's ``pearson_saliency`` (FACT ``lfxai/utils/metrics.py:18-29``).
FACT_PEARSON = "Pearson Correlation"


def read_fact_vae_metrics(path: str | Path, dataset: str) -> pd.DataFrame:
    """FACT's published metrics of its VAEs on ``dataset`` (``results/<dataset>/vae/metrics.csv``)
    as rows (dataset, loss, beta, seed, pearson), one per VAE file.

    FACT appends one row per VAE in the order of ``itertools.product(beta_list, loss_list,
    range(1, n_runs + 1))`` (experiments/mnist.py:562-591; dsprites.py:89;
    cifar100_from_mnist.py:619), so a row's run (``seed``, the ``_run<k>`` of its ``.pt``) is
    its rank among the rows of its (loss, beta). A file without FACT's columns, with a loss
    FACT does not write, a value that is not a number or unequal runs per (loss, beta) stops,
    naming the file.
    """
    try:
        raw = pd.read_csv(path, float_precision="round_trip")
    except (OSError, ValueError) as err:  # pandas' parser errors are ValueErrors
        raise InputError(path, f"cannot be read as FACT's metrics.csv: {err}") from None
    for column in ("Loss Type", "Beta", FACT_PEARSON):
        if column not in raw.columns:
            raise InputError(path, f"has no column {column!r} (FACT's metrics.csv: 'Loss Type', 'Beta', "
                                   f"{FACT_PEARSON!r}, ...); columns: {list(raw.columns)}")
    losses = raw["Loss Type"].astype(str)
    unknown = sorted(set(losses) - set(FACT_LOSSES))
    if unknown:
        raise InputError(path, f"Loss Type {unknown[0]!r} is not one FACT writes ({', '.join(FACT_LOSSES)})")
    values = pd.to_numeric(raw[FACT_PEARSON], errors="coerce")
    beta = pd.to_numeric(raw["Beta"], errors="coerce")
    bad = values.isna() | beta.isna()
    if bad.any():
        raise InputError(path, f"line {int(bad.to_numpy().argmax()) + 2}: Beta or {FACT_PEARSON!r} is not a number")
    table = pd.DataFrame({"dataset": dataset, "loss": losses.map(FACT_LOSSES), "beta": beta.astype(float),
                          "pearson": values.astype(float)})
    table.insert(3, "seed", table.groupby(["loss", "beta"], sort=False).cumcount() + 1)
    runs = table.groupby(["loss", "beta"], sort=False).size()
    if runs.min() != runs.max():
        raise InputError(path, f"has {runs.min()} to {runs.max()} rows per (Loss Type, Beta); FACT writes n_runs "
                               "rows for each")
    return table
