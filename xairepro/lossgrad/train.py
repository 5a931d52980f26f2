"""Training of the ``lossgrad`` networks, and reading back what training wrote.

* :func:`train_classifier` trains ``Net`` for one head and seed with Adadelta + StepLR,
  checkpointing every epoch (resumable), and saves the weights; :func:`load_model` rebuilds it.
* :func:`train_svd` trains :class:`~xairepro.lossgrad.models.SVDNet` on random 115-frame
  excerpts with BCE against soft labels ``0.02 + 0.96 y``, SGD with Nesterov momentum 0.9
  and a learning rate multiplied by 0.85 after every epoch; it checkpoints every epoch
  (resumable) and keeps the weights of the epoch with the lowest validation loss;
  :func:`load_svd_model` rebuilds it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xairepro.common.download import file_digest
from xairepro.common.io import load_torch, save_torch, write_json
from xairepro.common.provenance import config_hash
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.common.training import capped, minibatches, train_epochs
from xairepro.lossgrad.data import ExcerptSet, load_excerpts, load_split
from xairepro.lossgrad.models import (
    Net,
    SVDNet,
    bce_per_excerpt,
    fast_layout,
    per_sample_loss,
    predict,
    soft_targets,
    variant_name,
)

log = logging.getLogger(__name__)


def _file_digest(path: str | Path) -> str:
    """The first 16 hex digits of the file's sha256: the data fingerprint in training records."""
    return file_digest(path)[:16]


