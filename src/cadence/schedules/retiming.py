"""Schedules that play another one on a changed clock: ``schedule(f(t))`` for a map ``f`` of
the step. Repeat (``t mod period``), stretch (``t / factor``), reverse (``steps - t``), offset
(``t + steps``) and quantize (``floor(t / every)``).

>>> from cadence.schedules import Linear
>>> ramp = Linear(start=0.0, end=1.0, steps=10)
>>> Stretch(ramp, factor=2.0)(10), Offset(ramp, steps=5)(0), Repeat(ramp, period=10)(15)
(0.5, 0.5, 0.5)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cadence.config.registry import register
from cadence.schedules.base import LAST_STEP, Mark, Schedule, repeats, set_field, tidy
from cadence.schedules.operands import check_schedule
from cadence.validation import check_non_negative_steps, check_positive, check_steps


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
        set_field(self, "schedule", check_schedule("schedule", self.schedule))
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
        set_field(self, "schedule", check_schedule("schedule", self.schedule))
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
        set_field(self, "schedule", check_schedule("schedule", self.schedule))
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
        set_field(self, "schedule", check_schedule("schedule", self.schedule))
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
        set_field(self, "schedule", check_schedule("schedule", self.schedule))
        set_field(self, "every", check_steps("every", self.every))

    def _eval(self, t: Any, xp: Any) -> Any:
        return self.schedule._eval(xp.floor(xp.minimum(t / self.every, LAST_STEP)), xp)

    def marks(self, horizon: float) -> list[Mark]:
        inner = self.schedule.marks(horizon / self.every)
        return tidy((Mark(math.ceil(m.step) * self.every, m.kind) for m in inner), horizon)
