"""Schedules made of schedules: join in time, multiply, add, scale, shift and clip; and (from
:mod:`cadence.schedules.retiming`) repeat, stretch, reverse, offset and quantize."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cadence.config.registry import register
from cadence.schedules.base import Mark, Schedule, set_field, tidy
from cadence.schedules.operands import check_schedule, check_schedules
from cadence.schedules.retiming import Offset as Offset
from cadence.schedules.retiming import Quantize as Quantize
from cadence.schedules.retiming import Repeat as Repeat
from cadence.schedules.retiming import Reverse as Reverse
from cadence.schedules.retiming import Stretch as Stretch
from cadence.validation import InvalidValue, check_number, check_optional, check_sorted_numbers


@register("join")
@dataclass(frozen=True)
class Join(Schedule):
    """Schedules one after another, each in its own local time.

    With boundaries ``b_1 < b_2 < ...``, the value is ``schedules[0](t)`` for ``t < b_1``,
    ``schedules[k](t - b_k)`` for ``b_k <= t < b_{k+1}``, and the last schedule runs forever.

    >>> from cadence.schedules import Constant, Linear
    >>> s = join([Linear(start=0.0, end=1.0, steps=4), Constant(0.5)], boundaries=[4])
    >>> s([0, 2, 4, 100]).tolist()
    [0.0, 0.5, 0.5, 0.5]
    """

    schedules: tuple[Schedule, ...]
    boundaries: tuple[int | float, ...]

    def __post_init__(self) -> None:
        schedules = check_schedules("schedules", self.schedules, 1)
        boundaries = check_sorted_numbers("boundaries", self.boundaries, strict=True,
                                          open_minimum=True)
        if len(boundaries) != len(schedules) - 1:
            raise InvalidValue(
                f"'boundaries' must hold one number fewer than 'schedules' ({len(schedules) - 1})"
                f" (got {len(boundaries)})"
            )
        set_field(self, "schedules", schedules)
        set_field(self, "boundaries", boundaries)
        set_field(self, "_starts", (0.0, *(float(b) for b in boundaries)))

    def _eval(self, t: Any, xp: Any) -> Any:
        starts = self._starts  # type: ignore[attr-defined]
        if not xp.is_array:
            k = bisect.bisect_right(starts, t) - 1
            return self.schedules[k]._eval(t - starts[k], xp)
        if t.size:
            first = bisect.bisect_right(starts, t.min()) - 1
            if first == bisect.bisect_right(starts, t.max()) - 1:  # all in one piece
                return self.schedules[first]._eval(t - starts[first], xp)
        out = np.empty_like(t)
        piece = np.searchsorted(starts, t, side="right") - 1
        for k, schedule in enumerate(self.schedules):
            mask = piece == k
            if mask.any():
                out[mask] = schedule._eval(t[mask] - starts[k], xp)
        return out

    def marks(self, horizon: float) -> list[Mark]:
        starts = self._starts  # type: ignore[attr-defined]
        out = [Mark(b, "phase") for b in starts[1:]]
        for k, (schedule, start) in enumerate(zip(self.schedules, starts)):
            last = k == len(starts) - 1
            end = horizon if last else starts[k + 1]
            out += [Mark(start + m.step, m.kind) for m in schedule.marks(end - start)
                    if last or start + m.step < end]  # a piece's own end is the next boundary
        return tidy(out, horizon)


def join(schedules: Sequence[Schedule], boundaries: Sequence[int | float]) -> Join:
    """Run ``schedules`` one after another, switching at ``boundaries`` (see :class:`Join`).

    Each schedule runs in its own local time: the second starts at its step 0 at the first
    boundary.

    >>> from cadence.schedules import Constant, Cosine, Linear, join
    >>> lr = join([Linear(start=0.0, end=1.0, steps=10), Cosine(start=1.0, end=0.0, steps=90)],
    ...           boundaries=[10])
    >>> lr([0, 5, 10, 55, 100, 200]).round(6).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """
    return Join(check_schedules("schedules", schedules, 1),
                check_sorted_numbers("boundaries", boundaries, strict=True, open_minimum=True))


@dataclass(frozen=True)
class _Pointwise(Schedule):
    """Several schedules combined at the same step by a binary operation (``_combine``)."""

    schedules: tuple[Schedule, ...]

    def __post_init__(self) -> None:
        set_field(self, "schedules", check_schedules("schedules", self.schedules, 1))

    @staticmethod
    def _combine(left: Any, right: Any) -> Any:
        raise NotImplementedError

    def _eval(self, t: Any, xp: Any) -> Any:
        first, *rest = self.schedules
        value = first._eval(t, xp)
        for schedule in rest:
            value = self._combine(value, schedule._eval(t, xp))
        return value

    def marks(self, horizon: float) -> list[Mark]:
        return tidy((m for s in self.schedules for m in s.marks(horizon)), horizon)


@register("product")
@dataclass(frozen=True)
class Product(_Pointwise):
    """The product of several schedules at the same step (PyTorch's ``ChainedScheduler``).
    ``a * b`` builds one.

    >>> from cadence.schedules import Constant, Step
    >>> (Constant(0.5) * Step(every=2, gamma=0.1))(2)
    0.05
    """

    @staticmethod
    def _combine(left: Any, right: Any) -> Any:
        return left * right


def product(schedules: Sequence[Schedule]) -> Schedule:
    """The product of ``schedules`` (see :class:`Product`); a single schedule is itself.

    >>> from cadence.schedules import Cosine, Step, product
    >>> lr = product([Cosine(steps=100), Step(every=50, gamma=0.5)])
    >>> lr([0, 50, 100]).round(6).tolist()
    [1.0, 0.25, 0.0]
    >>> product([Cosine(steps=100)])
    Cosine(start=1.0, end=0.0, steps=100)
    """
    items = check_schedules("schedules", schedules, 1)
    return items[0] if len(items) == 1 else Product(items)


@register("sum")
@dataclass(frozen=True)
class Sum(_Pointwise):
    """The sum of several schedules at the same step. ``a + b`` builds one (``a - b`` is
    ``a + (-1) * b``), e.g. a small floor under a decay, or a bump added to a cosine.

    >>> from cadence.schedules import Constant, Linear
    >>> (Linear(start=1.0, end=0.0, steps=10) + Constant(0.1))(10)
    0.1
    """

    @staticmethod
    def _combine(left: Any, right: Any) -> Any:
        return left + right


@register("scale")
@dataclass(frozen=True)
class Scale(Schedule):
    """``factor * schedule(t)``; ``factor * schedule`` builds one.

    >>> from cadence.schedules import Constant
    >>> (3 * Constant(0.5))(0)
    1.5
    """

    schedule: Schedule
    factor: float

    def __post_init__(self) -> None:
        set_field(self, "schedule", check_schedule("schedule", self.schedule))
        set_field(self, "factor", check_number("factor", self.factor))

    def _eval(self, t: Any, xp: Any) -> Any:
        return self.factor * self.schedule._eval(t, xp)

    def marks(self, horizon: float) -> list[Mark]:
        return self.schedule.marks(horizon)


@register("shift")
@dataclass(frozen=True)
class Shift(Schedule):
    """``schedule(t) + offset``; ``schedule + offset`` builds one.

    >>> from cadence.schedules import Constant
    >>> (Constant(0.5) + 0.25)(0)
    0.75
    """

    schedule: Schedule
    offset: float

    def __post_init__(self) -> None:
        set_field(self, "schedule", check_schedule("schedule", self.schedule))
        set_field(self, "offset", check_number("offset", self.offset))

    def _eval(self, t: Any, xp: Any) -> Any:
        return self.schedule._eval(t, xp) + self.offset

    def marks(self, horizon: float) -> list[Mark]:
        return self.schedule.marks(horizon)


@register("clip")
@dataclass(frozen=True)
class Clip(Schedule):
    """``schedule(t)`` limited to ``[low, high]`` (either bound may be None).

    >>> from cadence.schedules import Linear
    >>> Clip(Linear(start=0.0, end=1.0, steps=10), low=0.2, high=0.7)([0, 5, 10]).tolist()
    [0.2, 0.5, 0.7]
    """

    schedule: Schedule
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        set_field(self, "schedule", check_schedule("schedule", self.schedule))
        low = check_optional(check_number, "low", self.low)
        high = check_optional(check_number, "high", self.high)
        if low is not None and high is not None and low > high:
            raise InvalidValue(f"'low' must be <= 'high' ({high!r}) (got {low!r})")
        set_field(self, "low", low)
        set_field(self, "high", high)

    def _eval(self, t: Any, xp: Any) -> Any:
        value = self.schedule._eval(t, xp)
        if self.low is not None:
            value = xp.maximum(value, self.low)
        if self.high is not None:
            value = xp.minimum(value, self.high)
        return value

    def marks(self, horizon: float) -> list[Mark]:
        return self.schedule.marks(horizon)
