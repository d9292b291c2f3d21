"""The workings of every MMEngine drop-in: the checks of MMEngine's arguments before its
constructor runs (:func:`start`), and :class:`ParamSchedulerCore`, the part of
:class:`cadence.compat.mmengine.ParamScheduler` that steps, loads and reads: each value is the
family's closed form (:mod:`cadence.compat.mmengine_families`), chained with what other
schedulers left in the groups (:mod:`cadence.compat.chaining`). Import the drop-ins from
:mod:`cadence.compat.mmengine`.

>>> import torch
>>> from cadence.compat.mmengine import StepLR
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> sched = StepLR(opt, step_size=2, gamma=0.5)
>>> isinstance(sched, ParamSchedulerCore), sched.claims()[0][1]
(True, "param group 0's 'lr'")
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import math
import numbers
from typing import Any, ClassVar, cast

import torch

from cadence.compat import mmengine_shapes, resume
from cadence.compat._torch_base import group_claims
from cadence.compat._torch_checks import real
from cadence.compat.chaining import ClosedForm, no_value_for_added, refuse_values
from cadence.compat.mmengine_families import FAMILIES, check_window
from cadence.compat.mmengine_shapes import describe, factors, window
from cadence.compat.reading import TracksReading
from cadence.scheduler import writers
from cadence.scheduler.binder import Binder
from cadence.scheduler.slots import as_float, resolve
from cadence.scheduler.track import RELATIVE, Track
from cadence.schedules import Constant
from cadence.validation import (
    InvalidType,
    InvalidValue,
    MissingKey,
    UpstreamAssertion,
    check_choice,
    check_non_negative,
    check_number,
)


def _plain_optimizer(optimizer: Any) -> Any:
    """The torch optimizer of ``optimizer`` (MMEngine's ``OptimWrapper`` holds one), or None."""
    from mmengine.optim import BaseOptimWrapper

    if isinstance(optimizer, BaseOptimWrapper):
        return optimizer.optimizer
    return optimizer if isinstance(optimizer, torch.optim.Optimizer) else None


def _check_plateau(arguments: dict[str, Any], groups: int) -> None:
    """MMEngine's reduce-on-plateau arguments, before its constructor (which asserts)."""
    if not isinstance(arguments["monitor"], str):
        raise InvalidType(f"'monitor' must be the name of a metric, a str (got "
                          f"{arguments['monitor']!r})")
    check_choice("rule", arguments["rule"], ("less", "greater"))
    check_choice("threshold_rule", arguments["threshold_rule"], ("rel", "abs"))
    if check_number("factor", real(arguments["factor"])) >= 1.0:
        raise InvalidValue(f"'factor' must be < 1.0 (got {arguments['factor']!r})")
    for name in ("patience", "threshold", "cooldown", "eps"):
        check_number(name, real(arguments[name]))
    minimum = arguments["min_value"]
    if isinstance(minimum, (list, tuple)) and len(minimum) != groups:
        raise InvalidValue(f"'min_value' must have one entry per param group ({groups}) "
                           f"(got {len(minimum)})")
    # an lr it reduces never goes below 0
    floor = check_non_negative if arguments.get("param_name") == "lr" else check_number
    for value in minimum if isinstance(minimum, (list, tuple)) else [minimum]:
        floor("min_value", real(value))
    if not arguments["by_epoch"]:
        raise UpstreamAssertion(f"'by_epoch' must be True: MMEngine's ReduceOnPlateau "
                                f"schedulers count epochs (got {arguments['by_epoch']!r})")


def start(scheduler: Any, upstream: type, *args: Any, **kwargs: Any) -> None:
    """Check a drop-in's arguments by name, then run MMEngine's constructor ``upstream``
    (which asserts on some and fails deep inside on others)."""
    generic = next(k for k in upstream.__mro__ if "param_name" in inspect.signature(k).parameters)
    signature = inspect.signature(generic)
    fixed = mmengine_shapes.TYPES.get(upstream.__name__, (None, None))[1]
    if fixed is not None and upstream is not generic:  # an LR or Momentum twin
        named = dict(kwargs)
        optimizer, *rest = args if args else (named.pop("optimizer"),)
        bound = signature.bind(optimizer, fixed, *rest, **named)
    else:
        bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    optimizer = _plain_optimizer(arguments["optimizer"])
    if optimizer is None:  # in MMEngine's words, which some of its constructors never reach
        raise InvalidType(f"'optimizer' should be an Optimizer or an OptimWrapper (got "
                          f"{arguments['optimizer']!r})")
    name = arguments["param_name"]
    if not isinstance(name, str):
        raise InvalidType(f"'param_name' must be the name of a hyperparameter (got {name!r})")
    groups = optimizer.param_groups
    bases: list[float] | None = None
    if fixed is None:  # MMEngine reads group[param_name]
        for i, group in enumerate(groups):
            if name not in group:
                raise MissingKey(f"'param_name' must name a hyperparameter of every param "
                                 f"group ({name!r} is not in param_groups[{i}])")
        bases = [as_float(g.get(f"initial_{name}", g[name])) for g in groups]
    else:  # momentum is betas[0] on Adam (MMEngine's own error otherwise)
        with contextlib.suppress(InvalidValue):
            bases = [as_float(g.get(f"initial_{name}", resolve(name, g, i).read(g)))
                     for i, g in enumerate(groups)]
    check_window(arguments["begin"], arguments["end"])
    last_step = arguments["last_step"]
    if isinstance(last_step, bool) or not isinstance(last_step, int) or last_step < -1:
        raise UpstreamAssertion(f"'last_step' must be an int >= -1 (got {last_step!r})")
    if last_step != -1:
        for i, group in enumerate(groups):
            if f"initial_{name}" not in group:
                raise MissingKey(f"param 'initial_{name}' is not specified in param_groups[{i}] "
                                  f"when resuming an optimizer ('last_step' is {last_step})")
    family = getattr(scheduler, "family", None)
    if family is None:
        _check_plateau(arguments, len(groups))
    elif bases is not None:
        describe(family, bases, arguments, name)  # every argument, under its own name
    cast(Any, upstream).__init__(scheduler, *args, **kwargs)
    scheduler._built = resume.built(scheduler)
    writers.claim(scheduler)


class ParamSchedulerCore(TracksReading):
    """The workings of :class:`cadence.compat.mmengine.ParamScheduler`, which adds its
    construction and its public API (``load_state_dict``, ``current_step``): ``_get_value``
    from the family's closed form, the checks of a loaded state's settings, one writer per
    place, and cadence's read API. MMEngine's ``_ParamScheduler`` is the rest.

    >>> import torch
    >>> from cadence.compat.mmengine import ParamScheduler
    >>> issubclass(ParamScheduler, ParamSchedulerCore)
    True
    """

    __slots__ = ("_built", "_restored", "_runtime")
    _restored: str | None
    family: ClassVar[str | None] = None  # None: MMEngine's own values (ReduceOnPlateau)
    _arguments: ClassVar[tuple[str, ...]] = ()
    optimizer: Any
    param_name: str
    last_step: int
    begin: int
    end: int
    base_values: list[Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.family is not None:
            cls._arguments = tuple(p for p in inspect.signature(FAMILIES[cls.family]).parameters
                                   if p != "bases")

    def _setting_values(self) -> dict[str, Any]:
        """The family's arguments, from the attributes MMEngine's class keeps."""
        return {n: getattr(self, n) for n in self._arguments if hasattr(self, n)}

    def _now(self) -> ClosedForm:
        family = self.family
        assert family is not None
        settings = self._setting_values()
        key = (self.param_name, *settings.values(), *self.base_values)
        runtime: ClosedForm | None = getattr(self, "_runtime", None)
        if runtime is None or runtime.key != key:
            bases = [as_float(b) for b in self.base_values]
            track = describe(family, bases, settings, self.param_name)
            runtime = self._runtime = ClosedForm(key, Binder(self.optimizer, [track]),
                                                 self._refuse_values)
        return runtime

    def _get_value(self) -> list[Any]:
        """The values at ``last_step`` (local time): the closed form, chained with what other
        schedulers left in the groups."""
        if self.family is None:
            return super()._get_value()  # type: ignore[misc]
        try:
            added = self._added_values()  # before any write
            runtime = self._now()
            name = self.param_name
            values = runtime.values(float(self.last_step))[name]
            if self._chains_at(self.last_step):
                current = [as_float(g[name]) for g in self.optimizer.param_groups]
                values = runtime.chain(name, float(self.last_step - 1), float(self.last_step),
                                       current)
            runtime._check(name, values, float(self.last_step))
            self._restored = None
        except BaseException:
            self.last_step -= 1  # type: ignore[misc]  # MMEngine counted it: refused, not taken
            self._global_step -= 1  # type: ignore[attr-defined]
            raise
        return values + added

    _refuse_values = refuse_values

    def _added_values(self) -> list[Any]:
        """MMEngine's values for the param groups added (``optimizer.add_param_group``) after
        this scheduler was built: what its class computes for them (its chainable form moves
        them on from their own value; where it has none for them, they keep theirs, as MMEngine
        writes only as many as it computes). A class that fails on them fails here too, named."""
        known = len(self.base_values)
        if len(self.optimizer.param_groups) <= known:
            return []
        upstream: Any = next(k for k in type(self).__mro__
                             if k.__module__.startswith("mmengine") and "_get_value" in vars(k))
        try:
            return list(upstream._get_value(self))[known:]
        except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
            raise no_value_for_added(self, known, "base_values", "MMEngine", exc) from exc

    def _chains_at(self, step: int) -> bool:
        """Whether the value at ``step`` moves what the groups hold (MMEngine's chainable
        form) or is set outright."""
        return True

    def _counter(self) -> Any:
        return self._global_step  # type: ignore[attr-defined]  # every step() moves it

    # -- one writer per place (cadence.scheduler.writers): a drop-in chains, so it shares ------
    def claims(self) -> list[tuple[Any, str]]:
        return group_claims(self.optimizer, [self.param_name])

    def shares(self) -> bool:
        return True

    def _loaded_values(self) -> list[Any]:
        """The settings a loaded state leaves, checked as the constructor checks its arguments,
        and the closed form's values now (see :func:`check_loaded`)."""
        if not isinstance(self.param_name, str):
            raise InvalidType(f"'param_name' must be the name of a hyperparameter (got "
                              f"{self.param_name!r})")
        groups = self.optimizer.param_groups
        for i, group in enumerate(groups):
            if self.param_name not in group:
                raise MissingKey(f"'param_name' must name a hyperparameter of every param "
                                 f"group ({self.param_name!r} is not in param_groups[{i}])")
        check_window(self.begin, self.end)
        use_betas = getattr(self, "use_betas", False)
        if not isinstance(use_betas, bool) or (use_betas and any("betas" not in g
                                                                   for g in groups)):
            raise InvalidValue(f"'use_betas' must be a bool, True only for an optimizer with "
                               f"betas (got {use_betas!r})")
        if self.family is None:  # MMEngine's own reduce-on-plateau values
            settings = {n: getattr(self, n) for n in ("monitor", "rule", "threshold_rule",
                                                      "factor", "patience", "threshold",
                                                      "cooldown", "eps", "by_epoch")}
            _check_plateau({**settings, "min_value": getattr(self, "min_values", 0.0)}, len(groups))
            for name in ("best", "rule_worse", "cooldown_counter", "num_bad_epochs"):
                value = real(getattr(self, name))
                if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                        or math.isnan(value):
                    raise InvalidType(f"{name!r} must be a number (got {value!r})")
            return []
        periods, cumulative = getattr(self, "periods", ()), getattr(self, "cumulative_periods", ())
        if self.family == "CosineRestart" and list(cumulative) != list(
                itertools.accumulate(periods)):
            raise InvalidValue(f"'cumulative_periods' must add up 'periods' {periods} "
                               f"(got {cumulative!r})")
        runtime = self._now()
        return list(runtime.values(max(float(self.last_step), 0.0))[self.param_name])

    # -- cadence's read API (cadence.compat.reading): the closed form in its own steps ---------
    def _tracks(self) -> list[Track]:
        """The base before ``begin``, the family in ``[begin, end)``, its last value after (a
        plateau: the values the groups hold)."""
        if self.family is None:
            held = [as_float(g[self.param_name]) for g in self.optimizer.param_groups]
            return [Track.shared(self.param_name, Constant(1.0), held)]
        [track] = self._now().binder.tracks.values()
        windowed = [None if f is None else window(f, self.begin, self.end)
                    for f in factors(track)]
        return [Track(self.param_name, windowed, track.bases, RELATIVE)]
