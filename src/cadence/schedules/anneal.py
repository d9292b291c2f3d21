"""Shapes that go from ``start`` to ``end`` over ``steps`` and then hold ``end``.

Each is one formula in the elapsed fraction ``p = min(t, steps) / steps`` and the remaining
fraction ``r = (steps - min(t, steps)) / steps``, written as ``start * w_start + end * w_end``
with both weights computed without cancellation, so values stay accurate to a few ulps even
where they get small (one step before the end of a million-step cosine, for instance).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cadence.config.registry import register
from cadence.schedules.base import Mark, Schedule, repeats, set_field, tidy
from cadence.validation import check_number, check_positive, check_steps


@register("constant")
@dataclass(frozen=True)
class Constant(Schedule):
    """The same value at every step: ``value``.

    >>> Constant(0.5)(1000)
    0.5
    """

    value: float = 1.0

    def __post_init__(self) -> None:
        set_field(self, "value", check_number("value", self.value))

    def _eval(self, t: Any, xp: Any) -> Any:
        return xp.full(t, self.value)


@dataclass(frozen=True, kw_only=True)
class _Anneal(Schedule):
    start: float = 1.0
    end: float = 0.0
    steps: int | float

    def __post_init__(self) -> None:
        set_field(self, "start", check_number("start", self.start))
        set_field(self, "end", check_number("end", self.end))
        set_field(self, "steps", check_steps("steps", self.steps))

    def _eval(self, t: Any, xp: Any) -> Any:
        n = self.steps
        done = xp.minimum(t, n)
        return self._blend((n - done) / n, done / n, xp)

    def _blend(self, r: Any, p: Any, xp: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def marks(self, horizon: float) -> list[Mark]:
        return tidy([Mark(self.steps, "phase")], horizon)


@register("linear")
@dataclass(frozen=True, kw_only=True)
class Linear(_Anneal):
    """Straight line: ``start * r + end * p``.

    >>> Linear(start=0.0, end=1.0, steps=4)([0, 1, 4, 9]).tolist()
    [0.0, 0.25, 1.0, 1.0]
    """

    def _blend(self, r: Any, p: Any, xp: Any) -> Any:
        return self.start * r + self.end * p


@register("cosine")
@dataclass(frozen=True, kw_only=True)
class Cosine(_Anneal):
    """Half cosine: ``start * sin(pi/2 * r)**2 + end * sin(pi/2 * p)**2``, the same curve as
    ``end + (start - end) * (1 + cos(pi * p)) / 2`` without its cancellation near the end.
    The smaller of the two weights is computed by the sine, the other as 1 minus it.

    >>> Cosine(start=1.0, end=0.0, steps=100)([0, 50, 100])
    array([1. , 0.5, 0. ])
    """

    def _blend(self, r: Any, p: Any, xp: Any) -> Any:
        a = xp.sin(0.5 * xp.pi * xp.minimum(r, p))
        small = a * a
        big = 1.0 - small
        return xp.where(r <= p, self.start * small + self.end * big,
                        self.start * big + self.end * small)


@register("cosine_wave")
@dataclass(frozen=True, kw_only=True)
class CosineWave(Cosine):
    """A cosine that keeps oscillating: from ``start`` to ``end`` over ``steps``, back to
    ``start`` over the next ``steps``, and so on, i.e. ``end + (start - end) * (1 + cos(pi * t /
    steps)) / 2`` for every ``t`` (PyTorch's and MMEngine's ``CosineAnnealingLR`` past
    ``T_max``, transformers' cosine with several cycles). Each half is :class:`Cosine`'s curve.

    >>> CosineWave(start=1.0, end=0.0, steps=10)([0, 5, 10, 15, 20]).round(12).tolist()
    [1.0, 0.5, 0.0, 0.5, 1.0]
    """

    def _eval(self, t: Any, xp: Any) -> Any:
        n = self.steps
        u = xp.fmod(t, 2.0 * n)  # t itself where 2 * n overflows (n > 9e307): no wave ends
        # the way down, or back up: n - (u - n) is 2 * n - u (u - n is exact for u in [n, 2n])
        # without the overflow of 2 * n
        done = xp.where(u <= n, u, n - (u - n))
        return self._blend((n - done) / n, done / n, xp)

    def marks(self, horizon: float) -> list[Mark]:
        count = repeats(horizon, self.steps)
        kinds = ("phase", "restart")
        return tidy((Mark(k * self.steps, kinds[k % 2 == 0]) for k in range(1, count + 1)),
                    horizon)


@register("polynomial")
@dataclass(frozen=True, kw_only=True)
class Polynomial(_Anneal):
    """Polynomial decay: ``end + (start - end) * r**power``, computed as
    ``start * r**power + end * (1 - r**power)`` with ``1 - r**power = -expm1(power * log1p(-p))``.

    >>> Polynomial(start=1.0, end=0.0, steps=10, power=2.0)(5)
    0.25
    """

    power: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        set_field(self, "power", check_positive("power", self.power))

    def _blend(self, r: Any, p: Any, xp: Any) -> Any:
        k = self.power
        return self.start * xp.power(r, k) - self.end * xp.expm1(k * xp.log1p(-p))


@register("one_minus_sqrt")
@dataclass(frozen=True, kw_only=True)
class OneMinusSqrt(_Anneal):
    """The "1-sqrt" cool-down of warmup-stable-decay: ``end + (start - end) * (1 - sqrt(p))``,
    computed as ``start * r / (1 + sqrt(p)) + end * sqrt(p)``.

    >>> OneMinusSqrt(start=1.0, end=0.0, steps=100)(25)
    0.5
    """

    def _blend(self, r: Any, p: Any, xp: Any) -> Any:
        s = xp.sqrt(p)
        return self.start * (r / (1.0 + s)) + self.end * s


@register("geometric")
@dataclass(frozen=True, kw_only=True)
class Geometric(_Anneal):
    """Geometric (log-linear) interpolation between two positive values: ``start**r * end**p``.
    Used by exponential warm-up and the LR range test's sweep.

    >>> Geometric(start=1e-6, end=1.0, steps=6)(3)
    0.001
    """

    def __post_init__(self) -> None:
        set_field(self, "start", check_positive("start", self.start))
        set_field(self, "end", check_positive("end", self.end))
        set_field(self, "steps", check_steps("steps", self.steps))

    def _blend(self, r: Any, p: Any, xp: Any) -> Any:
        return xp.power(self.start, r) * xp.power(self.end, p)
