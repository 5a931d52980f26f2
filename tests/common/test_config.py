"""Config: every value once (shared keys under a part, differing ones under demo/paper),
resolved into complete scale blocks; a missing value is an error naming it, never filled
from the other scale; bad values stop with the key's name; command-line strings coerced."""

import copy
from pathlib import Path

import pytest
import yaml

from xairepro.common.config import (SCALES, is_seed_key, load_config, load_schema, resolve_scales, shift_seeds,
                                    validate_config)
from xairepro.common.errors import ConfigError
from xairepro.common.registry import read_studies, study_names

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def schema():
    return load_schema(ROOT)


@pytest.fixture
def raw():
    """The config files merged as the Snakefile reads them, before resolution."""
    config = {}
    for study in study_names(ROOT):
        config.update(yaml.safe_load((ROOT / "config" / f"{study}.yaml").read_text()))
    config.update(yaml.safe_load((ROOT / "config.yaml").read_text()))
    return config


@pytest.fixture
def config():
    return load_config(ROOT)


def test_shipped_config_is_valid_and_demo_by_default(config):
    assert config["scale"] == "demo"
    assert set(config) >= set(study_names(ROOT))


def test_every_schema_property_has_a_description(schema):
    missing = []

    def walk(node, where):
        for key, sub in node.get("properties", {}).items():
            if "$ref" not in sub and "description" not in sub:
                missing.append(f"{where}.{key}")
            walk(sub, f"{where}.{key}")

    walk(schema, "config")
    for name, node in schema["$defs"].items():
        walk(node, f"$defs.{name}")
    assert missing == []


def test_study_values_have_no_schema_defaults(schema):
    """Every study value is written once, in config/<study>.yaml: the schema holds none."""
    text = "\n".join((ROOT / "config" / f"{s}.schema.yaml").read_text() for s in study_names(ROOT))
    assert "default:" not in text


def test_no_value_is_written_twice(raw, schema):
    """A key equal at both scales is written once, directly under its part."""
    twice = []
    for study in study_names(ROOT):
        for part, block in raw[study].items():
            if isinstance(block, dict) and "demo" in block and "paper" in block:
                for key in set(block["demo"]) & set(block["paper"]):
                    if block["demo"][key] == block["paper"][key]:
                        twice.append(f"{study}.{part}.{key}")
    assert twice == []


def test_a_shared_key_reaches_both_scales_and_a_scale_key_wins(schema):
    config = {"lossgrad": {"mnist": {"epochs": 7, "arch": {"conv1_channels": 4, "conv2_channels": 4,
                                                           "hidden_units": 4},
                                     "demo": {"epochs": 3, "arch": {"hidden_units": 9}}}}}
    resolve_scales(config, schema)
    mnist = config["lossgrad"]["mnist"]
    assert set(mnist) == set(SCALES)
    assert mnist["demo"]["epochs"] == 3 and mnist["paper"]["epochs"] == 7
    # dicts merge key by key: the demo override changes one width and keeps the others
    assert mnist["demo"]["arch"] == {"conv1_channels": 4, "conv2_channels": 4, "hidden_units": 9}
    assert mnist["paper"]["arch"]["hidden_units"] == 4
    resolve_scales(config, schema)  # idempotent
    assert mnist["demo"]["epochs"] == 3


def test_a_missing_value_is_an_error_never_the_other_scales_value(raw, schema):
    """`epochs` differs between the scales (under demo: and paper:); without the demo one the
    demo does not fall back to paper's 14 epochs but stops, naming the key."""
    assert "epochs" in raw["lossgrad"]["mnist"]["demo"] and "epochs" in raw["lossgrad"]["mnist"]["paper"]
    del raw["lossgrad"]["mnist"]["demo"]["epochs"]
    with pytest.raises(ConfigError, match=r"'lossgrad.mnist.demo' has no value for 'epochs'"):
        validate_config(raw, schema)


