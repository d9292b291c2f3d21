"""MMEngine's parameter schedulers as pure descriptions, and its list-of-configs composition.

Each family (``Step``, ``MultiStep``, ``Constant``, ``Exponential``, ``CosineAnnealing``,
``Linear``, ``Poly``, ``OneCycle``, ``CosineRestart``) is a function of MMEngine's arguments
(same names) and the groups' bases that returns the scheduler's values in its own local time
(0 at ``begin``), as one :class:`~cadence.scheduler.track.Track`. The drop-ins in
:mod:`cadence.compat.mmengine` call them with their attributes; :func:`build_schedulers` calls
them with config dicts, without MMEngine installed.

:func:`build_schedulers` combines MMEngine's ``param_scheduler = [dict(type=...), ...]`` the way
MMEngine's Runner does: each scheduler acts in ``[begin, end)`` (before: it leaves the value
alone; after: its last value holds), disjoint windows run in sequence, a gap keeps the value,
overlapping windows multiply. By-epoch schedulers run in iterations through ``epoch_length``
(held within each epoch, or spread over it with ``convert_to_iter_based=True``).

>>> import torch
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> sched = build_schedulers([
...     dict(type="LinearLR", start_factor=0.001, by_epoch=False, begin=0, end=50),
...     dict(type="MultiStepLR", by_epoch=True, milestones=[8, 11], gamma=0.1)],
...     opt, epoch_length=100)
>>> sched.value_at([0, 49, 799, 800, 1100])["lr"][:, 0].round(6).tolist()
[0.0001, 0.1, 0.1, 0.01, 0.001]
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from cadence.compat.torch_shapes import absolute_values, cosine_annealing, milestone_list
from cadence.config.registry import suggest
from cadence.scheduler.plateau import ReduceOnPlateau as Plateau
from cadence.scheduler.scheduler import Scheduler
from cadence.scheduler.slots import as_float, resolve
from cadence.scheduler.track import ABSOLUTE, RELATIVE, Span, Track
from cadence.schedules import (
    Constant,
    Cosine,
    Exponential,
    Linear,
    MultiStep,
    OneCycle,
    Polynomial,
    Quantize,
    Scale,
    Schedule,
    Step,
    join,
    product,
)
from cadence.validation import (
    InvalidInput,
    InvalidType,
    InvalidValue,
    UpstreamAssertion,
    check_choice,
    check_divisor,
    check_non_negative,
    check_number,
    check_positive,
    check_positive_int,
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
def _item(value: Any) -> Any:
    """A one-element tensor as its number (MMEngine takes them); anything else as it is."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    return value


def _arg(name: str, value: Any, check: Callable[[str, Any], Any] = check_number) -> Any:
    return check(name, _item(value))


def _factor(name: str, value: Any) -> float:
    """A multiplicative factor in [0, 1] (MMEngine's rule for ``factor``, ``start_factor``,
    ``end_factor``)."""
    return check_range(name, _item(value), 0.0, 1.0)


def check_window(begin: Any, end: Any) -> tuple[float, float]:
    """``[begin, end)``, the steps a scheduler is active in: ``begin`` a finite number, ``end`` a
    larger number (``inf``, or an int too large for a float, for no end)."""
    begin, end = _item(begin), _item(end)
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
    return _arg(name, value, check_steps)


# -- the families, in local time ------------------------------------------------------------------
def step(bases: Bases, step_size: float, gamma: float = 0.1) -> Track:
    """Multiply by ``gamma`` every ``step_size`` steps."""
    shape = Step(every=_count("step_size", step_size), gamma=_arg("gamma", gamma, check_positive))
    return Track.shared("", shape, bases)


def multi_step(bases: Bases, milestones: Any, gamma: float = 0.1) -> Track:
    """Multiply by ``gamma`` at each milestone (MMEngine keeps a Counter)."""
    marks = milestone_list(milestones)
    shape = MultiStep(milestones=marks, gamma=_arg("gamma", gamma, check_positive))
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
    return Track.shared("", Exponential(rate=_arg("gamma", gamma, check_positive)), bases)


def _floor(eta_min: float | None, eta_min_ratio: float | None) -> Span:
    """MMEngine's floor: ``eta_min`` (absolute) or ``eta_min_ratio`` of the base."""
    if eta_min is not None and eta_min_ratio is not None:
        raise UpstreamAssertion(
            "Either 'eta_min' or 'eta_min_ratio' should be specified, not both")
    if eta_min_ratio is not None:
        return Span(low_rel=_arg("eta_min_ratio", eta_min_ratio))
    return Span.floor(0.0 if eta_min is None else _arg("eta_min", eta_min))


