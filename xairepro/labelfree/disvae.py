"""Claim 3 of the label-free study: disentanglement (Fig. 3).

A beta-VAE or beta-TCVAE (Burgess architecture, Bernoulli likelihood) is trained for each
beta; each latent unit's saliency map is |mu_i(x) * GradientSHAP_i(x)| (label-free, per
unit); the metric is, per test image, the mean off-diagonal Pearson correlation between the
units' maps. If disentangled units looked at different pixels, the correlation would fall
as beta grows; FACT reports it does not.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from xairepro.common.io import load_arrays
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.common.training import fit_and_save, minibatches
from xairepro.labelfree.models import BurgessVAE, beta_tcvae_loss, beta_vae_loss

log = logging.getLogger(__name__)

LOSSES = ("beta_vae", "beta_tcvae")


def load_dataset(path: str | Path, dataset: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Train and test images in [0, 1], ``(N, 1, S, S)``: MNIST padded from 28 to 32 pixels,
    dSprites as stored (``images`` split 90/10 in file order)."""
    arrays = load_arrays(path)
    if dataset == "mnist":
        train, test = (torch.from_numpy(arrays[f"{s}_x"].astype(np.float32) / 255.0).unsqueeze(1)
                       for s in ("train", "test"))
        return torch.nn.functional.pad(train, (2, 2, 2, 2)), torch.nn.functional.pad(test, (2, 2, 2, 2))
    if dataset == "dsprites":
        images = torch.from_numpy(arrays["images"].astype(np.float32)).unsqueeze(1)
        cut = int(0.9 * len(images))
        return images[:cut], images[cut:]
    raise ValueError(f"unknown dataset {dataset!r}; choose mnist or dsprites")


def fit_and_explain(
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
    n_test: int,
    shap_samples: int,
    seed: int,
    threads: int = 1,
    device: str = "auto",
) -> pd.DataFrame:
    """Train one VAE and return the per-image saliency correlations of its latent units.

    Rows: dataset, loss, beta, seed, image, correlation. Also writes the model and a JSON
    record of the training (``record_path``).
    """
    from xairepro.attribution.label_free import GradientShap, latent_unit_saliency
    from xairepro.metrics.representation import mean_offdiagonal_correlation

    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose from {LOSSES}")
    seed_everything(seed, threads)
    device = pick_device(device)
    train, test = load_dataset(data_path, dataset)
    train = train.to(device)
    generator = torch.Generator().manual_seed(seed)
    model = BurgessVAE(latent_dim=latent_dim, size=train.shape[-1]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def run_epoch(epoch: int) -> dict[str, float]:
        model.train()
        total = 0.0
        for idx in minibatches(len(train), batch_size, generator):
            x = train[idx.to(device)]
            optimizer.zero_grad()
            logits, mu, logvar, z = model(x)
            value = (beta_vae_loss(logits, x, mu, logvar, beta) if loss == "beta_vae"
                     else beta_tcvae_loss(logits, x, mu, logvar, z, len(train), beta))
            value.backward()
            optimizer.step()
            total += value.item() * len(idx)
        return {"train_loss": total / len(train)}

    params = dict(dataset=dataset, loss=loss, beta=beta, latent_dim=latent_dim, epochs=epochs, batch_size=batch_size,
                  lr=lr, seed=seed)
    fit_and_save(model=model, optimizer=optimizer, run_epoch=run_epoch, epochs=epochs, params=params,
                 data_path=data_path, checkpoint_path=checkpoint_path, model_path=model_path,
                 metrics_path=record_path, model_meta={"latent_dim": latent_dim, "size": train.shape[-1]},
                 generator=generator)
    model.eval().cpu()

    x = test[:n_test]
    torch.manual_seed(seed)
    maps = latent_unit_saliency(lambda t: model.encode(t)[0], x, GradientShap,
                                baselines=torch.zeros(1, *x.shape[1:]), n_samples=shap_samples)
    correlation = mean_offdiagonal_correlation(maps).numpy()
    log.info("%s %s beta=%g: mean saliency correlation %.3f", dataset, loss, beta, float(correlation.mean()))
    return pd.DataFrame({"dataset": dataset, "loss": loss, "beta": beta, "seed": seed,
                         "image": np.arange(len(x)), "correlation": correlation})
