"""Heatmaps of a user's own ResNet-18 with a scalar output, on a user's folder of images.

The original's static explanations take any such classifier (static_exp.py at commit
11b22791, HealthML/explainability-requires-interactivity): ``--model_path`` a ``*.pt`` state
dict loaded into ``resnet_norepeat.resnet18`` with ``fc = nn.Linear(512, 1)``
(static_exp.py:22, 51-66) and ``--img_path`` a folder whose every file is an image
(``glob(join(img_path, '*'))``, resized so the shorter side is 256 and ImageNet-normalised,
static_exp.py:24, 109-126). The same here: :func:`load_user_classifier` reads the state dict
weights-only (``torch.load(..., weights_only=True)``; torchvision's resnet18 key names, or
this workflow's own classifier record holding one under ``state_dict``) and names the file
and the first key that does not fit; :func:`read_user_images` reads every visible file of the
folder and names the first that is no image.

Without labels, planted regions or a generator, the claims that apply are the explanation's
own: :func:`deletion_drops` scores each map by how much deleting its top-ranked pixels moves
the logit, against deleting as many random pixels (the control: the same with the map's
pixels shuffled).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from xairepro.common.checkpoints import load_strict
from xairepro.common.errors import ConfigError, InputError
from xairepro.common.io import load_torch, save_arrays, write_csv
from xairepro.common.seeding import pick_device, seed_everything
from xairepro.interactive import data as D
from xairepro.interactive.explain import METHODS, explain, map_correlation, normalise
from xairepro.interactive.models import resnet18_norepeat

log = logging.getLogger(__name__)

#: The heatmaps' table and figure name this classifier so.
USER_CLASSIFIER = "user"
FIX = "see docs/your-data/interactive.md"


def load_user_classifier(path: str | Path) -> nn.Module:
    """The user's ResNet-18 with one output unit, eval mode, ReLUs unique and not in-place.

    ``path`` holds a state dict with torchvision's resnet18 key names and ``fc.weight`` of
    shape (1, 512), as the original's ``load_model`` expects (static_exp.py:51-66), or a
    record with such a dict under ``state_dict``. Raises :class:`InputError` naming the file
    and the first missing, unexpected or mis-shaped key.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "missing: your classifier's state dict (config interactive.user_data.checkpoint)",
                         f"save it with torch.save(model.state_dict(), path); {FIX}")
    state = load_torch(path)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(path, "is not a state dict of tensors", FIX)
    return load_strict(path, state, resnet18_norepeat(), "a torchvision resnet18 state dict with a 1-unit fc",
                       FIX).eval()


def read_user_images(folder: str | Path, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every visible file of ``folder``, sorted by name, as uint8 (N, H, W, 3) with the shorter
    side resized to ``size`` (the original's ``Resize(256)``, no crop), and the file names.

    Raises :class:`InputError`: a missing or empty folder, a file that is no image, images
    of different aspect ratios (explained as one batch, as the original stacks them).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "is not a folder (config interactive.user_data.path)", FIX)
    images, names = D.read_image_folder(folder, size, FIX)
    return images, names


def check_user_inputs(folder: str | Path, checkpoint: str | Path, size: int) -> tuple[nn.Module, np.ndarray, np.ndarray]:
    """The classifier and the images, each checked (:func:`load_user_classifier`,
    :func:`read_user_images`) before any heatmap is computed."""
    if folder is None or checkpoint is None:
        raise ConfigError("config: interactive.user_data needs both 'path' (a folder of images) and 'checkpoint'")
    model = load_user_classifier(checkpoint)
    images, names = read_user_images(folder, size)
    return model, images, names


@torch.no_grad()
def deletion_drops(model: nn.Module, x: torch.Tensor, attributions: np.ndarray, *, fraction: float,
                   seed: int) -> dict[str, np.ndarray]:
    """Per image, how far the logit moves when a ``fraction`` of its pixels is set to the
    normalised input's zero (the ImageNet mean colour):

    - ``top``: the pixels of largest |attribution| (summed over channels);
    - ``random``: as many pixels drawn at random;
    - ``shuffled``: the top pixels of the map with its pixels shuffled (the control: a map
      that carries no information ranks like a random draw).

    x: (N, 3, H, W); attributions: (N, 3, H, W). Returns name -> (N,) |logit change|.
    """
    rng = np.random.default_rng(seed)
    n, _, h, w = x.shape
    k = max(1, int(round(fraction * h * w)))
    score = np.abs(attributions).sum(1).reshape(n, -1)  # (N, H * W)
    orders = {"top": np.argsort(-score, axis=1)[:, :k],
              "random": np.stack([rng.permutation(h * w)[:k] for _ in range(n)]),
              "shuffled": np.stack([np.argsort(-rng.permutation(s))[:k] for s in score])}
    base = model(x).flatten()
    drops = {}
    for name, idx in orders.items():
        keep = torch.ones(n, h * w, device=x.device)
        keep[torch.arange(n)[:, None], torch.from_numpy(idx)] = 0
        deleted = x * keep.view(n, 1, h, w)
        drops[name] = (model(deleted).flatten() - base).abs().cpu().numpy()
    return drops


def compute_user_heatmaps(folder: str | Path, checkpoint: str | Path, out_npz: str | Path, out_csv: str | Path, *,
                          size: int, methods=METHODS, n_steps: int, nt_samples: int, nt_type: str,
                          internal_batch_size: int | None, nt_samples_batch_size: int | None, outlier_perc: float,
                          deletion_fraction: float, seed: int = 0, threads: int | None = None,
                          provenance: dict | None = None, device: str = "auto") -> pd.DataFrame:
    """The original's static explanations of the user's classifier on every image of
    ``folder``: the attribution cache (the keys of
    :func:`~xairepro.interactive.steps.compute_heatmaps`, so the heatmap figure draws it) and
    a table per image and method (logit, correlation with the plain gradient, and the
    deletion drops of :func:`deletion_drops`). Everything is checked before anything runs."""
    model, images, names = check_user_inputs(folder, checkpoint, size)
    seed_everything(seed, threads)
    device = pick_device(device)
    model = model.to(device)
    x = D.to_tensor(images).to(device)
    with torch.no_grad():
        logits = model(x).flatten().cpu().numpy()
    raw = explain(model, x, (*methods, "gradient"), n_steps=n_steps, nt_samples=nt_samples, nt_type=nt_type,
                  internal_batch_size=internal_batch_size, nt_samples_batch_size=nt_samples_batch_size)
    gradient = raw.pop("gradient")
    rows = []
    for m, a in raw.items():
        corr = map_correlation(a, gradient)
        drops = deletion_drops(model, x, a, fraction=deletion_fraction, seed=seed)
        for i in range(len(names)):
            rows.append({"classifier": USER_CLASSIFIER, "image": names[i], "logit": logits[i], "method": m,
                         "model": "trained", "corr_with_gradient": corr[i], "deletion_top": drops["top"][i],
                         "deletion_random": drops["random"][i], "deletion_shuffled": drops["shuffled"][i]})
    table = pd.DataFrame(rows)
    arrays = {"images": images, "labels": np.full(len(names), np.nan, np.float32), "names": names.astype(str),
              "logits": logits, "methods": np.array(methods)}
    arrays |= {f"raw_{m}": raw[m] for m in methods} | {f"map_{m}": normalise(raw[m], outlier_perc) for m in methods}
    save_arrays(out_npz, **arrays)
    write_csv(out_csv, table, provenance)
    log.info("%s: %d images explained; mean deletion drop top / random %s", folder, len(names),
             table.groupby("method")[["deletion_top", "deletion_random"]].mean().to_dict())
    return table
