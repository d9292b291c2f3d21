"""The PyTorch drop-ins whose lr cycles again and again: ``CosineAnnealingWarmRestarts``
(cosine cycles that restart, each ``T_mult`` times longer) and ``CyclicLR`` (between two
bounds, momentum the other way); import them from :mod:`cadence.compat.lr_scheduler` (a private
module, as :mod:`cadence.compat._lr_scheduler` says why).

>>> import torch
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
>>> sched = CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=4)
>>> sched.value_at([0, 4, 8, 12])["lr"][:, 0].round(6).tolist()
[0.01, 0.1, 0.01, 0.1]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch.optim import lr_scheduler as T

from cadence.compat import _torch_retime as retime
from cadence.compat import legacy
from cadence.compat import torch_shapes as shapes
from cadence.compat._torch_base import LRScheduler
from cadence.compat._torch_checks import check_epoch, per_group, real
from cadence.scheduler.plan import group_values
from cadence.scheduler.slots import as_float
from cadence.schedules import Constant, join
from cadence.schedules.branch import Switch
from cadence.schedules.ops import SCALAR
from cadence.schedules.restarts import check_period_mult
from cadence.validation import (
    InvalidType,
    InvalidValue,
    MissingKey,
    check_choice,
    check_non_negative,
    check_number,
    check_positive,
    check_positive_int,
)


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
        return self._cycle_position(self.T_0, self.T_mult)

    def _cycle_position(self, T_0: Any, T_mult: Any) -> float:
        """:meth:`_position` with these settings: the cycles from the last re-timing (the one
        ``T_i`` was then, from where it began), else from ``T_0`` at step 0."""
        records = self.__dict__.get(retime.RECORD)
        start, length, first = 0.0, float(T_0), "T_0"
        if records:
            last = records[-1]
            start, length, first = last["at"] - last["T_cur"], float(last["T_i"]), "re-timed T_i"
        if not T_mult > 1 and self.T_i > length:  # cycles that never grow reach no T_i
            raise InvalidValue(f"'T_i' must be a cycle length, {first} * T_mult ** k ({length:g} "
                               f"with T_mult={T_mult}) (got {self.T_i!r})")
        while length < self.T_i:
            start += length
            length *= T_mult
        return start + self.T_cur

    # -- re-timing (cadence.compat._torch_retime): PyTorch's counters go on --------------------
    _record_counters = ("at", "T_i", "T_cur")

    def _retimes(self, describe: Any) -> bool:
        return True

    def _recorded(self, changed: set[str], describe: Any) -> bool:
        """``T_0`` and ``T_mult``: PyTorch's current cycle goes on, and the later ones grow by
        the new ``T_mult`` (``T_0`` counts again at ``step(epoch)`` only)."""
        return bool(changed & {"T_0", "T_mult"})

    def _keeps_record(self, changed: set[str]) -> bool:
        return True  # eta_min: a closed form of the counters, in PyTorch's too

    def _retime_record(self, before: dict[str, Any]) -> dict[str, Any]:
        at = self._cycle_position(before["T_0"], before["T_mult"])
        return {"step": self.last_epoch, "settings": before, "at": at, "T_i": self.T_i,
                "T_cur": self.T_cur}

    def _branch(self, schedule: Any, record: Mapping[str, Any], settings: dict[str, Any],
                describe: Any) -> Any:
        """The cycle the change was made in goes on, then cycles ``T_mult`` times longer."""
        start = record["at"] - record["T_cur"]
        cycles = shapes.TorchRestarts(period=float(record["T_i"]), period_mult=float(
            check_period_mult("T_mult", as_float(settings["T_mult"]))))
        then = join([Constant(1.0), cycles], [start]) if start > 0 else cycles
        return Switch(schedule, at=record["at"], then=then)

    def _update_lr(self, epoch: float | None = None, initial: bool = False) -> None:
        if epoch is not None:
            retime.forget(self)  # PyTorch's closed form of the settings now
        else:
            self._now()  # a change of settings since the last step: recorded at these counters
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

