"""Validate the workflow configuration against its JSON schema, before any rule runs.

The schema (``rules/config.schema.yaml``) documents every key with a ``description`` and a
``default``; :func:`validate_config` fills the defaults in and turns the first violation into
one :class:`ConfigError` that names the key, the bad value and what is allowed.
"""

from __future__ import annotations

import copy
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from xairepro.common.errors import ConfigError


def _fill_defaults(instance: Any, schema: dict, root: dict) -> None:
    """Insert schema defaults for missing object properties, recursively."""
    if "$ref" in schema:
        schema = _resolve(schema["$ref"], root)
    if not isinstance(instance, MutableMapping):
        return
    for key, sub in schema.get("properties", {}).items():
        if "$ref" in sub:
            sub = _resolve(sub["$ref"], root)
        if key not in instance and "default" in sub:
            instance[key] = copy.deepcopy(sub["default"])
        if key in instance:
            _fill_defaults(instance[key], sub, root)


def _coerce_scalar(value: Any, schema: dict) -> Any:
    """Turn a string into the number/boolean/null the schema expects, when it parses as one.

    ``snakemake --config 'study={"part": {"epochs": 3}}'`` reads nested values with YAML's
    BaseLoader, so they arrive as strings; this makes such overrides work as typed.
    """
    if not isinstance(value, str):
        return value
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if "integer" in types:
        try:
            return int(value)
        except ValueError:
            pass
    if "number" in types:
        try:
            return float(value)
        except ValueError:
            pass
    if "boolean" in types and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    if "null" in types and value.lower() in {"null", "none", "~"}:
        return None
    return value


def _coerce(instance: Any, schema: dict, root: dict) -> Any:
    """Apply :func:`_coerce_scalar` through objects and arrays, following ``$ref``s."""
    if "$ref" in schema:
        schema = _resolve(schema["$ref"], root)
    if isinstance(instance, MutableMapping):
        for key, sub in schema.get("properties", {}).items():
            if key in instance:
                instance[key] = _coerce(instance[key], sub, root)
        return instance
    if isinstance(instance, list) and isinstance(schema.get("items"), dict):
        return [_coerce(item, schema["items"], root) for item in instance]
    return _coerce_scalar(instance, schema)


def _resolve(ref: str, root: dict) -> dict:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, got {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _describe(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "<top level>"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        return f"unknown key(s) {unknown} under '{where}'; allowed keys: {allowed}"
    if error.validator == "enum":
        return f"'{where}' = {error.instance!r} is not one of {error.validator_value}"
    if error.validator == "required":
        return f"'{where}': {error.message}"
    return f"'{where}' = {error.instance!r}: {error.message}"


def validate_config(config: MutableMapping[str, Any], schema_path: str | Path, source: str = "config") -> None:
    """Fill defaults into ``config`` in place and check it against the schema.

    Raises
    ------
    ConfigError
        Naming the offending key path and value, e.g.
        ``config: 'lossgrad.mnist.demo.epochs' = -1: -1 is less than the minimum of 1``.
    """
    schema = yaml.safe_load(Path(schema_path).read_text())
    _coerce(config, schema, schema)
    _fill_defaults(config, schema, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        error = jsonschema.exceptions.best_match(errors) if len(errors) > 1 else errors[0]
        raise ConfigError(f"{source}: {_describe(error)} (see {schema_path} for every key)")
