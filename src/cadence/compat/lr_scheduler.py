"""Drop-in replacements for ``torch.optim.lr_scheduler`` (PyTorch 2.13), on cadence's schedules.

Change ``from torch.optim import lr_scheduler`` to ``from cadence.compat import lr_scheduler``:
the classes keep PyTorch's names, signatures, defaults, methods and attributes, and give the same
lrs at every step (a test compares them with PyTorch's). Each is a closed-form schedule, so
resuming and ``step(epoch)`` are exact. Deliberate differences are listed in ``docs/compat.md``.

>>> import torch
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> sched = StepLR(opt, step_size=2, gamma=0.5)
>>> for _ in range(3):
...     opt.step(); sched.step()
>>> sched.get_last_lr(), sched.last_epoch
([0.05], 3)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch

from cadence.compat.torch_base import (
    GroupSchedules,
    LRScheduler,
    cosine_annealing,
    per_group,
    set_lr,
    set_one_cycle_bases,
)
from cadence.config.io import fingerprint
from cadence.scheduler import chain
from cadence.scheduler.plateau import ReduceOnPlateau as Plateau
from cadence.schedules import (
    Constant,
    CosineRestarts,
    Cyclic,
    Exponential,
    Lambda,
    Linear,
    Multiplicative,
    MultiStep,
    OneCycle,
    Polynomial,
    Product,
    Scale,
    Schedule,
    Shift,
    Step,
    join,
    product,
)
from cadence.schedules.ops import SCALAR
from cadence.validation import (
    check_choice,
    check_non_negative,
    check_non_negative_int,
    check_number,
    check_positive,
    check_positive_int,
    check_range,
)

_LRScheduler = LRScheduler  # PyTorch's old name, still used by seed code

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    "_LRScheduler",
]


def _shared(schedule: Schedule, bases: list[float]) -> GroupSchedules:
    return GroupSchedules([schedule] * len(bases), absolute=False)


class _UserFunctionLR(LRScheduler):
    """The base of :class:`LambdaLR` and :class:`MultiplicativeLR`: a user's function of the
    epoch, one for every param group or one per group."""

    def __init__(self, optimizer: torch.optim.Optimizer,
                 lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1, verbose: bool | str = "deprecated") -> None:
        self.lr_lambdas = per_group("lr_lambda", lr_lambda, optimizer)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"'lr_lambda' must be a callable or a list of them (got {fn!r})")
        super().__init__(optimizer, last_epoch, verbose)

    def _settings(self) -> dict[str, Any]:
        return {"lr_lambda": [fingerprint(f) for f in self.lr_lambdas]}


class LambdaLR(_UserFunctionLR):
    """``lr = base * lr_lambda(epoch)``. A cadence :class:`~cadence.schedules.Schedule` is a
    valid ``lr_lambda`` (and then the state holds its config)."""

    def _lr_schedules(self, bases: list[float]) -> GroupSchedules:
        return GroupSchedules([f if isinstance(f, Schedule) else Lambda(f)
                               for f in self.lr_lambdas], absolute=False)


class MultiplicativeLR(_UserFunctionLR):
    """``lr = base * lr_lambda(1) * ... * lr_lambda(epoch)``."""

    def _lr_schedules(self, bases: list[float]) -> GroupSchedules:
        return GroupSchedules([Multiplicative(f) for f in self.lr_lambdas], absolute=False)


class StepLR(LRScheduler):
    """``lr = base * gamma ** (epoch // step_size)``."""

    def __init__(self, optimizer: torch.optim.Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1, verbose: bool | str = "deprecated") -> None:
        self.step_size = check_positive_int("step_size", step_size)
        self.gamma = check_number("gamma", gamma)
        super().__init__(optimizer, last_epoch, verbose)

    def _settings(self) -> dict[str, Any]:
        return {"step_size": self.step_size, "gamma": self.gamma}

    def _lr_schedules(self, bases: list[float]) -> GroupSchedules:
        return _shared(Step(every=self.step_size, gamma=self.gamma), bases)


class MultiStepLR(LRScheduler):
    """``lr = base * gamma ** (milestones reached)``; a repeated milestone counts twice."""

    def __init__(self, optimizer: torch.optim.Optimizer, milestones: Iterable[int],
                 gamma: float = 0.1, last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        items = list(milestones)
        for m in items:
            check_non_negative_int("milestones", m)
        self.milestones = sorted(items)
        self.gamma = check_number("gamma", gamma)
        super().__init__(optimizer, last_epoch, verbose)

    def _settings(self) -> dict[str, Any]:
        return {"milestones": self.milestones, "gamma": self.gamma}

    def _lr_schedules(self, bases: list[float]) -> GroupSchedules:
        return _shared(MultiStep(milestones=self.milestones, gamma=self.gamma), bases)


class ConstantLR(LRScheduler):
    """``lr = base * factor`` for the first ``total_iters`` epochs, then ``base``."""

    def __init__(self, optimizer: torch.optim.Optimizer, factor: float = 1.0 / 3,
                 total_iters: int = 5, last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        self.factor = check_range("factor", factor, 0.0, 1.0)
        self.total_iters = check_non_negative_int("total_iters", total_iters)
        super().__init__(optimizer, last_epoch, verbose)

    def _settings(self) -> dict[str, Any]:
        return {"factor": self.factor, "total_iters": self.total_iters}

    def _lr_schedules(self, bases: list[float]) -> GroupSchedules:
        if self.total_iters == 0:  # no constant phase (PyTorch keeps the factor forever)
            return _shared(Constant(1.0), bases)
        return _shared(join([Constant(self.factor), Constant(1.0)], [self.total_iters]), bases)


class LinearLR(LRScheduler):
    """The factor goes linearly from ``start_factor`` to ``end_factor`` over ``total_iters``."""

    def __init__(self, optimizer: torch.optim.Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        self.start_factor = check_range("start_factor", start_factor, 0.0, 1.0, low_open=True)
        self.end_factor = check_range("end_factor", end_factor, 0.0, 1.0)
        self.total_iters = check_non_negative_int("total_iters", total_iters)
        super().__init__(optimizer, last_epoch, verbose)

    def _settings(self) -> dict[str, Any]:
        return {"start_factor": self.start_factor, "end_factor": self.end_factor,
                "total_iters": self.total_iters}

    def _lr_schedules(self, bases: list[float]) -> GroupSchedules:
        if self.total_iters == 0:  # already at the end (PyTorch keeps start_factor forever)
            return _shared(Constant(self.end_factor), bases)
        return _shared(Linear(start=self.start_factor, end=self.end_factor,
                              steps=self.total_iters), bases)


class ExponentialLR(LRScheduler):
    """``lr = base * gamma ** epoch``."""

    def __init__(self, optimizer: torch.optim.Optimizer, gamma: float, last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        self.gamma = check_positive("gamma", gamma)
        super().__init__(optimizer, last_epoch, verbose)

    def _settings(self) -> dict[str, Any]:
        return {"gamma": self.gamma}

    def _lr_schedules(self, bases: list[float]) -> GroupSchedules:
        return _shared(Exponential(rate=self.gamma), bases)


class PolynomialLR(LRScheduler):
    """``lr = base * (1 - min(epoch, total_iters) / total_iters) ** power``."""

    def __init__(self, optimizer: torch.optim.Optimizer, total_iters: int = 5,
                 power: float = 1.0, last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        self.total_iters = check_positive_int("total_iters", total_iters)
        self.power = check_positive("power", power)
        super().__init__(optimizer, last_epoch, verbose)

    def _settings(self) -> dict[str, Any]:
        return {"total_iters": self.total_iters, "power": self.power}

    def _lr_schedules(self, bases: list[float]) -> GroupSchedules:
        return _shared(Polynomial(start=1.0, end=0.0, steps=self.total_iters,
                                  power=self.power), bases)


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (base - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``, which keeps
    oscillating with period ``2 * T_max`` past ``T_max``, as PyTorch's does."""

    def __init__(self, optimizer: torch.optim.Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1, verbose: bool | str = "deprecated") -> None:
        self.T_max = check_positive_int("T_max", T_max)
        self.eta_min = check_number("eta_min", eta_min)
        super().__init__(optimizer, last_epoch, verbose)

    def _settings(self) -> dict[str, Any]:
        return {"T_max": self.T_max, "eta_min": self.eta_min}

    def _lr_schedules(self, bases: list[float]) -> GroupSchedules:
        return GroupSchedules([cosine_annealing(b, self.eta_min, self.T_max) for b in bases],
                              absolute=True)


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing from the base lr to ``eta_min``, restarting after ``T_0`` epochs, then
    after cycles ``T_mult`` times longer each."""

    def __init__(self, optimizer: torch.optim.Optimizer, T_0: int, T_mult: int = 1,
                 eta_min: float = 0.0, last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        self.T_0 = check_positive_int("T_0", T_0)
        self.T_mult = check_positive_int("T_mult", T_mult)
        self.eta_min = check_number("eta_min", eta_min)
        super().__init__(optimizer, last_epoch, verbose)

    def _settings(self) -> dict[str, Any]:
        return {"T_0": self.T_0, "T_mult": self.T_mult, "eta_min": self.eta_min}

    def _restarts(self, base: float = 1.0) -> CosineRestarts:
        return CosineRestarts(period=self.T_0, period_mult=self.T_mult, low=self.eta_min,
                              high=base)

    def _lr_schedules(self, bases: list[float]) -> GroupSchedules:
        return GroupSchedules([self._restarts(b) for b in bases], absolute=True)

    @property
    def T_cur(self) -> float:
        """Epochs since the last restart."""
        _, start, _ = self._restarts()._locate(float(self.last_epoch), SCALAR)
        return float(self.last_epoch - start)

    @property
    def T_i(self) -> float:
        """Length of the current cycle."""
        _, start, end = self._restarts()._locate(float(self.last_epoch), SCALAR)
        return float(end - start)


class _ScaleFn:
    """CyclicLR's ``scale_fn`` of the cycle number (from 1) or of the step, as a picklable
    callable of the step."""

    def __init__(self, fn: Callable[[float], float], mode: str, total: float) -> None:
        self.fn, self.mode, self.total = fn, mode, total

    def __call__(self, step: float) -> float:
        x = math.floor(1 + step / self.total) if self.mode == "cycle" else step
        return float(self.fn(x))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ScaleFn) and (self.fn, self.mode, self.total) == (
            other.fn, other.mode, other.total)

    def __hash__(self) -> int:
        return hash((self.mode, self.total))


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith 2017) between ``base_lr`` and ``max_lr``, and momentum
    cycling the other way between ``max_momentum`` and ``base_momentum``."""

    def __init__(self, optimizer: torch.optim.Optimizer, base_lr: float | list[float],
                 max_lr: float | list[float], step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular", gamma: float = 1.0,
                 scale_fn: Callable[[float], float] | None = None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum: float = 0.8,
                 max_momentum: float = 0.9, last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        self.base_lrs_given = [check_non_negative("base_lr", v)
                               for v in per_group("base_lr", base_lr, optimizer)]
        self.max_lrs = [check_non_negative("max_lr", v)
                        for v in per_group("max_lr", max_lr, optimizer)]
        self.step_size_up = check_positive_int("step_size_up", step_size_up)
        self.step_size_down = (self.step_size_up if step_size_down is None
                               else check_positive_int("step_size_down", step_size_down))
        self.mode = check_choice("mode", mode, ("triangular", "triangular2", "exp_range"))
        self.gamma = check_positive("gamma", gamma)
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"'scale_fn' must be callable or None (got {scale_fn!r})")
        self.scale_fn = scale_fn
        self.scale_mode = check_choice("scale_mode", scale_mode, ("cycle", "iterations"))
        self.cycle_momentum = bool(cycle_momentum)
        self.base_momentums = per_group("base_momentum", base_momentum, optimizer)
        self.max_momentums = per_group("max_momentum", max_momentum, optimizer)
        if last_epoch == -1:
            for lr, group in zip(self.base_lrs_given, optimizer.param_groups):
                set_lr(group, lr)
                group["initial_lr"] = lr
        super().__init__(optimizer, last_epoch, verbose)

    def _settings(self) -> dict[str, Any]:
        return {"base_lr": self.base_lrs_given, "max_lr": self.max_lrs,
                "step_size_up": self.step_size_up, "step_size_down": self.step_size_down,
                "mode": self.mode, "gamma": self.gamma, "scale_mode": self.scale_mode,
                "cycle_momentum": self.cycle_momentum,
                "base_momentum": [float(v) for v in self.base_momentums],
                "max_momentum": [float(v) for v in self.max_momentums]}

    def _cycle(self, start: float, peak: float) -> Schedule:
        up, down = self.step_size_up, self.step_size_down
        if self.scale_fn is None:
            return Cyclic(start=start, peak=peak, up_steps=up, down_steps=down, mode=self.mode,
                          gamma=self.gamma)
        triangle = Cyclic(start=0.0, peak=1.0, up_steps=up, down_steps=down)
        scale = Lambda(_ScaleFn(self.scale_fn, self.scale_mode, up + down))
        return Shift(Scale(Product((triangle, scale)), peak - start), start)

    def _lr_schedules(self, bases: list[float]) -> GroupSchedules:
        return GroupSchedules([self._cycle(lo, hi) for lo, hi in
                               zip(self.base_lrs_given, self.max_lrs)], absolute=True)

    def _momentum_schedules(self) -> GroupSchedules | None:
        if not self.cycle_momentum:
            return None
        return GroupSchedules([self._cycle(float(hi), float(lo)) for lo, hi in
                               zip(self.base_momentums, self.max_momentums)], absolute=True)


class OneCycleLR(LRScheduler):
    """The one-cycle policy: lr from ``max_lr / div_factor`` up to ``max_lr`` and down to
    ``initial / final_div_factor``; momentum the other way. Past ``total_steps`` the last value
    holds (PyTorch raises)."""

    def __init__(self, optimizer: torch.optim.Optimizer, max_lr: float | list[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85,
                 max_momentum: float | list[float] = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1, verbose: bool | str = "deprecated") -> None:
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR needs 'total_steps', or 'epochs' and "
                                 f"'steps_per_epoch' (got {total_steps}, {epochs}, "
                                 f"{steps_per_epoch})")
            total_steps = check_positive_int("epochs", epochs) * check_positive_int(
                "steps_per_epoch", steps_per_epoch)
        self.total_steps = check_positive_int("total_steps", total_steps)
        self.max_lrs = [check_positive("max_lr", v)
                        for v in per_group("max_lr", max_lr, optimizer)]
        self.pct_start = check_range("pct_start", pct_start, 0.0, 1.0)
        self.anneal_strategy = check_choice("anneal_strategy", anneal_strategy, ("cos", "linear"))
        self.div_factor = check_positive("div_factor", div_factor)
        self.final_div_factor = check_positive("final_div_factor", final_div_factor)
        self.three_phase = bool(three_phase)
        self.cycle_momentum = bool(cycle_momentum)
        self.base_momentums = per_group("base_momentum", base_momentum, optimizer)
        self.max_momentums = per_group("max_momentum", max_momentum, optimizer)
        if last_epoch == -1:
            set_one_cycle_bases(optimizer, self.max_lrs, self.div_factor, self.final_div_factor)
        self._phases(1.0, 1.0, 1.0)  # validates pct_start against total_steps
        super().__init__(optimizer, last_epoch, verbose)

    def _settings(self) -> dict[str, Any]:
        return {"total_steps": self.total_steps, "max_lr": self.max_lrs,
                "pct_start": self.pct_start, "anneal_strategy": self.anneal_strategy,
                "div_factor": self.div_factor, "final_div_factor": self.final_div_factor,
                "three_phase": self.three_phase, "cycle_momentum": self.cycle_momentum,
                "base_momentum": [float(v) for v in self.base_momentums],
                "max_momentum": [float(v) for v in self.max_momentums]}

    def _phases(self, start: float, peak: float, end: float) -> OneCycle:
        return OneCycle(total_steps=self.total_steps, peak=peak, start=start, end=end,
                        pct_start=self.pct_start, anneal=self.anneal_strategy,
                        three_phase=self.three_phase)

    def _lr_schedules(self, bases: list[float]) -> GroupSchedules:
        schedules = []
        for peak in self.max_lrs:
            initial = peak / self.div_factor
            schedules.append(self._phases(initial, peak, initial / self.final_div_factor))
        return GroupSchedules(schedules, absolute=True)

    def _momentum_schedules(self) -> GroupSchedules | None:
        if not self.cycle_momentum:
            return None
        return GroupSchedules([self._phases(float(hi), float(lo), float(hi)) for lo, hi in
                               zip(self.base_momentums, self.max_momentums)], absolute=True)


class ReduceLROnPlateau(LRScheduler):
    """Reduce the lr when a metric stops improving: ``step(metrics)`` once per epoch.

    Its decisions and lrs are PyTorch's; under ``torch.distributed`` the metric is averaged
    over the ranks first, so every rank keeps the same lr. It also works inside
    :class:`SequentialLR` and :class:`ChainedScheduler`, which PyTorch refuses.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, mode: str = "min",
                 factor: float = 0.1, patience: int = 10, threshold: float = 1e-4,
                 threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: list[float] | float = 0, eps: float = 1e-8) -> None:
        if factor >= 1.0:
            raise ValueError(f"'factor' must be < 1.0 (got {factor!r})")
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"'optimizer' must be a torch.optim.Optimizer (got {optimizer!r})")
        min_lrs = per_group("min_lr", min_lr, optimizer)
        self._controller = Plateau(mode=mode, factor=factor, patience=patience,
                                   threshold=threshold, threshold_mode=threshold_mode,
                                   cooldown=cooldown, min_value=[float(v) for v in min_lrs],
                                   eps=eps)
        self.min_lrs = [float(v) for v in min_lrs]
        super().__init__(optimizer)

    def _plateau_controller(self) -> Any:
        return self._controller

    def _settings(self) -> dict[str, Any]:
        return self._controller.config()

    def step(self, metrics: Any = None, epoch: int | None = None) -> None:  # type: ignore[override]
        """Take one epoch's metric (required, as in PyTorch)."""
        if metrics is None:
            raise TypeError("ReduceLROnPlateau.step() needs the metric: step(metrics)")
        if epoch is None:
            self._t += 1
        else:
            self._t = check_non_negative_int("epoch", epoch)
        self.report(metrics)
        self._write()

    # PyTorch's attributes, read from the controller
    best = property(lambda self: self._controller.best, doc="The best metric so far.")
    num_bad_epochs = property(lambda self: self._controller.bad_reports,
                              doc="Reports without improvement since the last one or reduction.")
    cooldown_counter = property(lambda self: self._controller.cooldown_left,
                                doc="Reports left in the cooldown.")
    factor = property(lambda self: self._controller.factor)
    patience = property(lambda self: self._controller.patience)
    mode = property(lambda self: self._controller.mode)
    eps = property(lambda self: self._controller.eps)


def _children(name: str, schedulers: Sequence[object],
              optimizer: torch.optim.Optimizer | None) -> list[LRScheduler]:
    items: list[LRScheduler] = []
    for i, s in enumerate(schedulers):
        if not isinstance(s, LRScheduler):
            raise TypeError(f"'{name}[{i}]' must be a cadence.compat.lr_scheduler scheduler "
                            f"(got {type(s).__name__})")
        items.append(s)
    if not items:
        raise ValueError(f"{name!r} must hold at least one scheduler (got [])")
    for i, s in enumerate(items):
        if s._custom:
            raise TypeError(f"'{name}[{i}]' ({type(s).__name__}) overrides get_lr, so it has no "
                            "closed form to combine")
        target = optimizer if optimizer is not None else items[0].optimizer
        if s.optimizer is not target:
            raise ValueError(f"'{name}[{i}]' must drive the same optimizer as the others")
    return items


def _take_over(children: list[LRScheduler], optimizer: torch.optim.Optimizer) -> None:
    """From now on the combination drives the lr: the children leave the optimizer's chain,
    and the lrs go back to their bases (each child wrote its own first values)."""
    for s in children:
        chain.leave(optimizer, s)
    for group in optimizer.param_groups:
        set_lr(group, group["initial_lr"])


class _Combination(LRScheduler):
    """The base of :class:`SequentialLR` and :class:`ChainedScheduler`: one scheduler made of
    the drop-ins in ``_schedulers``."""

    _schedulers: list[LRScheduler]

    def _settings(self) -> dict[str, Any]:
        return {"schedulers": [[type(s).__name__, s._settings()] for s in self._schedulers]}

    def step(self, metrics: Any = None) -> None:
        """Advance one step; ``metrics`` feeds a :class:`ReduceLROnPlateau` child."""
        super().step()
        if metrics is not None:
            self.report(metrics)


class SequentialLR(_Combination):
    """The schedulers one after another, switching at ``milestones``; each starts from its own
    step 0 (cadence's ``join``)."""

    def __init__(self, optimizer: torch.optim.Optimizer, schedulers: list[LRScheduler],
                 milestones: list[int], last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        self._schedulers = _children("schedulers", schedulers, optimizer)
        marks = [check_non_negative_int("milestones", m) for m in milestones]
        if len(marks) != len(self._schedulers) - 1:
            raise ValueError(
                f"'milestones' must hold one entry fewer than 'schedulers' "
                f"({len(self._schedulers) - 1}) (got {len(marks)})")
        if marks != sorted(marks):
            raise ValueError(f"'milestones' must be non-decreasing (got {marks})")
        self._milestones = marks
        _take_over(self._schedulers, optimizer)
        super().__init__(optimizer, last_epoch, verbose)

    def _settings(self) -> dict[str, Any]:
        return {"milestones": self._milestones, **super()._settings()}

    def _active(self) -> list[tuple[LRScheduler, int]]:
        """The children that ever run, with the step each starts at (milestone 0 skips one)."""
        starts = [0, *self._milestones]
        return [(s, start) for i, (s, start) in enumerate(zip(self._schedulers, starts))
                if i + 1 >= len(starts) or starts[i + 1] > start]

    def _lr_schedules(self, bases: list[float]) -> GroupSchedules:
        active = self._active()
        parts = [s._lr_schedules(bases).absolute_values(bases) for s, _ in active]
        marks = [start for _, start in active[1:]]
        return GroupSchedules([join([p[g] for p in parts], marks) for g in range(len(bases))],
                              absolute=True)

    def _plateau_controller(self) -> Any:
        for s, start in self._active():
            controller = s._plateau_controller()
            if controller is not None:
                controller.start_step = start
                return controller
        return None


class ChainedScheduler(_Combination):
    """The schedulers applied together: their factors multiply at every step (an absolute one,
    like CyclicLR, sets the value that the later ones multiply)."""

    def __init__(self, schedulers: Sequence[LRScheduler],
                 optimizer: torch.optim.Optimizer | None = None) -> None:
        self._schedulers = _children("schedulers", schedulers, optimizer)
        target = optimizer if optimizer is not None else self._schedulers[0].optimizer
        _take_over(self._schedulers, target)
        super().__init__(target)

    def _lr_schedules(self, bases: list[float]) -> GroupSchedules:
        per_group_parts: list[list[Schedule]] = [[] for _ in bases]
        absolute = False
        for s in self._schedulers:
            part = s._lr_schedules(bases)
            for g, schedule in enumerate(part.schedules):
                if part.absolute:  # sets the value: what came before no longer counts
                    per_group_parts[g] = [schedule]
                else:
                    per_group_parts[g].append(schedule)
            absolute = absolute or part.absolute
        return GroupSchedules([product(parts) for parts in per_group_parts], absolute=absolute)

    def _plateau_controller(self) -> Any:
        controllers = [s._plateau_controller() for s in self._schedulers]
        return next((c for c in reversed(controllers) if c is not None), None)

