"""Safe, atomic reading and writing of every artefact the workflow shares.

* No pickle anywhere: arrays go to ``.npz`` (``allow_pickle=False``), model weights and
  checkpoints through :func:`torch.save` and back through ``torch.load(weights_only=True)``,
  tables to CSV, small records to JSON.
* Every writer goes through :func:`atomic_path`: the data are written to a temporary name in
  the target's folder and renamed into place only when complete, so a killed job never
  leaves a half-written file under the real name.
* Every reader turns a corrupt, truncated or foreign file into one :class:`InputError`
  that names the file.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import tokenize
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xairepro.common.errors import InputError


def _default_mode() -> int:
    """File mode a plain ``open(path, "w")`` would give: 0o666 minus the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds.

    ``suffix`` defaults to the target's own suffix, for writers that insist on one
    (``numpy.savez`` appends ``.npz`` otherwise, matplotlib picks the format from it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=suffix if suffix is not None else path.suffix, dir=path.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, _default_mode())  # mkstemp creates 0o600; results are meant to be shared
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


# --------------------------------------------------------------------------- arrays
#: What to do about a damaged array file: it is always one of ours, made by a rule.
NPZ_FIX = "delete it and re-run the rule that makes it; see README, 'Bad inputs'"


def save_arrays(path: str | Path, **arrays: np.ndarray) -> None:
    """Write named arrays to a compressed ``.npz`` file, atomically; object arrays refused."""
    for name, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise TypeError(f"array {name!r} has dtype object, which would need pickle")
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)


def load_arrays(path: str | Path, required: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Read every array of a ``.npz`` file (or a single ``.npy`` array, named ``array``)
    into memory, never unpickling.

    Parameters
    ----------
    path
        The ``.npz`` or ``.npy`` file.
    required
        Names that must be present; a missing one is an :class:`InputError`.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    if path.stat().st_size == 0:
        raise InputError(path, "file is empty", "delete it and re-run the rule that makes it")
    with open(path, "rb") as handle:
        magic = handle.read(6)
    if not (magic.startswith(b"PK") or magic == b"\x93NUMPY"):
        # numpy takes any other file for a pickle and suggests unpickling it: never do that
        raise InputError(path, "is not a .npz or .npy array file (no zip or NumPy header)", NPZ_FIX)
    arrays = {}
    member = None
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.ndarray):
            arrays["array"] = data
        else:
            with data:
                for member in data.files:
                    arrays[member] = data[member]
    except ValueError as exc:
        where = f"array {member!r} " if member else ""
        if "pickle" in str(exc):
            raise InputError(path, f"{where}holds Python objects, which xai-repro never unpickles", NPZ_FIX) from exc
        raise InputError(path, f"{where}is damaged ({exc})", NPZ_FIX) from exc
    except (OSError, EOFError, KeyError, SyntaxError, UnicodeDecodeError, zipfile.BadZipFile, zlib.error,
            tokenize.TokenError) as exc:
        # a damaged member surfaces as zlib's "Error -3", a CRC mismatch or a garbled header
        where = f"array {member!r} " if member else ""
        raise InputError(path, f"{where}is damaged ({type(exc).__name__}: {exc})", NPZ_FIX) from exc
    missing = [name for name in required if name not in arrays]
    if missing:
        raise InputError(path, f"missing arrays {missing}; found {sorted(arrays)}")
    return arrays


# --------------------------------------------------------------------------- torch
def save_torch(path: str | Path, obj: Mapping[str, Any]) -> None:
    """Save a state dict (tensors, numbers, strings, nested dicts/lists) atomically."""
    import torch

    with atomic_path(path) as tmp:
        torch.save(dict(obj), tmp)


def load_torch(path: str | Path, map_location: str = "cpu") -> dict[str, Any]:
    """Load what :func:`save_torch` wrote, with ``weights_only=True`` (no arbitrary code)."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises RuntimeError, UnpicklingError, EOFError, ...
        # torch's own message goes on to suggest weights_only=False: quote only its first line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if type(exc).__name__ == "UnpicklingError" or "weights" in first.lower() or "pickle" in first.lower():
            first = "it holds Python objects beyond tensors and plain values, which are never unpickled"
        raise InputError(
            path, f"not a readable weights file ({type(exc).__name__}: {first})",
            "delete it and re-run the rule that makes it; see README, 'Bad inputs'",
        ) from exc


# --------------------------------------------------------------------------- tables
def write_csv(path: str | Path, frame: pd.DataFrame, provenance: Mapping[str, Any] | None = None) -> None:
    """Write a table, atomically, with its provenance as leading ``# key: value`` lines.

    Read it back with :func:`read_csv` (or ``pandas.read_csv(path, comment="#")``).
    """
    buffer = io.StringIO()
    for key, value in (provenance or {}).items():
        buffer.write(f"# {key}: {value}\n")
    frame.to_csv(buffer, index=False, lineterminator="\n", float_format="%.6g")
    with atomic_path(path) as tmp:
        tmp.write_text(buffer.getvalue())


def read_csv(path: str | Path, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a table written by :func:`write_csv`; check that ``required`` columns exist."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        frame = pd.read_csv(path, comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not a readable CSV table ({exc})") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(path, f"missing columns {missing}")
    return frame


def read_provenance(path: str | Path) -> dict[str, str]:
    """The ``# key: value`` header of a CSV written by :func:`write_csv`."""
    stamp = {}
    with open(path) as handle:
        for line in handle:
            if not line.startswith("# "):
                break
            key, _, value = line[2:].rstrip("\n").partition(": ")
            stamp[key] = value
    return stamp


# --------------------------------------------------------------------------- json
def write_json(path: str | Path, record: Mapping[str, Any]) -> None:
    """Write a small record as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def read_json(path: str | Path) -> dict[str, Any]:
    """Read a JSON record; a malformed file is an :class:`InputError`."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise InputError(path, "file not found") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not valid JSON ({exc})") from exc
