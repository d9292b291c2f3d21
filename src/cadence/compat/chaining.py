"""How PyTorch's and MMEngine's chainable schedulers combine, without any shared state.

Upstream, a chainable scheduler moves each group's *current* value by its own change:
``value * f(t) / f(t - 1)`` (StepLR multiplies by ``gamma`` at a milestone, ExponentialLR by
``gamma`` every step, ...), and one with a floor (``eta_min``) scales the value's distance from
the floor instead. Several schedulers on one optimizer therefore combine through the
values they leave in the param groups, in the order they are stepped, and one that is no longer
stepped stops acting. The drop-ins keep exactly that rule, exactly computed: when a group still
holds the value a scheduler gave it at the previous step (nobody else moved it), the scheduler
writes its closed form at the new step, so a scheduler used alone is bit-exact at any step and
after any resume; otherwise it scales the current value by its change, as upstream does. A
scheduler whose previous value was 0 (a decay that reached 0) writes its closed form.

>>> chained(current=[0.5, 0.3], held=[0.5, 0.25], before=[0.5, 0.25], after=[0.05, 0.025])
[0.05, 0.03]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cadence.scheduler.binder import Binder
from cadence.scheduler.track import Track
from cadence.schedules.ops import SCALAR


class ClosedForm:
    """What a drop-in builds from its settings: the binder of its tracks, and its values at the
    last step asked. Kept out of the drop-in's state and ``__dict__``, and made again whenever
    the settings or the bases change (a loaded state's settings win, as upstream)."""

    __slots__ = ("_row", "_shared", "binder", "key", "lone")  # _row: the last closed form

    def __init__(self, key: tuple[Any, ...], binder: Binder) -> None:
        self.key = key
        self.binder = binder
        self.lone: tuple[float, dict[str, list[Any]]] | None = None
        self._row: tuple[float, list[Any]] | None = None  # move()'s last closed-form values
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
        lone = self.lone
        if lone is None or lone[0] != t:
            lone = self.lone = (t, self.binder.values(t))
        return lone[1]

    def before(self, step: float) -> dict[str, list[Any]]:
        """The values at ``step``; before the first step (-1), the bases."""
        if step >= 0:
            return self.values(step)
        return {name: list(track.bases) for name, track in self.binder.tracks.items()}

    def move(self, step: float, t: float) -> list[Any] | None:
        """Chain the groups from the values at ``step`` to those at ``t`` (:func:`advance`).
        Returns the values written when there is one track and it wrote every group exactly
        (what the groups now hold), else None."""
        shared = self._shared
        if shared is not None:
            targets = self.binder.targets(shared[0])
            if targets.complete and targets.exact:
                return self._move_shared(step, t, shared[2], shared[1], targets)
        before, after = self.before(step), self.values(t)
        for name, row in after.items():
            _advance_one(self.binder, name, before[name], row)
        return None

    def _move_shared(self, step: float, t: float, schedule: Any, track: Track,
                     targets: Any) -> list[Any]:
        """:meth:`move` for the common case: one schedule for every group, float values."""
        row = self._row
        old = row[1] if row is not None and row[0] == step else self.before(step)[track.name]
        lows, spans = track._ends or track.ends()
        f = schedule._eval(t, SCALAR)
        if len(lows) == 1 and targets.groups:  # one float group: no lists to build
            group, key = targets.groups[0], targets.name
            lone0 = lows[0] + spans[0] * f
            self._row = (t, [lone0])
            current = group[key]
            if current != old[0]:
                lone0 = chained([current], old, old, [lone0], floors(track))[0]
            group[key] = lone0
            return [lone0]
        lone = [low + span * f for low, span in zip(lows, spans)]
        self._row = (t, lone)
        current = targets.read()
        # alone on these groups: the closed form; else another scheduler (or the user) moved
        # them since, and the change scales what they hold
        written = lone if current == old else chained(current, old, old, lone, floors(track))
        targets.write_all(written)
        return written

    def write(self, t: float) -> list[Any] | None:
        """Write the values at ``t`` outright; returns them as :meth:`move` does."""
        values = self.values(t)
        self.binder.write(values)
        if len(values) == 1:
            targets = self.binder.targets(next(iter(values)))
            if targets.complete and targets.exact:
                return next(iter(values.values()))
        return None


def chained(current: Sequence[float], held: Sequence[float], before: Sequence[float],
            after: Sequence[float], floors: Sequence[float] | None = None) -> list[float]:
    """Per group: ``after`` where the group holds ``held`` (``before`` as the group stores it)
    or ``before`` is at the floor, else the current value's distance from the floor (0 by
    default) scaled by the change: ``floor + (current - floor) * (after - floor) / (before -
    floor)``."""
    if floors is None:
        return [a if c == h or not b else c * (a / b)
                for c, h, b, a in zip(current, held, before, after)]
    return [a if c == h or b == f else f + (c - f) * ((a - f) / (b - f))
            for c, h, b, a, f in zip(current, held, before, after, floors)]


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
        _advance_one(binder, name, before[name], row)


def _advance_one(binder: Binder, name: str, before: Sequence[Any],
                 after: Sequence[Any]) -> list[Any] | None:
    targets = binder.targets(name)
    if targets.complete:
        old, new = before, after
    else:
        old = [before[i] for i in targets.indices]
        new = [after[i] for i in targets.indices]
    current = targets.read()
    low = floors(binder.tracks[name], None if targets.complete else targets.indices)
    if targets.exact:
        if current != old:  # another scheduler (or the user) moved them: scale
            new = chained(current, old, old, new, low)
        targets.write(new)
        return list(new) if targets.complete else None
    targets.write(chained(current, targets.held(old), old, new, low))
    return None