def cosine_annealing_family(bases: Bases, T_max: float | None = None,
                            eta_min: float | None = None, begin: int = 0, end: int = INF,
                            eta_min_ratio: float | None = None) -> Track:
    """Cosine from the base to the floor over ``T_max`` (default: the window), oscillating
    past it."""
    floor = _floor(eta_min, eta_min_ratio)
    period = _item(T_max)
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
    floor = Span.floor(_arg("eta_min", eta_min))
    power = _arg("power", power, check_positive)
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
    divide = _arg("div_factor", div_factor, check_positive)
    final = _arg("final_div_factor", final_div_factor, check_positive)
    anneal = check_choice("anneal_strategy", anneal_strategy, ("cos", "linear"))
    starts = [_arg("eta_max", p) / divide for p in peaks]
    if not 0 < 1.0 / final < math.inf:  # the cycle ends at 1 / final_div_factor of its start
        check_divisor("final_div_factor", final, "1 (the cycle's start)", 1.0)
    total = _item(total_steps)
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
                         pct_start=_item(pct_start), anneal=anneal, three_phase=three_phase)
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
    weights = [_arg("restart_weights", w) for w in
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
        ratio = _arg("eta_min_ratio", eta_min_ratio)
        if ratio == 1.0:
            return Track.shared("", cycles(weights, ratio), bases)
        return Track.shared("", scaled([(w - ratio) / (1 - ratio) for w in weights]), bases,
                            Span(low_rel=ratio))
    low = _arg("eta_min", eta_min)
    if any(b == low for b in bases):
        return Track("", [cycles([b * w for w in weights], low) for b in bases], bases, ABSOLUTE)
    return Track("", [scaled([(b * w - low) / (b - low) for w in weights]) for b in bases],
                 bases, Span.floor(low))


FAMILIES: dict[str, Callable[..., Track]] = {
    "Step": step, "MultiStep": multi_step, "Constant": constant, "Exponential": exponential,
    "CosineAnnealing": cosine_annealing_family, "Linear": linear, "Poly": poly,
    "OneCycle": one_cycle, "CosineRestart": cosine_restart,
}
# the arguments that are values of the lr (or factors of its base), per family
VALUE_ARGUMENTS = {"CosineAnnealing": ("eta_min", "eta_min_ratio"), "Poly": ("eta_min",),
                   "OneCycle": ("eta_max",),
                   "CosineRestart": ("eta_min", "eta_min_ratio", "restart_weights")}
TIME_ARGUMENTS = {"Step": ("step_size",), "MultiStep": ("milestones",),
                  "CosineAnnealing": ("T_max",), "OneCycle": ("total_steps",),
                  "CosineRestart": ("periods",)}
PLATEAU_ARGUMENTS = ("monitor", "rule", "factor", "patience", "threshold", "threshold_rule",
                     "cooldown", "min_value", "eps")
WINDOW_ARGUMENTS = ("begin", "end", "last_step", "by_epoch", "verbose")

# config type -> (family, the hyperparameter it fixes, or None for the generic form)
TYPES: dict[str, tuple[str, str | None]] = {}
for _family in [*FAMILIES, "ReduceOnPlateau"]:
    TYPES[f"{_family}ParamScheduler"] = (_family, None)
    TYPES[f"{_family}LR"] = (_family, "lr")
    if _family != "OneCycle":
        TYPES[f"{_family}Momentum"] = (_family, "momentum")


def describe(family: str, bases: Bases, settings: Mapping[str, Any], name: str) -> Track:
    """A family's track in local time, named ``name``, from its arguments."""
    function = FAMILIES[check_choice("family", family, list(FAMILIES))]
    if not isinstance(settings, Mapping):
        raise InvalidType(f"'settings' must be a mapping of the family's arguments (got "
                          f"{settings!r})")
    if not isinstance(name, str):
        raise InvalidType(f"'name' must be the name of a hyperparameter (got {name!r})")
    bases = [_arg("bases", b) for b in check_sequence("bases", bases, "a list of numbers")]
    accepted = inspect.signature(function).parameters
    missing = [n for n, p in list(accepted.items())[1:]
               if p.default is inspect.Parameter.empty and n not in settings]
    if missing:
        raise InvalidValue(f"MMEngine's {family} scheduler needs {missing[0]!r} (got the "
                           f"settings {sorted(map(str, settings))})")
    if name == "lr":  # no lr below 0 (MMEngine writes any momentum it is given)
        for arg in VALUE_ARGUMENTS.get(family, ()):
            value = settings.get(arg)
            for v in value if isinstance(value, (list, tuple)) else [value]:
                if v is not None:
                    check_non_negative(arg, _item(v))
    track = function(bases, **{k: v for k, v in settings.items() if k in accepted})
    return Track(name, track.schedules, track.bases, track.span)


def window(shape: Schedule, begin: float, end: float) -> Schedule:
    """``shape`` (a factor, 1 before) active in ``[begin, end)``: 1 before, its last active
    value after."""
    if not isinstance(shape, Schedule):
        raise InvalidType(f"'shape' must be a Schedule (got {shape!r})")
    begin, end = check_window(begin, end)
    pieces: list[Schedule] = []
    marks: list[float] = []
    if begin > 0:
        pieces.append(Constant(1.0))
        marks.append(begin)
    pieces.append(shape)
    if end < INF:
        pieces.append(Constant(shape(max(end - 1 - begin, 0))))
        marks.append(end)
    return join(pieces, marks) if marks else shape


def factors(track: Track, bases: Sequence[float | None] | None = None) -> list[Schedule | None]:
    """Each group's values as a factor of ``bases`` (default: the track's own), the same object
    where groups share it."""
    bases = track.bases if bases is None else list(bases)
    if track.span == RELATIVE and list(track.bases) == bases:
        return list(track.schedules)
    out: list[Schedule | None] = []
    for value, base in zip(absolute_values(track), bases):
        if value is None or base is None:
            out.append(None)
        else:
            out.append(Scale(value, 1.0 / base) if base else Constant(0.0))
    return out


LR_ONLY = ("OneCycle",)  # the families MMEngine applies to the lr only


def _settings(kind: str, index: int, config: Mapping[str, Any],
              epoch_length: int | None) -> tuple[str, str, dict[str, Any]]:
    """A config's family, hyperparameter and arguments (converted to iterations if asked)."""
    family, fixed = TYPES[kind]
    args = {k: v for k, v in config.items() if k not in ("type", "convert_to_iter_based")}
    name = fixed or args.pop("param_name", None)
    if not isinstance(name, str):
        raise InvalidValue(f"configs[{index}] ({kind}) needs 'param_name' (got {name!r})")
    if family == "ReduceOnPlateau" and not args.get("by_epoch", True):
        raise InvalidValue(f"configs[{index}] ({kind}): 'by_epoch' must be True, as in "
                           f"MMEngine, whose {kind} is stepped once per epoch (got False)")
    if family in LR_ONLY and name != "lr":
        raise InvalidValue(f"configs[{index}] ({kind}): 'param_name' must be 'lr', as in "
                           f"MMEngine, whose {kind} schedules the lr only (got {name!r})")
    allowed = [*WINDOW_ARGUMENTS, *(PLATEAU_ARGUMENTS if family == "ReduceOnPlateau" else
               (p for p in inspect.signature(FAMILIES[family]).parameters if p != "bases"))]
    for key in args:
        if key not in allowed:
            raise InvalidValue(f"unknown key {key!r} for {kind} in configs[{index}]"
                               f"{suggest(key, allowed)} (valid keys: {', '.join(allowed)})")
    if config.get("convert_to_iter_based", False) and args.get("by_epoch", True):
        if epoch_length is None:
            raise InvalidValue(f"configs[{index}] asks for convert_to_iter_based: pass "
                               "'epoch_length'")
        length = check_positive_int("epoch_length", epoch_length)
        for key in TIME_ARGUMENTS.get(family, ()):
            if args.get(key) is not None:
                value = args[key]
                args[key] = ([v * length for v in value] if isinstance(value, (list, tuple))
                             else value * length)
        args["begin"] = int(args.get("begin", 0) * length)
        if args.get("end", INF) != INF:
            args["end"] = int(args["end"] * length)
        args["by_epoch"] = False
    return family, name, args


def build_schedulers(configs: Sequence[Mapping[str, Any]] | Mapping[str, Any],
                     optimizer: torch.optim.Optimizer,
                     epoch_length: int | None = None) -> Scheduler:
    """One :class:`cadence.Scheduler` from MMEngine's scheduler configs, stepped once per
    iteration (or once per epoch when every config is by epoch and no ``epoch_length`` is
    given). Plateau configs are fed with ``report(metric)``.

    It needs no MMEngine: ``cadence.build`` uses it for an MMEngine config list.

    >>> import torch
    >>> from cadence.compat.mmengine_shapes import build_schedulers
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> sched = build_schedulers([
    ...     dict(type="LinearLR", start_factor=0.1, by_epoch=False, begin=0, end=10),
    ...     dict(type="CosineAnnealingLR", T_max=90, by_epoch=False, begin=10, end=100)], opt)
    >>> for _ in range(10):
    ...     opt.step(); sched.step()
    ...
    >>> opt.param_groups[0]["lr"]
    0.1
    >>> sched.value_at([0, 5, 55, 100])["lr"][:, 0].round(6).tolist()
    [0.01, 0.06, 0.05, 3e-05]
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise InvalidType(f"'optimizer' must be a torch.optim.Optimizer (got {optimizer!r})")
    items = ([configs] if isinstance(configs, Mapping) else
             list(check_sequence("configs", configs, "an MMEngine scheduler config (a dict with a "
                                 "'type' key) or a list of them")))
    if not items:
        raise InvalidValue("'configs' must hold at least one MMEngine scheduler config (got [])")
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InvalidType(f"configs[{i}] must be an MMEngine scheduler config, a dict with a "
                              f"'type' key (got {item!r})")
    by_epoch = [c.get("by_epoch", True) for c in items]
    if epoch_length is None and any(by_epoch) and not all(by_epoch):
        raise InvalidValue("'epoch_length' is needed to combine by-epoch and by-iteration "
                           "schedulers")
    length = 1 if epoch_length is None else check_positive_int("epoch_length", epoch_length)
    groups = optimizer.param_groups
    parts: dict[str, list[list[Schedule]]] = {}
    plateau: Plateau | None = None
    for i, raw in enumerate(items):
        kind = raw.get("type")
        if kind not in TYPES:
            names = sorted(TYPES)
            raise InvalidValue(f"unknown scheduler type {kind!r} in configs[{i}]"
                               f"{suggest(str(kind), names)} (known: {', '.join(names)})")
        family, name, args = _settings(kind, i, raw, epoch_length)
        try:
            begin, end = check_window(args.get("begin", 0), args.get("end", INF))
        except InvalidInput as exc:
            raise type(exc)(f"configs[{i}]: {exc}") from None
        if family == "ReduceOnPlateau":
            plateau = _plateau(args, name, len(groups))
            continue
        bases = [as_float(g.get(f"initial_{name}", resolve(name, g, k).read(g)))
                 for k, g in enumerate(groups)]
        track = describe(family, bases, args, name)
        per_epoch = epoch_length is not None and args.get("by_epoch", True)
        for index, factor in enumerate(factors(track, bases)):
            if factor is None:
                continue
            windowed = window(factor, begin, end)
            if per_epoch:  # counted in epochs, held within each
                windowed = Quantize(windowed, every=length)
            parts.setdefault(name, [[] for _ in groups])[index].append(windowed)
    specs: dict[str, Any] = {}
    if plateau is not None:  # a plateau alone scales a constant
        for name in plateau.applies_to:
            parts.setdefault(name, [[] for _ in groups])
    for name, per_group in parts.items():
        made: dict[tuple[int, ...], Schedule] = {}
        routes: dict[Schedule, list[int]] = {}
        for index, pieces in enumerate(per_group):
            key = tuple(id(p) for p in pieces)
            if key not in made:
                made[key] = product(pieces) if pieces else Constant(1.0)
            routes.setdefault(made[key], []).append(index)
        specs[name] = next(iter(routes)) if len(routes) == 1 else {
            tuple(members): schedule for schedule, members in routes.items()}
    return Scheduler(optimizer, count="calls", plateau=plateau, **specs)


def _plateau(args: Mapping[str, Any], name: str, groups: int) -> Plateau:
    rule = check_choice("rule", args.get("rule", "less"), ("less", "greater"))
    minimum = args.get("min_value", 0.0)
    return Plateau(mode="min" if rule == "less" else "max", factor=args.get("factor", 0.1),
                   patience=args.get("patience", 10), threshold=args.get("threshold", 1e-4),
                   threshold_mode=args.get("threshold_rule", "rel"),
                   cooldown=args.get("cooldown", 0),
                   min_value=list(minimum) if isinstance(minimum, (list, tuple))
                   else [float(minimum)] * groups,
                   eps=args.get("eps", 1e-8), applies_to=(name,))


__all__ = ["FAMILIES", "INF", "TYPES", "build_schedulers", "describe", "window"]
