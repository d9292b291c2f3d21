"""How PyTorch's and MMEngine's chainable schedulers combine, without any shared state.

Upstream, a chainable scheduler moves each group's *current* value by its own change:
``value * f(t) / f(t - 1)`` (StepLR multiplies by ``gamma`` at a milestone, ExponentialLR by
``gamma`` every step, ...), and one with a floor (``eta_min``) scales the value's distance from
the floor instead. Several schedulers on one optimizer therefore combine through the
values they leave in the param groups, in the order they are stepped, and one that is no longer
stepped stops acting. The drop-ins keep exactly that rule, exactly computed: when a group still
holds the value a scheduler gave it at the previous step (nobody else moved it), the scheduler
writes its closed form at the new step, so a scheduler used alone is bit-exact at any step and
after any resume; otherwise it scales the current value by its change, as upstream does.

The change is the scheduler's own, in the schedule's terms (:func:`change`): the ratio of the
schedule's values, or upstream's multiplier where it has one (ExponentialLR's, StepLR's and
MultiStepLR's ``gamma``; MultiplicativeLR's function where its product reached 0), so a group
whose base is 0, or equal to ``eta_min``, is moved as upstream moves it. Where the schedule's
previous value was at its floor (0 without one) there is no ratio, and the value moves by the
schedule's rise since (:func:`chained`), as upstream's rules do: a decay that stays at 0
(LinearLR with ``end_factor=0`` or PolynomialLR past ``total_iters``, ConstantLR with
``factor=0`` in its phase) leaves the value as the groups hold it, and a cosine one step past
its minimum adds ``(base - eta_min) * (1 - cos(pi / T_max)) / 2``. (At the end of
ConstantLR's ``factor=0`` phase upstream divides by zero; the rise is added there too.)

>>> chained(current=[0.5, 0.3], held=[0.5, 0.25], before=[0.5, 0.25], after=[0.05, 0.025])
[0.05, 0.03]
>>> chained(current=[0.4], held=[0.0], before=[0.0], after=[0.0])  # a decay that reached 0
[0.4]
"""

from __future__ import annotations

import bisect
import math
import sys
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cadence.compat._torch_retime import moving_part
from cadence.scheduler.binder import Binder
from cadence.scheduler.track import Track
from cadence.schedules.base import Schedule
from cadence.schedules.branch import Switch
from cadence.schedules.combinators import Join, Scale
from cadence.schedules.decay import Exponential, MultiStep, Step
from cadence.schedules.function import Multiplicative
from cadence.schedules.ops import SCALAR
from cadence.validation import InvalidValue, shown

_TINY = sys.float_info.min  # below it a float is subnormal: a ratio of two loses digits
_INF = math.inf


