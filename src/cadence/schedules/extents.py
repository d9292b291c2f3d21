"""How far a schedule's shape reaches, read from its public fields: where it ends and what it
does after (:class:`Extent`), and so how many steps to show it over when nobody says
(:func:`steps_for`; :func:`cadence.tools.curves.horizon` takes any spec).

>>> from cadence.schedules import Cosine, Exponential, MultiStep, Warmup
>>> extent(Warmup(Cosine(steps=900), steps=100))
Extent(end=1000.0, after='ends')
>>> steps_for(extent(MultiStep(milestones=[40, 80]))), steps_for(extent(Exponential(rate=0.9)))
(100, 1000)
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

from cadence.schedules.anneal import (
    Constant,
    Cosine,
    CosineWave,
    Geometric,
    Linear,
    OneMinusSqrt,
    Polynomial,
)
from cadence.schedules.base import Schedule
from cadence.schedules.branch import Cooldown, Extend, Switch
from cadence.schedules.combinators import (
    Clip,
    Join,
    Offset,
    Product,
    Quantize,
    Repeat,
    Reverse,
    Scale,
    Shift,
    Stretch,
    Sum,
)
from cadence.schedules.cyclic import Cyclic, OneCycle
from cadence.schedules.decay import Exponential, InverseSqrt, MultiStep, Noam, Step
from cadence.schedules.ema import EMAWarmup
from cadence.schedules.function import Lambda, Multiplicative
from cadence.schedules.restarts import CosineRestarts
from cadence.schedules.warmup import Warmup
from cadence.schedules.wsd import WSD

DEFAULT_STEPS = 1000  # shown for presets (sized to it) and for shapes with no length of their own
TAIL = 0.25  # past a last drop (or before an open-ended tail), show this share more


class Extent(NamedTuple):
    """How far a schedule's shape reaches: its last landmark ``end`` (in steps) and what comes
    after it: ``"ends"`` (it has played out, e.g. a cosine's end), ``"holds"`` (it holds the
    value it dropped or stepped to, e.g. after a step decay's last milestone) or
    ``"goes on"`` (it keeps changing with no end of its own, e.g. exponential decay)."""

    end: float
    after: str


ENDS, HOLDS, GOES_ON = "ends", "holds", "goes on"
_OPEN = Extent(0.0, GOES_ON)


def own_end(schedule: Schedule) -> float | None:
    """Where ``schedule``'s own shape ends (:func:`extent`): the step after which it holds its
    value, or None for a shape that goes on (or holds from the start, as a constant does).

    >>> from cadence.schedules import Cosine, Exponential, Warmup
    >>> own_end(Warmup(Cosine(steps=900), steps=100)), own_end(Exponential(rate=0.9))
    (1000.0, None)
    """
    reach = extent(schedule)
    return reach.end if reach.after != GOES_ON and reach.end > 0 else None


def steps_for(reach: Extent) -> int:
    """The steps to show for an extent (see :func:`cadence.tools.curves.horizon`)."""
    if reach.after == ENDS and reach.end > 0:
        return max(1, _whole(reach.end))
    if reach.after == HOLDS and reach.end > 0:
        return max(2, _whole(reach.end * (1 + TAIL)))
    return max(DEFAULT_STEPS, _whole(reach.end * (1 + TAIL)))


def _whole(steps: float) -> int:
    """``math.ceil(steps)``; a length past the largest float (it overflowed to inf) counts as
    the largest float, far more than any view shows
    (:func:`cadence.tools.curves.check_steps_shown` says so)."""
    return math.ceil(steps if steps <= sys.float_info.max else sys.float_info.max)


def extent(schedule: Schedule) -> Extent:
    """How far ``schedule``'s shape reaches (see :class:`Extent`), from its public fields.

    A schedule type cadence does not know (a user's) reaches its ``total_steps`` or ``steps``
    field if it has a numeric one, and otherwise goes on.
    """
    reach = _EXTENTS.get(type(schedule))
    if reach is not None:
        return reach(schedule)
    for name in ("total_steps", "steps"):
        value = getattr(schedule, name, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 \
                and math.isfinite(value):
            return Extent(float(value), ENDS)
    return _OPEN


def together(extents: list[Extent]) -> Extent:
    """Schedules at the same time (a product, a scheduler's groups): as far as the farthest;
    it goes on if any goes on."""
    end = max(e.end for e in extents)
    if any(e.after == GOES_ON for e in extents):
        return Extent(end, GOES_ON)
    last = [e.after for e in extents if e.end == end]
    return Extent(end, HOLDS if HOLDS in last else last[0])


def _after(start: float, reach: Extent) -> Extent:
    """``reach`` of a piece that starts at ``start``."""
    return Extent(start + reach.end, reach.after)


def _join(s: Join) -> Extent:
    return _after(float(s.boundaries[-1]) if s.boundaries else 0.0, extent(s.schedules[-1]))


def _warmup(s: Warmup) -> Extent:
    if s.mode == "overlay":
        return together([Extent(float(s.steps), ENDS), extent(s.schedule)])
    return _after(float(s.steps), extent(s.schedule))


def _restarts(s: CosineRestarts) -> Extent:
    if s.cycles is None:
        return Extent(float(s.period), GOES_ON)
    if s.period_mult == 1.0:
        return Extent(float(s.period) * s.cycles, ENDS)
    return Extent(float(s.period) * (s.period_mult**s.cycles - 1) / (s.period_mult - 1), ENDS)


def _offset(s: Offset) -> Extent:
    inner = extent(s.schedule)
    end = max(0.0, inner.end - float(s.steps))
    return Extent(end, inner.after if end > 0 or inner.after == GOES_ON else HOLDS)


def _quantize(s: Quantize) -> Extent:
    inner = extent(s.schedule)
    return Extent(inner.end, HOLDS if inner.after == ENDS else inner.after)


def _multistep(s: MultiStep) -> Extent:
    return Extent(float(max(s.milestones, default=0.0)), HOLDS)


def _extend(s: Extend) -> Extent:
    if s.policy == "continue":
        return Extent(float(s.new_total), ENDS)
    inner = extent(s.schedule)
    return Extent(float(s.new_total) + max(0.0, inner.end - float(s.total or 0)), inner.after)


def _switch(s: Switch) -> Extent:
    then = extent(s.then)
    return Extent(max(float(s.at), then.end), then.after)


def _wsd(s: WSD) -> Extent:
    return Extent(float(s.lengths()[3]), ENDS)


_EXTENTS: dict[type, Callable[[Any], Extent]] = {
    **{kind: lambda s: Extent(float(s.steps), ENDS)
       for kind in (Linear, Cosine, Polynomial, OneMinusSqrt, Geometric)},
    CosineWave: lambda s: Extent(float(s.steps), GOES_ON),
    EMAWarmup: lambda s: Extent(s.reaches(), HOLDS),
    Constant: lambda s: Extent(0.0, HOLDS),
    MultiStep: _multistep,
    Step: lambda s: Extent(float(s.every), GOES_ON),
    Noam: lambda s: Extent(float(s.warmup_steps), GOES_ON),
    Cyclic: lambda s: Extent(float(s.up_steps) + float(s.down_steps or s.up_steps), GOES_ON),
    OneCycle: lambda s: Extent(float(s.total_steps), ENDS),
    WSD: _wsd,
    Cooldown: lambda s: Extent(float(s.at) + float(s.steps), ENDS),
    Extend: _extend,
    Switch: _switch,
    CosineRestarts: _restarts,
    Warmup: _warmup,
    Join: _join,
    Product: lambda s: together([extent(p) for p in s.schedules]),
    Sum: lambda s: together([extent(p) for p in s.schedules]),
    Scale: lambda s: extent(s.schedule),
    Shift: lambda s: extent(s.schedule),
    Clip: lambda s: extent(s.schedule),
    Quantize: _quantize,
    Stretch: lambda s: Extent(extent(s.schedule).end * s.factor, extent(s.schedule).after),
    Reverse: lambda s: Extent(float(s.steps), ENDS),
    Offset: _offset,
    Repeat: lambda s: Extent(float(s.period), GOES_ON),
    **{kind: lambda s: _OPEN for kind in (Exponential, InverseSqrt, Lambda, Multiplicative)},
}
