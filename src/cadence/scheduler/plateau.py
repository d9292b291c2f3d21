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
(``sync=True``), so every rank takes the same decisions and keeps the same learning rate. A
report is then a collective (:mod:`cadence.scheduler.ranks`): every rank must report, at the
same step; a rank that has not within ``timeout`` seconds (60 by default) is named in a
``RankTimeout``, ranks at different steps in a ``RankMismatch``.

The reductions are a closed form, whatever their number: with ``eps == 0`` the ``k`` reductions
of a value ``v`` above its floor are ``max(v * factor**k, floor)``; with ``eps > 0`` the first
``n`` of them apply, those that change the value by more than ``eps`` (the changes shrink, so
once one is skipped all later ones are), and the value is ``max(v * factor**n, floor)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from cadence.scheduler.ranks import DEFAULT_TIMEOUT, check_timeout, mean_over_ranks
from cadence.scheduler.selection import check_names
from cadence.scheduler.state import check_base, check_step
from cadence.validation import (
    InvalidType,
    InvalidValue,
    check_choice,
    check_non_negative,
    check_non_negative_int,
    check_range,
)

PLATEAU_KEYS = ("best", "bad_reports", "cooldown_left", "reductions")  # its state


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


def applied(value: float, reductions: int, factor: float, floor: float, eps: float) -> int:
    """How many of ``reductions`` reductions of ``value`` apply: the ``j``-th (from 0) takes
    ``c_j = max(value * factor**j, floor)`` to ``max(value * factor**(j+1), floor)`` if that
    changes it by more than ``eps``. The changes shrink with ``j``, so the ones that apply come
    first: estimated in closed form, then checked (a step or two), whatever ``reductions``."""
    if reductions <= 0 or not (math.isfinite(value) and value > floor):
        return 0  # at or below its floor (or not a number): every reduction is skipped
    if eps == 0.0:
        return reductions  # each one applies until the floor, which the max then keeps
    log_f = math.log(factor)
    # the change v f^j (1 - f) exceeds eps while j < (log eps - log(v (1 - f))) / log f
    bound = (math.log(eps) - math.log(value) - math.log1p(-factor)) / log_f
    n = min(float(reductions), max(0.0, math.ceil(bound)))
    if floor > 0.0:  # and the value reaches the floor at the first m with v f^m <= floor
        n = min(n, max(1.0, math.ceil((math.log(floor) - math.log(value)) / log_f)))
    count = int(n)
    while count > 0 and not _changes(value, count - 1, factor, floor, eps):
        count -= 1
    while count < reductions and _changes(value, count, factor, floor, eps):
        count += 1
    return count


def _changes(value: float, j: int, factor: float, floor: float, eps: float) -> bool:
    """Whether the ``j``-th reduction of ``value`` changes it by more than ``eps``."""
    current = value if j == 0 else max(value * factor**j, floor)
    return current - max(value * factor ** (j + 1), floor) > eps


def reduce_times(value: float, reductions: int, factor: float, floor: float,
                 eps: float) -> float:
    """``value`` after ``reductions`` reductions of :func:`reduce_once`, in closed form (equal
    to the repeated products to rounding): ``max(value * factor**n, floor)`` for the ``n`` that
    :func:`applied` counts.

    >>> reduce_times(1.0, 3, 0.5, 0.0, 0.0), reduce_times(1.0, 10**9, 0.5, 0.2, 1e-8)
    (0.125, 0.2)
    """
    n = applied(value, reductions, factor, floor, eps)
    return value if n == 0 else max(value * factor**n, floor)


def reduce_times_array(values: np.ndarray, reductions: int, factor: float, floor: np.ndarray,
                       eps: float) -> np.ndarray:
    """:func:`reduce_times` of every element (``floor`` per element), with the same floats."""
    live = np.isfinite(values) & (values > floor)
    if reductions <= 0 or not live.any():
        return values
    with np.errstate(all="ignore"):  # the elements that are not live are not used
        if eps == 0.0:
            return np.where(live, np.maximum(values * factor**reductions, floor), values)
        return _reduce_times_eps(values, live, reductions, factor, floor, eps)


