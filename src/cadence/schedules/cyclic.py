"""Cyclical schedules: triangular cycles (CyclicLR) and the one-cycle policy (OneCycleLR)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cadence.config.registry import register
from cadence.schedules.anneal import Constant, Cosine, Linear
from cadence.schedules.base import Composed, Mark, Schedule, repeats, set_field, tidy
from cadence.schedules.combinators import Offset, join
from cadence.schedules.ops import SCALAR
from cadence.validation import (
    InvalidType,
    InvalidValue,
    check_choice,
    check_divisor,
    check_number,
    check_optional,
    check_positive,
    check_positive_int,
    check_range,
    check_steps,
)

_EXACT_CYCLES = 2.0**52  # below it a cycle count is whole and t - c * total accurate
CYCLIC_MODES = ("triangular", "triangular2", "exp_range")
ANNEAL = {"cos": Cosine, "linear": Linear}


@register("cyclic")
@dataclass(frozen=True, kw_only=True)
class Cyclic(Schedule):
    """Triangular cycles between ``start`` and ``peak`` (Smith's cyclical learning rates).

    Each cycle rises for ``up_steps`` and falls for ``down_steps`` (default: ``up_steps``).
    With ``c`` the cycle index (from 0) and ``x`` the triangle's height in [0, 1]::

        value = start + (peak - start) * x * scale

    where ``scale`` is 1 (``"triangular"``), ``0.5**c`` (``"triangular2"``) or ``gamma**t``
    (``"exp_range"``). ``start > peak`` gives the inverted cycle used for momentum.

    >>> Cyclic(start=0.1, peak=1.0, up_steps=2)([0, 1, 2, 3, 4]).tolist()
    [0.1, 0.55, 1.0, 0.55, 0.1]
    """

    start: float
    peak: float
    up_steps: int | float
    down_steps: int | float | None = None
    mode: str = "triangular"
    gamma: float = 1.0

    def __post_init__(self) -> None:
        set_field(self, "start", check_number("start", self.start))
        set_field(self, "peak", check_number("peak", self.peak))
        set_field(self, "up_steps", check_steps("up_steps", self.up_steps))
        set_field(self, "down_steps", check_optional(check_steps, "down_steps", self.down_steps))
        down = self.up_steps if self.down_steps is None else self.down_steps
        if not math.isfinite(self.up_steps + down):
            raise InvalidValue(f"'up_steps' + 'down_steps' (a cycle) must be a finite number of "
                               f"steps (got {self.up_steps!r} + {down!r})")
        set_field(self, "mode", check_choice("mode", self.mode, CYCLIC_MODES))
        set_field(self, "gamma", check_positive("gamma", self.gamma))

    def _eval(self, t: Any, xp: Any) -> Any:
        up = self.up_steps
        down = up if self.down_steps is None else self.down_steps
        total = up + down
        c = xp.floor(t / total)
        # past 2**52 cycles (a cycle of 1e-300 steps at step 10, of 3 steps at step 1e300),
        # t - c * total cancels catastrophically (or is inf - inf): the phase is the
        # remainder, which fmod computes exactly
        u = xp.where(c < _EXACT_CYCLES, t - c * total, xp.fmod(t, total))
        x = xp.where(u <= up, u / up, (total - u) / down)
        if self.mode == "triangular2":
            x = x * xp.int_power(0.5, c)
        elif self.mode == "exp_range":
            if self.peak == self.start:  # no amplitude, even where gamma**t overflows
                return xp.full(t, self.start)
            # x * gamma**t, with 0 at a cycle's bottom (x = 0) where gamma**t overflows
            x = xp.where(x > 0.0, x * xp.power(self.gamma, t), 0.0)
        return self.start + (self.peak - self.start) * x

    def marks(self, horizon: float) -> list[Mark]:
        total = self.up_steps + (self.up_steps if self.down_steps is None else self.down_steps)
        count = repeats(horizon, total)
        return tidy((Mark(k * total, "restart") for k in range(1, count + 1)), horizon)


@register("one_cycle")
@dataclass(frozen=True, kw_only=True)
class OneCycle(Composed):
    """The one-cycle policy, with PyTorch ``OneCycleLR``'s phases.

    From ``start`` (default ``peak / div_factor``) up to ``peak`` at step
    ``pct_start * total_steps - 1``, then down to ``end`` (default ``start / final_div_factor``)
    at step ``total_steps - 1``, held after. With ``three_phase`` it goes back to ``start`` at
    ``2 * pct_start * total_steps - 2`` before the final descent. Each phase is a half cosine
    (``anneal="cos"``) or a straight line (``"linear"``). ``start=0.95, peak=0.85, end=0.95``
    gives the inverse momentum cycle.

    A short cycle follows PyTorch's rule exactly: a step belongs to the first phase whose end
    it has not passed (the last phase takes the rest), and a phase runs from the end of the
    phase before it, so one that ends before step 0 is skipped and the next starts part-way
    (``total_steps=3, pct_start=0.3``: the rise ends at step -0.1, and step 0 is already
    0.1 / 2.1 of the way down). A phase that would run backwards, or over no time, where a step
    falls in it (PyTorch divides by zero or goes back in time there) is refused.

    >>> s = OneCycle(total_steps=11, peak=1.0, pct_start=0.5, div_factor=10, anneal="linear")
    >>> s([0, 4.5, 10]).round(6).tolist()
    [0.1, 1.0, 1e-05]
    """

    total_steps: int
    peak: float = 1.0
    start: float | None = None
    end: float | None = None
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    anneal: str = "cos"
    three_phase: bool = False

    def __post_init__(self) -> None:
        set_field(self, "total_steps", check_positive_int("total_steps", self.total_steps))
        set_field(self, "peak", check_number("peak", self.peak))
        set_field(self, "start", check_optional(check_number, "start", self.start))
        set_field(self, "end", check_optional(check_number, "end", self.end))
        set_field(self, "pct_start", check_range("pct_start", self.pct_start, 0.0, 1.0))
        set_field(self, "div_factor", check_positive("div_factor", self.div_factor))
        set_field(self, "final_div_factor", check_positive("final_div_factor",
                                                           self.final_div_factor))
        if self.start is None:
            check_divisor("div_factor", self.div_factor, "peak", self.peak)
        if self.end is None:
            start = self.peak / self.div_factor if self.start is None else self.start
            check_divisor("final_div_factor", self.final_div_factor, "start", start)
        set_field(self, "anneal", check_choice("anneal", self.anneal, tuple(ANNEAL)))
        if not isinstance(self.three_phase, bool):
            raise InvalidType(f"'three_phase' must be a bool (got {self.three_phase!r})")
        set_field(self, "_built", self._build())

    def _build(self) -> Schedule:
        start = self.peak / self.div_factor if self.start is None else self.start
        end = start / self.final_div_factor if self.end is None else self.end
        rise = float(self.pct_start * self.total_steps) - 1.0
        last = self.total_steps - 1.0
        ends = [rise, 2.0 * float(self.pct_start * self.total_steps) - 2.0, last] \
            if self.three_phase else [rise, last]
        values = [start, self.peak, start, end] if self.three_phase else [start, self.peak, end]
        pieces: list[Schedule] = []
        marks: list[float] = []
        begin, covered = 0.0, 0.0  # where the phase starts; the steps taken by earlier phases
        cut = False
        for k, phase_end in enumerate(ends):
            reach = last if k == len(ends) - 1 else min(phase_end, last)
            if reach > covered or (not pieces and reach >= covered):  # some step falls in it
                length = phase_end - begin
                if not length > 0:
                    raise InvalidValue(
                        f"'pct_start' * 'total_steps' must leave every phase that a step falls "
                        f"in a positive length (got pct_start={self.pct_start!r}, total_steps="
                        f"{self.total_steps!r}, three_phase={self.three_phase!r}: phase {k + 1} "
                        f"runs from step {begin:g} to {phase_end:g})")
                piece: Schedule = ANNEAL[self.anneal](start=values[k], end=values[k + 1],
                                                      steps=length)
                if covered > begin:  # the phase started before the steps it covers
                    piece = Offset(piece, covered - begin)
                if pieces:
                    marks.append(covered)
                pieces.append(piece)
                covered, cut = reach, phase_end > reach
            begin = phase_end
        shape = join(pieces, marks) if marks else pieces[0]
        if cut:  # the run ends inside a phase: its value at the last step holds
            shape = join([shape, Constant(float(shape._eval(last, SCALAR)))], [last])
        return shape
