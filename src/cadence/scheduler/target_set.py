"""Named targets bound to schedules: the values outside the optimizer that a scheduler moves.

Each target follows one schedule; its places (one, or one per module) each have a base, the
value they held when the scheduler was built (or the saved one after a resume), and the value
written at step ``t`` is the :class:`~cadence.scheduler.track.Span`'s map of ``schedule(t)``
from that base: ``base * schedule(t)`` by default, ``schedule(t)`` when absolute. Every value is
computed and checked (finite, inside the target's bounds) before any is written.

>>> from cadence.schedules import Linear
>>> from cadence.scheduler.targets import Item
>>> weights = {"kl": 0.0}
>>> bound = TargetSet({"kl": Item(weights, "kl")}, {"kl": Linear(start=0.0, end=1.0, steps=4)},
...                   {"kl": ABSOLUTE})
>>> bound.write(bound.values(1.0)); weights
{'kl': 0.25}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cadence.config.io import fingerprint
from cadence.scheduler.selection import as_schedule
from cadence.scheduler.targets import Target
from cadence.scheduler.track import ABSOLUTE, RELATIVE, Span, Track
from cadence.schedules.base import Schedule
from cadence.schedules.ops import SCALAR
from cadence.validation import InvalidValue

__all__ = ["ABSOLUTE", "TargetSet", "target_specs"]


class TargetSet:
    """``targets[name]`` follows ``schedules[name]`` through ``spans[name]``."""

    __slots__ = ("targets", "tracks")

    def __init__(self, targets: Mapping[str, Target], schedules: Mapping[str, Schedule],
                 spans: Mapping[str, Span]) -> None:
        self.targets = dict(targets)
        self.tracks: dict[str, Track] = {}
        for name, target in self.targets.items():
            bases = target.read()
            span = spans.get(name, RELATIVE)
            if target.absolute_only and not span.absolute:
                raise InvalidValue(f"target {name!r} ({target!r}) takes the schedule's values "
                                   f"themselves: give {name!r} in 'absolute'")
            if span == RELATIVE and any(b == 0 for b in bases):
                raise InvalidValue(
                    f"target {name!r} holds 0 ({', '.join(target.places())}), so a relative "
                    f"schedule (a factor of it) keeps it at 0: give {name!r} in 'absolute' "
                    "to write the schedule's values themselves")
            self.tracks[name] = Track(name, [schedules[name]] * len(bases), bases, span)

    def __bool__(self) -> bool:
        return bool(self.targets)

    # -- values ------------------------------------------------------------------------------
    def values(self, t: float) -> dict[str, list[float]]:
        """Every target's values at step ``t``, checked against its bounds."""
        out = {}
        for name, track in self.tracks.items():
            schedule = track.schedules[0]
            assert schedule is not None
            f = schedule._eval(t, SCALAR)
            lows, spans = track._ends or track.ends()
            values = [low + span * f for low, span in zip(lows, spans)]
            target = self.targets[name]
            bad = target.check(values)
            if bad is not None:
                raise InvalidValue(
                    f"{name!r} must be {target.rule()} (got {values[bad]!r} for "
                    f"{target.places()[bad]} at step {t:g}, from the schedule's value {f!r}; "
                    f"schedule: {schedule!r})")
            out[name] = values
        return out

    def write(self, values: Mapping[str, list[float]]) -> None:
        """Write :meth:`values` into the places."""
        for name, row in values.items():
            self.targets[name].write(row)

    def values_at(self, steps: np.ndarray) -> dict[str, np.ndarray]:
        """``{name: array (steps..., places)}``."""
        return {name: track.values_at(steps) for name, track in self.tracks.items()}

    def read(self) -> dict[str, list[float]]:
        """What every place holds now."""
        return {name: target.read() for name, target in self.targets.items()}

    # -- state -------------------------------------------------------------------------------
    def bases(self) -> dict[str, list[float | None]]:
        return {name: list(track.bases) for name, track in self.tracks.items()}

    def rebase(self, saved: Mapping[str, list[Any]]) -> None:
        """Take the saved bases of the targets ``saved`` names (as many places as both have)."""
        for name, track in self.tracks.items():
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
        return {
            name: {
                "schedule": fingerprint(track.schedules[0]),
                "places": self.targets[name].places(),
                "span": list(track.span.__dict__.values()),
            }
            for name, track in self.tracks.items()
        }


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
