"""Training of the ``labelfree`` study's models, one function per training rule.

* :func:`train_autoencoder`: the autoencoder of a feature-consistency data set (claim 1.1;
  MNIST/CIFAR: MSE; ECG: the LSTM autoencoder with L1, on normal beats only), best
  validation epoch kept.
* :func:`train_denoiser`: the autoencoder of claim 1.2 (denoising on MNIST and CIFAR, the
  original's LSTM one on ECG) and its TracIn snapshots.
* :func:`train_classifier`: the encoder + linear classifier (FACT's encoder vs full model).
* :func:`train_task`: the encoder trained on a pretext task or as the classifier (claims
  2.1, 2.2), its inputs corrupted by :func:`corrupt`.
* :func:`train_vae`: a beta-VAE or beta-TCVAE (claim 3).

Every trainer is resumable from its checkpoint (:func:`xairepro.common.training.fit_and_save`);
:func:`load_autoencoder`, :func:`load_encoder` and :func:`load_snapshots` read back what
they write.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from xairepro.common.io import load_torch, save_torch
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.common.training import fit_and_save, minibatches
from xairepro.labelfree.data import class_count, example_data, load_images, load_inputs
from xairepro.labelfree.models import (
    BurgessVAE, EncoderClassifier, MnistAutoencoder, beta_tcvae_loss, beta_vae_loss, build_autoencoder,
)

log = logging.getLogger(__name__)

def load_autoencoder(path: str | Path, device: str = "cpu") -> torch.nn.Module:
    """Rebuild the trained autoencoder written by :func:`train_autoencoder`, in eval mode."""
    state = load_torch(path, map_location=device)
    options = {"positional_decoder": bool(state["positional_decoder"])} if "positional_decoder" in state else {}
    model = build_autoencoder(str(state.get("dataset", "mnist")), int(state["latent_dim"]), **options)
    model.load_state_dict(state["state_dict"])
    return model.to(device).eval()


LOSSES = {"mse": torch.nn.MSELoss, "l1": torch.nn.L1Loss}


def add_noise(x: torch.Tensor, noise_level: float, generator: torch.Generator) -> torch.Tensor:
    """``x + noise_level * eps``, eps ~ N(0, 1) drawn from ``generator`` (a denoising
    autoencoder's input, unclipped as in the original); ``x`` itself, drawing nothing, when
    ``noise_level`` is 0."""
    if noise_level == 0:
        return x
    return x + noise_level * torch.randn(x.shape, generator=generator).to(x.device)


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
    noise_level: float = 0.0,
    threads: int = 1,
    device: str = "auto",
) -> dict[str, Any]:
    """Train the autoencoder of ``dataset`` with ``loss`` (mse, l1) and Adam; keep the best
    validation epoch.

    The paper stops early on the validation loss; keeping the best epoch of a fixed budget
    gives the same weights without a patience knob. ``noise_level`` > 0 makes it a denoising
    autoencoder, as the original's MNIST model of claim 1.1 (Label-Free-XAI
    experiments/mnist.py:83-86, ``RandomNoise(noise_level=0.3)``): the loss compares the
    reconstruction of ``x + noise_level * eps`` (eps ~ N(0, 1), fresh every batch) with the
    clean ``x``; the validation inputs get one fixed draw of the same noise (the original's
    test loss sees noisy inputs too). 0 draws nothing: a plain autoencoder.
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
    valid_inputs = valid
    if noise_level > 0:  # one fixed draw, from its own stream: the training batches' stream is untouched
        valid_noise = torch.randn(valid.shape, generator=torch.Generator().manual_seed(seed + 1))
        valid_inputs = valid + noise_level * valid_noise.to(device)

    def run_epoch(epoch: int) -> dict[str, float]:
        model.train()
        total = 0.0
        for idx in minibatches(len(train), batch_size, generator):
            clean = train[idx.to(device)]
            optimizer.zero_grad()
            loss = loss_fn(model(add_noise(clean, noise_level, generator)), clean)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            valid_loss = loss_fn(model(valid_inputs), valid).item()
        return {"train_loss": total / len(train), "valid_loss": valid_loss}

    params = dict(latent_dim=latent_dim, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                  valid_fraction=valid_fraction, seed=seed, dataset=dataset, loss=loss, **options)
    if noise_level > 0:  # recorded only when used: a plain run's parameters (and resumability) stay as they were
        params["noise_level"] = noise_level

    def summary(result):
        best = result.history[result.best_epoch - 1]
        log.info("best epoch %d, validation loss (%s) %.5f", result.best_epoch, loss, best["valid_loss"])
        return {"seed": seed, "best_epoch": result.best_epoch, "valid_loss": best["valid_loss"]}

    _, record = fit_and_save(model=model, optimizer=optimizer, run_epoch=run_epoch, epochs=epochs, params=params,
                             data_path=data_path, checkpoint_path=checkpoint_path, model_path=model_path,
                             metrics_path=metrics_path, model_meta={"latent_dim": latent_dim, "dataset": dataset, **options}, summary=summary,
                             generator=generator, select_metric="valid_loss", select_mode="min")
    return record


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
    dataset: str = "mnist",
    loss: str = "mse",
    threads: int = 1,
    device: str = "auto",
) -> dict[str, Any]:
    """Train the autoencoder of claim 1.2 on ``dataset``; write TracIn snapshots to ``snapshots_dir``.

    The model is the data set's (:func:`~xairepro.labelfree.models.build_autoencoder`:
    MNIST's, FACT's CIFAR one, the LSTM one of ECG), trained on the training split of
    :func:`~xairepro.labelfree.data.example_data` with ``loss`` (mse, l1) between the
    reconstruction of ``x + noise_level * eps`` and the clean ``x`` (``noise_level`` 0: a
    plain autoencoder, the original's ECG model). Snapshots (weights + the learning rate
    they were trained with) are kept inside the resumable checkpoint while training, and
    written out at the end, so a resumed run still delivers every one of them.
    """
    seed_everything(seed, threads)
    device = pick_device(device)
    x = example_data(data_path, dataset, seed)[0].to(device)
    generator = torch.Generator().manual_seed(seed)
    model = build_autoencoder(dataset, latent_dim).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = LOSSES[loss]()
    snapshots: dict[str, dict[str, torch.Tensor]] = {}

    def run_epoch(epoch: int) -> dict[str, float]:
        model.train()
        total = 0.0
        for idx in minibatches(len(x), batch_size, generator):
            clean = x[idx.to(device)]
            optimizer.zero_grad()
            loss = loss_fn(model(add_noise(clean, noise_level, generator)), clean)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        if (epoch + 1) % checkpoint_interval == 0:
            snapshots[f"epoch{epoch + 1}"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        return {"train_loss": total / len(x)}

    params = dict(latent_dim=latent_dim, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                  noise_level=noise_level, checkpoint_interval=checkpoint_interval, seed=seed, dataset=dataset,
                  loss=loss)
    snapshot_path = Path(str(checkpoint_path) + ".snapshots")
    if snapshot_path.exists():
        snapshots.update(load_torch(snapshot_path))
    _, record = fit_and_save(model=model, optimizer=optimizer, run_epoch=run_epoch, epochs=epochs, params=params,
                             data_path=data_path, checkpoint_path=checkpoint_path, model_path=model_path,
                             metrics_path=metrics_path, model_meta={"latent_dim": latent_dim, "dataset": dataset},
                             generator=generator, summary=lambda r: {"seed": seed, "snapshots": sorted(snapshots)},
                             on_checkpoint=lambda: save_torch(snapshot_path, snapshots))
    snapshots_dir = Path(snapshots_dir)
    snapshots_dir.mkdir(parents=True, exist_ok=True)
    for name, state in snapshots.items():
        save_torch(snapshots_dir / f"{name}.pt", {"state_dict": state, "lr": lr, "latent_dim": latent_dim})
    snapshot_path.unlink(missing_ok=True)
    return record


def load_snapshots(snapshots_dir: str | Path) -> list[tuple[dict[str, torch.Tensor], float]]:
    """The TracIn snapshots :func:`train_denoiser` wrote: ``(state_dict, learning_rate)`` per
    ``epoch*.pt``, in file-name order."""
    checkpoints = []
    for path in sorted(Path(snapshots_dir).glob("epoch*.pt")):
        snap = load_torch(path)
        checkpoints.append((snap["state_dict"], float(snap["lr"])))
    if not checkpoints:
        raise ValueError(f"{snapshots_dir}: no TracIn snapshots (epoch*.pt)")
    return checkpoints


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
    dataset: str = "mnist",
    threads: int = 1,
    device: str = "auto",
) -> dict[str, Any]:
    """Train :class:`EncoderClassifier` on ``dataset`` (MNIST, CIFAR-10/100) with
    cross-entropy and Adam; report test accuracy."""
    seed_everything(seed, threads)
    device = pick_device(device)
    x, y = (t.to(device) for t in load_inputs(data_path, dataset, "train"))
    test_x, test_y = (t.to(device) for t in load_inputs(data_path, dataset, "test"))
    generator = torch.Generator().manual_seed(seed)
    n_classes = class_count(dataset)
    model = EncoderClassifier(latent_dim, n_classes=n_classes, dataset=dataset).to(device)
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
                             metrics_path=metrics_path,
                             model_meta={"latent_dim": latent_dim, "dataset": dataset, "n_classes": n_classes},
                             generator=generator,
                             summary=lambda r: {"seed": seed, "test_accuracy": r.history[-1]["test_accuracy"]})
    return record


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
    dataset: str = "mnist",
    threads: int = 1,
    device: str = "auto",
) -> dict[str, Any]:
    """Train the encoder of ``dataset``'s autoencoder (MNIST, CIFAR-10/100) on one task: the
    autoencoder on a pretext, or the encoder plus a linear layer as the classifier."""
    if task == "classification":
        return train_classifier(data_path, model_path, metrics_path, checkpoint_path, latent_dim=latent_dim,
                                epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay, seed=seed,
                                dataset=dataset, threads=threads, device=device)
    seed_everything(seed, threads)
    device = pick_device(device)
    x, _ = load_inputs(data_path, dataset, "train")
    x = x.to(device)
    generator = torch.Generator().manual_seed(seed)
    model = build_autoencoder(dataset, latent_dim).to(device)
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
                             metrics_path=metrics_path, model_meta={"latent_dim": latent_dim, "dataset": dataset},
                             generator=generator,
                             summary=lambda r: {"task": task, "seed": seed, "train_loss": r.history[-1]["train_loss"]})
    return record


