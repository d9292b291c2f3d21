"""Re-timing a running PyTorch drop-in: a setting assigned mid-run (``sched.T_max = 2000``,
``sched.total_iters = 500``, ``sched.milestones = Counter([60, 90])``) and stepping on.

PyTorch's chainable classes move the lr the groups hold by the ratio of their formula's values
at the new settings, so the values after the change continue from the value at the change:
``CosineAnnealingLR`` given a new ``T_max`` at step ``k`` goes on as ``eta_min + (lr_k -
eta_min) * (1 + cos(pi t / T')) / (1 + cos(pi k / T'))`` until the cosine's next minimum, and
as the plain cosine of ``T'`` (from the base) after it. A drop-in follows that in closed form:
its schedule becomes a :class:`~cadence.schedules.Switch` of the old one at step ``k + 1`` to
the continuation, built from the value at ``k`` (:data:`CONTINUATIONS`), so it is exact at
every step, previewed by ``value_at`` and resumed exactly. The change is recorded in the
drop-in's ``__dict__`` under :data:`RECORD` (so in its state, beside upstream's entries, only
once a change was made): the step and the settings before it. A loaded state's record rebuilds
the same schedule; a state without one clears it.

``CosineAnnealingWarmRestarts`` is a closed form of its counters: ``T_0`` only counts again at
``step(epoch)``, and a new ``T_mult`` scales the cycles after the current one; its record keeps
the counters (:mod:`cadence.compat._cyclic`). ``step(epoch)`` (PyTorch's closed form of the
current settings) forgets the record, as upstream does. A change of a setting that is not
recorded (``CosineAnnealingLR``'s ``eta_min``) is followed as before: the groups are chained
from what they hold, which is upstream's rule, and the record is dropped.

A cosine re-timed at step 10, where it stood at 0.3 of the way from ``eta_min`` to the base,
to ``T_max=20``: the ratio form down to the minimum at 20, then the cosine of 20 from the base:

>>> continued = cosine(shapes.cosine_annealing(20), 0.3, 10, T_max=20, eta_min=0.0)
>>> continued([10, 11, 20, 21, 40]).round(6).tolist()
[0.3, 0.25307, 0.0, 0.006156, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

from cadence.compat import torch_shapes as shapes
from cadence.compat._torch_checks import _unchanged, real
from cadence.scheduler.slots import as_float
from cadence.scheduler.track import Track
from cadence.schedules import Constant, Exponential, MultiStep, Schedule, Step, join
from cadence.schedules.branch import Switch
from cadence.schedules.ops import SCALAR
from cadence.validation import (
    InvalidType,
    InvalidValue,
    check_non_negative,
    check_positive,
    check_positive_int,
    check_range,
    shown,
)

RECORD = "_cadence_retimed"
"""The drop-in's attribute (and state entry) that records its re-timings, oldest first: a list
of ``{"step": k, "settings": {...}}``, the step the scheduler stood at when its settings
changed and the settings before the change (a warm-restarts record adds its counters)."""


# -- the continuations: the unit schedule from step k on, given its value there --------------
def _scaled(shape: Schedule, value: float, step: int) -> Schedule:
    """``shape`` scaled to pass through ``value`` at ``step``: the ratio form."""
    at = float(shape.evaluate(float(step), SCALAR))
    return Constant(value) if at == 0 else shape * (value / at)


def cosine(shape: Schedule, value: float, step: int, T_max: Any, eta_min: Any) -> Schedule:
    """``CosineAnnealingLR``: the ratio form until the cosine of the new ``T_max`` reaches its
    minimum, the plain cosine after it. Upstream adds the rise from the minimum one step after
    it (a ratio from 0 has no value), so a change made at a minimum rises from the value there."""
    period = as_float(T_max)
    if not period.is_integer():  # upstream's minimum test, (t - 1 - T) % 2T == 0, never holds
        return _scaled(shape, value, step)
    offset = (period - step) % (2 * period)  # steps to the next minimum (0: at one now)
    if offset == 0:
        first = float(shape.evaluate(step + 1.0, SCALAR))
        return Switch(shape * ((value + first) / first), at=step + 2 * period, then=shape)
    return Switch(_scaled(shape, value, step), at=step + offset, then=shape)


def ends(shape: Schedule, value: float, step: int, total_iters: Any, **_: Any) -> Schedule:
    """``LinearLR``, ``PolynomialLR``: the ratio form up to ``total_iters``; past it the value
    is kept (upstream leaves the lr alone after ``total_iters``)."""
    if step >= as_float(total_iters):
        return Constant(value)
    return _scaled(shape, value, step)


def constant(shape: Schedule, value: float, step: int, factor: Any,
             total_iters: Any) -> Schedule:
    """``ConstantLR``: the value kept, divided by ``factor`` at ``total_iters`` if that is still
    ahead (with ``factor=0`` upstream divides by zero; the rise to the base is added)."""
    total = as_float(total_iters)
    if step >= total:
        return Constant(value)
    if as_float(factor) == 0:
        return Switch(Constant(value), at=total, then=Constant(value + 1.0))
    return _scaled(shape, value, step)


def step_lr(shape: Schedule, value: float, step: int, step_size: Any, gamma: Any) -> Schedule:
    """``StepLR``: ``gamma`` at each multiple of the new ``step_size`` after ``step``."""
    every, rate = as_float(step_size), as_float(gamma)
    following = (math.floor(step / every) + 1) * every
    return join([Constant(value), Step(every=every, gamma=rate, start=value * rate)],
                [following])


def multistep(shape: Schedule, value: float, step: int, milestones: Any,
              gamma: Any) -> Schedule:
    """``MultiStepLR``: ``gamma`` at each of the new milestones after ``step``."""
    ahead = [m for m in shapes.milestone_list(milestones) if m > step]
    if not ahead:
        return Constant(value)
    return MultiStep(milestones=ahead, gamma=as_float(gamma), start=value)


def exponential(shape: Schedule, value: float, step: int, gamma: Any) -> Schedule:
    """``ExponentialLR``: the new ``gamma`` every step after ``step``."""
    decay = Exponential(rate=as_float(gamma), start=value)
    return join([Constant(value), decay], [step]) if step > 0 else decay


Continuation = Callable[..., Schedule]

CONTINUATIONS: dict[Callable[..., list[Track]], tuple[Continuation, frozenset[str] | None]] = {
    shapes.cosine_annealing_lr: (cosine, frozenset({"T_max"})),
    shapes.linear_lr: (ends, None),
    shapes.polynomial_lr: (ends, None),
    shapes.constant_lr: (constant, None),
    shapes.step_lr: (step_lr, None),
    shapes.multistep_lr: (multistep, None),
    shapes.exponential_lr: (exponential, None),
}
"""Each chainable family's continuation and the settings whose change is recorded (None: every
one; a change of another drops the record)."""

RULES: dict[str, Callable[[str, Any], Any]] = {
    "T_max": check_positive, "T_0": check_positive_int, "T_mult": check_positive_int,
    "eta_min": check_non_negative, "total_iters": check_non_negative,
    "step_size": check_positive, "gamma": check_positive, "power": check_positive,
    "factor": lambda name, v: check_range(name, v, 0.0, 1.0),
    "start_factor": lambda name, v: check_range(name, v, 0.0, 1.0, low_open=True),
    "end_factor": lambda name, v: check_range(name, v, 0.0, 1.0),
}
"""The rule each setting assigned mid-run must keep: its constructor's (a setting not named here
is checked by the family's description)."""


