"""Argument checks shared by every layer.

Every check raises where the mistake is made, with one wording:
``'<arg>' must be <rule> (got <value!r>)``. A user's mistake is an :class:`InvalidInput`: a
value of the wrong type raises :class:`InvalidType` (a ``TypeError``), a value of the right type
outside the rule :class:`InvalidValue` (a ``ValueError``), a missing optional package
:class:`MissingPackage` (an ``ImportError``). The command line prints an ``InvalidInput`` as one
line with exit status 2; any other exception is a bug and keeps its traceback.

>>> check_positive_int("T_0", 0)
Traceback (most recent call last):
...
cadence.validation.InvalidValue: 'T_0' must be a positive int (got 0)
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Collection, Iterable
from typing import Any


class InvalidInput(Exception):
    """A mistake in what a user passed: an argument, a config, a file, a command line."""


class InvalidValue(InvalidInput, ValueError):
    """A value of the right type that breaks the rule."""


class InvalidType(InvalidInput, TypeError):
    """A value of the wrong type."""


class MissingPackage(InvalidInput, ImportError):
    """An optional package a feature needs is not installed (the message says what to install)."""


def _fail(name: str, rule: str, value: object, exc: type[Exception] | None = None) -> None:
    exc = exc or InvalidValue
    raise exc(f"{name!r} must be {rule} (got {value!r})")


def is_real(value: object) -> bool:
    """True for ints and floats (numpy scalars included), False for bools and everything else."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_number(name: str, value: object, rule: str = "a finite number") -> float:
    """Return ``value`` as a float if it is a finite real number."""
    if not is_real(value):
        _fail(name, rule, value, InvalidType)
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        _fail(name, rule, value)
    return number


def check_positive(name: str, value: object) -> float:
    """A finite number > 0, returned as a float."""
    number = check_number(name, value, "a positive number")
    if number <= 0:
        _fail(name, "a positive number", value)
    return number


def check_non_negative(name: str, value: object) -> float:
    """A finite number >= 0, returned as a float."""
    number = check_number(name, value, "a number >= 0")
    if number < 0:
        _fail(name, "a number >= 0", value)
    return number


def check_range(
    name: str, value: object, low: float, high: float, *, low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite number inside an interval; open ends are excluded."""
    rule = f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    number = check_number(name, value, rule)
    too_low = number <= low if low_open else number < low
    too_high = number >= high if high_open else number > high
    if too_low or too_high:
        _fail(name, rule, value)
    return number


def check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    """An int >= ``low`` (and < ``high``)."""
    rule = "a positive int" if low == 1 else f"an int >= {low}"
    if high is not None:
        rule += " and < 2**32" if high == 2**32 else f" and < {high}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(name, rule, value, InvalidType)
    number = int(value)  # type: ignore[call-overload]
    if number < low or (high is not None and number >= high):
        _fail(name, rule, value)
    return number


def check_positive_int(name: str, value: object) -> int:
    """An int > 0."""
    return check_int(name, value, 1)


def check_non_negative_int(name: str, value: object) -> int:
    """An int >= 0."""
    return check_int(name, value, 0)


def check_choice(name: str, value: object, choices: Collection[str]) -> str:
    """One of a fixed set of strings."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        _fail(name, f"one of {listed}", value)
    return value  # type: ignore[return-value]


def check_optional(check: Any, name: str, value: object) -> Any:
    """Apply ``check`` unless ``value`` is None."""
    return None if value is None else check(name, value)


def check_sorted_numbers(
    name: str, values: Iterable[object], *, strict: bool, minimum: float = 0.0,
    open_minimum: bool = False,
) -> tuple[float, ...]:
    """A sequence of finite numbers >= ``minimum`` (> with ``open_minimum``), (strictly) rising."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        _fail(name, "a sequence of numbers", values, InvalidType)
    items = tuple(values)
    bound = f"> {minimum:g}" if open_minimum else f">= {minimum:g}"
    order = "strictly increasing" if strict else "non-decreasing"
    rule = f"a {order} sequence of numbers {bound}"
    out = []
    for item in items:
        number = check_number(name, item, rule)
        if number < minimum or (open_minimum and number == minimum):
            _fail(name, rule, items)
        out.append(item if isinstance(item, int) else number)
    for a, b in itertools.pairwise(out):
        if b < a or (strict and b == a):
            _fail(name, rule, items)
    return tuple(out)


def check_steps(name: str, value: object) -> int | float:
    """A positive length in steps, whole or not (a schedule is a function of a real step): an
    int stays an int, anything else becomes a float. One rule, "a positive number", for both."""
    number = check_positive(name, value)
    return int(value) if isinstance(value, numbers.Integral) else number


def check_non_negative_steps(name: str, value: object) -> int | float:
    """A length in steps >= 0: an int stays an int, anything else becomes a float."""
    number = check_non_negative(name, value)
    return value if isinstance(value, int) and not isinstance(value, bool) else number
