"""Tests written to kill the surviving mutants of xairepro.common.config (issue 24).

A toy checkout (one registered study, a global schema with defaults and ``$ref``s) makes
every step observable on its own: how study schemas are joined, which schema
``validate_config`` loads, which defaults are filled (deep copies, nested, through
``$ref``), which strings are coerced, which seed knobs move, and the exact message of each
kind of error.
"""

import copy

import pytest
import yaml

from xairepro.common.config import (_coerce, _coerce_scalar, _fill_defaults, _resolve, is_seed_key, load_config,
                                    load_schema, merge, resolve_scales, shift_seeds, validate_config)
from xairepro.common.errors import ConfigError

GLOBAL = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "$defs": {"level": {"type": "string", "enum": ["INFO", "DEBUG"], "default": "INFO"}},
    "properties": {
        "scale": {"type": "string", "enum": ["demo", "paper"], "default": "demo"},
        "seed_offset": {"type": "integer", "minimum": 0, "default": 0},
        "log_level": {"$ref": "#/$defs/level"},
        "report": {"type": "object", "additionalProperties": False, "default": {},
                   "properties": {"title": {"type": "string", "default": "xai"},
                                  "tags": {"type": "array", "items": {"type": "string"}, "default": ["a", "b"]}}},
    },
}

TOY = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "$defs": {"toy_block": {"type": "object", "additionalProperties": False, "required": ["epochs"],
                            "properties": {"epochs": {"type": "integer", "minimum": 1},
                                           "seed": {"type": ["integer", "null"]},
                                           "sizes": {"type": "array", "items": {"$ref": "#/$defs/toy_size"}}}},
              "toy_size": {"type": "integer"}},
    "properties": {"train": {"type": "object", "additionalProperties": False,
                             "properties": {"demo": {"$ref": "#/$defs/toy_block"},
                                            "paper": {"$ref": "#/$defs/toy_block"}}}},
}


def write_root(root, toy_schema=TOY, toy_config=None, config=None):
    (root / "config").mkdir(parents=True, exist_ok=True)
    (root / "config" / "studies.yaml").write_text(yaml.safe_dump({"studies": [{"name": "toy", "title": "A toy"}]}))
    (root / "config" / "config.schema.yaml").write_text(yaml.safe_dump(GLOBAL))
    if toy_schema is not None:
        (root / "config" / "toy.schema.yaml").write_text(yaml.safe_dump(toy_schema))
    toy_config = toy_config if toy_config is not None else {"toy": {"train": {"epochs": 2, "seed": 5,
                                                                              "paper": {"epochs": 9}}}}
    (root / "config" / "toy.yaml").write_text(yaml.safe_dump(toy_config))
    (root / "config.yaml").write_text(yaml.safe_dump(config or {"scale": "demo"}))
    return root


@pytest.fixture
def root(tmp_path):
    return write_root(tmp_path)


# --------------------------------------------------------------------------- load_schema
def test_a_study_schema_is_joined_without_its_own_schema_key_and_with_its_defs(root):
    schema = load_schema(root)
    toy = schema["properties"]["toy"]
    assert "$schema" not in toy and "$defs" not in toy
    assert toy["properties"] == TOY["properties"]
    assert schema["$defs"] == {**GLOBAL["$defs"], **TOY["$defs"]}
    assert schema["$schema"] == GLOBAL["$schema"]


def test_a_study_schema_needs_neither_schema_key_nor_defs(tmp_path):
    bare = {"type": "object", "properties": {"n": {"type": "integer"}}}
    root = write_root(tmp_path, toy_schema=bare, toy_config={"toy": {"n": 1}})
    schema = load_schema(root)
    assert schema["properties"]["toy"] == bare and schema["$defs"] == GLOBAL["$defs"]


