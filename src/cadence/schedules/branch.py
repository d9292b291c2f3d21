"""Re-timed schedules: a schedule followed up to a step ``at``, and a branch from there.

A long run changes its plan. It trains longer than planned (:class:`Extend`), anneals a model
from a checkpoint of its stable phase (:class:`Cooldown`), or takes a new schedule from now on
(:class:`Switch`). Each is an ordinary schedule (closed form, printable, written to a config)
that keeps the original as ``schedule``: before ``at`` it is the original, value for value,
and from ``at`` on it is the branch. Plots draw the original beside the branch and
``describe`` names the switch.

:class:`Extend`'s policies and :class:`Cooldown` start from the value the original has at
``at``: the value there does not change (no jump). A :class:`Switch` may jump;
``cadence.Scheduler.switch`` refuses one unless asked.

>>> from cadence.schedules import Constant, Cosine, Linear, join
>>> stable = join([Linear(start=0.0, end=1.0, steps=10), Constant(1.0)], boundaries=[10])
>>> Cooldown(stable, at=60, steps=40, shape="linear")([0, 5, 60, 80, 100, 200]).tolist()
[0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
>>> longer = Extend(Cosine(steps=100), at=50, new_total=150)   # the half left, over 100 steps
>>> longer([50, 100, 150]).round(12).tolist()
[0.5, 0.146446609407, 0.0]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from cadence.config.registry import register
from cadence.schedules.anneal import Constant
from cadence.schedules.base import Mark, Schedule, set_field, tidy
from cadence.schedules.combinators import join
from cadence.schedules.operands import check_schedule
from cadence.schedules.ops import SCALAR
from cadence.schedules.wsd import SHAPES, phase
from cadence.validation import (
    InvalidValue,
    check_choice,
    check_non_negative_steps,
    check_number,
    check_steps,
)

POLICIES = ("rescale", "hold", "continue")
"""How :class:`Extend` fits what is left of a schedule into a new total, from step ``at``:
``"rescale"`` keeps its shape and stretches (or squeezes) it; ``"hold"`` holds the value at
``at``, then plays what was left unchanged so that it ends at the new total; ``"continue"`` decays
from the value at ``at`` to the schedule's end value, over what is left of the new total."""


@dataclass(frozen=True)
class Branched(Schedule):
    """``schedule(t)`` before step ``at``, ``branch(t)`` from ``at`` on: the base of
    :class:`Cooldown`, :class:`Extend` and :class:`Switch`."""

    schedule: Schedule
    at: int | float

    def _check(self) -> None:
        set_field(self, "schedule", check_schedule("schedule", self.schedule))
        set_field(self, "at", check_non_negative_steps("at", self.at))

    def _branch(self, t: Any, xp: Any) -> Any:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _branch_marks(self, horizon: float) -> list[Mark]:
        return []

    def _eval(self, t: Any, xp: Any) -> Any:
        at = self.at
        if not xp.is_array:
            return self.schedule._eval(t, xp) if t < at else self._branch(t, xp)
        before = t < at
        if before.all():
            return self.schedule._eval(t, xp)
        if not before.any():
            return self._branch(t, xp)
        out = np.empty_like(t)
        out[before] = self.schedule._eval(t[before], xp)
        out[~before] = self._branch(t[~before], xp)
        return out

    def marks(self, horizon: float) -> list[Mark]:
        kept = [m for m in self.schedule.marks(min(horizon, float(self.at))) if m.step < self.at]
        return tidy([*kept, Mark(float(self.at), "branch"), *self._branch_marks(horizon)],
                    horizon)

    def switch_values(self) -> tuple[float, float]:
        """The original's value at ``at`` and the branch's: equal unless the switch jumps.

        >>> from cadence.schedules import Constant
        >>> Switch(Constant(1.0), at=5, then=Constant(0.5)).switch_values()
        (1.0, 0.5)
        """
        at = float(self.at)
        return float(self.schedule._eval(at, SCALAR)), float(self._branch(at, SCALAR))

    def explain(self) -> str:
        """The switch in words, for ``describe``."""
        return f"switched at step {self.at:g}"  # pragma: no cover - every subclass says more

    @property
    def original(self) -> Schedule:
        """The schedule before any switch (``schedule`` of the innermost branch)."""
        return list(lineage(self))[-1]


