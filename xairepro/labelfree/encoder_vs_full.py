"""FACT's extension (Fig. 5): do label-free attributions of an encoder agree with those of
the full classifier built on it?

A classifier = the MNIST encoder + a linear layer to 10 logits, trained on labels. Both the
encoder (latent output) and the full model (logit output) are explained with label-free
Integrated Gradients, Gradient SHAP and Saliency; per image, the Pearson correlation of the
two |attribution| maps over the non-blank pixels measures their agreement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from xairepro.common.io import load_torch, save_arrays
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.common.training import fit_and_save, minibatches
from xairepro.labelfree.features import load_images
from xairepro.labelfree.models import MnistAutoencoder


class EncoderClassifier(nn.Module):
    """The MNIST encoder followed by ``Linear(latent_dim, n_classes)``: logits ``(N, n_classes)``."""

    def __init__(self, latent_dim: int = 4, n_classes: int = 10):
        super().__init__()
        self.encoder = MnistAutoencoder(latent_dim).encoder
        self.head = nn.Linear(latent_dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))


def train_classifier(
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
    seed: int,
    threads: int = 1,
    device: str = "auto",
) -> dict[str, Any]:
    """Train :class:`EncoderClassifier` with cross-entropy and Adam; report test accuracy."""
    seed_everything(seed, threads)
    device = pick_device(device)
    x, y = (t.to(device) for t in load_images(data_path, "train"))
    test_x, test_y = (t.to(device) for t in load_images(data_path, "test"))
    generator = torch.Generator().manual_seed(seed)
    model = EncoderClassifier(latent_dim).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)

    def run_epoch(epoch: int) -> dict[str, float]:
        model.train()
        total = 0.0
        for idx in minibatches(len(x), batch_size, generator):
            idx = idx.to(device)
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
        return {"train_loss": total / len(x), "test_accuracy": accuracy}

    params = dict(latent_dim=latent_dim, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                  seed=seed)
    _, record = fit_and_save(model=model, optimizer=optimizer, run_epoch=run_epoch, epochs=epochs, params=params,
                             data_path=data_path, checkpoint_path=checkpoint_path, model_path=model_path,
                             metrics_path=metrics_path, model_meta={"latent_dim": latent_dim}, generator=generator,
                             summary=lambda r: {"seed": seed, "test_accuracy": r.history[-1]["test_accuracy"]})
    return record


def masked_pearson(a: np.ndarray, b: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Per-row Pearson correlation of ``a`` and ``b`` ``(N, P)`` over the entries where
    ``keep`` ``(N, P)`` is True; NaN where either side is constant."""
    w = keep.astype(np.float64)
    n = np.maximum(w.sum(axis=1, keepdims=True), 1)
    da = (a - (a * w).sum(axis=1, keepdims=True) / n) * w
    db = (b - (b * w).sum(axis=1, keepdims=True) / n) * w
    var = (da**2).sum(axis=1) * (db**2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var > 0, (da * db).sum(axis=1) / np.sqrt(var), np.nan)


def encoder_vs_full(
    data_path: str | Path,
    model_path: str | Path,
    cache_path: str | Path,
    *,
    methods: list[str],
    n_test: int,
    ig_steps: int,
    shap_samples: int,
    internal_batch_size: int,
    seed: int,
    threads: int = 1,
) -> pd.DataFrame:
    """Per-image Pearson correlations between encoder and full-model label-free attributions.

    As FACT: both attributions are made absolute and scaled to unit standard deviation;
    pixels that are blank in the image are left out. Writes the attributions to
    ``cache_path``; returns rows (method, image, label, pearson).
    """
    from xairepro.attribution.label_free import (
        GradientShap, IntegratedGradients, LabelFreeFeatureImportance, Saliency,
    )

    seed_everything(seed, threads)
    state = load_torch(model_path)
    model = EncoderClassifier(int(state["latent_dim"]))
    model.load_state_dict(state["state_dict"])
    model.eval()
    x, y = load_images(data_path, "test", limit=n_test)
    black = torch.zeros(1, *x.shape[1:])
    keep = (x.flatten(1) != 0).numpy()
    cache: dict[str, np.ndarray] = {"images": x.numpy(), "labels": y.numpy()}
    rows = []
    for method in methods:
        maps = {}
        for part, forward in (("encoder", model.encoder), ("full", model)):
            if method == "integrated_gradients":
                attr = LabelFreeFeatureImportance(forward, IntegratedGradients).attribute(
                    x, baselines=torch.zeros_like(x), n_steps=ig_steps, internal_batch_size=internal_batch_size)
            elif method == "gradient_shap":
                torch.manual_seed(seed)
                attr = LabelFreeFeatureImportance(forward, GradientShap).attribute(
                    x, baselines=black, n_samples=shap_samples, internal_batch_size=internal_batch_size)
            elif method == "saliency":
                attr = LabelFreeFeatureImportance(forward, Saliency).attribute(
                    x, abs=True, internal_batch_size=internal_batch_size)
            else:
                raise ValueError(f"unknown method {method!r}")
            magnitude = attr.abs().flatten(1).numpy()
            maps[part] = magnitude / magnitude.std()
            cache[f"{method}_{part}"] = attr.numpy().astype(np.float32)
        rho = masked_pearson(maps["encoder"], maps["full"], keep)
        rows += [{"method": method, "image": i, "label": int(y[i]), "pearson": rho[i]} for i in range(len(x))]
    save_arrays(cache_path, **cache)
    return pd.DataFrame(rows)
