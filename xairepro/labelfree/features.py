"""Claim 1.1 of the label-free study: feature-importance consistency (Fig. 1).

Steps (one workflow rule each), for each data set (MNIST, ECG, CIFAR-10/100):

1. :func:`train_autoencoder` trains the data set's autoencoder (MNIST/CIFAR: MSE; ECG: the
   LSTM autoencoder with L1, on normal beats only) and keeps the best validation epoch.
2. :func:`feature_importance` explains the encoder of every test input with label-free
   Integrated Gradients, Gradient SHAP and Saliency (:mod:`xairepro.attribution.label_free`)
   from a baseline: the black image, or for ECG the mean normal beat.
3. :func:`consistency_features` replaces the top-k % features (pixels, time steps) by each
   attribution (sum of |attribution| over channels; random ranking as the baseline) with
   the baseline, and measures the representation shift mean ||f(x) - f(x_masked)||^2.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from xairepro.attribution.occlusion import feature_ranks
from xairepro.common.io import load_arrays, load_torch, save_arrays
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.common.training import fit_and_save, minibatches
from xairepro.labelfree.models import build_autoencoder
from xairepro.metrics.representation import representation_shift

log = logging.getLogger(__name__)

METHODS = ("integrated_gradients", "gradient_shap", "saliency")


def load_images(path: str | Path, split: str, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(N, 1, 28, 28)`` in [0, 1] (ToTensor, no normalisation) and labels ``(N,)``."""
    arrays = load_arrays(path, required=(f"{split}_x", f"{split}_y"))
    x, y = arrays[f"{split}_x"], arrays[f"{split}_y"]
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1), torch.from_numpy(y.astype(np.int64))


def load_inputs(path: str | Path, dataset: str, split: str, limit: int | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """The inputs of a feature-consistency data set, channel-first floats, and labels.

    MNIST ``(N, 1, 28, 28)`` and CIFAR ``(N, 3, 32, 32)`` scaled to [0, 1]; ECG beats
    ``(N, 1, 140)`` as stored, the ``train`` split being the normal beats (class 1) and
    ``test`` the abnormal ones, as in the original's feature experiment.
    """
    if dataset == "mnist":
        return load_images(path, split, limit)
    if dataset == "ecg":
        arrays = load_arrays(path, required=("beats", "labels"))
        keep = arrays["labels"] == 1 if split == "train" else arrays["labels"] != 1
        x, y = arrays["beats"][keep], arrays["labels"][keep]
        x, y = (x[:limit], y[:limit]) if limit is not None else (x, y)
        return torch.from_numpy(x.astype(np.float32)).unsqueeze(1), torch.from_numpy(y.astype(np.int64))
    arrays = load_arrays(path, required=(f"{split}_x", f"{split}_y"))
    x, y = arrays[f"{split}_x"], arrays[f"{split}_y"]
    x, y = (x[:limit], y[:limit]) if limit is not None else (x, y)
    return torch.from_numpy(x.astype(np.float32) / 255.0), torch.from_numpy(y.astype(np.int64))


def load_autoencoder(path: str | Path, device: str = "cpu") -> torch.nn.Module:
    """Rebuild the trained autoencoder written by :func:`train_autoencoder`, in eval mode."""
    state = load_torch(path, map_location=device)
    options = {"positional_decoder": bool(state["positional_decoder"])} if "positional_decoder" in state else {}
    model = build_autoencoder(str(state.get("dataset", "mnist")), int(state["latent_dim"]), **options)
    model.load_state_dict(state["state_dict"])
    return model.to(device).eval()


LOSSES = {"mse": torch.nn.MSELoss, "l1": torch.nn.L1Loss}


def train_autoencoder(
    data_path: str | Path,
    model_path: str | Path,
    metrics_path: str | Path,
    checkpoint_path: str | Path,
    *,
    latent_dim: int,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    valid_fraction: float,
    seed: int,
    dataset: str = "mnist",
    loss: str = "mse",
    positional_decoder: bool = False,
    threads: int = 1,
    device: str = "auto",
) -> dict[str, Any]:
    """Train the autoencoder of ``dataset`` with ``loss`` (mse, l1) and Adam; keep the best
    validation epoch.

    The paper stops early on the validation loss; keeping the best epoch of a fixed budget
    gives the same weights without a patience knob.
    """
    seed_everything(seed, threads)
    device = pick_device(device)
    x, _ = load_inputs(data_path, dataset, "train")
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(x), generator=generator)
    n_valid = max(1, int(round(valid_fraction * len(x))))
    valid, train = x[order[:n_valid]].to(device), x[order[n_valid:]].to(device)
    options = {"positional_decoder": positional_decoder} if dataset == "ecg" else {}
    model = build_autoencoder(dataset, latent_dim, **options).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = LOSSES[loss]()

    def run_epoch(epoch: int) -> dict[str, float]:
        model.train()
        total = 0.0
        for idx in minibatches(len(train), batch_size, generator):
            optimizer.zero_grad()
            loss = loss_fn(model(train[idx.to(device)]), train[idx.to(device)])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            valid_loss = loss_fn(model(valid), valid).item()
        return {"train_loss": total / len(train), "valid_loss": valid_loss}

    params = dict(latent_dim=latent_dim, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                  valid_fraction=valid_fraction, seed=seed, dataset=dataset, loss=loss, **options)

    def summary(result):
        best = result.history[result.best_epoch - 1]
        log.info("best epoch %d, validation loss (%s) %.5f", result.best_epoch, loss, best["valid_loss"])
        return {"seed": seed, "best_epoch": result.best_epoch, "valid_loss": best["valid_loss"]}

    _, record = fit_and_save(model=model, optimizer=optimizer, run_epoch=run_epoch, epochs=epochs, params=params,
                             data_path=data_path, checkpoint_path=checkpoint_path, model_path=model_path,
                             metrics_path=metrics_path, model_meta={"latent_dim": latent_dim, "dataset": dataset, **options}, summary=summary,
                             generator=generator, select_metric="valid_loss", select_mode="min")
    return record


