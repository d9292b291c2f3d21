"""The public surface that the property suites feed bad input to, found by walking the package.

Every class and function named in the ``__all__`` of a public module of ``cadence`` (found with
``pkgutil``; names with a leading underscore and the command line, ``cadence.cli``, left out) is
looked at. It is a *constructor* when it builds something that produces values:

- a class that is a schedule, a scheduler (PyTorch's or MMEngine's), a plateau controller or a
  track, or that is called, stepped or saved (``__call__``, ``step``, ``state_dict``) like one;
- a function whose return annotation is one of those (or ``Any``: the config builders).

Result records (``Curve``, ``Description``, ...), exceptions, the tools that only show or read
(``plot``, ``describe``, ``read_config``, ...) and upstream's own classes re-exported as they are
(``torch.optim.SGD``) are not.

A valid baseline call for each constructor comes from generic rules (the parameter's default, or
its annotation: an optimizer, a schedule, a callable, an int, a float, a list of them, a bool).
Where the rules cannot give one, :data:`EXAMPLES` must: a constructor with neither fails a test
that names it, so a new class cannot slip past the suites.
"""

from __future__ import annotations

import atexit
import importlib
import inspect
import json
import math
import numbers
import pkgutil
import re
import shutil
import tempfile
import types
import typing
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import numpy as np
import torch
from torch.optim.lr_scheduler import LRScheduler as TorchLRScheduler
from torch.optim.lr_scheduler import ReduceLROnPlateau as TorchPlateau

import cadence
from cadence.compat.mmengine_base import mm  # MMEngine's schedulers, imported without its warning
from cadence.scheduler.advice import LooksLikeRates
from cadence.scheduler.plateau import ReduceOnPlateau
from cadence.scheduler.track import Track
from cadence.schedules import Constant, Schedule
from cadence.tools.forecast import Forecast
from cadence.validation import InvalidInput, is_real

MMParamScheduler = mm.param_scheduler._ParamScheduler
MMPlateau = mm.ReduceOnPlateauParamScheduler
SKIPPED_PACKAGES = ("cadence.cli",)  # the command line: its own suite checks its errors
# What a constructor builds; a class of these kinds (or a function returning one) is one.
BUILT_KINDS: tuple[type, ...] = (Schedule, TorchLRScheduler, TorchPlateau, MMParamScheduler,
                                 ReduceOnPlateau, Track)
BUILDER_METHODS = ("__call__", "step", "state_dict")


# -- the values the generic rules use --------------------------------------------------------
def make_optimizer() -> torch.optim.Optimizer:
    """A fresh SGD with momentum and two param groups of different lrs."""
    a, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))
    return torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1,
                           momentum=0.9, weight_decay=1e-4)


def halving(step: Any) -> Any:
    """A module-level function of the step (a valid ``lr_lambda``, ``fn``, ``scale_fn``):
    halves every 10 steps, on one step or an array."""
    return 0.5 ** np.floor(np.asarray(step, dtype=np.float64) / 10.0)


# -- the explicit examples -------------------------------------------------------------------
@dataclass(frozen=True)
class NotAConstructor:
    """An entry of :data:`EXAMPLES` for something the rules take for a constructor but that
    builds nothing the suites can check."""

    reason: str


_CONFIG_DIR = Path(tempfile.mkdtemp(prefix="cadence-properties-"))
atexit.register(shutil.rmtree, _CONFIG_DIR, ignore_errors=True)
_CONFIG_FILE = _CONFIG_DIR / "cosine.json"
_CONFIG_FILE.write_text(json.dumps({"type": "cosine", "steps": 10}), encoding="utf-8")


def _sequential(opt: torch.optim.Optimizer) -> dict[str, Any]:
    from cadence.compat.lr_scheduler import ExponentialLR, StepLR

    return {"schedulers": [StepLR(opt, step_size=2), ExponentialLR(opt, gamma=0.9)],
            "milestones": [3]}