@pytest.mark.parametrize("study", ["pianist", "esc50", "labelfree"])
def test_an_empty_study_section_is_an_error_naming_a_key(raw, schema, study):
    """`<study>: {}` as the whole section (a config file that replaces the study's file) is not
    filled from any defaults: it stops with the first missing key of its first part."""
    raw[study] = {part: {} for part, node in schema["properties"][study]["properties"].items()
                  if "$ref" in node or node.get("type") == "object"}  # scalar knobs (`weights`) left out
    with pytest.raises(ConfigError, match=rf"'{study}(\.\w+(\.(demo|paper))?)?' has no value for"):
        validate_config(raw, schema)


def test_an_empty_override_changes_nothing(config):
    """`pianist: {}` in config.yaml or --config merges over the study's file: no change."""
    assert load_config(ROOT, {"pianist": {}, "esc50": {"classify": {}}}) == config


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda c: c.update(colour="red"), r"unknown key\(s\) \['colour'\]"),
        (lambda c: c["lossgrad"]["mnist"]["demo"].update(epoch=3), r"unknown key\(s\) \['epoch'\] under 'lossgrad.mnist.demo'"),
        (lambda c: c["lossgrad"]["mnist"].update(epoch=3), r"unknown key\(s\) \['epoch'\] under 'lossgrad.mnist'"),
        (lambda c: c.update(scale="huge"), r"'scale' = 'huge' is not one of \['demo', 'paper'\]"),
        (lambda c: c["lossgrad"]["mnist"]["demo"].update(epochs="many"), r"'lossgrad.mnist.demo.epochs' = 'many'"),
        (lambda c: c["lossgrad"]["mnist"]["demo"].update(epochs=0), r"'lossgrad.mnist.demo.epochs' = 0"),
        (lambda c: c["lossgrad"]["mnist"].update(attribution_method=["saliency"]), "saliency"),
        (lambda c: c["lossgrad"]["mnist"].update(classifiers=[{"classifier_type": "sigmoid", "num_classes": 10}]),
         r"lossgrad.mnist.(demo|paper).classifiers.0.num_classes"),
    ],
    ids=["unknown-top-key", "unknown-scale-key", "unknown-shared-key", "bad-scale", "wrong-type", "out-of-range",
         "bad-method", "sigmoid-with-10-classes"],
)
def test_bad_config_stops_with_a_message_naming_the_key(raw, schema, edit, message):
    bad = copy.deepcopy(raw)
    edit(bad)
    with pytest.raises(ConfigError, match=message):
        validate_config(bad, schema)


def test_string_values_from_the_command_line_are_coerced(raw, schema):
    # snakemake --config 'lossgrad={"mnist": {"demo": {"epochs": 3}}}' passes nested values as strings
    raw["lossgrad"]["mnist"]["demo"].update(epochs="3", lr="0.5", ROAR=["1", "0"], occlude=["78"])
    raw["lossgrad"]["plot"]["example_seed"] = "null"
    validate_config(raw, schema)
    demo = raw["lossgrad"]["mnist"]["demo"]
    assert demo["epochs"] == 3 and demo["lr"] == 0.5 and demo["ROAR"] == [1, 0] and demo["occlude"] == [78]
    assert raw["lossgrad"]["plot"]["example_seed"] is None


@pytest.mark.parametrize("text,value", [("false", False), ("False", False), ("true", True), ("TRUE", True)])
def test_a_boolean_from_the_command_line_keeps_its_truth(raw, schema, text, value):
    # bool("false") is True: a string must be read, not cast
    raw["esc50"]["classify"]["test_only"] = text
    validate_config(raw, schema)
    classify = raw["esc50"]["classify"]
    assert classify["demo"]["test_only"] is value and classify["paper"]["test_only"] is value


def test_a_string_that_is_no_boolean_stops_naming_the_key(raw, schema):
    raw["esc50"]["classify"]["test_only"] = "no"
    with pytest.raises(ConfigError, match=r"esc50.classify.(demo|paper).test_only"):
        validate_config(raw, schema)


