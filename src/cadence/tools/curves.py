"""Anything the tools show, turned into curves: a schedule, a scheduler, a config (dict, list,
file, inline JSON) or a preset name, evaluated over a range of steps; and how many steps to show
it over when nobody says (:func:`horizon`).

Schedulers (``cadence.Scheduler`` and the drop-ins) are read through their read API,
:class:`~cadence.scheduler.reading.ReadableScheduler` (``value_at``, ``schedules``...), so
nothing in their optimizer changes. Configs and presets are previewed on a stand-in optimizer
whose lr, momentum and weight decay are 1: their curves are the factors applied to a group's
own values. Torch is imported only for what needs an optimizer: a scheduler config
(``torch.*``, ``mmengine.*``, ``transformers.*``, ``d2l.*``, ``scheduler``,
``WarmRestartScheduler``, MMEngine's list); a schedule, its config, a file of one and a preset
stay torch-free.

>>> horizon('{"type": "cosine", "steps": 500}'), horizon("cosine"), horizon("constant")
(500, 1000, 1000)
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeGuard

import numpy as np

from cadence.config.io import (
    JSON_SUFFIXES,
    YAML_SUFFIXES,
    from_config,
    naming,
    parse_json,
    read_config,
)
from cadence.schedules import (
    WSD,
    Clip,
    Constant,
    Cosine,
    CosineRestarts,
    CosineWave,
    Cyclic,
    EMAWarmup,
    Exponential,
    Geometric,
    InverseSqrt,
    Join,
    Lambda,
    Linear,
    Mark,
    Multiplicative,
    MultiStep,
    Noam,
    Offset,
    OneCycle,
    OneMinusSqrt,
    Polynomial,
    Product,
    Quantize,
    Repeat,
    Reverse,
    Scale,
    Schedule,
    Shift,
    Step,
    Stretch,
    Sum,
    Warmup,
)
from cadence.tools.presets import PRESETS, preset
from cadence.validation import InvalidType, InvalidValue, shown

if TYPE_CHECKING:
    import torch

    from cadence.scheduler.reading import ReadableScheduler

DEFAULT_STEPS = 1000  # shown for presets (sized to it) and for shapes with no length of their own
MAX_STEPS = 10_000_000  # curves hold every step in memory: about 80 MB an array at the limit
TAIL = 0.25  # past a last drop (or before an open-ended tail), show this share more
# Config types that need an optimizer (hence torch) to be built: drop-ins and schedulers (the
# types of cadence.compat.configs.build that are not schedules; a test checks them).
BOUND_TYPES = ("scheduler", "WarmRestartScheduler", "LRScheduler")
BOUND_FAMILIES = ("torch.", "transformers.", "mmengine.", "d2l.")


@dataclass
class Curve:
    """One hyperparameter of one param group over ``steps``, with its schedule's landmarks.

    ``curves`` makes them; ``plot`` draws them and ``describe`` summarises them.

    >>> from cadence.tools import curves
    >>> from cadence.schedules import Cosine, Warmup
    >>> [curve] = curves(Warmup(Cosine(steps=90), steps=10), 101)
    >>> curve.hyperparameter, curve.group, curve.values[[0, 10, 100]].round(6).tolist()
    ('lr', None, [0.0, 1.0, 0.0])
    >>> curve.marks
    [Mark(step=10.0, kind='phase'), Mark(step=100.0, kind='phase')]
    """

    label: str
    hyperparameter: str
    group: int | None
    steps: np.ndarray
    values: np.ndarray
    marks: list[Mark] = field(default_factory=list)
    place: str | None = None  # a target's place (a module's attribute), when it has several
    end: float | None = None  # where its own shape ends (:func:`own_end`); None if it goes on
    clock: Any = None  # a Scheduler's Clock: what ``steps`` count (None: optimizer steps)


def stand_in_optimizer(value: float = 1.0) -> torch.optim.Optimizer:
    """One param group whose lr, momentum, weight decay, betas and eps are ``value`` (1: so
    values are factors), so that a preview draws the hyperparameters of SGD and of the Adam
    family (``beta1``, ``beta2``, ``eps``) alike."""
    import torch

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=value, momentum=value,
                                weight_decay=value)
    optimizer.param_groups[0].update(betas=(value, value), eps=value)
    return optimizer


def _stand_in_mistake(exc: Any, config: Any) -> Exception:
    """A name the config schedules that no optimizer hyperparameter a preview knows has,
    said without calling the stand-in optimizer the user's param group."""
    from cadence.compat.configs import declared_targets, target_hint

    group = stand_in_optimizer().param_groups[0]
    known = ", ".join(k for k, v in group.items() if k in exc.keys and isinstance(v, (float, tuple))
                      and not k.startswith("initial_"))
    text = (f"{exc.name!r} is not an optimizer hyperparameter (a preview knows {known}, and "
            "beta1 and beta2 for the betas)")
    if isinstance(config, Mapping) and config.get("type") == "scheduler":
        text += (f": {target_hint(exc.name, declared_targets(config))}; cadence.build(config, "
                 f"optimizer, targets={{{exc.name!r}: cadence.Attribute(obj, {exc.name!r})}})"
                 " then takes where it lives")
    return exc.reworded(text)


