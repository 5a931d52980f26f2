"""Training of the interactive study: the image classifiers, the demo generator, and the
latent logistic regressions of phase 2. Every trainer is resumable per epoch and writes its
weights and metrics record.

* Classifiers (train.py), :func:`train_classifier`: ResNet-18, one logit. Original schedule:
  ``freeze_epochs`` epochs training only ``fc`` (the body's BatchNorm statistics still
  update: Lightning keeps the model in train mode), then ``unfreeze_epochs`` with everything
  trainable and a fresh Adam (a new Lightning ``Trainer`` re-creates the optimiser);
  BCE-with-logits, Adam 3e-4, batch 10. Validation accuracy and BCE are compared with the
  class baseline.
* Demo generator, :func:`train_generator`: fits the
  :class:`~xairepro.interactive.models.DemoGenerator` as the decoder of an autoencoder of the
  procedural faces (MSE, Gaussian noise on the codes for a smooth latent space) and then fits
  its mapping to the encoded codes.
* Phase 2 (generative_exp.py), :func:`train_latent_model`: logistic regression
  Linear(w_dim, 1) on the latent codes of phase 1, BCE on the soft labels, Adam 3e-4, batch 100.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from xairepro.common.controls import shuffled
from xairepro.common.io import load_arrays, save_torch, write_json
from xairepro.common.provenance import config_hash
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.common.training import fit_and_save, minibatches, train_epochs
from xairepro.interactive import data as D
from xairepro.interactive.models import DemoGenerator, Encoder, resnet18_norepeat

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- classifiers
def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The flowers' training augmentation: a random rotation and random flips, per image."""
    from torchvision.transforms.v2 import functional as TF

    out = []
    for img in x:
        angle = float(torch.empty(()).uniform_(-180, 180, generator=generator))
        img = TF.rotate(img, angle)
        if torch.rand((), generator=generator) < 0.5:
            img = img.flip(-1)
        if torch.rand((), generator=generator) < 0.5:
            img = img.flip(-2)
        out.append(img)
    return torch.stack(out)


def blur_half(x: torch.Tensor, generator: torch.Generator, sigma: tuple[float, float] = (0.5, 1.5)) -> torch.Tensor:
    """Gaussian-blur a random half of the batch (one sigma per batch): a demo-only augmentation
    so that the classifiers score the demo generator's smoother faces like real ones."""
    from torchvision.transforms.v2 import functional as TF

    s = float(torch.empty(()).uniform_(*sigma, generator=generator))
    pick = torch.rand(len(x), generator=generator) < 0.5
    if not pick.any():
        return x
    out = x.clone()
    out[pick] = TF.gaussian_blur(x[pick], kernel_size=[5, 5], sigma=[s, s])
    return out


def set_body_trainable(model: nn.Module, trainable: bool) -> None:
    """The original's freeze()/unfreeze(): only ``fc`` trains while frozen."""
    for p in model.parameters():
        p.requires_grad_(trainable)
    model.fc.requires_grad_(True)


def constant_bce(y: torch.Tensor) -> float:
    """BCE of the best constant prediction (the mean label), i.e. the labels' mean entropy."""
    m = float(y.mean().clamp(1e-6, 1 - 1e-6))
    logit = torch.full_like(y, float(np.log(m / (1 - m))))
    return nn.functional.binary_cross_entropy_with_logits(logit, y).item()


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 100) -> dict[str, float]:
    """Validation BCE and accuracy, and the constant baseline's (predict the mean label); the
    batches of ``x`` (N, 3, H, W) go to the model's device one at a time."""
    model.eval()
    device = next(model.parameters()).device
    logits = torch.cat([model(x[i:i + batch_size].to(device)).flatten().cpu() for i in range(0, len(x), batch_size)])
    bce = nn.functional.binary_cross_entropy_with_logits(logits, y).item()
    acc = ((logits > 0).float() == y).float().mean().item()
    mean = float(y.mean())
    base_bce = constant_bce(y)
    return {"valid_bce": bce, "valid_acc": acc, "baseline_bce": base_bce, "baseline_acc": max(mean, 1 - mean)}


