"""The LR and Momentum forms of MMEngine's factor families, whose value is the base times a
factor (``gamma`` at steps or milestones or every step, a constant ``factor``, a linear one):
``StepLR``, ``StepMomentum``, ``MultiStepLR``, ``MultiStepMomentum``, ``ConstantLR``,
``ConstantMomentum``, ``ExponentialLR``, ``ExponentialMomentum``, ``LinearLR`` and
``LinearMomentum``. Import them from :mod:`cadence.compat.mmengine`, which holds the forms of
the families with values of their own (``eta_min``, ``eta_max``) and names every drop-in.

>>> import torch
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> sched = ExponentialLR(opt, gamma=0.5)
>>> sched.value_at([0, 1, 2])["lr"][:, 0].tolist()
[0.1, 0.05, 0.025]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cadence.compat._mmengine_core import start
from cadence.compat.mmengine_base import (
    INF,
    ConstantParamScheduler,
    ExponentialParamScheduler,
    LinearParamScheduler,
    MultiStepParamScheduler,
    StepParamScheduler,
    mm,
)


class StepLR(StepParamScheduler, mm.StepLR):
    """``StepParamScheduler`` on lr.

    MMEngine's ``StepLR``: the arguments of ``StepParamScheduler`` without ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import StepLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = StepLR(opt, step_size=2, gamma=0.5)
    >>> values = [opt.param_groups[0]["lr"]]
    >>> for _ in range(5):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["lr"], 6))
    ...
    >>> values
    [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    """

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.StepLR, optimizer, step_size, gamma, begin, end, last_step, by_epoch,
                           verbose)


class StepMomentum(StepParamScheduler, mm.StepMomentum):
    """``StepParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers).

    MMEngine's ``StepMomentum``: the arguments of ``StepParamScheduler`` without
    ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import StepMomentum
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = StepMomentum(opt, step_size=2, gamma=0.5)
    >>> values = [opt.param_groups[0]["momentum"]]
    >>> for _ in range(5):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["momentum"], 6))
    ...
    >>> values
    [0.9, 0.9, 0.45, 0.45, 0.225, 0.225]
    """

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.StepMomentum, optimizer, step_size, gamma, begin, end, last_step,
                                 by_epoch, verbose)


class MultiStepLR(MultiStepParamScheduler, mm.MultiStepLR):
    """``MultiStepParamScheduler`` on lr.

    MMEngine's ``MultiStepLR``: the arguments of ``MultiStepParamScheduler`` without ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import MultiStepLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = MultiStepLR(opt, milestones=[2, 4], gamma=0.1)
    >>> values = [opt.param_groups[0]["lr"]]
    >>> for _ in range(5):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["lr"], 6))
    ...
    >>> values
    [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]
    """

    def __init__(self, optimizer: Any, milestones: Sequence[int], gamma: float = 0.1,
                 last_step: int = -1, begin: int = 0, end: int = INF, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.MultiStepLR, optimizer, milestones, gamma, last_step, begin, end,
                                by_epoch, verbose)


class MultiStepMomentum(MultiStepParamScheduler, mm.MultiStepMomentum):
    """``MultiStepParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers).

    MMEngine's ``MultiStepMomentum``: the arguments of ``MultiStepParamScheduler`` without
    ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import MultiStepMomentum
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = MultiStepMomentum(opt, milestones=[2, 4], gamma=0.5)
    >>> values = [opt.param_groups[0]["momentum"]]
    >>> for _ in range(5):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["momentum"], 6))
    ...
    >>> values
    [0.9, 0.9, 0.45, 0.45, 0.225, 0.225]
    """

    def __init__(self, optimizer: Any, milestones: Sequence[int], gamma: float = 0.1,
                 last_step: int = -1, begin: int = 0, end: int = INF, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.MultiStepMomentum, optimizer, milestones, gamma, last_step, begin, end,
                                      by_epoch, verbose)


class ConstantLR(ConstantParamScheduler, mm.ConstantLR):
    """``ConstantParamScheduler`` on lr.

    MMEngine's ``ConstantLR``: the arguments of ``ConstantParamScheduler`` without ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import ConstantLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = ConstantLR(opt, factor=0.5, end=3)
    >>> values = [opt.param_groups[0]["lr"]]
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["lr"], 6))
    ...
    >>> values
    [0.05, 0.05, 0.1, 0.1, 0.1]
    """

    def __init__(self, optimizer: Any, factor: float = 1.0 / 3, begin: int = 0, end: int = INF,
                 last_step: int = -1, by_epoch: bool = True, verbose: bool = False) -> None:
        start(self, mm.ConstantLR, optimizer, factor, begin, end, last_step, by_epoch, verbose)


class ConstantMomentum(ConstantParamScheduler, mm.ConstantMomentum):
    """``ConstantParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers).

    MMEngine's ``ConstantMomentum``: the arguments of ``ConstantParamScheduler`` without
    ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import ConstantMomentum
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = ConstantMomentum(opt, factor=0.5, end=3)
    >>> values = [opt.param_groups[0]["momentum"]]
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["momentum"], 6))
    ...
    >>> values
    [0.45, 0.45, 0.9, 0.9, 0.9]
    """

    def __init__(self, optimizer: Any, factor: float = 1.0 / 3, begin: int = 0, end: int = INF,
                 last_step: int = -1, by_epoch: bool = True, verbose: bool = False) -> None:
        start(self, mm.ConstantMomentum, optimizer, factor, begin, end, last_step, by_epoch,
                                     verbose)


class ExponentialLR(ExponentialParamScheduler, mm.ExponentialLR):
    """``ExponentialParamScheduler`` on lr.

    MMEngine's ``ExponentialLR``: the arguments of ``ExponentialParamScheduler`` without
    ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import ExponentialLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = ExponentialLR(opt, gamma=0.5)
    >>> values = [opt.param_groups[0]["lr"]]
    >>> for _ in range(3):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["lr"], 6))
    ...
    >>> values
    [0.1, 0.05, 0.025, 0.0125]
    """

    def __init__(self, optimizer: Any, gamma: float, begin: int = 0, end: int = INF,
                 last_step: int = -1, by_epoch: bool = True, verbose: bool = False) -> None:
        start(self, mm.ExponentialLR, optimizer, gamma, begin, end, last_step, by_epoch, verbose)


class ExponentialMomentum(ExponentialParamScheduler, mm.ExponentialMomentum):
    """``ExponentialParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers).

    MMEngine's ``ExponentialMomentum``: the arguments of ``ExponentialParamScheduler`` without
    ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import ExponentialMomentum
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = ExponentialMomentum(opt, gamma=0.9)
    >>> values = [opt.param_groups[0]["momentum"]]
    >>> for _ in range(3):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["momentum"], 6))
    ...
    >>> values
    [0.9, 0.81, 0.729, 0.6561]
    """

    def __init__(self, optimizer: Any, gamma: float, begin: int = 0, end: int = INF,
                 last_step: int = -1, by_epoch: bool = True, verbose: bool = False) -> None:
        start(self, mm.ExponentialMomentum, optimizer, gamma, begin, end, last_step, by_epoch,
                                        verbose)


class LinearLR(LinearParamScheduler, mm.LinearLR):
    """``LinearParamScheduler`` on lr.

    MMEngine's ``LinearLR``: the arguments of ``LinearParamScheduler`` without ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import LinearLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = LinearLR(opt, start_factor=0.25, end=4)
    >>> values = [opt.param_groups[0]["lr"]]
    >>> for _ in range(5):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["lr"], 6))
    ...
    >>> values
    [0.025, 0.05, 0.075, 0.1, 0.1, 0.1]
    """

    def __init__(self, optimizer: Any, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.LinearLR, optimizer, start_factor, end_factor, begin, end, last_step,
                             by_epoch, verbose)


class LinearMomentum(LinearParamScheduler, mm.LinearMomentum):
    """``LinearParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers).

    MMEngine's ``LinearMomentum``: the arguments of ``LinearParamScheduler`` without
    ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import LinearMomentum
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = LinearMomentum(opt, start_factor=1.0, end_factor=0.9, end=4)
    >>> values = [opt.param_groups[0]["momentum"]]
    >>> for _ in range(5):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["momentum"], 6))
    ...
    >>> values
    [0.9, 0.87, 0.84, 0.81, 0.81, 0.81]
    """

    def __init__(self, optimizer: Any, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.LinearMomentum, optimizer, start_factor, end_factor, begin, end,
                                   last_step, by_epoch, verbose)


