"""Cosine annealing with warm restarts (SGDR): the all-in-one warm-restart scheduler's and
PyTorch's flavours in one shape."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from cadence.config.registry import register
from cadence.schedules.base import MAX_MARKS, Mark, Schedule, set_field, tidy
from cadence.schedules.ops import SCALAR, TABLE_LIMIT
from cadence.validation import (
    InvalidValue,
    check_non_negative,
    check_number,
    check_optional,
    check_positive_int,
    check_steps,
)

_INF = math.inf
MAX_PERIOD_MULT = 1_000_000  # cycles of 1, 1e6, 1e12, 1e18 steps: every step a float holds


def check_period_mult(name: str, value: object) -> float:
    """A cycle-length multiplier: a number from 1 to ``MAX_PERIOD_MULT`` (beyond it, cycle
    boundaries overflow a float); ``name`` is the caller's (PyTorch's ``T_mult``)."""
    rule = f"a number >= 1 and <= {MAX_PERIOD_MULT:,}"
    mult = check_number(name, value, rule)
    if not 1 <= mult <= MAX_PERIOD_MULT:
        raise InvalidValue(f"{name!r} must be {rule} (got {value!r})")
    return mult


@register("cosine_restarts")
@dataclass(frozen=True, kw_only=True)
class CosineRestarts(Schedule):
    """Half-cosine cycles from ``high`` down to ``low``, restarting at the top.

    Cycle ``i`` (from 0) starts at ``b_i = period * (period_mult**i - 1) / (period_mult - 1)``
    (``i * period`` when the multiplier is 1) and lasts ``length = b_{i+1} - b_i``, i.e.
    ``period * period_mult**i`` steps; fractional multipliers give fractional boundaries.
    Within it, at ``u`` steps from its start and ``v`` steps before its end::

        value = low + (high - low) * decay**i * sin(pi/2 * v / length)**2

    i.e. ``low + (high - low) * decay**i * (1 + cos(pi * u / length)) / 2``. ``decay`` shrinks
    the amplitude at every restart (the warm-restart scheduler's ``gamma``). After ``cycles``
    cycles, if given, the value holds at ``low``. PyTorch's
    ``CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)`` is
    ``CosineRestarts(period=T_0, period_mult=T_mult, low=eta_min / base_lr)``.

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
        set_field(self, "period_mult", check_period_mult("period_mult", self.period_mult))
        set_field(self, "decay", check_non_negative("decay", self.decay))
        set_field(self, "low", check_number("low", self.low))
        set_field(self, "high", check_number("high", self.high))
        set_field(self, "cycles", check_optional(check_positive_int, "cycles", self.cycles))

    def _boundary(self, k: Any, xp: Any) -> Any:
        """Step at which cycle ``k`` starts (exact for whole-number periods and multipliers);
        inf where the formula overflows (see :meth:`_start`)."""
        p, m = self.period, self.period_mult
        if m == 1.0:
            return k * p
        return p * (xp.int_power(m, k) - 1.0) / (m - 1.0)

    def _start(self, k: Any, xp: Any) -> Any:
        """:meth:`_boundary`, also where its formula overflows but the step does not:
        ``m**k`` past the largest float with a tiny period (``period=1e-300, period_mult=2``:
        cycle 1000 starts near step 1), or ``p * (m**k - 1)`` with a huge one. The first is
        ``p * m**k / (m - 1)`` there (the 1 is far below a float's precision), summed in
        logarithms (to about 1e-13); where that overflows too, the cycle starts past the
        largest float (inf)."""
        b = self._boundary(k, xp)
        p, m = self.period, self.period_mult
        if m == 1.0 or (np.isfinite(b).all() if xp.is_array else b < _INF):
            return b
        near = p * ((xp.int_power(m, k) - 1.0) / (m - 1.0))
        far = xp.exp(math.log(p) - math.log(m - 1.0) + k * math.log(m))
        return xp.where(b < _INF, b, xp.where(near < _INF, near, far))

    def _index(self, t: Any, xp: Any) -> Any:
        """The cycle that holds step ``t``, to within one (rounding)."""
        p, m = self.period, self.period_mult
        if m == 1.0:
            return xp.floor(t / p)
        x = xp.log1p(t * (m - 1.0) / p)
        # where t * (m - 1) / p is past the largest float (a tiny period), log1p of it is
        # log(t) + log((m - 1) / p)
        if xp.is_array:
            if not np.isfinite(x).all():
                x = np.where(x < _INF, x, np.log(t) + (math.log(m - 1.0) - math.log(p)))
        elif x == _INF:
            x = math.log(t) + (math.log(m - 1.0) - math.log(p))
        return xp.floor(x / math.log(m))

    def locate(self, t: Any, xp: Any = SCALAR) -> tuple[Any, Any, Any]:
        """The cycle that holds step ``t`` (a float >= 0, or a float64 array of them with
        ``xp = ops.ARRAY``): its index ``i`` (from 0) and bounds ``b0 <= t < b1``;
        ``(i, inf, inf)`` on one float for a cycle that ends past the largest float (so it is
        at its start).

        >>> CosineRestarts(period=10, period_mult=2).locate(25.0)
        (1.0, 10.0, 30.0)
        """
        p, m = self.period, self.period_mult
        if xp.is_array and t.size:
            first, b0, b1 = self.locate(float(t.min()), SCALAR)
            last = self.locate(float(t.max()), SCALAR)[0]
            if first == last:  # one cycle: its bounds are scalars
                return first, b0, b1
            if m != 1.0 and last < TABLE_LIMIT:  # few cycles: look their bounds up
                edges = np.array([self._start(float(k), SCALAR) for k in range(int(last) + 2)])
                k = np.searchsorted(edges, t, side="right") - 1
                return k.astype(np.float64), edges[k], edges[k + 1]
        if not xp.is_array:
            # Consecutive steps mostly fall in the cycle found last time: reuse its bounds (the
            # numbers a fresh search gives, so values are unchanged). One tuple, replaced whole,
            # so threads sharing the schedule never see a mixed one; never pickled or copied.
            last = self.__dict__.get("_last_cycle")
            if last is not None and last[1] <= t < last[2]:
                return last
            # (inline: this is the path of every step in a new cycle; see _index)
            if m == 1.0:
                i = xp.floor(t / p)
            else:
                i = xp.floor(xp.log1p(t * (m - 1.0) / p) / math.log(m))
            b0, b1 = self._boundary(i, xp), self._boundary(i + 1.0, xp)
            if b1 == _INF:  # past what the plain formulas reach (or t / p is)
                return self._locate_far(t)
            # Rounding can land one cycle off next to a boundary: step to the right cycle.
            if t < b0 or t >= b1:
                i += -1.0 if t < b0 else 1.0
                b0, b1 = self._boundary(i, xp), self._boundary(i + 1.0, xp)
            self.__dict__["_last_cycle"] = (i, b0, b1)
            return i, b0, b1
        i = self._index(t, xp)
        b0, b1 = self._start(i, xp), self._start(i + 1.0, xp)
        if ((t < b0) | (t >= b1)).any():
            i = xp.where(t < b0, i - 1.0, xp.where(t >= b1, i + 1.0, i))
            b0, b1 = self._start(i, xp), self._start(i + 1.0, xp)
        return i, b0, b1

    def _locate_far(self, t: float) -> tuple[float, float, float]:
        """:meth:`locate` on one float where a bound overflows the plain formula."""
        i = self._index(t, SCALAR)
        b0, b1 = self._start(i, SCALAR), self._start(i + 1.0, SCALAR)
        if t < b0 or t >= b1:
            i += -1.0 if t < b0 else 1.0
            b0, b1 = self._start(i, SCALAR), self._start(i + 1.0, SCALAR)
        return (i, _INF, _INF) if b1 == _INF else (i, b0, b1)


    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_last_cycle"}

    def __deepcopy__(self, memo: dict[int, Any]) -> CosineRestarts:
        return self  # immutable: a copy is the same value

    def marks(self, horizon: float) -> list[Mark]:
        out = []
        for k in range(1, MAX_MARKS + 1):
            step = self._start(float(k), SCALAR)
            if step > horizon:
                break
            ended = self.cycles is not None and k >= self.cycles
            out.append(Mark(step, "phase" if ended else "restart"))
            if ended:
                break
        return tidy(out, horizon)

    def _eval(self, t: Any, xp: Any) -> Any:
        i, b0, b1 = self.locate(t, xp)
        # Past 2**53 or so a cycle can be shorter than a float's spacing (b1 == b0): such a
        # cycle is at its start. So is one that ends past the largest float (b1 is inf).
        length = b1 - b0
        if xp.is_array:
            whole = (length > 0) & (length < _INF)
            left = xp.where(whole, (b1 - t) / xp.where(whole, length, 1.0), 1.0)
        else:  # b0 = b1 = inf where the cycle ends past the largest float: length is NaN
            left = (b1 - t) / length if length > 0 else 1.0
        s = xp.sin(0.5 * xp.pi * left)
        amplitude = self.high - self.low
        if self.decay != 1.0 and amplitude != 0.0:  # 0 * decay**i is 0, even where it overflows
            amplitude = amplitude * xp.int_power(self.decay, i)
        value = self.low + amplitude * (s * s)
        if self.cycles is not None:
            value = xp.where(i >= self.cycles, self.low, value)
        return value
