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
    _fill_defaults(config, schema, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        error = jsonschema.exceptions.best_match(errors) if len(errors) > 1 else errors[0]
        raise ConfigError(f"{source}: {_describe(error)} (see {schema_path} for every key)")
