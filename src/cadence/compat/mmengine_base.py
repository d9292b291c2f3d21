"""cadence's MMEngine drop-ins, the generic forms: :class:`ParamScheduler` (cadence's part of
each) and one class per family with ``param_name`` (``StepParamScheduler``, ...), each a
subclass of MMEngine's class of the same name. :mod:`cadence.compat.mmengine` adds the LR and
Momentum forms and is the module to import; the workings that every drop-in shares (stepping,
state, the checks of MMEngine's arguments) are in :mod:`cadence.compat._mmengine_core`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from cadence.validation import MissingPackage

try:
    with warnings.catch_warnings():  # MMEngine imports torch.distributed.optim, which warns
        warnings.filterwarnings("ignore", r"`torch\.jit\.\w+` is deprecated", DeprecationWarning)
        from mmengine.optim import scheduler as mm
except ImportError as exc:  # pragma: no cover - the parity extra installs it
    raise MissingPackage("cadence.compat.mmengine needs MMEngine: pip install mmengine-lite "
                         "(or mmengine)") from exc

from cadence.compat import legacy, resume
from cadence.compat._mmengine_core import ParamSchedulerCore, start
from cadence.compat._torch_checks import check_loaded, check_torch_state
from cadence.compat.mmengine_shapes import INF, build_schedulers

__all__ = [
    "INF", "ConstantParamScheduler", "CosineAnnealingParamScheduler",
    "CosineRestartParamScheduler", "ExponentialParamScheduler", "LinearParamScheduler",
    "MultiStepParamScheduler", "OneCycleParamScheduler", "ParamScheduler", "PolyParamScheduler",
    "ReduceOnPlateauParamScheduler", "StepParamScheduler", "build_schedulers", "mm",
]


class ParamScheduler(ParamSchedulerCore):
    """cadence's part of every MMEngine drop-in (MMEngine's ``_ParamScheduler`` is the rest):
    ``_get_value`` from the family's closed form, and cadence's read API. Not a scheduler by
    itself.

    >>> import torch
    >>> from cadence.compat.mmengine import ParamScheduler, StepLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> sched = StepLR(opt, step_size=2, gamma=0.5)
    >>> isinstance(sched, ParamScheduler), sched.hyperparameters
    (True, ('lr',))
    >>> sched.value_at([0, 2, 4, 10])["lr"][:, 0].tolist()  # the closed form, changing nothing
    [0.1, 0.05, 0.025, 0.003125]
    """

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if type(self) is ParamScheduler:
            raise NotImplementedError(
                "ParamScheduler is the base of cadence's MMEngine drop-ins: use one of them "
                "(StepLR, CosineAnnealingParamScheduler, ...)")
        upstream = next(k for k in type(self).__mro__ if k.__module__.startswith("mmengine"))
        start(self, upstream, *args, **kwargs)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """MMEngine's rule (the saved settings win), after checking the saved step and bases;
        the dict given is not changed. Loaded into a scheduler whose groups hold only what
        schedulers' constructions wrote, it writes the saved values
        (:mod:`cadence.compat.resume`)."""
        if legacy.load(self, state_dict):  # a state of cadence 0.1.0, converted
            return
        check_torch_state(state_dict, "last_step", bases_key="base_values",
                          values_key="_last_value", counters=("_global_step",))
        fresh = resume.untouched(self)
        before = self.__dict__.copy()
        super().load_state_dict(dict(state_dict))  # type: ignore[misc]
        check_loaded(self, state_dict, before, self._loaded_values)
        if fresh:
            groups = self.optimizer.param_groups
            self._restored = "_last_value"  # named if the next step is refused
            if resume.restore(groups, self.param_name, self.__dict__.get("_last_value")):
                for group, base in zip(groups, getattr(self, "base_values", ())):
                    group[f"initial_{self.param_name}"] = base
            self._built = resume.built(self)

    @property
    def current_step(self) -> int:
        """The step whose values the groups hold (MMEngine's ``_global_step``)."""
        return int(self._global_step)  # type: ignore[attr-defined]


# -- the families: MMEngine's classes with their signatures ---------------------------------------
class StepParamScheduler(ParamScheduler, mm.StepParamScheduler):
    """Multiply by ``gamma`` every ``step_size`` steps.

    MMEngine's ``StepParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import StepParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = StepParamScheduler(opt, param_name='weight_decay', step_size=2, gamma=0.5)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [0.0001, 0.0001, 5e-05, 5e-05, 2.5e-05]
    """

    family = "Step"

    def __init__(self, optimizer: Any, param_name: str, step_size: int, gamma: float = 0.1,
                 begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, step_size, gamma, begin, end, last_step,
                         by_epoch, verbose)


class MultiStepParamScheduler(ParamScheduler, mm.MultiStepParamScheduler):
    """Multiply by ``gamma`` at each milestone.

    MMEngine's ``MultiStepParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import MultiStepParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = MultiStepParamScheduler(opt, param_name='weight_decay', milestones=[1, 3],
    ...                                 gamma=0.5)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [0.0001, 5e-05, 5e-05, 2.5e-05, 2.5e-05]
    """

    family = "MultiStep"

    def __init__(self, optimizer: Any, param_name: str, milestones: Sequence[int],
                 gamma: float = 0.1, last_step: int = -1, begin: int = 0, end: int = INF,
                 by_epoch: bool = True, verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, milestones, gamma, last_step, begin, end,
                         by_epoch, verbose)


class ConstantParamScheduler(ParamScheduler, mm.ConstantParamScheduler):
    """``factor`` until the window's last step, then 1.

    MMEngine's ``ConstantParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import ConstantParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = ConstantParamScheduler(opt, param_name='weight_decay', factor=0.5, end=2)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for _ in range(3):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [5e-05, 0.0001, 0.0001, 0.0001]
    """

    family = "Constant"

    def __init__(self, optimizer: Any, param_name: str, factor: float = 1.0 / 3,
                 begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, factor, begin, end, last_step, by_epoch,
                         verbose)


class ExponentialParamScheduler(ParamScheduler, mm.ExponentialParamScheduler):
    """Multiply by ``gamma`` every step.

    MMEngine's ``ExponentialParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import ExponentialParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = ExponentialParamScheduler(opt, param_name='weight_decay', gamma=0.5)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for _ in range(3):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [0.0001, 5e-05, 2.5e-05, 1.3e-05]
    """

    family = "Exponential"

    def __init__(self, optimizer: Any, param_name: str, gamma: float, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, gamma, begin, end, last_step, by_epoch, verbose)


class CosineAnnealingParamScheduler(ParamScheduler, mm.CosineAnnealingParamScheduler):
    """Cosine from the base to ``eta_min`` (or ``eta_min_ratio`` of the base) over ``T_max``
    (default: the window), oscillating past it.

    MMEngine's ``CosineAnnealingParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import CosineAnnealingParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = CosineAnnealingParamScheduler(opt, param_name='weight_decay', T_max=4,
    ...                                       eta_min_ratio=0.1)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [0.0001, 8.7e-05, 5.5e-05, 2.3e-05, 1e-05]
    """

    family = "CosineAnnealing"

    def __init__(self, optimizer: Any, param_name: str, T_max: int | None = None,
                 eta_min: float | None = None, begin: int = 0, end: int = INF,
                 last_step: int = -1, by_epoch: bool = True, verbose: bool = False,
                 eta_min_ratio: float | None = None) -> None:
        super().__init__(optimizer, param_name, T_max, eta_min, begin, end, last_step,
                         by_epoch, verbose, eta_min_ratio)


class LinearParamScheduler(ParamScheduler, mm.LinearParamScheduler):
    """The factor goes linearly from ``start_factor`` to ``end_factor`` over the window.

    MMEngine's ``LinearParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import LinearParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = LinearParamScheduler(opt, param_name='weight_decay', start_factor=0.5, end=4)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for _ in range(5):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [5e-05, 6.7e-05, 8.3e-05, 0.0001, 0.0001, 0.0001]
    """

    family = "Linear"

    def __init__(self, optimizer: Any, param_name: str, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, begin: int = 0, end: int = INF, last_step: int = -1,
                 by_epoch: bool = True, verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, start_factor, end_factor, begin, end,
                         last_step, by_epoch, verbose)


class PolyParamScheduler(ParamScheduler, mm.PolyParamScheduler):
    """Polynomial decay from the base to ``eta_min`` over the window.

    MMEngine's ``PolyParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import PolyParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = PolyParamScheduler(opt, param_name='weight_decay', eta_min=0.0, power=1.0, end=4)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [0.0001, 6.7e-05, 3.3e-05, 0.0, 0.0]
    """

    family = "Poly"

    def __init__(self, optimizer: Any, param_name: str, eta_min: float = 0,
                 power: float = 1.0, begin: int = 0, end: int = INF, last_step: int = -1,
                 by_epoch: bool = True, verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, eta_min, power, begin, end, last_step,
                         by_epoch, verbose)


class OneCycleParamScheduler(ParamScheduler, mm.OneCycleParamScheduler):
    """The one-cycle policy (lr only, as in MMEngine); past ``total_steps`` the value holds
    (MMEngine raises).

    MMEngine's ``OneCycleParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import OneCycleParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = OneCycleParamScheduler(opt, param_name='lr', eta_max=0.1, total_steps=10)
    >>> values = [opt.param_groups[0]["lr"]]
    >>> for _ in range(9):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["lr"], 6))
    ...
    >>> values
    [0.004, 0.052, 0.1, 0.095048, 0.081175, 0.061126, 0.038874, 0.018826, 0.004952, 0.0]
    """

    family = "OneCycle"

    def __init__(self, optimizer: Any, param_name: str, eta_max: float | list[float] = 0,
                 total_steps: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, eta_max, total_steps, pct_start,
                         anneal_strategy, div_factor, final_div_factor, three_phase, begin, end,
                         last_step, by_epoch, verbose)

    def _chains_at(self, step: int) -> bool:
        return False  # MMEngine's one cycle sets the values

    def _setting_values(self) -> dict[str, Any]:
        phases = self._schedule_phases
        linear = getattr(self, "anneal_func", None) is mm.OneCycleParamScheduler._annealing_linear
        return {"eta_max": self.eta_max, "total_steps": self.total_steps,
                "pct_start": (phases[0]["end_step"] + 1) / self.total_steps,
                "anneal_strategy": "linear" if linear else "cos",
                "div_factor": self.div_factor, "final_div_factor": self.final_div_factor,
                "three_phase": len(phases) == 3}


class CosineRestartParamScheduler(ParamScheduler, mm.CosineRestartParamScheduler):
    """Cosine cycles of the given ``periods``, each restarting at ``restart_weights[i]`` of the
    base and going down to ``eta_min`` (or ``eta_min_ratio``); the last value holds after.

    MMEngine's ``CosineRestartParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import CosineRestartParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = CosineRestartParamScheduler(opt, param_name='weight_decay', periods=[2, 2],
    ...                                     restart_weights=[1, 0.5], eta_min=0.0)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [0.0001, 5e-05, 5e-05, 2.5e-05, 2.5e-05]
    """

    family = "CosineRestart"

    def __init__(self, optimizer: Any, param_name: str, periods: list[int],
                 restart_weights: Sequence[float] = (1,), eta_min: float | None = None,
                 eta_min_ratio: float | None = None, begin: int = 0, end: int = INF,
                 last_step: int = -1, by_epoch: bool = True, verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, periods, restart_weights, eta_min,
                         eta_min_ratio, begin, end, last_step, by_epoch, verbose)

    def _chains_at(self, step: int) -> bool:
        """A restart sets the value (``restart_weights[i]`` of the base), as MMEngine does."""
        return step != 0 and step not in self.cumulative_periods[:-1]


class ReduceOnPlateauParamScheduler(ParamScheduler, mm.ReduceOnPlateauParamScheduler):
    """MMEngine's reduce-on-plateau: ``step(metrics)`` after validation, ``step()`` to count
    epochs; active in ``[begin, end)``.

    MMEngine's ``ReduceOnPlateauParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import ReduceOnPlateauParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = ReduceOnPlateauParamScheduler(opt, param_name='weight_decay', monitor='loss',
    ...                                       factor=0.5, patience=1)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for loss in [1.0, 0.9, 0.9, 0.9, 0.9]:
    ...     opt.step(); sched.step(metrics={"loss": loss})
    ...     values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [0.0001, 0.0001, 0.0001, 0.0001, 5e-05, 5e-05]
    """

    def __init__(self, optimizer: Any, param_name: str, monitor: str = "loss",
                 rule: str = "less", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_rule: str = "rel", cooldown: int = 0,
                 min_value: float | Sequence[float] = 0.0, eps: float = 1e-8, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, monitor, rule, factor, patience, threshold,
                         threshold_rule, cooldown, min_value, eps, begin, end, last_step,
                         by_epoch, verbose)
