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
    start,
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

# -- the LR and Momentum twins: the same families on lr, and on momentum (betas[0] on Adam) --


class StepLR(StepParamScheduler, mm.StepLR):
    """``StepParamScheduler`` on lr."""

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.StepLR, optimizer, step_size, gamma, begin, end, last_step, by_epoch,
                           verbose)


class StepMomentum(StepParamScheduler, mm.StepMomentum):
    """``StepParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers)."""

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.StepMomentum, optimizer, step_size, gamma, begin, end, last_step,
                                 by_epoch, verbose)


class MultiStepLR(MultiStepParamScheduler, mm.MultiStepLR):
    """``MultiStepParamScheduler`` on lr."""

    def __init__(self, optimizer: Any, milestones: Sequence[int], gamma: float = 0.1,
                 last_step: int = -1, begin: int = 0, end: int = INF, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.MultiStepLR, optimizer, milestones, gamma, last_step, begin, end,
                                by_epoch, verbose)


class MultiStepMomentum(MultiStepParamScheduler, mm.MultiStepMomentum):
    """``MultiStepParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers)."""

    def __init__(self, optimizer: Any, milestones: Sequence[int], gamma: float = 0.1,
                 last_step: int = -1, begin: int = 0, end: int = INF, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.MultiStepMomentum, optimizer, milestones, gamma, last_step, begin, end,
                                      by_epoch, verbose)


class ConstantLR(ConstantParamScheduler, mm.ConstantLR):
    """``ConstantParamScheduler`` on lr."""

    def __init__(self, optimizer: Any, factor: float = 1.0 / 3, begin: int = 0, end: int = INF,
                 last_step: int = -1, by_epoch: bool = True, verbose: bool = False) -> None:
        start(self, mm.ConstantLR, optimizer, factor, begin, end, last_step, by_epoch, verbose)


class ConstantMomentum(ConstantParamScheduler, mm.ConstantMomentum):
    """``ConstantParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers)."""

    def __init__(self, optimizer: Any, factor: float = 1.0 / 3, begin: int = 0, end: int = INF,
                 last_step: int = -1, by_epoch: bool = True, verbose: bool = False) -> None:
        start(self, mm.ConstantMomentum, optimizer, factor, begin, end, last_step, by_epoch,
                                     verbose)


class ExponentialLR(ExponentialParamScheduler, mm.ExponentialLR):
    """``ExponentialParamScheduler`` on lr."""

    def __init__(self, optimizer: Any, gamma: float, begin: int = 0, end: int = INF,
                 last_step: int = -1, by_epoch: bool = True, verbose: bool = False) -> None:
        start(self, mm.ExponentialLR, optimizer, gamma, begin, end, last_step, by_epoch, verbose)


class ExponentialMomentum(ExponentialParamScheduler, mm.ExponentialMomentum):
    """``ExponentialParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers)."""

    def __init__(self, optimizer: Any, gamma: float, begin: int = 0, end: int = INF,
                 last_step: int = -1, by_epoch: bool = True, verbose: bool = False) -> None:
        start(self, mm.ExponentialMomentum, optimizer, gamma, begin, end, last_step, by_epoch,
                                        verbose)


class CosineAnnealingLR(CosineAnnealingParamScheduler, mm.CosineAnnealingLR):
    """``CosineAnnealingParamScheduler`` on lr."""

    def __init__(self, optimizer: Any, T_max: int | None = None, eta_min: float | None = None,
                 begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False, eta_min_ratio: float | None = None) -> None:
        start(self, mm.CosineAnnealingLR, optimizer, T_max, eta_min, begin, end, last_step,
                                      by_epoch, verbose, eta_min_ratio)


class CosineAnnealingMomentum(CosineAnnealingParamScheduler, mm.CosineAnnealingMomentum):
    """``CosineAnnealingParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers)."""

    def __init__(self, optimizer: Any, T_max: int | None = None, eta_min: float | None = None,
                 begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False, eta_min_ratio: float | None = None) -> None:
        start(self, mm.CosineAnnealingMomentum, optimizer, T_max, eta_min, begin, end, last_step,
                                            by_epoch, verbose, eta_min_ratio)


class LinearLR(LinearParamScheduler, mm.LinearLR):
    """``LinearParamScheduler`` on lr."""

    def __init__(self, optimizer: Any, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.LinearLR, optimizer, start_factor, end_factor, begin, end, last_step,
                             by_epoch, verbose)


class LinearMomentum(LinearParamScheduler, mm.LinearMomentum):
    """``LinearParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers)."""

    def __init__(self, optimizer: Any, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.LinearMomentum, optimizer, start_factor, end_factor, begin, end,
                                   last_step, by_epoch, verbose)


class PolyLR(PolyParamScheduler, mm.PolyLR):
    """``PolyParamScheduler`` on lr."""

    def __init__(self, optimizer: Any, eta_min: float = 0, power: float = 1.0, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.PolyLR, optimizer, eta_min, power, begin, end, last_step, by_epoch,
                           verbose)


class PolyMomentum(PolyParamScheduler, mm.PolyMomentum):
    """``PolyParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers)."""

    def __init__(self, optimizer: Any, eta_min: float = 0, power: float = 1.0, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.PolyMomentum, optimizer, eta_min, power, begin, end, last_step, by_epoch,
                                 verbose)


class OneCycleLR(OneCycleParamScheduler, mm.OneCycleLR):
    """``OneCycleParamScheduler`` on lr."""

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
    """``CosineRestartParamScheduler`` on lr."""

    def __init__(self, optimizer: Any, periods: list[int], restart_weights: Sequence[float] = (1,),
                 eta_min: float | None = None, eta_min_ratio: float | None = None, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.CosineRestartLR, optimizer, periods, restart_weights, eta_min,
                                    eta_min_ratio, begin, end, last_step, by_epoch, verbose)


class CosineRestartMomentum(CosineRestartParamScheduler, mm.CosineRestartMomentum):
    """``CosineRestartParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers)."""

    def __init__(self, optimizer: Any, periods: list[int], restart_weights: Sequence[float] = (1,),
                 eta_min: float | None = None, eta_min_ratio: float | None = None, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.CosineRestartMomentum, optimizer, periods, restart_weights, eta_min,
                                          eta_min_ratio, begin, end, last_step, by_epoch, verbose)


class ReduceOnPlateauLR(ReduceOnPlateauParamScheduler, mm.ReduceOnPlateauLR):
    """``ReduceOnPlateauParamScheduler`` on lr."""

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
    """``ReduceOnPlateauParamScheduler`` on momentum (``betas[0]`` on Adam-family optimizers)."""

    def __init__(self, optimizer: Any, monitor: str = "loss", rule: str = "less",
                 factor: float = 0.1, patience: int = 10, threshold: float = 1e-4,
                 threshold_rule: str = "rel", cooldown: int = 0,
                 min_value: float | Sequence[float] = 0.0, eps: float = 1e-8, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        start(self, mm.ReduceOnPlateauMomentum, optimizer, monitor, rule, factor, patience,
                                            threshold, threshold_rule, cooldown, min_value, eps,
                                            begin, end, last_step, by_epoch, verbose)