def train_classifier(
    root: str | Path,
    classifier: str,
    data_file: str | Path,
    model_path: str | Path,
    metrics_path: str | Path,
    checkpoint_path: str | Path,
    *,
    size: int,
    freeze_epochs: int,
    unfreeze_epochs: int,
    bs: int,
    lr: float,
    ratio: float,
    split_seed: int,
    imagenet_weights: str | Path | None,
    seed: int = 0,
    pad: int = 0,
    crop_ratio: float = 0.0,
    augment_train: bool = False,
    blur_augment: bool = False,
    threads: int | None = None,
    device: str = "auto",
) -> dict:
    """Train one classifier (resumable per epoch) and write its weights and metrics record.

    ``data_file`` (the annotation / label file) ties the checkpoint to the data;
    ``imagenet_weights`` is torchvision's ResNet-18 weights file or None (random start). The
    model and each batch go to ``device`` (``"auto"``: CUDA when there is one); the images
    stay on the CPU, where the augmentations draw from the seeded generator.
    """
    seed_everything(seed, threads)
    device = pick_device(device)
    split = D.load_split(root, classifier, size=size, split_seed=split_seed, ratio=ratio, pad=pad, crop_ratio=crop_ratio)
    x_train, y_train = D.to_tensor(split["x_train"]), torch.from_numpy(split["y_train"])
    x_valid, y_valid = D.to_tensor(split["x_valid"]), torch.from_numpy(split["y_valid"])
    log.info("%s: %d train / %d valid images, train baseline %.4f", classifier, len(x_train), len(x_valid),
             float(y_train.mean()))
    model = resnet18_norepeat(imagenet_weights=imagenet_weights or None).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    loss_fn = nn.BCEWithLogitsLoss()

    def run_epoch(epoch: int) -> dict[str, float]:
        frozen = epoch < freeze_epochs
        set_body_trainable(model, not frozen)
        if epoch == freeze_epochs:
            optimizer.state.clear()  # the original's second Trainer starts a fresh Adam
        model.train()
        total, batches = 0.0, 0
        for idx in minibatches(len(x_train), bs, generator):
            xb = augment(x_train[idx], generator) if augment_train else x_train[idx]
            xb = blur_half(xb, generator) if blur_augment else xb
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb.to(device)).flatten(), y_train[idx].to(device))
            loss.backward()
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
        return {"train_bce": total / max(1, batches), "frozen": float(frozen), **evaluate(model, x_valid, y_valid)}

    params = {"classifier": classifier, "size": size, "freeze_epochs": freeze_epochs,
              "unfreeze_epochs": unfreeze_epochs, "bs": bs, "lr": lr, "ratio": ratio, "split_seed": split_seed,
              "imagenet_weights": bool(imagenet_weights), "seed": seed, "pad": pad, "crop_ratio": crop_ratio,
              "augment": augment_train, "blur_augment": blur_augment}

    def summary(result):
        final = result.history[-1]
        return {k: final[k] for k in ("valid_bce", "valid_acc", "baseline_bce", "baseline_acc")} | {
            "classifier": classifier, "n_train": len(x_train), "n_valid": len(x_valid)}

    _, record = fit_and_save(model=model, optimizer=optimizer, run_epoch=run_epoch,
                             epochs=freeze_epochs + unfreeze_epochs, params=params, data_path=data_file,
                             checkpoint_path=checkpoint_path, model_path=model_path, metrics_path=metrics_path,
                             model_meta={"classifier": classifier, "size": size}, summary=summary,
                             generator=generator)
    if not math.isfinite(record["valid_bce"]):
        log.warning("%s: validation BCE is not finite", classifier)
    log.info("%s: valid acc %.3f (baseline %.3f), BCE %.3f (baseline %.3f)", classifier, record["valid_acc"],
             record["baseline_acc"], record["valid_bce"], record["baseline_bce"])
    return record


