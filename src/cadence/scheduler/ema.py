"""An exponential moving average of the weights whose decay a Scheduler moves.

:class:`EMAUpdate` is the averaging function of ``torch.optim.swa_utils.AveragedModel``
(its ``multi_avg_fn``) and a target at once: ``average = decay * average + (1 - decay) *
current``, with ``decay`` the value the scheduler last wrote. PyTorch's
``get_ema_multi_avg_fn(decay)`` fixes the decay when it is made; this one follows a schedule
(such as :class:`~cadence.schedules.EMAWarmup`), is in the scheduler's state and resumes exactly.

>>> import torch
>>> from torch.optim.swa_utils import AveragedModel
>>> import cadence
>>> from cadence.schedules import EMAWarmup
>>> model = torch.nn.Linear(2, 1)
>>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
>>> update = EMAUpdate()
>>> ema = AveragedModel(model, multi_avg_fn=update)
>>> sched = cadence.Scheduler(opt, ema_decay=EMAWarmup(end=0.999, power=0.75), absolute=True,
...                           targets={"ema_decay": update})
>>> for _ in range(15):
...     opt.step(); ema.update_parameters(model)
>>> update.decay
0.875
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import torch

from cadence.scheduler.places import Target
from cadence.validation import check_range

__all__ = ["EMAUpdate"]


class EMAUpdate(Target):
    """``AveragedModel``'s ``multi_avg_fn`` with a scheduled ``decay`` in [0, 1] (``decay``
    until a scheduler writes it: 0 averages nothing, the average is the model).

    Name it in a Scheduler's ``targets`` (always ``absolute``: the schedule gives the decay).

    >>> import torch
    >>> import cadence
    >>> from cadence.schedules import EMAWarmup
    >>> model = torch.nn.Linear(2, 1)
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> update = cadence.EMAUpdate()
    >>> ema = torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=update)
    >>> sched = cadence.Scheduler(opt, ema_decay=EMAWarmup(end=0.999),
    ...                           targets={"ema_decay": update}, absolute=["ema_decay"])
    >>> for _ in range(3):
    ...     opt.step(); sched.step(); ema.update_parameters(model)
    ...
    >>> round(update.decay, 6)  # EMAWarmup(3) = 1 - 4 ** (-2/3)
    0.60315
    """

    bounds = (0.0, 1.0)
    absolute_only = True  # the schedule gives the decay itself

    def __init__(self, decay: float = 0.0) -> None:
        self.decay = check_range("decay", decay, 0.0, 1.0)

    @torch.no_grad()
    def __call__(self, averaged: Sequence[torch.Tensor], current: Sequence[torch.Tensor],
                 num_averaged: Any = None) -> None:
        if not averaged:
            return
        weight = 1.0 - self.decay
        if averaged[0].is_floating_point() or averaged[0].is_complex():
            torch._foreach_lerp_(list(averaged), list(current), weight)  # as PyTorch's EMA
        else:  # integer buffers (use_buffers=True), as get_ema_multi_avg_fn averages them
            for a, c in zip(averaged, current):
                a.copy_(a * self.decay + c * weight)

    def places(self) -> list[str]:
        return ["EMAUpdate.decay"]

    def read(self) -> list[float]:
        return [self.decay]

    def keys(self) -> list[Hashable]:
        return [("ema", id(self))]

    def write(self, values: Sequence[float]) -> None:
        self.decay = values[0]

    def swap(self, values: Sequence[float]) -> list[Any]:
        before, self.decay = [self.decay], values[0]
        return before

    def put_back(self, before: list[Any]) -> None:
        self.decay = before[0]

    def __repr__(self) -> str:
        return f"EMAUpdate(decay={self.decay!r})"
