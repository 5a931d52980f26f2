"""A provenance stamp for every table: code version, parameters, seed, package versions.

No timestamps: the same run twice gives the same stamp, so outputs stay comparable byte
for byte.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

DEFAULT_PACKAGES = ("xairepro", "torch", "captum", "numpy", "scikit-learn")


def git_commit(root: str | Path | None = None) -> str:
    """The checkout's commit (``+dirty`` when modified), or ``"unknown"`` outside git.

    ``git status`` runs without optional locks, so it never rewrites ``.git/index`` (a
    running workflow must not touch the user's checkout)."""
    root = Path(root) if root else Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def config_hash(params: Mapping[str, Any]) -> str:
    """A short, order-independent hash of a rule's parameters."""
    blob = json.dumps(params, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def package_versions(packages: Iterable[str] = DEFAULT_PACKAGES) -> str:
    """``name==version`` for each installed package, space separated."""
    pins = []
    for name in packages:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pins.append(f"{name}==absent")
    return " ".join(pins)


def stamp(study: str, params: Mapping[str, Any], seed: int | str | None = None) -> dict[str, str]:
    """The header written above every CSV (see :func:`xairepro.common.io.write_csv`)."""
    record = {
        "study": study,
        "git_commit": git_commit(),
        "config_hash": config_hash(params),
        "params": json.dumps(params, sort_keys=True, default=str),
        "packages": package_versions(),
    }
    if seed is not None:
        record["seed"] = str(seed)
    return record