def load_encoder(path: str | Path, task: str) -> torch.nn.Module:
    """The encoder (MNIST ``(N, 1, 28, 28) -> (N, d)``, CIFAR ``(N, 3, 32, 32) -> (N, d)``) of
    a model trained by :func:`train_task`."""
    state = load_torch(path)
    dataset, latent_dim = str(state.get("dataset", "mnist")), int(state["latent_dim"])
    model = (EncoderClassifier(latent_dim, n_classes=int(state.get("n_classes", 10)), dataset=dataset)
             if task == "classification" else build_autoencoder(dataset, latent_dim))
    model.load_state_dict(state["state_dict"])
    return model.encoder.eval()


#: The objectives of the disentanglement experiment.
VAE_LOSSES = ("beta_vae", "beta_tcvae")


def train_vae(
    train: torch.Tensor,
    data_path: str | Path,
    model_path: str | Path,
    record_path: str | Path,
    checkpoint_path: str | Path,
    *,
    dataset: str,
    loss: str,
    beta: float,
    latent_dim: int,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    rec_dist: str = "bernoulli",
) -> BurgessVAE:
    """Train a :class:`BurgessVAE` on ``train`` images ``(N, C, S, S)`` (already on the
    device, read from ``data_path``) with the beta-VAE or beta-TCVAE objective and the
    decoder likelihood ``rec_dist`` (bernoulli, gaussian); write the
    model and a JSON record of the training (``record_path``). Returns the model in
    evaluation mode, on the CPU."""
    if loss not in VAE_LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose from {VAE_LOSSES}")
    device = train.device
    generator = torch.Generator().manual_seed(seed)
    model = BurgessVAE(latent_dim=latent_dim, size=train.shape[-1], channels=train.shape[1]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def run_epoch(epoch: int) -> dict[str, float]:
        model.train()
        total = 0.0
        for idx in minibatches(len(train), batch_size, generator):
            x = train[idx.to(device)]
            optimizer.zero_grad()
            logits, mu, logvar, z = model(x)
            value = (beta_vae_loss(logits, x, mu, logvar, beta, rec_dist) if loss == "beta_vae"
                     else beta_tcvae_loss(logits, x, mu, logvar, z, len(train), beta, rec_dist))
            value.backward()
            optimizer.step()
            total += value.item() * len(idx)
        return {"train_loss": total / len(train)}

    params = dict(dataset=dataset, loss=loss, beta=beta, latent_dim=latent_dim, epochs=epochs, batch_size=batch_size,
                  lr=lr, seed=seed, **({"rec_dist": rec_dist} if rec_dist != "bernoulli" else {}))
    fit_and_save(model=model, optimizer=optimizer, run_epoch=run_epoch, epochs=epochs, params=params,
                 data_path=data_path, checkpoint_path=checkpoint_path, model_path=model_path,
                 metrics_path=record_path,
                 model_meta={"latent_dim": latent_dim, "size": train.shape[-1], "channels": train.shape[1]},
                 generator=generator)
    return model.eval().cpu()


def load_vae(path: str | Path) -> BurgessVAE:
    """The VAE written by :func:`train_vae` (or imported from FACT's), in evaluation mode."""
    state = load_torch(path)
    model = BurgessVAE(latent_dim=int(state["latent_dim"]), size=int(state["size"]), channels=int(state["channels"]))
    model.load_state_dict(state["state_dict"])
    return model.eval()
