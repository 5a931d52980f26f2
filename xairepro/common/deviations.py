"""Each study's departures from its original code: one table, three views.

The one source is ``docs/deviations/<study>.csv``, a row per departure::

    deviation       a short unique name
    original        what the original does
    source          where, in the original's repository: ``path:line`` or ``path:line-line``,
                    several joined by ``"; "`` (the study's page names the repository
                    and the commit read)
    ours            what we do, and at which scale
    why             why we depart
    knob            the config key (dotted below the study, without the demo/paper level) that
                    restores the original; ``scale=paper`` for a departure of the demo only;
                    ``none`` when nothing restores it (``why`` says why); ``faithful`` for a
                    point that reads like a departure but is the original's behaviour (kept
                    so that nobody "fixes" it)
    original_value  the YAML value of ``knob`` that restores the original (empty for the
                    three knob-less kinds)

:func:`resolve` adds, for one scale of a loaded config, the knob's current value and whether
the departure is in effect there: the rule ``claims_deviations`` writes that as
``results/<scale>/<study>/deviations.csv`` for the report, and :func:`markdown` renders the
table of the study's page (``scripts/docs/deviations.py --write``; a test keeps the two
equal). A row whose paper default is the original's reads "no" at paper scale.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from xairepro.common.config import SCALES
from xairepro.common.errors import InputError

COLUMNS = ("deviation", "original", "source", "ours", "why", "knob", "original_value")
KNOBLESS = ("none", "scale=paper", "faithful")
BEGIN = "<!-- deviations: generated from docs/deviations/{study}.csv by scripts/docs/deviations.py -->"
END = "<!-- deviations: end -->"

_SOURCE = re.compile(r"^[\w.\-/+]+\.\w+:\d+(-\d+)?(,\s?\d+(-\d+)?)*$")
_KNOB = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_0-9]\w*)*$")


def table_path(root: str | Path, study: str) -> Path:
    return Path(root) / "docs" / "deviations" / f"{study}.csv"


def read_table(path: str | Path) -> list[dict[str, str]]:
    """The rows of a deviations CSV, checked: the columns, a source of ``path:line`` form in
    every row, a knob of a known kind, and an original value exactly where a key needs one."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = tuple(reader.fieldnames or ())
            rows = [dict(row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(path, f"cannot read the deviations table: {error}") from None
    if header != COLUMNS:
        raise InputError(path, f"columns {list(header)}, expected {list(COLUMNS)}")
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        where = f"line {number} ({row.get('deviation') or 'no name'!r})"
        if None in row or any(value is None for value in row.values()):
            raise InputError(path, f"{where}: expected {len(COLUMNS)} fields")
        row.update({key: value.strip() for key, value in row.items()})
        for key in ("deviation", "original", "source", "ours", "why", "knob"):
            if not row[key]:
                raise InputError(path, f"{where}: empty '{key}'")
        if row["deviation"] in seen:
            raise InputError(path, f"{where}: the name is used twice")
        seen.add(row["deviation"])
        bad = [part for part in row["source"].split(";") if not _SOURCE.match(part.strip())]
        if bad:
            raise InputError(path, f"{where}: source {bad[0].strip()!r} is not 'path:line' in the original")
        knob = row["knob"]
        if knob in KNOBLESS:
            if row["original_value"]:
                raise InputError(path, f"{where}: knob '{knob}' takes no original_value")
        elif not _KNOB.match(knob):
            raise InputError(path, f"{where}: knob {knob!r} is neither a dotted config key nor one of {KNOBLESS}")
        elif not row["original_value"]:
            raise InputError(path, f"{where}: knob '{knob}' needs the original_value that restores the original")
        else:
            try:
                yaml.safe_load(row["original_value"])
            except yaml.YAMLError as error:
                raise InputError(path, f"{where}: original_value is not YAML ({error})") from None
    return rows


def knob_value(config: Mapping[str, Any], study: str, knob: str, scale: str) -> Any:
    """The value of ``<study>.<knob>`` at ``scale``: a level holding one block per scale is
    read at ``scale`` (the config after ``resolve_scales``, or the raw files' shared keys
    beside their demo/paper blocks)."""
    node: Any = config[study]
    walked = study
    for key in knob.split("."):
        if isinstance(node, Mapping) and scale in node and set(node) & set(SCALES) == set(SCALES):
            scoped = node[scale] or {}
            node = scoped if key in scoped or key not in node else node
        if not isinstance(node, Mapping) or key not in node:
            raise KeyError(f"config has no key '{walked}.{key}' (knob '{knob}' of the {study} deviations)")
        node = node[key]
        walked += f".{key}"
    return node


def same(left: Any, right: Any) -> bool:
    """YAML values equal, numbers within a relative 1e-9 (``1e-4`` is ``0.0001``)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=0.0)
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right))
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return set(left) == set(right) and all(same(left[k], right[k]) for k in left)
    return left == right


def _dump(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=1_000_000).strip().removesuffix("...").strip()


def resolve(rows: list[dict[str, str]], config: Mapping[str, Any], study: str, scale: str) -> list[dict[str, str]]:
    """The rows with ``value`` (the knob's value at ``scale``) and ``in_effect`` (yes / no):
    a keyed departure is in effect when its value differs from the original's, a demo-only one
    at demo scale, a knob-less one always, a faithful point never."""
    out = []
    for row in rows:
        knob = row["knob"]
        if knob == "none":
            value, effect = "", True
        elif knob == "faithful":
            value, effect = "", False
        elif knob == "scale=paper":
            value, effect = scale, scale != "paper"
        else:
            current = knob_value(config, study, knob, scale)
            value, effect = _dump(current), not same(current, yaml.safe_load(row["original_value"]))
        out.append({**row, "value": value, "in_effect": "yes" if effect else "no"})
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(rows: list[dict[str, str]]) -> str:
    """The study page's table: name, the original with its source, what we do and why, and the
    knob (with the value that restores the original)."""
    lines = [
        "| deviation | the original (file:line) | what we do, and why | knob that restores the original |",
        "|---|---|---|---|",
    ]
    for row in rows:
        sources = "; ".join(f"`{part.strip()}`" for part in row["source"].split(";"))
        if row["knob"] == "none":
            knob = "none"
        elif row["knob"] == "faithful":
            knob = "none needed (faithful)"
        elif row["knob"] == "scale=paper":
            knob = "`scale=paper` (demo only)"
        else:
            knob = f"`{row['knob']}: {row['original_value']}`"
        original = row["original"].rstrip().removesuffix(".")
        lines.append(
            f"| **{_cell(row['deviation'])}** | {_cell(original)} ({sources}). "
            f"| {_cell(row['ours'])} {_cell(row['why'])} | {_cell(knob)} |"
        )
    return "\n".join(lines) + "\n"


def replace_block(page: str, study: str, table: str) -> str:
    """``page`` with the text between the study's begin and end markers replaced by ``table``."""
    begin, end = BEGIN.format(study=study), END
    start, stop = page.find(begin), page.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"docs/{study}.md has no '{begin}' ... '{end}' block")
    return page[: start + len(begin)] + "\n" + table + page[stop:]