def test_an_unreadable_study_schema_names_the_file_and_the_study(tmp_path):
    root = write_root(tmp_path, toy_schema=None)
    path = root / "config" / "toy.schema.yaml"
    with pytest.raises(ConfigError) as info:
        load_schema(root)
    message = str(info.value)
    assert message.startswith(f"{path}: the schema of registered study 'toy' cannot be read (")
    assert "No such file" in message


# --------------------------------------------------------------------------- merge
def test_merge_copies_what_it_takes_from_the_update():
    update = {"a": {"b": [1, 2]}, "c": [{"d": 1}]}
    base = merge({"x": 0}, update)
    base["a"]["b"].append(3)
    base["c"][0]["d"] = 99
    assert update == {"a": {"b": [1, 2]}, "c": [{"d": 1}]}
    assert base == {"x": 0, "a": {"b": [1, 2, 3]}, "c": [{"d": 99}]}


# --------------------------------------------------------------------------- load_config
def test_load_config_validates_against_the_given_checkouts_schema(root):
    config = load_config(root)
    assert config == {"scale": "demo", "seed_offset": 0, "log_level": "INFO",
                      "report": {"title": "xai", "tags": ["a", "b"]},
                      "toy": {"train": {"demo": {"epochs": 2, "seed": 5}, "paper": {"epochs": 9, "seed": 5}}}}


def test_load_config_applies_overrides_and_the_seed_offset(root):
    config = load_config(root, {"seed_offset": 3, "toy": {"train": {"demo": {"epochs": "4"}}}})
    assert config["toy"]["train"] == {"demo": {"epochs": 4, "seed": 8}, "paper": {"epochs": 9, "seed": 8}}


# --------------------------------------------------------------------------- seeds
@pytest.mark.parametrize("key,expected", [("seed", True), ("seeds", True), ("split_seed", True), ("SEED", False),
                                          ("seedling", False), ("seed_offset", False), ("n_seeds", False)])
def test_seed_keys(key, expected):
    assert is_seed_key(key) is expected


def test_no_seed_offset_moves_nothing():
    config = {"toy": {"seed": 1, "seeds": [1, 2]}}
    shift_seeds(config)
    assert config == {"toy": {"seed": 1, "seeds": [1, 2]}}


def test_only_integer_seeds_in_lists_move_and_lists_of_sections_are_walked():
    config = {"seed_offset": 2,
              "toy": {"seeds": [1, None, True, "x"], "runs": [{"seed": 0, "n": 1}, {"inner": {"data_seed": 4}}],
                      "flag_seed": False, "seed": None}}
    shift_seeds(config)
    assert config["toy"] == {"seeds": [3, None, True, "x"], "runs": [{"seed": 2, "n": 1}, {"inner": {"data_seed": 6}}],
                             "flag_seed": False, "seed": None}
    assert config["seed_offset"] == 2


# --------------------------------------------------------------------------- $refs and defaults
def test_only_local_refs_are_resolved():
    with pytest.raises(ValueError) as info:
        _resolve("https://example.org/schema#/x", {})
    assert str(info.value) == "only local $refs are supported, got 'https://example.org/schema#/x'"
    assert _resolve("#/$defs/a", {"$defs": {"a": {"type": "integer"}}}) == {"type": "integer"}


def test_defaults_are_filled_through_refs_nested_and_as_copies():
    schema = copy.deepcopy(GLOBAL)
    config = {"report": {"title": "mine"}}
    _fill_defaults(config, schema, schema)
    assert config == {"scale": "demo", "seed_offset": 0, "log_level": "INFO",
                      "report": {"title": "mine", "tags": ["a", "b"]}}
    config["report"]["tags"].append("c")
    assert schema["properties"]["report"]["properties"]["tags"]["default"] == ["a", "b"]
    empty = {}
    _fill_defaults(empty, schema, schema)
    assert empty["report"] == {"title": "xai", "tags": ["a", "b"]}  # a filled default is filled in turn
    assert empty["report"] is not schema["properties"]["report"]["default"]


