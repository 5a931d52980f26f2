"""Training and evaluation of the two classifiers on the clip table.

Rolls are built per batch from the clip notes, so that the augmentation (transpose,
dilation, velocity, start jitter) acts on notes, as in the original, and no roll of the
whole data set is ever held in memory. The augmentation draws come from
``numpy.random.default_rng([seed, epoch])``, so a resumed run sees exactly the batches an
uninterrupted one would. Track-level prediction = argmax of the mean softmax over the
track's clips.

Every evaluation is repeated on the negative control of the accuracy claims: a copy of the
trained model with all its weights re-initialised (:func:`xairepro.common.controls.randomised_copy`,
the end of the cascading model-parameter randomisation), whose accuracy must stay at chance
(columns ``randomised_clip_accuracy`` / ``randomised_track_accuracy``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from xairepro.common.controls import randomised_copy
from xairepro.common.io import load_torch, write_csv
from xairepro.common.provenance import stamp
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.common.training import fit_and_save, minibatches
from xairepro.pianist.data import SPLITS, ClipTable, augment, load_table, model_input
from xairepro.pianist.models import build_model

log = logging.getLogger(__name__)


def clip_inputs(table: ClipTable, indices: np.ndarray, kind: str, roll: dict[str, Any], seed: int,
                rng: np.random.Generator | None = None, augmentation: dict[str, Any] | None = None) -> np.ndarray:
    """Model inputs ``(B, C, 88, T)`` of some clips (C = 1 resnet, 4 disentangle).

    Without ``rng`` (evaluation), the random pitches of the rhythm/dynamics channels come from
    ``default_rng([seed, clip index])``: every clip always gets the same input.
    """
    out = []
    for i in indices:
        notes = table.notes_of(int(i))
        clip_rng = rng if rng is not None else np.random.default_rng([seed, int(i)])
        if augmentation is not None and rng is not None:
            notes = augment(notes, rng, **augmentation)
        out.append(model_input(notes, kind, roll["fps"], roll["clip_seconds"], clip_rng,
                               roll["min_duration"], roll["harmony_window"]))
    return np.stack(out).astype(np.float32)


@torch.no_grad()
def predict(model: nn.Module, table: ClipTable, indices: np.ndarray, kind: str, roll: dict[str, Any], seed: int,
            batch_size: int, device: str = "cpu") -> np.ndarray:
    """Softmax ``(len(indices), n_classes)`` of clips, in eval mode, batch by batch."""
    model.eval()
    probs = []
    for start in range(0, len(indices), batch_size):
        x = torch.from_numpy(clip_inputs(table, indices[start:start + batch_size], kind, roll, seed)).to(device)
        probs.append(torch.softmax(model(x), dim=1).cpu().numpy())
    return np.concatenate(probs) if probs else np.zeros((0, len(table.performer)), np.float32)


def evaluate(table: ClipTable, probs: np.ndarray, indices: np.ndarray) -> tuple[dict[str, float], pd.DataFrame]:
    """Clip and track accuracy of one split, and its confusion counts (long format)."""
    true = table.label[indices]
    clip_pred = probs.argmax(1)
    tracks = np.unique(table.track[indices])
    track_true = np.array([true[table.track[indices] == t][0] for t in tracks])
    track_pred = np.array([probs[table.track[indices] == t].mean(0).argmax() for t in tracks])
    n = len(table.performer)
    rows = []
    for level, t, p in (("clip", true, clip_pred), ("track", track_true, track_pred)):
        counts = np.zeros((n, n), np.int64)
        np.add.at(counts, (t, p), 1)
        rows += [{"level": level, "true": table.performer[a], "predicted": table.performer[b], "count": int(counts[a, b])}
                 for a in range(n) for b in range(n)]
    acc = {"clip_accuracy": float((clip_pred == true).mean()) if len(true) else float("nan"),
           "track_accuracy": float((track_pred == track_true).mean()) if len(tracks) else float("nan"),
           "n_clips": len(true), "n_tracks": len(tracks)}
    return acc, pd.DataFrame(rows)


def held_out_tables(model: nn.Module, table: ClipTable, kind: str, roll: dict[str, Any], seed: int,
                    batch_size: int, device: str = "cpu") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accuracy per held-out split (with the randomised copy's, the claims' control) and the
    confusion counts of a trained or published model."""
    accuracy, confusion = [], []
    control = randomised_copy(model, seed=seed)
    for split in SPLITS[1:]:
        idx = table.indices(split)
        acc, conf = evaluate(table, predict(model, table, idx, kind, roll, seed, batch_size, device), idx)
        random_acc, _ = evaluate(table, predict(control, table, idx, kind, roll, seed, batch_size, device), idx)
        accuracy.append({"model": kind, "split": split, **acc, "n_classes": len(table.performer),
                         "randomised_clip_accuracy": random_acc["clip_accuracy"],
                         "randomised_track_accuracy": random_acc["track_accuracy"]})
        confusion.append(conf.assign(model=kind, split=split))
    columns = ["model", "split", "level", "true", "predicted", "count"]
    return pd.DataFrame(accuracy), pd.concat(confusion, ignore_index=True)[columns]


