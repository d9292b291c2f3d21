"""A Scheduler following its optimizer's param groups as they change.

Groups added after the scheduler was built get their schedules (by the same selectors) and
bases (a saved state's, if one was loaded, else their own value) at the next write; a group
removed takes its base away; groups that moved (reordered, one removed before them) keep their
own schedule and base: who a group is is its ``params`` list.
"""

from __future__ import annotations

from typing import Any

import torch

from cadence.scheduler.binder import Binder, capture_base
from cadence.scheduler.selection import Selection
from cadence.scheduler.slots import NotAHyperparameter, resolve
from cadence.scheduler.track import Track


class GroupFollowing:
    """The group-following part of a ``cadence.Scheduler`` (see the module)."""

    optimizer: torch.optim.Optimizer
    _binder: Binder
    _selections: dict[str, Selection]
    _saved_bases: dict[str, list[float | None]]
    _members: list[Any]
    _synced: int
    _last_group: Any

    def _sync_groups(self) -> None:
        """Follow the optimizer's groups: groups added since the last call get their schedules
        and bases; a group removed takes its base away, and one that moved keeps its own."""
        groups = self.optimizer.param_groups
        if len(groups) == self._synced and (not groups or groups[-1] is self._last_group):
            return
        known = {id(p): i for i, p in enumerate(self._members)}
        moved = [known.get(id(g["params"])) for g in groups]
        count = len(self._members)
        if moved[:count] == list(range(count)) and not any(
                m is not None for m in moved[count:]):
            self._add_groups(count)  # only added (or the same groups, loaded)
        else:
            for name, track in self._binder.tracks.items():
                kept = [(None, None) if m is None else (track.schedules[m], track.bases[m])
                        for m in moved]
                track.reassign([s for s, _ in kept], [b for _, b in kept])
                for index, m in enumerate(moved):
                    if m is None:
                        self._place(name, track, index)
            self._binder.forget_layout()
        self._members = [g["params"] for g in groups]
        self._synced, self._last_group = len(groups), groups[-1] if groups else None

    def _add_groups(self, start: int) -> None:
        """Schedules and bases for the groups from ``start`` on (added to the optimizer)."""
        groups = self.optimizer.param_groups
        for name, track in self._binder.tracks.items():
            for index in range(len(track), len(groups)):
                self._place(name, track, index, self._saved_bases.get(name, []))
        self._binder.forget_layout()

    def _place(self, name: str, track: Track, index: int,
               saved: list[float | None] | None = None) -> None:
        """Group ``index``'s schedule (by the selectors) and base for ``name`` (``saved[index]``
        if there is one, else its own value)."""
        groups = self.optimizer.param_groups
        selection = self._selections[name]
        [k] = selection.route(groups[: index + 1], index)
        if k is None:
            track.set(index, None, None)
            return
        group = groups[index]
        try:
            slot = resolve(name, group, index)
        except NotAHyperparameter as exc:
            raise exc.reworded(
                f"{exc}: to schedule a value outside the optimizer (a loss weight, an EMA "
                f"decay), say where it lives: cadence.Scheduler(optimizer, {name}=..., "
                f"targets={{{name!r}: cadence.Attribute(obj, {name!r})}})") from None
        known = saved[index] if saved is not None and index < len(saved) else None
        track.set(index, selection.schedules[k], capture_base(name, slot, group, known))


__all__: list[str] = []  # GroupFollowing is a part of Scheduler
