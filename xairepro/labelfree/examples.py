"""Claim 1.2 of the label-free study: example-importance consistency (Fig. 2).

Steps (one workflow rule each):

1. :func:`train_denoiser` trains the MNIST autoencoder on a denoising pretext (inputs with
   Gaussian noise, clean targets) and saves a snapshot every ``checkpoint_interval``
   epochs for TracIn.
2. :func:`example_importance` scores, for a class-balanced sub-test set, every example of a
   class-balanced sub-train set with each label-free explainer (pretext loss = clean
   reconstruction MSE, gradients w.r.t. encoder parameters only).
3. :func:`consistency_examples` turns the scores into similarity rates: the share of the
   most (least) important training examples that share the test example's label.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from xairepro.common.io import load_arrays, load_torch, save_arrays, save_torch
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.common.training import fit_and_save, minibatches
from xairepro.labelfree.features import load_images
from xairepro.labelfree.models import MnistAutoencoder

log = logging.getLogger(__name__)

EXPLAINERS = ("influence_functions", "tracin", "simplex", "dknn", "cosine")


def balanced_subset(labels: torch.Tensor, size: int, n_classes: int = 10) -> torch.Tensor:
    """Indices of ``size`` examples, the n-th of class ``n % n_classes`` in turn (as FACT)."""
    per_class = [torch.nonzero(labels == c).flatten() for c in range(n_classes)]
    needed = (size + n_classes - 1) // n_classes
    short = [c for c, idx in enumerate(per_class) if len(idx) < needed]
    if short:
        raise ValueError(f"classes {short} have fewer than {needed} examples for a balanced subset of {size}")
    return torch.stack([per_class[n % n_classes][n // n_classes] for n in range(size)])


def reconstruction_loss(call, x: torch.Tensor) -> torch.Tensor:
    """The pretext loss used for example importance: clean reconstruction MSE (mean)."""
    return ((call(x) - x) ** 2).mean()


def train_denoiser(
    data_path: str | Path,
    model_path: str | Path,
    metrics_path: str | Path,
    snapshots_dir: str | Path,
    checkpoint_path: str | Path,
    *,
    latent_dim: int,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    noise_level: float,
    checkpoint_interval: int,
    seed: int,
    threads: int = 1,
    device: str = "auto",
) -> dict[str, Any]:
    """Train a denoising :class:`MnistAutoencoder`; write TracIn snapshots to ``snapshots_dir``.

    Snapshots (weights + the learning rate they were trained with) are kept inside the
    resumable checkpoint while training, and written out at the end, so a resumed run
    still delivers every one of them.
    """
    seed_everything(seed, threads)
    device = pick_device(device)
    x, _ = load_images(data_path, "train")
    x = x.to(device)
    generator = torch.Generator().manual_seed(seed)
    model = MnistAutoencoder(latent_dim=latent_dim).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    snapshots: dict[str, dict[str, torch.Tensor]] = {}

    def run_epoch(epoch: int) -> dict[str, float]:
        model.train()
        total = 0.0
        for idx in minibatches(len(x), batch_size, generator):
            clean = x[idx.to(device)]
            noisy = clean + noise_level * torch.randn(clean.shape, generator=generator).to(device)
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(noisy), clean)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        if (epoch + 1) % checkpoint_interval == 0:
            snapshots[f"epoch{epoch + 1}"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        return {"train_loss": total / len(x)}

    params = dict(latent_dim=latent_dim, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                  noise_level=noise_level, checkpoint_interval=checkpoint_interval, seed=seed)
    snapshot_path = Path(str(checkpoint_path) + ".snapshots")
    if snapshot_path.exists():
        snapshots.update(load_torch(snapshot_path))
    _, record = fit_and_save(model=model, optimizer=optimizer, run_epoch=run_epoch, epochs=epochs, params=params,
                             data_path=data_path, checkpoint_path=checkpoint_path, model_path=model_path,
                             metrics_path=metrics_path, model_meta={"latent_dim": latent_dim}, generator=generator,
                             summary=lambda r: {"seed": seed, "snapshots": sorted(snapshots)},
                             on_checkpoint=lambda: save_torch(snapshot_path, snapshots))
    snapshots_dir = Path(snapshots_dir)
    snapshots_dir.mkdir(parents=True, exist_ok=True)
    for name, state in snapshots.items():
        save_torch(snapshots_dir / f"{name}.pt", {"state_dict": state, "lr": lr, "latent_dim": latent_dim})
    snapshot_path.unlink(missing_ok=True)
    return record


def example_importance(
    data_path: str | Path,
    model_path: str | Path,
    snapshots_dir: str | Path,
    out_path: str | Path,
    *,
    explainers: list[str],
    subtrain_size: int,
    subtest_size: int,
    recursion_depth: int,
    damping: float,
    scale: float,
    simplex_epochs: int,
    seed: int,
    threads: int = 1,
) -> dict[str, np.ndarray]:
    """Scores ``(subtest_size, subtrain_size)`` of every explainer; also the labels used."""
    from xairepro.attribution import example_importance as ei

    seed_everything(seed, threads)
    state = load_torch(model_path)
    model = MnistAutoencoder(latent_dim=int(state["latent_dim"]))
    model.load_state_dict(state["state_dict"])
    model.eval()
    train_x, train_y = load_images(data_path, "train")
    test_x, test_y = load_images(data_path, "test")
    sub_train = balanced_subset(train_y, subtrain_size)
    sub_test = balanced_subset(test_y, subtest_size)
    xs, ys, xt, yt = train_x[sub_train], train_y[sub_train], test_x[sub_test], test_y[sub_test]
    params = [name for name, _ in model.named_parameters() if name.startswith("encoder.")]
    with torch.no_grad():
        h_train, h_test = model.encode(xs), model.encode(xt)
    out: dict[str, np.ndarray] = {"train_labels": ys.numpy(), "test_labels": yt.numpy()}
    for name in explainers:
        if name == "influence_functions":
            scores = ei.influence_scores(model, reconstruction_loss, xs, xt, params, depth=recursion_depth,
                                         damping=damping, scale=scale, seed=seed)
        elif name == "tracin":
            checkpoints = []
            for path in sorted(Path(snapshots_dir).glob("epoch*.pt")):
                snap = load_torch(path)
                checkpoints.append((snap["state_dict"], float(snap["lr"])))
            if not checkpoints:
                raise ValueError(f"{snapshots_dir}: no TracIn snapshots (epoch*.pt)")
            scores = ei.tracin_scores(model, checkpoints, reconstruction_loss, xs, xt, params)
            model.load_state_dict(state["state_dict"])
        elif name == "simplex":
            scores = ei.simplex_scores(h_train, h_test, n_epochs=simplex_epochs, seed=seed)
        elif name == "dknn":
            scores = ei.dknn_scores(h_train, h_test)
        elif name == "cosine":
            scores = ei.cosine_scores(h_train, h_test)
        else:
            raise ValueError(f"unknown explainer {name!r}; choose from {EXPLAINERS}")
        out[name] = scores.numpy().astype(np.float32)
        log.info("%s: scores %s", name, out[name].shape)
    save_arrays(out_path, **out)
    return out


def consistency_examples(scores_path: str | Path, *, explainers: list[str], fractions: list[float]) -> pd.DataFrame:
    """Similarity rates of the most and least important examples, per explainer and fraction."""
    from xairepro.attribution.example_importance import similarity_rate

    arrays = load_arrays(scores_path, required=("train_labels", "test_labels", *explainers))
    train_labels = torch.from_numpy(arrays["train_labels"])
    test_labels = torch.from_numpy(arrays["test_labels"])
    rows = []
    for name in explainers:
        scores = torch.from_numpy(arrays[name])
        for fraction in fractions:
            k = max(1, int(round(fraction * scores.shape[1])))
            for most in (True, False):
                rows.append({"explainer": name, "examples": "most important" if most else "least important",
                             "fraction": fraction, "k": k,
                             "similarity_rate": similarity_rate(scores, train_labels, test_labels, k, most)})
    return pd.DataFrame(rows)
