"""MMEngine's parameter schedulers as pure descriptions, and its list-of-configs composition.

Each family (``Step``, ``MultiStep``, ``Constant``, ``Exponential``, ``CosineAnnealing``,
``Linear``, ``Poly``, ``OneCycle``, ``CosineRestart``) is a function of MMEngine's arguments
(same names) and the groups' bases that returns the scheduler's values in its own local time
(0 at ``begin``), as one :class:`~cadence.scheduler.track.Track`, in
:mod:`cadence.compat.mmengine_families`; :func:`describe` names one and checks its arguments.
The drop-ins in :mod:`cadence.compat.mmengine` call them with their attributes;
:func:`build_schedulers` calls them with config dicts, without MMEngine installed.

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
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from cadence.compat.mmengine_families import FAMILIES, INF, Bases, argument, as_number, check_window

# each family, named here too (it was defined here before it had a module of its own)
from cadence.compat.mmengine_families import constant as constant
from cadence.compat.mmengine_families import cosine_annealing_family as cosine_annealing_family
from cadence.compat.mmengine_families import cosine_restart as cosine_restart
from cadence.compat.mmengine_families import exponential as exponential
from cadence.compat.mmengine_families import linear as linear
from cadence.compat.mmengine_families import multi_step as multi_step
from cadence.compat.mmengine_families import one_cycle as one_cycle
from cadence.compat.mmengine_families import poly as poly
from cadence.compat.mmengine_families import step as step
from cadence.compat.torch_shapes import absolute_values
from cadence.config.registry import suggest
from cadence.scheduler.plateau import ReduceOnPlateau as Plateau
from cadence.scheduler.scheduler import Scheduler
from cadence.scheduler.slots import as_float, resolve
from cadence.scheduler.track import RELATIVE, Track
from cadence.schedules import Constant, Quantize, Scale, Schedule, join, product
from cadence.validation import (
    InvalidInput,
    InvalidType,
    InvalidValue,
    check_choice,
    check_non_negative,
    check_positive_int,
    check_sequence,
)

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
    bases = [argument("bases", b) for b in check_sequence("bases", bases, "a list of numbers")]
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
                    check_non_negative(arg, as_number(v))
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
