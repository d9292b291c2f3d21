"""PyTorch's schedulers as pure descriptions: the settings PyTorch's classes keep (same names)
and the groups' bases in, one :class:`~cadence.scheduler.track.Track` per hyperparameter out.

No optimizer is needed, so previews, plots and ``describe`` call these directly; the drop-ins in
:mod:`cadence.compat.lr_scheduler` call them with their own attributes. Each value is PyTorch's
closed form (its ``_get_closed_form_lr``), built from cadence's shapes; one schedule is shared by
every group wherever the groups differ only in their base, so a thousand groups cost one
evaluation per step.

>>> [track] = step_lr([0.1, 0.5], step_size=3, gamma=0.1)
>>> track.values(3.0)
[0.010000000000000002, 0.05]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from cadence.scheduler.slots import as_float
from cadence.scheduler.track import ABSOLUTE, RELATIVE, Span, Track
from cadence.schedules import (
    Constant,
    CosineRestarts,
    CosineWave,
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
)
from cadence.schedules.restarts import check_period_mult
from cadence.validation import InvalidValue, check_non_negative, check_sequence, shown

Bases = Sequence[float]
MAX_MILESTONES = 100_000  # a saved Counter expands to this many milestones at most


def milestone_list(milestones: Any) -> list[Any]:
    """PyTorch's (and MMEngine's) ``milestones``, a ``Counter`` (a milestone counted twice
    drops twice) or a list, as a sorted list with repeats. A Counter's counts are checked
    before it is expanded: a loaded state's ``{5: 10**18}`` would expand until memory ran out."""
    if isinstance(milestones, Mapping):
        total = 0
        for mark, count in milestones.items():
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise InvalidValue(f"'milestones' must count each milestone a positive whole "
                                   f"number of times (got {shown(mark)}: {shown(count)})")
            total += count
        if total > MAX_MILESTONES:
            raise InvalidValue(f"'milestones' must hold at most {MAX_MILESTONES} milestones "
                               f"(got {shown(total)})")
        items: Iterable[Any] = Counter(milestones).elements()
    else:
        items = check_sequence("milestones", milestones, "a list of steps")
    marks = []
    for mark in items:
        mark = mark.item() if isinstance(mark, torch.Tensor) and mark.numel() == 1 else mark
        check_non_negative("milestones", mark)
        marks.append(mark)
    return sorted(marks)


def _number(value: Any) -> float:
    """A setting as a float (PyTorch takes tensors for several)."""
    return as_float(value)


def cosine_annealing(steps: float) -> Schedule:
    """PyTorch's (and MMEngine's) cosine annealing as a factor: from 1 to 0 over ``steps``, back
    up over the next ``steps``, and so on (PyTorch's closed form keeps oscillating)."""
    return CosineWave(start=1.0, end=0.0, steps=steps)


def lambda_lr(bases: Bases, lr_lambdas: Sequence[Callable[[int], float]]) -> list[Track]:
    """``base * lr_lambda(epoch)``; a cadence schedule is its own lambda."""
    return [Track("lr", [f if isinstance(f, Schedule) else Lambda(f) for f in lr_lambdas], bases)]


def multiplicative_lr(bases: Bases, lr_lambdas: Sequence[Callable[[int], float]]) -> list[Track]:
    """``base * lr_lambda(1) * ... * lr_lambda(epoch)``."""
    return [Track("lr", [Multiplicative(f) for f in lr_lambdas], bases)]


def step_lr(bases: Bases, step_size: float, gamma: float) -> list[Track]:
    """``base * gamma ** (epoch // step_size)``."""
    return [Track.shared("lr", Step(every=_number(step_size), gamma=_number(gamma)), bases)]


def multistep_lr(bases: Bases, milestones: Any, gamma: float) -> list[Track]:
    """``base * gamma ** (milestones reached)``; ``milestones`` is PyTorch's Counter (a
    repeated milestone counts twice)."""
    marks = milestone_list(milestones)
    return [Track.shared("lr", MultiStep(milestones=marks, gamma=_number(gamma)), bases)]