def test_a_nested_default_is_copied_all_the_way_down():
    schema = {"properties": {"opts": {"default": {"xs": [1]}}}}
    first, second = {}, {}
    _fill_defaults(first, schema, schema)
    first["opts"]["xs"].append(2)
    _fill_defaults(second, schema, schema)
    assert second == {"opts": {"xs": [1]}} and schema["properties"]["opts"]["default"] == {"xs": [1]}


def test_defaults_start_from_a_ref_and_skip_non_mappings():
    root = {"$defs": {"top": {"properties": {"n": {"default": 3}}}}}
    config = {}
    _fill_defaults(config, {"$ref": "#/$defs/top"}, root)
    assert config == {"n": 3}
    items = [1, 2]
    _fill_defaults(items, {"$ref": "#/$defs/top"}, root)
    assert items == [1, 2]


# --------------------------------------------------------------------------- coercion
@pytest.mark.parametrize("text", ["null", "None", "NONE", "~"])
def test_null_spellings_are_coerced_where_null_is_allowed(text):
    assert _coerce_scalar(text, {"type": ["integer", "null"]}) is None


@pytest.mark.parametrize("text,schema,expected", [
    ("7", {"type": "integer"}, 7), ("0.5", {"type": "number"}, 0.5), ("7", {"type": ["number"]}, 7.0),
    ("False", {"type": "boolean"}, False), ("none", {"type": "string"}, "none"), ("x", {"type": "integer"}, "x"),
    ("~", {"type": "string"}, "~")])
def test_scalar_coercion(text, schema, expected):
    got = _coerce_scalar(text, schema)
    assert got == expected and type(got) is type(expected)


def test_array_items_are_coerced_through_refs():
    root = {"$defs": {"n": {"type": "integer"}}}
    assert _coerce(["1", "2", "x"], {"type": "array", "items": {"$ref": "#/$defs/n"}}, root) == [1, 2, "x"]


# --------------------------------------------------------------------------- validate_config
def test_validate_config_loads_the_schema_of_a_given_root(root):
    config = {"toy": {"train": {"epochs": "2", "sizes": ["3"]}}}
    validate_config(config, root)
    assert config["toy"]["train"] == {"demo": {"epochs": 2, "sizes": [3]}, "paper": {"epochs": 2, "sizes": [3]}}
    assert config["scale"] == "demo" and config["report"] == {"title": "xai", "tags": ["a", "b"]}


def test_validate_config_without_a_schema_uses_this_checkout(root):
    config = load_config()
    validate_config(config)  # the shipped config against the shipped schema
    toy = {"toy": {"train": {"epochs": 2}}}
    with pytest.raises(ConfigError, match=r"^config: unknown key\(s\) \['toy'\] under '<top level>'"):
        validate_config(toy)


def test_errors_name_the_source_and_the_top_level(root):
    schema = load_schema(root)
    with pytest.raises(ConfigError) as info:
        validate_config({"colour": "red"}, schema)
    assert str(info.value) == ("config: unknown key(s) ['colour'] under '<top level>'; allowed keys: "
                               "['log_level', 'report', 'scale', 'seed_offset', 'toy'] "
                               "(see config/*.schema.yaml for every key)")
    with pytest.raises(ConfigError, match=r"^--config: 'scale' = 'huge' is not one of \['demo', 'paper'\]"):
        validate_config({"scale": "huge"}, schema, source="--config")


def test_an_object_without_properties_allows_no_keys():
    schema = {"type": "object", "properties": {"extra": {"type": "object", "additionalProperties": False}}}
    with pytest.raises(ConfigError) as info:
        validate_config({"extra": {"x": 1}}, schema)
    assert str(info.value) == ("config: unknown key(s) ['x'] under 'extra'; allowed keys: [] "
                               "(see config/*.schema.yaml for every key)")


ANY_OF = {"type": "object", "properties": {
    "a": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
    "b": {"type": "integer"}}}


