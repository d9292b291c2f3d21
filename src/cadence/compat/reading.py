"""cadence's read API on the drop-ins (:class:`~cadence.scheduler.reading.ReadableScheduler`),
once for both families: :class:`TracksReading` reads it from a drop-in's closed form, the
tracks its ``_tracks()`` gives at its current settings. PyTorch's base
(:class:`cadence.compat.lr_scheduler.LRScheduler`) and MMEngine's
(:class:`cadence.compat.mmengine.ParamScheduler`) mix it in and add their own
``current_step`` (``last_epoch``; MMEngine's ``_global_step``).

>>> import torch
>>> from cadence.compat.lr_scheduler import StepLR
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> sched = StepLR(opt, step_size=2, gamma=0.5)
>>> sched.hyperparameters, sched.schedules("lr"), sched.bases("lr")
(('lr',), [Step(every=2.0, gamma=0.5, start=1.0, floor=None)], [0.1])
>>> sched.value_at([0, 2, 4])["lr"][:, 0].tolist(), sched.current_values()
([0.1, 0.05, 0.025], {'lr': [0.1]})
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cadence.scheduler.binder import Binder
from cadence.scheduler.slots import read_groups
from cadence.scheduler.track import Span, Track
from cadence.schedules.base import Schedule, as_step_array

__all__ = ["TracksReading"]


class TracksReading:
    """The read API of a drop-in, from the tracks of its closed form (``_tracks()``): its
    hyperparameters, each group's schedule, base and span, its values at any steps (changing
    nothing) and the values the groups hold now. A drop-in schedules no targets."""

    __slots__ = ()
    optimizer: Any

    def _tracks(self) -> list[Track]:  # pragma: no cover - each family's base defines it
        """The tracks of the closed form at the current settings."""
        raise NotImplementedError

    @property
    def hyperparameters(self) -> tuple[str, ...]:
        """The names of the hyperparameters the closed form schedules."""
        return tuple(track.name for track in self._tracks())

    @property
    def targets(self) -> tuple[str, ...]:
        """None: a drop-in writes the optimizer's param groups only."""
        return ()

    def places(self, name: str) -> list[str]:
        """A drop-in has no targets: every name is refused (KeyError)."""
        raise KeyError(f"{name!r} is not a target ({type(self).__name__} schedules none)")

    def schedules(self, name: str) -> list[Schedule | None]:
        """The schedule each group follows for ``name`` (in the track's span)."""
        return list(_named(self._tracks(), name).schedules)

    def bases(self, name: str) -> list[float | None]:
        """Each group's base for ``name`` (None where it is not scheduled)."""
        return list(_named(self._tracks(), name).bases)

    def span(self, name: str) -> Span:
        """How ``name``'s schedule values become group values."""
        return _named(self._tracks(), name).span

    def value_at(self, step: Any) -> dict[str, Any]:
        """The closed form at ``step`` (one, or an array), changing nothing:
        ``{name: [value per group]}`` or ``{name: array (steps, groups)}``."""
        binder = Binder(self.optimizer, self._tracks())
        if isinstance(step, (np.ndarray, list, tuple)):
            return binder.values_at(as_step_array(step))
        return binder.values(float(as_step_array(step)))

    def current_values(self) -> dict[str, list[float | None]]:
        """What every scheduled hyperparameter holds now, read from the param groups (None
        for a group without it)."""
        groups = self.optimizer.param_groups
        return {name: read_groups(name, groups) for name in self.hyperparameters}


def _named(tracks: Sequence[Track], name: str) -> Track:
    """The track of ``name`` among ``tracks``; a KeyError naming those scheduled."""
    for track in tracks:
        if track.name == name:
            return track
    raise KeyError(f"{name!r} is not scheduled (scheduled: {[t.name for t in tracks]})")