def lineage(schedule: Schedule) -> Iterator[Schedule]:
    """``schedule``, then the schedule it was branched from, and so on to the original.

    >>> from cadence.schedules import Constant
    >>> [type(s).__name__ for s in lineage(Cooldown(Constant(1.0), at=5, steps=5))]
    ['Cooldown', 'Constant']
    """
    while True:
        yield schedule
        if not isinstance(schedule, Branched):
            return
        schedule = schedule.schedule


def _value(schedule: Schedule, step: float, name: str) -> float:
    """``schedule``'s value at ``step``, which a branch starts (or ends) at: finite."""
    value = float(schedule._eval(float(step), SCALAR))
    if not np.isfinite(value):
        raise InvalidValue(f"'schedule' must have a finite value at {name} ({step:g}) to "
                           f"branch from (got {value!r})")
    return value


def _decay(shape: str, start: float, end: float, steps: int | float) -> Schedule:
    """``shape`` from ``start`` to ``end`` over ``steps``, then ``end`` (as WSD's decay)."""
    return join([phase(shape, start, end, steps), Constant(end)], [steps])


@register("cooldown")
@dataclass(frozen=True)
class Cooldown(Branched):
    """``schedule`` up to step ``at``; from there a decay of ``shape`` (``"linear"``,
    ``"cosine"`` or ``"1-sqrt"``) from the value ``schedule`` has at ``at`` to ``end``, over
    ``steps`` steps, then ``end``. Branched from the stable phase of a warm-up-then-constant
    run, it is WSD with its decay starting at ``at``, bit for bit.

    >>> from cadence.schedules import Constant
    >>> Cooldown(Constant(1.0), at=10, steps=4, end=0.2)([9, 10, 12, 14, 99]).tolist()
    [1.0, 1.0, 0.6, 0.2, 0.2]
    """

    steps: int | float
    shape: str = "linear"
    end: float = 0.0

    def __post_init__(self) -> None:
        self._check()
        set_field(self, "steps", check_steps("steps", self.steps))
        set_field(self, "shape", check_choice("shape", self.shape, SHAPES))
        set_field(self, "end", check_number("end", self.end))
        start = _value(self.schedule, self.at, "'at'")
        set_field(self, "_then", _decay(self.shape, start, self.end, self.steps))

    def _branch(self, t: Any, xp: Any) -> Any:
        return self._then._eval(t - self.at, xp)  # type: ignore[attr-defined]

    def _branch_marks(self, horizon: float) -> list[Mark]:
        return [Mark(self.at + self.steps, "phase")]

    def explain(self) -> str:
        """The switch in words.

        >>> from cadence.schedules import Constant
        >>> Cooldown(Constant(1.0), at=10, steps=4).explain()
        'a linear cool-down branched at step 10, to 0 over 4 steps'
        """
        return (f"a {self.shape} cool-down branched at step {self.at:g}, to {self.end:g} over "
                f"{self.steps:g} steps")


