"""Re-timing a running ``cadence.Scheduler``: extend its schedules to a new total, branch a
cool-down, or switch to a new schedule at the current step, and resume a state into a changed
schedule under a named policy.

Every change replaces a schedule ``s`` by a branched one (:mod:`cadence.schedules.branch`)
that is ``s`` before the current step. The state saved after it holds the branched schedule, so
a later resume is exact: a scheduler built with the original schedule (the training script as
it was) takes the branch from the state, since the state shows it was branched from it.

What a branch keeps: the bases, the clock, the batch scaling and a plateau controller's state
(its reductions so far keep applying to the new schedule, and its patience goes on); a
restart schedule's cycle is re-timed as any shape is (``"rescale"`` stretches the cycles left,
``"hold"`` stops the cycle for the added steps, a cool-down ends the restarts).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cadence.config.encoding import fingerprint
from cadence.scheduler.binder import Binder
from cadence.scheduler.clock import Clock, Time
from cadence.scheduler.selection import Selection, as_schedule
from cadence.scheduler.target_set import TargetSet
from cadence.schedules import Schedule
from cadence.schedules.branch import POLICIES, Branched, Cooldown, Extend, Switch, lineage
from cadence.schedules.extents import own_end
from cadence.schedules.wsd import SHAPES
from cadence.validation import InvalidInput, InvalidType, InvalidValue, check_choice

RESUME_POLICIES = (*POLICIES, "switch", "jump")
"""What loading a state saved with a different schedule does (``Scheduler(..., retime=)``):
``"rescale"``, ``"hold"`` or ``"continue"`` re-time the saved schedule to end where this one
ends (:class:`~cadence.schedules.Extend`); ``"switch"`` takes this scheduler's schedule from
the saved step, refused if it jumps there; ``"jump"`` takes it even so."""

JUMP_TOLERANCE = 1e-9
"""A switch whose value at the switch differs by more than this (relatively) is a jump."""


class Retiming:
    """The re-timing part of a ``cadence.Scheduler`` (see the module)."""

    _binder: Binder
    _clock: Clock
    _time: Time
    _selections: dict[str, Selection]
    _targets: TargetSet
    _retime: str | None

    if TYPE_CHECKING:  # the Scheduler's own
        def _commit(self, time: Time, undo: Callable[[], None] | None = None) -> None: ...

        def _sync_groups(self) -> None: ...

    # -- the operations ----------------------------------------------------------------------
    def extend(self, total: int | float | str, *, policy: str = "rescale",
               shape: str = "cosine", names: Iterable[str] | None = None) -> None:
        """Make the schedules end at ``total`` (in this scheduler's clock, or a length such as
        ``"3ep"`` or ``"2e9tok"``) instead of where they end now, from the current step, by
        ``policy``: ``"rescale"`` (stretch what is left), ``"hold"`` (hold the current value,
        then play what is left) or ``"continue"`` (a ``shape`` decay from the current value to
        the end value). No value changes at the current step.

        ``names``: the hyperparameters (and targets) to extend; by default every one whose
        schedule still has a way to go (a constant, or one with no end of its own, stays).
        """
        check_choice("policy", policy, POLICIES)
        check_choice("shape", shape, SHAPES)
        new_total = self._length("total", total)
        at = self._time.position
        chosen = self._names(names)

        def extended(name: str, schedule: Schedule) -> Schedule:
            end = own_end(schedule)
            if names is None and (end is None or end <= at):
                return schedule
            return Extend(schedule, at=at, new_total=new_total, policy=policy, shape=shape)
        self._branch(chosen, extended)

    def anneal(self, steps: int | float | str, *, shape: str = "linear", end: float = 0.0,
               names: Iterable[str] = ("lr",)) -> None:
        """Branch a cool-down from the current step: ``shape`` (``"linear"``, ``"cosine"`` or
        ``"1-sqrt"``) from the current value to ``end`` (a factor of the base, or a value for an
        absolute hyperparameter) over ``steps`` (in this scheduler's clock, or a length such as
        ``"2ep"``), then ``end``. The schedule of ``names`` (the lr by default) only."""
        length = self._length("steps", steps)
        at = self._time.position
        self._branch(self._names(names), lambda name, schedule: Cooldown(
            schedule, at=at, steps=length, shape=shape, end=end))

    def switch(self, *, jump: bool = False, **schedules: object) -> None:
        """Take new schedules from the current step on: ``switch(lr=Cosine(steps=20_000))``.
        Each new schedule is read at the run's steps (not restarted at 0). A value that would
        change at the current step is refused unless ``jump=True``."""
        if not schedules:
            raise InvalidValue("switch() needs a schedule to switch to, e.g. switch(lr=...)")
        if not isinstance(jump, bool):
            raise InvalidType(f"'jump' must be a bool (got {jump!r})")
        new = {name: as_schedule(name, value, selectors=False)
               for name, value in schedules.items()}
        at = self._time.position
        self._branch(self._names(new), lambda name, schedule: Switch(
            schedule, at=at, then=new[name]), jump=jump)

    # -- the machinery -----------------------------------------------------------------------
    def _length(self, name: str, value: object) -> int | float:
        if isinstance(value, str):
            return self._clock.length(value, f"{name!r}")
        return value  # type: ignore[return-value]  # checked by the schedule

    def _names(self, names: Iterable[str] | None) -> list[str]:
        scheduled = [*self._selections, *self._targets.targets]
        if names is None:
            return scheduled
        if isinstance(names, str):
            names = [names]
        chosen = list(names)
        for name in chosen:
            if name not in scheduled:
                raise InvalidValue(f"{name!r} is not scheduled by this Scheduler; it schedules "
                                   f"{scheduled}")
        return chosen

    def _branch(self, names: list[str], make: Callable[[str, Schedule], Schedule],
                jump: bool = True) -> None:
        """Replace the schedule ``s`` of each of ``names`` by ``make(name, s)`` and write the
        values at the current step; refused, with nothing changed, if one jumps there and
        ``jump`` is False."""
        self._sync_groups()
        new: dict[str, list[Schedule]] = {}
        for name in names:
            new[name] = []
            for schedule in self._schedules_of(name):
                try:
                    branched = make(name, schedule)
                except InvalidInput as exc:
                    raise type(exc)(f"{name!r}: {exc}") from None
                if not jump:
                    check_continuous(name, branched)
                new[name].append(branched)
        self._commit(self._time, self._replace(new))

    def _schedules_of(self, name: str) -> list[Schedule]:
        if name in self._selections:
            return list(self._selections[name].schedules)
        return [self._targets.schedule(name)]

    def _replace(self, new: Mapping[str, list[Schedule]]) -> Callable[[], None]:
        """Give each of ``new``'s names its schedules (one per selector, or a target's one);
        returns what puts the old ones back."""
        selections = dict(self._selections)
        tracks = {name: list(track.schedules) for name, track in self._binder.tracks.items()}
        targets = {name: self._targets.schedule(name) for name in self._targets.targets}
        for name, schedules in new.items():
            if name not in self._selections:
                [schedule] = schedules
                self._targets.reschedule(name, schedule)
                continue
            selection = self._selections[name]
            swap = {id(old): s for old, s in zip(selection.schedules, schedules)}
            self._selections[name] = Selection(name, tuple(schedules), selection.selectors)
            track = self._binder.tracks[name]
            track.reassign([None if s is None else swap.get(id(s), s) for s in track.schedules],
                           track.bases)
        self._binder.forget_layout()

        def undo() -> None:
            self._selections.clear()
            self._selections.update(selections)
            for name, track in self._binder.tracks.items():
                track.reassign(tracks[name], track.bases)
            for name, schedule in targets.items():
                if self._targets.schedule(name) is not schedule:
                    self._targets.reschedule(name, schedule)
            self._binder.forget_layout()
        return undo

    # -- resuming into a changed schedule ------------------------------------------------------
    def _follow_saved(self, layout: Any, steps: int, policy: str | None
                      ) -> tuple[Callable[[], None] | None, Any]:
        """Before a saved ``layout`` is compared with this scheduler's: a schedule the state
        shows was branched from this one's is taken from the state (a re-timed run resumed by
        its original script); with a ``policy``, a saved schedule that differs from this one is
        re-timed by it (:data:`RESUME_POLICIES`). Returns what undoes it (None: nothing done)
        and the layout to compare with, where a schedule re-timed by the policy is the one it
        became."""
        if not isinstance(layout, Mapping):
            return None, layout
        saved: dict[str, list[Any]] = {}
        hyper = layout.get("hyperparameters")
        for name in self._selections:
            entry = hyper.get(name) if isinstance(hyper, Mapping) else None
            if isinstance(entry, Mapping) and isinstance(entry.get("schedules"), list):
                saved[name] = entry["schedules"]
        targets = layout.get("targets")
        for name in self._targets.targets:
            entry = targets.get(name) if isinstance(targets, Mapping) else None
            if isinstance(entry, Mapping) and "schedule" in entry:
                saved[name] = [entry["schedule"]]
        new: dict[str, list[Schedule]] = {}
        for name, configs in saved.items():
            mine = self._schedules_of(name)
            if len(configs) != len(mine):
                continue  # a different routing: named by the comparison
            followed = [_follow(name, config, schedule, steps, policy)
                        for config, schedule in zip(configs, mine)]
            if any(f is not m for f, m in zip(followed, mine)):
                new[name] = followed
        if not new:
            return None, layout
        patched = copy.deepcopy(dict(layout))
        for name, schedules in new.items():
            prints = [fingerprint(s) for s in schedules]
            if name in self._selections:
                patched["hyperparameters"][name]["schedules"] = prints
            else:
                patched["targets"][name]["schedule"] = prints[0]
        return self._replace(new), patched


def _follow(name: str, config: Any, mine: Schedule, steps: int, policy: str | None
            ) -> Schedule:
    """This scheduler's schedule ``mine`` for a state saved with schedule ``config`` at
    ``steps`` (see :meth:`Retiming._follow_saved`)."""
    from cadence.config import from_config

    mark = fingerprint(mine)
    if config == mark:
        return mine
    try:  # this schedule where the saved one holds it: one of a user's function is rebuilt too
        saved = from_config(_holding(config, mark, mine))
    except Exception:  # another user's function cannot be rebuilt: the difference is named
        return mine
    if not isinstance(saved, Schedule):
        return mine
    if any(fingerprint(s) == mark for s in lineage(saved)):
        return saved  # a branch from this schedule, recorded in the state
    if policy is None:
        return mine
    return retimed(name, saved, steps, mine, policy)


def _holding(config: Any, mark: Any, mine: Schedule) -> Any:
    """``config`` with each part that is ``mine``'s fingerprint ``mark`` replaced by ``mine``
    itself, which :func:`~cadence.config.from_config` takes as it is: a branch from a schedule
    of a user's function (no config form) is rebuilt from the state and this schedule."""
    if config == mark:
        return mine
    if isinstance(config, Mapping):
        return {key: _holding(value, mark, mine) for key, value in config.items()}
    if isinstance(config, list):
        return [_holding(item, mark, mine) for item in config]
    return config