def build_on_stand_in(config: Any, optimizer: Any = None, value: float = 1.0) -> Any:
    """``config`` built on a stand-in optimizer (:func:`stand_in_optimizer` by default) and
    stand-in targets holding ``value``. Its bases are stand-ins, so the advice an lr schedule
    gets at construction (:class:`~cadence.scheduler.advice.LooksLikeRates`) is not given
    here: ``describe`` gives it, in its own words."""
    from cadence.compat.configs import build
    from cadence.scheduler.advice import LooksLikeRates
    from cadence.scheduler.slots import NotAHyperparameter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LooksLikeRates)
        try:
            return build(config, stand_in_optimizer(value) if optimizer is None else optimizer,
                         targets=stand_in_targets(config, value))
        except NotAHyperparameter as exc:
            raise _stand_in_mistake(exc, config) from None


def stand_in_targets(config: Any, value: float = 1.0) -> dict[str, Any] | None:
    """A place holding ``value`` for each target a ``scheduler`` config declares (None when
    it declares none), so that a preview shows the targets' curves: factors of a base of 1,
    or their absolute values."""
    if not (isinstance(config, Mapping) and config.get("type") == "scheduler"):
        return None
    names = config.get("targets")
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        return None  # build names what is wrong
    from cadence.scheduler.targets import Item

    return {name: Item({"value": value}, "value") for name in names}


def parse(spec: Any) -> Any:
    """What a spec names, before anything is built: a Schedule or Scheduler as is, a preset
    name (a str), or config data (a dict or an MMEngine list) from a file or inline JSON."""
    if isinstance(spec, Path):
        return read_config(spec)
    if not isinstance(spec, str):
        return spec
    text = spec.strip()
    if text.startswith(("{", "[")):
        return parse_json(text, "inline JSON")
    if Path(text).suffix.lower() in JSON_SUFFIXES + YAML_SUFFIXES:
        return read_config(text)
    return text


def is_scheduler(value: object) -> TypeGuard[ReadableScheduler]:
    """A cadence Scheduler or drop-in: it has the read API,
    :class:`~cadence.scheduler.reading.ReadableScheduler`. What a spec parses to (a schedule,
    a name, config data) is not one, and is told without importing torch."""
    if isinstance(value, (Schedule, str, Path, Mapping, list)):
        return False
    from cadence.scheduler.reading import ReadableScheduler

    return isinstance(value, ReadableScheduler)


def needs_optimizer(config: Any) -> bool:
    """Whether config data describes a scheduler (built on an optimizer, so with torch) rather
    than a schedule: MMEngine's list, or a dict whose ``type`` is a drop-in or a scheduler."""
    if isinstance(config, list):
        return True
    kind = config.get("type") if isinstance(config, Mapping) else None
    return isinstance(kind, str) and (kind in BOUND_TYPES or kind.startswith(BOUND_FAMILIES))


def _source_name(spec: Any) -> str | None:
    """The quoted path of a spec that is a config file, to name it in errors."""
    if isinstance(spec, Path):
        return repr(str(spec))
    if isinstance(spec, str) and Path(spec.strip()).suffix.lower() in JSON_SUFFIXES + \
            YAML_SUFFIXES and not spec.strip().startswith(("{", "[")):
        return repr(spec.strip())
    return None


def load(spec: Any, steps: int = DEFAULT_STEPS) -> Schedule | ReadableScheduler:
    """A schedule or scheduler from a spec: a Schedule or Scheduler as is; a preset name (sized
    to ``steps``); a JSON or YAML file; inline JSON; or a config dict / MMEngine list. A
    mistake in a file's config names the file.

    >>> from cadence.tools import load
    >>> load("cosine", steps=500)
    Cosine(start=1.0, end=0.0, steps=500)
    >>> load('{"type": "linear", "start": 1.0, "end": 0.0, "steps": 100}')
    Linear(start=1.0, end=0.0, steps=100)
    """
    return _load(parse(spec), spec, steps)


