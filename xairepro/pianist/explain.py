"""The explainers of the pianist study, one class per method, in captum's pattern: built with
the model and the method's flags, one public ``attribute(inputs, target=..., ...)``.

* :class:`LimeRoll`: LIME on piano rolls with the ``lime`` package, as the original's
  ``create_lime_plots.py``. ``LimeImageExplainer(kernel_width, feature_selection,
  random_state)``; ``explain_instance(roll, ..., top_labels, hide_color, num_features,
  num_samples, batch_size, distance_metric)`` with quickshift superpixels (lime's default
  ``kernel_size=4, max_dist=200, ratio=0.2`` unless ``segmentation`` says otherwise); the mask
  is ``get_image_and_mask(top label, positive_only=True, hide_rest=True, num_features)``. LIME
  sees the roll as a grey image ``(88, T)``; the classifier function takes its first channel
  back, batch by batch. Each roll gets a fresh explainer (as the original's one per clip).
  Quickshift's kernel is in pixels: on a sparse roll with few frames (the demo's 10 fps) the
  default kernel merges the silent background into 2-4 superpixels, and the top-5 positive
  superpixels are then the whole roll or nothing (:func:`note_coverage` measures it).
* :class:`CavSensitivity`: sensitivities of clips to concept activation vectors on the
  harmony branch of DisentangleNet (the original's ``create_harmony_cavs.py``, not
  ``captum.concept.TCAV``).
* :class:`KernelOcclusion`: kernel-occlusion maps of a clip's sensitivities to CAVs, on the
  original's grid of kernel centres (``CAVKernelSlider`` of its ``cav_utils.py``).

TCAV, as computed here:

* Activations: the harmony branch's last block (``branches["harmony"].layer4``), flattened;
  its size is read from the model, never hard-coded.
* CAV of a concept, one per experiment: logistic-regression coefficients separating the
  concept's renderings (inversions x transpositions x with/without left hand, harmony
  channel only) from as many renderings of the other concepts, drawn afresh per experiment
  (the positives are a fresh ``positive_fraction`` subsample too; 1, the original's, takes
  them all); ``solver`` ``lbfgs`` (scikit-learn's default, the original's) or ``liblinear``.
* Random CAV, one per experiment (``random_cavs``): two random sets of ``n_random_clips``
  renderings of any concept (``fake_voicings``, the original's ``RandomCAV``), or two random
  halves of ``n_random_clips`` training clips (``training_clips``). Control CAVs, one per
  concept and experiment, are drawn the same way: a random concept in each concept's place,
  the negative control of the TCAV claims (Kim et al. 2018's null).
* Sensitivity of a held-out clip to a CAV v: ``< flatten(d logit_y / d a * a), v >`` with
  captum's ``LayerGradientXActivation`` (or ``LayerIntegratedGradients``), y = true performer,
  every channel but harmony zeroed.
* Sign count (performer, concept, experiment) = share of the performer's clips with s > 0;
  magnitude = sum of positive s / sum of |s|.
* Significance (:mod:`xairepro.pianist.tables`): two-sided Wilcoxon signed-rank test of
  random vs concept sign counts over experiments, Bonferroni over performers; stars at
  0.05 / 0.01 / 0.001.
"""

from __future__ import annotations

import logging
from typing import Any
from unittest import mock

import numpy as np
import torch
from torch import nn

from xairepro.common.logs import progress
from xairepro.pianist.data import CHANNELS, LOWEST, N_KEYS, filter_notes, harmony_notes, normalise, piano_roll

log = logging.getLogger(__name__)
HARMONY = CHANNELS.index("harmony")
ATTRIBUTION_FNS = ("gradient_x_activation", "integrated_gradients")
# lime's default quickshift segmentation (lime_image.explain_instance), the original's
QUICKSHIFT_DEFAULT = {"kernel_size": 4, "max_dist": 200, "ratio": 0.2}
# the original's integration steps of layer integrated gradients (5, after Foscarin et al.)
IG_STEPS = 5


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters(), torch.empty(0)).device


