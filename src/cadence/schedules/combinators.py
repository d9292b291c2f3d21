"""Schedules made of schedules: join in time, multiply, scale, shift, clip, repeat, stretch,
reverse, offset and quantize."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cadence.config.registry import register
from cadence.schedules.base import LAST_STEP, Mark, Schedule, repeats, set_field, tidy
from cadence.validation import (
    InvalidType,
    InvalidValue,
    check_non_negative_steps,
    check_number,
    check_optional,
    check_positive,
    check_sorted_numbers,
    check_steps,
)


def _check_schedule(name: str, value: object) -> Schedule:
    if not isinstance(value, Schedule):
        raise InvalidType(f"{name!r} must be a Schedule (got {value!r})")
    return value


def _check_schedules(name: str, values: object, minimum: int) -> tuple[Schedule, ...]:
    if isinstance(values, Schedule) or not isinstance(values, Sequence):
        raise InvalidType(f"{name!r} must be a list of schedules (got {values!r})")
    items = tuple(_check_schedule(f"{name}[{i}]", v) for i, v in enumerate(values))
    if len(items) < minimum:
        raise InvalidValue(f"{name!r} must hold at least {minimum} schedules (got {len(items)})")
    return items


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
        schedules = _check_schedules("schedules", self.schedules, 1)
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
    return Join(_check_schedules("schedules", schedules, 1),
                check_sorted_numbers("boundaries", boundaries, strict=True, open_minimum=True))


@dataclass(frozen=True)
class _Pointwise(Schedule):
    """Several schedules combined at the same step by a binary operation (``_combine``)."""

    schedules: tuple[Schedule, ...]

    def __post_init__(self) -> None:
        set_field(self, "schedules", _check_schedules("schedules", self.schedules, 1))

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
    items = _check_schedules("schedules", schedules, 1)
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
        set_field(self, "schedule", _check_schedule("schedule", self.schedule))
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
        set_field(self, "schedule", _check_schedule("schedule", self.schedule))
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
        set_field(self, "schedule", _check_schedule("schedule", self.schedule))
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


@register("repeat")
@dataclass(frozen=True)
class Repeat(Schedule):
    """``schedule`` restarted every ``period`` steps: ``schedule(t mod period)``.

    >>> from cadence.schedules import Linear
    >>> Repeat(Linear(start=0.0, end=1.0, steps=4), period=4)([0, 2, 4, 6]).tolist()
    [0.0, 0.5, 0.0, 0.5]
    """

    schedule: Schedule
    period: int | float

    def __post_init__(self) -> None:
        set_field(self, "schedule", _check_schedule("schedule", self.schedule))
        set_field(self, "period", check_steps("period", self.period))

    def _eval(self, t: Any, xp: Any) -> Any:
        return self.schedule._eval(xp.fmod(t, self.period), xp)

    def marks(self, horizon: float) -> list[Mark]:
        inner = self.schedule.marks(self.period)
        out: list[Mark] = []
        for k in range(repeats(horizon, self.period) + 1):
            start = k * self.period
            out += [Mark(start + m.step, m.kind) for m in inner if m.step < self.period]
            if k:
                out.append(Mark(start, "restart"))
        return tidy(out, horizon)


@register("stretch")
@dataclass(frozen=True)
class Stretch(Schedule):
    """``schedule`` slowed down by ``factor`` in time: ``schedule(t / factor)``. A schedule
    written for 10,000 steps, stretched by 1.5, fits a 15,000-step budget.

    >>> from cadence.schedules import Linear
    >>> Stretch(Linear(start=0.0, end=1.0, steps=10), factor=2.0)(10)
    0.5
    """

    schedule: Schedule
    factor: float

    def __post_init__(self) -> None:
        set_field(self, "schedule", _check_schedule("schedule", self.schedule))
        set_field(self, "factor", check_positive("factor", self.factor))

    def _eval(self, t: Any, xp: Any) -> Any:
        # a tiny factor sends t / factor past the largest float: held there (see LAST_STEP)
        return self.schedule._eval(xp.minimum(t / self.factor, LAST_STEP), xp)

    def marks(self, horizon: float) -> list[Mark]:
        inner = self.schedule.marks(horizon / self.factor)
        return tidy((Mark(m.step * self.factor, m.kind) for m in inner), horizon)


@register("reverse")
@dataclass(frozen=True)
class Reverse(Schedule):
    """``schedule`` played backwards over ``steps``: ``schedule(steps - min(t, steps))``. It
    ends at ``schedule(0)`` and holds it; a decay reversed is a warm-up.

    >>> from cadence.schedules import OneMinusSqrt
    >>> Reverse(OneMinusSqrt(start=1.0, end=0.0, steps=4), steps=4)([0, 3, 4, 8]).tolist()
    [0.0, 0.5, 1.0, 1.0]
    """

    schedule: Schedule
    steps: int | float

    def __post_init__(self) -> None:
        set_field(self, "schedule", _check_schedule("schedule", self.schedule))
        set_field(self, "steps", check_steps("steps", self.steps))

    def _eval(self, t: Any, xp: Any) -> Any:
        return self.schedule._eval(self.steps - xp.minimum(t, self.steps), xp)

    def marks(self, horizon: float) -> list[Mark]:
        inner = self.schedule.marks(self.steps)
        out = [Mark(self.steps - m.step, m.kind) for m in inner] + [Mark(self.steps, "phase")]
        return tidy(out, horizon)


@register("offset")
@dataclass(frozen=True)
class Offset(Schedule):
    """``schedule`` started ``steps`` into it: ``schedule(t + steps)``.

    >>> from cadence.schedules import Linear
    >>> Offset(Linear(start=0.0, end=1.0, steps=10), steps=4)([0, 6]).tolist()
    [0.4, 1.0]
    """

    schedule: Schedule
    steps: int | float

    def __post_init__(self) -> None:
        set_field(self, "schedule", _check_schedule("schedule", self.schedule))
        set_field(self, "steps", check_non_negative_steps("steps", self.steps))

    def _eval(self, t: Any, xp: Any) -> Any:
        return self.schedule._eval(xp.minimum(t + self.steps, LAST_STEP), xp)

    def marks(self, horizon: float) -> list[Mark]:
        inner = self.schedule.marks(horizon + self.steps)
        return tidy((Mark(m.step - self.steps, m.kind) for m in inner), horizon)


@register("quantize")
@dataclass(frozen=True)
class Quantize(Schedule):
    """``schedule`` counted in blocks of ``every`` steps and held within each block:
    ``schedule(floor(t / every))``. A schedule written per epoch, quantized by the steps per
    epoch, runs per step and changes at epoch boundaries only.

    >>> from cadence.schedules import Linear
    >>> Quantize(Linear(start=0.0, end=1.0, steps=4), every=10)([0, 9, 10, 25]).tolist()
    [0.0, 0.0, 0.25, 0.5]
    """

    schedule: Schedule
    every: int | float

    def __post_init__(self) -> None:
        set_field(self, "schedule", _check_schedule("schedule", self.schedule))
        set_field(self, "every", check_steps("every", self.every))

    def _eval(self, t: Any, xp: Any) -> Any:
        return self.schedule._eval(xp.floor(xp.minimum(t / self.every, LAST_STEP)), xp)

    def marks(self, horizon: float) -> list[Mark]:
        inner = self.schedule.marks(horizon / self.every)
        return tidy((Mark(math.ceil(m.step) * self.every, m.kind) for m in inner), horizon)
