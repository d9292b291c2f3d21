"""Named targets bound to schedules: the values outside the optimizer that a scheduler moves.

Each target follows one schedule; its places (one, or one per module) each have a base, the
value they held when the scheduler was built (or the saved one after a resume), and the value
written at step ``t`` is the :class:`~cadence.scheduler.track.Span`'s map of ``schedule(t)``
from that base: ``base * schedule(t)`` by default, ``schedule(t)`` when absolute. A place that
holds an int takes ``round(value)`` (ties to even): :meth:`TargetSet.values` and
:meth:`TargetSet.value_at` give that rounded value, the one it will hold.

Every value is computed and checked (finite, inside the target's bounds) before any is written,
and the writes are all or none: a place that refuses its value puts back every place written
before it and raises ``InvalidValue`` naming the target and the place.

Targets whose places can move (:class:`~cadence.scheduler.targets.Modules`) are refreshed
before values are computed and before anything is read: a place found again keeps its base, a
new place's base is what it holds when found (as for a param group added to the optimizer),
a place gone is dropped.

>>> from cadence.schedules import Linear
>>> from cadence.scheduler.targets import Item
>>> weights = {"kl": 0.0, "max_len": 64}
>>> bound = TargetSet({"kl": Item(weights, "kl"), "max_len": Item(weights, "max_len")},
...                   {"kl": Linear(start=0.0, end=1.0, steps=4),
...                    "max_len": Linear(start=1.0, end=2.0, steps=3)},
...                   {"kl": ABSOLUTE})
>>> bound.write(bound.values(1.0)); weights
{'kl': 0.25, 'max_len': 85}
>>> bound.put_back(); weights
{'kl': 0.0, 'max_len': 64}
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np

from cadence.config.io import fingerprint
from cadence.scheduler.places import PlaceFailed, Target
from cadence.scheduler.selection import as_schedule
from cadence.scheduler.track import ABSOLUTE, RELATIVE, Span, Track
from cadence.schedules.base import Schedule
from cadence.schedules.ops import SCALAR
from cadence.validation import InvalidType, InvalidValue

__all__ = ["ABSOLUTE", "TargetSet", "target_specs"]


class TargetSet:
    """``targets[name]`` follows ``schedules[name]`` through ``spans[name]``.

    A place that holds an int is given ``round(value)`` (nearest, ties to even), and
    :meth:`values`, :meth:`value_at` and :meth:`values_at` give that rounded value. A write is
    all or none (:meth:`write`). Targets whose places move are followed (:meth:`refresh`, made
    by every method here before it uses the places); ``generation`` counts the times some
    target's places changed, so a caller that checks places (one writer each) checks again.
    """

    __slots__ = ("_generations", "_ints", "_movable", "_place_ids", "_rows", "_schedules",
                 "_spans", "_tracks", "_written", "generation", "targets")

    def __init__(self, targets: Mapping[str, Target], schedules: Mapping[str, Schedule],
                 spans: Mapping[str, Span]) -> None:
        self.targets = dict(targets)
        self._tracks: dict[str, Track] = {}
        self._movable: list[tuple[str, Target]] = []
        self._rows: list[tuple[str, Track, Schedule, Target, tuple[int, ...]]] = []
        self._written: list[tuple[Target, list[Any]]] = []
        self.generation = 0
        self._schedules = {name: schedules[name] for name in self.targets}
        self._spans = {name: spans.get(name, RELATIVE) for name in self.targets}
        self._generations: dict[str, int] = {}
        self._place_ids: dict[str, list[int]] = {}
        self._ints: dict[str, tuple[int, ...]] = {}
        for name, target in self.targets.items():
            span = self._spans[name]
            if target.absolute_only and not span.absolute:
                raise InvalidValue(f"target {name!r} ({target!r}) takes the schedule's values "
                                   f"themselves: give {name!r} in 'absolute'")
            self._build(name)
            if span == RELATIVE and any(b == 0 for b in self._tracks[name].bases):
                raise InvalidValue(
                    f"target {name!r} holds 0 ({', '.join(target.places())}), so a relative "
                    f"schedule (a factor of it) keeps it at 0: give {name!r} in 'absolute' "
                    "to write the schedule's values themselves")
        # only targets whose places can move are refreshed (a step pays for nothing else)
        self._movable = [(name, target) for name, target in self.targets.items()
                         if type(target).refresh is not Target.refresh]

    def _build(self, name: str, bases_by_id: Mapping[int, float | None] | None = None) -> None:
        """(Re)make the track of target ``name`` for the places it has now: a place with a
        base in ``bases_by_id`` (by place id) keeps it, the others start from what they hold."""
        target = self.targets[name]
        held: list[float | None] = list(target.read())
        ids = target.place_ids()
        bases = held if bases_by_id is None else [bases_by_id.get(i, h)
                                                  for i, h in zip(ids, held)]
        self._tracks[name] = Track(name, [self._schedules[name]] * len(bases), bases,
                                  self._spans[name])
        self._generations[name] = target.generation
        self._place_ids[name] = ids
        self._ints[name] = target.int_places()
        self._rows = [(n, self._tracks[n], self._schedules[n], self.targets[n], self._ints[n])
                      for n in self._tracks]  # what a step reads, in one tuple per target

    def __bool__(self) -> bool:
        return bool(self.targets)

    # -- places --------------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Follow the targets whose places moved (a module replaced in a model): rebuild their
        tracks, a place found again keeping its base. True when some target's places changed
        (their keys too: a caller that checks for two writers of a place checks again)."""
        changed = False
        for name, target in self._movable:
            target.refresh()
            if target.generation != self._generations[name]:  # also a refresh made elsewhere
                self._build(name, dict(zip(self._place_ids[name], self._tracks[name].bases)))
                changed = True
        self.generation += changed
        return changed

    def _follow(self) -> None:
        """:meth:`refresh` for what only names or describes the places: where a target fails
        to find its places again (its next values say so) it keeps those it had."""
        with contextlib.suppress(InvalidType, InvalidValue):
            self.refresh()

    def places(self, name: str) -> list[str]:
        """Where target ``name``'s values go, one entry per place."""
        self._follow()
        return self.targets[name].places()

    @property
    def tracks(self) -> dict[str, Track]:
        """Each target's track (its schedule and bases, one per place it has now)."""
        self._follow()
        return self._tracks

    def keys(self) -> dict[str, list[Hashable]]:
        """Every target's place keys (:meth:`Target.keys`): equal keys, one place."""
        self._follow()
        return {name: target.keys() for name, target in self.targets.items()}

    def schedule(self, name: str) -> Schedule:
        """Target ``name``'s schedule."""
        return self._schedules[name]

    def reschedule(self, name: str, schedule: Schedule) -> None:
        """Give target ``name`` a new schedule; its places keep their bases."""
        track = self._tracks[name]
        self._schedules[name] = schedule
        self._build(name, dict(zip(self._place_ids[name], track.bases)))

    # -- values ------------------------------------------------------------------------------
    def values(self, t: float) -> dict[str, list[float]]:
        """Every target's values at step ``t`` (ints where a place holds an int), checked
        against its bounds."""
        if self._movable:
            self.refresh()
        out = {}
        for name, track, schedule, target, ints in self._rows:
            f = schedule.evaluate(t, SCALAR)
            lows, spans = track._ends or track.ends()
            values = [low + span * f for low, span in zip(lows, spans)]
            if ints:
                values = _rounded(values, ints)
            bad = target.check(values)
            if bad is not None:
                raise InvalidValue(
                    f"{name!r} must be {target.rule()} (got {values[bad]!r} for "
                    f"{target.places()[bad]} at step {t:g}, from the schedule's value {f!r}; "
                    f"schedule: {schedule!r})")
            out[name] = values
        return out

    def value_at(self, t: float) -> dict[str, list[float]]:
        """Every target's values at step ``t``, as :meth:`values` gives them, unchecked."""
        self.refresh()
        return {name: _rounded(track.values(t), self._ints[name])
                for name, track in self._tracks.items()}

    def values_at(self, steps: np.ndarray) -> dict[str, np.ndarray]:
        """``{name: array (steps..., places)}``, rounded where a place holds an int."""
        self.refresh()
        out = {}
        for name, track in self._tracks.items():
            table = track.values_at(steps)
            for i in self._ints[name]:
                table[..., i] = np.round(table[..., i])  # ties to even, as round()
            out[name] = table
        return out

    def write(self, values: Mapping[str, list[float]]) -> None:
        """Write :meth:`values` into the places, all or none: if a place's write raises, the
        places written before it are put back (tensors in place) and ``InvalidValue`` names
        the target, the place and the cause. :meth:`put_back` undoes a write that succeeded
        (for a caller whose own writes fail after these)."""
        self._written = done = []
        targets = self.targets
        for name, row in values.items():
            target = targets[name]
            try:
                done.append((target, target.swap(row)))
            except BaseException as error:
                self.put_back()
                if not isinstance(error, Exception):
                    raise
                place = error.place if isinstance(error, PlaceFailed) else None
                cause = error.__cause__ if isinstance(error, PlaceFailed) else error
                raise InvalidValue(
                    f"target {name!r} could not be written at {_place_name(target, place)} "
                    f"({target!r}): {type(cause).__name__}: {cause}. Nothing was written: the "
                    "places written before it were put back") from cause

    def put_back(self) -> None:
        """Put back what the last :meth:`write` replaced, the last target first (each as far
        as its places take it); a second call does nothing."""
        done, self._written = self._written, []
        for target, before in reversed(done):
            try:
                target.put_back(before)
            except Exception:  # the write's own failure is the one to report
                continue

    def read(self) -> dict[str, list[float]]:
        """What every place holds now."""
        self.refresh()
        out = {}
        for name, target in self.targets.items():
            try:
                out[name] = target.read()
            except (InvalidType, InvalidValue) as error:
                raise type(error)(f"target {name!r}: {error}") from error
        return out

    # -- state -------------------------------------------------------------------------------
    def bases(self) -> dict[str, list[float | None]]:
        self._follow()
        return {name: list(track.bases) for name, track in self._tracks.items()}

    def rebase(self, saved: Mapping[str, list[Any]]) -> None:
        """Take the saved bases of the targets ``saved`` names (as many places as both have)."""
        self._follow()
        for name, track in self._tracks.items():
            row = saved.get(name)
            if row is None:
                continue
            bases = list(track.bases)
            for i, base in enumerate(row[: len(bases)]):
                if base is not None:
                    bases[i] = float(base)
            track.rebase(bases)

    def layout(self) -> dict[str, Any]:
        """What decides the values apart from the step and the bases: compared on load."""
        self._follow()
        return {
            name: {
                "schedule": fingerprint(self._schedules[name]),
                "places": self.targets[name].places(),
                "span": list(track.span.__dict__.values()),
            }
            for name, track in self._tracks.items()
        }


