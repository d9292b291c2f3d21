"""One scheduled hyperparameter across the param groups: the schedule each group follows, its
base, and how the schedule's value becomes the group's value.

A :class:`Span` maps a schedule's value ``f`` to a group's value ``low + (high - low) * f``,
where ``low`` and ``high`` are fixed per group from its base ``b``: ``low = low_abs + low_rel * b``
and ``high = high_abs + high_rel * b``. So :data:`RELATIVE` gives ``b * f`` (a factor of the
base), :data:`ABSOLUTE` gives ``f``, ``Span.floor(m)`` gives ``m + (b - m) * f`` (PyTorch's and
MMEngine's ``eta_min``) and ``Span.between(0.2, 2.0)`` gives ``b * (0.2 + 1.8 * f)`` (the
warm-restart scheduler's range). One schedule then serves every group, whatever their bases.

>>> from cadence.schedules import Linear
>>> track = Track("lr", [Linear(start=1.0, end=0.0, steps=10)] * 2, [0.1, 0.4])
>>> track.values(5.0)
[0.05, 0.2]
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cadence.scheduler.selection import check_names
from cadence.schedules.base import Schedule
from cadence.schedules.ops import SCALAR
from cadence.validation import InvalidType, InvalidValue


@dataclass(frozen=True)
class Span:
    """``value = low + (high - low) * f`` with ``low = low_abs + low_rel * base`` and
    ``high = high_abs + high_rel * base``."""

    low_abs: float = 0.0
    low_rel: float = 0.0
    high_abs: float = 0.0
    high_rel: float = 1.0

    @classmethod
    def floor(cls, low: float) -> Span:
        """From ``low`` (absolute) at ``f = 0`` to the base at ``f = 1``."""
        return cls(low_abs=low)

    @classmethod
    def between(cls, low: float, high: float) -> Span:
        """From ``low`` to ``high`` times the base."""
        return cls(low_rel=low, high_rel=high)

    @property
    def absolute(self) -> bool:
        """True when the value does not depend on the base."""
        return self.low_rel == 0.0 and self.high_rel == 0.0


RELATIVE = Span()
ABSOLUTE = Span(high_abs=1.0, high_rel=0.0)


def choose_spans(names: set[str], absolute: bool | Collection[str],
                 spans: Mapping[str, Span] | None) -> dict[str, Span]:
    """Each scheduled name's span: :data:`ABSOLUTE` for those ``absolute`` names (all when
    True), :data:`RELATIVE` for the others, unless ``spans`` gives one."""
    if isinstance(absolute, bool):
        absolutes = set(names) if absolute else set()
    else:
        absolutes = set(check_names("absolute", absolute, names))
    chosen = {n: ABSOLUTE if n in absolutes else RELATIVE for n in names}
    if spans is not None:
        for name in check_names("spans", spans, names):
            if not isinstance(spans[name], Span):
                raise InvalidType(f"'spans[{name!r}]' must be a Span (got {spans[name]!r})")
            chosen[name] = spans[name]
    return chosen


FINITE = "finite"
NON_NEGATIVE = "non-negative"
_RULES = {FINITE: "a finite number", NON_NEGATIVE: "a finite number >= 0"}
_HUGE = sys.float_info.max / 4
NON_NEGATIVE_NAMES = frozenset({"lr", "momentum", "beta1", "beta2", "weight_decay"})


def rule_of(name: str) -> str:
    """What the native scheduler admits for ``name``: a finite number, and one >= 0 for the
    learning rate, momentum, the betas and weight decay (no optimizer accepts a negative)."""
    return NON_NEGATIVE if name in NON_NEGATIVE_NAMES else FINITE


class Track:
    """The schedule of every param group for one hyperparameter (None: the group is left
    alone), the groups' bases, and the :class:`Span` from schedule value to group value.

    Groups that share one schedule object are evaluated once per step, so a thousand groups
    with distinct bases cost one evaluation and a multiply-add each.
    """

    __slots__ = ("_admitted", "_ends", "_parts", "bases", "floored", "name", "rule",
                 "schedules", "span")

    def __init__(self, name: str, schedules: Sequence[Schedule | None],
                 bases: Sequence[float | None], span: Span = RELATIVE,
                 rule: str | None = None) -> None:
        for argument, value in (("schedules", schedules), ("bases", bases)):
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
                raise InvalidType(f"{argument!r} must be a list, one entry per param group "
                                  f"(got {value!r})")
        if len(schedules) != len(bases):
            raise InvalidValue(f"{name!r}: {len(schedules)} schedules for {len(bases)} bases")
        for group, schedule in enumerate(schedules):
            if schedule is not None and not isinstance(schedule, Schedule):
                raise InvalidType(f"'schedules[{group}]' must be a Schedule or None "
                                  f"(got {schedule!r})")
        if not isinstance(span, Span):
            raise InvalidType(f"'span' must be a Span (got {span!r})")
        if rule not in (None, FINITE, NON_NEGATIVE):
            raise InvalidValue(f"'rule' must be None, {FINITE!r} or {NON_NEGATIVE!r} "
                               f"(got {rule!r})")
        self.name = name
        self.schedules: list[Schedule | None] = list(schedules)
        self.bases: list[float | None] = list(bases)
        self.span = span
        self.rule = rule  # None (no check), FINITE or NON_NEGATIVE: see :meth:`admit`
        self.floored = bool(span.low_abs or span.low_rel)  # a value of 0 is not 0 (a floor)
        self._parts: list[tuple[Schedule, list[int]]] | None = None
        self._ends: tuple[list[float], list[float]] | None = None
        self._admitted: tuple[float, float] | None = None

    @classmethod
    def shared(cls, name: str, schedule: Schedule, bases: Sequence[float],
               span: Span = RELATIVE) -> Track:
        """One schedule for every group."""
        track = cls(name, [schedule] * len(bases), bases, span)
        track._parts = [(schedule, list(range(len(bases))))]
        return track

    def __len__(self) -> int:
        return len(self.schedules)

    # -- changes -------------------------------------------------------------------------------
    def set(self, group: int, schedule: Schedule | None, base: float | None) -> None:
        """Give group ``group`` (the next one, or an existing one) a schedule and a base."""
        if group == len(self.schedules):
            self.schedules.append(schedule)
            self.bases.append(base)
        else:
            self.schedules[group] = schedule
            self.bases[group] = base
        self._parts = self._ends = self._admitted = None

    def reassign(self, schedules: Sequence[Schedule | None],
                 bases: Sequence[float | None]) -> None:
        """Every group's schedule and base anew (the groups were removed or reordered)."""
        self.schedules, self.bases = list(schedules), list(bases)
        self._parts = self._ends = self._admitted = None

    def rebase(self, bases: Sequence[float | None]) -> None:
        """New bases (after loading a state); the schedules stay."""
        self.bases = list(bases)
        self._ends = self._admitted = None

    # -- values --------------------------------------------------------------------------------
    def parts(self) -> list[tuple[Schedule, list[int]]]:
        """The distinct schedules with the groups that follow each (by identity: linear)."""
        if self._parts is None:
            found: dict[int, tuple[Schedule, list[int]]] = {}
            for index, schedule in enumerate(self.schedules):
                if schedule is not None:
                    found.setdefault(id(schedule), (schedule, []))[1].append(index)
            self._parts = list(found.values())
        return self._parts

    def one_schedule(self) -> Schedule | None:
        """The schedule, when one schedule serves every group."""
        parts = self._parts or self.parts()
        if len(parts) == 1 and len(parts[0][1]) == len(self.schedules):
            return parts[0][0]
        return None

    def ends(self) -> tuple[list[float], list[float]]:
        """Per group, the value at ``f = 0`` and the span to ``f = 1`` (0 and 1 unscheduled)."""
        if self._ends is None:
            span = self.span
            bases = [0.0 if b is None else b for b in self.bases]
            lows = [span.low_abs + span.low_rel * b for b in bases]
            spans = [span.high_abs + span.high_rel * b - low for b, low in zip(bases, lows)]
            for i, schedule in enumerate(self.schedules):
                if schedule is None:
                    lows[i], spans[i] = 0.0, 1.0
            self._ends = (lows, spans)
        return self._ends

    # -- the rule on values ----------------------------------------------------------------
    def admit(self, f: float, t: float) -> None:
        """Refuse a schedule value ``f`` (at step ``t``, the same for every group) that would
        give some group a value outside the track's rule: any non-finite value (FINITE), or
        also a negative one (NON_NEGATIVE). The factors every group admits form one interval,
        found once per set of bases (:meth:`admitted`): a step costs one comparison, which
        the binder makes itself before calling this."""
        low, high = self._admitted or self.admitted()
        if not low <= f <= high:  # NaN fails too
            lows, spans = self._ends or self.ends()
            self.admit_values([lo + span * f for lo, span in zip(lows, spans)], t, f)

    def admit_values(self, values: Sequence[Any], t: float, f: float | None = None) -> None:
        """Refuse per-group ``values`` at step ``t`` outside the track's rule."""
        if self.rule is None:
            return
        for group, value in enumerate(values):
            if value is None or self.schedules[group] is None:
                continue
            if math.isfinite(value) and (self.rule == FINITE or value >= 0):
                continue
            given = "" if f is None else f", from the schedule's value {f!r}"
            raise InvalidValue(
                f"{self.name!r} must be {_RULES[self.rule]} (got {value!r} for param group "
                f"{group} at step {t:g}{given}; schedule: {self.schedules[group]!r})")

    def admitted(self) -> tuple[float, float]:
        """The factors ``f`` for which ``low + span * f`` keeps the rule in every group."""
        if self.rule is None:
            self._admitted = (-math.inf, math.inf)
            return self._admitted
        lows, spans = self._ends or self.ends()
        ends = [(low, span) for low, span, schedule in zip(lows, spans, self.schedules)
                if schedule is not None]
        top = max((max(abs(low), abs(span)) for low, span in ends), default=1.0) or 1.0
        # |low + span * f| <= top + top * |f| stays finite; the bound itself is a finite
        # number (for bases below 1, _HUGE / top would overflow and admit f = inf)
        bound = min(_HUGE / top, sys.float_info.max)
        lo, hi = -bound, bound
        if self.rule == NON_NEGATIVE:
            for low, span in ends:
                if span > 0:
                    lo = max(lo, -low / span)
                elif span < 0:
                    hi = min(hi, -low / span)
                elif low < 0:
                    lo, hi = math.inf, -math.inf  # nothing is admitted
            # a bound found by division may round outwards by an ulp or two: step it in
            for _ in range(4):
                if lo <= hi and any(low + span * lo < 0 for low, span in ends):
                    lo = math.nextafter(lo, math.inf)
                if lo <= hi and any(low + span * hi < 0 for low, span in ends):
                    hi = math.nextafter(hi, -math.inf)
        self._admitted = (lo, hi)
        return self._admitted

    def factors(self, t: float, scale: Callable[[float], float] | None = None) -> list[Any]:
        """Each group's schedule value at ``t`` (None where unscheduled), through ``scale``."""
        out: list[Any] = [None] * len(self.schedules)
        for schedule, members in self.parts():
            f = schedule.evaluate(t, SCALAR)
            if scale is not None:
                f = scale(f)
            for i in members:
                out[i] = f
        return out

    def values(self, t: float, scale: Callable[[float], float] | None = None) -> list[Any]:
        """Each group's value at step ``t`` (None where unscheduled)."""
        lows, spans = self._ends or self.ends()
        parts = self._parts or self.parts()
        if len(parts) == 1 and len(parts[0][1]) == len(lows):  # one schedule for every group
            f = parts[0][0].evaluate(t, SCALAR)
            if scale is not None:
                f = scale(f)
            return [low + span * f for low, span in zip(lows, spans)]
        return [None if f is None else low + span * f
                for f, low, span in zip(self.factors(t, scale), lows, spans)]

    def values_at(self, steps: np.ndarray,
                  scale: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
        """Values at an array of steps: shape ``steps.shape + (groups,)``, NaN where a group is
        not scheduled."""
        out = np.full((*steps.shape, len(self.schedules)), np.nan)
        lows, spans = self.ends()
        for schedule, members in self.parts():
            f = schedule(steps)
            if scale is not None:
                f = scale(f)
            for i in members:
                out[..., i] = lows[i] + spans[i] * f
        return out

    def __repr__(self) -> str:
        return f"Track({self.name!r}, {len(self.schedules)} groups, {len(self.parts())} schedules)"
