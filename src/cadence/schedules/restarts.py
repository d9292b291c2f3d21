"""Cosine annealing with warm restarts (SGDR), seed 000's and PyTorch's flavours in one shape."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cadence.config.registry import register
from cadence.schedules.base import Schedule, set_field
from cadence.validation import (
    check_non_negative,
    check_number,
    check_optional,
    check_positive_int,
    check_steps,
)


@register("cosine_restarts")
@dataclass(frozen=True, kw_only=True)
class CosineRestarts(Schedule):
    """Half-cosine cycles from ``high`` down to ``low``, restarting at the top.

    Cycle ``i`` (from 0) lasts ``period * period_mult**i`` steps and starts at
    ``period * (period_mult**i - 1) / (period_mult - 1)`` (``i * period`` when the multiplier is
    1; fractional multipliers give fractional boundaries). Within it, at ``u`` steps from its
    start and ``v`` steps before its end::

        value = low + (high - low) * decay**i * sin(pi/2 * v / length)**2

    i.e. ``low + (high - low) * decay**i * (1 + cos(pi * u / length)) / 2``. ``decay`` shrinks
    the amplitude at every restart (seed 000's ``gamma``). After ``cycles`` cycles, if given,
    the value holds at ``low``. PyTorch's ``CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)``
    is ``CosineRestarts(period=T_0, period_mult=T_mult, low=eta_min / base_lr)``.

    >>> s = CosineRestarts(period=1, period_mult=2)
    >>> s([0, 0.5, 1, 3, 7]).round(12).tolist()   # restarts at 1, 3, 7
    [1.0, 0.5, 1.0, 1.0, 1.0]
    """

    period: int | float
    period_mult: float = 1.0
    decay: float = 1.0
    low: float = 0.0
    high: float = 1.0
    cycles: int | None = None

    def __post_init__(self) -> None:
        set_field(self, "period", check_steps("period", self.period))
        mult = check_number("period_mult", self.period_mult, "a number >= 1")
        if mult < 1:
            raise ValueError(f"'period_mult' must be a number >= 1 (got {self.period_mult!r})")
        set_field(self, "period_mult", mult)
        set_field(self, "decay", check_non_negative("decay", self.decay))
        set_field(self, "low", check_number("low", self.low))
        set_field(self, "high", check_number("high", self.high))
        set_field(self, "cycles", check_optional(check_positive_int, "cycles", self.cycles))

    def _cycle(self, i: Any, xp: Any) -> tuple[Any, Any]:
        """Start and length of cycle ``i``."""
        p, m = self.period, self.period_mult
        if m == 1.0:
            return i * p, xp.full(i, p)
        grow = xp.power(m, i)
        return p * (grow - 1.0) / (m - 1.0), p * grow

    def _eval(self, t: Any, xp: Any) -> Any:
        p, m = self.period, self.period_mult
        if m == 1.0:
            i = xp.floor(t / p)
        else:
            i = xp.floor(xp.log1p(t * (m - 1.0) / p) / math.log(m))
            # The logarithm can land one cycle off next to a boundary: correct it exactly.
            start, length = self._cycle(i, xp)
            i = xp.where(t < start, i - 1.0, xp.where(t >= start + length, i + 1.0, i))
        start, length = self._cycle(i, xp)
        left = (start + length) - t
        s = xp.sin(0.5 * xp.pi * (left / length))
        value = self.low + (self.high - self.low) * xp.power(self.decay, i) * (s * s)
        if self.cycles is not None:
            value = xp.where(i >= self.cycles, self.low, value)
        return value