# -- the drop-in's side -----------------------------------------------------------------------
class Retiming:
    """What the PyTorch drop-ins' base (:class:`cadence.compat.lr_scheduler.LRScheduler`)
    mixes in: which changes of settings are re-timings, what is recorded of one, and the
    schedule after it. ``CosineAnnealingWarmRestarts`` overrides them."""

    __slots__ = ()
    _record_counters: ClassVar[tuple[str, ...]] = ()  # what a record keeps beside the settings
    _settings: ClassVar[tuple[str, ...]]
    last_epoch: int

    def _retimes(self, describe: Callable[..., list[Track]]) -> bool:
        """Whether a change of this family's settings mid-run is followed in closed form."""
        return describe in CONTINUATIONS

    def _recorded(self, changed: set[str], describe: Callable[..., list[Track]]) -> bool:
        """Whether a change of the settings ``changed`` is recorded as a re-timing."""
        names = CONTINUATIONS[describe][1]
        return names is None or changed <= names

    def _keeps_record(self, changed: set[str]) -> bool:
        """Whether a change that is not recorded keeps the record (a closed form of it)."""
        return False

    def _retime_record(self, before: dict[str, Any]) -> dict[str, Any]:
        """The record of a change made now: the step and the settings before it."""
        return {"step": self.last_epoch, "settings": before}

    def _branch(self, schedule: Schedule, record: Mapping[str, Any], settings: dict[str, Any],
                describe: Callable[..., list[Track]]) -> Schedule:
        """The schedule after the change ``record`` made to ``settings``: the old one up to the
        step of the change, the continuation from its value there."""
        continued, _ = CONTINUATIONS[describe]
        step = record["step"]
        [shape] = describe([1.0], **settings)[0].schedules
        value = float(schedule.evaluate(float(step), SCALAR))
        return Switch(schedule, at=step + 1, then=continued(shape, value, step, **settings))


