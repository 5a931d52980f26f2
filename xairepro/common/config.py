"""Load and validate the workflow configuration, before any rule runs.

Where values live:

* ``config/<study>.yaml`` for every study of the registry (``config/studies.yaml``), then
  ``config.yaml`` (global keys and the user's overrides), then ``--configfile`` and
  ``--config``, each merged over the one before (Snakemake's own order).
* A study *part* whose schema has ``demo`` and ``paper`` blocks (``lossgrad.mnist``) may hold
  any key of those blocks directly: such a key is shared by both scales and written once.
  :func:`validate_config` resolves every part into two complete blocks, ``part.demo`` and
  ``part.paper`` (a key under a scale's block wins over the shared one, dicts merge key by
  key), so rules and scripts read one complete block per scale.
* Study schemas (``config/<study>.schema.yaml``) have no defaults: a value missing at a
  scale is an error naming it. One scale never fills in from the other's values.

The schema documents every key with a ``description``; :func:`validate_config` turns the
first violation into one :class:`ConfigError` that names the key, the bad value and what is
allowed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import jsonschema

from xairepro.common.errors import ConfigError
from xairepro.common.registry import ROOT, safe_load, study_names

SCALES = ("demo", "paper")
SCHEMA = Path("config") / "config.schema.yaml"


def load_schema(root: str | Path = ROOT) -> dict:
    """The whole schema: ``config/config.schema.yaml`` with every registered study's
    ``config/<study>.schema.yaml`` under ``properties.<study>`` (its ``$defs`` joined)."""
    root = Path(root)
    schema = safe_load((root / SCHEMA).read_text())
    for study in study_names(root):
        path = root / "config" / f"{study}.schema.yaml"
        try:
            sub = safe_load(path.read_text())
        except OSError as err:
            raise ConfigError(f"{path}: the schema of registered study {study!r} cannot be read ({err})") from err
        sub.pop("$schema", None)
        schema["$defs"].update(sub.pop("$defs", {}))
        schema["properties"][study] = sub
    return schema


def merge(base: MutableMapping[str, Any], update: Mapping[str, Any]) -> MutableMapping[str, Any]:
    """Merge ``update`` into ``base`` in place, dicts key by key (as Snakemake merges configs)."""
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), MutableMapping):
            merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def load_config(root: str | Path = ROOT, overrides: Mapping[str, Any] | None = None) -> dict:
    """The validated config as the Snakefile builds it: every study's file, ``config.yaml``,
    then ``overrides`` (like ``--config``), merged in that order and resolved per scale."""
    root = Path(root)
    config: dict = {}
    for path in [*(root / "config" / f"{s}.yaml" for s in study_names(root)), root / "config.yaml"]:
        merge(config, safe_load(path.read_text()) or {})
    merge(config, overrides or {})
    validate_config(config, load_schema(root))
    shift_seeds(config)
    return config


def is_seed_key(key: str) -> bool:
    """A seed knob: ``seed``, ``seeds`` or a name ending in ``_seed``."""
    return key in {"seed", "seeds"} or key.endswith("_seed")


def shift_seeds(config: MutableMapping[str, Any]) -> None:
    """Add ``config["seed_offset"]`` to every seed knob of every study section, in place; call
    it once, after :func:`validate_config`. ``None`` seeds (not set) stay."""
    offset = config.get("seed_offset", 0)
    if not offset:
        return

    def shift(node: Any) -> None:
        if isinstance(node, MutableMapping):
            for key, value in node.items():
                if is_seed_key(str(key)) and isinstance(value, int) and not isinstance(value, bool):
                    node[key] = value + offset
                elif is_seed_key(str(key)) and isinstance(value, list):
                    node[key] = [v + offset if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
                else:
                    shift(value)
        elif isinstance(node, list):
            for item in node:
                shift(item)

    for section in config.values():
        if isinstance(section, MutableMapping):
            shift(section)


def _resolve(ref: str, root: dict) -> dict:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, got {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _deref(schema: dict, root: dict) -> dict:
    return _resolve(schema["$ref"], root) if "$ref" in schema else schema


def _scale_parts(schema: dict):
    """(study, part) of every part whose schema holds exactly one block per scale."""
    for study, sub in schema["properties"].items():
        for part, node in _deref(sub, schema).get("properties", {}).items():
            if set(_deref(node, schema).get("properties", {})) == set(SCALES):
                yield study, part


def _part_schema(schema: dict, study: str, part: str) -> dict:
    return _deref(_deref(schema["properties"][study], schema)["properties"][part], schema)


def resolve_scales(config: MutableMapping[str, Any], schema: dict) -> None:
    """Turn every part's shared keys + scale blocks into two complete scale blocks, in place.

    Idempotent: a part that holds only complete scale blocks is left as it is.
    """
    for study, part in _scale_parts(schema):
        block = config.get(study, {}).get(part)
        if block is None:
            continue
        if not isinstance(block, MutableMapping):
            raise ConfigError(f"config: '{study}.{part}' = {block!r} must be a mapping of settings")
        shared = {k: v for k, v in block.items() if k not in SCALES}
        allowed = set(_deref(_part_schema(schema, study, part)["properties"]["demo"], schema).get("properties", {}))
        unknown = sorted(set(shared) - allowed)
        if unknown:
            raise ConfigError(f"config: unknown key(s) {unknown} under '{study}.{part}'; allowed keys: "
                              f"{sorted(allowed | set(SCALES))} (see config/{study}.schema.yaml)")
        for scale in SCALES:
            own = block.get(scale) or {}
            if not isinstance(own, Mapping):
                raise ConfigError(f"config: '{study}.{part}.{scale}' = {own!r} must be a mapping of settings")
            block[scale] = merge(copy.deepcopy(shared), own)
        for key in shared:
            del block[key]


def _fill_defaults(instance: Any, schema: dict, root: dict) -> None:
    """Insert schema defaults for missing object properties (global keys only have them)."""
    schema = _deref(schema, root)
    if not isinstance(instance, MutableMapping):
        return
    for key, sub in schema.get("properties", {}).items():
        sub = _deref(sub, root)
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
    schema = _deref(schema, root)
    if isinstance(instance, MutableMapping):
        for key, sub in schema.get("properties", {}).items():
            if key in instance:
                instance[key] = _coerce(instance[key], sub, root)
        return instance
    if isinstance(instance, list) and isinstance(schema.get("items"), dict):
        return [_coerce(item, schema["items"], root) for item in instance]
    return _coerce_scalar(instance, schema)


def _describe(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "<top level>"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        return f"unknown key(s) {unknown} under '{where}'; allowed keys: {allowed}"
    if error.validator == "enum":
        return f"'{where}' = {error.instance!r} is not one of {error.validator_value}"
    if error.validator == "required":
        missing = [key for key in error.validator_value if key not in error.instance]
        return (f"'{where}' has no value for {missing[0]!r} (set it in the study's config/<study>.yaml, "
                f"shared or under this scale; a scale never takes the other's value)")
    return f"'{where}' = {error.instance!r}: {error.message}"


def validate_config(config: MutableMapping[str, Any], schema: dict | str | Path | None = None,
                    source: str = "config") -> None:
    """Resolve scales (:func:`resolve_scales`), coerce strings, fill the global defaults in
    and check ``config`` against the schema, all in place.

    ``schema`` is a loaded schema (:func:`load_schema`), a root folder to load it from, or
    ``None`` for this checkout.

    Raises
    ------
    ConfigError
        Naming the offending key path and value, e.g.
        ``config: 'lossgrad.mnist.demo.epochs' = -1: -1 is less than the minimum of 1``.
    """
    if not isinstance(schema, dict):
        schema = load_schema(ROOT if schema is None else schema)
    resolve_scales(config, schema)
    _coerce(config, schema, schema)
    _fill_defaults(config, schema, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        error = jsonschema.exceptions.best_match(errors) if len(errors) > 1 else errors[0]
        raise ConfigError(f"{source}: {_describe(error)} (see config/*.schema.yaml for every key)")
