"""The PyTorch drop-in classes; import them from :mod:`cadence.compat.lr_scheduler`.

They live in this private module so that code that looks classes up by their short name
among the subclasses of PyTorch's ``LRScheduler`` (LightningCLI's ``--lr_scheduler=StepLR``,
through jsonargparse, which passes over classes in private modules) still finds PyTorch's own
once cadence is imported; ``cadence.compat.lr_scheduler.StepLR`` names cadence's. This one holds
the closed-form decays and the one-cycle policy, and names the others, each in a private module
of its own: the base (:mod:`cadence.compat._torch_base`), the user's functions
(:mod:`cadence.compat._lambda_lr`), the cycles that repeat (:mod:`cadence.compat._cyclic`),
the containers (:mod:`cadence.compat._combined`) and the plateau
(:mod:`cadence.compat._plateau`).

>>> import torch
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> sched = StepLR(opt, step_size=2, gamma=0.5)
>>> for _ in range(3):
...     opt.step(); sched.step()
>>> sched.get_last_lr(), sched.last_epoch, isinstance(sched, torch.optim.lr_scheduler.StepLR)
([0.05], 3, True)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from torch.optim import lr_scheduler as T
from torch.optim.lr_scheduler import EPOCH_DEPRECATION_WARNING

from cadence.compat import torch_shapes as shapes
from cadence.compat._combined import ChainedScheduler, SequentialLR
from cadence.compat._cyclic import CosineAnnealingWarmRestarts, CyclicLR
from cadence.compat._lambda_lr import LambdaLR, MultiplicativeLR
from cadence.compat._plateau import ReduceLROnPlateau
from cadence.compat._torch_base import LRScheduler
from cadence.compat._torch_checks import per_group, real
from cadence.scheduler.slots import as_float
from cadence.validation import (
    InvalidValue,
    check_divisor,
    check_non_negative,
    check_number,
    check_positive,
    check_positive_int,
    check_range,
    check_sequence,
)

_LRScheduler = LRScheduler  # PyTorch's old name, still used by seed code

__all__ = [
    "EPOCH_DEPRECATION_WARNING",
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


class StepLR(LRScheduler, T.StepLR):
    """``lr = base * gamma ** (epoch // step_size)``.

    PyTorch's arguments: ``optimizer``, ``step_size``, ``gamma=0.1``, ``last_epoch=-1``.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import StepLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = StepLR(opt, step_size=2, gamma=0.5)
    >>> for _ in range(4):
    ...     opt.step(); sched.step()
    ...
    >>> sched.last_epoch, [round(lr, 6) for lr in sched.get_last_lr()]
    (4, [0.025])
    >>> sched.value_at([0, 2, 4, 6])["lr"][:, 0].round(6).tolist()  # the closed form, at any step
    [0.1, 0.05, 0.025, 0.0125]
    """

    describe = staticmethod(shapes.step_lr)

    def __init__(self, optimizer: torch.optim.Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1, verbose: bool | str = "deprecated") -> None:
        self._start(optimizer, last_epoch, verbose)
        check_positive("step_size", real(step_size))
        check_positive("gamma", real(gamma))
        T.StepLR.__init__(self, optimizer, step_size, gamma, last_epoch)


class MultiStepLR(LRScheduler, T.MultiStepLR):
    """``lr = base * gamma ** (milestones reached)``; a repeated milestone counts twice.

    PyTorch's arguments: ``optimizer``, ``milestones``, ``gamma=0.1``, ``last_epoch=-1``.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import MultiStepLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = MultiStepLR(opt, milestones=[2, 4], gamma=0.1)
    >>> for _ in range(3):
    ...     opt.step(); sched.step()
    ...
    >>> sched.last_epoch, [round(lr, 6) for lr in sched.get_last_lr()]
    (3, [0.01])
    >>> sched.value_at([0, 2, 4, 100])["lr"][:, 0].round(6).tolist()  # the closed form, at any step
    [0.1, 0.01, 0.001, 0.001]
    """

    describe = staticmethod(shapes.multistep_lr)

    def __init__(self, optimizer: torch.optim.Optimizer, milestones: Iterable[int],
                 gamma: float = 0.1, last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        self._start(optimizer, last_epoch, verbose)
        milestones = list(check_sequence("milestones", milestones, "a list of epochs"))
        for m in milestones:
            check_non_negative("milestones", real(m))
        check_positive("gamma", real(gamma))
        T.MultiStepLR.__init__(self, optimizer, milestones, gamma, last_epoch)


class ConstantLR(LRScheduler, T.ConstantLR):
    """``lr = base * factor`` until ``total_iters``, then the base.

    PyTorch's arguments: ``optimizer``, ``factor=1/3``, ``total_iters=5``, ``last_epoch=-1``.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import ConstantLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = ConstantLR(opt, factor=0.5, total_iters=4)
    >>> for _ in range(2):
    ...     opt.step(); sched.step()
    ...
    >>> sched.last_epoch, [round(lr, 6) for lr in sched.get_last_lr()]
    (2, [0.05])
    >>> sched.value_at([0, 3, 4])["lr"][:, 0].round(6).tolist()  # the closed form, at any step
    [0.05, 0.05, 0.1]
    """

    describe = staticmethod(shapes.constant_lr)

    def __init__(self, optimizer: torch.optim.Optimizer, factor: float = 1.0 / 3,
                 total_iters: int = 5, last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        self._start(optimizer, last_epoch, verbose)
        check_range("factor", real(factor), 0.0, 1.0)
        check_non_negative("total_iters", real(total_iters))
        T.ConstantLR.__init__(self, optimizer, factor, total_iters, last_epoch)


class LinearLR(LRScheduler, T.LinearLR):
    """The factor goes linearly from ``start_factor`` to ``end_factor`` over ``total_iters``.

    PyTorch's arguments: ``optimizer``, ``start_factor=1/3``, ``end_factor=1.0``,
    ``total_iters=5``, ``last_epoch=-1``.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import LinearLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = LinearLR(opt, start_factor=0.25, end_factor=1.0, total_iters=4)
    >>> for _ in range(2):
    ...     opt.step(); sched.step()
    ...
    >>> sched.last_epoch, [round(lr, 6) for lr in sched.get_last_lr()]
    (2, [0.0625])
    >>> sched.value_at([0, 2, 4, 9])["lr"][:, 0].round(6).tolist()  # the closed form, at any step
    [0.025, 0.0625, 0.1, 0.1]
    """

    describe = staticmethod(shapes.linear_lr)

    def __init__(self, optimizer: torch.optim.Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        self._start(optimizer, last_epoch, verbose)
        check_range("start_factor", real(start_factor), 0.0, 1.0, low_open=True)
        check_range("end_factor", real(end_factor), 0.0, 1.0)
        check_non_negative("total_iters", real(total_iters))
        T.LinearLR.__init__(self, optimizer, start_factor, end_factor, total_iters, last_epoch)


class ExponentialLR(LRScheduler, T.ExponentialLR):
    """``lr = base * gamma ** epoch``.

    PyTorch's arguments: ``optimizer``, ``gamma``, ``last_epoch=-1``. Step ``10**9`` is as
    exact as step 10 (a power, not a product of 10**9 factors).

    >>> import torch
    >>> from cadence.compat.lr_scheduler import ExponentialLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = ExponentialLR(opt, gamma=0.5)
    >>> for _ in range(3):
    ...     opt.step(); sched.step()
    ...
    >>> sched.last_epoch, [round(lr, 6) for lr in sched.get_last_lr()]
    (3, [0.0125])
    >>> sched.value_at([0, 1, 10])["lr"][:, 0].round(6).tolist()  # the closed form, at any step
    [0.1, 0.05, 9.8e-05]
    """

    describe = staticmethod(shapes.exponential_lr)

    def __init__(self, optimizer: torch.optim.Optimizer, gamma: float, last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        self._start(optimizer, last_epoch, verbose)
        check_positive("gamma", real(gamma))
        T.ExponentialLR.__init__(self, optimizer, gamma, last_epoch)


class PolynomialLR(LRScheduler, T.PolynomialLR):
    """``lr = base * (1 - min(epoch, total_iters) / total_iters) ** power``.

    PyTorch's arguments: ``optimizer``, ``total_iters=5``, ``power=1.0``, ``last_epoch=-1``.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import PolynomialLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = PolynomialLR(opt, total_iters=4, power=2.0)
    >>> for _ in range(2):
    ...     opt.step(); sched.step()
    ...
    >>> sched.last_epoch, [round(lr, 6) for lr in sched.get_last_lr()]
    (2, [0.025])
    >>> sched.value_at([0, 2, 4, 8])["lr"][:, 0].round(6).tolist()  # the closed form, at any step
    [0.1, 0.025, 0.0, 0.0]
    """

    describe = staticmethod(shapes.polynomial_lr)

    def __init__(self, optimizer: torch.optim.Optimizer, total_iters: int = 5,
                 power: float = 1.0, last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        self._start(optimizer, last_epoch, verbose)
        check_positive("total_iters", real(total_iters))
        check_positive("power", real(power))
        T.PolynomialLR.__init__(self, optimizer, total_iters, power, last_epoch)


class CosineAnnealingLR(LRScheduler, T.CosineAnnealingLR):
    """``lr = eta_min + (base - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``, which keeps
    oscillating with period ``2 * T_max`` past ``T_max``, as PyTorch's does.

    PyTorch's arguments: ``optimizer``, ``T_max``, ``eta_min=0.0``, ``last_epoch=-1``.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import CosineAnnealingLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    >>> for _ in range(5):
    ...     opt.step(); sched.step()
    ...
    >>> sched.last_epoch, [round(lr, 6) for lr in sched.get_last_lr()]
    (5, [0.0505])
    >>> sched.value_at([0, 5, 10, 15, 20])["lr"][:, 0].round(6).tolist()
    [0.1, 0.0505, 0.001, 0.0505, 0.1]
    """

    describe = staticmethod(shapes.cosine_annealing_lr)

    def __init__(self, optimizer: torch.optim.Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1, verbose: bool | str = "deprecated") -> None:
        self._start(optimizer, last_epoch, verbose)
        check_positive("T_max", real(T_max))
        check_non_negative("eta_min", real(eta_min))
        T.CosineAnnealingLR.__init__(self, optimizer, T_max, eta_min, last_epoch)


class OneCycleLR(LRScheduler, T.OneCycleLR):
    """The one-cycle policy: lr from ``max_lr / div_factor`` up to ``max_lr`` and down to
    ``initial / final_div_factor``; momentum the other way. Past ``total_steps`` the last value
    holds (PyTorch raises).

    PyTorch's arguments: ``optimizer``, ``max_lr``, ``total_steps=None`` (or ``epochs`` and
    ``steps_per_epoch``), ``pct_start=0.3``, ``anneal_strategy='cos'``,
    ``cycle_momentum=True``, ``base_momentum=0.85``, ``max_momentum=0.95``,
    ``div_factor=25.0``, ``final_div_factor=1e4``, ``three_phase=False``, ``last_epoch=-1``.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import OneCycleLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = OneCycleLR(opt, max_lr=0.1, total_steps=100)
    >>> for _ in range(30):
    ...     opt.step(); sched.step()
    ...
    >>> sched.last_epoch, [round(lr, 6) for lr in sched.get_last_lr()]
    (30, [0.09995])
    >>> sched.value_at([0, 30, 99, 150])["lr"][:, 0].round(6).tolist()
    [0.004, 0.09995, 0.0, 0.0]
    """

    describe = staticmethod(shapes.one_cycle_lr)
    chainable = False

    def __init__(self, optimizer: torch.optim.Optimizer, max_lr: float | list[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85,
                 max_momentum: float | list[float] = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1, verbose: bool | str = "deprecated") -> None:
        self._start(optimizer, last_epoch, verbose)
        if total_steps is None and (epochs is None or steps_per_epoch is None):
            raise InvalidValue("OneCycleLR needs 'total_steps', or 'epochs' and 'steps_per_epoch' "
                               f"(got {total_steps}, {epochs}, {steps_per_epoch})")
        for name, count in (("total_steps", total_steps), ("epochs", epochs),
                            ("steps_per_epoch", steps_per_epoch)):
            if count is not None:
                check_positive_int(name, count)
        divide = check_positive("div_factor", real(div_factor))
        final = check_positive("final_div_factor", real(final_div_factor))
        for v in per_group("max_lr", max_lr, optimizer):
            peak = check_positive("max_lr", real(v))
            start = peak / check_divisor("div_factor", divide, "max_lr", peak)
            check_divisor("final_div_factor", final, "max_lr / div_factor", start)
            if not (start > 0 and math.isfinite(peak / start)):  # the cycle's rise, a ratio
                raise InvalidValue(f"'div_factor' must leave max_lr / div_factor a number "
                                   f"max_lr can be divided by (got {div_factor!r} for max_lr "
                                   f"{v!r})")
        check_range("pct_start", real(pct_start), 0.0, 1.0)
        if cycle_momentum:
            for name, values in (("base_momentum", base_momentum),
                                 ("max_momentum", max_momentum)):
                for v in per_group(name, values, optimizer):
                    check_number(name, real(v))
        T.OneCycleLR.__init__(self, optimizer, max_lr, total_steps, epochs, steps_per_epoch,
                              pct_start, anneal_strategy,  # type: ignore[arg-type]
                              cycle_momentum, base_momentum, max_momentum, div_factor,
                              final_div_factor, three_phase, last_epoch)

    __slots__ = ("_group_keys",)
    _KEYS = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")

    def _initial_step(self) -> None:
        # the keys PyTorch's constructor puts into the groups, kept to put back into groups
        # that lack them (an optimizer state saved by cadence 0.1.0, loaded afterwards)
        self._group_keys = [{k: g[k] for k in self._KEYS if k in g}
                            for g in self.optimizer.param_groups]
        super()._initial_step()

    def _setting_values(self) -> dict[str, Any]:
        phases = self._schedule_phases
        groups = self.optimizer.param_groups[: len(self.base_lrs)]
        for group, kept in zip(groups, getattr(self, "_group_keys", ())):
            if not all(k in group for k in kept):
                for key, value in kept.items():
                    group.setdefault(key, value)
        anneal = getattr(self, "_anneal_func_type", None)
        if anneal is None:  # a state saved before PyTorch 2.2 keeps the function
            anneal = "linear" if getattr(self, "anneal_func", None) is \
                T.OneCycleLR._annealing_linear else "cos"
        # the phases (PyTorch's, in the state) are the cycle: a total_steps assigned mid-run
        # only moves PyTorch's limit on steps, and the values stay
        total = phases[-1]["end_step"] + 1
        total = int(total) if float(total).is_integer() else total
        values = {
            "total_steps": total,
            "pct_start": (phases[0]["end_step"] + 1) / total,
            "anneal_strategy": anneal, "three_phase": len(phases) == 3,
            "max_lrs": [g["max_lr"] for g in groups], "min_lrs": [g["min_lr"] for g in groups],
            "cycle_momentum": self.cycle_momentum,
        }
        if self.cycle_momentum:
            values["max_momentums"] = [g["max_momentum"] for g in groups]
            values["base_momentums"] = [g["base_momentum"] for g in groups]
        return values

    def _bases(self) -> list[float]:
        groups = self.optimizer.param_groups[: len(self.base_lrs)]
        return [as_float(g["initial_lr"]) for g in groups]
