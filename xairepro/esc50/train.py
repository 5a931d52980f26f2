"""Training steps of the ESC50 recipes: classifiers, PIQ, the NMF dictionary, L2I.

Each step is a SpeechBrain ``Brain`` subclass, as in the recipes: ``compute_forward`` and
``compute_objectives`` define it, and ``Brain.fit_batch`` takes the optimiser steps
(backward, gradient clipping at ``max_grad_norm`` = 5, the Brain default the recipes keep).
The epoch loop is :func:`xairepro.common.training.fit_and_save` rather than ``Brain.fit``
with SpeechBrain's ``Checkpointer``: it checkpoints after every epoch with the RNG states,
so a killed job continues where it stopped and ends with the numbers of an uninterrupted
run, and its checkpoints load with ``weights_only=True``. The frozen classifier is never
updated. Training runs on the first GPU where one is visible (the paper-scale rules ask
for one), else on the CPU. ``max_train_clips`` (the ``classify`` key; null in the demo and
paper runs) trains on the first clips of the training folds only: the paper-scale smoke run
sets it, since a batch of the PIQ decoders of FocalNet/ViT takes 3 GB per clip on the CPU.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import math

import speechbrain as sb
import torch
import torch.nn.functional as F
from speechbrain.lobes.models.L2I import NMFDecoderAudio, NMFEncoder
from speechbrain.nnet.schedulers import CyclicLRScheduler

from xairepro.common.controls import randomised_copy
from xairepro.common.io import load_torch, save_torch, write_json
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.common.training import fit_and_save, minibatches
from xairepro.esc50.data import load_features, n_classes_of
from xairepro.esc50.explain import fit_to
from xairepro.esc50.plateau import PlateauHalving
from xairepro.esc50.models import (
    L2I, SoundClassifier, aam_loss, build_piq, clf_rate, load_classifier, load_pretrained_encoder, nmf_dictionary,
)

log = logging.getLogger(__name__)


def train_device() -> str:
    """Where training runs: the job's GPU, else the CPU (:func:`~xairepro.common.seeding.pick_device`)."""
    return pick_device()