def _load(value: Any, spec: Any, steps: int) -> Schedule | ReadableScheduler:
    """:func:`load` of ``value``, what ``spec`` parsed to."""
    if isinstance(value, Schedule) or is_scheduler(value):
        return value
    if isinstance(value, str):
        return preset(value, steps)  # an unknown name is refused there, with the nearest
    source = _source_name(spec)
    with naming(source) if source else nullcontext():
        return _build(value, spec)


def _build(value: Any, spec: Any) -> Schedule | ReadableScheduler:
    if isinstance(value, list):
        _check_config_list(value)
    if isinstance(value, Mapping) and not needs_optimizer(value):
        return from_config(value)  # a schedule: unknown types are refused with the nearest
    if isinstance(value, (Mapping, list)):
        return build_on_stand_in(value)  # a scheduler: it has the read API
    raise InvalidType(f"cannot show {spec!r}: give a schedule, a scheduler, a config, a file or "
                      "a preset name")


def _check_config_list(value: list[Any]) -> None:
    """A list of configs is MMEngine's ``param_scheduler``: one or more dicts."""
    if not value:
        raise InvalidValue("a list of configs (MMEngine's param_scheduler) must hold at least "
                           "one config (got [])")
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise InvalidType("a list of configs (MMEngine's param_scheduler) must hold "
                              f"mappings with a 'type' key (got {item!r} at index {index})")


def check_steps_shown(steps: int, what: str = "'steps'") -> int:
    """``steps`` if at most ``MAX_STEPS`` (every one is held in memory), else an InvalidValue
    that names ``what`` and the limit."""
    if steps > MAX_STEPS:
        raise InvalidValue(f"{what} must be at most {MAX_STEPS:,} steps to show (got "
                           f"{_count(steps)}): pass fewer steps")
    return steps


def _count(steps: int) -> str:
    """A count of steps for a message: ``12,345,678``, or ``1.798e+308`` past 15 digits."""
    if steps < 10**15:
        return f"{steps:,}"
    try:
        return f"{float(steps):.4g}"
    except OverflowError:  # an int past the floats
        return shown(steps)


def curves(spec: Any, steps: Any, label: str | None = None) -> list[Curve]:
    """The curves of ``spec`` (see :func:`load`) at ``steps`` (an int N means 0 .. N-1, at most
    ``MAX_STEPS``).

    >>> import torch
    >>> import cadence
    >>> from cadence.schedules import Cosine, Linear
    >>> from cadence.tools import curves
    >>> [curve] = curves("warmup-cosine", 1000)
    >>> curve.label, len(curve.steps), round(float(curve.values.max()), 6)
    ('warmup-cosine', 1000, 1.0)
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = cadence.Scheduler(opt, lr=Cosine(steps=100),
    ...                           momentum=Linear(start=1.0, end=0.9, steps=100))
    >>> [(c.hyperparameter, c.group, round(float(c.values[-1]), 6)) for c in curves(sched, 101)]
    [('lr', 0, 0.0), ('momentum', 0, 0.81)]
    """
    if isinstance(steps, (int, np.integer)) and not isinstance(steps, bool):
        grid = np.arange(check_steps_shown(int(steps)))
    else:
        grid = np.asarray(steps)
    end = float(grid.max()) if grid.size else 0.0
    source = load(spec, int(end) + 1)
    name = label or _label(spec, source)
    if isinstance(source, Schedule):
        return [Curve(name, "lr", None, grid, source(grid), source.marks(end),
                      end=own_end(source))]
    if not source.hyperparameters and not source.targets:
        raise InvalidValue(f"{type(source).__name__} has no closed form to preview (a get_lr "
                           "override runs its own code)")
    values = source.value_at(grid)
    clock = getattr(source, "clock", None)  # a native Scheduler's (samples, tokens...)
    out = []
    for hyperparameter in source.hyperparameters:
        table = values[hyperparameter]
        schedules = source.schedules(hyperparameter)
        groups = table.shape[1]
        for g, schedule in enumerate(schedules[:groups]):
            if schedule is None:
                continue
            text = name if groups == 1 else f"{name} (group {g})"
            out.append(Curve(text, hyperparameter, g, grid, table[:, g], schedule.marks(end),
                             end=own_end(schedule), clock=clock))
    for target in source.targets:  # values outside the optimizer
        out += _target_curves(source, target, values[target], name, grid, end)
    return out


def unit_of(found: list[Curve]) -> str:
    """What the curves' steps count: ``"step"``, or their clock's unit (``"samples"``...).

    >>> unit_of([])
    'step'
    """
    units = {c.clock.unit for c in found if c.clock is not None and c.clock.unit in
             ("samples", "tokens")}
    return units.pop() if len(units) == 1 else "step"


