"""The binding core: tracks bound to an optimizer's param groups.

A :class:`Binder` holds one :class:`~cadence.scheduler.track.Track` per scheduled
hyperparameter and, for each, the :class:`~cadence.scheduler.plan.Writes` its values go to
(prepared again whenever the optimizer's groups change). It computes every value at a step (with
the modifiers: a factor on the schedules' values, e.g. batch scaling, and a plateau controller's
reductions on the groups' values), reads what the groups hold, and writes values: computing all
of them first, then writing. It knows nothing of who drives it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from cadence.scheduler.plan import Writes
from cadence.scheduler.plateau import ReduceOnPlateau
from cadence.scheduler.slots import Slot, as_float
from cadence.scheduler.track import Track
from cadence.schedules.ops import SCALAR


class Binder:
    """Tracks on ``optimizer``; ``plateau`` reduces the values of the hyperparameters it
    applies to."""

    __slots__ = ("_count", "_fast", "_groups", "_writes", "optimizer", "plateau", "tracks")

    def __init__(self, optimizer: torch.optim.Optimizer, tracks: Sequence[Track],
                 plateau: ReduceOnPlateau | None = None) -> None:
        self.optimizer = optimizer
        self.tracks = {track.name: track for track in tracks}
        self.plateau = plateau
        self._groups: list[dict[str, Any]] | None = None  # the optimizer's list the writes are for
        self._count = 0
        self._writes: dict[str, tuple[int, Writes]] = {}
        self._fast: list[tuple[Writes, Any, Track]] | None = None  # [] when there is none

    def __getstate__(self) -> dict[str, Any]:
        # the writes hold the groups' own tensors (through numpy views): made again on use
        return {"optimizer": self.optimizer, "tracks": self.tracks, "plateau": self.plateau}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)
        self._groups, self._count, self._writes, self._fast = None, 0, {}, None

    def writes(self, name: str) -> Writes:
        """Where ``name``'s values go, for the groups as they are now."""
        groups = self.optimizer.param_groups
        if groups is not self._groups or len(groups) != self._count:  # replaced, or grown
            self._groups, self._count = groups, len(groups)
            self._writes, self._fast = {}, None
        track = self.tracks[name]
        cached = self._writes.get(name)
        if cached is None or cached[0] != len(track):
            members = [i for i, s in enumerate(track.schedules[: len(groups)]) if s is not None]
            cached = (len(track), Writes(name, groups, members))
            self._writes[name] = cached
        return cached[1]

    def forget_layout(self) -> None:
        """Prepare the writes again at the next write (a track changed)."""
        self._writes, self._fast = {}, None

    # -- values --------------------------------------------------------------------------------
    def values(self, t: float, scale: Mapping[str, float] | None = None,
               names: Sequence[str] | None = None) -> dict[str, list[Any]]:
        """Every track's value per group at step ``t`` (None where a group is unscheduled);
        ``scale`` multiplies the schedules' values of the names it holds."""
        out = {}
        for name in self.tracks if names is None else names:
            track = self.tracks[name]
            factor = 1.0 if scale is None else scale.get(name, 1.0)
            values = track.values(t, None if factor == 1.0 else _times(factor))
            if self.plateau is not None and self._reduces(name):
                assert self.plateau is not None
                values = [None if v is None else self.plateau.apply(v, g)
                          for g, v in enumerate(values)]
            out[name] = values
        return out

    def values_at(self, steps: np.ndarray,
                  scale: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
        """Values at an array of steps: ``{name: array (steps..., groups)}``, NaN where a group
        is unscheduled. The plateau reductions are the current ones."""
        out = {}
        for name, track in self.tracks.items():
            factor = 1.0 if scale is None else scale.get(name, 1.0)
            table = track.values_at(steps, None if factor == 1.0 else _times(factor))
            if self._reduces(name):
                assert self.plateau is not None
                for g in range(table.shape[-1]):
                    table[..., g] = self.plateau.apply(table[..., g], g)
            out[name] = table
        return out

    def _reduces(self, name: str) -> bool:
        plateau = self.plateau
        return plateau is not None and plateau.reductions > 0 and name in plateau.applies_to

    # -- the groups ----------------------------------------------------------------------------
    def members(self, name: str) -> list[int]:
        """The groups ``name`` is written to, in the order of :meth:`read` and :meth:`write`."""
        return self.writes(name).indices

    def read(self, name: str) -> list[float]:
        """What the scheduled groups hold now (in :meth:`members` order)."""
        return self.writes(name).read()

    def write(self, values: Mapping[str, Sequence[Any]]) -> None:
        """Write per-group values (as :meth:`values` returns them) into the groups."""
        for name, row in values.items():
            writes = self.writes(name)
            writes.write(row if writes.complete else [row[i] for i in writes.indices])

    def write_at(self, t: float, scale: Mapping[str, float] | None = None) -> None:
        """Write every track's values at step ``t``: all of them computed and checked against
        each track's rule first, then written (a schedule that raises, or a value refused,
        changes nothing). A track with one schedule for every group, written into float
        values, is one evaluation, one comparison and one write of every group
        (:meth:`Writes.write_scaled`); the plan for it is made once per layout of the groups
        and found again by identity."""
        plan, groups, plateau = self._fast, self.optimizer.param_groups, self.plateau
        if not (plan and groups is self._groups and len(groups) == self._count
                and (plateau is None or plateau.reductions == 0)):
            plan = self._plan()
        if plan is not None and len(plan) == 1:  # the common case, without the lists
            writes, schedule, track = plan[0]
            f = schedule.evaluate(t, SCALAR)
            if scale is not None:
                f *= scale.get(track.name, 1.0)
            low, high = track._admitted or track.admitted()
            if not low <= f <= high:
                track.admit(f, t)  # raises unless every group's value keeps the rule
            writes.write_scaled(f, track)
            return
        if plan is not None:
            factors = [schedule.evaluate(t, SCALAR) for _, schedule, _ in plan]
            if scale is not None:
                factors = [f * scale.get(track.name, 1.0)
                           for f, (_, _, track) in zip(factors, plan)]
            for (_, _, track), f in zip(plan, factors):
                track.admit(f, t)
            for (writes, _, track), f in zip(plan, factors):
                writes.write_scaled(f, track)
            return
        rows = self.values(t, scale)
        for name, row in rows.items():
            self.tracks[name].admit_values(row, t)
            writes = self.writes(name)
            rows[name] = row if writes.complete else [row[i] for i in writes.indices]
        for name, row in rows.items():
            self.writes(name).write(row)

    def _plan(self) -> list[tuple[Writes, Any, Track]] | None:
        """The writes of :meth:`write_at` when every track can take its fast path (one
        schedule, float keys in every group, no plateau reduction), else None."""
        plateau = self.plateau
        if plateau is not None and plateau.reductions > 0:
            return None
        groups = self.optimizer.param_groups
        if self._fast is not None and groups is self._groups and len(groups) == self._count:
            return self._fast or None
        plan = []
        for name, track in self.tracks.items():
            writes, shared = self.writes(name), track.one_schedule()
            if shared is None or not (writes.complete and writes.plain):
                self._fast = []
                return None
            plan.append((writes, shared, track))
        self._fast = plan
        return plan


def _times(factor: float) -> Any:
    return lambda f: f * factor


def capture_base(name: str, slot: Slot, group: dict[str, Any], saved: float | None) -> float:
    """A group's base for ``name``: ``saved`` if given, else its ``initial_<name>``, else its
    current value; recorded as ``initial_<name>`` (PyTorch's convention), so building a
    scheduler after ``optimizer.load_state_dict()`` keeps the base."""
    key = f"initial_{name}"
    if saved is not None:
        base = saved
    elif key in group:
        base = as_float(group[key])
    else:
        base = as_float(slot.read(group))
    group[key] = base
    return base
