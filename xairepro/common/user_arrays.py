"""A user's own labelled images as the studies' MNIST-shaped data file (issue 23).

The labelfree and lossgrad studies run their MNIST experiments on any ``mnist.npz`` with
arrays ``train_x``/``test_x`` (uint8, ``(N, 28, 28)``, 0-255 ink), ``train_y``/``test_y``
(int64, 0-9) and the training pixels' ``mean``/``std`` in [0, 1] (the layout of
:mod:`xairepro.lossgrad.data`). :func:`read_user_images` reads a user's data in one of two
layouts, validates it completely and returns those arrays, so that every downstream rule
runs unchanged:

* an array file ``<name>.npz`` (loaded by numpy with pickles refused) holding ``images``
  ``(N, H, W)`` or ``(N, C, H, W)`` with C = 1 or 3 (uint8 0-255, or floats in [0, 1]),
  ``labels`` ``(N,)`` integers 0-9, and, optionally, ``split`` ``(N,)``: ``train``/``test``
  strings, or 0 (train) / 1 (test), or booleans (True = test);
* a folder holding torchvision's four uncompressed MNIST IDX files
  (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
  ``t10k-labels-idx1-ubyte``), the layout the originals read through
  ``torchvision.datasets.MNIST`` (its ``MNIST/raw`` folder).

Colour images become grey (ITU-R 601 luma, torchvision's ``rgb_to_grayscale``); images of
another size than 28x28 are resized (bilinear, antialiased) only when asked (``resize``),
otherwise refused. Every problem stops with one :class:`~xairepro.common.errors.InputError`
naming the file and the first problem found; nothing is written by this module.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from xairepro.common.errors import ConfigError, InputError
from xairepro.common.io import load_arrays

#: The models' input: one grey channel of 28 x 28 pixels (MNIST's).
SIDE = 28
#: Labels are class indices below this (the 10-way heads of both studies).
MAX_CLASSES = 10
#: The IDX files of the folder layout -> (split, kind).
IDX_FILES = {
    "train-images-idx3-ubyte": ("train", "x"),
    "train-labels-idx1-ubyte": ("train", "y"),
    "t10k-images-idx3-ubyte": ("test", "x"),
    "t10k-labels-idx1-ubyte": ("test", "y"),
}
SPLITS = ("file", "generate")


def read_user_images(path: str | Path, *, splits: str, resize: bool, test_fraction: float, split_seed: int,
                     key: str, min_per_class: dict[str, tuple[int, str]] | None = None,
                     required_classes: tuple[int, ...] = (), why: str = "") -> dict[str, np.ndarray]:
    """The arrays of ``mnist.npz`` from a user's images, validated.

    Parameters
    ----------
    path
        The ``.npz`` file or the IDX folder (module docstring).
    splits
        ``file``: the split is the data's own (the ``split`` array; an IDX folder's train and
        t10k files); ``generate``: a stratified random split of every item.
    resize
        Resize images that are not 28x28 (else such images are an error).
    test_fraction, split_seed
        Share of each class put in the test split, and the seed, for ``splits: generate``.
    key
        The config section (``lossgrad.user_data``), named in configuration errors.
    min_per_class
        ``{"train": (n, reason), "test": (m, reason)}``: the fewest items each class needs
        in each split and why (default 2 each: a class needs more than one item to be
        resampled, and a stratified split needs two).
    required_classes
        Classes that must be present (e.g. 0 and 1 for the binary heads), with ``why``.

    Returns
    -------
    dict
        ``train_x``, ``test_x`` uint8 ``(N, 28, 28)``; ``train_y``, ``test_y`` int64
        ``(N,)``; ``mean``, ``std`` float32 scalars of the training pixels in [0, 1].
    """
    if splits not in SPLITS:
        raise ConfigError(f"config '{key}.splits' is {splits!r}; choose {' or '.join(SPLITS)}")
    if path is None:
        raise ConfigError(f"config '{key}.path' is null: nothing to import")
    path = Path(path)
    if not path.exists():
        raise InputError(path, "not found", f"config '{key}.path' names a .npz file or an MNIST IDX folder")
    if path.is_dir():
        if not any(path.iterdir()):
            raise InputError(path, "folder is empty", f"put the four MNIST IDX files there ({', '.join(IDX_FILES)})")
        if splits != "file":
            raise InputError(path, "an IDX folder carries its own train/t10k split",
                             f"set '{key}.splits: file'")
        images, labels, is_test = _read_idx_folder(path)
    else:
        images, labels, is_test = _read_npz(path, splits=splits, key=key)
    images = _grey_28(path, images, resize, key)  # (N, 28, 28) uint8
    labels = _labels(path, labels, len(images))
    if is_test is None:
        images, labels = _generated_split(path, images, labels, test_fraction, split_seed)
    else:
        images = {"train": images[~is_test], "test": images[is_test]}
        labels = {"train": labels[~is_test], "test": labels[is_test]}
    minimum = {split: (2, "the fewest a class may have") for split in ("train", "test")}
    _check_classes(path, labels, {**minimum, **(min_per_class or {})}, required_classes, why)
    scaled = images["train"].astype(np.float64) / 255.0
    return {
        "train_x": images["train"],
        "train_y": labels["train"],
        "test_x": images["test"],
        "test_y": labels["test"],
        "mean": np.array(scaled.mean(), dtype=np.float32),
        "std": np.array(scaled.std(), dtype=np.float32),
    }


def _read_idx_folder(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images, labels and the test mask of the four IDX files of ``folder`` (torchvision's readers)."""
    from torchvision.datasets.mnist import read_image_file, read_label_file

    parts: dict[str, np.ndarray] = {}
    for name, (split, kind) in IDX_FILES.items():
        file = folder / name
        if not file.is_file():
            raise InputError(file, "IDX file not found", "an IDX folder holds the four uncompressed MNIST files")
        try:
            tensor = read_image_file(str(file)) if kind == "x" else read_label_file(str(file))
        except Exception as exc:  # torchvision asserts on magic numbers and shapes
            raise InputError(file, f"not a readable IDX file ({type(exc).__name__}: {exc})") from exc
        parts[f"{split}_{kind}"] = tensor.numpy()
    for split in ("train", "test"):
        if len(parts[f"{split}_x"]) != len(parts[f"{split}_y"]):
            raise InputError(folder, f"{split}: {len(parts[f'{split}_x'])} images but {len(parts[f'{split}_y'])} "
                                     "labels")
    is_test = np.repeat([False, True], [len(parts["train_y"]), len(parts["test_y"])])
    return (np.concatenate([parts["train_x"], parts["test_x"]]), np.concatenate([parts["train_y"], parts["test_y"]]),
            is_test)