def retimed(name: str, saved: Schedule, at: int | float, mine: Schedule,
            policy: str) -> Schedule:
    """The saved schedule re-timed at step ``at`` into ``mine`` by ``policy``
    (:data:`RESUME_POLICIES`): the schedule a resumed run follows."""
    if policy in ("switch", "jump"):
        if isinstance(saved, Switch) and fingerprint(saved.then) == fingerprint(mine):
            return saved  # switched to this schedule before (an earlier resume): already on it
        branched: Schedule = Switch(saved, at=at, then=mine)
        if policy == "switch":
            check_continuous(name, branched, "retime='jump'")
        return branched
    total = own_end(mine)
    if total is None:
        raise InvalidValue(
            f"{name!r}: retime={policy!r} re-times the saved schedule to end where this "
            f"scheduler's ends, and {mine!r} has no end of its own: give a schedule that ends, "
            "or retime='switch'")
    new_total = int(total) if float(total).is_integer() else total
    if own_end(saved) == new_total and (policy != "continue" or isinstance(saved, Branched)):
        # it already ends there (re-timed before, "continue" included: a second "continue"
        # would start a new decay from this step, a different curve): nothing to re-time
        return saved
    try:
        return Extend(saved, at=at, new_total=new_total, policy=policy)
    except InvalidInput as exc:
        raise type(exc)(f"{name!r}: resuming with retime={policy!r} at step {at}: {exc}"
                        ) from None


def check_continuous(name: str, branched: Schedule, remedy: str = "jump=True") -> None:
    """Refuse a branch whose value jumps at its switch (beyond :data:`JUMP_TOLERANCE`)."""
    if not isinstance(branched, Branched):
        return
    before, after = branched.switch_values()
    if not math.isclose(before, after, rel_tol=JUMP_TOLERANCE, abs_tol=0.0) and not (
            math.isnan(before) and math.isnan(after)):
        raise InvalidValue(
            f"{name!r} would jump at step {branched.at:g} from {before!r} to {after!r}: pass "
            f"{remedy} to take the jump, or re-time the old schedule (extend(..., policy="
            f"'rescale' | 'hold' | 'continue'), anneal(...)), which starts from its value")


def check_policy(value: object) -> str | None:
    """A ``retime=`` policy (:data:`RESUME_POLICIES`) or None."""
    return None if value is None else check_choice("retime", value, RESUME_POLICIES)


__all__ = ["JUMP_TOLERANCE", "RESUME_POLICIES"]  # Retiming is a part of Scheduler
