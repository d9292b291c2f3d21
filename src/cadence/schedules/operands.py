"""The schedules a combinator is made of: the checks that an argument is a schedule, or a list
of them.

>>> from cadence.schedules import Constant
>>> check_schedules("schedules", [Constant(1.0), Constant(0.5)], 1)
(Constant(value=1.0), Constant(value=0.5))
"""

from __future__ import annotations

from collections.abc import Sequence

from cadence.schedules.base import Schedule
from cadence.validation import InvalidType, InvalidValue


def check_schedule(name: str, value: object) -> Schedule:
    """``value`` if it is a Schedule, else an InvalidType that names ``name``."""
    if not isinstance(value, Schedule):
        raise InvalidType(f"{name!r} must be a Schedule (got {value!r})")
    return value


def check_schedules(name: str, values: object, minimum: int) -> tuple[Schedule, ...]:
    """``values`` as a tuple of at least ``minimum`` schedules (a list or another sequence of
    them), else an error that names ``name`` (and the index of a wrong item)."""
    if isinstance(values, Schedule) or not isinstance(values, Sequence):
        raise InvalidType(f"{name!r} must be a list of schedules (got {values!r})")
    items = tuple(check_schedule(f"{name}[{i}]", v) for i, v in enumerate(values))
    if len(items) < minimum:
        raise InvalidValue(f"{name!r} must hold at least {minimum} schedules (got {len(items)})")
    return items
