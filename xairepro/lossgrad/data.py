"""MNIST for the ``lossgrad`` study: a demo stand-in from scikit-learn, and the real thing.

Both scales end in the same file, ``mnist.npz``, with arrays ``train_x``/``test_x``
(uint8, ``(N, 28, 28)``, 0-255 ink), ``train_y``/``test_y`` (int64) and the normalisation
statistics ``mean``/``std`` of the training pixels scaled to [0, 1].

* demo: :func:`make_demo_digits` upsamples scikit-learn's 1,797 8x8 digits (shipped with
  the package, no network) to 20x20 and centres them in 28x28 like MNIST's 20x20 boxes.
* paper: :func:`read_mnist_raw` reads the four IDX files that the download rule fetched
  (URLs and md5 sums from torchvision's table) with torchvision's own readers.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from xairepro.common.errors import InputError
from xairepro.common.io import load_arrays

log = logging.getLogger(__name__)

ARRAYS = ("train_x", "train_y", "test_x", "test_y", "mean", "std")

#: The IDX files of MNIST, uncompressed name -> split and kind.
RAW_FILES = {
    "train-images-idx3-ubyte": ("train", "x"),
    "train-labels-idx1-ubyte": ("train", "y"),
    "t10k-images-idx3-ubyte": ("test", "x"),
    "t10k-labels-idx1-ubyte": ("test", "y"),
}


def mnist_resources() -> dict[str, dict[str, object]]:
    """``{file.gz: {"urls": [...], "checksum": "md5:..."}}`` from torchvision's MNIST table."""
    from torchvision.datasets import MNIST

    return {
        name: {"urls": [mirror + name for mirror in MNIST.mirrors], "checksum": f"md5:{md5}"}
        for name, md5 in MNIST.resources
    }


def make_demo_digits(seed: int = 0, test_fraction: float = 0.25) -> dict[str, np.ndarray]:
    """scikit-learn's digits as MNIST-shaped images, split stratified into train and test.

    Parameters
    ----------
    seed
        Seed of the stratified split.
    test_fraction
        Share of each class that goes to the test split.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = torch.from_numpy(digits.images.astype(np.float32) / 16.0).unsqueeze(1)  # (N, 1, 8, 8)
    boxes = torch.nn.functional.interpolate(images, size=(20, 20), mode="bilinear", align_corners=False)
    canvas = torch.nn.functional.pad(boxes, (4, 4, 4, 4)).squeeze(1).clamp(0, 1)  # (N, 28, 28)
    pixels = np.rint(canvas.numpy() * 255).astype(np.uint8)
    labels = digits.target.astype(np.int64)
    train_x, test_x, train_y, test_y = train_test_split(
        pixels, labels, test_size=test_fraction, random_state=seed, stratify=labels
    )
    return _with_stats(train_x, train_y, test_x, test_y)


def _with_stats(train_x, train_y, test_x, test_y) -> dict[str, np.ndarray]:
    scaled = train_x.astype(np.float64) / 255.0
    return {
        "train_x": train_x,
        "train_y": train_y,
        "test_x": test_x,
        "test_y": test_y,
        "mean": np.array(scaled.mean(), dtype=np.float32),
        "std": np.array(scaled.std(), dtype=np.float32),
    }


def read_mnist_raw(raw_dir: str | Path) -> dict[str, np.ndarray]:
    """Read the four uncompressed MNIST IDX files in ``raw_dir`` with torchvision's readers.

    A missing, truncated or foreign file raises :class:`InputError` naming it.
    """
    from torchvision.datasets.mnist import read_image_file, read_label_file

    raw_dir = Path(raw_dir)
    parts: dict[str, np.ndarray] = {}
    for name, (split, kind) in RAW_FILES.items():
        path = raw_dir / name
        if not path.is_file():
            raise InputError(path, "MNIST file not found", "run the download rule or place the file there")
        try:
            tensor = read_image_file(str(path)) if kind == "x" else read_label_file(str(path))
        except Exception as exc:  # torchvision asserts on magic numbers and shapes
            raise InputError(path, f"not a readable MNIST IDX file ({type(exc).__name__}: {exc})") from exc
        parts[f"{split}_{kind}"] = tensor.numpy().astype(np.uint8 if kind == "x" else np.int64)
    for split in ("train", "test"):
        if len(parts[f"{split}_x"]) != len(parts[f"{split}_y"]):
            raise InputError(raw_dir, f"{split} images and labels differ in count")
        if parts[f"{split}_x"].shape[1:] != (28, 28):
            raise InputError(raw_dir, f"{split} images are {parts[f'{split}_x'].shape[1:]}, expected (28, 28)")
    return _with_stats(parts["train_x"], parts["train_y"], parts["test_x"], parts["test_y"])


def load_split(
    path: str | Path, split: str, num_classes: int, limit: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised images ``(N, 1, 28, 28)`` and labels ``(N,)`` of one split, labels < num_classes.

    ``limit`` keeps the first ``limit`` samples after filtering (``None``: all).
    """
    arrays = load_arrays(path, required=ARRAYS)
    x, y = arrays[f"{split}_x"], arrays[f"{split}_y"]
    keep = y < num_classes
    x, y = x[keep], y[keep]
    if limit is not None:
        x, y = x[:limit], y[:limit]
    images = (torch.from_numpy(x.astype(np.float32) / 255.0) - float(arrays["mean"])) / float(arrays["std"])
    return images.unsqueeze(1), torch.from_numpy(y.astype(np.int64))