def _target_curves(source: ReadableScheduler, target: str, table: np.ndarray, name: str,
                   grid: np.ndarray, end: float) -> list[Curve]:
    """A target's curves: one when its places all take the same values (every dropout of a
    model at the same base), else one per place."""
    schedule = source.schedules(target)[0]
    assert schedule is not None  # every place of a target follows its schedule
    marks, ends = schedule.marks(end), own_end(schedule)
    if all(np.array_equal(table[:, 0], table[:, i]) for i in range(1, table.shape[1])):
        return [Curve(name, target, None, grid, table[:, 0], marks, end=ends)]
    places = source.places(target)
    return [Curve(f"{name} ({place})", target, i, grid, table[:, i], marks, place, ends)
            for i, place in enumerate(places)]


def _label(spec: Any, source: Schedule | ReadableScheduler) -> str:
    if isinstance(spec, str) and (spec in PRESETS or not spec.strip().startswith(("{", "["))):
        return Path(spec).stem if Path(spec).suffix else spec
    if isinstance(spec, Path):
        return spec.stem
    return str(getattr(source, "type_name", None) or type(source).__name__)


# -- horizons -------------------------------------------------------------------------------------
class Extent(NamedTuple):
    """How far a schedule's shape reaches: its last landmark ``end`` (in steps) and what comes
    after it: ``"ends"`` (it has played out, e.g. a cosine's end), ``"holds"`` (it holds the
    value it dropped or stepped to, e.g. after a step decay's last milestone) or
    ``"goes on"`` (it keeps changing with no end of its own, e.g. exponential decay)."""

    end: float
    after: str


ENDS, HOLDS, GOES_ON = "ends", "holds", "goes on"
_OPEN = Extent(0.0, GOES_ON)


def horizon(spec: Any) -> int:
    """How many steps to show ``spec`` (anything :func:`load` takes) over when nobody says.

    A preset: the ``DEFAULT_STEPS`` (1000) it is sized to. A schedule (or a scheduler's
    schedules) by its :func:`extent`: to the end of a shape that ends (``Cosine(steps=500)``:
    500; ``Warmup(Cosine(steps=900), steps=100)``: 1000; a join: its last boundary plus its last
    piece's length; ``OneCycle``: ``total_steps``); a bit (``TAIL``) past a last drop after which
    it holds (``MultiStep``: past the last milestone); and at least ``DEFAULT_STEPS`` for one
    that goes on (``Exponential``, ``Constant``: 1000).

    A scheduler (or a ``scheduler`` config) is shown over its run, which its optimizer
    hyperparameters (lr, momentum, weight decay) size: their extent when they reach an end or
    a last landmark. Its targets (a KL weight that cycles for ever, an EMA decay that nears
    its cap only after 10,000 steps) then do not stretch the view past the run; they size it
    only when the hyperparameters do not (a constant lr, or one that goes on).

    >>> from cadence.schedules import Cosine, Exponential, MultiStep, Warmup
    >>> horizon(Warmup(Cosine(steps=900), steps=100)), horizon(MultiStep(milestones=[40, 80]))
    (1000, 100)
    >>> horizon(Exponential(rate=0.99))
    1000
    """
    value = parse(spec)
    if isinstance(value, str):
        return DEFAULT_STEPS
    source = _load(value, spec, DEFAULT_STEPS)
    if isinstance(source, Schedule):
        return steps_for(extent(source))
    run = [extent(s) for name in source.hyperparameters for s in source.schedules(name)
           if s is not None]
    if run and (reach := _together(run)).after != GOES_ON and reach.end > 0:
        return steps_for(reach)
    names = (*source.hyperparameters, *source.targets)
    extents = [extent(s) for name in names for s in source.schedules(name) if s is not None]
    return steps_for(_together(extents)) if extents else DEFAULT_STEPS


def own_end(schedule: Schedule) -> float | None:
    """Where ``schedule``'s own shape ends (:func:`extent`): the step after which it holds its
    value, or None for a shape that goes on (or holds from the start, as a constant does).

    >>> from cadence.schedules import Cosine, Exponential, Warmup
    >>> own_end(Warmup(Cosine(steps=900), steps=100)), own_end(Exponential(rate=0.9))
    (1000.0, None)
    """
    reach = extent(schedule)
    return reach.end if reach.after != GOES_ON and reach.end > 0 else None


def steps_for(reach: Extent) -> int:
    """The steps to show for an extent (see :func:`horizon`)."""
    if reach.after == ENDS and reach.end > 0:
        return max(1, _whole(reach.end))
    if reach.after == HOLDS and reach.end > 0:
        return max(2, _whole(reach.end * (1 + TAIL)))
    return max(DEFAULT_STEPS, _whole(reach.end * (1 + TAIL)))


