"""The registry of studies (``config/studies.yaml``): which studies the workflow has.

The Snakefile includes ``rules/<name>.smk`` and loads ``config/<name>.yaml`` for each entry;
the default target, the benchmarks and the tests iterate the same list. Plain YAML, no
Snakemake: the library never imports the workflow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from xairepro.common.errors import ConfigError

#: libyaml's parser where PyYAML was built with it (the pinned wheel is): the same documents
#: as yaml.SafeLoader, parsed in C (with the lazy scipy.stats import, a demo `snakemake -n`
#: went from 6.4 to 4.6 s of CPU on a slow machine; docs/testing.md#time).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str):
    """``yaml.safe_load`` through libyaml when available."""
    return yaml.load(text, Loader=_SafeLoader)

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = Path("config") / "studies.yaml"
_NAME = re.compile(r"[a-z][a-z0-9]*")


@dataclass(frozen=True)
class Study:
    """One registered study: its name (a lowercase identifier, the prefix of its rules) and
    a one-line title."""

    name: str
    title: str


def read_studies(root: str | Path = ROOT) -> list[Study]:
    """The studies of ``<root>/config/studies.yaml``, in registry order.

    Raises
    ------
    ConfigError
        Naming the file and the entry when an entry lacks a name or title, a name is not a
        lowercase identifier (rule names start with it) or appears twice.
    """
    path = Path(root) / REGISTRY
    try:
        entries = (safe_load(path.read_text()) or {}).get("studies")
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: cannot read the study registry ({err})") from err
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: 'studies' must be a non-empty list of {{name, title}} entries")
    studies: list[Study] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) != {"name", "title"}:
            raise ConfigError(f"{path}: studies[{i}] must have exactly the keys name and title, got {entry!r}")
        name = str(entry["name"])
        if not _NAME.fullmatch(name):
            raise ConfigError(f"{path}: studies[{i}].name {name!r} is not a lowercase identifier")
        if name in {s.name for s in studies}:
            raise ConfigError(f"{path}: study {name!r} is registered twice")
        studies.append(Study(name, str(entry["title"])))
    return studies


def study_names(root: str | Path = ROOT) -> list[str]:
    """The names of :func:`read_studies`, in registry order."""
    return [study.name for study in read_studies(root)]
