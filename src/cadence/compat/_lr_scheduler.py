"""The PyTorch drop-in classes; import them from :mod:`cadence.compat.lr_scheduler`.

They live in this private module so that code that looks classes up by their short name
among the subclasses of PyTorch's ``LRScheduler`` (LightningCLI's ``--lr_scheduler=StepLR``,
through jsonargparse, which passes over classes in private modules) still finds PyTorch's own
once cadence is imported; ``cadence.compat.lr_scheduler.StepLR`` names cadence's.

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
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch.optim import lr_scheduler as T
from torch.optim.lr_scheduler import EPOCH_DEPRECATION_WARNING

from cadence.compat import legacy
from cadence.compat import torch_shapes as shapes
from cadence.compat._combined import ChainedScheduler, SequentialLR
from cadence.compat._plateau import ReduceLROnPlateau
from cadence.compat._torch_base import LRScheduler, check_epoch, per_group, real, write_lrs
from cadence.scheduler.plan import group_values
from cadence.scheduler.slots import as_float
from cadence.schedules import Multiplicative, Schedule
from cadence.schedules.ops import SCALAR
from cadence.validation import (
    InvalidType,
    InvalidValue,
    MissingKey,
    check_choice,
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


def _lambda_state(fn: Callable[..., Any]) -> Any:
    """How a lambda is saved: PyTorch's rule (a plain function as None, a callable object as
    its ``__dict__``), and a cadence schedule as its config (so the state stays plain data)."""
    if isinstance(fn, Schedule):
        try:
            return fn.to_config()
        except TypeError:  # a Lambda around a plain function
            return None
    return None if isinstance(fn, type(_lambda_state)) else fn.__dict__.copy()


class _UserFunctionLR(LRScheduler):
    """The state of :class:`LambdaLR` and :class:`MultiplicativeLR`: PyTorch's, with a cadence
    schedule saved as its config and rebuilt from it on load (the saved settings win)."""

    lr_lambdas: list[Callable[[int], float]]

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [_lambda_state(fn) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        from cadence.config.io import from_config
        from cadence.config.registry import registered

        if legacy.load(self, state_dict):  # a state of cadence 0.1.0, converted
            return
        saved = state_dict.get("lr_lambdas", []) if isinstance(state_dict, dict) else []
        if not isinstance(saved, list) or len(saved) > len(self.lr_lambdas) or not all(
                c is None or isinstance(c, dict) for c in saved):
            raise InvalidType(f"state_dict['lr_lambdas'] must be a list of None or dicts (a "
                              f"function's attributes, a schedule's config), at most one per "
                              f"param group ({len(self.lr_lambdas)}) (got {saved!r})")
        rebuilt = {i: from_config(c) for i, c in enumerate(saved)
                   if isinstance(c, dict) and c.get("type") in registered()
                   and i < len(self.lr_lambdas) and isinstance(self.lr_lambdas[i], Schedule)}
        others = [None if i in rebuilt else c for i, c in enumerate(saved)]
        super().load_state_dict({**state_dict, "lr_lambdas": others})
        # a new list, not the old one changed: the closed form's cache key holds the old one
        self.lr_lambdas = [rebuilt.get(i, fn) for i, fn in enumerate(self.lr_lambdas)]


class LambdaLR(_UserFunctionLR, T.LambdaLR):
    """``lr = base * lr_lambda(epoch)``. A cadence :class:`~cadence.schedules.Schedule` is a
    valid ``lr_lambda`` (and then the state holds its config).

    PyTorch's arguments (``optimizer``, ``lr_lambda``: one function or one per group,
    ``last_epoch``); the values are PyTorch's.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import LambdaLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = LambdaLR(opt, lr_lambda=lambda epoch: 0.9 ** epoch)
    >>> for _ in range(3):
    ...     opt.step(); sched.step()
    ...
    >>> sched.last_epoch, [round(lr, 6) for lr in sched.get_last_lr()]
    (3, [0.0729])
    >>> sched.value_at([0, 1, 10])["lr"][:, 0].round(6).tolist()  # the closed form, at any step
    [0.1, 0.09, 0.034868]
    >>> from cadence.schedules import Cosine
    >>> sched = LambdaLR(opt, lr_lambda=Cosine(steps=100))  # a schedule: saved as its config
    >>> sched.state_dict()['lr_lambdas']
    [{'type': 'cosine', 'start': 1.0, 'end': 0.0, 'steps': 100}]
    """

    describe = staticmethod(shapes.lambda_lr)
    chainable = False

    def __init__(self, optimizer: torch.optim.Optimizer,
                 lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1, verbose: bool | str = "deprecated") -> None:
        self._start(optimizer, last_epoch, verbose)
        for fn in lr_lambda if isinstance(lr_lambda, (list, tuple)) else [lr_lambda]:
            if not callable(fn):
                raise InvalidType(f"'lr_lambda' must be a callable or a list of them (got {fn!r})")
        T.LambdaLR.__init__(self, optimizer, lr_lambda, last_epoch)


class MultiplicativeLR(_UserFunctionLR, T.MultiplicativeLR):
    """``lr = base * lr_lambda(1) * ... * lr_lambda(epoch)``.

    PyTorch's arguments (``optimizer``, ``lr_lambda``, ``last_epoch``), in closed form: the
    product is computed from the step, not multiplied into the current lr.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import MultiplicativeLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = MultiplicativeLR(opt, lr_lambda=lambda epoch: 0.9)
    >>> for _ in range(3):
    ...     opt.step(); sched.step()
    ...
    >>> sched.last_epoch, [round(lr, 6) for lr in sched.get_last_lr()]
    (3, [0.0729])
    >>> sched.value_at([0, 1, 10])["lr"][:, 0].round(6).tolist()  # the closed form, at any step
    [0.1, 0.09, 0.034868]
    """

    describe = staticmethod(shapes.multiplicative_lr)

    def __init__(self, optimizer: torch.optim.Optimizer,
                 lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1, verbose: bool | str = "deprecated") -> None:
        self._start(optimizer, last_epoch, verbose)
        T.MultiplicativeLR.__init__(self, optimizer, lr_lambda, last_epoch)

    def _update_lr(self, epoch: float | None = None, initial: bool = False) -> None:
        """At an explicit epoch (``step(epoch)``, or SequentialLR starting it at its
        milestone), PyTorch's MultiplicativeLR, which has no closed form, multiplies each
        group's lr by ``lr_lambda(epoch)``: so does this one."""
        if epoch is None or self._custom:
            super()._update_lr(epoch, initial)
            return
        self.last_epoch = check_epoch(epoch)  # type: ignore[assignment]
        groups = self.optimizer.param_groups
        factors = [Multiplicative(fn).factor_at(self.last_epoch) for fn in self.lr_lambdas]
        write_lrs(groups, [as_float(g["lr"]) * f for g, f in zip(groups, factors)])
        self._last_lr = group_values(groups, "lr")


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