def baseline_input(data_path: str | Path, dataset: str, kind: str) -> torch.Tensor:
    """The reference input ``(1, C, ...)`` of attributions and masking: ``zero`` (the black
    image, the original's choice for images) or ``mean`` (the mean training input: for ECG
    the mean normal beat, the original's baseline)."""
    x, _ = load_inputs(data_path, dataset, "train")
    if kind == "zero":
        return torch.zeros(1, *x.shape[1:])
    if kind == "mean":
        return x.mean(dim=0, keepdim=True)
    raise ValueError(f"unknown baseline {kind!r}; choose zero or mean")


def feature_importance(
    data_path: str | Path,
    model_path: str | Path,
    out_path: str | Path,
    *,
    methods: list[str],
    n_test: int,
    ig_steps: int,
    shap_samples: int,
    internal_batch_size: int,
    seed: int,
    dataset: str = "mnist",
    baseline: str = "zero",
    threads: int = 1,
    device: str = "auto",
) -> dict[str, np.ndarray]:
    """Label-free attributions of the first ``n_test`` test inputs, per method.

    As in the original: Integrated Gradients from the baseline (captum's 50 steps by
    default), Gradient SHAP with the baseline as its baseline distribution (``shap_samples``
    draws, no noise), Saliency as the absolute gradient. Writes ``{method: (N, C, ...)}``
    plus ``images`` (the inputs), ``labels`` and ``baseline`` ``(1, C, ...)``.
    """
    from xairepro.attribution.label_free import (
        GradientShap, IntegratedGradients, LabelFreeFeatureImportance, Saliency,
    )

    seed_everything(seed, threads)
    device = pick_device(device)
    model = load_autoencoder(model_path, device)
    x_cpu, y = load_inputs(data_path, dataset, "test", limit=n_test)
    reference = baseline_input(data_path, dataset, baseline)
    out: dict[str, np.ndarray] = {"images": x_cpu.numpy(), "labels": y.numpy(), "baseline": reference.numpy()}
    x, reference = x_cpu.to(device), reference.to(device)
    for method in methods:
        if method == "integrated_gradients":
            explainer = LabelFreeFeatureImportance(model.encode, IntegratedGradients)
            attr = explainer.attribute(x, baselines=reference.expand_as(x), n_steps=ig_steps,
                                       internal_batch_size=internal_batch_size)
        elif method == "gradient_shap":
            torch.manual_seed(seed)  # captum draws GradientShap's baselines from the global RNG
            explainer = LabelFreeFeatureImportance(model.encode, GradientShap)
            attr = explainer.attribute(x, baselines=reference, n_samples=shap_samples,
                                       internal_batch_size=internal_batch_size)
        elif method == "saliency":
            explainer = LabelFreeFeatureImportance(model.encode, Saliency)
            attr = explainer.attribute(x, abs=True, internal_batch_size=internal_batch_size)
        else:
            raise ValueError(f"unknown feature importance method {method!r}; choose from {METHODS}")
        out[method] = attr.cpu().numpy().astype(np.float32)
        log.info("%s: mean |attribution| %.3g", method, float(np.abs(out[method]).mean()))
    save_arrays(out_path, **out)
    return out


def mask_top_features(x: torch.Tensor, ranks: torch.Tensor, k: int, baseline: torch.Tensor) -> torch.Tensor:
    """``x`` ``(N, C, ...)`` with its ``k`` top-ranked features replaced by ``baseline``.

    ``ranks`` ``(N, F)`` is each feature's place in the masking order (0 = first; from
    :func:`~xairepro.attribution.occlusion.feature_ranks`); a feature is a pixel or time
    step with all its channels. ``baseline`` is ``(1, C, ...)``.
    """
    flat = x.flatten(2)  # (N, C, F)
    mask = (ranks < k).unsqueeze(1)  # (N, 1, F)
    return torch.where(mask, baseline.flatten(2).expand_as(flat), flat).reshape(x.shape)


def consistency_features(
    model_path: str | Path,
    attributions_path: str | Path,
    *,
    methods: list[str],
    mask_fractions: list[float],
    seed: int,
) -> pd.DataFrame:
    """Representation shift after masking the top-k % features of each ranking.

    Features are replaced by the attribution baseline (black pixels; the mean beat for
    ECG). Returns one row per (method, fraction) with columns ``method, fraction, k,
    representation_shift``; method ``random`` is the baseline ranking.
    """
    model = load_autoencoder(model_path)
    arrays = load_arrays(attributions_path, required=("images", "baseline", *methods))
    x = torch.from_numpy(arrays["images"])
    baseline = torch.from_numpy(arrays["baseline"])
    n_features = x[0, 0].numel()
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for method in [*methods, "random"]:
        if method == "random":
            scores = torch.rand(len(x), n_features, generator=generator)
        else:
            scores = torch.from_numpy(arrays[method]).abs().sum(dim=1).flatten(1)  # sum |attr| over channels
        ranks = feature_ranks(scores, roar=1)  # (N, F): top attributions first
        for fraction in mask_fractions:
            k = int(round(fraction * n_features))
            masked = mask_top_features(x, ranks, k, baseline)
            rows.append({"method": method, "fraction": fraction, "k": k,
                         "representation_shift": representation_shift(model.encode, x, masked)})
    return pd.DataFrame(rows)