def _read_npz(path: Path, *, splits: str, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Images, labels and the test mask (``None``: to be generated) of the array file."""
    arrays = load_arrays(path, required=("images", "labels"))
    images, labels = arrays["images"], arrays["labels"]
    if images.ndim == 0 or len(images) == 0:
        raise InputError(path, "array 'images' is empty")
    if labels.ndim != 1 or len(labels) != len(images):
        raise InputError(path, f"array 'labels' has shape {labels.shape}; expected ({len(images)},), "
                               "one label per image")
    if splits == "generate":
        if "split" in arrays:
            raise InputError(path, "has a 'split' array but the config generates one",
                             f"set '{key}.splits: file' to use it, or remove the array")
        return images, labels, None
    if "split" not in arrays:
        raise InputError(path, "has no 'split' array (the split table)",
                         f"add one (train/test per image) or set '{key}.splits: generate'")
    return images, labels, _test_mask(path, arrays["split"], len(images))


def _test_mask(path: Path, split: np.ndarray, n: int) -> np.ndarray:
    """``(N,)`` booleans, True for test items, from a ``split`` array of strings, 0/1 or booleans."""
    if split.shape != (n,):
        raise InputError(path, f"array 'split' has shape {split.shape}; expected ({n},), one entry per image")
    if split.dtype.kind in "US":
        names = np.char.lower(np.char.strip(split.astype(str)))
        unknown = sorted(set(names.tolist()) - {"train", "test"})
        if unknown:
            raise InputError(path, f"array 'split' holds {unknown[0]!r}; use train or test")
        return names == "test"
    if split.dtype.kind in "biu":
        unknown = sorted(set(np.unique(split).tolist()) - {0, 1})
        if unknown:
            raise InputError(path, f"array 'split' holds {unknown[0]!r}; use 0 (train) and 1 (test)")
        return split.astype(bool)
    raise InputError(path, f"array 'split' has dtype {split.dtype}; use train/test strings or 0/1")


def _grey_28(path: Path, images: np.ndarray, resize: bool, key: str) -> np.ndarray:
    """uint8 ``(N, 28, 28)`` from ``(N, H, W)`` or ``(N, C, H, W)`` (C = 1 or 3)."""
    from torchvision.transforms.functional import rgb_to_grayscale

    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise InputError(path, f"array 'images' has shape {images.shape}; expected (N, H, W) or (N, C, H, W) "
                               "with C = 1 or 3 (channels first)")
    if images.dtype.kind == "f":
        if not np.isfinite(images).all() or images.min() < 0 or images.max() > 1:
            raise InputError(path, "float images must be finite and lie in [0, 1]",
                             "scale them, or store uint8 0-255")
        pixels = torch.from_numpy(images.astype(np.float32))
    elif images.dtype.kind in "iu":
        if images.min() < 0 or images.max() > 255:
            raise InputError(path, "integer images must lie in 0-255")
        pixels = torch.from_numpy(images.astype(np.float32) / 255.0)
    else:
        raise InputError(path, f"array 'images' has dtype {images.dtype}; use uint8 0-255 or floats in [0, 1]")
    if pixels.shape[1] == 3:
        pixels = rgb_to_grayscale(pixels)  # (N, 1, H, W), ITU-R 601 luma
    if pixels.shape[-2:] != (SIDE, SIDE):
        if not resize:
            raise InputError(path, f"images are {pixels.shape[-2]}x{pixels.shape[-1]}; the models take "
                                   f"{SIDE}x{SIDE}", f"set '{key}.resize: true' to resize them")
        pixels = torch.nn.functional.interpolate(pixels, size=(SIDE, SIDE), mode="bilinear", align_corners=False,
                                                 antialias=True)
    return np.rint(pixels.squeeze(1).clamp(0, 1).numpy() * 255).astype(np.uint8)


def _labels(path: Path, labels: np.ndarray, n: int) -> np.ndarray:
    """int64 ``(N,)`` class indices 0-9."""
    if labels.dtype.kind not in "iu":
        raise InputError(path, f"labels have dtype {labels.dtype}; use integers 0-{MAX_CLASSES - 1}")
    if len(labels) != n:
        raise InputError(path, f"{n} images but {len(labels)} labels")
    if labels.min() < 0 or labels.max() >= MAX_CLASSES:
        bad = int(labels.min()) if labels.min() < 0 else int(labels.max())
        raise InputError(path, f"label {bad} out of range; labels are class indices 0-{MAX_CLASSES - 1}")
    return labels.astype(np.int64)


def _generated_split(path: Path, images: np.ndarray, labels: np.ndarray, test_fraction: float, seed: int):
    """Stratified train/test split of every item (scikit-learn's ``train_test_split``)."""
    from sklearn.model_selection import train_test_split

    classes, counts = np.unique(labels, return_counts=True)
    for c, count in zip(classes, counts):
        if min(math.floor(count * test_fraction), count - math.ceil(count * test_fraction)) < 2:
            raise InputError(path, f"class {c} has {count} item(s); a generated split needs at least 2 in each of "
                                   f"train and test ({math.ceil(2 / min(test_fraction, 1 - test_fraction))} "
                                   f"items at test fraction {test_fraction:g})")
    train_x, test_x, train_y, test_y = train_test_split(images, labels, test_size=test_fraction, random_state=seed,
                                                        stratify=labels)
    return {"train": train_x, "test": test_x}, {"train": train_y, "test": test_y}


def _check_classes(path: Path, labels: dict[str, np.ndarray], minimum: dict[str, tuple[int, str]],
                   required: tuple[int, ...], why: str) -> None:
    """Every class present in either split has ``minimum[split]`` items in each split, and
    every ``required`` class is present."""
    for split in ("train", "test"):
        if len(labels[split]) == 0:
            raise InputError(path, f"the {split} split is empty")
    present = sorted(set(labels["train"].tolist()) | set(labels["test"].tolist()))
    for c in required:
        if c not in present:
            raise InputError(path, f"class {c} has no items; {why}")
    if len(present) < 2:
        raise InputError(path, f"only class {present[0]} is present; at least two classes are needed")
    for split in ("train", "test"):
        counts = np.bincount(labels[split], minlength=MAX_CLASSES)
        for c in present:
            fewest, reason = minimum[split]
            if counts[c] < max(fewest, 2):
                raise InputError(path, f"class {c} has {counts[c]} {split} item(s); at least {max(fewest, 2)} "
                                       f"are needed ({reason})")
