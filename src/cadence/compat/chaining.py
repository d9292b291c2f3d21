"""How PyTorch's and MMEngine's chainable schedulers combine, without any shared state.

Upstream, a chainable scheduler moves each group's *current* value by its own change:
``value * f(t) / f(t - 1)`` (StepLR multiplies by ``gamma`` at a milestone, ExponentialLR by
``gamma`` every step, ...). Several schedulers on one optimizer therefore combine through the
values they leave in the param groups, in the order they are stepped, and one that is no longer
stepped stops acting. The drop-ins keep exactly that rule, exactly computed: when a group still
holds the value a scheduler gave it at the previous step (nobody else moved it), the scheduler
writes its closed form at the new step, so a scheduler used alone is bit-exact at any step and
after any resume; otherwise it scales the current value by its change, as upstream does. A
scheduler whose previous value was 0 (a decay that reached 0) writes its closed form.

>>> chained(current=[0.5, 0.3], held=[0.5, 0.25], before=[0.5, 0.25], after=[0.05, 0.025])
[0.05, 0.030000000000000002]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cadence.scheduler.binder import Binder
from cadence.scheduler.track import Track


class ClosedForm:
    """What a drop-in builds from its settings: the binder of its tracks, and its values at the
    last step asked. Kept out of the drop-in's state and ``__dict__``, and made again whenever
    the settings or the bases change (a loaded state's settings win, as upstream)."""

    __slots__ = ("binder", "key", "lone")

    def __init__(self, key: tuple[Any, ...], binder: Binder) -> None:
        self.key = key
        self.binder = binder
        self.lone: tuple[float, dict[str, list[Any]]] | None = None

    @classmethod
    def current(cls, known: ClosedForm | None, optimizer: Any, settings: Mapping[str, Any],
                bases: list[float],
                describe: Callable[[list[float], Mapping[str, Any]], list[Track]]
                ) -> ClosedForm:
        """``known`` if it was made from these settings and bases, else a new one."""
        key = (tuple(settings.values()), bases)
        if known is not None and known.key == key:
            return known
        return cls(key, Binder(optimizer, describe(bases, settings)))

    def values(self, t: float) -> dict[str, list[Any]]:
        """Every track's value per group at step ``t``."""
        if self.lone is None or self.lone[0] != t:
            self.lone = (t, self.binder.values(t))
        return self.lone[1]

    def before(self, step: float) -> dict[str, list[Any]]:
        """The values at ``step``; before the first step (-1), the bases."""
        if step >= 0:
            return self.values(step)
        return {name: list(track.bases) for name, track in self.binder.tracks.items()}


def chained(current: Sequence[float], held: Sequence[float], before: Sequence[float],
            after: Sequence[float]) -> list[float]:
    """Per group: ``after`` where the group holds ``held`` (``before`` as the group stores it)
    or ``before`` is 0, else ``current * after / before``."""
    return [a if c == h or not b else c * (a / b)
            for c, h, b, a in zip(current, held, before, after)]


def advance(binder: Binder, before: Mapping[str, Sequence[Any]],
            after: Mapping[str, Sequence[Any]]) -> None:
    """Move every track of ``binder`` from its values ``before`` to ``after`` (both as
    :meth:`Binder.values` gives them), by :func:`chained`."""
    for name, row in after.items():
        targets = binder.targets(name)
        members = targets.indices
        old = [before[name][i] for i in members]
        new = [row[i] for i in members]
        targets.write(chained(targets.read(), targets.held(old), old, new))
