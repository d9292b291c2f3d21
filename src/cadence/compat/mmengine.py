"""Drop-ins for MMEngine's parameter schedulers (they need MMEngine: ``pip install
mmengine-lite``).

Each class subclasses MMEngine's class of the same name and runs MMEngine's own constructor and
``step()``: the same arguments, attributes, state (``state_dict()`` loads into MMEngine's class
and back; the saved settings win), warnings, ``OptimWrapper`` support, ``begin``/``end`` windows
and ``build_iter_from_epoch``. The values come from cadence: each step's value is the family's
closed form (:mod:`cadence.compat.mmengine_shapes`) combined with other schedulers on the same
optimizer by MMEngine's chaining rule (:mod:`cadence.compat.chaining`), so a scheduler alone is
exact at any step. ``ReduceOnPlateau*`` are MMEngine's own. For MMEngine's list of configs
without MMEngine, see :func:`cadence.compat.mmengine_shapes.build_schedulers`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cadence.compat._mmengine_core import start
from cadence.compat._mmengine_factors import (
    ConstantLR,
    ConstantMomentum,
    ExponentialLR,
    ExponentialMomentum,
    LinearLR,
    LinearMomentum,
    MultiStepLR,
    MultiStepMomentum,
    StepLR,
    StepMomentum,
)
from cadence.compat.mmengine_base import (
    INF,
    ConstantParamScheduler,
    CosineAnnealingParamScheduler,
    CosineRestartParamScheduler,
    ExponentialParamScheduler,
    LinearParamScheduler,
    MultiStepParamScheduler,
    OneCycleParamScheduler,
    ParamScheduler,
    PolyParamScheduler,
    ReduceOnPlateauParamScheduler,
    StepParamScheduler,
    build_schedulers,
    mm,
)

__all__ = [
    "INF", "ConstantLR", "ConstantMomentum", "ConstantParamScheduler", "CosineAnnealingLR",
    "CosineAnnealingMomentum", "CosineAnnealingParamScheduler", "CosineRestartLR",
    "CosineRestartMomentum", "CosineRestartParamScheduler", "ExponentialLR",
    "ExponentialMomentum", "ExponentialParamScheduler", "LinearLR", "LinearMomentum",
    "LinearParamScheduler", "MultiStepLR", "MultiStepMomentum", "MultiStepParamScheduler",
    "OneCycleLR", "OneCycleParamScheduler", "ParamScheduler", "PolyLR", "PolyMomentum",
    "PolyParamScheduler", "ReduceOnPlateauLR", "ReduceOnPlateauMomentum",
    "ReduceOnPlateauParamScheduler", "StepLR", "StepMomentum", "StepParamScheduler",
    "build_schedulers",
]

# -- the LR and Momentum twins of the families with values of their own (eta_min, eta_max) and
# of ReduceOnPlateau; those of the factor families are in cadence.compat._mmengine_factors --


class CosineAnnealingLR(CosineAnnealingParamScheduler, mm.CosineAnnealingLR):
    """``CosineAnnealingParamScheduler`` on lr.

    MMEngine's ``CosineAnnealingLR``: the arguments of ``CosineAnnealingParamScheduler`` without
    ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import CosineAnnealingLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = CosineAnnealingLR(opt, T_max=4, eta_min=0.0)
    >>> values = [opt.param_groups[0]["lr"]]
    >>> for _ in range(5):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["lr"], 6))
    ...
    >>> values
    [0.1, 0.085355, 0.05, 0.014645, 0.0, 0.014645]
    """

    def __init__(self, optimizer: Any, T_max: int | None = None, eta_min: float | None = None,
                 begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False, eta_min_ratio: float | None = None) -> None:
        start(self, mm.CosineAnnealingLR, optimizer, T_max, eta_min, begin, end, last_step,
                                      by_epoch, verbose, eta_min_ratio)


class CosineAnnealingMomentum(CosineAnnealingParamScheduler, mm.CosineAnnealingMomentum):
    """``CosineAnnealingParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers).

    MMEngine's ``CosineAnnealingMomentum``: the arguments of ``CosineAnnealingParamScheduler``
    without
    ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import CosineAnnealingMomentum
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = CosineAnnealingMomentum(opt, T_max=4, eta_min=0.85)
    >>> values = [opt.param_groups[0]["momentum"]]
    >>> for _ in range(5):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["momentum"], 6))
    ...
    >>> values
    [0.9, 0.892678, 0.875, 0.857322, 0.85, 0.857322]
    """

    def __init__(self, optimizer: Any, T_max: int | None = None, eta_min: float | None = None,
                 begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False, eta_min_ratio: float | None = None) -> None:
        start(self, mm.CosineAnnealingMomentum, optimizer, T_max, eta_min, begin, end, last_step,
                                            by_epoch, verbose, eta_min_ratio)


class PolyLR(PolyParamScheduler, mm.PolyLR):
    """``PolyParamScheduler`` on lr.

    MMEngine's ``PolyLR``: the arguments of ``PolyParamScheduler`` without ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import PolyLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = PolyLR(opt, eta_min=0.0, power=2.0, end=4)
    >>> values = [opt.param_groups[0]["lr"]]
    >>> for _ in range(5):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["lr"], 6))
    ...
    >>> values
    [0.1, 0.044444, 0.011111, 0.0, 0.0, 0.0]
    """

    def __init__(self, optimizer: Any, eta_min: float = 0, power: float = 1.0, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.PolyLR, optimizer, eta_min, power, begin, end, last_step, by_epoch,
                           verbose)


class PolyMomentum(PolyParamScheduler, mm.PolyMomentum):
    """``PolyParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers).

    MMEngine's ``PolyMomentum``: the arguments of ``PolyParamScheduler`` without
    ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import PolyMomentum
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = PolyMomentum(opt, eta_min=0.8, power=1.0, end=4)
    >>> values = [opt.param_groups[0]["momentum"]]
    >>> for _ in range(5):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["momentum"], 6))
    ...
    >>> values
    [0.9, 0.866667, 0.833333, 0.8, 0.8, 0.8]
    """

    def __init__(self, optimizer: Any, eta_min: float = 0, power: float = 1.0, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.PolyMomentum, optimizer, eta_min, power, begin, end, last_step, by_epoch,
                                 verbose)


class OneCycleLR(OneCycleParamScheduler, mm.OneCycleLR):
    """``OneCycleParamScheduler`` on lr.

    MMEngine's ``OneCycleLR``: the arguments of ``OneCycleParamScheduler`` without
    ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import OneCycleLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = OneCycleLR(opt, eta_max=0.1, total_steps=10)
    >>> values = [opt.param_groups[0]["lr"]]
    >>> for _ in range(9):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["lr"], 6))
    ...
    >>> values
    [0.004, 0.052, 0.1, 0.095048, 0.081175, 0.061126, 0.038874, 0.018826, 0.004952, 0.0]
    """

    def __init__(self, optimizer: Any, eta_max: float | list[float] = 0,
                 total_steps: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.OneCycleLR, optimizer, eta_max, total_steps, pct_start, anneal_strategy,
                               div_factor, final_div_factor, three_phase, begin, end, last_step,
                               by_epoch, verbose)


class CosineRestartLR(CosineRestartParamScheduler, mm.CosineRestartLR):
    """``CosineRestartParamScheduler`` on lr.

    MMEngine's ``CosineRestartLR``: the arguments of ``CosineRestartParamScheduler`` without
    ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import CosineRestartLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = CosineRestartLR(opt, periods=[4, 4], restart_weights=[1, 0.5], eta_min=0.0)
    >>> values = [opt.param_groups[0]["lr"]]
    >>> for _ in range(8):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["lr"], 6))
    ...
    >>> values
    [0.1, 0.085355, 0.05, 0.014645, 0.05, 0.042678, 0.025, 0.007322, 0.007322]
    """

    def __init__(self, optimizer: Any, periods: list[int], restart_weights: Sequence[float] = (1,),
                 eta_min: float | None = None, eta_min_ratio: float | None = None, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.CosineRestartLR, optimizer, periods, restart_weights, eta_min,
                                    eta_min_ratio, begin, end, last_step, by_epoch, verbose)


class CosineRestartMomentum(CosineRestartParamScheduler, mm.CosineRestartMomentum):
    """``CosineRestartParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers).

    MMEngine's ``CosineRestartMomentum``: the arguments of ``CosineRestartParamScheduler`` without
    ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import CosineRestartMomentum
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = CosineRestartMomentum(opt, periods=[4, 4], restart_weights=[1, 1], eta_min=0.85)
    >>> values = [opt.param_groups[0]["momentum"]]
    >>> for _ in range(8):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["momentum"], 6))
    ...
    >>> values
    [0.9, 0.892678, 0.875, 0.857322, 0.9, 0.892678, 0.875, 0.857322, 0.857322]
    """

    def __init__(self, optimizer: Any, periods: list[int], restart_weights: Sequence[float] = (1,),
                 eta_min: float | None = None, eta_min_ratio: float | None = None, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.CosineRestartMomentum, optimizer, periods, restart_weights, eta_min,
                                          eta_min_ratio, begin, end, last_step, by_epoch, verbose)


class ReduceOnPlateauLR(ReduceOnPlateauParamScheduler, mm.ReduceOnPlateauLR):
    """``ReduceOnPlateauParamScheduler`` on lr.

    MMEngine's ``ReduceOnPlateauLR``: the arguments of ``ReduceOnPlateauParamScheduler``
    without ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import ReduceOnPlateauLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = ReduceOnPlateauLR(opt, monitor='loss', factor=0.5, patience=1)
    >>> values = [opt.param_groups[0]["lr"]]
    >>> for loss in [1.0, 0.9, 0.9, 0.9, 0.9]:
    ...     opt.step(); sched.step(metrics={"loss": loss})
    ...     values.append(round(opt.param_groups[0]["lr"], 6))
    ...
    >>> values
    [0.1, 0.1, 0.1, 0.1, 0.05, 0.05]
    """

    def __init__(self, optimizer: Any, monitor: str = "loss", rule: str = "less",
                 factor: float = 0.1, patience: int = 10, threshold: float = 1e-4,
                 threshold_rule: str = "rel", cooldown: int = 0,
                 min_value: float | Sequence[float] = 0.0, eps: float = 1e-8, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.ReduceOnPlateauLR, optimizer, monitor, rule, factor, patience, threshold,
                                      threshold_rule, cooldown, min_value, eps, begin, end,
                                      last_step, by_epoch, verbose)


class ReduceOnPlateauMomentum(ReduceOnPlateauParamScheduler, mm.ReduceOnPlateauMomentum):
    """``ReduceOnPlateauParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers).

    MMEngine's ``ReduceOnPlateauMomentum``: the arguments of
    ``ReduceOnPlateauParamScheduler`` without ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import ReduceOnPlateauMomentum
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = ReduceOnPlateauMomentum(opt, monitor='loss', factor=0.5, patience=1)
    >>> values = [opt.param_groups[0]["momentum"]]
    >>> for loss in [1.0, 0.9, 0.9, 0.9, 0.9]:
    ...     opt.step(); sched.step(metrics={"loss": loss})
    ...     values.append(round(opt.param_groups[0]["momentum"], 6))
    ...
    >>> values
    [0.9, 0.9, 0.9, 0.9, 0.45, 0.45]
    """

    def __init__(self, optimizer: Any, monitor: str = "loss", rule: str = "less",
                 factor: float = 0.1, patience: int = 10, threshold: float = 1e-4,
                 threshold_rule: str = "rel", cooldown: int = 0,
                 min_value: float | Sequence[float] = 0.0, eps: float = 1e-8, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.ReduceOnPlateauMomentum, optimizer, monitor, rule, factor, patience,
                                            threshold, threshold_rule, cooldown, min_value, eps,
                                            begin, end, last_step, by_epoch, verbose)
