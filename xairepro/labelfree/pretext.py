"""Claims 2.1 and 2.2 of the label-free study: pretext-task sensitivity (Tables 2-4).

The same encoder architecture is trained on several pretext tasks (reconstruction,
denoising, inpainting) and as a classifier; for each, label-free Gradient SHAP feature
importance of the test images and DKNN example importance of a sub-train set are
computed. Pearson correlations between the tasks' importance scores (all images flattened)
form the 4x4 tables: low correlations mean the explanations depend on the pretext.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from xairepro.common.io import load_arrays, load_torch, save_arrays
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.common.training import fit_and_save, minibatches
from xairepro.labelfree.encoder_vs_full import EncoderClassifier, train_classifier
from xairepro.labelfree.examples import balanced_subset
from xairepro.labelfree.features import load_images
from xairepro.labelfree.models import MnistAutoencoder

log = logging.getLogger(__name__)

PRETEXTS = ("reconstruction", "denoising", "inpainting")
TASKS = (*PRETEXTS, "classification")


def corrupt(x: torch.Tensor, pretext: str, generator: torch.Generator, noise_level: float,
            mask_proportion: float) -> torch.Tensor:
    """The pretext's input: ``x`` itself, plus Gaussian noise, or with pixels zeroed at random."""
    if pretext == "reconstruction":
        return x
    if pretext == "denoising":
        return x + noise_level * torch.randn(x.shape, generator=generator).to(x.device)
    if pretext == "inpainting":
        return x * (torch.rand(x.shape, generator=generator) >= mask_proportion).to(x.device, x.dtype)
    raise ValueError(f"unknown pretext {pretext!r}; choose from {PRETEXTS}")


def train_task(
    data_path: str | Path,
    model_path: str | Path,
    metrics_path: str | Path,
    checkpoint_path: str | Path,
    *,
    task: str,
    latent_dim: int,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    noise_level: float,
    mask_proportion: float,
    seed: int,
    threads: int = 1,
    device: str = "auto",
) -> dict[str, Any]:
    """Train the encoder on one task: an autoencoder on a pretext, or the classifier."""
    if task == "classification":
        return train_classifier(data_path, model_path, metrics_path, checkpoint_path, latent_dim=latent_dim,
                                epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay, seed=seed,
                                threads=threads, device=device)
    seed_everything(seed, threads)
    device = pick_device(device)
    x, _ = load_images(data_path, "train")
    x = x.to(device)
    generator = torch.Generator().manual_seed(seed)
    model = MnistAutoencoder(latent_dim).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)

    def run_epoch(epoch: int) -> dict[str, float]:
        model.train()
        total = 0.0
        for idx in minibatches(len(x), batch_size, generator):
            clean = x[idx.to(device)]
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(corrupt(clean, task, generator, noise_level, mask_proportion)),
                                                clean)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        return {"train_loss": total / len(x)}

    params = dict(task=task, latent_dim=latent_dim, epochs=epochs, batch_size=batch_size, lr=lr,
                  weight_decay=weight_decay, noise_level=noise_level, mask_proportion=mask_proportion, seed=seed)
    _, record = fit_and_save(model=model, optimizer=optimizer, run_epoch=run_epoch, epochs=epochs, params=params,
                             data_path=data_path, checkpoint_path=checkpoint_path, model_path=model_path,
                             metrics_path=metrics_path, model_meta={"latent_dim": latent_dim}, generator=generator,
                             summary=lambda r: {"task": task, "seed": seed, "train_loss": r.history[-1]["train_loss"]})
    return record


def load_encoder(path: str | Path, task: str) -> torch.nn.Module:
    """The encoder (``(N, 1, 28, 28) -> (N, d)``) of a model trained by :func:`train_task`."""
    state = load_torch(path)
    model = EncoderClassifier(int(state["latent_dim"])) if task == "classification" else MnistAutoencoder(
        int(state["latent_dim"]))
    model.load_state_dict(state["state_dict"])
    return model.encoder.eval()


def task_importance(
    data_path: str | Path,
    model_paths: dict[str, str | Path],
    out_path: str | Path,
    *,
    n_test: int,
    subtrain_size: int,
    shap_samples: int,
    internal_batch_size: int,
    seed: int,
    threads: int = 1,
) -> dict[str, np.ndarray]:
    """|Gradient SHAP| feature importance ``(N, 1, 28, 28)`` and DKNN example importance
    ``(N, subtrain_size)`` of every task's encoder, as ``features_<task>`` / ``examples_<task>``."""
    from xairepro.attribution.example_importance import dknn_scores
    from xairepro.attribution.label_free import GradientShap, LabelFreeFeatureImportance

    seed_everything(seed, threads)
    x, _ = load_images(data_path, "test", limit=n_test)
    train_x, train_y = load_images(data_path, "train")
    sub_train = train_x[balanced_subset(train_y, subtrain_size)]
    black = torch.zeros(1, *x.shape[1:])
    out: dict[str, np.ndarray] = {}
    for task, path in model_paths.items():
        encoder = load_encoder(path, task)
        torch.manual_seed(seed)
        attr = LabelFreeFeatureImportance(encoder, GradientShap).attribute(
            x, baselines=black, n_samples=shap_samples, internal_batch_size=internal_batch_size)
        out[f"features_{task}"] = attr.abs().numpy().astype(np.float32)
        with torch.no_grad():
            out[f"examples_{task}"] = dknn_scores(encoder(sub_train), encoder(x)).numpy().astype(np.float32)
    save_arrays(out_path, **out)
    return out


def correlation_tables(importance_path: str | Path, tasks: list[str]) -> pd.DataFrame:
    """Pearson correlations between tasks, for feature and example importance: rows
    (kind, task_a, task_b, pearson)."""
    arrays = load_arrays(importance_path)
    rows = []
    for kind in ("features", "examples"):
        stacked = np.stack([arrays[f"{kind}_{task}"].ravel().astype(np.float64) for task in tasks])
        corr = np.corrcoef(stacked)
        rows += [{"kind": kind, "task_a": a, "task_b": b, "pearson": corr[i, j]}
                 for i, a in enumerate(tasks) for j, b in enumerate(tasks)]
    return pd.DataFrame(rows)


def latex_table(table: pd.DataFrame, kind: str, tasks: list[str]) -> str:
    """A LaTeX tabular of mean +- std over runs of one kind's correlation matrix (the mean
    alone when there is a single run)."""
    sel = table[table.kind == kind].groupby(["task_a", "task_b"])["pearson"].agg(["mean", "std", "count"])
    lines = [r"\begin{tabular}{l" + "c" * len(tasks) + "}", r"\toprule",
             " & ".join(["", *(t.capitalize() for t in tasks)]) + r" \\", r"\midrule"]
    for a in tasks:
        cells = [f"{sel.loc[(a, b), 'mean']:.2f}" + (f" $\\pm$ {sel.loc[(a, b), 'std']:.2f}"
                                                     if sel.loc[(a, b), "count"] > 1 else "") for b in tasks]
        lines.append(" & ".join([a.capitalize(), *cells]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"
