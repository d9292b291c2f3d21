"""Objects to and from configs: JSON-safe dicts with a ``type`` key, in memory or on disk.

A config is a dict whose ``type`` names a registered class and whose other keys are that class's
constructor arguments; a nested dict with a ``type`` key is built first. Lists stay lists.

>>> from cadence.schedules import Cosine
>>> cfg = to_config(Cosine(start=1.0, end=0.1, steps=100))
>>> cfg
{'type': 'cosine', 'start': 1.0, 'end': 0.1, 'steps': 100}
>>> from_config(cfg) == Cosine(start=1.0, end=0.1, steps=100)
True
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cadence.config.registry import lookup, suggest
from cadence.validation import InvalidType, InvalidValue, MissingPackage

JSON_SUFFIXES = (".json",)
YAML_SUFFIXES = (".yaml", ".yml")


def encode(value: Any) -> Any:
    """A JSON-safe copy of ``value``: objects with ``to_config`` become configs, tuples lists."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValue(f"a config cannot hold the non-finite number {value!r}")
        return value
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): encode(item) for key, item in value.items()}
    if hasattr(value, "to_config"):
        return value.to_config()
    raise InvalidType(f"{value!r} cannot be written to a config")


def dataclass_config(obj: Any) -> dict[str, Any]:
    """The config of a registered dataclass: its ``type_name`` and every init field."""
    cfg: dict[str, Any] = {"type": type(obj).type_name}
    for field in dataclasses.fields(obj):
        if field.init:
            cfg[field.name] = encode(getattr(obj, field.name))
    return cfg


def fingerprint(value: Any) -> Any:
    """What identifies an object, JSON-safe: its config, with functions written by name.

    Unlike :func:`to_config` it accepts schedules that wrap user functions (``Lambda``), so it
    can tell two schedules apart; it cannot rebuild them.
    """
    type_name = getattr(type(value), "type_name", None)
    if dataclasses.is_dataclass(value) and type_name is not None:
        out: dict[str, Any] = {"type": type_name}
        for field in dataclasses.fields(value):
            if field.init:
                out[field.name] = fingerprint(getattr(value, field.name))
        return out
    if hasattr(value, "to_config"):
        return value.to_config()
    if isinstance(value, (list, tuple)):
        return [fingerprint(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): fingerprint(item) for key, item in value.items()}
    if callable(value) and not isinstance(value, type):
        name = getattr(value, "__qualname__", None) or type(value).__qualname__
        return f"{getattr(value, '__module__', None) or ''}.{name}"
    return encode(value)


def to_config(obj: Any) -> dict[str, Any]:
    """The config of ``obj`` (anything with a ``to_config`` method)."""
    if not hasattr(obj, "to_config"):
        raise InvalidType(f"{obj!r} has no config form (it has no to_config method)")
    cfg: dict[str, Any] = obj.to_config()
    return cfg


def _decode(value: Any) -> Any:
    if isinstance(value, Mapping) and "type" in value:
        return from_config(value)
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def check_keys(type_name: str, cls: type, keys: list[str]) -> None:
    """Refuse keys the class does not take, and required ones that are missing."""
    params = inspect.signature(cls).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    valid = [n for n, p in params.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL]
    for key in keys:
        if key not in valid:
            raise InvalidValue(
                f"unknown key {key!r} for config type {type_name!r}{suggest(key, valid)} "
                f"(valid keys: {', '.join(valid)})"
            )
    missing = [
        n for n, p in params.items()
        if p.default is inspect.Parameter.empty and n not in keys
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    if missing:
        raise InvalidValue(f"config type {type_name!r} needs the key {missing[0]!r}")


def from_config(data: Any) -> Any:
    """Build the object a config describes (nested configs first).

    Unknown types and keys are refused with the nearest valid name.
    """
    if not isinstance(data, Mapping):
        raise InvalidType(f"a config must be a dict with a 'type' key (got {data!r})")
    if "type" not in data:
        raise InvalidValue(f"a config must have a 'type' key (got keys {sorted(data)!r})")
    cls = lookup(data["type"])
    kwargs = {str(k): _decode(v) for k, v in data.items() if k != "type"}
    check_keys(data["type"], cls, list(kwargs))
    return cls(**kwargs)


def read_config(path: str | Path) -> Any:
    """The raw data (dict or list) of a JSON or YAML file, chosen by the file's suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in JSON_SUFFIXES + YAML_SUFFIXES:
        raise InvalidValue(f"'path' must end in .json, .yaml or .yml (got {str(path)!r})")
    text = path.read_text(encoding="utf-8")
    if suffix in JSON_SUFFIXES:
        return json.loads(text)
    return _yaml().safe_load(text)


def load_config(path: str | Path) -> Any:
    """Build the object described by a JSON or YAML config file."""
    return from_config(read_config(path))


def dump_config(obj: Any, path: str | Path) -> Path:
    """Write the config of ``obj`` to a JSON or YAML file (by suffix) and return the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in JSON_SUFFIXES + YAML_SUFFIXES:
        raise InvalidValue(f"'path' must end in .json, .yaml or .yml (got {str(path)!r})")
    cfg = to_config(obj)
    if suffix in JSON_SUFFIXES:
        text = json.dumps(cfg, indent=2) + "\n"
    else:
        text = _yaml().safe_dump(cfg, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML is in the yaml, cli and dev extras
        raise MissingPackage("YAML configs need PyYAML: pip install 'cadence[yaml]'") from None
    return yaml