def constant_lr(bases: Bases, factor: float, total_iters: float) -> list[Track]:
    """``base * factor`` for ``epoch < total_iters``, then the base."""
    factor, total = _number(factor), _number(total_iters)
    shape: Schedule = (join([Constant(factor), Constant(1.0)], [total]) if total > 0
                       else Constant(1.0))  # no phase (PyTorch's chainable form keeps factor)
    return [Track.shared("lr", shape, bases)]


def linear_lr(bases: Bases, start_factor: float, end_factor: float,
              total_iters: float) -> list[Track]:
    """The factor goes linearly from ``start_factor`` to ``end_factor`` over ``total_iters``."""
    start, end, total = _number(start_factor), _number(end_factor), _number(total_iters)
    shape: Schedule = (Linear(start=start, end=end, steps=total) if total > 0
                       else Constant(end))  # already at the end (PyTorch divides by zero)
    return [Track.shared("lr", shape, bases)]


def exponential_lr(bases: Bases, gamma: float) -> list[Track]:
    """``base * gamma ** epoch``."""
    return [Track.shared("lr", Exponential(rate=_number(gamma)), bases)]


def polynomial_lr(bases: Bases, total_iters: float, power: float) -> list[Track]:
    """``base * (1 - min(epoch, total_iters) / total_iters) ** power``."""
    shape = Polynomial(start=1.0, end=0.0, steps=_number(total_iters), power=_number(power))
    return [Track.shared("lr", shape, bases)]


def cosine_annealing_lr(bases: Bases, T_max: float, eta_min: float) -> list[Track]:
    """``eta_min + (base - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``."""
    span = Span.floor(_number(eta_min))
    return [Track.shared("lr", cosine_annealing(_number(T_max)), bases, span)]


@dataclass(frozen=True)
class TorchRestarts(CosineRestarts):
    """:class:`~cadence.schedules.CosineRestarts` from 1 to 0, valued by PyTorch's own
    expression, ``(1 + cos(pi * T_cur / T_i)) / 2`` in its order of operations: PyTorch's
    ``CosineAnnealingWarmRestarts`` is a closed form, so code compares its lrs with ``==``
    (ignite recomputes them from ``T_cur`` and ``T_i``). cadence's own shape is exact where
    this one cancels (the end of a long cycle, in its last digits)."""

    def _eval(self, t: Any, xp: Any) -> Any:
        _, start, end = self.locate(t, xp)
        return (1 + xp.cos(math.pi * (t - start) / (end - start))) / 2


def cosine_warm_restarts_lr(bases: Bases, T_0: float, T_mult: float,
                            eta_min: float) -> list[Track]:
    """``eta_min + (base - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``: cosine annealing from
    the base to ``eta_min``, restarting after ``T_0`` epochs, then after cycles ``T_mult``
    times longer each (``T_cur`` the epochs since the last restart, ``T_i`` the cycle's)."""
    mult = check_period_mult("T_mult", _number(T_mult))
    shape = TorchRestarts(period=_number(T_0), period_mult=mult)
    return [Track.shared("lr", shape, bases, Span.floor(_number(eta_min)))]


class ScaleFn:
    """CyclicLR's ``scale_fn`` of the cycle number (from 1) or of the step, as a callable of
    the step."""

    __slots__ = ("fn", "mode", "total")

    def __init__(self, fn: Callable[[float], float], mode: str, total: float) -> None:
        self.fn, self.mode, self.total = fn, mode, total

    def __call__(self, step: float) -> float:
        x = math.floor(1 + step / self.total) if self.mode == "cycle" else step
        return float(self.fn(x))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScaleFn) and (self.fn, self.mode, self.total) == (
            other.fn, other.mode, other.total)

    def __hash__(self) -> int:
        return hash((self.mode, self.total))


