"""Objects as JSON-safe data: the values a config holds (:func:`encode`), a registered
dataclass's config, and fingerprints, which tell objects apart even where they cannot be
rebuilt (a schedule wrapping a user's function).

>>> from cadence.schedules import Cosine, Lambda
>>> encode({"steps": (10, 20), "lr": Cosine(steps=10)})
{'steps': [10, 20], 'lr': {'type': 'cosine', 'start': 1.0, 'end': 0.0, 'steps': 10}}
>>> fingerprint(Lambda(abs))
{'type': 'lambda', 'fn': 'builtins.abs'}
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from cadence.validation import InvalidType, InvalidValue


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
