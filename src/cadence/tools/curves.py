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

from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from cadence.config.io import (
    JSON_SUFFIXES,
    YAML_SUFFIXES,
    from_config,
    naming,
    parse_json,
    read_config,
)
from cadence.schedules import Mark, Schedule
from cadence.schedules.branch import Branched
from cadence.schedules.extents import DEFAULT_STEPS as DEFAULT_STEPS
from cadence.schedules.extents import ENDS as ENDS
from cadence.schedules.extents import GOES_ON, extent, own_end, steps_for, together
from cadence.schedules.extents import HOLDS as HOLDS
from cadence.schedules.extents import TAIL as TAIL
from cadence.schedules.extents import Extent as Extent
from cadence.tools.presets import PRESETS, preset
from cadence.tools.stand_in import build_on_stand_in
from cadence.tools.stand_in import stand_in_optimizer as stand_in_optimizer
from cadence.tools.stand_in import stand_in_targets as stand_in_targets
from cadence.validation import InvalidType, InvalidValue, shown

if TYPE_CHECKING:
    from cadence.scheduler.reading import ReadableScheduler

MAX_STEPS = 10_000_000  # curves hold every step in memory: about 80 MB an array at the limit
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
    original: np.ndarray | None = None  # a re-timed schedule's values as first planned


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
        values = source(grid)
        return [Curve(name, "lr", None, grid, values, source.marks(end), end=own_end(source),
                      original=as_planned(source, grid, values))]
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
                             end=own_end(schedule), clock=clock,
                             original=as_planned(schedule, grid, table[:, g])))
    for target in source.targets:  # values outside the optimizer
        out += _target_curves(source, target, values[target], name, grid, end)
    return out


def as_planned(schedule: Schedule, grid: np.ndarray, values: np.ndarray) -> np.ndarray | None:
    """The values a re-timed ``schedule`` (:mod:`cadence.schedules.branch`) had as first
    planned, where ``values`` are its values over ``grid`` (a group's, through its base and
    span: the same affine map is put on the original); None for a schedule never re-timed.

    >>> from cadence.schedules import Cooldown, Constant
    >>> grid = np.arange(6)
    >>> as_planned(Cooldown(Constant(1.0), at=2, steps=2), grid, 0.1 * np.ones(6)).tolist()
    [0.1, 0.1, 0.1, 0.1, 0.1, 0.1]
    """
    if not isinstance(schedule, Branched):
        return None
    with np.errstate(all="ignore"):
        mine, first = schedule(grid), schedule.original(grid)
        if np.array_equal(mine, values):
            return first
        apart = np.flatnonzero(np.abs(mine - mine[0]) > 0)
        if apart.size:  # values = low + span * mine: two points with different factors
            j = int(apart[0])
            span = (values[j] - values[0]) / (mine[j] - mine[0])
        else:
            span = values[0] / mine[0] if mine.size and mine[0] else 1.0
        low = values[0] - span * mine[0] if mine.size else 0.0
        return np.asarray(low + span * first, dtype=np.float64)


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
    if run and (reach := together(run)).after != GOES_ON and reach.end > 0:
        return steps_for(reach)
    names = (*source.hyperparameters, *source.targets)
    extents = [extent(s) for name in names for s in source.schedules(name) if s is not None]
    return steps_for(together(extents)) if extents else DEFAULT_STEPS
