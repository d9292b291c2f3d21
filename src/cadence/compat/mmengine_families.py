"""MMEngine's parameter-scheduler families as pure descriptions, and its arguments, checked.

Each family (``Step``, ``MultiStep``, ``Constant``, ``Exponential``, ``CosineAnnealing``,
``Linear``, ``Poly``, ``OneCycle``, ``CosineRestart``) is a function of MMEngine's arguments
(same names) and the groups' bases that returns the scheduler's values in its own local time
(0 at ``begin``), as one :class:`~cadence.scheduler.track.Track`; :data:`FAMILIES` names them.
:mod:`cadence.compat.mmengine_shapes` describes a scheduler with them (windowed, named, from a
config) and the drop-ins in :mod:`cadence.compat.mmengine` call them with their attributes.

>>> track = step([0.1, 0.5], step_size=3, gamma=0.1)
>>> [round(v, 6) for v in track.values(3.0)]
[0.01, 0.05]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from cadence.compat.torch_shapes import cosine_annealing, milestone_list
from cadence.scheduler.track import ABSOLUTE, Span, Track
from cadence.schedules import (
    Constant,
    Cosine,
    Exponential,
    Linear,
    MultiStep,
    OneCycle,
    Polynomial,
    Scale,
    Schedule,
    Step,
    join,
)
from cadence.validation import (
    InvalidType,
    InvalidValue,
    UpstreamAssertion,
    check_choice,
    check_divisor,
    check_number,
    check_positive,
    check_range,
    check_sequence,
    check_steps,
    float_or_none,
    is_real,
    shown,
)

INF = int(1e9)
"""MMEngine's ``INF``, the default ``end`` of a scheduler's window: it never ends."""
Bases = Sequence[float]


# -- MMEngine's arguments, checked under their own names ---------------------------------------
def as_number(value: Any) -> Any:
    """A one-element tensor as its number (MMEngine takes them); anything else as it is."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    return value


def argument(name: str, value: Any, check: Callable[[str, Any], Any] = check_number) -> Any:
    """MMEngine's argument ``name``, checked (a number, by default) under its own name."""
    return check(name, as_number(value))


def _factor(name: str, value: Any) -> float:
    """A multiplicative factor in [0, 1] (MMEngine's rule for ``factor``, ``start_factor``,
    ``end_factor``)."""
    return check_range(name, as_number(value), 0.0, 1.0)


def check_window(begin: Any, end: Any) -> tuple[float, float]:
    """``[begin, end)``, the steps a scheduler is active in: ``begin`` a finite number, ``end`` a
    larger number (``inf``, or an int too large for a float, for no end)."""
    begin, end = as_number(begin), as_number(end)
    check_number("begin", begin)
    if not is_real(end) or (isinstance(end, float) and math.isnan(end)):
        raise InvalidType(f"'end' must be a number larger than 'begin' (got {shown(end)})")
    if end <= begin:
        raise InvalidValue(f"end should be larger than begin, but got begin={begin}, "
                           f"end={shown(end) if isinstance(end, int) else end}")
    return begin, end


def _length(begin: Any, end: Any, less: int = 0) -> float:
    """``end - begin - less`` steps (a window's length), ``inf`` for a window without end."""
    begin, end = check_window(begin, end)
    length = float_or_none(end - begin - less)
    return math.inf if length is None else length


def _count(name: str, value: Any) -> float:
    """A length in steps (a positive number)."""
    return argument(name, value, check_steps)


# -- the families, in local time ------------------------------------------------------------------
def step(bases: Bases, step_size: float, gamma: float = 0.1) -> Track:
    """Multiply by ``gamma`` every ``step_size`` steps."""
    shape = Step(every=_count("step_size", step_size),
                 gamma=argument("gamma", gamma, check_positive))
    return Track.shared("", shape, bases)


def multi_step(bases: Bases, milestones: Any, gamma: float = 0.1) -> Track:
    """Multiply by ``gamma`` at each milestone (MMEngine keeps a Counter)."""
    marks = milestone_list(milestones)
    shape = MultiStep(milestones=marks, gamma=argument("gamma", gamma, check_positive))
    return Track.shared("", shape, bases)


