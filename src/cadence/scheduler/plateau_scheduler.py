"""``PlateauScheduler``: what ``Scheduler(..., plateau=...)`` builds, a :class:`Scheduler` that
is also PyTorch's ``ReduceLROnPlateau``."""

from __future__ import annotations

import inspect
from typing import Any

from torch.optim.lr_scheduler import ReduceLROnPlateau

from cadence.scheduler.plateau import ReduceOnPlateau
from cadence.scheduler.scheduler import Scheduler
from cadence.validation import InvalidValue


class PlateauScheduler(Scheduler, ReduceLROnPlateau):  # type: ignore[misc,override]
    """A :class:`Scheduler` with a plateau controller (``Scheduler(..., plateau=...)`` makes
    one). It is also an instance of PyTorch's ``ReduceLROnPlateau``, which is how Lightning and
    transformers' Trainer recognise a scheduler that takes the metric they monitor:
    ``step(metric)``. The schedule itself moves with the optimizer's updates. PyTorch's
    attributes (``best``, ``num_bad_epochs``, ``mode``, ...) read the controller.

    It takes :class:`Scheduler`'s arguments, ``plateau`` required.

    >>> import torch
    >>> import cadence
    >>> from cadence.schedules import Constant
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> sched = cadence.Scheduler(opt, lr=Constant(1.0),
    ...                           plateau=cadence.ReduceOnPlateau(factor=0.5, patience=1))
    >>> type(sched).__name__, isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau)
    ('PlateauScheduler', True)
    >>> for val_loss in [1.0, 0.9, 0.9, 0.9]:
    ...     opt.step(); sched.step(val_loss)
    ...
    >>> opt.param_groups[0]["lr"], sched.num_bad_epochs
    (0.05, 0)
    """

    def __init__(self, *args: Any, plateau: ReduceOnPlateau | None = None,
                 **kwargs: Any) -> None:
        if plateau is None:
            raise InvalidValue("'plateau' must be a ReduceOnPlateau: a PlateauScheduler is "
                               "a Scheduler with a plateau controller (got None)")
        super().__init__(*args, plateau=plateau, **kwargs)

    __init__.__signature__ = inspect.signature(Scheduler.__init__)  # type: ignore[attr-defined]

    def _controller(self) -> ReduceOnPlateau:
        assert self.plateau is not None
        return self.plateau

    best = property(lambda self: self._controller().best, doc="The best metric so far.")
    num_bad_epochs = property(lambda self: self._controller().bad_reports,
                              doc="Metrics without improvement since the last one or reduction.")
    cooldown_counter = property(lambda self: self._controller().cooldown_left,
                                doc="Metrics left in the cooldown.")
    mode = property(lambda self: self._controller().mode)
    factor = property(lambda self: self._controller().factor)
    patience = property(lambda self: self._controller().patience)
    threshold = property(lambda self: self._controller().threshold)
    threshold_mode = property(lambda self: self._controller().threshold_mode)
    cooldown = property(lambda self: self._controller().cooldown)
    eps = property(lambda self: self._controller().eps)
