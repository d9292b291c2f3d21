"""What a ``cadence.Scheduler`` says about its values without changing anything: the values at
any step (one, or an array of them), what the groups and targets hold now, and its read API
(the names scheduled, each group's schedule, base and span, the clock and its position).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from cadence.scheduler.batch import check_batch_size
from cadence.scheduler.binder import Binder
from cadence.scheduler.clock import Clock, Time
from cadence.scheduler.plateau import ReduceOnPlateau
from cadence.scheduler.selection import Selection
from cadence.scheduler.slots import read_groups
from cadence.scheduler.target_set import TargetSet
from cadence.scheduler.track import Span, Track
from cadence.schedules.base import Schedule, as_step_array


class Values:
    """The values and read API of a ``cadence.Scheduler`` (see the module)."""

    optimizer: torch.optim.Optimizer
    _binder: Binder
    _clock: Clock
    _time: Time
    _selections: dict[str, Selection]
    _targets: TargetSet
    _batch_scaled: set[str]

    if TYPE_CHECKING:  # the Scheduler's own
        def _sync_groups(self) -> None: ...  # GroupFollowing's

    def _scale(self, time: Time) -> dict[str, float] | None:
        """The batch factor of each scaled hyperparameter at ``time`` (None: no scaling)."""
        if self._clock.scaling is None:  # the common case, on every update: nothing to scale
            return None
        factor = self._clock.factor(time.position, time.batch_size)
        return None if factor == 1.0 else {name: factor for name in self._batch_scaled}

    def value_at(self, step: Any, batch_size: float | None = None) -> dict[str, Any]:
        """The values every scheduled hyperparameter takes at ``step``, without changing
        anything: for one step, ``{name: [value per group]}`` (None for groups a hyperparameter
        does not apply to); for an array of steps, ``{name: array (steps, groups)}`` with NaN
        there. The batch factor is the one ``batch_size`` gives (none by default); the plateau
        multiplier is the current one. Targets are there too, one value per place."""
        self._sync_groups()
        size = None if batch_size is None else check_batch_size(batch_size)
        if isinstance(step, (np.ndarray, list, tuple)):
            steps = as_step_array(step)
            return {**self._group_values_at(steps, size), **self._targets.values_at(steps)}
        t = float(as_step_array(step))
        return {**self._binder.values(t, self._scale(Time(t, batch_size=size))),
                **self._targets.value_at(t)}

    def _group_values_at(self, steps: np.ndarray, size: float | None) -> dict[str, np.ndarray]:
        """The groups' values at ``steps``; with a batch ramp, each stage's steps with its own
        batch factor."""
        if self._clock.scaling is None or (size is None and self._clock.batch_size is None):
            return self._binder.values_at(steps)
        factors = np.array([self._clock.factor(float(t), size) for t in steps.ravel()])
        factors = factors.reshape(steps.shape)
        out: dict[str, np.ndarray] = {}
        for factor in np.unique(factors):
            where = factors == factor
            part = self._binder.values_at(steps[where], {n: float(factor)
                                                         for n in self._batch_scaled})
            for name, table in part.items():
                out.setdefault(name, np.full((*steps.shape, table.shape[-1]), np.nan))
                out[name][where] = table
        return out

    def current_values(self) -> dict[str, list[float | None]]:
        """What every scheduled hyperparameter holds now, read from the param groups (None
        for groups without it), and what every target's places hold."""
        groups = self.optimizer.param_groups
        out = {name: read_groups(name, groups) for name in self._selections}
        for name, values in self._targets.read().items():
            out[name] = [*values]
        return out

    # -- the read API --------------------------------------------------------------------------
    @property
    def current_step(self) -> Any:
        """The position whose values the groups hold, on the scheduler's clock (optimizer
        updates taken by default; samples or tokens consumed on such a clock)."""
        return self._time.position

    @property
    def clock(self) -> Clock:
        """What the scheduler's time counts, and how the run's units relate."""
        return self._clock

    @property
    def batch_size(self) -> float | None:
        """The batch size of the next update: the clock's (fixed, or its ramp's at the current
        position), or the last ``step(batch_size=...)``'s; None when neither gives one. A loop
        with a batch ramp reads it to size its next batch."""
        time = self._time
        return time.batch_size if time.batch_size is not None else \
            self._clock.batch_at(time.position)

    @property
    def batch_factor(self) -> float:
        """The batch-size factor of the current step (1 without batch scaling)."""
        return self._clock.factor(self._time.position, self._time.batch_size)

    @property
    def hyperparameters(self) -> tuple[str, ...]:
        """The names of the scheduled hyperparameters (of the param groups)."""
        return tuple(self._selections)

    @property
    def targets(self) -> tuple[str, ...]:
        """The names of the scheduled targets (values outside the optimizer)."""
        return tuple(self._targets.targets)

    def places(self, name: str) -> list[str]:
        """Where target ``name``'s values go, one entry per place."""
        if name not in self._targets.targets:
            raise KeyError(f"{name!r} is not a target (targets: {list(self.targets)})")
        return self._targets.targets[name].places()

    def schedules(self, name: str) -> list[Schedule | None]:
        """The schedule each param group (or each place of a target) follows for ``name``
        (None where it does not)."""
        self._sync_groups()
        return list(self._track(name).schedules)

    def bases(self, name: str) -> list[float | None]:
        """Each param group's base for ``name`` (None where it is not scheduled)."""
        self._sync_groups()
        return list(self._track(name).bases)

    def span(self, name: str) -> Span:
        """How ``name``'s schedule values become group values."""
        return self._track(name).span

    def _track(self, name: str) -> Track:
        if name in self._targets.tracks:
            return self._targets.tracks[name]
        if name not in self._binder.tracks:
            raise KeyError(f"{name!r} is not scheduled (scheduled: "
                           f"{[*self._selections, *self.targets]})")
        return self._binder.tracks[name]

    @property
    def plateau(self) -> ReduceOnPlateau | None:
        return self._binder.plateau


__all__: list[str] = []  # Values is a part of Scheduler