class ClosedForm:
    """What a drop-in builds from its settings: the binder of its tracks, and its values at the
    last step asked. Kept out of the drop-in's state and ``__dict__``, and made again whenever
    the settings or the bases change (a loaded state's settings win, as upstream)."""

    __slots__ = ("_row", "_shared", "binder", "key", "lone", "refuse")

    def __init__(self, key: tuple[Any, ...], binder: Binder,
                 refuse: Callable[[str, Sequence[Any], float], None] | None = None) -> None:
        self.key = key
        self.binder = binder
        # called with (name, values, step) before values that are not all finite are
        # written: it raises (the drop-in names itself and its settings). Held weakly: the
        # drop-in holds this object, and a cycle would keep both (and the optimizer) alive
        self.refuse = None if refuse is None else weakref.WeakMethod(refuse)
        self.lone: tuple[float, dict[str, list[Any]], dict[str, list[Any]]] | None = None
        # move()'s last closed form: (step, values, the schedule's value)
        self._row: tuple[float, list[Any], Any] | None = None
        # the common case: one track, one schedule for every group, no plateau
        self._shared: tuple[str, Track, Any] | None = None
        if len(binder.tracks) == 1 and binder.plateau is None:
            [track] = binder.tracks.values()
            parts = track.parts()
            if len(parts) == 1 and len(parts[0][1]) == len(track):
                self._shared = (track.name, track, parts[0][0])

    def values(self, t: float) -> dict[str, list[Any]]:
        """Every track's value per group at step ``t`` (the last one asked is kept: stepping
        asks for each step twice, as the new values and then as the previous ones)."""
        return self._at(t)[0]

    def _at(self, t: float) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
        """The values at ``t`` and the schedules' values they come from (``value = low + span *
        f`` per group: :class:`~cadence.scheduler.track.Span`); None where a group is not
        scheduled, or, with a plateau's reductions, everywhere."""
        lone = self.lone
        if lone is None or lone[0] != t:
            binder = self.binder
            values, units = {}, {}
            if binder.plateau is not None:
                values = binder.values(t)
                units = {name: [None] * len(row) for name, row in values.items()}
            else:
                for name, track in binder.tracks.items():
                    lows, spans = track.ends()
                    units[name] = factors = track.factors(t)
                    values[name] = [None if f is None else low + span * f
                                    for f, low, span in zip(factors, lows, spans)]
            lone = self.lone = (t, values, units)
        return lone[1], lone[2]

    def before(self, step: float) -> dict[str, list[Any]]:
        """The values at ``step``; before the first step (-1), the bases."""
        return self._before(step)[0]

    def move(self, step: float, t: float) -> list[Any] | None:
        """Chain the groups from the values at ``step`` to those at ``t`` (see :func:`chained`
        and :func:`change`). Returns the values written when there is one track and it wrote
        every group exactly (what the groups now hold), else None."""
        shared = self._shared
        if shared is not None:
            writes = self.binder.writes(shared[0])
            if writes.complete and writes.exact:
                return self._move_shared(step, t, shared[2], shared[1], writes)
        self._move_each(step, t)
        return None

    def _move_each(self, step: float, t: float) -> None:
        """:meth:`move` for any tracks and groups."""
        before, prior = self._before(step)
        after, units = self._at(t)
        for name, track in self.binder.tracks.items():
            writes = self.binder.writes(name)
            complete = writes.complete
            old, new = before[name], after[name]
            if not complete:
                old, new = [old[i] for i in writes.indices], [new[i] for i in writes.indices]
            held = old if writes.exact else writes.held(old)
            current = writes.read()
            if current != held:  # another scheduler (or the user) moved them: chain
                members = range(len(track)) if complete else writes.indices
                schedules, was, now = track.schedules, prior[name], units[name]
                changes = [None if schedules[i] is None else
                           change(schedules[i], step, t, was[i], now[i]) for i in members]
                new = chained(current, held, old, new,
                              floors(track, None if complete else writes.indices), changes)
            self._check(name, new, t)
            writes.write(new)

    def _check(self, name: str, values: Sequence[Any], t: float) -> None:
        """Refuse values that are not all finite (None: a group left alone)."""
        if self.refuse is None:
            return
        try:
            if -_INF < sum(values) < _INF:  # one pass in C: then every value is finite
                return
        except TypeError:  # a None among them (a group left alone)
            pass
        if not all(v is None or -_INF < v < _INF for v in values):
            refuse = self.refuse()
            if refuse is not None:
                refuse(name, values, t)

    def chain(self, name: str, step: float, t: float, current: Sequence[float]) -> list[Any]:
        """Track ``name``'s values at ``t`` for every group, chained from ``step`` onto what the
        groups hold, ``current``, as :meth:`move` chains them (for a drop-in that writes the
        values itself: the groups' own change of each schedule, so a group whose base is 0 or
        equal to its floor is moved as upstream moves it). Changes nothing."""
        before, prior = self._before(step)
        old, was = before[name], prior[name]
        after, units = self._at(t)
        if list(current) == old:
            return list(after[name])
        schedules = self.binder.tracks[name].schedules
        changes = [None if s is None else change(s, step, t, p, u)
                   for s, p, u in zip(schedules, was, units[name])]
        return chained(current, old, old, after[name], floors(self.binder.tracks[name]),
                       changes)

    def _before(self, step: float) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
        """:meth:`before` and the schedules' values there (at -1, see :func:`base_unit`)."""
        if step >= 0:
            return self._at(step)
        tracks = self.binder.tracks.items()
        return ({name: list(track.bases) for name, track in tracks},
                {name: [base_unit(track)] * len(track) for name, track in tracks})

    def _move_shared(self, step: float, t: float, schedule: Any, track: Track,
                     writes: Any) -> list[Any]:
        """:meth:`move` for the common case: one schedule for every group, float values."""
        row = self._row
        if row is not None and row[0] == step:
            old, prior = row[1], row[2]
        else:
            values, units = self._before(step)
            old, prior = values[track.name], units[track.name][0]
        lows, spans = track.ends()
        f = schedule.evaluate(t, SCALAR)
        if len(lows) == 1 and writes.groups:  # one float group: no lists to build
            group, key = writes.groups[0], writes.name
            lone0 = lows[0] + spans[0] * f
            self._row = (t, [lone0], f)
            current = group[key]
            if current != old[0]:  # moved by someone else: chain (chained(), for one group)
                r = change(schedule, step, t, prior, f)
                if not track.floored:
                    lone0 = current * r if r is not None else _relative(current, old[0], lone0)
                elif r is not None:
                    lone0 = lows[0] + (current - lows[0]) * r
                else:
                    lone0 = _floored(current, old[0], lone0, lows[0])
            if not -_INF < lone0 < _INF:  # inf or NaN: never written
                self._check(key, [lone0], t)
            group[key] = lone0
            return [lone0]
        lone = [low + span * f for low, span in zip(lows, spans)]
        self._row = (t, lone, f)
        current = writes.read()
        # alone on these groups: the closed form; else another scheduler (or the user) moved
        # them since, and the change moves what they hold
        if current == old:
            written = lone
        else:
            r = change(schedule, step, t, prior, f)
            if r is None:
                written = chained(current, old, old, lone, floors(track))
            elif track.floored:
                written = [a if c == h else low + (c - low) * r
                           for c, h, a, low in zip(current, old, lone, lows)]
            else:
                written = [a if c == h else c * r for c, h, a in zip(current, old, lone)]
        self._check(track.name, written, t)
        writes.write_all(written)
        return written

    def write(self, t: float) -> list[Any] | None:
        """Write the values at ``t`` outright; returns them as :meth:`move` does."""
        values = self.values(t)
        for name, row in values.items():
            self._check(name, row, t)
        self.binder.write(values)
        if len(values) == 1:
            writes = self.binder.writes(next(iter(values)))
            if writes.complete and writes.exact:
                return next(iter(values.values()))
        return None


