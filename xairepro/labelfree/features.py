"""Claim 1.1 of the label-free study: feature-importance consistency (Fig. 1).

Steps (one workflow rule each):

1. :func:`train_autoencoder` trains the MNIST autoencoder (MSE, Adam) and keeps the
   weights of the epoch with the lowest validation loss.
2. :func:`feature_importance` explains the encoder of every test image with label-free
   Integrated Gradients, Gradient SHAP and Saliency (:mod:`xairepro.attribution.label_free`).
3. :func:`consistency_features` masks the top-k % pixels by each attribution (sum of
   |attribution| over channels; random ranking as the baseline) and measures the
   representation shift mean ||f(x) - f(x_masked)||^2.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from xairepro.attribution.occlusion import feature_ranks, occlude, rank_scores
from xairepro.common.io import load_arrays, load_torch, save_arrays
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.common.training import fit_and_save, minibatches
from xairepro.labelfree.models import MnistAutoencoder
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


def load_autoencoder(path: str | Path, device: str = "cpu") -> MnistAutoencoder:
    """Rebuild the trained autoencoder written by :func:`train_autoencoder`, in eval mode."""
    state = load_torch(path, map_location=device)
    model = MnistAutoencoder(latent_dim=int(state["latent_dim"]))
    model.load_state_dict(state["state_dict"])
    return model.to(device).eval()


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
    threads: int = 1,
    device: str = "auto",
) -> dict[str, Any]:
    """Train :class:`MnistAutoencoder` with MSE and Adam; keep the best validation epoch.

    The paper stops early on the validation loss; keeping the best epoch of a fixed budget
    gives the same weights without a patience knob.
    """
    seed_everything(seed, threads)
    device = pick_device(device)
    x, _ = load_images(data_path, "train")
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(x), generator=generator)
    n_valid = max(1, int(round(valid_fraction * len(x))))
    valid, train = x[order[:n_valid]].to(device), x[order[n_valid:]].to(device)
    model = MnistAutoencoder(latent_dim=latent_dim).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = torch.nn.MSELoss()

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
                  valid_fraction=valid_fraction, seed=seed)

    def summary(result):
        best = result.history[result.best_epoch - 1]
        log.info("best epoch %d, validation MSE %.5f", result.best_epoch, best["valid_loss"])
        return {"seed": seed, "best_epoch": result.best_epoch, "valid_loss": best["valid_loss"]}

    _, record = fit_and_save(model=model, optimizer=optimizer, run_epoch=run_epoch, epochs=epochs, params=params,
                             data_path=data_path, checkpoint_path=checkpoint_path, model_path=model_path,
                             metrics_path=metrics_path, model_meta={"latent_dim": latent_dim}, summary=summary,
                             generator=generator, select_metric="valid_loss", select_mode="min")
    return record


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
    threads: int = 1,
) -> dict[str, np.ndarray]:
    """Label-free attributions of the first ``n_test`` test images, per method.

    As in the original: Integrated Gradients from a black image (captum's 50 steps by
    default), Gradient SHAP with the black image as its baseline distribution
    (``shap_samples`` draws, no noise), Saliency as the absolute gradient. Writes
    ``{method: (N, 1, 28, 28)}`` plus ``images`` and ``labels``.
    """
    from xairepro.attribution.label_free import (
        GradientShap, IntegratedGradients, LabelFreeFeatureImportance, Saliency,
    )

    seed_everything(seed, threads)
    model = load_autoencoder(model_path)
    x, y = load_images(data_path, "test", limit=n_test)
    black = torch.zeros(1, *x.shape[1:])
    out: dict[str, np.ndarray] = {"images": x.numpy(), "labels": y.numpy()}
    for method in methods:
        if method == "integrated_gradients":
            explainer = LabelFreeFeatureImportance(model.encode, IntegratedGradients)
            attr = explainer.attribute(x, baselines=torch.zeros_like(x), n_steps=ig_steps,
                                       internal_batch_size=internal_batch_size)
        elif method == "gradient_shap":
            torch.manual_seed(seed)  # captum draws GradientShap's baselines from the global RNG
            explainer = LabelFreeFeatureImportance(model.encode, GradientShap)
            attr = explainer.attribute(x, baselines=black, n_samples=shap_samples,
                                       internal_batch_size=internal_batch_size)
        elif method == "saliency":
            explainer = LabelFreeFeatureImportance(model.encode, Saliency)
            attr = explainer.attribute(x, abs=True, internal_batch_size=internal_batch_size)
        else:
            raise ValueError(f"unknown feature importance method {method!r}; choose from {METHODS}")
        out[method] = attr.numpy().astype(np.float32)
        log.info("%s: mean |attribution| %.3g", method, float(np.abs(out[method]).mean()))
    save_arrays(out_path, **out)
    return out


def consistency_features(
    model_path: str | Path,
    attributions_path: str | Path,
    *,
    methods: list[str],
    mask_fractions: list[float],
    seed: int,
) -> pd.DataFrame:
    """Representation shift after masking the top-k % pixels of each ranking.

    Returns one row per (method, fraction) with columns ``method, fraction, k,
    representation_shift``; method ``random`` is the baseline ranking.
    """
    model = load_autoencoder(model_path)
    arrays = load_arrays(attributions_path, required=("images", *methods))
    x = torch.from_numpy(arrays["images"])
    n_pixels = x[0, 0].numel()
    generator = torch.Generator().manual_seed(seed)
    zeros = torch.zeros(len(x), 1)
    rows = []
    for method in [*methods, "random"]:
        if method == "random":
            scores = rank_scores("random", x[:, 0], x[:, 0], generator)
        else:
            scores = torch.from_numpy(arrays[method]).abs().sum(dim=1).flatten(1)  # sum |attr| over channels
        ranks = feature_ranks(scores, roar=1)  # (N, 784): top attributions first
        for fraction in mask_fractions:
            k = int(round(fraction * n_pixels))
            masked = occlude(x[:, 0], ranks, k, zeros).unsqueeze(1)
            rows.append({"method": method, "fraction": fraction, "k": k,
                         "representation_shift": representation_shift(model.encode, x, masked)})
    return pd.DataFrame(rows)