def _reduce_times_eps(values: np.ndarray, live: np.ndarray, reductions: int, factor: float,
                      floor: np.ndarray, eps: float) -> np.ndarray:
    log_f = math.log(factor)
    bound = (math.log(eps) - np.log(values) - math.log1p(-factor)) / log_f
    n = np.minimum(float(reductions), np.maximum(0.0, np.ceil(bound)))
    hits = np.where(floor > 0.0, np.ceil((np.log(floor) - np.log(values)) / log_f), np.inf)
    n = np.minimum(n, np.maximum(1.0, hits))
    count = np.where(live, np.nan_to_num(n, nan=0.0), 0.0).astype(np.int64)

    def power(j: np.ndarray) -> np.ndarray:  # factor**j as the scalar path has it (libm's pow)
        exponents, where = np.unique(j, return_inverse=True)
        return np.array([factor ** int(e) for e in exponents])[where.reshape(j.shape)]

    def changes(j: np.ndarray) -> np.ndarray:
        current = np.where(j == 0, values, np.maximum(values * power(j), floor))
        return current - np.maximum(values * power(j + 1), floor) > eps

    while True:  # down while the last counted one does not apply, up while the next does
        down = live & (count > 0) & ~changes(np.maximum(count - 1, 0))
        if not down.any():
            break
        count = np.where(down, count - 1, count)
    while True:
        up = live & (count < reductions) & changes(count)
        if not up.any():
            break
        count = np.where(up, count + 1, count)
    return np.where(count > 0, np.maximum(values * power(count), floor), values)


SYNC_HINT = ("With ReduceOnPlateau(sync=True), the default, the metric is averaged over the "
             "ranks, so every rank must report one; ReduceOnPlateau(sync=False) decides on each "
             "rank's own metric, ReduceOnPlateau(timeout=...) waits longer.")


@dataclass
class ReduceOnPlateau:
    """Multiply the scheduled hyperparameters by ``factor`` when a metric stops improving.

    With ``sync=True`` (the default) under ``torch.distributed``, :meth:`observe` (so
    ``Scheduler.report`` and ``Scheduler.step(metric)``) is a collective: it averages the
    metric over the ranks, and every rank must call it, at the same scheduler step. A rank that
    has not within ``timeout`` seconds (default 60; None waits as long as the process group
    does) is named in a :class:`~cadence.scheduler.ranks.RankTimeout` on the others; ranks at
    different steps raise :class:`~cadence.scheduler.ranks.RankMismatch`, naming each rank's.

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
    timeout: float | None = DEFAULT_TIMEOUT
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
        self.timeout = check_timeout(self.timeout)
        given = self.applies_to
        names = check_names("applies_to", (given,) if isinstance(given, str) else given, None)
        if not names or "" in names:
            raise InvalidValue("'applies_to' must name at least one hyperparameter, each a "
                               f"non-empty name (got {given!r})")
        self.applies_to = tuple(names)
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
        changes ``v`` by ``eps`` or less; in closed form (:func:`reduce_times`), so its cost
        does not grow with the number of reductions."""
        low = self.floor(group)
        if isinstance(value, np.ndarray):
            bound = np.maximum(low, self.min_scale * value)
            return reduce_times_array(value, self.reductions, self.factor, bound, self.eps)
        floor = max(low, self.min_scale * float(value))
        return reduce_times(value, self.reductions, self.factor, floor, self.eps)

    def observe(self, metric: Any, step: float = 0, *, averaged: bool = False) -> bool:
        """Take one metric (reported at step ``step``); True if it reduced. ``averaged``: the
        metric is already the mean over the ranks (the Scheduler's exchange made it)."""
        value = float(metric.item()) if isinstance(metric, torch.Tensor) else float(metric)
        if self.sync and not averaged:  # a collective: every rank reports, at the same step
            value = mean_over_ranks(value, step=step, timeout=self.timeout,
                                    call="report()/step(metric)", hint=SYNC_HINT)
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
        """The settings that decide the values (JSON-safe): all but ``timeout``, so a state
        saved with another timeout loads."""
        names = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown",
                 "min_scale", "min_value", "eps", "start_step", "nan", "sync")
        return {**{n: getattr(self, n) for n in names}, "applies_to": list(self.applies_to)}

    def state_dict(self) -> dict[str, Any]:
        """The counters, JSON-safe: ``best`` is None until a metric has been seen (the
        controller holds an infinite best then, which strict JSON cannot carry)."""
        return {"best": self.best if math.isfinite(self.best) else None,
                "bad_reports": self.bad_reports, "cooldown_left": self.cooldown_left,
                "reductions": self.reductions}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Load :meth:`state_dict`'s counters, each checked before any is taken."""
        path = "plateau_state"
        if not isinstance(state, Mapping):
            raise InvalidType(f"state_dict[{path!r}] must be a dict (got {state!r})")
        missing = [k for k in PLATEAU_KEYS if k not in state]
        if missing:
            raise InvalidValue(f"state_dict[{path!r}] lacks {missing} (it has "
                               f"{sorted(map(str, state))})")
        best = state["best"]
        unseen = -math.inf if self.mode == "max" else math.inf
        # None (and an infinite best, as older states hold it) means no metric seen yet
        best = unseen if best is None or best == unseen else check_base((path, "best"), best)
        counters = {k: check_step((path, k), state[k]) for k in PLATEAU_KEYS[1:]}
        self.best = best
        self.bad_reports = counters["bad_reports"]
        self.cooldown_left = counters["cooldown_left"]
        self.reductions = counters["reductions"]
