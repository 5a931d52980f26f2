import copy
from pathlib import Path

import pytest
import yaml

from xairepro.common.config import validate_config
from xairepro.common.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "rules" / "config.schema.yaml"


@pytest.fixture
def config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def test_shipped_config_is_valid(config):
    validate_config(config, SCHEMA)
    assert config["scale"] == "demo"


def test_every_schema_property_has_description_and_default():
    schema = yaml.safe_load(SCHEMA.read_text())
    missing = []

    def walk(node, where):
        for key, sub in node.get("properties", {}).items():
            if "$ref" not in sub:
                if "description" not in sub:
                    missing.append(f"{where}.{key}: description")
                if "default" not in sub:
                    missing.append(f"{where}.{key}: default")
            walk(sub, f"{where}.{key}")

    walk(schema, "config")
    for name, node in schema["$defs"].items():
        walk(node, f"$defs.{name}")
    assert missing == []


def test_defaults_fill_a_minimal_config():
    config = {"lossgrad": {"mnist": {"paper": {}}}}
    validate_config(config, SCHEMA)
    assert config["scale"] == "demo"
    assert config["lossgrad"]["mnist"]["paper"]["epochs"] == 14
    assert config["lossgrad"]["mnist"]["paper"]["resources"]["gpu"] == 0


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda c: c.update(colour="red"), r"unknown key\(s\) \['colour'\]"),
        (lambda c: c["lossgrad"]["mnist"]["demo"].update(epoch=3), r"unknown key\(s\) \['epoch'\] under 'lossgrad.mnist.demo'"),
        (lambda c: c.update(scale="huge"), r"'scale' = 'huge' is not one of \['demo', 'paper'\]"),
        (lambda c: c["lossgrad"]["mnist"]["demo"].update(epochs="many"), r"'lossgrad.mnist.demo.epochs' = 'many'"),
        (lambda c: c["lossgrad"]["mnist"]["demo"].update(epochs=0), r"'lossgrad.mnist.demo.epochs' = 0"),
        (lambda c: c["lossgrad"]["mnist"]["demo"].update(attribution_method=["saliency"]), "saliency"),
        (lambda c: c["lossgrad"]["mnist"]["demo"]["classifiers"].append(
            {"classifier_type": "sigmoid", "num_classes": 10}), "lossgrad.mnist.demo.classifiers.3.num_classes"),
    ],
    ids=["unknown-top-key", "unknown-nested-key", "bad-scale", "wrong-type", "out-of-range", "bad-method",
         "sigmoid-with-10-classes"],
)
def test_bad_config_stops_with_a_message_naming_the_key(config, edit, message):
    bad = copy.deepcopy(config)
    edit(bad)
    with pytest.raises(ConfigError, match=message):
        validate_config(bad, SCHEMA)


def test_string_values_from_the_command_line_are_coerced(config):
    # snakemake --config 'lossgrad={"mnist": {"demo": {"epochs": 3}}}' passes nested values as strings
    config["lossgrad"]["mnist"]["demo"].update(epochs="3", lr="0.5", ROAR=["1", "0"], occlude=["78"])
    config["lossgrad"]["plot"]["example_seed"] = "null"
    validate_config(config, SCHEMA)
    demo = config["lossgrad"]["mnist"]["demo"]
    assert demo["epochs"] == 3 and demo["lr"] == 0.5 and demo["ROAR"] == [1, 0] and demo["occlude"] == [78]
    assert config["lossgrad"]["plot"]["example_seed"] is None