def device_of(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def to_device(reps, device):
    """A representation tensor or tuple of tensors on ``device``."""
    return tuple(r.to(device) for r in reps) if isinstance(reps, tuple) else reps.to(device)


class EpochBrain(sb.Brain):
    """A SpeechBrain ``Brain`` stepped one epoch at a time by :func:`fit_and_save`.

    Subclasses define ``compute_forward`` and ``compute_objectives`` as in the recipes;
    a batch is a tuple of CPU tensors whose last item has one row per example, moved to
    the brain's device in ``compute_forward``. ``hparams`` (the config block and what the
    objective needs) are read as ``self.hparams.<key>``. The optimiser is the recipes'
    Adam, built by ``Brain.init_optimizers`` over every module.
    """

    def __init__(self, modules: dict[str, torch.nn.Module], hparams: dict[str, Any], lr: float,
                 weight_decay: float = 0.0, device: str = "cpu"):
        super().__init__(modules=modules, hparams=hparams, run_opts={"device": device, "noprogressbar": True},
                         opt_class=lambda params: torch.optim.Adam(params, lr=lr, weight_decay=weight_decay))
        self.init_optimizers()

    def train_epoch(self, batches: Iterable[tuple]) -> float:
        """``Brain.fit_batch`` over ``batches``; the mean training loss per example."""
        self.modules.train()
        total, n = 0.0, 0
        for batch in batches:
            loss = self.fit_batch(batch)
            self.step += 1
            total += float(loss) * len(batch[-1])
            n += len(batch[-1])
        return total / max(n, 1)


def cap_record(max_train_clips: int | None) -> dict[str, int]:
    """The training-clip cap for a run's recorded params: nothing when there is none, so that
    uncapped runs keep their records (and resume from their checkpoints)."""
    return {} if max_train_clips is None else {"max_train_clips": max_train_clips}


def threshold_augment(X: torch.Tensor, fraction: float, max_level: float = 0.5) -> torch.Tensor:
    """In a random ``fraction`` of the clips of X (B, T, F), zero the bins below q * peak, q ~ U(0, max_level).

    Draws from the global torch RNG (seeded, and restored on resume by the checkpoint).
    """
    if fraction <= 0:
        return X
    B = X.shape[0]
    chosen = (torch.rand(B) < fraction).view(-1, 1, 1)
    level = (torch.rand(B) * max_level).view(-1, 1, 1) * X.amax((1, 2), keepdim=True)
    return torch.where(chosen & (X < level), torch.zeros_like(X), X)


def classifier_lr_schedule(cfg: dict[str, Any]) -> CyclicLRScheduler | None:
    """The classification recipe's ``lr_annealing``: SpeechBrain's triangular
    ``CyclicLRScheduler`` from ``base_lr`` up to ``max_lr`` = ``lr`` over ``step_size``
    iterations and back (``hparams/*.yaml:46-49, 115-118`` at afd34230c); None for a
    constant ``lr`` (``lr_annealing: constant``, the demo's).

    With step_size 65000 and ESC-50's 51 batches per epoch (38 training, 13 validation) the
    recipes' 200 epochs reach iteration 10200, so the rate only rises, from ``base_lr`` to
    about base_lr + 0.16 (lr - base_lr).
    """
    if cfg["lr_annealing"] == "constant":
        return None
    return CyclicLRScheduler(base_lr=cfg["base_lr"], max_lr=cfg["lr"], step_size=cfg["step_size"])


def cyclic_iterations(epoch: int, n_train: int, n_valid: int, batch_size: int) -> int:
    """The scheduler's iteration count when (0-based) ``epoch`` starts.

    The recipe steps the scheduler in ``compute_objectives`` of every batch that is not a
    test batch (``train.py:98-100`` at afd34230c), validation batches included, so an epoch
    advances it by its training and validation batches. Counting them from the epoch makes
    a resumed run continue the schedule where it stopped.
    """
    return epoch * (math.ceil(n_train / batch_size) + math.ceil(n_valid / batch_size))


class ClassifierBrain(EpochBrain):
    """The classification recipe: cosine scores, AAM-softmax loss on the targets.

    With ``hparams.mask_augment`` > 0 (demo only), training batches are thresholded by
    :func:`threshold_augment` before the forward pass. With a scheduler in
    ``hparams.scheduler`` (the recipe's ``lr_annealing``), every training batch steps it
    before the optimiser steps, as the recipe's ``compute_objectives`` does.
    """

    def compute_forward(self, batch, stage):
        X = batch[0]
        if stage == sb.Stage.TRAIN and self.hparams.mask_augment > 0:
            X = threshold_augment(X, self.hparams.mask_augment)
        return self.modules.model(X.to(self.device))

    def compute_objectives(self, scores, batch, stage):
        if stage == sb.Stage.TRAIN and self.hparams.scheduler is not None:
            self.hparams.scheduler.on_batch_end(self.optimizer)
        return self.hparams.loss(scores.unsqueeze(1), batch[1].to(self.device).unsqueeze(1))


class PIQBrain(EpochBrain):
    """The PIQ recipe: decode the classifier's representations; BCE + VQ + commitment."""

    def compute_forward(self, batch, stage):
        reps, scores, _ = batch
        return piq_forward(self.modules.psi, to_device(reps, self.device), scores.to(self.device))

    def compute_objectives(self, outputs, batch, stage):
        return piq_objective(*outputs, batch[2].to(self.device), self.hparams.mask_th, self.hparams.rec_loss_coef)


class NMFBrain(EpochBrain):
    """The NMF dictionary: encoder and decoder, MSE(W H, X)."""

    def compute_forward(self, batch, stage):
        return self.modules.decoder(self.modules.encoder(batch[0].to(self.device)))

    def compute_objectives(self, Xhat, batch, stage):
        return F.mse_loss(Xhat, batch[0].to(self.device))


class L2IBrain(EpochBrain):
    """The L2I recipe: Psi's NMF activations; reconstruction + sparsity + agreement with the classifier."""

    def compute_forward(self, batch, stage):
        return self.modules.l2i.activations(to_device(batch[0], self.device))

    def compute_objectives(self, H, batch, stage):
        _, scores, X = batch
        return l2i_objective(self.modules.l2i, self.hparams.W, H, X.to(self.device), scores.to(self.device),
                             self.hparams.alpha, self.hparams.beta)


@torch.no_grad()
def predict(model: torch.nn.Module, X: torch.Tensor, batch: int = 16) -> torch.Tensor:
    """Scores (N, C) in batches, on the model's device, returned on the CPU."""
    device = device_of(model)
    return torch.cat([model(x.to(device)).cpu() for x in X.split(batch)])


@torch.no_grad()
def refresh_batchnorm(model: torch.nn.Module, X, batch: int = 16, forward=None) -> None:
    """Set every BatchNorm's running statistics to the exact averages over ``X`` ("precise BN").

    A demo run takes a few dozen optimiser steps, too few for the momentum-0.1 running
    averages to converge; evaluation would then see unconverged statistics. The recipes'
    long runs make this unnecessary at paper scale, where it changes little.
    ``forward(idx)`` runs the model on the rows ``idx`` of the data (default ``model(X[idx])``).
    """
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    was_training = model.training
    model.train()
    device = device_of(model)
    for idx in torch.arange(len(X)).split(batch):
        forward(idx) if forward is not None else model(X[idx].to(device))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    model.train(was_training)


def _accuracy(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    return float((predict(model, X).argmax(1) == y).float().mean())


def test_counts(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor, seed: int) -> dict[str, Any]:
    """Test accuracy as counts, of ``model`` and of its negative control: the same classifier
    with every layer re-initialised (:func:`xairepro.common.controls.randomised_copy`, the end
    of the model-parameter randomisation cascade), which a claim of accuracy above chance must
    fail on."""
    model.eval()
    control = randomised_copy(model, seed=seed).eval()
    correct = int((predict(model, X).argmax(1) == y).sum())
    control_correct = int((predict(control, X).argmax(1) == y).sum())
    return {"test_acc": correct / len(y), "n_test": len(y), "test_correct": correct,
            "randomised_test_acc": control_correct / len(y), "randomised_test_correct": control_correct}


def train_classifier(data_root, model_path, metrics_path, checkpoint_path, *, arch: str, seed: int,
                     threads: int, folds: dict[str, list[int]], cfg: dict[str, Any],
                     mask_augment: float = 0.0, max_train_clips: int | None = None,
                     pretrained_path=None) -> dict[str, Any]:
    """Train one classifier with the AAM-softmax loss and Adam; keep the best validation epoch.

    ``cfg`` holds ``sample_rate``, ``number_of_epochs``, ``batch_size``, ``lr``,
    ``weight_decay``, the schedule (``lr_annealing``, ``base_lr``, ``step_size``: see
    :func:`classifier_lr_schedule`), ``use_pretrained`` and the architecture's widths (see
    :class:`SoundClassifier`); ``max_train_clips`` (None: all) keeps the first clips of the
    training folds. With ``use_pretrained`` the encoder starts from ``pretrained_path``
    (:func:`~xairepro.esc50.models.load_pretrained_encoder`), as the recipes' do
    (``train.py:413-416`` at afd34230c, and FocalNet/ViT's ``from_pretrained``).
    """
    seed_everything(seed, threads)
    sr = cfg["sample_rate"]
    Xtr, _, ytr, _ = load_features(data_root, folds["train"], sr, max_clips=max_train_clips)
    Xva, _, yva, _ = load_features(data_root, folds["valid"], sr)
    Xte, _, yte, _ = load_features(data_root, folds["test"], sr)
    n_classes = n_classes_of(data_root)
    model = SoundClassifier(arch, n_classes, sr, cfg)
    if cfg["use_pretrained"]:
        load_pretrained_encoder(model, pretrained_path)
        log.info("%s encoder starts from %s", arch, pretrained_path)
    scheduler = classifier_lr_schedule(cfg)
    brain = ClassifierBrain({"model": model}, {"loss": aam_loss(cfg["margin"], cfg["scale"]),
                                               "mask_augment": mask_augment, **cfg, "scheduler": scheduler},
                            cfg["lr"], cfg["weight_decay"], train_device())
    gen = torch.Generator().manual_seed(seed)

    def run_epoch(epoch: int) -> dict[str, float]:
        if scheduler is not None:
            scheduler.clr_iterations = cyclic_iterations(epoch, len(ytr), len(yva), cfg["batch_size"])
        loss = brain.train_epoch((Xtr[idx], ytr[idx]) for idx in minibatches(len(ytr), cfg["batch_size"], gen))
        # BatchNorm statistics of the distribution trained on: with mask_augment, clean
        # statistics would normalise the masked inputs wrongly (all then get one class)
        refresh_batchnorm(model, Xtr, forward=lambda i: model(threshold_augment(Xtr[i], mask_augment).to(brain.device)))
        return {"train_loss": loss, "valid_acc": _accuracy(model, Xva, yva)}

    def summary(result):
        model.load_state_dict(result.best_state)
        return {"arch": arch, "valid_acc": result.history[result.best_epoch - 1]["valid_acc"],
                "best_epoch": result.best_epoch, "n_classes": n_classes, **test_counts(model, Xte, yte, seed)}

    meta = {"arch": arch, "n_classes": n_classes, "sample_rate": sr, "rep_dim": model.rep_dim, "cfg": dict(cfg)}
    _, record = fit_and_save(model=model, optimizer=brain.optimizer, run_epoch=run_epoch,
                             epochs=cfg["number_of_epochs"],
                             params={"arch": arch, "seed": seed, "folds": folds, "mask_augment": mask_augment, **cfg,
                                     **cap_record(max_train_clips)},
                             data_path=Path(data_root) / "meta" / "esc50.csv", checkpoint_path=checkpoint_path,
                             model_path=model_path, metrics_path=metrics_path, model_meta=meta, summary=summary,
                             generator=gen, select_metric="valid_acc")
    return record


# ----------------------------------------------------------------------------- PIQ
@torch.no_grad()
def frozen_outputs(classifier, X: torch.Tensor, batch: int = 16):
    """The frozen classifier's representations and scores of X, computed once (eval mode)."""
    reps, scores = [], []
    device = device_of(classifier)
    for x in X.split(batch):
        x = x.to(device)
        reps.append(to_device(classifier.representations(x), "cpu"))
        scores.append(classifier(x).cpu())
    if isinstance(reps[0], tuple):
        return tuple(torch.cat(r) for r in zip(*reps)), torch.cat(scores)
    return torch.cat(reps), torch.cat(scores)


def take(reps, idx):
    """Rows ``idx`` of a representation tensor or tuple of tensors."""
    return tuple(r[idx] for r in reps) if isinstance(reps, tuple) else reps[idx]


@torch.no_grad()
def init_codebook(psi, reps, n_samples: int = 4096, seed: int = 0) -> None:
    """k-means++ seeding of the VQ dictionary from the adapted training representations.

    The package initialises the codebook uniformly in +-1/K, so that at first every position
    maps to one key and the decoder sees no structure; the recipes train long enough for
    that to resolve (200 epochs), a CPU demo does not. Seeding the keys with far-apart
    encodings gives the decoder spatial information from the first step. Once every
    distinct vector is a key (fewer distinct encodings than K keys, as in a tiny data set),
    the remaining keys are drawn uniformly from the vectors.
    """
    was_training = psi.training
    psi.eval()
    hcat = psi.adapter(reps) if psi.use_adapter else reps
    if psi.adapter_reduce_dim:
        hcat = psi.down(hcat)
    vectors = hcat.permute(0, 2, 3, 1).reshape(-1, hcat.shape[1])
    gen = torch.Generator().manual_seed(seed)
    vectors = vectors[torch.randperm(len(vectors), generator=gen)[:n_samples]]
    K = psi.codebook.embedding.weight.shape[0]
    chosen = [vectors[torch.randint(len(vectors), (1,), generator=gen)].squeeze(0)]
    dist = ((vectors - chosen[0]) ** 2).sum(1)
    for _ in range(1, K):
        weights = dist if dist.sum() > 0 else torch.ones_like(dist)  # all zero: every vector is a key
        nxt = vectors[torch.multinomial(weights / weights.sum(), 1, generator=gen)].squeeze(0)
        chosen.append(nxt)
        dist = torch.minimum(dist, ((vectors - nxt) ** 2).sum(1))
    codes = torch.stack(chosen)
    # k-means++ picks the most distinct keys first; deal them out round-robin so that every
    # class partition (a contiguous block of keys) gets some of them
    C = psi.codebook.numclasses
    order = torch.arange(K).view(-1, C).t().reshape(-1) if K % C == 0 else torch.arange(K)
    psi.codebook.embedding.weight.copy_(codes[order])
    psi.train(was_training)


def piq_forward(psi, reps, scores):
    """Decoded mask logits (B, T', F') from the classifier's representations and its predictions."""
    xhat, hcat, z_q_x = psi(reps, scores.argmax(1))
    return xhat.squeeze(1), hcat, z_q_x


def piq_objective(xhat, hcat, z_q_x, X: torch.Tensor, mask_th: float, rec_loss_coef: float) -> torch.Tensor:
    """BCE(mask, X > mask_th * max X) + VQ loss + commitment loss (crop X to the decoder's frames)."""
    T, Fr = min(xhat.shape[1], X.shape[1]), min(xhat.shape[2], X.shape[2])
    Xc = X[:, :T, :Fr]
    target = (Xc > mask_th * Xc.amax((1, 2), keepdim=True)).float()
    rec = F.binary_cross_entropy_with_logits(xhat[:, :T, :Fr], target)
    return rec_loss_coef * rec + F.mse_loss(z_q_x, hcat.detach()) + F.mse_loss(hcat, z_q_x.detach())


@torch.no_grad()
def piq_valid_fidelity(psi, reps, scores: torch.Tensor, clf, X: torch.Tensor, batch: int = 16) -> float:
    """The PIQ recipe's validation metric (``top-3_fid``, in fact top-1): the share of clips whose
    masked input sigmoid(decoder) * X keeps the classifier's prediction (train_piq.py:473-475,
    515-518, 545-557 at afd34230c). ``reps``/``scores``: the classifier's on X (N, T, F)."""
    psi.eval()
    device = device_of(psi)
    kept = []
    for idx in torch.arange(len(X)).split(batch):
        xhat, _, _ = piq_forward(psi, to_device(take(reps, idx), device), scores[idx].to(device))
        T = min(xhat.shape[1], X.shape[1])  # the recipe crops X to the decoder's frames
        masked = fit_to(torch.sigmoid(xhat), T, X.shape[2]) * X[idx, :T].to(device)
        kept.append(clf(masked.to(device_of(clf))).argmax(1).cpu() == scores[idx].argmax(1))
    return float(torch.cat(kept).float().mean())


def train_piq(data_root, classifier_path, model_path, metrics_path, checkpoint_path, *, seed: int, threads: int,
              folds: dict[str, list[int]], cfg: dict[str, Any], max_train_clips: int | None = None) -> dict[str, Any]:
    """Train the PIQ decoder (VQ codebook with class partitioning) on a frozen classifier
    (on the first ``max_train_clips`` training clips where given).

    Adam's rate follows the recipe's ``lr_annealing`` (:class:`PlateauHalving` on minus
    :func:`piq_valid_fidelity`). The last epoch is kept, as in the recipe: it asks its
    Checkpointer for the best ``top-3_fid``, but its checkpoints store the fidelity as
    ``input_fidelity``, so only the latest survives and is tested (train_piq.py:637-662,
    844-850 at afd34230c).
    """
    seed_everything(seed, threads)
    device = train_device()
    clf = load_classifier(classifier_path, device)
    sr = clf_rate(classifier_path)
    Xtr, _, _, _ = load_features(data_root, folds["train"], sr, max_clips=max_train_clips)
    Rtr, Str = frozen_outputs(clf, Xtr)
    rec = load_torch(classifier_path)
    psi = build_piq(rec["arch"], rec["rep_dim"], rec["n_classes"], cfg)
    init_codebook(psi, Rtr, seed=seed)
    brain = PIQBrain({"psi": psi}, cfg, cfg["lr"], device=device)
    gen = torch.Generator().manual_seed(seed)
    plateau = PlateauHalving(brain.optimizer, **cfg["lr_annealing"])
    valid = {}

    def run_epoch(epoch: int) -> dict[str, float]:
        loss = brain.train_epoch((take(Rtr, idx), Str[idx], Xtr[idx])
                                 for idx in minibatches(len(Xtr), cfg["batch_size"], gen))
        if epoch + 1 == cfg["number_of_epochs"]:
            refresh_batchnorm(psi, Xtr, forward=lambda i: brain.compute_forward((take(Rtr, i), Str[i], None), None))
        metrics = {"train_loss": loss}
        if plateau.needs(epoch + 1, cfg["number_of_epochs"]):
            if not valid:  # the validation fold, only where the schedule can act on it
                valid["X"] = load_features(data_root, folds["valid"], sr)[0]
                valid["reps"], valid["scores"] = frozen_outputs(clf, valid["X"])
            metrics["valid_fidelity"] = piq_valid_fidelity(psi, valid["reps"], valid["scores"], clf, valid["X"])
            plateau.observe(epoch + 1, -metrics["valid_fidelity"])
        return metrics

    meta = {"arch": rec["arch"], "emb_dim": rec["rep_dim"], "n_classes": rec["n_classes"], "cfg": dict(cfg)}
    _, record = fit_and_save(model=psi, optimizer=brain.optimizer, run_epoch=run_epoch, epochs=cfg["number_of_epochs"],
                             params={"method": "piq", "arch": rec["arch"], "seed": seed, "folds": folds, **cfg,
                                     **cap_record(max_train_clips)},
                             data_path=classifier_path, checkpoint_path=checkpoint_path, model_path=model_path,
                             metrics_path=metrics_path, model_meta=meta, generator=gen, scheduler=plateau)
    return record


# ----------------------------------------------------------------------------- NMF + L2I
def train_nmf(data_root, model_path, metrics_path, checkpoint_path, *, seed: int, threads: int,
              folds: dict[str, list[int]], sample_rate: int, cfg: dict[str, Any],
              max_train_clips: int | None = None) -> dict[str, Any]:
    """The NMF dictionary W (513, K) of log1p magnitudes: NMFEncoder + NMFDecoderAudio, MSE(W H, X)
    (on the first ``max_train_clips`` training clips where given). The epoch of least
    validation MSE is kept, as the recipe's ``evaluate(min_key="loss")`` before it saves the
    dictionary (train_nmf.py:81-83, 136-145 at afd34230c)."""
    seed_everything(seed, threads)
    X, _, _, _ = load_features(data_root, folds["train"], sample_rate, max_clips=max_train_clips)
    X = X.transpose(1, 2)  # (N, 513, T)
    Xva = load_features(data_root, folds["valid"], sample_rate)[0].transpose(1, 2)
    device = train_device()
    brain = NMFBrain({"encoder": NMFEncoder(X.shape[1], cfg["K"]),
                      "decoder": NMFDecoderAudio(cfg["K"], X.shape[1], device=device)}, cfg, cfg["lr"], device=device)
    gen = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def valid_loss() -> float:
        brain.modules.eval()
        losses = [float(brain.compute_objectives(brain.compute_forward((x,), None), (x,), None)) * len(x)
                  for x in Xva.split(cfg["batch_size"])]
        return sum(losses) / len(Xva)

    def run_epoch(epoch: int) -> dict[str, float]:
        loss = brain.train_epoch((X[idx],) for idx in minibatches(len(X), cfg["batch_size"], gen))
        return {"train_loss": loss, "valid_loss": valid_loss()}

    _, record = fit_and_save(model=brain.modules, optimizer=brain.optimizer, run_epoch=run_epoch,
                             select_metric="valid_loss", select_mode="min", epochs=cfg["number_of_epochs"],
                             params={"method": "nmf", "seed": seed, "sample_rate": sample_rate, "folds": folds, **cfg,
                                     **cap_record(max_train_clips)},
                             data_path=Path(data_root) / "meta" / "esc50.csv", checkpoint_path=checkpoint_path,
                             model_path=model_path, metrics_path=metrics_path,
                             model_meta={"K": cfg["K"], "sample_rate": sample_rate}, generator=gen)
    return record


def l2i_objective(model: L2I, W: torch.Tensor, H: torch.Tensor, X: torch.Tensor, scores: torch.Tensor,
                  alpha: float, beta: float) -> torch.Tensor:
    """alpha MSE(W H, X) + beta |H|_1 + cross-entropy of Theta(H) against the classifier's prediction."""
    T = H.shape[2]
    rec = F.mse_loss(torch.einsum("fk,bkt->bft", W, H), X[:, :T].transpose(1, 2))
    theta = model.theta(H)
    agree = F.nll_loss(torch.log(theta + 1e-8), scores.argmax(1))
    return alpha * rec + beta * H.abs().mean() + agree


@torch.no_grad()
def l2i_valid_fidelity(model: L2I, reps, scores: torch.Tensor, k: int, batch: int = 16) -> float:
    """The L2I recipe's validation metric (``top-3_fid``): the share of clips whose predicted class
    is among Theta's top ``k`` classes (train_l2i.py:388-390, 424-434 at afd34230c).
    ``reps``/``scores``: the frozen classifier's on the validation clips."""
    model.eval()
    device = device_of(model)
    hits = []
    for idx in torch.arange(len(scores)).split(batch):
        theta = model.theta(model.activations(to_device(take(reps, idx), device))).cpu()
        top = theta.topk(min(k, theta.shape[1]), dim=1).indices
        hits.append((top == scores[idx].argmax(1, keepdim=True)).any(1))
    return float(torch.cat(hits).float().mean())


def train_l2i(data_root, classifier_path, nmf_path, model_path, metrics_path, checkpoint_path, *, seed: int,
              threads: int, folds: dict[str, list[int]], cfg: dict[str, Any],
              max_train_clips: int | None = None) -> dict[str, Any]:
    """Train L2I's Psi and Theta on a frozen classifier and a fixed NMF dictionary (on the
    first ``max_train_clips`` training clips where given).

    Adam's rate follows the recipe's ``lr_annealing`` (:class:`PlateauHalving` on minus
    :func:`l2i_valid_fidelity`). The last epoch is kept: the recipe keeps the best
    ``top-3_fid`` checkpoint but tests with ``min_key="error"``, which no checkpoint has, so
    its test runs the last epoch's weights (train_l2i.py:566-568, 675-677 at afd34230c).
    """
    seed_everything(seed, threads)
    device = train_device()
    clf = load_classifier(classifier_path, device)
    rec = load_torch(classifier_path)
    W = nmf_dictionary(nmf_path).to(device)
    Xtr, _, _, _ = load_features(data_root, folds["train"], rec["sample_rate"], max_clips=max_train_clips)
    model = L2I(rec["arch"], rec["rep_dim"], rec["n_classes"], Xtr.shape[1], cfg)
    brain = L2IBrain({"l2i": model}, {"W": W, **cfg}, cfg["lr"], device=device)
    gen = torch.Generator().manual_seed(seed)

    Rtr, Str = frozen_outputs(clf, Xtr)
    plateau = PlateauHalving(brain.optimizer, **cfg["lr_annealing"])
    valid = {}

    def run_epoch(epoch: int) -> dict[str, float]:
        loss = brain.train_epoch((take(Rtr, idx), Str[idx], Xtr[idx])
                                 for idx in minibatches(len(Xtr), cfg["batch_size"], gen))
        if epoch + 1 == cfg["number_of_epochs"]:
            refresh_batchnorm(model, Xtr, forward=lambda i: brain.compute_forward((take(Rtr, i),), None))
        metrics = {"train_loss": loss}
        if plateau.needs(epoch + 1, cfg["number_of_epochs"]):
            if not valid:  # the validation fold, only where the schedule can act on it
                Xva = load_features(data_root, folds["valid"], rec["sample_rate"])[0]
                valid["reps"], valid["scores"] = frozen_outputs(clf, Xva)
            metrics["valid_fidelity"] = l2i_valid_fidelity(model, valid["reps"], valid["scores"], cfg["k_fidelity"])
            plateau.observe(epoch + 1, -metrics["valid_fidelity"])
        return metrics

    meta = {"arch": rec["arch"], "emb_dim": rec["rep_dim"], "n_classes": rec["n_classes"],
            "n_frames": int(Xtr.shape[1]), "cfg": dict(cfg)}
    _, record = fit_and_save(model=model, optimizer=brain.optimizer, run_epoch=run_epoch,
                             epochs=cfg["number_of_epochs"],
                             params={"method": "l2i", "arch": rec["arch"], "seed": seed, "folds": folds, **cfg,
                                     **cap_record(max_train_clips)},
                             data_path=nmf_path, checkpoint_path=checkpoint_path, model_path=model_path,
                             metrics_path=metrics_path, model_meta=meta, generator=gen, scheduler=plateau)
    return record


# ----------------------------------------------------------------------------- --test_only
def import_speechbrain_classifier(data_root, embedding_ckpt, classifier_ckpt, model_path, metrics_path, *,
                                  arch: str, folds: dict[str, list[int]], cfg: dict[str, Any]) -> dict[str, Any]:
    """The recipes' ``--test_only``: a trained classifier from SpeechBrain checkpoint files.

    ``embedding_model.ckpt`` and ``classifier.ckpt`` (as the recipes save them and as the
    Hugging Face repositories ship them, e.g. ``speechbrain/cnn14-esc50``) are the state
    dicts of the embedding model and of ``ECAPA_TDNN.Classifier``; they are read without
    unpickling (weights only), loaded strictly into :class:`SoundClassifier`, evaluated on
    the validation and test folds and written as a trained classifier would be.
    """
    n_classes = n_classes_of(data_root)
    model = SoundClassifier(arch, n_classes, cfg["sample_rate"], cfg)
    state = {f"embedding_model.{k}": v for k, v in load_torch(embedding_ckpt).items()}
    state.update({f"classifier.{k}": v for k, v in load_torch(classifier_ckpt).items()})
    own = model.state_dict()
    state.update({k: v for k, v in own.items() if k.startswith("fbank.")})  # fixed filterbank, not trained
    model.load_state_dict(state, strict=True)
    model.eval()
    Xva, _, yva, _ = load_features(data_root, folds["valid"], cfg["sample_rate"])
    Xte, _, yte, _ = load_features(data_root, folds["test"], cfg["sample_rate"])
    record = {"arch": arch, "valid_acc": _accuracy(model, Xva, yva), **test_counts(model, Xte, yte, 0),
              "best_epoch": None, "n_classes": n_classes, "resumed_from_epoch": 0, "history": [],
              "params": {"arch": arch, "test_only": True, "folds": folds, **cfg}}
    save_torch(model_path, {"state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "arch": arch,
                            "n_classes": n_classes, "sample_rate": cfg["sample_rate"], "rep_dim": model.rep_dim,
                            "cfg": dict(cfg)})
    write_json(metrics_path, record)
    return record