def _chained(opt: torch.optim.Optimizer) -> dict[str, Any]:
    from cadence.compat.lr_scheduler import ExponentialLR, StepLR

    return {"schedulers": [StepLR(opt, step_size=2), ExponentialLR(opt, gamma=0.9)],
            "optimizer": opt}


_AREA_FORECAST = Forecast("area", {"L0": 2.0, "A": 1.0, "alpha": 0.5}, 1.0, {}, (0.0, 0.0), 50,
                          1.0)  # a fitted law, as fit() returns one


# Arguments the generic rules cannot give, keyed by where the callable is defined. A value is a
# dict of arguments (merged over the rules' ones) or a function of the optimizer returning one.
# Keep it small: an entry the rules make redundant fails test_examples_are_needed.
EXAMPLES: dict[str, Any] = {
    "cadence.scheduler.scheduler.Scheduler": {"lr": Constant(0.5)},
    "cadence.scheduler.plateau_scheduler.PlateauScheduler": {
        "lr": Constant(0.5), "plateau": ReduceOnPlateau(patience=0)},
    "cadence.compat._combined.SequentialLR": _sequential,
    "cadence.compat._combined.ChainedScheduler": _chained,
    "cadence.compat._lr_scheduler.OneCycleLR": {"total_steps": 10},
    "cadence.compat.mmengine.CosineRestartLR": {"eta_min": 0.0},
    "cadence.compat.mmengine.CosineRestartMomentum": {"eta_min": 0.0},
    "cadence.compat.mmengine_base.CosineRestartParamScheduler": {"eta_min": 0.0},
    "cadence.compat.mmengine_base.ParamScheduler": NotAConstructor(
        "the abstract base of the MMEngine drop-ins (it refuses to be built)"),
    "cadence.compat.mmengine_shapes.build_schedulers": {
        "configs": [{"type": "StepLR", "step_size": 2}]},
    "cadence.compat.mmengine_shapes.describe": {
        "family": "Step", "bases": [0.1, 0.05], "settings": {"step_size": 2}, "name": "lr"},
    "cadence.compat.mmengine_shapes.window": {"begin": 2, "end": 8},
    "cadence.compat.transformers.get_scheduler": {
        "name": "cosine", "num_warmup_steps": 2, "num_training_steps": 10},
    "cadence.compat.transformers.get_cosine_with_min_lr_schedule_with_warmup": {"min_lr": 0.01},
    "cadence.compat.transformers.get_cosine_with_min_lr_schedule_with_warmup_lr_rate": {
        "min_lr_rate": 0.1},
    "cadence.compat.transformers.get_polynomial_decay_schedule_with_warmup": {
        "num_warmup_steps": 2},
    "cadence.compat.transformers.get_wsd_schedule": {"num_training_steps": 30},
    "cadence.compat.configs.build": {"config": {"type": "cosine", "steps": 10}},
    "cadence.config.io.from_config": {"data": {"type": "cosine", "steps": 10}},
    "cadence.config.io.load_config": {"path": str(_CONFIG_FILE)},
    "cadence.config.io.read_config": NotAConstructor(
        "reads a file's raw data (load_config, which calls it, builds the schedule)"),
    "cadence.integrations.sb3.ProgressSchedule": NotAConstructor(
        "a function of SB3's progress_remaining (<= 1), not of a step, so the steps 10 and 10**6 "
        "that check_result calls it with are out of its domain; tests/integrations/test_sb3.py "
        "feeds its arguments the wrong values"),
    "cadence.scheduler.ema.EMAUpdate": NotAConstructor(
        "AveragedModel's averaging function, of tensors rather than of a step; "
        "tests/scheduler/test_ema.py feeds its decay the wrong values"),
    "cadence.scheduler.track.Track": {"name": "lr", "schedules": [Constant(1.0)] * 2,
                                      "bases": [0.1, 0.05]},
    "cadence.schedules.anneal.Geometric": {"end": 0.1},  # its default end, 0.0, is never valid
    "cadence.schedules.branch.Extend": {"total": 10, "new_total": 20},
    "cadence.schedules.wsd.WSD": {"warmup_steps": 2, "decay_steps": 4, "total_steps": 10},
    "cadence.tools.curves.load": {"spec": "cosine"},
    "cadence.tools.forecast_search.best_schedule": {"model": _AREA_FORECAST, "pieces": 2},
    "cadence.tools.presets.preset": {"name": "cosine"},
}


