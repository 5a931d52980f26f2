"""The explanations of the interactive study, each in captum's shape: an explainer built
with the model and its method's flags, one ``attribute(inputs, target=...)``.

Static explanations (static_exp.py), :func:`explain`: four captum heatmaps of a
scalar-logit classifier, as the original's ``explain_all``: ``IntegratedGradients`` (zero
baseline, ``n_steps``), ``NoiseTunnel(Saliency)`` with ``smoothgrad_sq`` (``nt_samples``),
``GuidedBackprop`` and ``GuidedGradCam`` on ``layer4[-1]``. Each method gets its own captum
explainer; the model's ReLUs are unique modules and not in-place (see
:func:`xairepro.interactive.models.resnet18_norepeat`), which the guided methods need.
Unlike the original's loop over single images, every method runs on the whole batch.

Display follows captum's ``visualize_image_attr(..., sign="all", outlier_perc=2)`` that the
original calls through ``_normalize_image_attr`` (:func:`normalise`): sum over channels,
divide by the value where the cumulative sum of |attr| reaches 98 %, clip to [-1, 1]; an
all-zero map stays zero (the original's plot shows it as ones, static_exp.py:202, which
reads as maximal positive attribution; ``plot`` ``zero_maps_as_ones`` redraws it so).
:func:`region_mass` and
:func:`map_correlation` measure the maps against the planted regions and the plain gradient,
and :func:`localisation` scores the raw maps with Quantus' relevance rank and mass accuracy.

Generative explanations (generative_exp.py, phase 3), :class:`LatentMoves`: project each
input image into w (:func:`project`: Adam on w from w_avg, pixel MSE, or VGG16-feature MSE
at paper scale instead of the original's LPIPS), move along ``||w|| beta / ||beta||`` by
``linspace(-ampl, ampl, steps)`` (:func:`move_and_render`), render and score every frame
with the evaluated classifier (and with the direction's own classifier).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from captum import attr as captum_attr
from torch import nn

from xairepro.common.controls import relevance_mass, relevance_rank
from xairepro.common.logs import progress
from xairepro.common.seeding import pick_device
from xairepro.interactive import data as D
from xairepro.interactive.figures import all_zero
from xairepro.interactive.models import classifier_size_of, to_unit

# --------------------------------------------------------------------------- heatmaps
METHODS = ("integrated_gradients", "saliency_smoothgrad_sq", "guided_backprop", "guided_gradcam")


def explain(model: torch.nn.Module, x: torch.Tensor, methods=METHODS, *, n_steps: int = 200, nt_samples: int = 200,
            nt_type: str = "smoothgrad_sq", internal_batch_size: int | None = None,
            nt_samples_batch_size: int | None = None, target: int = 0) -> dict[str, np.ndarray]:
    """Attributions of the logit ``target`` for a batch of images.

    Parameters
    ----------
    x : (N, 3, H, W) normalised images.

    Returns
    -------
    method -> (N, 3, H, W) float32 attributions.
    """
    model.eval()
    out = {}
    for method in methods:
        inputs = x.clone().requires_grad_(True)
        if method == "integrated_gradients":
            a = captum_attr.IntegratedGradients(model).attribute(
                inputs, target=target, n_steps=n_steps, internal_batch_size=internal_batch_size)
        elif method == "saliency_smoothgrad_sq":
            a = captum_attr.NoiseTunnel(captum_attr.Saliency(model)).attribute(
                inputs, target=target, nt_type=nt_type, nt_samples=nt_samples,
                nt_samples_batch_size=nt_samples_batch_size)
        elif method == "guided_backprop":
            a = captum_attr.GuidedBackprop(model).attribute(inputs, target=target)
        elif method == "guided_gradcam":
            a = captum_attr.GuidedGradCam(model, model.layer4[-1]).attribute(inputs, target=target)
        elif method == "gradient":
            a = captum_attr.Saliency(model).attribute(inputs, target=target, abs=False)
        else:
            raise ValueError(f"unknown heatmap method {method!r}; choose from {METHODS + ('gradient',)}")
        out[method] = a.detach().float().cpu().numpy()
    return out


def normalise(attributions: np.ndarray, outlier_perc: float = 2.0) -> np.ndarray:
    """captum's display normalisation (``visualize_image_attr`` with sign "all") of
    (N, C, H, W) maps -> (N, H, W) in [-1, 1].

    Per image: sum over channels, take the value at which the cumulative sum of the sorted
    |values| reaches (100 - outlier_perc) % of the total, divide by it, clip to [-1, 1]. An
    all-zero map (:func:`all_zero`) stays zero: it has no threshold, and the original's ones
    (static_exp.py:202) would read as maximal positive attribution.
    """
    maps = []
    for a in attributions:
        summed = a.sum(axis=0)
        if all_zero(a[None])[0] or not np.any(summed):  # no threshold to divide by
            maps.append(np.zeros_like(summed))
            continue
        sorted_vals = np.sort(np.abs(summed).ravel())
        cum = np.cumsum(sorted_vals)
        threshold = sorted_vals[np.flatnonzero(cum >= cum[-1] * 0.01 * (100.0 - outlier_perc))[0]]
        maps.append(np.clip(summed / threshold, -1, 1))
    return np.stack(maps).astype(np.float32)


def region_mass(maps: np.ndarray, regions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of |map| on the planted region, and the region's share of the image.

    maps, regions : (N, H, W). Returns (mass, area), each (N,); an all-zero map has no mass
    (NaN), as in :func:`localisation`.
    """
    weight = np.abs(maps)
    total = weight.sum((1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        mass = np.where(total > 0, (weight * regions).sum((1, 2)) / total, np.nan)
    return mass, regions.mean((1, 2))


def localisation(attributions: np.ndarray, regions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quantus' relevance rank and relevance mass accuracy of raw attributions against the
    planted regions (:func:`xairepro.common.controls.relevance_rank` / ``relevance_mass``):
    the relevance of a pixel is the absolute sum of its channels' attributions.

    attributions : (N, C, H, W); regions : (N, H, W). Returns (rank, mass), each (N,); a
    random map scores the region's area share in both. An all-zero map (Guided GradCAM of an
    image scored negative) has no mass and ranks its pixels arbitrarily.
    """
    relevance = np.abs(attributions.sum(axis=1, keepdims=True))  # (N, 1, H, W)
    regions = np.asarray(regions, dtype=bool)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):  # an all-zero map (GradCAM) has no mass: NaN
        return relevance_rank(relevance, regions), relevance_mass(relevance, regions)


def resize_regions(regions: np.ndarray, size: int) -> np.ndarray:
    """Planted-region masks (N, H, W) at the classifier's input size (a pixel belongs to the
    region when at least a quarter of its area does)."""
    if regions.shape[-1] == size:
        return regions
    area = torch.nn.functional.interpolate(torch.from_numpy(regions[:, None].astype(np.float32)), size=(size, size),
                                           mode="area")
    return (area[:, 0] >= 0.25).numpy()


def map_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image Pearson correlation of two (N, ...) attribution maps."""
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    a = a - a.mean(1, keepdims=True)
    b = b - b.mean(1, keepdims=True)
    return (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)


# --------------------------------------------------------------------------- latent moves
class _VGGFeatures(nn.Module):
    """VGG16 (ImageNet) conv features as a perceptual distance (paper scale stand-in for LPIPS):
    ``features[:16]`` of torchvision's VGG16, read from its weights file ``weights``
    (``vgg16-397923af.pth``; the later layers and the classifier in it are not needed)."""

    LAYERS = 16

    def __init__(self, weights: str):
        super().__init__()
        from torchvision.models.vgg import cfgs, make_layers

        from xairepro.interactive.models import load_pretrained

        # torchvision's VGG16 conv stack (its `features`, same indices), without the 120 M
        # parameters of the classifier that vgg16() would build and the loss never uses
        self.features = make_layers(cfgs["D"])[:self.LAYERS].eval()
        state = {k[len("features."):]: v for k, v in load_pretrained(weights).items()
                 if k.startswith("features.") and int(k.split(".")[1]) < self.LAYERS}
        self.features.load_state_dict(state)
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, images01: torch.Tensor) -> torch.Tensor:
        x = nn.functional.interpolate(images01, size=(256, 256), mode="area") if images01.shape[-1] > 256 else images01
        mean = torch.tensor(D.IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(D.IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
        return self.features((x - mean) / std)


def project(generator: nn.Module, targets01: torch.Tensor, *, num_steps: int, initial_learning_rate: float = 0.1,
            loss: str = "pixel", vgg16_weights: str | None = None, lr_rampdown_length: float = 0.25,
            lr_rampup_length: float = 0.05) -> torch.Tensor:
    """Project images into w, all at once (each image's loss is independent).

    Follows NVlabs' projector: start from w_avg, Adam with a cosine ramp-down of the learning
    rate; the loss is pixel MSE (``"pixel"``) or VGG16-feature MSE (``"vgg16"``) instead of
    LPIPS (``vgg16_weights``: torchvision's VGG16 file). targets01: (N, 3, R, R) in [0, 1], on
    the generator's device. Returns w (N, w_dim).
    """
    if loss == "vgg16" and not vgg16_weights:
        raise ValueError("projection_loss 'vgg16' needs torchvision's VGG16 weights file (vgg16_weights)")
    features = _VGGFeatures(vgg16_weights).to(targets01.device) if loss == "vgg16" else None
    w = generator.mapping.w_avg.detach().clone().to(targets01.device)[None].repeat(len(targets01), 1)
    w.requires_grad_(True)
    optimizer = torch.optim.Adam([w], lr=initial_learning_rate, betas=(0.9, 0.999))
    target_features = features(targets01) if features is not None else None
    for step in progress(range(num_steps), desc="projection"):
        t = step / max(1, num_steps)
        ramp = min(1.0, (1.0 - t) / lr_rampdown_length)
        ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
        ramp = ramp * min(1.0, t / lr_rampup_length) if lr_rampup_length else ramp
        for group in optimizer.param_groups:
            group["lr"] = initial_learning_rate * max(ramp, 1e-3)
        images = to_unit(generator.synthesis(w[:, None].repeat(1, generator.num_ws, 1), noise_mode="const"))
        if features is not None:
            dist = (features(images) - target_features).pow(2).flatten(1).mean(1).sum()
        else:
            dist = (images - targets01).pow(2).flatten(1).mean(1).sum()
        optimizer.zero_grad(set_to_none=True)
        dist.backward()
        optimizer.step()
    return w.detach()


@torch.no_grad()
def move_and_render(generator: nn.Module, w: torch.Tensor, beta: torch.Tensor, *, ampl: float, steps: int,
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Frames along the direction: w + g ||w|| beta / ||beta||, g in linspace(-ampl, ampl, steps).

    w: (N, w_dim); beta: (w_dim,), one direction for every face, or (N, w_dim), one per face.
    Returns (grid (steps,), frames (N, steps, 3, R, R) in [0, 1]).
    """
    grid = torch.linspace(-ampl, ampl, steps)
    beta = (beta[None] if beta.ndim == 1 else beta).to(w.device)  # (1 or N, w_dim)
    alpha = w.norm(dim=1, keepdim=True) * beta / beta.norm(dim=1, keepdim=True)  # (N, w_dim)
    latents = w[:, None] + grid.to(w.device)[None, :, None] * alpha[:, None]  # (N, steps, w_dim)
    flat = latents.reshape(-1, latents.shape[-1])
    frames = to_unit(generator.synthesis(flat[:, None].repeat(1, generator.num_ws, 1), noise_mode="const"))
    return grid, frames.reshape(len(w), steps, *frames.shape[1:])


@dataclass
class LatentMoveResult:
    """What :meth:`LatentMoves.attribute` finds for N inputs, each direction and S steps."""

    w: torch.Tensor  #: (N, w_dim) the projections of the inputs
    reconstructions: torch.Tensor  #: (N, 3, R, R) in [0, 1], the images of ``w``
    grid: torch.Tensor  #: (S,) the shifts g of every frame
    frames: dict[str, torch.Tensor]  #: direction -> (N, S, 3, R, R) in [0, 1]
    eval_logits: dict[str, np.ndarray]  #: direction -> (N, S) logits of the target's classifier
    own_logits: dict[str, np.ndarray]  #: direction -> (N, S) logits of the direction's own classifier
    #: direction -> (N, S) own / target logits along random directions, one per face (the control)
    random_own_logits: dict[str, np.ndarray] | None = None
    random_eval_logits: dict[str, np.ndarray] | None = None


class LatentMoves:
    """Generative explanation (generative_exp.py, phase 3) in captum's shape.

    Parameters
    ----------
    classifiers
        Attribute -> classifier: the explained models (a scalar logit each); ``target`` of
        :meth:`attribute` picks the evaluated one, and a direction's own classifier (when
        present) scores its moves as well.
    generator
        The generator with the StyleGAN2 interface (``mapping.w_avg``, ``synthesis``).
    directions
        Attribute -> latent direction beta (w_dim,), the weights of the latent logistic
        regressions of phase 2.
    classifier_size, reconstruction_steps, initial_learning_rate, projection_loss, vgg16_weights
        The method's flags: the classifiers' input size and the projection's steps, Adam
        learning rate and distance (``"pixel"`` or ``"vgg16"``, with torchvision's VGG16 file).
    device
        Where the generator and classifiers run (``"auto"``: CUDA when there is one); they are
        moved there, and results come back on the CPU.
    """

    def __init__(self, classifiers: dict[str, nn.Module], generator: nn.Module, directions: dict[str, torch.Tensor],
                 *, classifier_size: int, reconstruction_steps: int, initial_learning_rate: float,
                 projection_loss: str = "pixel", vgg16_weights: str | None = None, device: str = "auto"):
        self.device = pick_device(device)
        self.classifiers = {attr: model.to(self.device) for attr, model in classifiers.items()}
        self.generator = generator.to(self.device)
        self.vgg16_weights = vgg16_weights
        self.directions = directions
        self.classifier_size = classifier_size
        self.reconstruction_steps = reconstruction_steps
        self.initial_learning_rate = initial_learning_rate
        self.projection_loss = projection_loss

    def attribute(self, inputs: np.ndarray, target: str, *, ampl: float, steps: int,
                  random_seed: int | None = None) -> LatentMoveResult:
        """Project ``inputs`` (uint8 (N, H, W, 3)) into w, move each along every direction by
        ``linspace(-ampl, ampl, steps)``, and score every frame with the classifier of ``target``.

        With ``random_seed``, every face is also moved along a random Gaussian direction of its
        own per direction (the negative control: the sign of its score change is symmetric),
        scored by the direction's own classifier and the target's; those frames are not kept.
        """
        generator = self.generator
        res = generator.img_resolution
        targets = torch.from_numpy(inputs).permute(0, 3, 1, 2).float().to(self.device) / 255.0
        if tuple(targets.shape[-2:]) != (res, res):
            targets = nn.functional.interpolate(targets, size=(res, res), mode="bilinear", align_corners=False)
        w = project(generator, targets, num_steps=self.reconstruction_steps,
                    initial_learning_rate=self.initial_learning_rate, loss=self.projection_loss,
                    vgg16_weights=self.vgg16_weights)
        with torch.no_grad():
            recon = to_unit(generator.synthesis(w[:, None].repeat(1, generator.num_ws, 1), noise_mode="const"))
        frames, eval_logits, own_logits = {}, {}, {}
        for attr, beta in self.directions.items():
            grid, moved = move_and_render(generator, w, beta, ampl=ampl, steps=steps)
            eval_logits[attr], own_logits[attr] = self._score(moved, attr, target)
            frames[attr] = moved.cpu()
        result = LatentMoveResult(w=w.cpu(), reconstructions=recon.cpu(), grid=grid, frames=frames,
                                  eval_logits=eval_logits, own_logits=own_logits)
        if random_seed is not None:
            rng = torch.Generator().manual_seed(random_seed)
            result.random_eval_logits, result.random_own_logits = {}, {}
            for attr in self.directions:
                betas = torch.randn(w.shape, generator=rng)  # (N, w_dim): one direction per face, drawn on the CPU
                _, moved = move_and_render(generator, w, betas, ampl=ampl, steps=steps)
                result.random_eval_logits[attr], result.random_own_logits[attr] = self._score(moved, attr, target)
        return result

    @torch.no_grad()
    def _score(self, frames: torch.Tensor, attr: str, target: str) -> tuple[np.ndarray, np.ndarray]:
        """Logits (N, S) of the target's and of the direction's own classifier on frames (N, S, 3, R, R)."""
        n, steps = frames.shape[:2]

        def logits(name: str) -> np.ndarray:
            x = D.classifier_input(frames.flatten(0, 1), classifier_size_of(name, self.classifier_size))
            return self.classifiers[name](x).view(n, steps).cpu().numpy()

        eval_logits = logits(target)
        own = logits(attr) if attr in self.classifiers and attr != target else eval_logits
        return eval_logits, own