class CosineAnnealingWarmRestarts(LRScheduler, T.CosineAnnealingWarmRestarts):
    """Cosine annealing from the base lr to ``eta_min``, restarting after ``T_0`` epochs, then
    after cycles ``T_mult`` times longer each. ``step(epoch + i / iters)`` (PyTorch's idiom
    within an epoch) takes fractional epochs; ``T_cur`` and ``T_i`` are PyTorch's counters.

    PyTorch's arguments: ``optimizer``, ``T_0``, ``T_mult=1``, ``eta_min=0.0``,
    ``last_epoch=-1``.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import CosineAnnealingWarmRestarts
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2, eta_min=0.001)
    >>> for _ in range(10):
    ...     opt.step(); sched.step()
    ...
    >>> sched.last_epoch, [round(lr, 6) for lr in sched.get_last_lr()]
    (10, [0.1])
    >>> sched.value_at([0, 5, 10, 20, 30])["lr"][:, 0].round(6).tolist()
    [0.1, 0.0505, 0.1, 0.0505, 0.1]
    >>> sched.step(12.5)  # PyTorch's fractional epoch
    >>> sched.T_cur, sched.T_i
    (2.5, 20.0)
    """

    describe = staticmethod(shapes.cosine_warm_restarts_lr)
    chainable = False

    def __init__(self, optimizer: torch.optim.Optimizer, T_0: int, T_mult: int = 1,
                 eta_min: float = 0.0, last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        self._start(optimizer, last_epoch, verbose)
        check_positive_int("T_0", T_0)
        check_positive_int("T_mult", T_mult)
        check_non_negative("eta_min", real(eta_min))
        T.CosineAnnealingWarmRestarts.__init__(self, optimizer, T_0, T_mult, eta_min, last_epoch)

    def step(self, epoch: float | None = None) -> None:
        """Advance one step, or go to ``epoch`` (a float: ``step(epoch + i / iters)``); like
        PyTorch's, this class's ``step`` gives no warnings and keeps ``_step_count``."""
        self._update_lr(epoch)

    def _counter(self) -> Any:
        return (self.last_epoch, self.T_cur)

    def _position(self) -> float:
        """The step of the restarts schedule that ``T_cur`` and ``T_i`` stand for."""
        start, length = 0.0, float(self.T_0)
        if not self.T_mult > 1 and self.T_i > length:  # cycles that never grow reach no T_i
            raise InvalidValue(f"'T_i' must be a cycle length, T_0 * T_mult ** k ({self.T_0} "
                               f"with T_mult={self.T_mult}) (got {self.T_i!r})")
        while length < self.T_i:
            start += length
            length *= self.T_mult
        return start + self.T_cur

    def _update_lr(self, epoch: float | None = None, initial: bool = False) -> None:
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            epoch = check_epoch(epoch)
            _, start, end = self._restarts().locate(float(epoch), SCALAR)
            self.T_cur, self.T_i = epoch - start, end - start
            if float(self.T_cur).is_integer() and float(self.T_i).is_integer():
                self.T_cur, self.T_i = int(self.T_cur), int(self.T_i)
        self.last_epoch = math.floor(epoch)
        self._added_values()  # PyTorch's has no lr for a group added since: refused, named
        runtime = self._now()
        runtime.binder.write(runtime.values(self._position()))
        self._last_lr = group_values(self.optimizer.param_groups, "lr")

    def _loaded_values(self) -> list[Any]:
        """PyTorch's counters after a load: ``T_i`` a cycle length, ``0 <= T_cur <= T_i``."""
        check_positive_int("T_0", self.T_0)
        check_positive_int("T_mult", self.T_mult)
        cycle = check_positive("T_i", real(self.T_i))
        if not 0 <= check_number("T_cur", real(self.T_cur)) <= cycle:
            raise InvalidValue(f"'T_cur' must be in [0, T_i] ({cycle}) (got {self.T_cur!r})")
        return super()._loaded_values()

    def _restarts(self) -> Any:
        [track] = self._now().binder.tracks.values()
        return track.schedules[0]



class CyclicLR(LRScheduler, T.CyclicLR):
    """Cyclical learning rates (Smith 2017) between ``base_lr`` and ``max_lr``, and momentum
    cycling the other way between ``max_momentum`` and ``base_momentum``. The cycle starts from
    ``base_lr`` as given, whatever an earlier scheduler left in the groups (pytorch#21965).

    PyTorch's arguments: ``optimizer``, ``base_lr``, ``max_lr``, ``step_size_up=2000``,
    ``step_size_down=None``, ``mode='triangular'``, ``gamma=1.0``, ``scale_fn=None``,
    ``scale_mode='cycle'``, ``cycle_momentum=True``, ``base_momentum=0.8``,
    ``max_momentum=0.9``, ``last_epoch=-1``.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import CyclicLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=4)
    >>> for _ in range(4):
    ...     opt.step(); sched.step()
    ...
    >>> sched.last_epoch, [round(lr, 6) for lr in sched.get_last_lr()]
    (4, [0.1])
    >>> sched.value_at([0, 2, 4, 8])["lr"][:, 0].round(6).tolist()  # the closed form, at any step
    [0.01, 0.055, 0.1, 0.01]
    >>> round(opt.param_groups[0]['momentum'], 6)  # cycled the other way
    0.8
    """

    describe = staticmethod(shapes.cyclic_lr)
    chainable = False

    def __init__(self, optimizer: torch.optim.Optimizer, base_lr: float | list[float],
                 max_lr: float | list[float], step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular", gamma: float = 1.0,
                 scale_fn: Callable[[float], float] | None = None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum: float = 0.8,
                 max_momentum: float = 0.9, last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        self._start(optimizer, last_epoch, verbose)
        lows = per_group("base_lr", base_lr, optimizer)
        for name, values in (("base_lr", base_lr), ("max_lr", max_lr)):
            for v in per_group(name, values, optimizer):  # lrs: none below 0
                check_non_negative(name, real(v))
        for name, values in (("base_momentum", base_momentum), ("max_momentum", max_momentum)):
            for v in per_group(name, values, optimizer):  # any momentum PyTorch's writes
                check_number(name, real(v))
        up = check_positive("step_size_up", real(step_size_up))
        down = up if step_size_down is None else check_positive("step_size_down",
                                                                 real(step_size_down))
        for name, part in (("step_size_up", up), ("step_size_down", down)):
            if up + down == up + down - part:  # lost in the cycle's length: it is no phase
                raise InvalidValue(f"'{name}' must be long enough to count in a cycle of "
                                   f"step_size_up + step_size_down steps (got {part!r} beside "
                                   f"{up + down - part!r})")
        if not math.isfinite(up + down):
            raise InvalidValue(f"'step_size_up' + 'step_size_down' (a cycle) must be a finite "
                               f"number of steps (got {up!r} + {down!r})")
        if scale_fn is None:
            check_choice("mode", mode, ("triangular", "triangular2", "exp_range"))
        elif not callable(scale_fn):
            raise InvalidType(f"'scale_fn' must be callable or None (got {scale_fn!r})")
        check_positive("gamma", real(gamma))
        check_choice("scale_mode", scale_mode, ("cycle", "iterations"))
        if last_epoch == -1:  # the cycle's base is base_lr, not an earlier initial_lr
            for low, group in zip(lows, optimizer.param_groups):
                group["initial_lr"] = low.clone() if isinstance(low, torch.Tensor) else low
        T.CyclicLR.__init__(self, optimizer, base_lr, max_lr, step_size_up, step_size_down,
                            mode, gamma, scale_fn, scale_mode,  # type: ignore[arg-type]
                            cycle_momentum, base_momentum, max_momentum, last_epoch)

    def _setting_values(self) -> dict[str, Any]:
        return {name: getattr(self, name, ()) for name in self._settings}  # momenta may be off

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """PyTorch's rule; its ``_scale_fn_custom`` entry (None, or a custom ``scale_fn``'s
        ``__dict__``) is checked first, as PyTorch would fail on it inside."""
        if legacy.load(self, state_dict):  # a state of cadence 0.1.0, converted
            return
        if isinstance(state_dict, dict):
            if "_scale_fn_custom" not in state_dict:
                raise MissingKey("state_dict['_scale_fn_custom'] is missing (a CyclicLR state "
                                 "has it: None, or the custom scale_fn's attributes)")
            custom = state_dict["_scale_fn_custom"]
            if custom is not None and (not isinstance(custom, dict)
                                       or getattr(self, "_scale_fn_custom", None) is None):
                raise InvalidType(f"state_dict['_scale_fn_custom'] must be None, or a dict for a "
                                  f"CyclicLR with a custom scale_fn (got {custom!r})")
        super().load_state_dict(state_dict)


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
        values = {
            "total_steps": self.total_steps,
            "pct_start": (phases[0]["end_step"] + 1) / self.total_steps,
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
