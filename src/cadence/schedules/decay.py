"""Decays that run forever: exponential, step, multi-step, inverse square root, Noam."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cadence.config.registry import register
from cadence.schedules.base import Mark, Schedule, repeats, set_field, tidy
from cadence.validation import (
    check_number,
    check_optional,
    check_positive,
    check_positive_int,
    check_sorted_numbers,
    check_steps,
)


def _floored(value: Any, floor: float | None, xp: Any) -> Any:
    return value if floor is None else xp.maximum(value, floor)


@register("exponential")
@dataclass(frozen=True, kw_only=True)
class Exponential(Schedule):
    """Per-step exponential decay with an optional floor: ``max(floor, start * rate**t)``.

    >>> Exponential(rate=0.5, start=8.0, floor=1.5)([0, 1, 2, 3]).tolist()
    [8.0, 4.0, 2.0, 1.5]
    """

    rate: float
    start: float = 1.0
    floor: float | None = None

    def __post_init__(self) -> None:
        set_field(self, "rate", check_positive("rate", self.rate))
        set_field(self, "start", check_number("start", self.start))
        set_field(self, "floor", check_optional(check_number, "floor", self.floor))

    def _eval(self, t: Any, xp: Any) -> Any:
        return _floored(self.start * xp.power(self.rate, t), self.floor, xp)


@register("step")
@dataclass(frozen=True, kw_only=True)
class Step(Schedule):
    """Multiply by ``gamma`` every ``every`` steps: ``max(floor, start * gamma**floor(t / every))``.

    >>> Step(every=10, gamma=0.5)([0, 9, 10, 25]).tolist()
    [1.0, 1.0, 0.5, 0.25]
    """

    every: int | float
    gamma: float = 0.1
    start: float = 1.0
    floor: float | None = None

    def __post_init__(self) -> None:
        set_field(self, "every", check_steps("every", self.every))
        set_field(self, "gamma", check_positive("gamma", self.gamma))
        set_field(self, "start", check_number("start", self.start))
        set_field(self, "floor", check_optional(check_number, "floor", self.floor))

    def _eval(self, t: Any, xp: Any) -> Any:
        k = xp.floor(t / self.every)
        return _floored(self.start * xp.int_power(self.gamma, k), self.floor, xp)

    def marks(self, horizon: float) -> list[Mark]:
        count = repeats(horizon, self.every)
        return tidy((Mark(k * self.every, "milestone") for k in range(1, count + 1)), horizon)


@register("multistep")
@dataclass(frozen=True, kw_only=True)
class MultiStep(Schedule):
    """Multiply by ``gamma`` at each milestone: ``max(floor, start * gamma**k)`` where ``k``
    counts the milestones ``<= t`` (a repeated milestone counts twice, as in PyTorch).

    >>> MultiStep(milestones=[5, 8], gamma=0.5)([0, 5, 7, 8, 100]).tolist()
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    milestones: Sequence[int | float]
    gamma: float = 0.1
    start: float = 1.0
    floor: float | None = None

    def __post_init__(self) -> None:
        set_field(self, "milestones", check_sorted_numbers("milestones", self.milestones,
                                                           strict=False))
        set_field(self, "gamma", check_positive("gamma", self.gamma))
        set_field(self, "start", check_number("start", self.start))
        set_field(self, "floor", check_optional(check_number, "floor", self.floor))

    def _eval(self, t: Any, xp: Any) -> Any:
        k = xp.count_le(self.milestones, t)
        return _floored(self.start * xp.int_power(self.gamma, k), self.floor, xp)

    def marks(self, horizon: float) -> list[Mark]:
        return tidy((Mark(m, "milestone") for m in self.milestones), horizon)


@register("inverse_sqrt")
@dataclass(frozen=True, kw_only=True)
class InverseSqrt(Schedule):
    """Inverse square-root decay: ``start * sqrt(timescale / (t + timescale))``.

    ``start`` at step 0, half of it at ``t = 3 * timescale``. With ``timescale=1`` this is
    d2l's ``lr * (t + 1)**-0.5``; in local time after a warm-up it is transformers'
    ``inverse_sqrt`` decay.

    >>> InverseSqrt(start=0.1, timescale=1.0)(3)
    0.05
    """

    start: float = 1.0
    timescale: float = 1.0

    def __post_init__(self) -> None:
        set_field(self, "start", check_number("start", self.start))
        set_field(self, "timescale", check_positive("timescale", self.timescale))

    def _eval(self, t: Any, xp: Any) -> Any:
        return self.start * xp.sqrt(self.timescale / (t + self.timescale))


@register("noam")
@dataclass(frozen=True, kw_only=True)
class Noam(Schedule):
    """The Transformer schedule of "Attention Is All You Need":
    ``scale * d_model**-0.5 * min(t**-0.5, t * warmup_steps**-1.5)`` (0 at step 0).

    It rises linearly to ``scale * (d_model * warmup_steps)**-0.5`` at ``t = warmup_steps``,
    then decays as ``t**-0.5``. Bound to ``lr`` use ``absolute=True`` or a base lr of 1.

    >>> round(Noam(d_model=512, warmup_steps=4000)(4000), 10)
    0.0006987712
    """

    d_model: int
    warmup_steps: int | float
    scale: float = 1.0

    def __post_init__(self) -> None:
        set_field(self, "d_model", check_positive_int("d_model", self.d_model))
        set_field(self, "warmup_steps", check_steps("warmup_steps", self.warmup_steps))
        set_field(self, "scale", check_number("scale", self.scale))

    def _eval(self, t: Any, xp: Any) -> Any:
        w = self.warmup_steps
        # w**-1.5 overflows for w below about 1e-205 steps; the same rise written as
        # (t / w) * w**-0.5 does not (t / w <= 1 where it is used, w**-0.5 <= 4.5e161)
        rise = t * w**-1.5 if w > 1e-200 else (t / w) * w**-0.5
        fall = 1.0 / xp.sqrt(xp.maximum(t, w))  # t**-0.5 where it is the smaller
        return self.scale * self.d_model**-0.5 * xp.where(t < w, rise, fall)

    def marks(self, horizon: float) -> list[Mark]:
        return tidy([Mark(self.warmup_steps, "phase")], horizon)