def _steps_up(total_size: float, step_ratio: float) -> tuple[float, float]:
    """CyclicLR keeps ``total_size`` and ``step_ratio``; the rise and fall in steps (whole
    numbers when they were given as such)."""
    up = total_size * step_ratio
    if abs(up - round(up)) < 1e-9 * total_size:
        up = float(round(up))
    return up, total_size - up


def cyclic_lr(bases: Bases, max_lrs: Sequence[Any], total_size: float, step_ratio: float,
              mode: str, gamma: float, scale_mode: str,
              _scale_fn_custom: Callable[[float], float] | None, cycle_momentum: bool,
              base_momentums: Sequence[Any] = (), max_momentums: Sequence[Any] = ()
              ) -> list[Track]:
    """Triangular cycles between each group's ``base_lr`` (its base) and ``max_lr``; momentum
    cycles the other way between ``max_momentum`` and ``base_momentum``."""
    up, down = _steps_up(_number(total_size), _number(step_ratio))

    def cycle(start: float, peak: float) -> Schedule:
        if _scale_fn_custom is None:
            return Cyclic(start=start, peak=peak, up_steps=up, down_steps=down, mode=mode,
                          gamma=_number(gamma))
        triangle = Cyclic(start=0.0, peak=1.0, up_steps=up, down_steps=down)
        scale = Lambda(ScaleFn(_scale_fn_custom, scale_mode, up + down))
        return Shift(Scale(Product((triangle, scale)), peak - start), start)

    tracks = [Track("lr", _distinct(cycle, bases, max_lrs), bases, ABSOLUTE)]
    if cycle_momentum:
        momenta = _distinct(cycle, max_momentums, base_momentums)
        tracks.append(Track("momentum", momenta, [None] * len(momenta), ABSOLUTE))
    return tracks


def one_cycle_lr(bases: Bases, total_steps: int, pct_start: float, anneal_strategy: str,
                 three_phase: bool, max_lrs: Sequence[Any], min_lrs: Sequence[Any],
                 cycle_momentum: bool, max_momentums: Sequence[Any] = (),
                 base_momentums: Sequence[Any] = ()) -> list[Track]:
    """The one-cycle policy from each group's base (``initial_lr``) up to ``max_lr`` and down
    to ``min_lr``; momentum from ``max_momentum`` down to ``base_momentum`` and back."""

    def phases(start: float, peak: float, end: float) -> Schedule:
        return OneCycle(total_steps=total_steps, start=start, peak=peak, end=end,
                        pct_start=pct_start, anneal=anneal_strategy, three_phase=three_phase)

    ratios = [(_number(hi) / b, _number(lo) / b) if b else (0.0, 0.0)
              for b, hi, lo in zip(bases, max_lrs, min_lrs)]
    lrs = _distinct(lambda peak, end: phases(1.0, peak, end), [r[0] for r in ratios],
                    [r[1] for r in ratios])
    tracks = [Track("lr", lrs, bases, RELATIVE)]
    if cycle_momentum:
        momenta = _distinct(lambda hi, lo: phases(hi, lo, hi), max_momentums, base_momentums)
        tracks.append(Track("momentum", momenta, [None] * len(momenta), ABSOLUTE))
    return tracks


def _distinct(make: Callable[[float, float], Schedule], first: Iterable[Any],
              second: Iterable[Any]) -> list[Schedule]:
    """``make(a, b)`` for each pair, one object per distinct pair (so equal groups share it)."""
    made: dict[tuple[float, float], Schedule] = {}
    out = []
    for a, b in zip(first, second):
        key = (_number(a), _number(b))
        if key not in made:
            made[key] = make(*key)
        out.append(made[key])
    return out


def absolute_values(track: Track) -> list[Schedule | None]:
    """Each group's value as a schedule of its own (for joining or multiplying drop-ins)."""
    lows, spans = track.ends()
    out: list[Schedule | None] = []
    for schedule, low, span in zip(track.schedules, lows, spans):
        if schedule is None:
            out.append(None)
        elif low == 0.0 and span == 1.0:
            out.append(schedule)
        else:
            out.append(Shift(Scale(schedule, span), low) if low else Scale(schedule, span))
    return out