def _rounded(values: list[Any], ints: tuple[int, ...]) -> list[Any]:
    """``values`` with those at ``ints`` rounded to ints (ties to even; NaN and infinities are
    left for the check to refuse)."""
    if not ints:
        return values
    return [round(v) if i in ints and math.isfinite(v) else v for i, v in enumerate(values)]


def _place_name(target: Target, place: int | None) -> str:
    """Place ``place`` of ``target`` (all its places when None), for a message."""
    try:
        places = target.places()
    except Exception:  # a message must not fail
        return "its places" if place is None else f"its place {place}"
    return ", ".join(places) if place is None else places[place]


RESERVED = frozenset({"lr", "momentum", "weight_decay"})


def target_specs(targets: Mapping[str, Target], specs: Mapping[str, object]
                 ) -> dict[str, Schedule]:
    """Each target's schedule: the keyword of its name (a Schedule or a number)."""
    out = {}
    for name in targets:
        if name in RESERVED:
            raise InvalidValue(f"'targets' names {name!r}, a hyperparameter of the optimizer's "
                               "param groups: give the target another name")
        spec = specs.get(name)
        if spec is None:
            raise InvalidValue(f"target {name!r} has no schedule: pass {name}=<schedule> "
                               "beside targets=")
        out[name] = as_schedule(name, spec, selectors=False)
    return out
