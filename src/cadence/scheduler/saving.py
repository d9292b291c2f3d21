"""A ``cadence.Scheduler``'s state: plain data saved with ``state_dict()``, and
``load_state_dict()``, which checks every value, refuses a state saved with a different
schedule (unless ``strict=False``) and takes the saved step and bases as one move: a value
refused on the way changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from cadence.config.io import fingerprint
from cadence.scheduler.binder import Binder
from cadence.scheduler.clock import Clock, Time
from cadence.scheduler.retiming import Retiming, check_policy
from cadence.scheduler.rollback import restoring
from cadence.scheduler.selection import Selection, routes
from cadence.scheduler.state import describe_groups, differences, match_groups, read_state
from cadence.scheduler.target_set import TargetSet
from cadence.scheduler.track import ABSOLUTE
from cadence.validation import InvalidValue

STATE_FORMAT = "cadence.Scheduler/2"


class Saving(Retiming):
    """``state_dict`` and ``load_state_dict`` of a ``cadence.Scheduler`` (see the module)."""

    optimizer: torch.optim.Optimizer
    plateau: Any
    _binder: Binder
    _clock: Clock
    _time: Time
    _count: str
    _used: float | None
    _pending: int
    _updated: bool
    _selections: dict[str, Selection]
    _targets: TargetSet
    _batch_scaled: set[str]
    _saved_bases: dict[str, list[float | None]]
    _retime: str | None

    if TYPE_CHECKING:  # the Scheduler's own
        def _sync_groups(self) -> None: ...  # GroupFollowing's

        def _commit(self, time: Time, undo: Callable[[], None] | None = None) -> None: ...

    def _layout(self) -> dict[str, Any]:
        """Everything that decides the values apart from the step: compared on load."""
        self._sync_groups()
        assigned = {name: routes(self._selections[name], track)
                  for name, track in self._binder.tracks.items()}
        return {
            "hyperparameters": {
                name: {
                    "schedules": [fingerprint(s) for s in self._selections[name].schedules],
                    "groups": assigned[name],
                    "absolute": track.span == ABSOLUTE,
                    "span": list(track.span.__dict__.values()),
                }
                for name, track in self._binder.tracks.items()
            },
            "batch_size_mode": self._clock.scaling,
            "base_batch_size": 1.0 if self._clock.scaling is None else self._clock.base_batch_size,
            "batch_scaled": sorted(self._batch_scaled),
            "plateau": None if self.plateau is None else self.plateau.config(),
            "count": self._count,
            **({"clock": run} if (run := self._clock.run()) else {}),
            **({"targets": self._targets.layout()} if self._targets else {}),
            "param_groups": describe_groups(self.optimizer.param_groups),
        }

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state: only ints, floats, strings, bools, None, lists and dicts, so
        ``torch.load(..., weights_only=True)`` reads it. ``steps`` is the step whose values the
        groups hold. Its keys name no attribute of PyTorch's schedulers, so it cannot break one
        it is loaded into by mistake."""
        self._sync_groups()
        return {
            "format": STATE_FORMAT,
            "steps": self._time.position,
            "batch_size": self._time.batch_size,
            "bases": {**{name: list(track.bases) for name, track in self._binder.tracks.items()},
                      **self._targets.bases()},
            "plateau_state": None if self.plateau is None else self.plateau.state_dict(),
            "layout": self._layout(),
        }

    def load_state_dict(self, state_dict: dict[str, Any], *, strict: bool = True,
                        retime: str | None = None) -> None:
        """Restore a state from :meth:`state_dict` and write its values into the groups.

        A state saved with a different schedule (or different groups, batch scaling or plateau
        settings) is refused unless ``strict=False``, which keeps this scheduler's schedule and
        continues it from the saved step with the saved bases. Every value is checked first:
        a bad one is refused with its key, and nothing changes.

        A state whose schedule was re-timed (``extend``, ``anneal``, ``switch``) from this
        scheduler's resumes into the re-timed one. ``retime`` (default: the scheduler's own
        ``retime=``) re-times a saved schedule that differs from this one by a named policy
        (``"rescale"``, ``"hold"``, ``"continue"``, ``"switch"`` or ``"jump"``: see
        docs/scheduler.md, "Re-timing a run").
        """
        state = read_state(state_dict, STATE_FORMAT)
        policy = self._retime if retime is None else check_policy(retime)
        saved_layout = state.get("layout", {})
        followed, compared = self._follow_saved(saved_layout, state["steps"], policy) \
            if "layout" in state else (None, saved_layout)
        layout = self._layout()
        found = differences(compared, layout) if "layout" in state else []
        if found and strict:
            if followed is not None:
                followed()
            raise InvalidValue(
                "this state was saved with a different schedule: " + "; ".join(found)
                + f". Pass strict=False to continue this scheduler's schedule from the saved "
                f"step {state['steps']}, or retime='rescale' | 'hold' | 'continue' | 'switch' "
                "| 'jump' to re-time the saved schedule into this one."
            )
        if self.plateau is not None and state.get("plateau_state") is None and strict:
            raise InvalidValue(
                "state_dict['plateau_state'] is None, and this scheduler has a plateau "
                "controller: its reductions would be lost. Pass strict=False to start the "
                "controller afresh at the saved step")
        which = match_groups(saved_layout.get("param_groups") if isinstance(
            saved_layout, dict) else None, describe_groups(self.optimizer.param_groups))
        undo = self._undo_load(followed)
        with restoring(self.optimizer):  # the groups as they were, if anything is refused
            try:
                plateau_state = state.get("plateau_state")
                if self.plateau is not None and plateau_state is not None:
                    self.plateau.load_state_dict(plateau_state)
                for name, track in self._binder.tracks.items():
                    saved = state["bases"].get(name, [])
                    self._saved_bases[name] = list(saved)
                    bases = list(track.bases)
                    for i, j in enumerate(which[: len(bases)]):  # each group its own base
                        base = None if j is None or j >= len(saved) else saved[j]
                        if base is not None and bases[i] is not None:
                            bases[i] = float(base)
                            self.optimizer.param_groups[i][f"initial_{name}"] = float(base)
                    track.rebase(bases)
                self._targets.rebase(state["bases"])
            except BaseException:
                undo()
                raise
            # a value refused here (a saved base giving a negative lr) leaves it all as it was
            self._commit(Time(state["steps"], self._time.calls, state["batch_size"]), undo)
        self._used = None
        self._pending, self._updated = 0, False  # the state is at an update's end

    def _undo_load(self, followed: Callable[[], None] | None) -> Callable[[], None]:
        """What puts back everything :meth:`load_state_dict` changes in the scheduler before
        it commits (the groups: :func:`~cadence.scheduler.rollback.restoring`)."""
        plateau = None if self.plateau is None else self.plateau.state_dict()
        saved_bases = dict(self._saved_bases)
        bases = {name: list(track.bases) for name, track in self._binder.tracks.items()}
        target_bases = self._targets.bases()

        def undo() -> None:
            if plateau is not None:
                self.plateau.load_state_dict(plateau)
            self._saved_bases = saved_bases
            for name, track in self._binder.tracks.items():
                track.rebase(bases[name])
            self._targets.rebase(target_bases)
            if followed is not None:
                followed()
        return undo


__all__ = ["STATE_FORMAT"]  # Saving is a part of Scheduler
