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
from collections.abc import Collection, Iterable, Mapping
from typing import Any


class InvalidInput(Exception):
    """A mistake in what a user passed: an argument, a config, a file, a command line.

    Every check raises a subclass: ``InvalidValue`` (also a ``ValueError``), ``InvalidType``
    (also a ``TypeError``), ... ``except cadence.InvalidInput`` catches them all; the message
    names the argument and the value.

    >>> import cadence
    >>> from cadence.schedules import Cosine
    >>> try:
    ...     Cosine(steps=-1)
    ... except cadence.InvalidInput as exc:
    ...     print(type(exc).__name__, isinstance(exc, ValueError), exc)
    InvalidValue True 'steps' must be a positive number (got -1)
    """


class InvalidValue(InvalidInput, ValueError):
    """A value of the right type that breaks the rule."""


class InvalidType(InvalidInput, TypeError):
    """A value of the wrong type."""


class MissingKey(InvalidValue, KeyError):
    """A key that must be present and is not (a param group's ``initial_lr`` when resuming, a
    state's entry): an :class:`InvalidValue`, and a ``KeyError`` too for code written against
    the upstream library it replaces, which raises one."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UpstreamAssertion(InvalidValue, AssertionError):
    """A bad value that the library a drop-in replaces refuses with a bare ``assert``
    (MMEngine's constructors): an :class:`InvalidValue` that names the argument, and an
    ``AssertionError`` too, so code and tests written against upstream catch it as before."""


class MissingPackage(InvalidInput, ImportError):
    """An optional package a feature needs is not installed (the message says what to install)."""


def shown(value: object) -> str:
    """``repr(value)``, with an int of more than 40 digits shortened to its first digits and its
    length (``10**400`` would print 401 of them)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**40:
        digits = str(abs(value))
        return f"{'-' if value < 0 else ''}{digits[:12]}... (an int of {len(digits)} digits)"
    return repr(value)


def _fail(name: str, rule: str, value: object, exc: type[Exception] | None = None) -> None:
    exc = exc or InvalidValue
    raise exc(f"{name!r} must be {rule} (got {shown(value)})")


def float_or_none(value: numbers.Real) -> float | None:
    """``float(value)``, or None for a number too large for a float (an int of more than 308
    digits, or a ``Fraction`` of one), where ``float()`` raises ``OverflowError``."""
    try:
        return float(value)
    except OverflowError:
        return None


def is_real(value: object) -> bool:
    """True for ints and floats (numpy scalars included), False for bools and everything else."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_number(name: str, value: object, rule: str = "a finite number") -> float:
    """Return ``value`` as a float if it is a finite real number."""
    if not is_real(value):
        _fail(name, rule, value, InvalidType)
    number = float_or_none(value)  # type: ignore[arg-type]
    if number is None or not math.isfinite(number):
        _fail(name, rule, value)
    return number  # type: ignore[return-value]


def check_positive(name: str, value: object) -> float:
    """A finite number > 0, returned as a float."""
    number = check_number(name, value, "a positive number")
    if number <= 0:
        _fail(name, "a positive number", value)
    return number


def check_divisor(name: str, value: float, dividend_name: str, dividend: float) -> float:
    """A positive ``value`` (already checked) that ``dividend`` can be divided by: the
    quotient must be a finite float too. A factor as small as ``5e-324`` passes "a positive
    number" but turns ``peak / div_factor`` into inf; it is refused by its own name, not by
    the name of the value it breaks.

    >>> check_divisor("div_factor", 1e-300, "peak", 1.0)
    1e-300
    >>> try:
    ...     check_divisor("div_factor", 5e-324, "peak", 1.0)
    ... except InvalidValue as exc:
    ...     print(exc)
    'div_factor' must be a positive number that 'peak' (1.0) divided by stays finite (got 5e-324)
    """
    if not math.isfinite(dividend / value):
        _fail(name, f"a positive number that {dividend_name!r} ({dividend!r}) divided by stays "
              "finite", value)
    return value


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
    """An int >= ``low`` (and < ``high``). An int too large for a float (``10**400``) is
    refused too: every count in cadence becomes a float step somewhere."""
    rule = "a positive int" if low == 1 else f"an int >= {low}"
    if high is not None:
        rule += " and < 2**32" if high == 2**32 else f" and < {high}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(name, rule, value, InvalidType)
    number = int(value)  # type: ignore[call-overload]
    if number < low or (high is not None and number >= high):
        _fail(name, rule, value)
    if float_or_none(number) is None:
        _fail(name, f"{rule} that a float can hold", value)
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
    items = check_sequence(name, values, "a sequence of numbers")
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


def check_sequence(name: str, values: object, rule: str, *,
                   mapping: bool = False) -> tuple[Any, ...]:
    """The items of a list, tuple or other iterable that is not a string, nor a mapping unless
    ``mapping`` (then its keys); a 0-d tensor or array, iterable in type only, is refused."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable) or (
            isinstance(values, Mapping) and not mapping):
        _fail(name, rule, values, InvalidType)
    try:
        return tuple(values)  # type: ignore[arg-type]
    except TypeError:  # iteration over a 0-d tensor or array
        _fail(name, rule, values, InvalidType)
    raise AssertionError("unreachable")  # pragma: no cover


def check_steps(name: str, value: object) -> int | float:
    """A positive length in steps, whole or not (a schedule is a function of a real step): an
    int stays an int, anything else becomes a float. One rule, "a positive number", for both.

    Every positive finite float is a length, from ``5e-324`` to ``1.8e308``: no floor is
    drawn, because a schedule's time can be counted in any unit and combinators rescale it
    (``Stretch(s, factor=1e-6)`` shortens every length inside ``s`` a million times), so the
    shapes themselves stay finite for every length instead (inf only where a growth passes
    the largest float). A length shorter than a float can resolve makes the curve degenerate,
    never NaN or a traceback: a cycle shorter than the spacing of floats at a step is at its
    start there, a phase that ends past the largest float has not ended, a quotient of steps
    past it is held at the largest float, and a landmark count is capped
    (``cadence.schedules.base.repeats``). What a length breaks elsewhere is refused by the
    name that caused it (``check_divisor``, WSD's phases)."""
    number = check_positive(name, value)
    return int(value) if isinstance(value, numbers.Integral) else number


def check_non_negative_steps(name: str, value: object) -> int | float:
    """A length in steps >= 0: an int stays an int, anything else becomes a float."""
    number = check_non_negative(name, value)
    return value if isinstance(value, int) and not isinstance(value, bool) else number
