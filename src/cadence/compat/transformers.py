"""Drop-ins for Hugging Face transformers' schedule factories, on cadence's schedules.

``get_scheduler(name, optimizer, num_warmup_steps, num_training_steps,
scheduler_specific_kwargs)`` and every ``get_*_schedule*`` function keep transformers' names,
signatures and values; each returns a :class:`cadence.compat.lr_scheduler.LambdaLR` whose
``lr_lambda`` is a cadence schedule (so it has a config, a plot and an exact resume), built
without an optimizer by :mod:`cadence.compat.transformers_shapes`. Past
``num_training_steps`` the value holds where transformers' cosines swing back up.

>>> import torch
>>> opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
>>> sched = get_scheduler("cosine", opt, num_warmup_steps=10, num_training_steps=110)
>>> [round(sched.lr_lambdas[0](t), 6) for t in (0, 5, 10, 60, 110, 500)]
[0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any

import torch

from cadence.compat import transformers_shapes as shapes
from cadence.compat._torch_checks import check_optimizer, real
from cadence.compat.lr_scheduler import LambdaLR, ReduceLROnPlateau
from cadence.compat.transformers_shapes import cosine_wave as cosine_wave
from cadence.compat.transformers_shapes import warm_up as warm_up
from cadence.config.registry import suggest
from cadence.scheduler.slots import as_float
from cadence.schedules import Constant, Schedule
from cadence.validation import InvalidType, InvalidValue, check_non_negative

__all__ = [
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
    "get_inverse_sqrt_schedule",
    "get_linear_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
    "get_reduce_on_plateau_schedule",
    "get_scheduler",
    "get_wsd_schedule",
]

def _lambda(optimizer: torch.optim.Optimizer, schedule: Schedule, last_epoch: int) -> LambdaLR:
    return LambdaLR(optimizer, schedule, last_epoch=last_epoch)


# -- the factories: each wraps its description (cadence.compat.transformers_shapes) ------------
def get_constant_schedule(optimizer: torch.optim.Optimizer, last_epoch: int = -1) -> LambdaLR:
    """The optimizer's lr, constant.

    >>> import torch
    >>> from cadence.compat.transformers import get_constant_schedule
    >>> opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    >>> sched = get_constant_schedule(opt)
    >>> for _ in range(3):
    ...     opt.step(); sched.step()
    ...
    >>> sched.get_last_lr()
    [0.001]
    """
    return _lambda(optimizer, Constant(1.0), last_epoch)


def get_constant_schedule_with_warmup(optimizer: torch.optim.Optimizer, num_warmup_steps: int,
                                      last_epoch: int = -1) -> LambdaLR:
    """Linear warm-up from 0, then the optimizer's lr.

    >>> import torch
    >>> from cadence.compat.transformers import get_constant_schedule_with_warmup
    >>> opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    >>> sched = get_constant_schedule_with_warmup(opt, num_warmup_steps=10)
    >>> [round(sched.lr_lambdas[0](t), 4) for t in (0, 5, 10, 1000)]
    [0.0, 0.5, 1.0, 1.0]
    """
    return _lambda(optimizer, shapes.constant_with_warmup(num_warmup_steps), last_epoch)


def get_linear_schedule_with_warmup(optimizer: torch.optim.Optimizer, num_warmup_steps: int,
                                    num_training_steps: int, last_epoch: int = -1) -> LambdaLR:
    """Linear warm-up from 0, then linear decay to 0 at ``num_training_steps``.

    >>> import torch
    >>> from cadence.compat.transformers import get_linear_schedule_with_warmup
    >>> opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    >>> sched = get_linear_schedule_with_warmup(opt, num_warmup_steps=10, num_training_steps=110)
    >>> for _ in range(5):
    ...     opt.step(); sched.step()
    ...
    >>> sched.get_last_lr()
    [0.0005]
    >>> [round(sched.lr_lambdas[0](t), 4) for t in (0, 5, 10, 60, 110)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    return _lambda(optimizer, shapes.linear(num_warmup_steps, num_training_steps), last_epoch)


def get_cosine_schedule_with_warmup(optimizer: torch.optim.Optimizer, num_warmup_steps: int,
                                    num_training_steps: int, num_cycles: float = 0.5,
                                    last_epoch: int = -1) -> LambdaLR:
    """Linear warm-up from 0, then ``num_cycles`` cosine waves (half a wave: down to 0).

    >>> import torch
    >>> from cadence.compat.transformers import get_cosine_schedule_with_warmup
    >>> opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    >>> sched = get_cosine_schedule_with_warmup(opt, num_warmup_steps=10, num_training_steps=110)
    >>> [round(sched.lr_lambdas[0](t), 4) for t in (0, 5, 10, 60, 110)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    return _lambda(optimizer, shapes.cosine(num_warmup_steps, num_training_steps, num_cycles),
                   last_epoch)


def get_cosine_with_hard_restarts_schedule_with_warmup(
    optimizer: torch.optim.Optimizer, num_warmup_steps: int, num_training_steps: int,
    num_cycles: int = 1, last_epoch: int = -1,
) -> LambdaLR:
    """Linear warm-up, then ``num_cycles`` cosine decays to 0 that restart at the top, then 0.

    >>> import torch
    >>> from cadence.compat.transformers import get_cosine_with_hard_restarts_schedule_with_warmup
    >>> opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    >>> sched = get_cosine_with_hard_restarts_schedule_with_warmup(
    ...     opt, num_warmup_steps=10, num_training_steps=110, num_cycles=2)
    >>> [round(sched.lr_lambdas[0](t), 4) for t in (10, 35, 59, 60, 85, 110)]
    [1.0, 0.5, 0.001, 1.0, 0.5, 0.0]
    """
    schedule = shapes.cosine_with_hard_restarts(num_warmup_steps, num_training_steps, num_cycles)
    return _lambda(optimizer, schedule, last_epoch)


def get_polynomial_decay_schedule_with_warmup(
    optimizer: torch.optim.Optimizer, num_warmup_steps: int, num_training_steps: int,
    lr_end: float = 1e-7, power: float = 1.0, last_epoch: int = -1,
) -> LambdaLR:
    """Linear warm-up, then polynomial decay from the optimizer's default lr to ``lr_end``.

    >>> import torch
    >>> from cadence.compat.transformers import get_polynomial_decay_schedule_with_warmup
    >>> opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    >>> sched = get_polynomial_decay_schedule_with_warmup(
    ...     opt, num_warmup_steps=10, num_training_steps=110, lr_end=1e-4, power=2.0)
    >>> [round(sched.lr_lambdas[0](t), 4) for t in (0, 10, 60, 110, 200)]
    [0.0, 1.0, 0.325, 0.1, 0.1]
    """
    check_optimizer(optimizer)
    lr_init = as_float(optimizer.defaults["lr"])
    check_non_negative("lr_end", real(lr_end))
    if not lr_init > lr_end:
        raise InvalidValue(f"lr_end ({lr_end}) must be smaller than initial lr ({lr_init})")
    schedule = shapes.polynomial_decay(num_warmup_steps, num_training_steps, lr_end / lr_init,
                                       power)
    return _lambda(optimizer, schedule, last_epoch)


def get_inverse_sqrt_schedule(optimizer: torch.optim.Optimizer, num_warmup_steps: int,
                              timescale: int | None = None, last_epoch: int = -1) -> LambdaLR:
    """Linear warm-up, then ``1 / sqrt((t + timescale - warmup) / timescale)``.

    >>> import torch
    >>> from cadence.compat.transformers import get_inverse_sqrt_schedule
    >>> opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    >>> sched = get_inverse_sqrt_schedule(opt, num_warmup_steps=10)
    >>> [round(sched.lr_lambdas[0](t), 4) for t in (0, 5, 10, 30, 90)]
    [0.0, 0.5, 1.0, 0.5774, 0.3333]
    """
    return _lambda(optimizer, shapes.inverse_sqrt(num_warmup_steps, timescale), last_epoch)


def get_reduce_on_plateau_schedule(optimizer: torch.optim.Optimizer,
                                   **kwargs: Any) -> ReduceLROnPlateau:
    """PyTorch's ReduceLROnPlateau (cadence's drop-in).

    >>> import torch
    >>> from cadence.compat.transformers import get_reduce_on_plateau_schedule
    >>> opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    >>> sched = get_reduce_on_plateau_schedule(opt, factor=0.5, patience=1)
    >>> for loss in [1.0, 0.9, 0.9, 0.9, 0.9]:
    ...     opt.step(); sched.step(loss)
    ...
    >>> sched.get_last_lr()
    [0.0005]
    """
    return ReduceLROnPlateau(optimizer, **kwargs)


def _min_rate(optimizer: torch.optim.Optimizer, min_lr: float | None,
              min_lr_rate: float | None) -> float:
    if min_lr is not None and min_lr_rate is not None:
        raise InvalidValue("Only one of min_lr or min_lr_rate should be set")
    if min_lr is not None:
        check_optimizer(optimizer)
        lr = as_float(optimizer.defaults["lr"])
        rate = check_non_negative("min_lr", real(min_lr)) / lr if lr > 0 else math.inf
        if not math.isfinite(rate):
            raise InvalidValue(f"'min_lr' must be a finite multiple of the optimizer's lr ({lr}) "
                               f"(got {min_lr!r})")
        return rate
    if min_lr_rate is None:
        raise InvalidValue("One of min_lr or min_lr_rate should be set through the "
                           "`lr_scheduler_kwargs`")
    return check_non_negative("min_lr_rate", min_lr_rate)


def get_cosine_with_min_lr_schedule_with_warmup(
    optimizer: torch.optim.Optimizer, num_warmup_steps: int, num_training_steps: int,
    num_cycles: float = 0.5, last_epoch: int = -1, min_lr: float | None = None,
    min_lr_rate: float | None = None,
) -> LambdaLR:
    """Linear warm-up, then cosine waves between 1 and ``min_lr_rate`` (or ``min_lr``).

    >>> import torch
    >>> from cadence.compat.transformers import get_cosine_with_min_lr_schedule_with_warmup
    >>> opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    >>> sched = get_cosine_with_min_lr_schedule_with_warmup(
    ...     opt, num_warmup_steps=10, num_training_steps=110, min_lr_rate=0.1)
    >>> [round(sched.lr_lambdas[0](t), 4) for t in (0, 10, 60, 110)]
    [0.0, 1.0, 0.55, 0.1]
    """
    rate = _min_rate(optimizer, min_lr, min_lr_rate)
    schedule = shapes.cosine_with_min_lr(num_warmup_steps, num_training_steps, num_cycles, rate)
    return _lambda(optimizer, schedule, last_epoch)


def get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
    optimizer: torch.optim.Optimizer, num_warmup_steps: int, num_training_steps: int,
    num_cycles: float = 0.5, last_epoch: int = -1, min_lr: float | None = None,
    min_lr_rate: float | None = None, warmup_lr_rate: float | None = None,
) -> LambdaLR:
    """transformers' "cosine_warmup_with_min_lr": for ``t < warmup``, ``(t + 1) / max(1,
    warmup)`` (or ``warmup_lr_rate + (1 - warmup_lr_rate) * t / max(1, warmup - 1)``), so that
    it reaches 1 at step ``warmup - 1``; from ``warmup`` on, the decay one step ahead (its
    progress is ``(t - warmup + 1) / max(1, num_training_steps - warmup)``).

    >>> import torch
    >>> from cadence.compat.transformers import get_cosine_with_min_lr_schedule_with_warmup_lr_rate
    >>> opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    >>> sched = get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
    ...     opt, num_warmup_steps=10, num_training_steps=110, min_lr_rate=0.1, warmup_lr_rate=0.2)
    >>> [round(sched.lr_lambdas[0](t), 4) for t in (0, 9, 10, 59, 109)]
    [0.2, 1.0, 0.9998, 0.55, 0.1]
    """
    rate = _min_rate(optimizer, min_lr, min_lr_rate)
    schedule = shapes.cosine_warmup_with_min_lr(num_warmup_steps, num_training_steps,
                                                num_cycles, rate, warmup_lr_rate)
    return _lambda(optimizer, schedule, last_epoch)


def get_wsd_schedule(
    optimizer: torch.optim.Optimizer, num_warmup_steps: int, num_decay_steps: int,
    num_training_steps: int | None = None, num_stable_steps: int | None = None,
    warmup_type: str = "linear", decay_type: str = "cosine", min_lr_ratio: float = 0,
    num_cycles: float = 0.5, last_epoch: int = -1,
) -> LambdaLR:
    """Warm up from ``min_lr_ratio``, hold, decay back to it (cadence's :class:`WSD`).

    >>> import torch
    >>> from cadence.compat.transformers import get_wsd_schedule
    >>> opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    >>> sched = get_wsd_schedule(opt, num_warmup_steps=10, num_decay_steps=20,
    ...                          num_training_steps=100, min_lr_ratio=0.1)
    >>> [round(sched.lr_lambdas[0](t), 4) for t in (0, 5, 10, 50, 80, 90, 100)]
    [0.1, 0.55, 1.0, 1.0, 1.0, 0.55, 0.1]
    """
    schedule = shapes.wsd(num_warmup_steps, num_decay_steps, num_training_steps,
                          num_stable_steps, warmup_type, decay_type, min_lr_ratio, num_cycles)
    return _lambda(optimizer, schedule, last_epoch)


# -- by name ------------------------------------------------------------------------------------
SCHEDULES: dict[str, Callable[..., Any]] = {
    "linear": get_linear_schedule_with_warmup,
    "cosine": get_cosine_schedule_with_warmup,
    "cosine_with_restarts": get_cosine_with_hard_restarts_schedule_with_warmup,
    "polynomial": get_polynomial_decay_schedule_with_warmup,
    "constant": get_constant_schedule,
    "constant_with_warmup": get_constant_schedule_with_warmup,
    "inverse_sqrt": get_inverse_sqrt_schedule,
    "reduce_lr_on_plateau": get_reduce_on_plateau_schedule,
    "cosine_with_min_lr": get_cosine_with_min_lr_schedule_with_warmup,
    "cosine_warmup_with_min_lr": get_cosine_with_min_lr_schedule_with_warmup_lr_rate,
    "warmup_stable_decay": get_wsd_schedule,
}
_PLATEAU_KEYS = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown",
                 "min_lr", "eps")
_FIXED = ("optimizer", "num_warmup_steps", "num_training_steps", "last_epoch")


def _extra_keys(name: str) -> list[str]:
    if name == "reduce_lr_on_plateau":
        return list(_PLATEAU_KEYS)
    params = inspect.signature(SCHEDULES[name]).parameters
    return [p for p in params if p not in _FIXED]


def get_scheduler(name: Any, optimizer: torch.optim.Optimizer,
                  num_warmup_steps: int | None = None, num_training_steps: int | None = None,
                  scheduler_specific_kwargs: dict[str, Any] | None = None) -> Any:
    """A scheduler by transformers' ``SchedulerType`` name (a string or the enum).

    >>> import torch
    >>> from cadence.compat.transformers import get_scheduler
    >>> opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    >>> sched = get_scheduler("cosine", opt, num_warmup_steps=10, num_training_steps=110)
    >>> isinstance(sched, torch.optim.lr_scheduler.LambdaLR)
    True
    >>> [round(sched.lr_lambdas[0](t), 4) for t in (0, 10, 60, 110)]
    [0.0, 1.0, 0.5, 0.0]
    >>> sched = get_scheduler("cosine_with_min_lr", opt, num_warmup_steps=10,
    ...                       num_training_steps=110, scheduler_specific_kwargs={"min_lr": 1e-4})
    >>> round(sched.lr_lambdas[0](110), 4)
    0.1
    """
    key = getattr(name, "value", name)
    if not isinstance(key, str) or key not in SCHEDULES:
        valid = list(SCHEDULES)
        hint = suggest(key, valid) if isinstance(key, str) else ""
        raise InvalidValue(f"unknown scheduler name {key!r}{hint} "
                           f"(valid names: {', '.join(valid)})")
    if scheduler_specific_kwargs is not None and not isinstance(scheduler_specific_kwargs,
                                                                  Mapping):
        raise InvalidType(f"'scheduler_specific_kwargs' must be a dict of keyword arguments or "
                          f"None (got {scheduler_specific_kwargs!r})")
    kwargs = dict(scheduler_specific_kwargs or {})
    allowed = _extra_keys(key)
    for extra in kwargs:
        if extra not in allowed:
            raise InvalidValue(
                f"unknown keyword {extra!r} for scheduler {key!r}{suggest(extra, allowed)} "
                f"(valid keywords: {', '.join(allowed) or 'none'})")
    function = SCHEDULES[key]
    if key == "constant":
        return function(optimizer)
    if key == "reduce_lr_on_plateau":
        return function(optimizer, **kwargs)
    if num_warmup_steps is None:
        raise InvalidValue(f"{key} requires `num_warmup_steps`, please provide that argument.")
    if key in ("constant_with_warmup", "inverse_sqrt"):
        return function(optimizer, num_warmup_steps=num_warmup_steps, **kwargs)
    if key == "warmup_stable_decay":
        return function(optimizer, num_warmup_steps=num_warmup_steps,
                        num_training_steps=num_training_steps, **kwargs)
    if num_training_steps is None:
        raise InvalidValue(f"{key} requires `num_training_steps`, please provide that argument.")
    return function(optimizer, num_warmup_steps=num_warmup_steps,
                    num_training_steps=num_training_steps, **kwargs)
