"""Deterministic seeds and the choice of device."""

from __future__ import annotations

import os
import random

import numpy as np


def seed_everything(seed: int, threads: int | None = None) -> None:
    """Seed Python, NumPy and torch, and make torch pick deterministic CPU kernels.

    Parameters
    ----------
    seed
        The run's seed; the same seed on the same CPU gives the same numbers.
    threads
        Intra-op threads for torch (the rule's ``threads``); ``None`` leaves torch's default.
    """
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if threads is not None:
        torch.set_num_threads(max(1, int(threads)))


def pick_device(prefer: str = "auto") -> str:
    """``"cuda"`` when asked for or available under ``"auto"``, else ``"cpu"``."""
    import torch

    if prefer == "cpu" or os.environ.get("XAIREPRO_DEVICE") == "cpu":
        return "cpu"
    if prefer == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch sees no CUDA device")
    return "cuda" if torch.cuda.is_available() else "cpu"