def _whole(steps: float) -> int:
    """``math.ceil(steps)``; a length past the largest float (it overflowed to inf) counts as
    the largest float, far more than any view shows (:func:`check_steps_shown` says so)."""
    return math.ceil(steps if steps <= sys.float_info.max else sys.float_info.max)


def extent(schedule: Schedule) -> Extent:
    """How far ``schedule``'s shape reaches (see :class:`Extent`), from its public fields.

    A schedule type cadence does not know (a user's) reaches its ``total_steps`` or ``steps``
    field if it has a numeric one, and otherwise goes on.
    """
    reach = _EXTENTS.get(type(schedule))
    if reach is not None:
        return reach(schedule)
    for name in ("total_steps", "steps"):
        value = getattr(schedule, name, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 \
                and math.isfinite(value):
            return Extent(float(value), ENDS)
    return _OPEN


def _together(extents: list[Extent]) -> Extent:
    """Schedules at the same time (a product, a scheduler's groups): as far as the farthest;
    it goes on if any goes on."""
    end = max(e.end for e in extents)
    if any(e.after == GOES_ON for e in extents):
        return Extent(end, GOES_ON)
    last = [e.after for e in extents if e.end == end]
    return Extent(end, HOLDS if HOLDS in last else last[0])


def _after(start: float, reach: Extent) -> Extent:
    """``reach`` of a piece that starts at ``start``."""
    return Extent(start + reach.end, reach.after)


def _join(s: Join) -> Extent:
    return _after(float(s.boundaries[-1]) if s.boundaries else 0.0, extent(s.schedules[-1]))


def _warmup(s: Warmup) -> Extent:
    if s.mode == "overlay":
        return _together([Extent(float(s.steps), ENDS), extent(s.schedule)])
    return _after(float(s.steps), extent(s.schedule))


def _restarts(s: CosineRestarts) -> Extent:
    if s.cycles is None:
        return Extent(float(s.period), GOES_ON)
    if s.period_mult == 1.0:
        return Extent(float(s.period) * s.cycles, ENDS)
    return Extent(float(s.period) * (s.period_mult**s.cycles - 1) / (s.period_mult - 1), ENDS)


def _offset(s: Offset) -> Extent:
    inner = extent(s.schedule)
    end = max(0.0, inner.end - float(s.steps))
    return Extent(end, inner.after if end > 0 or inner.after == GOES_ON else HOLDS)


def _quantize(s: Quantize) -> Extent:
    inner = extent(s.schedule)
    return Extent(inner.end, HOLDS if inner.after == ENDS else inner.after)


def _multistep(s: MultiStep) -> Extent:
    return Extent(float(max(s.milestones, default=0.0)), HOLDS)


def _wsd(s: WSD) -> Extent:
    return Extent(float(s.lengths()[3]), ENDS)


_EXTENTS: dict[type, Callable[[Any], Extent]] = {
    **{kind: lambda s: Extent(float(s.steps), ENDS)
       for kind in (Linear, Cosine, Polynomial, OneMinusSqrt, Geometric)},
    CosineWave: lambda s: Extent(float(s.steps), GOES_ON),
    EMAWarmup: lambda s: Extent(s.reaches(), HOLDS),
    Constant: lambda s: Extent(0.0, HOLDS),
    MultiStep: _multistep,
    Step: lambda s: Extent(float(s.every), GOES_ON),
    Noam: lambda s: Extent(float(s.warmup_steps), GOES_ON),
    Cyclic: lambda s: Extent(float(s.up_steps) + float(s.down_steps or s.up_steps), GOES_ON),
    OneCycle: lambda s: Extent(float(s.total_steps), ENDS),
    WSD: _wsd,
    CosineRestarts: _restarts,
    Warmup: _warmup,
    Join: _join,
    Product: lambda s: _together([extent(p) for p in s.schedules]),
    Sum: lambda s: _together([extent(p) for p in s.schedules]),
    Scale: lambda s: extent(s.schedule),
    Shift: lambda s: extent(s.schedule),
    Clip: lambda s: extent(s.schedule),
    Quantize: _quantize,
    Stretch: lambda s: Extent(extent(s.schedule).end * s.factor, extent(s.schedule).after),
    Reverse: lambda s: Extent(float(s.steps), ENDS),
    Offset: _offset,
    Repeat: lambda s: Extent(float(s.period), GOES_ON),
    **{kind: lambda s: _OPEN for kind in (Exponential, InverseSqrt, Lambda, Multiplicative)},
}