def refuse_values(scheduler: Any, name: str, values: Sequence[Any], t: float) -> None:
    """Refuse ``values`` that are not all finite, before ``scheduler`` (a drop-in) writes them:
    upstream would write them, and the next update would make the parameters inf or NaN. The
    error names the drop-in and its settings (and the loaded state's entry the value moved on
    from, on the first step after a load wrote one)."""
    bad = next(i for i, v in enumerate(values) if v is not None and not math.isfinite(v))
    settings = ", ".join(f"{k}={shown(v)}" for k, v in scheduler._setting_values().items())
    loaded = getattr(scheduler, "_restored", None)
    since = "" if loaded is None else f", moving on from the loaded state's {loaded!r}"
    raise InvalidValue(
        f"{name!r} must be a finite number (got {values[bad]!r} for param group {bad} at step "
        f"{t:g} from {type(scheduler).__name__}({settings}){since}): it is never written")


def no_value_for_added(scheduler: Any, known: int, bases: str, upstream: str,
                       cause: BaseException) -> InvalidValue:
    """The error for a param group added after ``scheduler`` was built (``known`` groups then,
    whose bases are its ``bases`` attribute) that upstream's class has no value for."""
    kind = type(scheduler).__name__
    return InvalidValue(
        f"param group {known} has no base in {bases!r} ({known} entries): it was added "
        f"(optimizer.add_param_group) after this {kind} was built or saved, and {kind} has no "
        f"value for it: {upstream}'s fails here too ({type(cause).__name__}: {cause}). Build "
        "the scheduler once every group is in the optimizer, or use cadence.Scheduler, which "
        "schedules groups added later")


def chained(current: Sequence[float], held: Sequence[float], before: Sequence[float],
            after: Sequence[float], floors: Sequence[float] | None = None,
            changes: Sequence[float | None] | None = None) -> list[float]:
    """Per group, the value a scheduler writes: ``after`` where the group holds ``held``
    (``before`` as the group stores it: nobody else moved it), else upstream's chainable form
    on the value ``c`` it holds, with the floor ``m`` (0 by default) and the scheduler's change
    ``r`` (``changes``, where given and not None; else ``(after - m) / (before - m)``):
    ``m + (c - m) * r``. Where ``before`` is at the floor there is no ratio, and ``c`` moves by
    the rise ``after - m``: the cosines one step past their minimum, and a decay that stays at
    0 (a rise of 0) leaves the value as it is."""
    if changes is None:
        changes = [None] * len(current)
    if floors is None:
        return [a if c == h else c * r if r is not None else _relative(c, b, a)
                for c, h, b, a, r in zip(current, held, before, after, changes)]
    return [a if c == h else f + (c - f) * r if r is not None else _floored(c, b, a, f)
            for c, h, b, a, f, r in zip(current, held, before, after, floors, changes)]


def _relative(c: float, b: float, a: float) -> float:
    """:func:`chained` without a floor, from the values."""
    if b:
        return c * (a / b)
    return c + a  # from 0: the rise (0 for a decay that stays at 0: the value is kept)


def _floored(c: float, b: float, a: float, f: float) -> float:
    """:func:`chained` with the floor ``f``, from the values."""
    if b != f:
        return f + (c - f) * ((a - f) / (b - f))
    return c + (a - f)  # from the floor: the rise (PyTorch's and MMEngine's cosines)


