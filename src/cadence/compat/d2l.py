"""Dive into Deep Learning's schedulers (chapter 12.11), as callables of the update count.

Each returns the learning rate for update ``num_update`` (0, 1, 2, ...) from a cadence schedule
(``.schedule``), so calling it twice with the same count gives the same value and
``CosineScheduler`` warms up (the book's version raises ``AttributeError`` when it does). The
book sets ``param_group["lr"] = scheduler(epoch)`` by hand; ``cadence.Scheduler(optimizer,
lr=scheduler.schedule, absolute=True)`` does it for you.

>>> s = CosineScheduler(max_update=20, warmup_steps=5, base_lr=0.3, final_lr=0.01)
>>> [round(s(t), 4) for t in (0, 2, 5, 12, 20, 25)]
[0.0, 0.12, 0.3, 0.1702, 0.01, 0.01]
"""

from __future__ import annotations

from typing import Any

from cadence.schedules import Cosine, Exponential, InverseSqrt, Linear, MultiStep, Schedule, join
from cadence.validation import (
    InvalidValue,
    check_non_negative,
    check_non_negative_int,
    check_number,
    check_positive,
    check_positive_int,
    check_sequence,
)

__all__ = ["CosineScheduler", "FactorScheduler", "MultiFactorScheduler", "SquareRootScheduler"]


class _BookScheduler:
    schedule: Schedule

    def __call__(self, num_update: Any) -> float:
        """The learning rate for update ``num_update``."""
        return float(self.schedule(num_update))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.schedule!r})"


class SquareRootScheduler(_BookScheduler):
    """``lr * (num_update + 1) ** -0.5``.

    >>> s = SquareRootScheduler(lr=0.1)
    >>> [round(s(t), 4) for t in (0, 3, 99)]
    [0.1, 0.05, 0.01]
    """

    def __init__(self, lr: float = 0.1) -> None:
        self.lr = check_number("lr", lr)
        self.schedule = InverseSqrt(start=self.lr, timescale=1.0)


class FactorScheduler(_BookScheduler):
    """``max(stop_factor_lr, base_lr * factor ** (num_update + 1))``: the book's multiply-per-call
    rule, as a closed form of the count (its first call returns ``base_lr * factor``).

    >>> s = FactorScheduler(factor=0.9, stop_factor_lr=0.01, base_lr=0.1)
    >>> [round(s(t), 4) for t in (0, 1, 10, 100)]
    [0.09, 0.081, 0.0314, 0.01]
    """

    def __init__(self, factor: float = 1, stop_factor_lr: float = 1e-7,
                 base_lr: float = 0.1) -> None:
        self.factor = check_positive("factor", factor)
        self.stop_factor_lr = check_non_negative("stop_factor_lr", stop_factor_lr)
        self.base_lr = check_number("base_lr", base_lr)
        self.schedule = Exponential(rate=self.factor, start=self.base_lr * self.factor,
                                    floor=self.stop_factor_lr)


class MultiFactorScheduler(_BookScheduler):
    """Piecewise constant: ``base_lr``, multiplied by ``factor`` after each update count in
    ``step`` (``eta_{t+1} = eta_t * factor`` for ``t`` in ``step``).

    >>> s = MultiFactorScheduler(step=[15, 30], factor=0.5, base_lr=0.1)
    >>> [s(t) for t in (0, 15, 16, 30, 31)]
    [0.1, 0.1, 0.05, 0.05, 0.025]
    """

    def __init__(self, step: list[int], factor: float = 1, base_lr: float = 0.01) -> None:
        self.step = [check_non_negative_int("step", s)
                     for s in check_sequence("step", step, "a list of update counts")]
        self.factor = check_positive("factor", factor)
        self.base_lr = check_number("base_lr", base_lr)
        self.schedule = MultiStep(milestones=[s + 1 for s in sorted(self.step)],
                                  gamma=self.factor, start=self.base_lr)


class CosineScheduler(_BookScheduler):
    """Linear warm-up from ``warmup_begin_lr`` to ``base_lr`` over ``warmup_steps``, then a
    half cosine to ``final_lr`` at ``max_update``, held after.

    >>> s = CosineScheduler(max_update=80, base_lr=0.1, final_lr=0.001, warmup_steps=10)
    >>> [round(s(t), 4) for t in (0, 5, 10, 45, 80, 100)]
    [0.0, 0.05, 0.1, 0.0505, 0.001, 0.001]
    """

    def __init__(self, max_update: int, base_lr: float = 0.01, final_lr: float = 0,
                 warmup_steps: int = 0, warmup_begin_lr: float = 0) -> None:
        self.max_update = check_positive_int("max_update", max_update)
        self.base_lr = check_number("base_lr", base_lr)
        self.final_lr = check_number("final_lr", final_lr)
        self.warmup_steps = check_non_negative_int("warmup_steps", warmup_steps)
        self.warmup_begin_lr = check_number("warmup_begin_lr", warmup_begin_lr)
        if self.warmup_steps >= self.max_update:
            raise InvalidValue(f"'warmup_steps' must be < 'max_update' ({self.max_update}) "
                               f"(got {warmup_steps})")
        cosine = Cosine(start=self.base_lr, end=self.final_lr,
                        steps=self.max_update - self.warmup_steps)
        if self.warmup_steps == 0:
            self.schedule: Schedule = cosine
        else:
            rise = Linear(start=self.warmup_begin_lr, end=self.base_lr, steps=self.warmup_steps)
            self.schedule = join([rise, cosine], [self.warmup_steps])
