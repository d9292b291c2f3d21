"""The registry of config types: the ``type`` key of a config names a registered class.

Built-in schedules register themselves when :mod:`cadence.schedules` is imported; users register
their own the same way:

>>> from dataclasses import dataclass
>>> from cadence.schedules import Schedule
>>> @register("half")
... @dataclass(frozen=True)
... class Half(Schedule):
...     def _eval(self, t, xp):
...         return xp.full(t, 0.5)
>>> lookup("half") is Half
True
>>> unregister("half")
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TypeVar

from cadence.validation import InvalidType, InvalidValue

T = TypeVar("T", bound=type)

_TYPES: dict[str, type] = {}


def register(name: str, *, replace: bool = False) -> Callable[[T], T]:
    """Class decorator: make ``cls`` buildable from a config whose ``type`` is ``name``.

    The class gets a ``type_name`` attribute. Registering a taken name raises ``ValueError``
    unless ``replace=True``.

    >>> from dataclasses import dataclass
    >>> from cadence.config import from_config, register, unregister
    >>> from cadence.schedules import Schedule
    >>> @register("halved")
    ... @dataclass(frozen=True)
    ... class Halved(Schedule):
    ...     every: float
    ...     def _eval(self, t, xp):
    ...         return 0.5 ** xp.floor(t / self.every)
    >>> from_config({"type": "halved", "every": 10})(25)
    0.25
    >>> Halved(every=10).to_config()
    {'type': 'halved', 'every': 10}
    >>> unregister("halved")
    """
    if not isinstance(name, str) or not name:
        raise InvalidType(f"'name' must be a non-empty str (got {name!r})")

    def decorate(cls: T) -> T:
        if not replace and name in _TYPES and _TYPES[name] is not cls:
            raise InvalidValue(
                f"config type {name!r} is already registered to {_TYPES[name].__qualname__}; "
                "pass replace=True to override it"
            )
        cls.type_name = name  # type: ignore[attr-defined]
        _TYPES[name] = cls
        return cls

    return decorate


def unregister(name: str) -> None:
    """Remove a registered type (mainly for tests); a name not registered is ignored.

    >>> from dataclasses import dataclass
    >>> from cadence.config import register, registered, unregister
    >>> from cadence.schedules import Schedule
    >>> @register("flat")
    ... @dataclass(frozen=True)
    ... class Flat(Schedule):
    ...     def _eval(self, t, xp):
    ...         return xp.ones_like(t)
    >>> "flat" in registered()
    True
    >>> unregister("flat")
    >>> "flat" in registered()
    False
    """
    _TYPES.pop(name, None)


def suggest(name: str, options: list[str]) -> str:
    """A ' (did you mean ...?)' hint for a misspelt name, or ''."""
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


def lookup(name: object) -> type:
    """The class registered under ``name``, or a ``ValueError`` that lists the nearest names.

    >>> from cadence.config import lookup
    >>> lookup("cosine")
    <class 'cadence.schedules.anneal.Cosine'>
    >>> lookup("cosin")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    cadence.validation.InvalidValue: unknown config type 'cosin'; did you mean 'cosine'? ...
    """
    if not isinstance(name, str):
        raise InvalidType(f"config 'type' must be a str (got {name!r})")
    try:
        return _TYPES[name]
    except KeyError:
        known = sorted(_TYPES)
        raise InvalidValue(
            f"unknown config type {name!r}{suggest(name, known)} "
            f"(known types: {', '.join(known)})"
        ) from None


def registered() -> list[str]:
    """All registered type names, sorted.

    >>> from cadence.config import registered
    >>> registered()[:5]
    ['clip', 'constant', 'cooldown', 'cosine', 'cosine_restarts']
    """
    return sorted(_TYPES)