def test_the_registry_lists_every_study_with_its_files():
    studies = read_studies(ROOT)
    assert [s.name for s in studies] == ["lossgrad", "labelfree", "pianist", "esc50", "interactive"]
    for study in studies:
        for path in (f"rules/{study.name}.smk", f"config/{study.name}.yaml", f"config/{study.name}.schema.yaml",
                     f"envs/{study.name}.yaml", f"scripts/{study.name}", f"xairepro/{study.name}"):
            assert (ROOT / path).exists(), path


@pytest.mark.parametrize(
    "text,message",
    [
        ("studies: []", "non-empty list"),
        ("studies:\n  - {name: Bad-Name, title: x}", "not a lowercase identifier"),
        ("studies:\n  - {name: a, title: x}\n  - {name: a, title: y}", "registered twice"),
        ("studies:\n  - {name: a}", "exactly the keys name and title"),
    ],
    ids=["empty", "bad-name", "twice", "no-title"],
)
def test_a_bad_registry_stops_naming_the_file(tmp_path, text, message):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "studies.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message) as err:
        read_studies(tmp_path)
    assert "studies.yaml" in str(err.value)


JSON_SCHEMA_KEYWORDS = {
    "$ref", "$schema", "$defs", "description", "type", "enum", "const", "default", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern", "items",
    "prefixItems", "minItems", "maxItems", "uniqueItems", "contains", "properties", "additionalProperties",
    "required", "propertyNames", "minProperties", "maxProperties", "oneOf", "anyOf", "allOf", "not", "if",
    "then", "else",
}


def test_schema_has_no_stray_keywords(schema):
    """An unquoted comma inside a flow-style `{description: a, b, type: ...}` cuts the
    description short and leaves `b` as a stray key that the validator ignores."""
    stray = []

    def walk(node, where):
        if isinstance(node, dict):
            if "description" in node or "type" in node or "$ref" in node:
                stray.extend(f"{where}: {key!r}" for key in node if key not in JSON_SCHEMA_KEYWORDS)
            for key, sub in node.items():
                walk(sub, f"{where}.{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{where}[{i}]")

    walk(schema, "schema")
    assert stray == []


def seed_knobs(node, path=""):
    """(dotted path, value) of every seed knob under ``node``."""
    if not isinstance(node, dict):
        return []
    found = []
    for key, value in node.items():
        if is_seed_key(key):
            found.append((f"{path}{key}", value))
        else:
            found += seed_knobs(value, f"{path}{key}.")
    return found


def test_a_seed_offset_moves_every_seed_knob_of_every_study_together():
    base, moved = load_config(), load_config(overrides={"seed_offset": 3})
    before, after = dict(seed_knobs(base)), dict(seed_knobs(moved))
    assert before.keys() == after.keys()
    studies = {path.split(".")[0] for path in before if ".demo." in path}
    assert studies == set(study_names()), "every study has a seed knob at demo scale"
    for path, value in before.items():
        if value is None:
            assert after[path] is None, path
        elif isinstance(value, list):
            assert after[path] == [v + 3 for v in value], path
        else:
            assert after[path] == value + 3, path
    everything_else = {k: v for k, v in moved.items() if k != "seed_offset"}
    assert seed_knobs(everything_else) and moved["seed_offset"] == 3
    # nothing but seeds moved: undo the shift and compare whole configs
    for study in study_names():
        assert _unshift(moved[study], 3) == base[study], study


def _unshift(node, offset):
    """``node`` with ``offset`` taken off every seed knob again."""
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if is_seed_key(key) and isinstance(value, list):
            out[key] = [v - offset for v in value]
        elif is_seed_key(key) and isinstance(value, int):
            out[key] = value - offset
        else:
            out[key] = _unshift(value, offset)
    return out


def test_shift_seeds_leaves_a_zero_offset_and_unset_seeds_alone():
    config = {"seed_offset": 0, "toy": {"data": {"demo": {"seed": 1, "split_seed": None, "n": 5}}}}
    shift_seeds(config)
    assert config["toy"]["data"]["demo"] == {"seed": 1, "split_seed": None, "n": 5}
    config["seed_offset"] = 2
    shift_seeds(config)
    assert config["toy"]["data"]["demo"] == {"seed": 3, "split_seed": None, "n": 5}