def _per_input(target: Any, n: int) -> np.ndarray:
    """``target`` as one class per input: an int repeated ``n`` times, or the ``(n,)`` array."""
    target = np.asarray(target)
    return np.full(n, target) if target.ndim == 0 else target


# =========================================================================== LIME on piano rolls
def classifier_fn(model: nn.Module, memo: bool = False):
    """``images (B, 88, T, 3) -> softmax (B, n_classes)`` for LIME.

    With ``memo``, each distinct image goes through the model once (one function per
    explanation): with a handful of superpixels most of LIME's perturbations repeat.
    """

    device = _device(model)
    seen: dict[bytes, np.ndarray] = {}

    @torch.no_grad()
    def forward(images: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(np.ascontiguousarray(images[..., 0]), dtype=torch.float32).unsqueeze(1)
        return torch.softmax(model(x.to(device)), dim=1).cpu().numpy()

    def predict(images: np.ndarray) -> np.ndarray:
        if not memo:
            return forward(images)
        keys = [image[..., 0].tobytes() for image in images]
        new = list(dict.fromkeys(k for k in keys if k not in seen))
        if new:
            first = {k: i for i, k in reversed(list(enumerate(keys)))}
            seen.update(zip(new, forward(images[[first[k] for k in new]])))
        return np.stack([seen[k] for k in keys])

    return predict


class LimeRoll:
    """LIME on normalised piano rolls ``(88, T)`` of a one-channel classifier.

    Parameters
    ----------
    model
        Rolls ``(B, 1, 88, T)`` -> logits ``(B, n_classes)``; put in eval mode.
    kernel_width, random_state
        Of ``LimeImageExplainer``; ``random_state`` seeds the segmentation too.
    hide_color, distance_metric
        Of ``explain_instance``: the value of a hidden superpixel, the sample distance.
    segmentation
        Quickshift's ``kernel_size``, ``max_dist`` and ``ratio`` (``None``: lime's default
        4, 200, 0.2, the original's).
    feature_selection
        Of ``LimeImageExplainer``: how the surrogate picks its ``num_features`` superpixels
        (``auto``, the original's, is forward selection for 6 or fewer).
    sounding_only
        Outline only superpixels that hold a note. With ``hide_color`` 0, hiding a silent
        superpixel leaves the roll as it was, so its surrogate weight is regression noise; the
        original (False) may outline silence.

    Example
    -------
    >>> lime = LimeRoll(model, kernel_width=0.25, hide_color=0.0, distance_metric="cosine", random_state=42)
    >>> out = lime.attribute(rolls, num_samples=1000, num_features=5, top_labels=5, batch_size=10)
    >>> out["mask"].shape, out["label"], out["probability"]   # (N, 88, T) bool, (N,), (N,)
    """

    def __init__(self, model: nn.Module, *, kernel_width: float, hide_color: float, distance_metric: str,
                 random_state: int, segmentation: dict[str, float] | None = None, feature_selection: str = "auto",
                 sounding_only: bool = False):
        self.model = model
        self.kernel_width = kernel_width
        self.hide_color = hide_color
        self.distance_metric = distance_metric
        self.random_state = random_state
        self.segmentation = dict(segmentation or QUICKSHIFT_DEFAULT)
        self.feature_selection = feature_selection
        self.sounding_only = sounding_only

    def attribute(self, inputs: np.ndarray, target: int | np.ndarray | None = None, *, num_samples: int,
                  num_features: int, top_labels: int, batch_size: int) -> dict[str, np.ndarray]:
        """Top ``num_features`` positive superpixels of rolls ``inputs`` ``(N, 88, T)``.

        ``target``: the class to explain per roll (an int or ``(N,)``); ``None`` explains
        each roll's top predicted class (the original's choice, the first of its
        ``top_labels``; only that class's surrogate is fitted, so ``top_labels`` changes nothing).

        Returns ``mask`` ``(N, 88, T)`` bool, ``label`` ``(N,)`` int64 (the class explained),
        ``probability`` ``(N,)`` float32 (its softmax) and ``n_segments`` ``(N,)`` int64.
        """
        inputs = np.asarray(inputs)
        targets = [None] * len(inputs) if target is None else _per_input(target, len(inputs))
        out = [self._explain(roll, None if t is None else int(t), num_samples=num_samples,
                             num_features=num_features, top_labels=top_labels, batch_size=batch_size)
               for roll, t in zip(inputs, targets)]
        shape = (0, *inputs.shape[1:])
        return {"mask": np.stack([o["mask"] for o in out]) if out else np.zeros(shape, bool),
                "label": np.asarray([o["label"] for o in out], np.int64),
                "probability": np.asarray([o["probability"] for o in out], np.float32),
                "n_segments": np.asarray([o["n_segments"] for o in out], np.int64)}

    def _explain(self, roll: np.ndarray, target: int | None, *, num_samples: int, num_features: int,
                 top_labels: int, batch_size: int) -> dict[str, Any]:
        from lime import lime_image
        from lime.wrappers.scikit_image import SegmentationAlgorithm

        model = self.model
        model.eval()
        explainer = lime_image.LimeImageExplainer(kernel_width=self.kernel_width,
                                                  feature_selection=self.feature_selection,
                                                  random_state=self.random_state)
        segmenter = SegmentationAlgorithm("quickshift", **self.segmentation, random_seed=self.random_state)
        predict = classifier_fn(model, memo=True)
        probabilities = predict(np.repeat(roll[None, ..., None], 3, axis=-1))[0]
        # Only the explained class's surrogate is fitted: the original's top_labels=5 fits five
        # and draws the first, lime's argsort of this same prediction (the same mask, 5x fewer fits).
        label = int(np.argmax(probabilities)) if target is None else target
        labels = {"labels": (label,), "top_labels": None}
        # lime 0.2.0.1 draws a tqdm bar per explanation on stderr; the step logs its own progress
        with mock.patch.object(lime_image, "tqdm", lambda iterable, *args, **kwargs: iterable):
            explanation = explainer.explain_instance(
                roll.astype(np.float64), predict, hide_color=self.hide_color, num_features=num_features,
                num_samples=num_samples, batch_size=batch_size, segmentation_fn=segmenter,
                distance_metric=self.distance_metric, random_seed=self.random_state, **labels,
            )
        if self.sounding_only:
            # a superpixel whose cells all equal hide_color is the same roll hidden or not
            sounding = set(np.unique(explanation.segments[roll != self.hide_color]).tolist())
            explanation.local_exp[label] = [(f, w) for f, w in explanation.local_exp[label] if f in sounding]
        _, mask = explanation.get_image_and_mask(label, positive_only=True, hide_rest=True, num_features=num_features)
        return {"mask": mask.astype(bool), "label": label, "probability": float(probabilities[label]),
                "n_segments": int(len(np.unique(explanation.segments)))}


def note_coverage(masks: np.ndarray, rolls: np.ndarray) -> np.ndarray:
    """Share of each roll's sounding cells (value > 0) inside its LIME mask.

    ``masks`` and ``rolls`` ``(N, 88, T)`` -> ``(N,)`` in [0, 1]; 0 for an empty mask, 1 for a
    mask that covers every note (the whole roll), NaN for a silent roll.
    """
    masks, active = np.asarray(masks, bool), np.asarray(rolls) > 0
    n_active = active.sum(axis=(1, 2))
    inside = (masks & active).sum(axis=(1, 2))
    return np.where(n_active > 0, inside / np.maximum(n_active, 1), np.nan)


def explain_roll(model: nn.Module, roll: np.ndarray, *, num_samples: int, num_features: int, top_labels: int,
                 batch_size: int, kernel_width: float, hide_color: float, distance_metric: str,
                 random_state: int, segmentation: dict[str, float] | None = None,
                 feature_selection: str = "auto", sounding_only: bool = False) -> dict[str, Any]:
    """:class:`LimeRoll` of one roll ``(88, T)``: ``mask`` (88, T) bool, ``label`` (top class),
    ``probability`` (its softmax)."""
    out = LimeRoll(model, kernel_width=kernel_width, hide_color=hide_color, distance_metric=distance_metric,
                   random_state=random_state, segmentation=segmentation, feature_selection=feature_selection,
                   sounding_only=sounding_only).attribute(roll[None], num_samples=num_samples,
                                                                  num_features=num_features, top_labels=top_labels,
                                                                  batch_size=batch_size)
    return {"mask": out["mask"][0], "label": int(out["label"][0]), "probability": float(out["probability"][0])}


# =========================================================================== TCAV on the harmony branch
def harmony_only(rolls: np.ndarray) -> torch.Tensor:
    """``(N, 88, T)`` harmony rolls -> model inputs ``(N, 4, 88, T)``, other channels zero."""
    x = torch.zeros(rolls.shape[0], len(CHANNELS), *rolls.shape[1:])
    x[:, HARMONY] = torch.as_tensor(rolls)
    return x


def harmony_layer(model: nn.Module) -> nn.Module:
    return model.branches["harmony"].layer4


@torch.no_grad()
def activations(model: nn.Module, rolls: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Flattened harmony-branch activations ``(N, D)`` of harmony rolls ``(N, 88, T)``."""
    model.eval()
    branch = model.branches["harmony"]
    device = _device(model)
    out = []
    for start in range(0, len(rolls), batch_size):
        x = torch.as_tensor(rolls[start:start + batch_size]).unsqueeze(1).to(device)
        a = branch.layer4(branch.layer3(branch.layer2(branch.layer1(branch.stem(x)))))
        out.append(a.flatten(1).cpu().numpy())
    return np.concatenate(out).astype(np.float32)


RANDOM_CAVS = ("fake_voicings", "training_clips")
SOLVERS = ("lbfgs", "liblinear")


def _fit(pos: np.ndarray, neg: np.ndarray, seed: int, solver: str = "lbfgs") -> tuple[np.ndarray, float]:
    """Logistic-regression coefficients (the CAV) and the training accuracy; scikit-learn's
    defaults otherwise (C = 1, 100 iterations: lbfgs may stop before convergence, as the original's)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([pos, neg])
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = LogisticRegression(solver=solver, random_state=seed).fit(x, y)
    return clf.coef_[0].astype(np.float32), float(clf.score(x, y))


def random_sets(rng: np.random.Generator, n_pool: int, n_random_clips: int,
                random_cavs: str) -> tuple[np.ndarray, np.ndarray]:
    """Indices into the pool of the two sets one random CAV separates.

    ``fake_voicings`` (the original's ``RandomCAV``): two independent draws of
    ``n_random_clips`` renderings each (they may share renderings); ``training_clips``: the
    two halves of one draw of ``n_random_clips`` clips (disjoint). Draws are capped at the pool.
    """
    n = min(n_random_clips, n_pool)
    if random_cavs == "fake_voicings":
        return rng.choice(n_pool, n, replace=False), rng.choice(n_pool, n, replace=False)
    if random_cavs == "training_clips":
        chosen = rng.choice(n_pool, n, replace=False)
        return chosen[:n // 2], chosen[n // 2:]
    raise ValueError(f"unknown random_cavs {random_cavs!r}; choose from {RANDOM_CAVS}")


def fit_cavs(concept_acts: list[np.ndarray], random_acts: np.ndarray | None = None, *, n_experiments: int,
             n_random_clips: int, positive_fraction: float, seed: int, random_cavs: str = "fake_voicings",
             solver: str = "lbfgs") -> dict[str, np.ndarray]:
    """CAVs ``(C, E, D)``, random CAVs ``(E, D)``, control CAVs ``(C, E, D)`` and the CAV
    classifiers' accuracies ``(C, E)``.

    ``concept_acts[c]`` are the activations of concept c's renderings. A concept CAV
    separates a ``positive_fraction`` draw of them (1: all, the original's) from as many
    renderings of the other concepts, drawn afresh per experiment. A random CAV (the TCAV
    null, Kim et al. 2018) separates two random sets of ``random_acts``
    (:func:`random_sets`): with ``random_cavs`` ``fake_voicings`` the pool is every concept's
    renderings (``random_acts`` ``None``: ``concept_acts`` concatenated; the original's
    ``VoicingLoaderFake``), with ``training_clips`` the activations of training clips. The
    control CAVs are a random concept in each concept's place: random CAVs drawn the same
    way, one per concept and experiment, whose TCAV scores must not beat the random CAVs'.
    ``solver``: the logistic regression's (``lbfgs``, scikit-learn's default, the original's).
    """
    if random_cavs not in RANDOM_CAVS:
        raise ValueError(f"unknown random_cavs {random_cavs!r}; choose from {RANDOM_CAVS}")
    if random_acts is None:
        if random_cavs == "training_clips":
            raise ValueError("random_cavs training_clips needs the training clips' activations")
        random_acts = np.concatenate(concept_acts)
    rng = np.random.default_rng(seed)
    n_c, dim = len(concept_acts), concept_acts[0].shape[1]
    cavs = np.zeros((n_c, n_experiments, dim), np.float32)
    accuracy = np.zeros((n_c, n_experiments), np.float32)
    for c in progress(range(n_c), desc="CAVs"):
        others = np.concatenate([a for k, a in enumerate(concept_acts) if k != c])
        for e in range(n_experiments):
            n_pos = max(2, int(round(positive_fraction * len(concept_acts[c]))))
            pos = concept_acts[c][rng.choice(len(concept_acts[c]), n_pos, replace=False)]
            neg = others[rng.choice(len(others), min(n_pos, len(others)), replace=False)]
            cavs[c, e], accuracy[c, e] = _fit(pos, neg, seed + e, solver)

    def random_cav(e: int) -> np.ndarray:
        first, second = random_sets(rng, len(random_acts), n_random_clips, random_cavs)
        return _fit(random_acts[first], random_acts[second], seed + e, solver)[0]

    random = np.stack([random_cav(e) for e in range(n_experiments)]).astype(np.float32)
    # drawn after the random CAVs, so that adding them left every other CAV as it was
    control_cavs = np.stack([[random_cav(e) for e in range(n_experiments)] for _ in range(n_c)]).astype(np.float32)
    return {"cavs": cavs, "random_cavs": random, "control_cavs": control_cavs, "cav_accuracy": accuracy}


class CavSensitivity:
    """TCAV sensitivities of harmony rolls to CAVs at the harmony layer of DisentangleNet.

    ``s[n, k] = < flatten(attribution of clip n at the harmony layer), cavs[k] >``, the
    attribution being gradient x activation of the target logit (captum's
    ``LayerGradientXActivation``) or layer integrated gradients (``LayerIntegratedGradients``,
    ``ig_steps`` steps).

    Parameters
    ----------
    model
        A :class:`~xairepro.pianist.models.DisentangleNet`; put in eval mode.
    attribution_fn
        ``gradient_x_activation`` or ``integrated_gradients``.
    multiply_by_inputs, ig_steps
        captum's flags of the layer attribution.

    Example
    -------
    >>> tcav = CavSensitivity(model, attribution_fn="gradient_x_activation")
    >>> s = tcav.attribute(harmony_rolls, target=labels, cavs=vectors, batch_size=64)   # (N, K)
    """

    def __init__(self, model: nn.Module, *, attribution_fn: str = "gradient_x_activation",
                 multiply_by_inputs: bool = True, ig_steps: int = IG_STEPS):
        if attribution_fn not in ATTRIBUTION_FNS:
            raise ValueError(f"unknown attribution_fn {attribution_fn!r}; choose gradient_x_activation or "
                             "integrated_gradients")
        self.model = model
        self.attribution_fn = attribution_fn
        self.multiply_by_inputs = multiply_by_inputs
        self.ig_steps = ig_steps

    @property
    def layer(self) -> nn.Module:
        """The harmony branch's last block, where the CAVs live."""
        return harmony_layer(self.model)

    def layer_attributions(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Gradient x activation (or layer IG) at the harmony layer of model inputs ``x``
        ``(B, 4, 88, T)``: ``(B, C', H', W')``."""
        from captum.attr import LayerGradientXActivation, LayerIntegratedGradients

        self.model.eval()
        if self.attribution_fn == "gradient_x_activation":
            method = LayerGradientXActivation(self.model, self.layer, multiply_by_inputs=self.multiply_by_inputs)
            return method.attribute(x, target=target)
        method = LayerIntegratedGradients(self.model, self.layer, multiply_by_inputs=self.multiply_by_inputs)
        return method.attribute(x, target=target, n_steps=self.ig_steps)

    def attribute(self, inputs: np.ndarray, target: np.ndarray | int, *, cavs: np.ndarray,
                  batch_size: int) -> np.ndarray:
        """Sensitivities ``(N, K)`` of harmony rolls ``inputs`` ``(N, 88, T)`` (the other
        channels zeroed) to ``cavs`` ``(K, D)``, for the classes ``target`` (an int or
        ``(N,)``, the true performers in TCAV); batched over clips."""
        device = _device(self.model)
        targets = _per_input(target, len(inputs))
        vecs = torch.as_tensor(cavs.reshape(-1, cavs.shape[-1])).to(device)
        out = []
        for start in range(0, len(inputs), batch_size):
            x = harmony_only(inputs[start:start + batch_size]).to(device)
            y = torch.as_tensor(targets[start:start + batch_size], dtype=torch.long).to(device)
            attr = self.layer_attributions(x, y)
            out.append((attr.detach().flatten(1) @ vecs.T).cpu().numpy())
        return np.concatenate(out)


def sensitivities(model: nn.Module, rolls: np.ndarray, targets: np.ndarray, vectors: np.ndarray, *, batch_size: int,
                  attribution_fn: str = "gradient_x_activation", multiply_by_inputs: bool = True,
                  ig_steps: int = IG_STEPS) -> np.ndarray:
    """:class:`CavSensitivity` of ``rolls`` ``(N, 88, T)`` to ``vectors`` ``(K, D)``: ``(N, K)``."""
    return CavSensitivity(model, attribution_fn=attribution_fn, multiply_by_inputs=multiply_by_inputs,
                          ig_steps=ig_steps).attribute(rolls, target=targets, cavs=vectors, batch_size=batch_size)


def sign_counts(s: np.ndarray, labels: np.ndarray, n_performers: int) -> tuple[np.ndarray, np.ndarray]:
    """Sign counts and magnitudes ``(P, ...)`` from sensitivities ``s`` ``(N, ...)`` of clips
    with true performers ``labels``: the share of s > 0, and sum(s > 0) / sum|s|."""
    shape = (n_performers, *s.shape[1:])
    counts, magnitude = np.full(shape, np.nan), np.full(shape, np.nan)
    for p in range(n_performers):
        sp = s[labels == p]
        if len(sp):
            counts[p] = (sp > 0).mean(0)
            total = np.abs(sp).sum(0)
            magnitude[p] = np.where(total > 0, np.clip(sp, 0, None).sum(0) / np.where(total > 0, total, 1), 0.5)
    return counts, magnitude


# =========================================================================== kernel occlusion
def kernel_positions(clip_seconds: float, kernel: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the kernel's positions: MIDI pitches and times (s) in the clip.

    The original's grid: centres from key 0 (A0) to key 88 and from 0 s to ``clip_seconds``,
    both ends included, moved by the strides (``np.arange(0, n + stride, stride)``, so a
    stride that does not divide the range overshoots its end by less than one stride). A
    kernel around a centre is clamped to the keyboard and the clip (:func:`occluded`).
    """
    keys = np.arange(0, N_KEYS + kernel["stride_semitones"], kernel["stride_semitones"])
    times = np.arange(0.0, clip_seconds + kernel["stride_seconds"], kernel["stride_seconds"])
    return (LOWEST + keys).astype(np.int64), times.astype(np.float64)


def occluded(notes: np.ndarray, pitch: float, time: float, kernel: dict[str, float],
             clip_seconds: float) -> np.ndarray:
    """Which notes ``(M, 4)`` (pitch, start, end, velocity) the kernel centred on ``pitch``,
    ``time`` deletes: ``(M,)`` bool.

    As the original: the kernel spans ``semitones / 2`` and ``seconds / 2`` either side of its
    centre, clamped to the 88 keys and to [0, ``clip_seconds``], bounds included; a note
    inside its pitch range goes when its start or its end lies inside its time range (a note
    that spans the whole kernel stays).
    """
    low_p = max(pitch - kernel["semitones"] / 2, LOWEST)
    high_p = min(pitch + kernel["semitones"] / 2, LOWEST + N_KEYS)
    low_t = max(time - kernel["seconds"] / 2, 0.0)
    high_t = min(time + kernel["seconds"] / 2, clip_seconds)
    in_pitch = (notes[:, 0] >= low_p) & (notes[:, 0] <= high_p)
    starts = (notes[:, 1] >= low_t) & (notes[:, 1] <= high_t)
    ends = (notes[:, 2] >= low_t) & (notes[:, 2] <= high_t)
    return in_pitch & (starts | ends)


class KernelOcclusion:
    """Kernel occlusion of a clip's CAV sensitivities: delete the notes under each kernel
    position (``semitones`` x ``seconds`` around centres moved by ``stride_semitones`` /
    ``stride_seconds``: :func:`kernel_positions`, :func:`occluded`), recompute the
    sensitivity to each CAV; ``map = (s_orig - s_masked) / s_orig``.

    Parameters
    ----------
    model
        A :class:`~xairepro.pianist.models.DisentangleNet`.
    roll
        The roll settings: ``fps``, ``clip_seconds``, ``min_duration``, ``harmony_window``.
    kernel
        ``semitones``, ``seconds``, ``stride_semitones``, ``stride_seconds``.
    attribution_fn, multiply_by_inputs, ig_steps
        Of the sensitivities (:class:`CavSensitivity`).

    Example
    -------
    >>> occlusion = KernelOcclusion(model, roll=roll, kernel=kernel)
    >>> out = occlusion.attribute(notes, target=label, cavs=cavs, batch_size=64)
    >>> out["map"].shape   # (C, n_pitch, n_time)
    """

    def __init__(self, model: nn.Module, *, roll: dict[str, Any], kernel: dict[str, float],
                 attribution_fn: str = "gradient_x_activation", multiply_by_inputs: bool = True,
                 ig_steps: int = IG_STEPS):
        self.roll = roll
        self.kernel = kernel
        self.sensitivity = CavSensitivity(model, attribution_fn=attribution_fn, multiply_by_inputs=multiply_by_inputs,
                                          ig_steps=ig_steps)

    def _harmony(self, notes: np.ndarray) -> np.ndarray:
        roll = self.roll
        return normalise(piano_roll(harmony_notes(notes, roll["harmony_window"]), roll["fps"], roll["clip_seconds"],
                                    roll["min_duration"]))

    def attribute(self, inputs: np.ndarray, target: int, *, cavs: np.ndarray, batch_size: int) -> dict[str, np.ndarray]:
        """Occlusion maps of one clip's notes ``inputs`` ``(M, 4)`` for class ``target``
        against ``cavs`` ``(C, D)``.

        Returns ``map`` ``(C, n_pitch, n_time)``, ``s_orig`` ``(C,)``, and the kernel centres
        ``pitches`` (MIDI) and ``times`` (s in the clip).
        """
        roll, kernel = self.roll, self.kernel
        notes = filter_notes(inputs, roll["clip_seconds"], roll["min_duration"])
        pitches, times = kernel_positions(roll["clip_seconds"], kernel)
        variants = [self._harmony(notes)]
        for p in pitches:
            for t in times:
                variants.append(self._harmony(notes[~occluded(notes, p, t, kernel, roll["clip_seconds"])]))
        rolls = np.stack(variants)
        s = self.sensitivity.attribute(rolls, target=np.full(len(rolls), target), cavs=cavs, batch_size=batch_size)
        s_orig, s_masked = s[0], s[1:].reshape(len(pitches), len(times), -1)
        safe = np.where(s_orig != 0, s_orig, np.nan)
        heat = ((s_orig - s_masked) / safe).transpose(2, 0, 1)
        return {"map": np.nan_to_num(heat).astype(np.float32), "s_orig": s_orig.astype(np.float32),
                "pitches": pitches.astype(np.int64), "times": times.astype(np.float32)}
