"""The checks the PyTorch drop-ins make: PyTorch's arguments (a value per param group, a
one-element tensor as its number, ``last_epoch``, ``step(epoch)``'s epoch, an optimizer ready to
resume) and a saved state in PyTorch's format (MMEngine's drop-ins use it for theirs), before
it is loaded and after.

>>> import torch
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> per_group("max_lr", 0.5, opt), real(torch.tensor(0.25)), check_last_epoch(3)
([0.5], 0.25, 3)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import torch

from cadence.validation import (
    InvalidType,
    InvalidValue,
    MissingKey,
    check_int,
    float_or_none,
    shown,
)


def per_group(name: str, value: object, optimizer: torch.optim.Optimizer) -> list[Any]:
    """A value given once or once per param group (PyTorch's lists), as one per group."""
    groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise InvalidValue(
                f"{name!r} must have one entry per param group ({groups}) (got {len(value)})")
        return list(value)
    return [value] * groups


def real(value: object) -> object:
    """A one-element tensor as its number (PyTorch takes them for several settings), for the
    checks; anything else as it is."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    return value


def check_last_epoch(last_epoch: object) -> int:
    """PyTorch's ``last_epoch``: an int >= -1 (-1 starts a schedule, more resumes one)."""
    if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < -1:
        raise InvalidValue(f"'last_epoch' must be an int >= -1 (got {shown(last_epoch)})")
    return check_int("last_epoch", last_epoch, -1)


def check_resumable(optimizer: torch.optim.Optimizer) -> None:
    """Resuming (``last_epoch >= 0``) needs every group's ``initial_lr``: PyTorch's KeyError, in
    its words, which is also a ValueError naming ``last_epoch``."""
    for i, group in enumerate(optimizer.param_groups):
        if "initial_lr" not in group:
            raise MissingKey(
                f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                "scheduler with last_epoch >= 0.\nThis typically happens when:\n1. You're trying "
                "to resume training from a checkpoint but haven't properly loaded the optimizer "
                "state\n2. You're using last_epoch >= 0 for a fresh training run (not "
                "recommended)")


def check_optimizer(optimizer: object) -> None:
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise InvalidType(f"'optimizer' must be a torch.optim.Optimizer (got {optimizer!r})")


def _finite(value: object) -> float | None:
    """A real number (a one-element tensor included) as a float, or None if it is not one or
    is not finite."""
    value = real(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float_or_none(value)
    return number if number is not None and math.isfinite(number) else None


def check_epoch(epoch: object) -> float:
    """An epoch given to ``step(epoch)``: a finite number >= 0 (PyTorch takes floats)."""
    epoch = real(epoch)
    if isinstance(epoch, bool) or not isinstance(epoch, numbers.Real):
        raise InvalidType(f"'epoch' must be a number >= 0 (got {epoch!r})")
    number = _finite(epoch)
    if number is None or number < 0:
        raise InvalidValue(f"'epoch' must be a finite number >= 0 (got {epoch!r})")
    return epoch  # type: ignore[return-value]


def check_torch_state(state: object, step_key: str = "last_epoch", lowest: int = -1,
                      bases_key: str = "base_lrs", values_key: str = "_last_lr",
                      counters: tuple[str, ...] = ("_step_count",)) -> None:
    """A scheduler state in PyTorch's (or MMEngine's) format whose step, counters, base values
    or last values are impossible is refused, with the key."""
    if not isinstance(state, dict):
        raise InvalidType(f"'state_dict' must be a dict (got {type(state).__name__})")
    step = _finite(state.get(step_key, lowest))
    if step is None or step < lowest:
        raise InvalidValue(f"state_dict[{step_key!r}] must be a finite number >= {lowest} "
                           f"(got {shown(state.get(step_key))})")
    for key in counters:
        value = state.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
            raise InvalidValue(f"state_dict[{key!r}] must be an int >= {lowest} "
                               f"(got {shown(value)})")
    for key in (bases_key, values_key):
        bases = state.get(key, [])
        if not isinstance(bases, (list, tuple)):
            raise InvalidType(f"state_dict[{key!r}] must be a list of numbers, one per param "
                              f"group (got {shown(bases)})")
        for i, base in enumerate(bases):
            if _finite(base) is None:
                raise InvalidValue(f"state_dict[{key!r}][{i}] must be a finite number "
                                   f"(got {shown(base)})")


def _unchanged(a: object, b: object) -> bool:
    """The same value, of the same types all the way down (``False`` is not ``0.0`` here)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_unchanged(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_unchanged(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except Exception:  # tensors, arrays: no single truth value
        return False


def check_loaded(scheduler: Any, state: dict[str, Any], before: dict[str, Any],
                 values: Callable[[], Any]) -> None:
    """After upstream's ``load_state_dict`` (``__dict__.update``): the closed form rebuilt from
    the loaded settings, and its values now. A setting it cannot use is refused with the keys
    that changed, and the scheduler is put back as it was: upstream would take it and fail (or
    go NaN) at a later ``step()``."""
    try:
        found = values()
        for value in found:
            if _finite(value) is None:
                raise InvalidValue(f"the values would be {found}")
    except Exception as exc:
        changed = [k for k in state if k not in before or not _unchanged(before[k], state[k])]
        scheduler.__dict__.clear()
        scheduler.__dict__.update(before)
        keys = ", ".join(f"state_dict[{k!r}]" for k in (changed or list(state)))
        kind = InvalidType if isinstance(exc, TypeError) else InvalidValue
        raise kind(f"{keys} cannot be used by {type(scheduler).__name__} "
                   f"({type(exc).__name__}: {exc}); nothing was loaded") from exc
