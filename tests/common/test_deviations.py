"""Each study's deviations table (docs/deviations/<study>.csv): its format, the knobs it names
exist at both scales, the report's in-effect column, and the study pages kept equal to it."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

from xairepro.common import deviations
from xairepro.common.config import load_config
from xairepro.common.errors import InputError
from xairepro.common.registry import ROOT, study_names

GOOD = {
    "deviation": "IG steps",
    "original": "Integrated gradients with 5 steps.",
    "source": "explainability/create_harmony_cavs.py:40",
    "ours": "10 steps at demo scale.",
    "why": "the demo's sensitivities need them",
    "knob": "tcav.ig_steps",
    "original_value": "5",
}


def _write(path: Path, rows: list[dict], columns=deviations.COLUMNS) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_good_table_reads(tmp_path):
    rows = deviations.read_table(_write(tmp_path / "t.csv", [GOOD, {
        **GOOD, "deviation": "Demo sizes", "source": "a/b.py:3-4; hparams/x.yaml:5, 9",
        "knob": "scale=paper", "original_value": ""}]))
    assert [row["deviation"] for row in rows] == ["IG steps", "Demo sizes"]


@pytest.mark.parametrize("change, message", [
    ({"source": ""}, "empty 'source'"),
    ({"source": "create_harmony_cavs.py"}, "is not 'path:line'"),
    ({"source": "a.py:3; see the paper"}, "is not 'path:line'"),
    ({"knob": "tcav.ig_steps", "original_value": ""}, "needs the original_value"),
    ({"knob": "none", "original_value": "5"}, "takes no original_value"),
    ({"knob": "tcav ig steps"}, "neither a dotted config key"),
    ({"original_value": "[5"}, "not YAML"),
])
def test_a_bad_row_names_the_file_and_line(tmp_path, change, message):
    path = _write(tmp_path / "t.csv", [GOOD, {**GOOD, "deviation": "second", **change}])
    with pytest.raises(InputError, match=message) as error:
        deviations.read_table(path)
    assert str(path) in str(error.value) and "line 3" in str(error.value)


def test_bad_columns_and_repeated_names_stop(tmp_path):
    with pytest.raises(InputError, match="columns"):
        deviations.read_table(_write(tmp_path / "c.csv", [], columns=deviations.COLUMNS[:-1]))
    with pytest.raises(InputError, match="used twice"):
        deviations.read_table(_write(tmp_path / "d.csv", [GOOD, GOOD]))


CONFIG = {"toy": {
    "tcav": {"batch_size": 10, "demo": {"ig_steps": 10, "splits": ["test"]},
             "paper": {"ig_steps": 5, "splits": ["validation", "test"]}},
    "classify": {"demo": {"conv2d": {"lr": 0.005}}, "paper": {"conv2d": {"lr": 2e-5}}},
}}


def test_a_knob_is_read_at_each_scale_from_raw_or_resolved_config():
    resolved = {"toy": {"tcav": {scale: {"batch_size": 10, **CONFIG["toy"]["tcav"][scale]}
                                 for scale in ("demo", "paper")}}}
    for config in (CONFIG, resolved):
        assert deviations.knob_value(config, "toy", "tcav.ig_steps", "demo") == 10
        assert deviations.knob_value(config, "toy", "tcav.ig_steps", "paper") == 5
        assert deviations.knob_value(config, "toy", "tcav.batch_size", "paper") == 10
    assert deviations.knob_value(CONFIG, "toy", "classify.conv2d.lr", "paper") == 2e-5
    with pytest.raises(KeyError, match="toy.tcav.n_steps"):
        deviations.knob_value(CONFIG, "toy", "tcav.n_steps", "demo")


def test_in_effect_compares_the_value_with_the_originals():
    rows = [
        GOOD,
        {**GOOD, "deviation": "splits", "knob": "tcav.splits", "original_value": "[validation, test]"},
        {**GOOD, "deviation": "lr", "knob": "classify.conv2d.lr", "original_value": "0.00002"},
        {**GOOD, "deviation": "sizes", "knob": "scale=paper", "original_value": ""},
        {**GOOD, "deviation": "kept", "knob": "none", "original_value": ""},
        {**GOOD, "deviation": "as is", "knob": "faithful", "original_value": ""},
    ]
    effect = {scale: {row["deviation"]: row["in_effect"]
                      for row in deviations.resolve(rows, CONFIG, "toy", scale)} for scale in ("demo", "paper")}
    assert effect["demo"] == {"IG steps": "yes", "splits": "yes", "lr": "yes", "sizes": "yes", "kept": "yes",
                              "as is": "no"}
    assert effect["paper"] == {"IG steps": "no", "splits": "no", "lr": "no", "sizes": "no", "kept": "yes",
                               "as is": "no"}
    assert deviations.same(1e-4, 0.0001) and not deviations.same(True, 1) and not deviations.same([1], [1, 2])


def test_the_page_block_is_replaced_between_its_markers():
    begin, end = deviations.BEGIN.format(study="toy"), deviations.END
    page = f"# Toy\n\n## Deviations\n\n{begin}\nold table\n{end}\n\nAfter.\n"
    table = deviations.markdown([GOOD])
    fresh = deviations.replace_block(page, "toy", table)
    assert "old table" not in fresh and fresh.endswith(f"{end}\n\nAfter.\n")
    assert "steps (`explainability/create_harmony_cavs.py:40`)." in fresh and "`tcav.ig_steps: 5`" in fresh
    with pytest.raises(ValueError, match="no"):
        deviations.replace_block("# Toy\n", "toy", table)


# -- the project's own tables ------------------------------------------------------------

TABLES = sorted((ROOT / "docs" / "deviations").glob("*.csv"))


def test_every_study_has_a_deviations_table():
    assert {path.stem for path in TABLES} == set(study_names())


@pytest.mark.parametrize("path", TABLES, ids=lambda path: path.stem)
def test_every_knob_exists_at_both_scales(path):
    config = load_config()
    rows = deviations.read_table(path)
    assert rows, path
    for scale in ("demo", "paper"):
        resolved = deviations.resolve(rows, config, path.stem, scale)
        assert all(row["in_effect"] in ("yes", "no") for row in resolved)


def test_study_pages_show_the_tables():
    spec = importlib.util.spec_from_file_location("deviations_docs", ROOT / "scripts" / "docs" / "deviations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.stale_pages(ROOT, write=False) == [], "run: python scripts/docs/deviations.py --write"