def test_a_single_error_is_reported_as_found():
    with pytest.raises(ConfigError) as info:
        validate_config({"a": "x"}, copy.deepcopy(ANY_OF))
    assert str(info.value) == ("config: 'a' = 'x': 'x' is not valid under any of the given schemas "
                               "(see config/*.schema.yaml for every key)")
    # jsonschema's best_match would descend into the branch whose type matches ("too short")
    schema = {"type": "object", "properties": {"a": {"anyOf": [{"type": "integer"},
                                                               {"type": "string", "minLength": 5}]}}}
    with pytest.raises(ConfigError) as info:
        validate_config({"a": "x"}, schema)
    assert str(info.value) == ("config: 'a' = 'x': 'x' is not valid under any of the given schemas "
                               "(see config/*.schema.yaml for every key)")


def test_of_several_errors_the_most_relevant_is_reported():
    with pytest.raises(ConfigError) as info:
        validate_config({"a": "x", "b": "y"}, copy.deepcopy(ANY_OF))
    assert str(info.value) == ("config: 'b' = 'y': 'y' is not of type 'integer' "
                               "(see config/*.schema.yaml for every key)")


# --------------------------------------------------------------------------- resolve_scales
def test_resolve_scales_refuses_a_part_or_scale_that_is_no_mapping(root):
    schema = load_schema(root)
    with pytest.raises(ConfigError) as info:
        resolve_scales({"toy": {"train": 3}}, schema)
    assert str(info.value) == "config: 'toy.train' = 3 must be a mapping of settings"
    with pytest.raises(ConfigError) as info:
        resolve_scales({"toy": {"train": {"epochs": 1, "paper": [1]}}}, schema)
    assert str(info.value) == "config: 'toy.train.paper' = [1] must be a mapping of settings"


def test_resolve_scales_refuses_an_unknown_shared_key(root):
    with pytest.raises(ConfigError) as info:
        resolve_scales({"toy": {"train": {"epoch": 1}}}, load_schema(root))
    assert str(info.value) == ("config: unknown key(s) ['epoch'] under 'toy.train'; allowed keys: "
                               "['demo', 'epochs', 'paper', 'seed', 'sizes'] (see config/toy.schema.yaml)")


def test_resolve_scales_copies_shared_values_into_each_scale(root):
    config = {"toy": {"train": {"sizes": [1], "demo": None, "paper": {"epochs": 5}}}}
    resolve_scales(config, load_schema(root))
    train = config["toy"]["train"]
    assert train == {"demo": {"sizes": [1]}, "paper": {"sizes": [1], "epochs": 5}}
    train["demo"]["sizes"].append(2)
    assert train["paper"]["sizes"] == [1]
    resolve_scales({}, load_schema(root))  # a study without the part is left alone


def test_resolve_scales_follows_refs_and_resolves_every_part():
    block = {"type": "object", "properties": {"n": {"type": "integer"}}}
    schema = {"$defs": {"study": {"type": "object", "properties": {"first": {"$ref": "#/$defs/part"},
                                                                   "second": {"$ref": "#/$defs/part"}}},
                        "part": {"type": "object", "properties": {"demo": {"$ref": "#/$defs/block"},
                                                                  "paper": {"$ref": "#/$defs/block"}}},
                        "block": block},
              "properties": {"toy": {"$ref": "#/$defs/study"}}}
    config = {"toy": {"second": {"n": 1, "paper": {"n": 2}}}}  # the first part is absent
    resolve_scales(config, schema)
    assert config == {"toy": {"second": {"demo": {"n": 1}, "paper": {"n": 2}}}}
    with pytest.raises(ConfigError) as info:
        resolve_scales({"toy": {"first": {"m": 1}}}, schema)
    assert str(info.value) == ("config: unknown key(s) ['m'] under 'toy.first'; allowed keys: "
                               "['demo', 'n', 'paper'] (see config/toy.schema.yaml)")