@register("extend")
@dataclass(frozen=True)
class Extend(Branched):
    """``schedule``, planned to end at ``total``, made to end at ``new_total`` instead, from
    step ``at`` on, by ``policy`` (see :data:`POLICIES`):

    - ``"rescale"``: what was left, ``schedule`` on ``[at, total]``, stretched over
      ``[at, new_total]``;
    - ``"hold"``: the value at ``at`` held for ``new_total - total`` steps, then what was left
      unchanged;
    - ``"continue"``: a decay of ``shape`` from the value at ``at`` to ``schedule``'s value at
      ``total``, over ``[at, new_total]``.

    Each reaches ``schedule``'s end value at ``new_total`` exactly and has no jump at ``at``.
    Past ``new_total``, ``schedule`` goes on as it would have past ``total``. ``total`` is
    where ``schedule``'s shape ends when not given (a shape with no end needs it); a new total
    below ``total`` shortens the run (``"rescale"`` and ``"continue"``).

    >>> from cadence.schedules import Linear
    >>> ramp = Linear(start=1.0, end=0.0, steps=10)
    >>> [Extend(ramp, at=4, new_total=16, policy=p)([4, 10, 16]).round(12).tolist()
    ...  for p in ("rescale", "hold", "continue")]
    [[0.6, 0.3, 0.0], [0.6, 0.6, 0.0], [0.6, 0.3, 0.0]]
    """

    new_total: int | float
    policy: str = "rescale"
    total: int | float | None = None
    shape: str = "cosine"

    def __post_init__(self) -> None:
        from cadence.schedules.extents import own_end

        self._check()
        set_field(self, "policy", check_choice("policy", self.policy, POLICIES))
        set_field(self, "shape", check_choice("shape", self.shape, SHAPES))
        total = self.total
        if total is None:
            total = own_end(self.schedule)
            if total is None:
                raise InvalidValue(
                    f"'total' must be given: {self.schedule!r} has no end of its own, so where "
                    "it was planned to end is not known")
            total = int(total) if float(total).is_integer() else total
        total = check_steps("total", total)
        set_field(self, "total", total)
        set_field(self, "new_total", check_steps("new_total", self.new_total))
        at, new = self.at, self.new_total
        if at > total:
            raise InvalidValue(
                f"'at' must be <= 'total' ({total!r}), where the schedule has played out "
                f"(got {at!r}): to go on from its end, branch a Cooldown or Switch instead")
        if new <= at:
            raise InvalidValue(f"'new_total' must be > 'at' ({at!r}) (got {new!r})")
        if self.policy == "hold" and new < total:
            raise InvalidValue(
                f"'new_total' must be >= 'total' ({total!r}) with policy 'hold', which holds "
                f"the value for new_total - total steps (got {new!r}): 'rescale' and "
                "'continue' shorten a run")
        if self.policy == "continue":
            start = _value(self.schedule, at, "'at'")
            end = _value(self.schedule, total, "'total'")
            set_field(self, "_then", _decay(self.shape, start, end, new - at))

    def _branch(self, t: Any, xp: Any) -> Any:
        at, total, new = self.at, self.total, self.new_total
        assert total is not None
        if self.policy == "continue":
            return self._then._eval(t - at, xp)  # type: ignore[attr-defined]
        if new == total:  # nothing to re-time: the schedule itself, bit for bit
            return self.schedule._eval(t, xp)
        if self.policy == "rescale":
            inside = at + (total - at) * ((t - at) / (new - at))
        else:  # hold, then play what was left (a float step, as every schedule takes)
            inside = xp.maximum(t - (new - total), float(at))
        return self.schedule._eval(xp.where(t >= new, total + (t - new), inside), xp)

    def explain(self) -> str:
        """The switch in words.

        >>> from cadence.schedules import Cosine
        >>> Extend(Cosine(steps=100), at=40, new_total=150, policy="hold").explain()
        "extended at step 40 from 100 to 150 steps (policy 'hold')"
        """
        return (f"extended at step {self.at:g} from {self.total:g} to {self.new_total:g} steps "
                f"(policy {self.policy!r})")

    def _branch_marks(self, horizon: float) -> list[Mark]:
        at, total, new = float(self.at), float(self.total or 0), float(self.new_total)
        if self.policy == "continue":
            return [Mark(new, "phase")]
        later = [m for m in self.schedule.marks(total + max(0.0, horizon - new)) if m.step > at]
        if self.policy == "rescale":
            moved = [at + (m.step - at) * ((new - at) / (total - at)) if m.step <= total
                     else new + (m.step - total) for m in later]
        else:
            moved = [m.step + (new - total) for m in later] + [at + (new - total)]
        return [Mark(step, m.kind) for step, m in zip(moved, [*later, Mark(0.0, "phase")])]


@register("switch")
@dataclass(frozen=True)
class Switch(Branched):
    """``schedule`` up to step ``at``, ``then`` from there, at the same steps (``then(t)``,
    not ``then(t - at)``): a new plan taken on at ``at``. It may jump at ``at``
    (:meth:`switch_values`).

    >>> from cadence.schedules import Constant, Cosine
    >>> Switch(Cosine(steps=100), at=50, then=Cosine(steps=200))([49, 50]).round(4).tolist()
    [0.5157, 0.8536]
    """

    then: Schedule

    def __post_init__(self) -> None:
        self._check()
        set_field(self, "then", check_schedule("then", self.then))

    def _branch(self, t: Any, xp: Any) -> Any:
        return self.then._eval(t, xp)

    def _branch_marks(self, horizon: float) -> list[Mark]:
        return [m for m in self.then.marks(horizon) if m.step > self.at]

    def explain(self) -> str:
        """The switch in words.

        >>> from cadence.schedules import Constant
        >>> Switch(Constant(1.0), at=5, then=Constant(0.5)).explain()
        'switched at step 5 to Constant(value=0.5), a jump from 1 to 0.5'
        """
        before, after = self.switch_values()
        jump = "" if before == after else f", a jump from {before:g} to {after:g}"
        return f"switched at step {self.at:g} to {self.then!r}{jump}"


__all__ = ["POLICIES", "Cooldown", "Extend", "Switch", "lineage"]