def tracks(scheduler: Any, describe: Callable[..., list[Track]],
           old: tuple[Any, Any] | None) -> list[Track]:
    """The tracks of ``scheduler`` (a drop-in of a family that ``describe`` describes) at its
    settings now; ``old`` is the key of its previous closed form (None: none, or a state was
    just loaded). A change of settings since is recorded first (see the module)."""
    bases = scheduler._bases()
    current = scheduler._setting_values()
    if scheduler._custom or not scheduler._retimes(describe):
        return describe(bases, **current)
    records = list(scheduler.__dict__.get(RECORD) or ())
    if old is not None and scheduler.last_epoch >= 0:
        before = _named(scheduler, old[0])
        changed = {n for n in current if not _unchanged(before.get(n), current[n])}
        _check(scheduler, describe, changed, current)
        if changed and scheduler._recorded(changed, describe):
            records.append(scheduler._retime_record(before))
        elif changed and not scheduler._keeps_record(changed):
            records = []
    made = describe(bases, **current)
    if records:
        [track] = made
        [first] = describe([1.0], **records[0]["settings"])[0].schedules
        schedule: Schedule = first  # type: ignore[assignment]  # a family's: never None
        nexts = [*(r["settings"] for r in records[1:]), current]
        for record, settings in zip(records, nexts):
            try:
                schedule = scheduler._branch(schedule, record, settings, describe)
            except (ArithmeticError, InvalidValue, TypeError, ValueError) as exc:
                raise InvalidValue(
                    f"{type(scheduler).__name__} cannot go on from step {record['step']} with "
                    f"{_shown(settings)}: {exc}") from exc
        made = [Track.shared(track.name, schedule, bases, track.span)]
    if records:  # kept once the closed form is made: a refused change is not recorded
        scheduler.__dict__[RECORD] = records
    else:
        scheduler.__dict__.pop(RECORD, None)
    return made


def moving_part(schedule: Schedule, step: float, t: float) -> Schedule:
    """The part of a re-timed schedule (nested :class:`~cadence.schedules.Switch`) that moves it
    from ``step`` to ``t`` (:func:`cadence.compat.chaining.change`): the continuation from the
    step of the change on, as it goes on from the value there."""
    while isinstance(schedule, Switch):
        if step >= schedule.at - 1:
            schedule = schedule.then
        elif t < schedule.at:
            schedule = schedule.schedule
        else:
            break
    return schedule


def forget(scheduler: Any) -> None:
    """Drop the record (``step(epoch)`` goes to the closed form of the current settings)."""
    if scheduler.__dict__.pop(RECORD, None) is not None:
        scheduler._runtime = None


@contextmanager
def loading(scheduler: Any, state: Mapping[str, Any]) -> Iterator[None]:
    """Around upstream's ``load_state_dict``: the state's record is checked first and replaces
    the drop-in's (a state without one clears it); the closed form is made again from the
    loaded settings, not taken for a change of them, so a setting assigned after the load is
    one (upstream's rule: load, then assign)."""
    check_record(state.get(RECORD), scheduler)
    scheduler.__dict__.pop(RECORD, None)
    scheduler._runtime = None
    try:
        yield
    except BaseException:
        scheduler._runtime = None  # a refused state put the old settings back
        raise
    if not scheduler._custom and getattr(type(scheduler), "describe", None) is not None:
        scheduler._now()


def check_record(record: object, scheduler: Any) -> None:
    """A loaded state's :data:`RECORD`: None, or a list of ``{"step": a number >= 0, "settings":
    {name: value}}`` naming the drop-in's settings (and a warm-restarts record's counters)."""
    if record is None:
        return
    where = f"state_dict[{RECORD!r}]"
    if not isinstance(record, list):
        raise InvalidType(f"{where} must be a list of re-timings (got {shown(record)})")
    names = set(scheduler._settings)
    for i, entry in enumerate(record):
        if not (isinstance(entry, dict) and isinstance(entry.get("settings"), dict)):
            raise InvalidType(f"{where}[{i}] must be a dict with 'step' and 'settings' "
                              f"(got {shown(entry)})")
        for key in ("step", *getattr(scheduler, "_record_counters", ())):
            value = entry.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    math.isfinite(value) and value >= 0):
                raise InvalidValue(f"{where}[{i}][{key!r}] must be a finite number >= 0 "
                                   f"(got {shown(value)})")
        if set(entry["settings"]) != names:
            raise InvalidValue(f"{where}[{i}]['settings'] must name {sorted(names)} "
                               f"(got {sorted(entry['settings'])})")


def _check(scheduler: Any, describe: Callable[..., list[Track]], changed: set[str],
           current: Mapping[str, Any]) -> None:
    """Refuse a setting assigned mid-run that its constructor would refuse, naming it."""
    for name in sorted(changed):
        rule = check_positive if (describe, name) == (shapes.polynomial_lr, "total_iters") \
            else RULES.get(name)
        if rule is not None:
            try:
                rule(name, real(current[name]))
            except InvalidValue as exc:
                raise type(exc)(f"{type(scheduler).__name__}.{name} was changed at step "
                                f"{scheduler.last_epoch}: {exc}") from None


def _named(scheduler: Any, values: Any) -> dict[str, Any]:
    """The settings as ``_read_settings`` gave them (one value alone for one setting)."""
    names = scheduler._settings
    return dict(zip(names, values if len(names) > 1 else (values,)))


def _shown(settings: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={shown(v)}" for k, v in settings.items())


__all__ = ["CONTINUATIONS", "RECORD", "RULES", "Retiming", "forget", "loading", "moving_part",
           "tracks"]
