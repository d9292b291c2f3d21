"""The read API: what the tools (curves, plots, ``describe``) and the drop-ins read from a
scheduler, changing nothing.

:class:`ReadableScheduler` names it. The native :class:`cadence.Scheduler` (and
``PlateauScheduler``, ``WarmRestartScheduler``) has it; so do the drop-ins, each family
once, in its base: PyTorch's (:class:`cadence.compat.lr_scheduler.LRScheduler`) and MMEngine's
(:class:`cadence.compat.mmengine.ParamScheduler`), both from their closed form
(:class:`cadence.compat.reading.TracksReading`). Code that takes "a scheduler" checks
``isinstance(x, ReadableScheduler)`` and reads only these names.

>>> import torch
>>> import cadence
>>> from cadence.schedules import Cosine
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> sched = cadence.Scheduler(opt, lr=Cosine(steps=10))
>>> isinstance(sched, ReadableScheduler), isinstance(Cosine(steps=10), ReadableScheduler)
(True, False)
>>> sched.hyperparameters, sched.bases("lr"), sched.value_at(10)
(('lr',), [0.1], {'lr': [0.0]})
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from cadence.scheduler.track import Span
    from cadence.schedules.base import Schedule

__all__ = ["ReadableScheduler"]


@runtime_checkable
class ReadableScheduler(Protocol):
    """A scheduler whose schedules, bases and values can be read without changing anything.

    Names are ``hyperparameters`` (of the param groups) and ``targets`` (values outside the
    optimizer); ``schedules``, ``bases`` and ``span`` take either.
    """

    @property
    def hyperparameters(self) -> tuple[str, ...]:
        """The scheduled param-group hyperparameters' names (``"lr"``, ``"momentum"``...)."""
        ...

    @property
    def targets(self) -> tuple[str, ...]:
        """The scheduled targets' names (values outside the optimizer; none for a drop-in)."""
        ...

    @property
    def current_step(self) -> Any:
        """The step (position on the scheduler's clock) whose values the groups hold now."""
        ...

    def schedules(self, name: str) -> list[Schedule | None]:
        """The schedule each param group (or target place) follows for ``name``; None: none."""
        ...

    def bases(self, name: str) -> list[float | None]:
        """Each param group's (or place's) base value for ``name``; None where unscheduled."""
        ...

    def span(self, name: str) -> Span:
        """How ``name``'s schedule values become group values (relative, absolute, a floor)."""
        ...

    def places(self, name: str) -> list[str]:
        """Where target ``name``'s values go, one entry per place (KeyError: not a target)."""
        ...

    def value_at(self, step: Any) -> dict[str, Any]:
        """Every name's values at ``step``: ``[per group]``, or ``(steps, groups)`` arrays."""
        ...

    def current_values(self) -> dict[str, list[float | None]]:
        """What every scheduled name holds now, read from the groups (and targets' places)."""
        ...
