"""The LR range test's sweep: the lrs written into every param group by the binding core, one
optimizer update each over ``accumulation_steps`` micro-batches, the losses recorded and smoothed
(:class:`Run`) until the smoothed loss explodes; and the checks of what :func:`find_lr` is given.

>>> run = Run(num_iter=3, smoothing=0.0, diverge=4.0, accumulation_steps=1, autocast_dtype=None)
>>> run.record(0, 0.01, 1.0), run.record(1, 0.1, 0.5), run.record(2, 1.0, 3.0)
(False, False, True)
>>> run.reason
'the smoothed loss 3 exceeded 4 x the best 0.5 at update 3 of 3 (lr=1)'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch

from cadence.scheduler.binder import Binder
from cadence.scheduler.slots import as_float
from cadence.scheduler.track import ABSOLUTE, Track
from cadence.schedules import Schedule
from cadence.tools.snapshot import seed_everything
from cadence.validation import InvalidType, InvalidValue, check_number

AUTOCAST_DTYPES = (torch.bfloat16, torch.float16)


@dataclass
class Run:
    """The settings of one sweep and what it recorded."""

    num_iter: int
    smoothing: float
    diverge: float
    accumulation_steps: int
    autocast_dtype: torch.dtype | None
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    smoothed: list[float] = field(default_factory=list)
    stopped_early: bool = False
    reason: str = ""
    avg: float = 0.0
    best: float = math.inf

    def __post_init__(self) -> None:
        self.reason = f"ran all {self.num_iter} updates; the loss did not explode"

    def record(self, i: int, lr: float, loss: float) -> bool:
        """Record update ``i``; True when the sweep stops there."""
        s = self.smoothing
        self.avg = s * self.avg + (1 - s) * loss
        smooth = self.avg / (1 - s ** (i + 1))
        self.lrs.append(lr)
        self.losses.append(loss)
        self.smoothed.append(smooth)
        where = f"at update {i + 1} of {self.num_iter} (lr={lr:.3g})"
        if not math.isfinite(smooth):
            self.reason = f"the loss is not finite (loss={loss!r}, smoothed={smooth!r}) {where}"
        else:
            best = self.best = min(self.best, smooth)
            limit = self.diverge * best if best >= 0 else best - (self.diverge - 1) * best
            if smooth <= limit:
                return False
            self.reason = (f"the smoothed loss {smooth:.4g} exceeded {self.diverge:g} x the "
                           f"best {best:.4g} {where}")
        self.stopped_early = True
        return True


def sweep(model: torch.nn.Module, optimizer: torch.optim.Optimizer,
           loss_fn: Callable[[Any, Any], torch.Tensor], batches: Iterator[Any], run: Run,
           lrs: Schedule, seed: int | None) -> None:
    """The sweep itself: ``lrs`` (absolute) written into every group before each update,
    until the run stops or ``num_iter`` updates are done. The binding core writes them: the
    schedulers on the optimizer are paused (and put back afterwards), so the sweep is not a
    second scheduler beside them."""
    if seed is not None:
        seed_everything(seed)
    model.train()
    optimizer.zero_grad()
    groups = optimizer.param_groups
    sweep = Binder(optimizer, [Track.shared("lr", lrs, [1.0] * len(groups), ABSOLUTE)])
    for i in range(run.num_iter):
        sweep.write_at(float(i))
        lr = as_float(groups[0]["lr"])
        if run.record(i, lr, _update(model, optimizer, loss_fn, batches, run)):
            break


def _update(model: torch.nn.Module, optimizer: torch.optim.Optimizer,
            loss_fn: Callable[[Any, Any], torch.Tensor], batches: Iterator[Any],
            run: Run) -> float:
    """One optimizer update over the run's micro-batches; returns their mean loss."""
    steps, total = run.accumulation_steps, 0.0
    for _ in range(steps):
        inputs, targets = _pair(next(batches))
        with _autocast(model, run.autocast_dtype):
            loss = loss_fn(model(inputs), targets)
        if not isinstance(loss, torch.Tensor):
            raise InvalidType(f"'loss_fn' must return a tensor (got {loss!r})")
        if loss.numel() != 1:
            raise InvalidValue(f"'loss_fn' must return a one-element tensor "
                               f"(got shape {tuple(loss.shape)})")
        scaled = loss / steps
        scaled.backward()
        total += float(scaled.detach().float())
    optimizer.step()
    optimizer.zero_grad()
    return total


def repeating(data: Iterable[Any]) -> Generator[Any, None, None]:
    """The batches of ``data``, iterated again each time it runs out."""
    while True:
        count = 0
        for batch in data:
            count += 1
            yield batch
        if count == 0:
            raise InvalidValue(f"'data' must yield (inputs, targets) batches; it ran out and "
                               f"cannot be iterated again (got {data!r}): pass a list or a "
                               f"DataLoader rather than an iterator")


def _pair(batch: Any) -> tuple[Any, Any]:
    try:
        inputs, targets = batch
    except (TypeError, ValueError):
        raise InvalidType(f"'data' must yield (inputs, targets) pairs (got a "
                          f"{type(batch).__name__})") from None
    return inputs, targets


def _autocast(model: torch.nn.Module, dtype: torch.dtype | None) -> AbstractContextManager[Any]:
    if dtype is None:
        return nullcontext()
    device = next((p.device.type for p in model.parameters()), "cpu")
    return torch.autocast(device, dtype=dtype)


def check_objects(model: object, optimizer: object, loss_fn: object, data: object,
                   scheduler: object) -> None:
    if not isinstance(model, torch.nn.Module):
        raise InvalidType(f"'model' must be a torch.nn.Module (got {model!r})")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise InvalidType(f"'optimizer' must be a torch.optim.Optimizer (got {optimizer!r})")
    if not callable(loss_fn):
        raise InvalidType(f"'loss_fn' must be callable (got {loss_fn!r})")
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise InvalidType(f"'data' must be an iterable of (inputs, targets) batches (got {data!r})")
    if scheduler is None:
        return
    if not (callable(getattr(scheduler, "state_dict", None))
            and callable(getattr(scheduler, "load_state_dict", None))):
        raise InvalidType(f"'scheduler' must be None or a scheduler with state_dict and "
                          f"load_state_dict (got {scheduler!r})")
    if getattr(scheduler, "optimizer", optimizer) is not optimizer:
        raise InvalidValue(f"'scheduler' must drive the optimizer given (got {scheduler!r}, "
                           f"which drives another)")


def check_above_one(name: str, value: object) -> float:
    number = check_number(name, value, "a number > 1")
    if number <= 1:
        raise InvalidValue(f"{name!r} must be a number > 1 (got {value!r})")
    return number


def check_autocast_dtype(value: object) -> torch.dtype | None:
    if value is None or value in AUTOCAST_DTYPES:
        return value
    exc = InvalidValue if isinstance(value, torch.dtype) else InvalidType
    raise exc(f"'autocast_dtype' must be None, torch.bfloat16 or torch.float16 (got {value!r})")