def constant(bases: Bases, factor: float = 1.0 / 3, begin: int = 0, end: int = INF) -> Track:
    """``factor`` until the window's last step, then 1."""
    factor = _factor("factor", factor)
    last = _length(begin, end, 1)
    shape = (join([Constant(factor), Constant(1.0)], [last]) if 0 < last < math.inf
             else Constant(factor))
    return Track.shared("", shape, bases)


def exponential(bases: Bases, gamma: float) -> Track:
    """Multiply by ``gamma`` every step."""
    return Track.shared("", Exponential(rate=argument("gamma", gamma, check_positive)), bases)


def _floor(eta_min: float | None, eta_min_ratio: float | None) -> Span:
    """MMEngine's floor: ``eta_min`` (absolute) or ``eta_min_ratio`` of the base."""
    if eta_min is not None and eta_min_ratio is not None:
        raise UpstreamAssertion(
            "Either 'eta_min' or 'eta_min_ratio' should be specified, not both")
    if eta_min_ratio is not None:
        return Span(low_rel=argument("eta_min_ratio", eta_min_ratio))
    return Span.floor(0.0 if eta_min is None else argument("eta_min", eta_min))


def cosine_annealing_family(bases: Bases, T_max: float | None = None,
                            eta_min: float | None = None, begin: int = 0, end: int = INF,
                            eta_min_ratio: float | None = None) -> Track:
    """Cosine from the base to the floor over ``T_max`` (default: the window), oscillating
    past it."""
    floor = _floor(eta_min, eta_min_ratio)
    period = as_number(T_max)
    if period is None or (is_real(period) and period == 0):  # MMEngine: T_max or the window
        steps = _length(begin, end)
    elif is_real(period) and period > 0 and float_or_none(period) in (None, math.inf):
        steps = math.inf
    else:
        steps = _count("T_max", period)
    if steps == math.inf:  # an endless period: the cosine never leaves its start
        return Track.shared("", Constant(1.0), bases, floor)
    return Track.shared("", cosine_annealing(steps), bases, floor)


def linear(bases: Bases, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
           begin: int = 0, end: int = INF) -> Track:
    """The factor goes linearly from ``start_factor`` to ``end_factor`` over the window."""
    start, stop = _factor("start_factor", start_factor), _factor("end_factor", end_factor)
    last = _length(begin, end, 1)
    shape: Schedule = (Linear(start=start, end=stop, steps=last) if 0 < last < math.inf
                       else Constant(start))
    return Track.shared("", shape, bases)


def poly(bases: Bases, eta_min: float = 0, power: float = 1.0, begin: int = 0,
         end: int = INF) -> Track:
    """Polynomial decay from the base to ``eta_min`` over the window."""
    floor = Span.floor(argument("eta_min", eta_min))
    power = argument("power", power, check_positive)
    last = _length(begin, end, 1)
    if not 0 < last < math.inf:
        return Track.shared("", Constant(1.0), bases)
    shape = Polynomial(start=1.0, end=0.0, steps=last, power=power)
    return Track.shared("", shape, bases, floor)


