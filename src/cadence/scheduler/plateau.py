"""Reduce on plateau, as a controller whose factor multiplies any schedule.

The controller watches a metric fed to ``cadence.Scheduler.step(metric)`` or
:meth:`cadence.Scheduler.report` (typically once per epoch). When the metric has not improved
for more than ``patience`` reports, it counts one more reduction and waits ``cooldown`` reports
before counting again. The scheduler applies the reductions on top of the schedule, so warm-up
then plateau control is ``Scheduler(opt, lr=warmup, plateau=...)``: each reduction multiplies a
group's scheduled value by ``factor``, never below ``min_value`` (absolute, one number or one
per group) nor below ``min_scale`` times the unreduced value, and a reduction that would change
the value by ``eps`` or less is skipped, as in PyTorch.

Improvement, as in PyTorch's ``ReduceLROnPlateau``: in ``"min"`` mode a metric improves on the
best when it is below ``best * (1 - threshold)`` (``threshold_mode="rel"``) or
``best - threshold`` (``"abs"``); ``"max"`` mode mirrors it.

NaN metrics: ``nan="bad"`` (default, as PyTorch) counts a NaN as a report without improvement;
``"ignore"`` skips it; ``"raise"`` raises ``ValueError``.

Under ``torch.distributed`` each reported metric is averaged over all ranks first
(``sync=True``), so every rank takes the same decisions and keeps the same learning rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from cadence.validation import (
    InvalidType,
    InvalidValue,
    check_choice,
    check_non_negative,
    check_non_negative_int,
    check_range,
)


def mean_over_ranks(value: float) -> float:
    """``value`` averaged over the ranks of the default process group (itself if none)."""
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return value
    backend = dist.get_backend()
    device = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else None
    total = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(total)
    return float(total.item()) / dist.get_world_size()


def improves(metric: float, best: float, mode: str, threshold: float,
             threshold_mode: str) -> bool:
    """PyTorch's rule: in ``"min"`` mode, below ``best * (1 - threshold)`` (``"rel"``) or
    ``best - threshold`` (``"abs"``); ``"max"`` mirrors it. NaN never improves."""
    if threshold_mode == "rel":
        if mode == "min":
            return metric < best * (1.0 - threshold)
        return metric > best * (1.0 + threshold)
    if mode == "min":
        return metric < best - threshold
    return metric > best + threshold


def advance(metric: float, best: float, bad: int, cooldown_left: int, *, mode: str,
            threshold: float, threshold_mode: str, patience: int,
            cooldown: int) -> tuple[float, int, int, bool]:
    """One report: the new ``(best, bad reports, cooldown left)`` and whether to reduce now.
    A report in the cooldown is not counted as bad; a reduction starts a new cooldown."""
    if improves(metric, best, mode, threshold, threshold_mode):
        best, bad = metric, 0
    else:
        bad += 1
    if cooldown_left > 0:
        cooldown_left -= 1
        bad = 0
    if bad > patience:
        return best, 0, cooldown, True
    return best, bad, cooldown_left, False


def reduce_once(value: float, factor: float, floor: float, eps: float) -> float:
    """One reduction of ``value``: ``max(value * factor, floor)``, unless that changes it by
    ``eps`` or less (then ``value``), as PyTorch's ``ReduceLROnPlateau`` does."""
    reduced = max(value * factor, floor)
    return reduced if value - reduced > eps else value