# -- discovery -------------------------------------------------------------------------------
def key(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def public_modules() -> list[str]:
    names = ["cadence"]
    for info in pkgutil.walk_packages(cadence.__path__, "cadence."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or info.name.startswith(SKIPPED_PACKAGES):
            continue
        names.append(info.name)
    return names


def _returns(func: Callable[..., Any]) -> list[Any]:
    """What the return annotation names, evaluated in the function's module (``Any`` for none
    or for one that does not evaluate)."""
    annotation = inspect.signature(func).return_annotation
    if annotation is inspect.Signature.empty:
        return [Any]
    if isinstance(annotation, str):
        namespace = vars(importlib.import_module(func.__module__))
        try:
            annotation = eval(annotation, dict(namespace))
        except Exception:
            return [Any]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return list(typing.get_args(annotation))
    return [annotation]


def is_constructor(obj: Any) -> bool:
    if inspect.isclass(obj):
        if issubclass(obj, BaseException) or obj is Schedule:
            return False
        if issubclass(obj, BUILT_KINDS):
            return True
        return any(inspect.isfunction(vars(klass).get(m)) for klass in obj.__mro__[:-1]
                   for m in BUILDER_METHODS)
    return any(r is Any or (inspect.isclass(r) and issubclass(r, BUILT_KINDS))
               for r in _returns(obj))


@dataclass(frozen=True)
class Entry:
    key: str
    obj: Any
    names: tuple[str, ...]  # every public name it has

    @property
    def id(self) -> str:
        return self.names[0]


def discover() -> tuple[list[Entry], list[Entry]]:
    """(constructors, everything else public), each once, by where it is defined."""
    found: dict[str, tuple[Any, list[str]]] = {}
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not obj.__module__.startswith("cadence"):  # upstream's own, re-exported
                continue
            found.setdefault(key(obj), (obj, []))[1].append(f"{module_name}.{name}")
    constructors, others = [], []
    for k, (obj, names) in sorted(found.items()):
        entry = Entry(k, obj, tuple(sorted(names, key=lambda n: (n.count("."), n))))
        if isinstance(EXAMPLES.get(k), NotAConstructor) or not is_constructor(obj):
            others.append(entry)
        else:
            constructors.append(entry)
    return constructors, others


CONSTRUCTORS, OTHERS = discover()
BY_KEY = {e.key: e for e in CONSTRUCTORS}


# -- baselines -------------------------------------------------------------------------------
def parameters(obj: Any) -> list[inspect.Parameter]:
    """The parameters a caller passes (``self`` and ``*args``/``**kwargs`` left out)."""
    target = obj.__init__ if inspect.isclass(obj) else obj
    params = list(inspect.signature(target).parameters.values())
    if inspect.isclass(obj):
        params = params[1:]
    return [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


class NoRule(Exception):
    """The generic rules have no value for a parameter."""


_SEQUENCE = re.compile(r"^(list|tuple|Sequence|Iterable|Collection)\[")


def rule_value(param: inspect.Parameter, optimizer: torch.optim.Optimizer) -> Any:
    """The generic rules: the default, or a value from the annotation (or the name)."""
    ann = param.annotation if isinstance(param.annotation, str) else str(param.annotation)
    if param.name == "optimizer" or "Optimizer" in ann:
        return optimizer
    if param.default is not inspect.Parameter.empty:
        return param.default
    if param.name == "param_name":  # MMEngine's ParamSchedulers: the hyperparameter
        return "lr"
    bare = re.sub(r"\s*\|\s*None\b", "", ann).strip()
    if re.search(r"\bSchedule\b", bare):
        return (Constant(1.0), Constant(0.5)) if _SEQUENCE.match(bare) else Constant(1.0)
    if "Callable" in bare:
        return halving
    if _SEQUENCE.match(bare):
        if "int" in bare:
            return [5]
        if "float" in bare:
            return [0.5]
    elif re.search(r"\bint\b", bare):
        return 10
    elif re.search(r"\bfloat\b", bare):
        return 0.5
    elif bare == "bool":
        return False
    raise NoRule(f"no rule gives {param.name!r} (annotation {ann!r})")


def generic_arguments(entry: Entry, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    return {p.name: rule_value(p, optimizer) for p in parameters(entry.obj)}


def baseline(entry: Entry, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """A valid call's arguments: the rules, with :data:`EXAMPLES` over them."""
    example = EXAMPLES.get(entry.key, {})
    if callable(example):
        example = example(optimizer)
    out = {}
    for p in parameters(entry.obj):
        if p.name in example:
            out[p.name] = example[p.name]
        else:
            out[p.name] = rule_value(p, optimizer)
    return out


def call(entry: Entry, arguments: Mapping[str, Any]) -> Any:
    """``entry`` called with ``arguments``; the advice a Scheduler gives on an lr schedule that
    looks like learning rates (a warning, tests/scheduler/test_advice.py) is not under test."""
    positional = [arguments[p.name] for p in parameters(entry.obj)
                  if p.kind is p.POSITIONAL_ONLY]
    named = {p.name: arguments[p.name] for p in parameters(entry.obj)
             if p.kind is not p.POSITIONAL_ONLY}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LooksLikeRates)
        return entry.obj(*positional, **named)


# -- what a built object produces ------------------------------------------------------------
STEPS = (0, 1, 10)
FAR = 10**6
ARRAY = np.array([0, 0.5, 1, 2, 3, 10, 100])
HUGE = 1e150  # a value past this may overflow float64 at the next step it is multiplied


class NotFinite(AssertionError):
    pass


def _numbers(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64).reshape(-1)


def check_series(where: str, series: list[tuple[float, Any]]) -> None:
    """Values at rising steps: never NaN, and finite, except where a growth runs out of float64:
    a value may overflow to +-inf where the values before it were growing (the last two finite
    magnitudes rising, past 1, or one past ``HUGE``), as ``Exponential(rate=2**64)`` does
    by step 100, since the exact
    value is beyond float64 there (the arithmetic ran out of range, the formula did not break);
    and anywhere at step ``FAR`` (10**6 steps of a growth such as ``Exponential(rate=1.01)``, a
    valid schedule, is beyond float64 too)."""
    by_step: dict[float, list[Any]] = {}
    for step, value in series:
        by_step.setdefault(step, []).append(value)
    magnitudes: list[float] = []  # the largest finite magnitude at each earlier step
    for step in sorted(by_step):
        values = by_step[step]
        array = np.concatenate([_numbers(v) for v in values])
        if np.isnan(array).any():
            raise NotFinite(f"{where} at step {step} is {values[0]!r}")
        growing = bool(magnitudes) and (max(magnitudes) > HUGE or (
            len(magnitudes) >= 2 and magnitudes[-1] > max(magnitudes[-2], 1.0)))
        if np.isinf(array).any() and not growing and step < FAR:
            raise NotFinite(f"{where} at step {step} is {values[0]!r}")
        finite = np.abs(array[np.isfinite(array)])
        if finite.size:
            magnitudes.append(float(finite.max()))


def _finite(where: str, value: Any) -> None:
    if not np.isfinite(_numbers(value)).all():
        raise NotFinite(f"{where} is {value!r}")


def check_schedule(schedule: Schedule, where: str = "schedule") -> None:
    """Evaluated at steps 0, 1, 10 and 10**6 one at a time and on an array of steps: see
    :func:`check_series` for what the values must be."""
    series = [(float(t), schedule(t)) for t in (*STEPS, FAR)]
    series += zip(ARRAY.tolist(), schedule(ARRAY).tolist())
    check_series(f"{where}", series)


def group_values(optimizer: torch.optim.Optimizer) -> dict[tuple[int, str], list[float]]:
    """Every numeric hyperparameter of every param group, as floats."""
    out: dict[tuple[int, str], list[float]] = {}
    for i, group in enumerate(optimizer.param_groups):
        for name, value in group.items():
            if name == "params" or isinstance(value, (bool, str)) or value is None:
                continue
            items = value if isinstance(value, (tuple, list)) else [value]
            for item in items:
                if isinstance(item, (numbers.Real, torch.Tensor, np.ndarray)) \
                        and not isinstance(item, bool):
                    out.setdefault((i, name), []).extend(_numbers(item).tolist())
    return out


def step_once(scheduler: Any) -> None:
    """One training step: the optimizer's update, then the scheduler's turn (a plateau one fed
    a metric, as a trainer does)."""
    scheduler.optimizer.step()
    if isinstance(scheduler, TorchPlateau):
        scheduler.step(1.0)
    elif isinstance(scheduler, MMPlateau):
        monitor = scheduler.monitor if isinstance(scheduler.monitor, str) else "loss"
        scheduler.step({monitor: 1.0})
    else:
        scheduler.step()


def _history(scheduler: Any) -> dict[tuple[int, str], list[tuple[float, Any]]]:
    """The scheduler's own closed form (``value_at``) at the steps before the current one, as
    entries before step 0 of :func:`check_scheduler`'s series: a resumed exponential whose lr
    overflows at its next step was growing there, though the groups held a small value."""
    out: dict[tuple[int, str], list[tuple[float, Any]]] = {}
    now = getattr(scheduler, "current_step", None)
    if not hasattr(scheduler, "value_at") or not is_real(now) or not 0 < now < FAR:
        return out
    steps = [float(s) for s in range(max(0, int(now) - 3), int(now))]
    try:
        found = scheduler.value_at(np.array(steps))
    except Exception:  # no closed form to read (a plateau): no history
        return out
    for name, table in found.items():
        for group, column in enumerate(np.asarray(table, dtype=np.float64).T):
            out[(group, name)] = [(s - now, v) for s, v in zip(steps, column.tolist())
                                  if math.isfinite(v)]  # evidence of growth, not under test
    return out


def check_scheduler(scheduler: Any, steps: int = 3, where: str = "scheduler") -> None:
    """Stepped ``steps`` times: every numeric value in every param group, after construction
    and after each step, passes :func:`check_series` (with the closed form's values before the
    current step ahead of them, where the scheduler has one)."""
    series = _history(scheduler)
    for k in range(steps + 1):
        if k:
            step_once(scheduler)
        for slot, values in group_values(scheduler.optimizer).items():
            series.setdefault(slot, []).append((float(k), values))
        if hasattr(scheduler, "get_last_lr"):
            lrs = [float(v) for v in scheduler.get_last_lr()]
            series.setdefault((-1, "get_last_lr()"), []).append((float(k), lrs))
    for (group, name), values in series.items():
        check_series(f"{where}: param group {group}'s {name!r}" if group >= 0 else
                     f"{where}.{name}", values)


def check_result(result: Any, where: str) -> None:
    """What a constructor returned produces only finite values (see the module's rules)."""
    if isinstance(result, Schedule):
        check_schedule(result, where)
    elif isinstance(result, (TorchLRScheduler, TorchPlateau, MMParamScheduler)):
        check_scheduler(result, where=where)
    elif isinstance(result, ReduceOnPlateau):  # a controller: drive one scheduler with it
        try:
            scheduler = cadence.Scheduler(make_optimizer(), lr=Constant(1.0), plateau=result)
        except InvalidInput as exc:  # what it applies to is not scheduled here: refused, named
            if names_argument(str(exc), "applies_to"):
                return
            raise
        check_scheduler(scheduler, where=f"a Scheduler with {where}")
    elif isinstance(result, Track):
        _finite(f"{where}.bases", [b for b in result.bases if b is not None])
        for i, schedule in enumerate(result.schedules):
            if schedule is not None:
                check_schedule(schedule, f"{where}.schedules[{i}]")
        for t in STEPS:
            _finite(f"{where}.values({t})", [v for v in result.values(float(t)) if v is not None])
    elif callable(result):  # a schedule-like callable (d2l's): one number per step
        check_series(where, [(float(t), result(t)) for t in (*STEPS, FAR)])
    else:
        raise AssertionError(f"{where} returned {type(result).__name__}, which the suite does not "
                             "know how to check: teach check_result about it")


def build_and_check(entry: Entry, arguments: Mapping[str, Any]) -> None:
    result = call(entry, arguments)
    check_result(result, f"{entry.id}(...)")


# Arguments that hold a config (or a spec: a config, a file or a preset name): an error in one
# names the config ("a config must have a 'type' key", "unknown key 'step' for config type
# 'cosine'"), the words a user of a config file or of the command line knows, not the
# parameter's name.
# A preset's name is named as a preset ("unknown preset 'x'").
ARGUMENT_WORDS = {"data": ("config",), "config": ("config",), "configs": ("config",),
                  "spec": ("config", "preset")}
PRESET_NAMES = {("cadence.tools.presets.preset", "name")}


def names_argument(message: str, name: str, value: Any = None, where: str = "") -> bool:
    """The message names ``name`` as a word (``'lr'``, not the ``lr`` of ``max_lr``; upstream's
    plural, ``lr_lambdas``, counts), or a word of :data:`ARGUMENT_WORDS` for it, or, for a
    mapping, one of its keys (the entry that is wrong)."""
    words = [name, *ARGUMENT_WORDS.get(name, ())]
    if (where, name) in PRESET_NAMES:
        words.append("preset")
    if isinstance(value, Mapping) and any(repr(k) in message for k in value):
        return True
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(w)}s?(?![A-Za-z0-9_])", message)
               for w in words)


# -- bad values --------------------------------------------------------------------------------
class Opaque:
    """An object of no expected type, with a stable repr."""

    def __repr__(self) -> str:
        return "Opaque()"


NAN, INF = math.nan, math.inf
BAD_SCALARS: list[Any] = [
    None, True, False, 0, -1, -0.5, 0.0, NAN, INF, -INF, 10**400, -(10**400), 2**64, -(2**64),
    1e308, "x", "", Opaque(),
    # the ends of float64: tiny but positive (subnormal, the smallest normal, tiny normal),
    # their negatives, and the largest float: lengths, periods and rates this small divide
    # into inf, and this large overflow when doubled
    5e-324, -5e-324, 2.2250738585072014e-308, 1e-300, -1e-300, 1.7976931348623157e308,
]
BAD_VALUES: list[Any] = [
    *BAD_SCALARS, [], {}, (), [None], [NAN], [-1], ["x"], [10**400], [[]], {"type": None},
    {"x": 1}, [{"type": "cosine"}], torch.tensor(NAN), np.float64(INF), np.int64(-1),
]


def examples(count: int) -> int:
    """``count`` hypothesis examples per test, or the profile's own number when it asks for
    more (``CADENCE_HYPOTHESIS=explore``, see tests/conftest.py)."""
    return max(count, hypothesis.settings.default.max_examples
               if hypothesis.settings.default.max_examples > 100 else count)


def describe_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."
