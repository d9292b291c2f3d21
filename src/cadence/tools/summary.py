"""The numbers that describe one curve (:class:`CurveSummary`): where it starts, peaks, ends
and settles, how long it warms up, its landmarks where the value changes, and its jumps
(:class:`Jump`), kept only where they are discontinuities.

>>> from cadence.schedules import Step
>>> from cadence.tools.curves import curves
>>> [curve] = curves(Step(every=300, gamma=0.1), 700)
>>> s = summarize(curve)
>>> s.start, round(s.end, 6), s.milestones, s.jumps
(1.0, 0.01, [300, 600], [Jump(step=300, size=-0.9)])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from cadence.schedules.base import Mark, Schedule
from cadence.tools.curves import Curve, curves

if TYPE_CHECKING:
    from cadence.scheduler.reading import ReadableScheduler

# A step-to-step change is a jump when it exceeds the share of the range and one of the two
# multiples below (see ``describe``).
JUMP_OF_RANGE = 0.25
JUMP_OF_MEDIAN = 20.0
JUMP_OF_NEIGHBOURS = 5.0
# A jump is a discontinuity: looked at again over the last PROBE of the step before it, the
# change is still at least STILL_THERE of its size (a steep but continuous rise, such as an EMA
# warm-up's first step, shrinks with the interval).
PROBE = 1e-3
STILL_THERE = 0.5
# Relative size (of the largest |value|) under which a change, or a value, counts as none.
TOLERANCE = 1e-12


class Jump(NamedTuple):
    """A discontinuity: the value changes by ``size`` on arriving at ``step``.

    >>> from cadence.schedules import Step
    >>> from cadence.tools import describe
    >>> describe(Step(every=300, gamma=0.1), 1000).summaries[0].jumps
    [Jump(step=300, size=-0.9)]
    """

    step: int | float
    size: float


@dataclass
class CurveSummary:
    """The numbers that describe one curve over the steps it was evaluated at.

    ``warmup_steps`` is how long the curve rises from its first step to its highest value
    before it first falls (0 if its first change is not a rise); ``settles`` is the step from
    which it no longer changes (``None`` if it still changes at the last step). ``restarts``,
    ``milestones`` and ``phases`` are its landmarks (see :class:`cadence.schedules.Mark`).

    >>> from cadence.schedules import Cosine, Warmup
    >>> from cadence.tools import describe
    >>> [s] = describe(Warmup(Cosine(steps=900), steps=100), 1000).summaries
    >>> s.start, s.peak, s.warmup_steps, s.phases
    (0.0, 1.0, 100, [100])
    """

    label: str
    hyperparameter: str
    group: int | None
    start: float
    peak: float
    peak_step: int | float
    end: float
    minimum: float
    mean: float
    warmup_steps: int | float
    settles: int | float | None
    restarts: list[int | float] = field(default_factory=list)
    milestones: list[int | float] = field(default_factory=list)
    phases: list[int | float] = field(default_factory=list)
    jumps: list[Jump] = field(default_factory=list)

    @property
    def name(self) -> str:
        """``"<label>: <hyperparameter>"``, as the table and the warnings name the curve."""
        return f"{self.label}: {self.hyperparameter}"


def as_step(step: Any) -> int | float:
    """A step as an int where it is whole (``300``), else as a float (``2.5``)."""
    value = float(step)
    return int(value) if value.is_integer() else value


def tolerance(values: np.ndarray) -> float:
    """The change (or value) under which ``values`` count as not changing (as 0):
    ``TOLERANCE`` times their largest magnitude."""
    scale = float(np.max(np.abs(values))) if values.size else 0.0
    return TOLERANCE * scale if math.isfinite(scale) else 0.0


def settles(t: np.ndarray, v: np.ndarray, tol: float) -> int | float | None:
    """The first step from which ``v`` stays put; None if it changes at the last step."""
    moving = np.flatnonzero(np.abs(np.diff(v)) > tol)
    if moving.size == 0:
        return as_step(t[0])
    last = int(moving[-1])
    return None if last == v.size - 2 else as_step(t[last + 1])


def summarize(curve: Curve) -> CurveSummary:
    """The numbers of ``curve`` over the steps it was evaluated at, its jumps still to be
    checked for continuity (:func:`keep_discontinuities`)."""
    t = np.asarray(curve.steps, dtype=np.float64)
    v = np.asarray(curve.values, dtype=np.float64)
    tol = tolerance(v)
    d = np.diff(v)
    warmup: int | float = 0
    moving = np.flatnonzero(np.abs(d) > tol)
    if moving.size and d[moving[0]] > 0:
        falls = np.flatnonzero(d < -tol)
        last = int(falls[0]) if falls.size else v.size - 1
        rise = v[: last + 1]
        top = int(np.flatnonzero(rise >= rise.max() - tol)[0])
        warmup = as_step(t[top] - t[0])
    jumps = []
    span = float(v.max() - v.min()) if v.size else 0.0
    if d.size and span > 0:
        a = np.abs(d)
        padded = np.concatenate(([0.0], a, [0.0]))
        neighbours = np.maximum(padded[:-2], padded[2:])
        sudden = (a > JUMP_OF_MEDIAN * float(np.median(a))) | (a > JUMP_OF_NEIGHBOURS
                                                               * neighbours)
        big = (a > JUMP_OF_RANGE * span) & sudden
        jumps = [Jump(as_step(t[i + 1]), float(d[i])) for i in np.flatnonzero(big)]
    peak = int(np.argmax(v))
    return CurveSummary(
        curve.label, curve.hyperparameter, curve.group, float(v[0]), float(v[peak]),
        as_step(t[peak]), float(v[-1]), float(v.min()), float(v.mean()), warmup,
        settles(t, v, tol), _real(curve.marks, "restart", t, v, tol),
        _real(curve.marks, "milestone", t, v, tol), _kind(curve.marks, "phase"), jumps)


def _kind(marks: list[Mark], kind: str) -> list[int | float]:
    return [as_step(m.step) for m in marks if m.kind == kind]


def _real(marks: list[Mark], kind: str, t: np.ndarray, v: np.ndarray,
          tol: float) -> list[int | float]:
    """The landmarks of ``kind`` where the value changes: from the step shown before the mark
    to the one at or after it, or on to the next (a restart of a constant, a milestone that
    multiplies by 1, are none)."""
    out = []
    for m in marks:
        i = int(np.searchsorted(t, m.step))
        if m.kind != kind or i >= t.size:
            continue
        around = v[max(0, i - 1):i + 2]
        if around.size > 1 and float(np.max(np.abs(np.diff(around)))) > tol:
            out.append(as_step(m.step))
    return out


def keep_discontinuities(source: Schedule | ReadableScheduler, found: list[Curve],
                          summaries: list[CurveSummary]) -> None:
    """Drop the jumps that are steep but continuous changes: each curve is evaluated again
    over the last ``PROBE`` of the interval before each of its jumps (the schedules take
    fractional steps), and a jump stays only if at least ``STILL_THERE`` of it is still
    there. Where no such step is representable (a huge step), the jump stays."""
    probes = {}
    for c, s in zip(found, summaries):
        for jump in s.jumps:
            i = int(np.searchsorted(c.steps, jump.step))
            before, at = float(c.steps[i - 1]), float(c.steps[i])
            probe = at - PROBE * (at - before)
            if before < probe < at:
                probes[at] = probe
    if not probes:
        return
    grid = np.unique(np.fromiter(probes.values(), dtype=np.float64))
    again = curves(source, grid)
    for c, s, near in zip(found, summaries, again):
        kept = []
        for jump in s.jumps:
            i = int(np.searchsorted(c.steps, jump.step))
            at = float(c.steps[i])
            if at in probes:
                left = float(near.values[int(np.searchsorted(grid, probes[at]))])
                if not abs(float(c.values[i]) - left) >= STILL_THERE * abs(jump.size):
                    continue  # continuous: the change shrinks with the interval
            kept.append(jump)
        s.jumps = kept