# --------------------------------------------------------------------------- demo generator
def train_generator(root: str | Path, model_path: str | Path, metrics_path: str | Path, checkpoint_path: str | Path,
                    *, size: int, z_dim: int, channels: int, epochs: int, batch_size: int, lr: float,
                    latent_noise: float, seed: int = 0, threads: int | None = None, device: str = "auto") -> dict:
    """Train the demo generator on every procedural face (see the module docstring), on
    ``device`` (``"auto"``: CUDA when there is one; the code noise is drawn on the CPU)."""
    seed_everything(seed, threads)
    device = pick_device(device)
    table = D.read_celeb_annotations(root)
    images = np.stack([D.read_image(Path(root) / D.CELEB_IMG_DIR / n, size) for n in table.index])
    x = (torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1).to(device)  # (N, 3, R, R) in [-1, 1]
    generator = DemoGenerator(z_dim=z_dim, img_resolution=size, channels=channels)
    encoder = Encoder(z_dim, size, channels)
    both = nn.ModuleDict({"generator": generator, "encoder": encoder}).to(device)
    optimizer = torch.optim.Adam(both.parameters(), lr=lr)
    rng = torch.Generator().manual_seed(seed)

    def run_epoch(epoch: int) -> dict[str, float]:
        both.train()
        total = 0.0
        for idx in minibatches(len(x), batch_size, rng):
            codes = encoder(x[idx])
            codes = codes + latent_noise * torch.randn(codes.shape, generator=rng).to(device)
            ws = codes[:, None].repeat(1, generator.num_ws, 1)
            loss = nn.functional.mse_loss(generator.synthesis(ws), x[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        return {"reconstruction_mse": total / len(x)}

    params = {"size": size, "z_dim": z_dim, "channels": channels, "epochs": epochs, "batch_size": batch_size,
              "lr": lr, "latent_noise": latent_noise, "seed": seed}
    result = train_epochs(model=both, optimizer=optimizer, epochs=epochs, run_epoch=run_epoch,
                          checkpoint_path=checkpoint_path, fingerprint=config_hash(
                              dict(params, data=_fingerprint(Path(root) / D.CELEB_ANNO))), generator=rng)
    with torch.no_grad():
        both.eval()
        codes = torch.cat([encoder(x[i:i + 256]) for i in range(0, len(x), 256)])
        generator.mapping.fit(codes)
        recon = generator.synthesis(codes[:, None].repeat(1, generator.num_ws, 1))
        mse = nn.functional.mse_loss(recon, x).item()
    state = {k: v.cpu() for k, v in generator.state_dict().items()}
    save_torch(model_path, {"state_dict": state, "z_dim": z_dim, "img_resolution": size,
                            "channels": channels})
    record = {"reconstruction_mse": mse, "n_images": len(x), "num_ws": generator.num_ws,
              "resumed_from_epoch": result.resumed_from, "history": result.history, "params": params}
    write_json(metrics_path, record)
    Path(checkpoint_path).unlink(missing_ok=True)
    log.info("demo generator: reconstruction MSE %.4f on %d faces", mse, len(x))
    return record


def _fingerprint(path: Path) -> str:
    from xairepro.common.training import file_fingerprint

    return file_fingerprint(path)


# --------------------------------------------------------------------------- phase 2
def latent_quality(logits: torch.Tensor, soft: torch.Tensor) -> dict[str, float]:
    """The original's eval_model: BCE and accuracy vs a constant baseline (soft labels rounded
    for accuracy). The baseline BCE predicts the mean label (the original fed the mean in as
    a logit; that number is kept as ``baseline_bce_original``)."""
    bce = nn.functional.binary_cross_entropy_with_logits(logits, soft).item()
    acc = (logits.sigmoid().round() == soft.round()).float().mean().item()
    rounded = soft.round().mean().item()
    return {"valid_bce": bce, "valid_acc": acc, "baseline_bce": constant_bce(soft),
            "baseline_bce_original": nn.functional.binary_cross_entropy_with_logits(
                soft.mean() * torch.ones_like(soft), soft).item(),
            "baseline_acc": max(rounded, 1 - rounded)}


def _fit_latent(model: nn.Module, optimizer: torch.optim.Optimizer, w: torch.Tensor, y: torch.Tensor,
                batch_size: int, rng: torch.Generator) -> float:
    """One epoch of the latent logistic regression; returns the mean training BCE."""
    total = 0.0
    for idx in minibatches(len(w), batch_size, rng):
        loss = nn.functional.binary_cross_entropy_with_logits(model(w[idx]).flatten(), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(w)


def train_latent_model(dataset_path: str | Path, attr: str, model_path: str | Path, metrics_path: str | Path,
                       checkpoint_path: str | Path, *, epochs: int, batch_size: int, lr: float, seed: int = 0,
                       threads: int | None = None, device: str = "auto") -> dict:
    """Phase 2: the latent logistic regression of one attribute (resumable per epoch).

    Its negative control, the same regression trained on the training labels shuffled
    (:func:`~xairepro.common.controls.shuffled`, seeded by ``seed``), is trained first (a
    few seconds, not checkpointed); the record holds both models' validation quality. Both
    train on ``device`` (``"auto"``: CUDA when there is one).
    """
    seed_everything(seed, threads)
    device = pick_device(device)
    arrays = load_arrays(dataset_path, required=("w_train", "w_valid", f"logit_{attr}_train"))
    w_train, w_valid = torch.from_numpy(arrays["w_train"]).to(device), torch.from_numpy(arrays["w_valid"]).to(device)
    y_train = torch.sigmoid(torch.from_numpy(arrays[f"logit_{attr}_train"]))
    y_valid = torch.sigmoid(torch.from_numpy(arrays[f"logit_{attr}_valid"])).to(device)

    control = nn.Linear(w_train.shape[1], 1).to(device)
    control_optimizer = torch.optim.Adam(control.parameters(), lr=lr)
    control_rng = torch.Generator().manual_seed(seed)
    y_shuffled = torch.from_numpy(shuffled(y_train.numpy(), seed)).to(device)
    y_train = y_train.to(device)
    for _ in range(epochs):
        _fit_latent(control, control_optimizer, w_train, y_shuffled, batch_size, control_rng)
    with torch.no_grad():
        control_quality = latent_quality(control(w_valid).flatten(), y_valid)

    model = nn.Linear(w_train.shape[1], 1).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    rng = torch.Generator().manual_seed(seed)

    def run_epoch(epoch: int) -> dict[str, float]:
        train_bce = _fit_latent(model, optimizer, w_train, y_train, batch_size, rng)
        with torch.no_grad():
            quality = latent_quality(model(w_valid).flatten(), y_valid)
        return {"train_bce": train_bce, **quality}

    def summary(result) -> dict:
        return {"attr": attr, "n_valid": len(w_valid), **{k: v for k, v in result.history[-1].items() if k != "epoch"},
                "control_valid_acc": control_quality["valid_acc"], "control_valid_bce": control_quality["valid_bce"]}

    params = {"attr": attr, "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed}
    _, record = fit_and_save(model=model, optimizer=optimizer, run_epoch=run_epoch, epochs=epochs, params=params,
                             data_path=dataset_path, checkpoint_path=checkpoint_path, model_path=model_path,
                             metrics_path=metrics_path, model_meta={"attr": attr, "w_dim": int(w_train.shape[1])},
                             summary=summary, generator=rng)
    log.info("latent model %s: valid BCE %.3f (baseline %.3f), acc %.3f (baseline %.3f); shuffled-label control "
             "acc %.3f", attr, record["valid_bce"], record["baseline_bce"], record["valid_acc"], record["baseline_acc"],
             record["control_valid_acc"])
    return record
