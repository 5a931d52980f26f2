"""Strict loading of state dicts from files a user downloads or places (the esc50 and
interactive published-weights loaders, interactive's FairFace and user checkpoints): nothing
is dropped or left at its initial value, and a misfit names the file and the first key that
does not fit. pianist's and labelfree's loaders map our names onto the original's first and
name a misfit by the original's key (their ``published.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from xairepro.common.errors import InputError


def check_state_dict(path: str | Path, state: Mapping[str, torch.Tensor], model: nn.Module,
                     what: str | None = None, fix: str | None = None) -> None:
    """Raise :class:`InputError` naming ``path`` and the first key (in the model's order) that
    is missing from ``state``, else the first unexpected one, else the first whose shape differs;
    ``what`` names the expected checkpoint in the message, ``fix`` says where to get it."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    misshaped = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if missing:
        problem = f"key '{missing[0]}' is missing ({len(missing)} missing in all)"
    elif unexpected:
        problem = f"key '{unexpected[0]}' is unexpected ({len(unexpected)} unexpected in all)"
    elif misshaped:
        k = misshaped[0]
        problem = f"key '{k}' has shape {tuple(state[k].shape)}, expected {tuple(expected[k].shape)}"
    else:
        return
    raise InputError(path, f"not {what or 'a ' + type(model).__name__ + ' state dict'}: {problem}", fix)


def load_strict(path: str | Path, state: Mapping[str, torch.Tensor], model: nn.Module,
                what: str | None = None, fix: str | None = None) -> nn.Module:
    """``model`` with ``state`` loaded after :func:`check_state_dict` (so nothing is dropped)."""
    check_state_dict(path, state, model, what, fix)
    model.load_state_dict(state, strict=True)
    return model