@dataclass
class ReduceOnPlateau:
    """Multiply the scheduled hyperparameters by ``factor`` when a metric stops improving.

    >>> p = ReduceOnPlateau(patience=1, factor=0.5, min_value=0.3)
    >>> [p.observe(x) for x in (1.0, 0.9, 0.95, 0.95, 0.95, 0.95)], p.reductions, p.apply(1.0)
    ([False, False, False, True, False, True], 2, 0.3)
    """

    mode: str = "min"
    factor: float = 0.1
    patience: int = 10
    threshold: float = 1e-4
    threshold_mode: str = "rel"
    cooldown: int = 0
    min_scale: float = 0.0
    min_value: float | Sequence[float] = 0.0
    eps: float = 0.0
    start_step: int = 0
    nan: str = "bad"
    sync: bool = True
    applies_to: tuple[str, ...] = ("lr",)
    # state
    best: float = field(default=math.inf, init=False)
    bad_reports: int = field(default=0, init=False)
    cooldown_left: int = field(default=0, init=False)
    reductions: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, ("min", "max"))
        check_range("factor", self.factor, 0.0, 1.0, low_open=True, high_open=True)
        check_non_negative_int("patience", self.patience)
        check_non_negative("threshold", self.threshold)
        check_choice("threshold_mode", self.threshold_mode, ("rel", "abs"))
        check_non_negative_int("cooldown", self.cooldown)
        check_range("min_scale", self.min_scale, 0.0, 1.0)
        if isinstance(self.min_value, (list, tuple)):
            self.min_value = [check_non_negative("min_value", v) for v in self.min_value]
        else:
            self.min_value = check_non_negative("min_value", self.min_value)
        check_non_negative("eps", self.eps)
        check_non_negative_int("start_step", self.start_step)
        check_choice("nan", self.nan, ("bad", "ignore", "raise"))
        if not isinstance(self.sync, bool):
            raise InvalidType(f"'sync' must be a bool (got {self.sync!r})")
        if isinstance(self.applies_to, str):
            self.applies_to = (self.applies_to,)
        self.applies_to = tuple(self.applies_to)
        self.best = -math.inf if self.mode == "max" else math.inf

    def floor(self, group: int) -> float:
        """The absolute floor of param group ``group``."""
        if isinstance(self.min_value, list):
            if group >= len(self.min_value):
                raise InvalidValue(f"'min_value' has {len(self.min_value)} entries but param group "
                                   f"{group} exists")
            return float(self.min_value[group])
        return float(self.min_value)  # type: ignore[arg-type]

    def apply(self, value: Any, group: int = 0) -> Any:
        """``value`` (one number, or an array) after the reductions so far, for param group
        ``group``: each one ``max(v * factor, min_value, min_scale * value)``, skipped when it
        changes ``v`` by ``eps`` or less."""
        low = self.floor(group)
        if isinstance(value, np.ndarray):
            bound = np.maximum(low, self.min_scale * value)
            v = value
            for _ in range(self.reductions):
                new = np.maximum(v * self.factor, bound)
                v = np.where(v - new > self.eps, new, v)
            return v
        floor = max(low, self.min_scale * float(value))
        current: float = value
        for _ in range(self.reductions):
            current = reduce_once(current, self.factor, floor, self.eps)
        return current

    def observe(self, metric: Any, step: int = 0) -> bool:
        """Take one metric (reported at optimizer step ``step``); True if it reduced."""
        value = float(metric.item()) if isinstance(metric, torch.Tensor) else float(metric)
        if self.sync:
            value = mean_over_ranks(value)
        if step < self.start_step:
            return False
        if math.isnan(value):
            if self.nan == "raise":
                raise InvalidValue(f"'metric' must not be NaN (got {value!r})")
            if self.nan == "ignore":
                return False
        self.best, self.bad_reports, self.cooldown_left, reduced = advance(
            value, self.best, self.bad_reports, self.cooldown_left, mode=self.mode,
            threshold=self.threshold, threshold_mode=self.threshold_mode,
            patience=self.patience, cooldown=self.cooldown)
        self.reductions += reduced
        return reduced

    def config(self) -> dict[str, Any]:
        """The settings (JSON-safe)."""
        names = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown",
                 "min_scale", "min_value", "eps", "start_step", "nan", "sync")
        return {**{n: getattr(self, n) for n in names}, "applies_to": list(self.applies_to)}

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "bad_reports": self.bad_reports,
                "cooldown_left": self.cooldown_left, "reductions": self.reductions}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = float(state["best"])
        self.bad_reports = int(state["bad_reports"])
        self.cooldown_left = int(state["cooldown_left"])
        self.reductions = int(state["reductions"])