def one_cycle(bases: Bases, eta_max: Any = 0, total_steps: int | None = None,
              pct_start: float = 0.3, anneal_strategy: str = "cos", div_factor: float = 25.0,
              final_div_factor: float = 1e4, three_phase: bool = False, begin: int = 0,
              end: int = INF) -> Track:
    """The one-cycle policy from ``eta_max / div_factor`` (the groups' base, which MMEngine
    sets) up to ``eta_max`` and down to ``base / final_div_factor``."""
    peaks = (check_sequence("eta_max", eta_max, "a number or one per param group")
             if isinstance(eta_max, (list, tuple)) else [eta_max] * len(bases))
    if len(peaks) != len(bases):
        raise InvalidValue(f"'eta_max' must have one entry per param group ({len(bases)}) "
                           f"(got {len(peaks)})")
    divide = argument("div_factor", div_factor, check_positive)
    final = argument("final_div_factor", final_div_factor, check_positive)
    anneal = check_choice("anneal_strategy", anneal_strategy, ("cos", "linear"))
    starts = [argument("eta_max", p) / divide for p in peaks]
    if not 0 < 1.0 / final < math.inf:  # the cycle ends at 1 / final_div_factor of its start
        check_divisor("final_div_factor", final, "1 (the cycle's start)", 1.0)
    total = as_number(total_steps)
    if total is None:  # MMEngine's default: the window, end - begin
        total = _length(begin, end)
        if total == math.inf:
            raise InvalidValue("'total_steps' is needed when the window has no 'end' (got None)")
        if not float(total).is_integer():
            raise InvalidValue(f"'begin' and 'end' must be a whole number of steps apart for a "
                               f"one-cycle schedule without 'total_steps' (got begin={begin!r}, "
                               f"end={end!r})")
    if isinstance(total, float) and total.is_integer():  # end - begin of float bounds
        total = int(total)
    try:
        shape = OneCycle(total_steps=total, start=1.0, peak=divide, end=1.0 / final,
                         pct_start=as_number(pct_start), anneal=anneal, three_phase=three_phase)
    except InvalidValue as exc:
        if total_steps is not None:
            raise
        raise InvalidValue(f"the window [begin, end) = [{begin!r}, {end!r}), the one cycle's "
                           f"length without 'total_steps', is too short: {exc}") from None
    return Track.shared("", shape, starts)


def cosine_restart(bases: Bases, periods: Sequence[float], restart_weights: Sequence[float] = (1,),
                   eta_min: float | None = None, eta_min_ratio: float | None = None) -> Track:
    """Cosine cycles of the given ``periods``, each restarting at ``restart_weights[i]`` of the
    base and going down to the floor; the last value holds after."""
    if (eta_min is None) == (eta_min_ratio is None):
        raise UpstreamAssertion("Either 'eta_min' or 'eta_min_ratio' should be specified")
    lengths = [_count("periods", p) for p in check_sequence("periods", periods, "a list of steps")]
    weights = [argument("restart_weights", w) for w in
               check_sequence("restart_weights", restart_weights, "a list of numbers")]
    if not lengths or len(weights) != len(lengths):
        raise UpstreamAssertion(f"'periods' and 'restart_weights' must be as long as each "
                                f"other, and not empty (got {len(lengths)} and {len(weights)})")
    marks = list(itertools.accumulate(lengths))
    if not math.isfinite(marks[-1]):
        raise InvalidValue(f"'periods' must add up to a finite number of steps (got {lengths})")

    def joined(pieces: list[Schedule]) -> Schedule:
        """One cycle per period, then the last cycle's last value held."""
        return join([*pieces, Constant(pieces[-1](lengths[-1] - 1))], marks)

    def cycles(start: Sequence[float], end: float) -> Schedule:
        return joined([Cosine(start=w, end=end, steps=p) for w, p in zip(start, lengths)])

    def scaled(weights: Sequence[float]) -> Schedule:
        """Cycles from ``weights[i]`` to 0, each a cosine times its weight: chained, a cycle
        moves by its cosine's change, as MMEngine's does, even for a weight of 0."""
        return joined([Scale(Cosine(start=1.0, end=0.0, steps=p), w)
                       for w, p in zip(weights, lengths)])

    # in the span from the floor, so that a chained step scales the value's distance from the
    # floor, as MMEngine's chainable form does; a base at its floor has no such span
    if eta_min_ratio is not None:
        ratio = argument("eta_min_ratio", eta_min_ratio)
        if ratio == 1.0:
            return Track.shared("", cycles(weights, ratio), bases)
        return Track.shared("", scaled([(w - ratio) / (1 - ratio) for w in weights]), bases,
                            Span(low_rel=ratio))
    low = argument("eta_min", eta_min)
    if any(b == low for b in bases):
        return Track("", [cycles([b * w for w in weights], low) for b in bases], bases, ABSOLUTE)
    return Track("", [scaled([(b * w - low) / (b - low) for w in weights]) for b in bases],
                 bases, Span.floor(low))


FAMILIES: dict[str, Callable[..., Track]] = {
    "Step": step, "MultiStep": multi_step, "Constant": constant, "Exponential": exponential,
    "CosineAnnealing": cosine_annealing_family, "Linear": linear, "Poly": poly,
    "OneCycle": one_cycle, "CosineRestart": cosine_restart,
}