def change(schedule: Any, step: float, t: float, before: Any, after: Any) -> float | None:
    """Upstream's factor on what a group holds, from ``step`` to ``t``, for a group following
    ``schedule``, whose values there are ``before`` and ``after`` (None: not known): their
    ratio, or upstream's own multiplier where the schedule has one (ExponentialLR's, StepLR's
    and MultiStepLR's ``gamma``, exact even where the product underflowed; MultiplicativeLR's
    function where its product reached 0); None where ``before`` is 0, for :func:`chained`'s
    rule from the floor. A re-timed schedule's change is that of the part both steps are in,
    the continuation's from the step of the change (it goes on from the value there)."""
    if isinstance(schedule, Switch) and step >= 0:  # a re-timed drop-in's: its part's values
        schedule = moving_part(schedule, step, t)
        before, after = schedule.evaluate(step, SCALAR), schedule.evaluate(t, SCALAR)
    kind = _OWN.get(type(schedule))
    if kind is not None and step >= 0:  # from the base (-1), the ratio: upstream's own first
        if kind is not Multiplicative:
            if schedule.floor is None:
                return _gamma(schedule, step, t)
        elif before is not None and -_TINY < before < _TINY:
            r = 1.0
            for k in range(math.floor(step) + 1, math.floor(t) + 1):
                r *= schedule.factor_at(k)  # the product reached 0: upstream multiplies on
            return r
    scaled = _scaled_piece(schedule, step, t)
    if scaled is not None:  # a piece times a constant (a restart cycle's weight): its own change
        piece, a, b = scaled
        first = piece.evaluate(a, SCALAR)
        return piece.evaluate(b, SCALAR) / first if first else None
    if before is None or after is None or not before:
        return None
    return after / before


def _scaled_piece(schedule: Any, step: float, t: float) -> tuple[Schedule, float, float] | None:
    """``(s, a, b)`` where ``schedule`` is ``Scale(s, k)`` from ``step`` to ``t`` (the piece
    of a join both fall in, in its local time ``a`` to ``b``): the change is that of ``s``, known
    even for ``k = 0``."""
    if isinstance(schedule, Join):
        starts = (0.0, *map(float, schedule.boundaries))
        i, j = bisect.bisect_right(starts, step) - 1, bisect.bisect_right(starts, t) - 1
        if i != j or i < 0:
            return None
        schedule, step, t = schedule.schedules[i], step - starts[i], t - starts[i]
    if isinstance(schedule, Scale):
        return schedule.schedule, step, t
    return None


# the schedules whose upstream change is their own multiplier, not a ratio of their values (the
# classes themselves: a subclass may compute its values otherwise)
_OWN: dict[type, type] = {cls: cls for cls in (Exponential, Step, MultiStep, Multiplicative)}


def _gamma(schedule: Exponential | Step | MultiStep, step: float, t: float) -> float:
    """``gamma`` to the number of decays from ``step`` to ``t``."""
    if isinstance(schedule, Exponential):
        return float(schedule.rate ** (t - step))
    if isinstance(schedule, Step):
        count = math.floor(t / schedule.every) - math.floor(step / schedule.every)
    else:
        marks = schedule.milestones
        count = bisect.bisect_right(marks, t) - bisect.bisect_right(marks, step)
    return float(schedule.gamma ** count) if count else 1.0


def base_unit(track: Track) -> float | None:
    """The schedule value a group's base stands for, where the track's span ends at the base
    (``value = low + (base - low) * f``): 1; else None (not known)."""
    span = track.span
    return 1.0 if span.high_abs == 0.0 and span.high_rel == 1.0 else None


def floors(track: Track, members: Sequence[int] | None = None) -> list[float] | None:
    """The track's floor per group (its value at a schedule value of 0), where it has one."""
    if not track.floored:
        return None
    lows = track.ends()[0]
    return list(lows) if members is None else [lows[i] for i in members]


def advance(binder: Binder, before: Mapping[str, Sequence[Any]],
            after: Mapping[str, Sequence[Any]]) -> None:
    """Move every track of ``binder`` from its values ``before`` to ``after`` (both as
    :meth:`Binder.values` gives them), by :func:`chained`."""
    for name, row in after.items():
        writes = binder.writes(name)
        if writes.complete:
            old, new = before[name], row
        else:
            old = [before[name][i] for i in writes.indices]
            new = [row[i] for i in writes.indices]
        low = floors(binder.tracks[name], None if writes.complete else writes.indices)
        writes.write(chained(writes.read(), writes.held(old), old, new, low))
