"""The explanation steps of the ``labelfree`` study, one function per workflow rule.

Claim 1.1, feature-importance consistency (Fig. 1), per data set (MNIST, ECG, CIFAR-10/100):
:func:`feature_importance` explains the encoder of every test input with label-free
Integrated Gradients, Gradient SHAP and Saliency from a baseline (the black image, or for ECG
the mean normal beat); :func:`consistency_features` replaces the top-k % features (pixels,
time steps) by each attribution (sum of |attribution| over channels; random ranking as the
baseline) with the baseline, and measures the representation shift mean ||f(x) - f(x_masked)||^2.

Claim 1.2, example-importance consistency (Fig. 2), per data set (MNIST; CIFAR-10/100 and
ECG5000 at paper scale): :func:`example_importance` scores, for a sub-test set
(class-balanced; ECG a random draw), every example of a class-balanced sub-train set with
each label-free explainer (pretext loss = clean reconstruction MSE, ECG's L1, gradients
w.r.t. encoder parameters only); :func:`consistency_examples` turns the scores into similarity rates, the
share of the most (least) important training examples that share the test example's label.

FACT's extension (Fig. 5): :func:`encoder_vs_full` explains the encoder (latent output) and
the full classifier built on it (logit output) with the same label-free methods; per image,
the Pearson correlation of the two |attribution| maps over the non-blank pixels
(:func:`masked_pearson`) measures their agreement.

Claims 2.1 and 2.2, pretext-task sensitivity (Tables 2-4; MNIST, CIFAR-10/100):
:func:`task_importance` computes, for the encoder trained on each task, label-free Gradient
SHAP feature importance of the test images and DKNN example importance of a sub-train set;
:func:`correlation_tables` gives the Pearson and Spearman correlations between the tasks'
scores (all images flattened).

Claim 3, disentanglement (Fig. 3): :func:`fit_and_explain` trains a beta-VAE or beta-TCVAE
and computes each latent unit's saliency map |mu_i(x) * GradientSHAP_i(x)|; the metric is,
per test image, the mean off-diagonal Pearson correlation between the units' maps. If
disentangled units looked at different pixels, the correlation would fall as beta grows;
FACT reports it does not.

The explainers themselves are in :mod:`xairepro.labelfree.explain` (imported where used:
the summary steps do not load captum).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import rankdata

from xairepro.attribution.occlusion import feature_ranks
from xairepro.common.io import load_arrays, load_torch, save_arrays
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.labelfree.data import (
    balanced_subset, baseline_input, class_count, load_dataset, load_images, load_inputs,
)
from xairepro.labelfree.models import EncoderClassifier, RecurrentAutoencoder
from xairepro.labelfree.train import load_autoencoder, load_encoder, load_snapshots, load_vae, train_vae

log = logging.getLogger(__name__)


# --- Claim 1.1: feature importance ----------------------------------------------------------


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
    dataset: str = "mnist",
    baseline: str = "zero",
    threads: int = 1,
    device: str = "auto",
) -> dict[str, np.ndarray]:
    """Label-free attributions of the first ``n_test`` test inputs, per method.

    As in the original: Integrated Gradients from the baseline (captum's 50 steps by
    default), Gradient SHAP with the baseline as its baseline distribution (``shap_samples``
    draws, no noise), Saliency as the absolute gradient. Writes ``{method: (N, C, ...)}``
    plus ``images`` (the inputs), ``labels`` and ``baseline`` ``(1, C, ...)``.
    """
    from xairepro.labelfree.explain import feature_explainer

    seed_everything(seed, threads)
    device = pick_device(device)
    model = load_autoencoder(model_path, device)
    x_cpu, y = load_inputs(data_path, dataset, "test", limit=n_test)
    reference = baseline_input(data_path, dataset, baseline)
    out: dict[str, np.ndarray] = {"images": x_cpu.numpy(), "labels": y.numpy(), "baseline": reference.numpy()}
    x, reference = x_cpu.to(device), reference.to(device)
    for method in methods:
        explainer = feature_explainer(method, model.encode, ig_steps=ig_steps, shap_samples=shap_samples,
                                      internal_batch_size=internal_batch_size, seed=seed)
        attr = explainer.attribute(x, baselines=reference)
        out[method] = attr.cpu().numpy().astype(np.float32)
        log.info("%s: mean |attribution| %.3g", method, float(np.abs(out[method]).mean()))
    save_arrays(out_path, **out)
    return out


def mask_top_features(x: torch.Tensor, ranks: torch.Tensor, k: int, baseline: torch.Tensor) -> torch.Tensor:
    """``x`` ``(N, C, ...)`` with its ``k`` top-ranked features replaced by ``baseline``.

    ``ranks`` ``(N, F)`` is each feature's place in the masking order (0 = first; from
    :func:`~xairepro.attribution.occlusion.feature_ranks`); a feature is a pixel or time
    step with all its channels. ``baseline`` is ``(1, C, ...)``.
    """
    flat = x.flatten(2)  # (N, C, F)
    mask = (ranks < k).unsqueeze(1)  # (N, 1, F)
    return torch.where(mask, baseline.flatten(2).expand_as(flat), flat).reshape(x.shape)


def consistency_features(
    model_path: str | Path,
    attributions_path: str | Path,
    *,
    methods: list[str],
    mask_fractions: list[float],
    seed: int,
    device: str = "auto",
) -> pd.DataFrame:
    """Representation shift of every test input after masking its top-k % features by each
    ranking.

    Features are replaced by the attribution baseline (black pixels; the mean beat for
    ECG). Returns one row per (method, fraction, item) with columns ``method, fraction, k,
    item, representation_shift`` (``||f(x) - f(x_masked)||^2`` of that item). Two rankings
    besides the methods: ``random`` (the paper's reference curve) and ``random_attribution``
    (the claims' negative control: :func:`~xairepro.common.controls.random_attribution`, an
    explainer at chance level, drawn independently of ``random``).
    """
    from xairepro.common.controls import random_attribution

    device = pick_device(device)
    model = load_autoencoder(model_path, device)
    arrays = load_arrays(attributions_path, required=("images", "baseline", *methods))
    x = torch.from_numpy(arrays["images"]).to(device)
    baseline = torch.from_numpy(arrays["baseline"]).to(device)
    n_features = x[0, 0].numel()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        code = model.encode(x)
    rows = []
    for method in [*methods, "random", "random_attribution"]:
        if method == "random":
            scores = torch.rand(len(x), n_features, generator=generator)
        elif method == "random_attribution":
            scores = torch.from_numpy(random_attribution((len(x), n_features), seed=seed + 1))
        else:
            scores = torch.from_numpy(arrays[method]).abs().sum(dim=1).flatten(1)  # sum |attr| over channels
        ranks = feature_ranks(scores, roar=1).to(device)  # (N, F): top attributions first
        for fraction in mask_fractions:
            k = int(round(fraction * n_features))
            with torch.no_grad():
                shift = ((code - model.encode(mask_top_features(x, ranks, k, baseline))) ** 2).flatten(1).sum(dim=1)
            rows += [{"method": method, "fraction": fraction, "k": k, "item": i, "representation_shift": float(v)}
                     for i, v in enumerate(shift)]
    return pd.DataFrame(rows)


# --- Claim 1.2: example importance ----------------------------------------------------------


def example_importance(
    data_path: str | Path,
    model_path: str | Path,
    snapshots_dir: str | Path | None,
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
    dataset: str = "mnist",
    loss: str = "mse",
    threads: int = 1,
    device: str = "auto",
) -> dict[str, np.ndarray]:
    """Scores ``(subtest_size, subtrain_size)`` of every explainer; also the labels used.

    The training and test examples are those of :func:`~xairepro.labelfree.data.example_data`
    and :func:`~xairepro.labelfree.data.example_subsets` for ``dataset`` (the split the
    model was trained on: same ``seed``); influence functions and TracIn differentiate the
    clean reconstruction ``loss`` (mse, l1: :data:`~xairepro.labelfree.explain.RECONSTRUCTION_LOSSES`)
    w.r.t. the encoder's parameters, the model in evaluation mode.
    """
    from xairepro.labelfree.data import example_data, example_subsets
    from xairepro.labelfree.explain import (
        DKNN, EXPLAINERS, RECONSTRUCTION_LOSSES, CosineNN, InfluenceFunctions, SimplEx, TracIn, encoder_parameters,
    )

    seed_everything(seed, threads)
    device = pick_device(device)
    model = load_autoencoder(model_path, device)
    if isinstance(model, RecurrentAutoencoder):
        model.unrolled = True  # the influence functions' forward-mode AD has no fused-LSTM kernel
    train_x, train_y, test_x, test_y = example_data(data_path, dataset, seed)
    sub_train, sub_test = example_subsets(train_y, test_y, dataset, subtrain_size, subtest_size, seed)
    xs, ys, xt, yt = train_x[sub_train].to(device), train_y[sub_train], test_x[sub_test].to(device), test_y[sub_test]
    params = encoder_parameters(model)
    pretext_loss = RECONSTRUCTION_LOSSES[loss]
    out: dict[str, np.ndarray] = {"train_labels": ys.numpy(), "test_labels": yt.numpy()}
    for name in explainers:
        if name == "influence_functions":
            explainer = InfluenceFunctions(model, xs, loss=pretext_loss, params=params, depth=recursion_depth,
                                           damping=damping, scale=scale, seed=seed)
        elif name == "tracin":
            explainer = TracIn(model, xs, load_snapshots(snapshots_dir), loss=pretext_loss, params=params)
        elif name == "simplex":
            explainer = SimplEx(model.encode, xs, n_epochs=simplex_epochs, seed=seed)
        elif name == "dknn":
            explainer = DKNN(model.encode, xs)
        elif name == "cosine":
            explainer = CosineNN(model.encode, xs)
        else:
            raise ValueError(f"unknown explainer {name!r}; choose from {EXPLAINERS}")
        out[name] = explainer.attribute(xt).cpu().numpy().astype(np.float32)
        log.info("%s: scores %s", name, out[name].shape)
    save_arrays(out_path, **out)
    return out


def consistency_examples(scores_path: str | Path, *, explainers: list[str], fractions: list[float],
                         seed: int = 0) -> pd.DataFrame:
    """Similarity rates of the most and least important examples of every test example, per
    explainer and fraction: rows (explainer, examples, labels, fraction, k, item,
    similarity_rate). ``labels`` is ``true``, or ``shuffled`` for the claims' negative
    control: the same scores against training labels in a random order
    (:func:`~xairepro.common.controls.shuffled`, seeded by ``seed``), where no explainer can
    beat chance."""
    from xairepro.common.controls import shuffled

    arrays = load_arrays(scores_path, required=("train_labels", "test_labels", *explainers))
    test_labels = torch.from_numpy(arrays["test_labels"])
    labellings = {"true": torch.from_numpy(arrays["train_labels"]),
                  "shuffled": torch.from_numpy(shuffled(arrays["train_labels"], seed))}
    rows = []
    for name in explainers:
        scores = torch.from_numpy(arrays[name])
        for fraction in fractions:
            k = max(1, int(round(fraction * scores.shape[1])))
            for most in (True, False):
                top = scores.topk(k, dim=1, largest=most).indices  # (n_test, k)
                for labels, train_labels in labellings.items():
                    rate = (train_labels[top] == test_labels.unsqueeze(1)).float().mean(dim=1)  # (n_test,)
                    rows += [{"explainer": name, "examples": "most important" if most else "least important",
                              "labels": labels, "fraction": fraction, "k": k, "item": i,
                              "similarity_rate": float(v)} for i, v in enumerate(rate)]
    return pd.DataFrame(rows)


# --- FACT's extension: encoder vs full model ------------------------------------------------


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
    device: str = "auto",
) -> pd.DataFrame:
    """Per-image Pearson correlations between encoder and full-model label-free attributions.

    As FACT: both attributions are made absolute and scaled to unit standard deviation;
    pixels that are blank in the image are left out. The claims' negative control
    (``model`` = ``randomised``) correlates the same encoder attributions with those of the
    full model with every layer re-initialised
    (:func:`~xairepro.common.controls.randomised_copy`, the end of the model-parameter
    randomisation cascade): a full model the encoder explains nothing about. Writes the
    attributions to ``cache_path``; returns rows (method, model, image, label, pearson).
    """
    from xairepro.common.controls import randomised_copy
    from xairepro.labelfree.explain import feature_explainer

    seed_everything(seed, threads)
    device = pick_device(device)
    state = load_torch(model_path)
    model = EncoderClassifier(int(state["latent_dim"]))
    model.load_state_dict(state["state_dict"])
    model.eval()
    randomised = randomised_copy(model, seed=seed).to(device).eval()
    model.to(device)
    x_cpu, y = load_images(data_path, "test", limit=n_test)
    x = x_cpu.to(device)
    black = torch.zeros(1, *x.shape[1:], device=device)
    keep = (x_cpu.flatten(1) != 0).numpy()
    cache: dict[str, np.ndarray] = {"images": x_cpu.numpy(), "labels": y.numpy()}
    rows = []
    for method in methods:
        maps = {}
        for part, forward in (("encoder", model.encoder), ("full", model), ("full_randomised", randomised)):
            explainer = feature_explainer(method, forward, ig_steps=ig_steps, shap_samples=shap_samples,
                                          internal_batch_size=internal_batch_size, seed=seed)
            attr = explainer.attribute(x, baselines=black)
            magnitude = attr.abs().flatten(1).cpu().numpy()
            maps[part] = magnitude / magnitude.std()
            cache[f"{method}_{part}"] = attr.cpu().numpy().astype(np.float32)
        for kind, full in (("trained", "full"), ("randomised", "full_randomised")):
            rho = masked_pearson(maps["encoder"], maps[full], keep)
            rows += [{"method": method, "model": kind, "image": i, "label": int(y[i]), "pearson": rho[i]}
                     for i in range(len(x))]
    save_arrays(cache_path, **cache)
    return pd.DataFrame(rows)


# --- Claims 2.1 and 2.2: pretext tasks ------------------------------------------------------


#: Untrained encoders per set in the pretext claims' reference and control (more: less
#: spread of the control between runs).
UNTRAINED_ENCODERS = 8


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
    dataset: str = "mnist",
    threads: int = 1,
    device: str = "auto",
) -> dict[str, np.ndarray]:
    """|Gradient SHAP| feature importance ``(N, C, H, W)`` and DKNN example importance
    ``(N, subtrain_size)`` of every task's encoder on ``dataset`` (MNIST, CIFAR-10/100), as
    ``features_<task>`` / ``examples_<task>``, plus the test ``images`` and ``labels`` and
    the class-balanced sub-train set's ``subtrain_images`` (what the figures show). Two sets of :data:`UNTRAINED_ENCODERS` untrained encoders (the first
    task's encoder with every layer re-initialised,
    :func:`~xairepro.common.controls.randomised_copy`) for the claims: ``reference_<j>``
    (seed ``seed + 1 + j``), what the trained tasks are compared with, and
    ``randomised_<j>`` (seed ``seed + 1 + UNTRAINED_ENCODERS + j``), the negative control's
    set in place of the tasks: encoders that learned nothing."""
    from xairepro.common.controls import randomised_copy
    from xairepro.labelfree.explain import DKNN, LabelFreeGradientShap

    seed_everything(seed, threads)
    device = pick_device(device)
    x_cpu, y_test = load_inputs(data_path, dataset, "test", limit=n_test)
    train_x, train_y = load_inputs(data_path, dataset, "train")
    sub_train_cpu = train_x[balanced_subset(train_y, subtrain_size, class_count(dataset))]
    x, sub_train = x_cpu.to(device), sub_train_cpu.to(device)
    black = torch.zeros(1, *x.shape[1:], device=device)
    encoders = {task: load_encoder(path, task) for task, path in model_paths.items()}
    template = encoders[next(iter(model_paths))]
    for prefix, first in (("reference", seed + 1), ("randomised", seed + 1 + UNTRAINED_ENCODERS)):
        encoders |= {f"{prefix}_{j}": randomised_copy(template, seed=first + j).eval()
                     for j in range(UNTRAINED_ENCODERS)}
    out: dict[str, np.ndarray] = {"images": x_cpu.numpy(), "labels": y_test.numpy(),
                                  "subtrain_images": sub_train_cpu.numpy()}
    for task, encoder in encoders.items():
        encoder.to(device)
        attr = LabelFreeGradientShap(encoder, n_samples=shap_samples, internal_batch_size=internal_batch_size,
                                     seed=seed).attribute(x, baselines=black)
        out[f"features_{task}"] = attr.abs().cpu().numpy().astype(np.float32)
        out[f"examples_{task}"] = DKNN(encoder, sub_train).attribute(x).cpu().numpy().astype(np.float32)
    save_arrays(out_path, **out)
    return out


def correlation_tables(importance_path: str | Path, tasks: list[str]) -> pd.DataFrame:
    """Pearson and Spearman correlations between tasks, for feature and example importance.

    Rows (kind, task_a, task_b, item, pearson, spearman). ``item`` NaN: the paper's tables,
    one correlation over all images flattened, between every two ``tasks``: Pearson, and
    Spearman's rank correlation (Pearson of the ranks, ties averaged), which the original
    computes beside it (FACT experiments/mnist.py:437, 440). ``item`` i (Pearson only,
    ``spearman`` NaN): the
    correlation of test image i's maps (features: over its non-blank pixels, where
    |Gradient SHAP| from the black image can be non-zero; examples: over the sub-train
    set's scores), for every two different tasks and, where the cache has the untrained
    encoders, every two of the control's set ``randomised_<j>`` and every task or control
    encoder with every reference encoder ``reference_<j>``.
    """
    arrays = load_arrays(importance_path)
    rows = []
    for kind in ("features", "examples"):
        stacked = np.stack([arrays[f"{kind}_{task}"].ravel().astype(np.float64) for task in tasks])
        corr = np.corrcoef(stacked)
        rank_corr = np.corrcoef(rankdata(stacked, axis=1))
        del stacked
        rows += [{"kind": kind, "task_a": a, "task_b": b, "item": np.nan, "pearson": corr[i, j],
                  "spearman": rank_corr[i, j]}
                 for i, a in enumerate(tasks) for j, b in enumerate(tasks)]
    if "images" not in arrays:
        return pd.DataFrame(rows)
    keep = {"features": arrays["images"].reshape(len(arrays["images"]), -1) != 0}
    untrained = [key.removeprefix("features_") for key in arrays if key.startswith("features_randomised_")]
    references = [key.removeprefix("features_") for key in arrays if key.startswith("features_reference_")]
    sets = [tasks, untrained] if untrained else [tasks]
    for kind in ("features", "examples"):
        pairs = []
        for names in sets:
            pairs += [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
            pairs += [(a, r) for a in names for r in references]
        maps = {name: arrays[f"{kind}_{name}"].reshape(len(arrays[f"{kind}_{name}"]), -1).astype(np.float64)
                for name in dict.fromkeys(name for pair in pairs for name in pair)}
        mask = keep.get(kind, np.ones_like(maps[tasks[0]], dtype=bool))
        for a, b in pairs:
            rho = masked_pearson(maps[a], maps[b], mask)
            rows += [{"kind": kind, "task_a": a, "task_b": b, "item": i, "pearson": r} for i, r in enumerate(rho)]
    return pd.DataFrame(rows)


# --- Claim 3: disentanglement ---------------------------------------------------------------


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
    rec_dist: str = "bernoulli",
    mnist_to_32: str = "pad",
    threads: int = 1,
    device: str = "auto",
) -> pd.DataFrame:
    """Train one VAE (:func:`~xairepro.labelfree.train.train_vae`, decoder likelihood
    ``rec_dist``; MNIST brought to 32 pixels by ``mnist_to_32``, ``pad`` or ``resize``,
    :func:`~xairepro.labelfree.data.mnist_32`) and return the per-image
    saliency correlations of its latent units.

    Rows: dataset, loss, beta, seed, model, image, correlation, pooled; ``correlation`` is the
    image's mean off-diagonal correlation between the units' maps, ``pooled`` the model's
    single number over all images (the original's ``pearson_saliency``,
    :func:`~xairepro.metrics.representation.pooled_offdiagonal_correlation`, the same on
    every row of a model); ``model`` is ``trained``,
    ``randomised`` (the same VAE with every layer re-initialised,
    :func:`~xairepro.common.controls.randomised_copy`: an untrained VAE of the same
    architecture) or ``random_attribution`` (independent random maps per unit,
    :func:`~xairepro.common.controls.random_attribution`: fully decorrelated units, the
    claim's negative control). Also writes the model and a JSON record of the training
    (``record_path``).
    """
    seed_everything(seed, threads)
    device = pick_device(device)
    train, test = load_dataset(data_path, dataset, mnist_to_32)
    model = train_vae(train.to(device), data_path, model_path, record_path, checkpoint_path, dataset=dataset,
                      loss=loss, beta=beta, latent_dim=latent_dim, epochs=epochs, batch_size=batch_size, lr=lr,
                      seed=seed, rec_dist=rec_dist)
    return vae_correlations(model, test[:n_test].to(device), dataset=dataset, loss=loss, beta=beta, seed=seed,
                            shap_samples=shap_samples)


def explain_published_vae(data_path: str | Path, model_path: str | Path, *, dataset: str, loss: str, beta: float,
                          n_test: int, shap_samples: int, seed: int, mnist_to_32: str = "pad",
                          threads: int = 1, device: str = "auto") -> pd.DataFrame:
    """:func:`fit_and_explain`'s table for a VAE read from ``model_path`` (FACT's, imported
    by :func:`~xairepro.labelfree.published.import_published`) instead of trained here."""
    seed_everything(seed, threads)
    device = pick_device(device)
    _, test = load_dataset(data_path, dataset, mnist_to_32)
    model = load_vae(model_path).to(device)
    return vae_correlations(model, test[:n_test].to(device), dataset=dataset, loss=loss, beta=beta, seed=seed,
                            shap_samples=shap_samples)


def vae_correlations(model: torch.nn.Module, x: torch.Tensor, *, dataset: str, loss: str, beta: float, seed: int,
                     shap_samples: int) -> pd.DataFrame:
    """Per-image and pooled saliency correlations between the latent units of ``model`` (eval
    mode) on ``x`` ``(N, C, S, S)``, with the two controls (rows as :func:`fit_and_explain`'s).
    Each unit's map averages its attribution over the channels first, as the original does
    (FACT ``lfxai/explanations/features.py:44-51``)."""
    from xairepro.common.controls import random_attribution, randomised_copy
    from xairepro.labelfree.explain import GradientShap, LatentUnitSaliency, vae_mean
    from xairepro.metrics.representation import mean_offdiagonal_correlation, pooled_offdiagonal_correlation

    latent_dim = model.latent_dim
    frames = []
    for kind in ("trained", "randomised", "random_attribution"):
        if kind == "random_attribution":  # (N, d, *input_shape) independent uniform maps
            maps = torch.from_numpy(random_attribution((len(x), latent_dim, 1, *x.shape[2:]), seed=seed)).to(x.device)
        else:
            vae = model if kind == "trained" else randomised_copy(model, seed=seed).eval()
            explainer = LatentUnitSaliency(vae_mean(vae), GradientShap, seed=seed, n_samples=shap_samples,
                                           channel_mean=True)
            maps = explainer.attribute(x, baselines=torch.zeros(1, *x.shape[1:], device=x.device))
        correlation = mean_offdiagonal_correlation(maps).cpu().numpy()
        pooled = pooled_offdiagonal_correlation(maps)
        log.info("%s %s beta=%g, %s: mean saliency correlation %.3f, pooled %.3f", dataset, loss, beta, kind,
                 float(correlation.mean()), pooled)
        frames.append(pd.DataFrame({"dataset": dataset, "loss": loss, "beta": beta, "seed": seed, "model": kind,
                                    "image": np.arange(len(x)), "correlation": correlation, "pooled": pooled}))
    return pd.concat(frames, ignore_index=True)