def train_model(
    data_path: str | Path, model_path: str | Path, metrics_path: str | Path, accuracy_path: str | Path,
    confusion_path: str | Path, checkpoint_path: str | Path, *, kind: str, roll: dict[str, Any],
    augmentation: dict[str, Any], arch: dict[str, Any], epochs: int, batch_size: int, optimizer: str, lr: float,
    momentum: float, weight_decay: float, scheduler: str, seed: int, threads: int = 1, device: str = "auto",
) -> dict[str, Any]:
    """Train ``kind`` (resnet: SGD + cosine in the paper; disentangle: Adam), evaluate it on
    the validation and test splits (clip and track level), write weights, record, tables."""
    seed_everything(seed, threads)
    device = pick_device(device)
    table = load_table(data_path)
    n_classes = len(table.performer)
    model = build_model(kind, n_classes, arch).to(device)
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if scheduler == "cosine" else None
    generator = torch.Generator().manual_seed(seed)
    train_idx, valid_idx = table.indices("train"), table.indices("validation")
    loss_fn = nn.CrossEntropyLoss()

    def run_epoch(epoch: int) -> dict[str, float]:
        model.train()
        rng = np.random.default_rng([seed, epoch])
        total, correct, n = 0.0, 0, 0
        for batch in minibatches(len(train_idx), batch_size, generator):
            idx = train_idx[batch.numpy()]
            x = torch.from_numpy(clip_inputs(table, idx, kind, roll, seed, rng, augmentation)).to(device)
            y = torch.from_numpy(table.label[idx]).to(device)
            opt.zero_grad()
            logits = model(x)
            loss = loss_fn(logits, y)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == y).sum())
            n += len(idx)
        probs = predict(model, table, valid_idx, kind, roll, seed, batch_size, device)
        return {"train_loss": total / n, "train_acc": correct / n,
                "valid_clip_acc": float((probs.argmax(1) == table.label[valid_idx]).mean())}

    tables: dict[str, Any] = {}

    def summary(_result) -> dict[str, Any]:
        tables["accuracy"], tables["confusion"] = held_out_tables(model, table, kind, roll, seed, batch_size, device)
        return {f"{r['split']}_{k}": r[k] for r in tables["accuracy"].to_dict("records")
                for k in ("clip_accuracy", "track_accuracy")}

    params = {"kind": kind, "roll": roll, "augmentation": augmentation, "arch": arch, "epochs": epochs,
              "batch_size": batch_size, "optimizer": optimizer, "lr": lr, "momentum": momentum,
              "weight_decay": weight_decay, "scheduler": scheduler, "seed": seed}
    _, record = fit_and_save(model=model, optimizer=opt, run_epoch=run_epoch, epochs=epochs, params=params,
                             data_path=data_path, checkpoint_path=checkpoint_path, model_path=model_path,
                             metrics_path=metrics_path, summary=summary, scheduler=sched, generator=generator,
                             model_meta={"kind": kind, "arch": arch, "n_classes": n_classes,
                                         "performers": table.performer})
    provenance = stamp("pianist", params, seed)
    write_csv(accuracy_path, tables["accuracy"], provenance)
    write_csv(confusion_path, tables["confusion"], provenance)
    log.info("%s: %s", kind, {k: round(v, 3) for k, v in record.items() if k.endswith("accuracy")})
    return record


def load_model(path: str | Path, device: str = "cpu") -> nn.Module:
    """A trained classifier from the weights file :func:`train_model` wrote, in eval mode."""
    state = load_torch(path, map_location=device)
    model = build_model(state["kind"], int(state["n_classes"]), state["arch"])
    model.load_state_dict(state["state_dict"])
    return model.to(device).eval()