# --------------------------------------------------------------------------- MNIST
def _evaluate(model: Net, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> tuple[float, float]:
    """Accuracy and mean loss of ``model`` on ``(x, y)``, in batches, without gradients."""
    correct, loss = evaluate_items(model, x, y, batch_size)
    return float(correct.double().mean().item()), float(loss.double().mean().item())


def evaluate_items(model: Net, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per test item: whether ``model`` classifies it correctly ``(N,)`` bool and its loss
    ``(N,)`` float32 (the training loss of its head), in batches, without gradients."""
    correct, losses = [], []
    with torch.no_grad():
        for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
            out = model(fast_layout(xb))
            losses.append(per_sample_loss(out, yb, model.classifier_type).float().cpu())
            correct.append((predict(out, model.classifier_type) == yb).cpu())
    return torch.cat(correct), torch.cat(losses)


def load_model(path: str | Path, device: str = "cpu") -> Net:
    """Rebuild a trained :class:`Net` from the file :func:`train_classifier` wrote."""
    state = load_torch(path, map_location=device)
    model = Net(num_classes=int(state["num_classes"]), classifier_type=str(state["classifier_type"]), **state["arch"])
    model.load_state_dict(state["state_dict"])
    return model.to(device).eval()


def train_classifier(
    data_path: str | Path,
    model_path: str | Path,
    metrics_path: str | Path,
    checkpoint_path: str | Path,
    *,
    classifier_type: str,
    num_classes: int,
    seed: int,
    epochs: int,
    batch_size: int,
    test_batch_size: int,
    lr: float,
    gamma: float,
    arch: dict[str, int],
    threads: int = 1,
    device: str = "auto",
) -> dict[str, Any]:
    """Train one ``Net`` (original recipe: Adadelta, StepLR per epoch, shuffled batches).

    Writes the weights (with the architecture, so :func:`load_model` can rebuild it) to
    ``model_path`` and the per-epoch history and final test metrics to ``metrics_path``.
    Returns the metrics record.
    """
    seed_everything(seed, threads)
    device = pick_device(device)
    train_x, train_y = load_split(data_path, "train", num_classes)
    test_x, test_y = load_split(data_path, "test", num_classes)
    train_x, train_y, test_x, test_y = (t.to(device) for t in (train_x, train_y, test_x, test_y))
    log.info("%s seed %d: %d train / %d test images on %s", variant_name(classifier_type, num_classes),
             seed, len(train_y), len(test_y), device)

    model = Net(num_classes=num_classes, classifier_type=classifier_type, **arch).to(device)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=gamma)
    generator = torch.Generator().manual_seed(seed)

    def run_epoch(epoch: int) -> dict[str, float]:
        model.train()
        total, count = 0.0, 0
        for idx in minibatches(len(train_y), batch_size, generator):
            idx = idx.to(device)
            optimizer.zero_grad()
            loss = per_sample_loss(model(train_x[idx]), train_y[idx], classifier_type).mean()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
            count += len(idx)
        model.eval()
        test_acc, test_loss = _evaluate(model, test_x, test_y, test_batch_size)
        return {"train_loss": total / count, "test_loss": test_loss, "test_accuracy": test_acc}

    params = dict(classifier_type=classifier_type, num_classes=num_classes, seed=seed, epochs=epochs,
                  batch_size=batch_size, lr=lr, gamma=gamma, arch=arch, data=_file_digest(data_path))
    result = train_epochs(model=model, optimizer=optimizer, scheduler=scheduler, epochs=epochs,
                          run_epoch=run_epoch, checkpoint_path=checkpoint_path,
                          fingerprint=config_hash(params), generator=generator)
    model.eval()
    save_torch(model_path, {
        "state_dict": {k: v.cpu() for k, v in model.state_dict().items()},
        "num_classes": num_classes, "classifier_type": classifier_type, "arch": dict(arch),
    })
    final = result.history[-1]
    record = {"variant": variant_name(classifier_type, num_classes), "seed": seed,
              "test_accuracy": final["test_accuracy"], "test_loss": final["test_loss"],
              "resumed_from_epoch": result.resumed_from, "history": result.history, "params": params}
    write_json(metrics_path, record)
    Path(checkpoint_path).unlink(missing_ok=True)
    log.info("final test accuracy %.4f", final["test_accuracy"])
    return record


# --------------------------------------------------------------------------- singing voice
def load_svd_model(path: str | Path, device: str = "cpu") -> SVDNet:
    """Rebuild a trained :class:`SVDNet` from the file :func:`train_svd` wrote (eval mode)."""
    state = load_torch(path, map_location=device)
    model = SVDNet(blocklen=int(state["blocklen"]), mel_bands=int(state["mel_bands"]), **state["arch"])
    model.load_state_dict(state["state_dict"])
    return model.to(device).eval()


def predict_frames(model: SVDNet, excerpts: ExcerptSet, batch_size: int, device: str = "cpu") -> np.ndarray:
    """Sung probability of every frame, ``(sum T,)`` float64, in batches, without gradients."""
    model.eval()
    out = []
    with torch.no_grad():
        for _, x in excerpts.batches(batch_size):
            out.append(model(fast_layout(x.to(device))).cpu())
    return torch.cat(out).double().numpy()


def train_svd(
    spect_path: str | Path,
    znorm_path: str | Path,
    model_path: str | Path,
    metrics_path: str | Path,
    checkpoint_path: str | Path,
    *,
    seed: int,
    epochs: int,
    batches_per_epoch: int,
    batch_size: int,
    lr: float,
    lr_decay: float,
    momentum: float,
    arch: dict[str, int],
    test_batch_size: int,
    threads: int = 1,
    device: str = "auto",
) -> dict[str, Any]:
    """Train one SVDNet; write its best-validation weights and the training record.

    Each epoch draws ``batches_per_epoch`` batches of ``batch_size`` excerpts centred on
    random training frames (the original: 20 x 2000 x 32).
    """
    seed_everything(seed, threads)
    device = pick_device(device)
    train, train_y = load_excerpts(spect_path, znorm_path, "train")
    valid, valid_y = load_excerpts(spect_path, znorm_path, "valid")
    train_targets = soft_targets(torch.from_numpy(train_y))
    valid_hard = torch.from_numpy(valid_y)
    log.info("%d training / %d validation frames on %s", len(train), len(valid), device)

    model = SVDNet(blocklen=train.blocklen, mel_bands=train.frames.shape[1], **arch).to(device)
    model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, nesterov=True)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=lr_decay)
    generator = torch.Generator().manual_seed(seed)

    def run_epoch(epoch: int) -> dict[str, float]:
        model.train()
        total, count = 0.0, 0
        for _ in range(capped(batches_per_epoch)):  # a smoke run's batch cap ends it early too
            idx = torch.randint(len(train), (batch_size,), generator=generator)
            optimizer.zero_grad()
            loss = bce_per_excerpt(model(fast_layout(train.get(idx).to(device))), train_targets[idx].to(device)).mean()
            loss.backward()
            optimizer.step()
            total += loss.item()
            count += 1
        prob = torch.from_numpy(predict_frames(model, valid, test_batch_size, device))
        valid_loss = bce_per_excerpt(prob.clamp(1e-7, 1 - 1e-7), valid_hard.double()).mean().item()
        valid_error = ((prob > 0.5).double() != valid_hard.double()).double().mean().item()
        return {"train_loss": total / count, "valid_loss": valid_loss, "valid_error": valid_error}

    params = dict(seed=seed, epochs=epochs, batches_per_epoch=batches_per_epoch, batch_size=batch_size, lr=lr,
                  lr_decay=lr_decay, momentum=momentum, arch=arch, data=_file_digest(spect_path))
    result = train_epochs(model=model, optimizer=optimizer, scheduler=scheduler, epochs=epochs, run_epoch=run_epoch,
                          checkpoint_path=checkpoint_path, fingerprint=config_hash(params), generator=generator,
                          select_metric="valid_loss", select_mode="min")
    model.load_state_dict(result.best_state)
    save_torch(model_path, {
        "state_dict": {k: v.cpu().contiguous() for k, v in model.state_dict().items()},
        "arch": dict(arch), "blocklen": train.blocklen, "mel_bands": int(train.frames.shape[1]),
    })
    record = {"seed": seed, "best_epoch": result.best_epoch, "resumed_from_epoch": result.resumed_from,
              "history": result.history, "params": params}
    write_json(metrics_path, record)
    Path(checkpoint_path).unlink(missing_ok=True)
    log.info("kept epoch %d (valid loss %.4f)", result.best_epoch, result.history[result.best_epoch - 1]["valid_loss"])
    return record
