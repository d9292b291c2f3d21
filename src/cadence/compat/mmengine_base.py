"""cadence's MMEngine drop-ins, the generic forms: :class:`ParamScheduler` (cadence's part of
each) and one class per family with ``param_name`` (``StepParamScheduler``, ...), each a
subclass of MMEngine's class of the same name. :mod:`cadence.compat.mmengine` adds the LR and
Momentum forms and is the module to import.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar, cast

import torch

from cadence.validation import (
    InvalidType,
    InvalidValue,
    MissingKey,
    MissingPackage,
    UpstreamAssertion,
    check_choice,
    check_non_negative,
    check_number,
)

try:
    with warnings.catch_warnings():  # MMEngine imports torch.distributed.optim, which warns
        warnings.filterwarnings("ignore", r"`torch\.jit\.\w+` is deprecated", DeprecationWarning)
        from mmengine.optim import scheduler as mm
except ImportError as exc:  # pragma: no cover - the parity extra installs it
    raise MissingPackage("cadence.compat.mmengine needs MMEngine: pip install mmengine-lite "
                         "(or mmengine)") from exc

from cadence.compat import legacy, mmengine_shapes, resume
from cadence.compat._torch_base import check_loaded, check_torch_state, group_claims, real
from cadence.compat.chaining import ClosedForm, no_value_for_added, refuse_values
from cadence.compat.mmengine_shapes import (
    FAMILIES,
    INF,
    build_schedulers,
    check_window,
    describe,
    factors,
    window,
)
from cadence.compat.reading import TracksReading
from cadence.scheduler import writers
from cadence.scheduler.binder import Binder
from cadence.scheduler.slots import as_float, resolve
from cadence.scheduler.track import RELATIVE, Track
from cadence.schedules import Constant

__all__ = [
    "INF", "ConstantParamScheduler", "CosineAnnealingParamScheduler",
    "CosineRestartParamScheduler", "ExponentialParamScheduler", "LinearParamScheduler",
    "MultiStepParamScheduler", "OneCycleParamScheduler", "ParamScheduler", "PolyParamScheduler",
    "ReduceOnPlateauParamScheduler", "StepParamScheduler", "build_schedulers", "mm",
]


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


class ParamScheduler(TracksReading):
    """cadence's part of every MMEngine drop-in (MMEngine's ``_ParamScheduler`` is the rest):
    ``_get_value`` from the family's closed form, and cadence's read API. Not a scheduler by
    itself.

    >>> import torch
    >>> from cadence.compat.mmengine import ParamScheduler, StepLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> sched = StepLR(opt, step_size=2, gamma=0.5)
    >>> isinstance(sched, ParamScheduler), sched.hyperparameters
    (True, ('lr',))
    >>> sched.value_at([0, 2, 4, 10])["lr"][:, 0].tolist()  # the closed form, changing nothing
    [0.1, 0.05, 0.025, 0.003125]
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if type(self) is ParamScheduler:
            raise NotImplementedError(
                "ParamScheduler is the base of cadence's MMEngine drop-ins: use one of them "
                "(StepLR, CosineAnnealingParamScheduler, ...)")
        upstream = next(k for k in type(self).__mro__ if k.__module__.startswith("mmengine"))
        start(self, upstream, *args, **kwargs)

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

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """MMEngine's rule (the saved settings win), after checking the saved step and bases;
        the dict given is not changed. Loaded into a scheduler whose groups hold only what
        schedulers' constructions wrote, it writes the saved values
        (:mod:`cadence.compat.resume`)."""
        if legacy.load(self, state_dict):  # a state of cadence 0.1.0, converted
            return
        check_torch_state(state_dict, "last_step", bases_key="base_values",
                          values_key="_last_value", counters=("_global_step",))
        fresh = resume.untouched(self)
        before = self.__dict__.copy()
        super().load_state_dict(dict(state_dict))  # type: ignore[misc]
        check_loaded(self, state_dict, before, self._loaded_values)
        if fresh:
            groups = self.optimizer.param_groups
            self._restored = "_last_value"  # named if the next step is refused
            if resume.restore(groups, self.param_name, self.__dict__.get("_last_value")):
                for group, base in zip(groups, getattr(self, "base_values", ())):
                    group[f"initial_{self.param_name}"] = base
            self._built = resume.built(self)

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
    @property
    def current_step(self) -> int:
        """The step whose values the groups hold (MMEngine's ``_global_step``)."""
        return int(self._global_step)  # type: ignore[attr-defined]

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


_W = {"begin": 0, "end": INF, "last_step": -1, "by_epoch": True, "verbose": False}


# -- the families: MMEngine's classes with their signatures ---------------------------------------
class StepParamScheduler(ParamScheduler, mm.StepParamScheduler):
    """Multiply by ``gamma`` every ``step_size`` steps.

    MMEngine's ``StepParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import StepParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = StepParamScheduler(opt, param_name='weight_decay', step_size=2, gamma=0.5)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [0.0001, 0.0001, 5e-05, 5e-05, 2.5e-05]
    """

    family = "Step"

    def __init__(self, optimizer: Any, param_name: str, step_size: int, gamma: float = 0.1,
                 begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, step_size, gamma, begin, end, last_step,
                         by_epoch, verbose)


class MultiStepParamScheduler(ParamScheduler, mm.MultiStepParamScheduler):
    """Multiply by ``gamma`` at each milestone.

    MMEngine's ``MultiStepParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import MultiStepParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = MultiStepParamScheduler(opt, param_name='weight_decay', milestones=[1, 3],
    ...                                 gamma=0.5)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [0.0001, 5e-05, 5e-05, 2.5e-05, 2.5e-05]
    """

    family = "MultiStep"

    def __init__(self, optimizer: Any, param_name: str, milestones: Sequence[int],
                 gamma: float = 0.1, last_step: int = -1, begin: int = 0, end: int = INF,
                 by_epoch: bool = True, verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, milestones, gamma, last_step, begin, end,
                         by_epoch, verbose)


class ConstantParamScheduler(ParamScheduler, mm.ConstantParamScheduler):
    """``factor`` until the window's last step, then 1.

    MMEngine's ``ConstantParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import ConstantParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = ConstantParamScheduler(opt, param_name='weight_decay', factor=0.5, end=2)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for _ in range(3):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [5e-05, 0.0001, 0.0001, 0.0001]
    """

    family = "Constant"

    def __init__(self, optimizer: Any, param_name: str, factor: float = 1.0 / 3,
                 begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, factor, begin, end, last_step, by_epoch,
                         verbose)


class ExponentialParamScheduler(ParamScheduler, mm.ExponentialParamScheduler):
    """Multiply by ``gamma`` every step.

    MMEngine's ``ExponentialParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import ExponentialParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = ExponentialParamScheduler(opt, param_name='weight_decay', gamma=0.5)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for _ in range(3):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [0.0001, 5e-05, 2.5e-05, 1.3e-05]
    """

    family = "Exponential"

    def __init__(self, optimizer: Any, param_name: str, gamma: float, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, gamma, begin, end, last_step, by_epoch, verbose)


class CosineAnnealingParamScheduler(ParamScheduler, mm.CosineAnnealingParamScheduler):
    """Cosine from the base to ``eta_min`` (or ``eta_min_ratio`` of the base) over ``T_max``
    (default: the window), oscillating past it.

    MMEngine's ``CosineAnnealingParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import CosineAnnealingParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = CosineAnnealingParamScheduler(opt, param_name='weight_decay', T_max=4,
    ...                                       eta_min_ratio=0.1)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [0.0001, 8.7e-05, 5.5e-05, 2.3e-05, 1e-05]
    """

    family = "CosineAnnealing"

    def __init__(self, optimizer: Any, param_name: str, T_max: int | None = None,
                 eta_min: float | None = None, begin: int = 0, end: int = INF,
                 last_step: int = -1, by_epoch: bool = True, verbose: bool = False,
                 eta_min_ratio: float | None = None) -> None:
        super().__init__(optimizer, param_name, T_max, eta_min, begin, end, last_step,
                         by_epoch, verbose, eta_min_ratio)


class LinearParamScheduler(ParamScheduler, mm.LinearParamScheduler):
    """The factor goes linearly from ``start_factor`` to ``end_factor`` over the window.

    MMEngine's ``LinearParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import LinearParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = LinearParamScheduler(opt, param_name='weight_decay', start_factor=0.5, end=4)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for _ in range(5):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [5e-05, 6.7e-05, 8.3e-05, 0.0001, 0.0001, 0.0001]
    """

    family = "Linear"

    def __init__(self, optimizer: Any, param_name: str, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, begin: int = 0, end: int = INF, last_step: int = -1,
                 by_epoch: bool = True, verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, start_factor, end_factor, begin, end,
                         last_step, by_epoch, verbose)


class PolyParamScheduler(ParamScheduler, mm.PolyParamScheduler):
    """Polynomial decay from the base to ``eta_min`` over the window.

    MMEngine's ``PolyParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import PolyParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = PolyParamScheduler(opt, param_name='weight_decay', eta_min=0.0, power=1.0, end=4)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [0.0001, 6.7e-05, 3.3e-05, 0.0, 0.0]
    """

    family = "Poly"

    def __init__(self, optimizer: Any, param_name: str, eta_min: float = 0,
                 power: float = 1.0, begin: int = 0, end: int = INF, last_step: int = -1,
                 by_epoch: bool = True, verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, eta_min, power, begin, end, last_step,
                         by_epoch, verbose)


class OneCycleParamScheduler(ParamScheduler, mm.OneCycleParamScheduler):
    """The one-cycle policy (lr only, as in MMEngine); past ``total_steps`` the value holds
    (MMEngine raises).

    MMEngine's ``OneCycleParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import OneCycleParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = OneCycleParamScheduler(opt, param_name='lr', eta_max=0.1, total_steps=10)
    >>> values = [opt.param_groups[0]["lr"]]
    >>> for _ in range(9):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["lr"], 6))
    ...
    >>> values
    [0.004, 0.052, 0.1, 0.095048, 0.081175, 0.061126, 0.038874, 0.018826, 0.004952, 0.0]
    """

    family = "OneCycle"

    def __init__(self, optimizer: Any, param_name: str, eta_max: float | list[float] = 0,
                 total_steps: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, eta_max, total_steps, pct_start,
                         anneal_strategy, div_factor, final_div_factor, three_phase, begin, end,
                         last_step, by_epoch, verbose)

    def _chains_at(self, step: int) -> bool:
        return False  # MMEngine's one cycle sets the values

    def _setting_values(self) -> dict[str, Any]:
        phases = self._schedule_phases
        linear = getattr(self, "anneal_func", None) is mm.OneCycleParamScheduler._annealing_linear
        return {"eta_max": self.eta_max, "total_steps": self.total_steps,
                "pct_start": (phases[0]["end_step"] + 1) / self.total_steps,
                "anneal_strategy": "linear" if linear else "cos",
                "div_factor": self.div_factor, "final_div_factor": self.final_div_factor,
                "three_phase": len(phases) == 3}


class CosineRestartParamScheduler(ParamScheduler, mm.CosineRestartParamScheduler):
    """Cosine cycles of the given ``periods``, each restarting at ``restart_weights[i]`` of the
    base and going down to ``eta_min`` (or ``eta_min_ratio``); the last value holds after.

    MMEngine's ``CosineRestartParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import CosineRestartParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = CosineRestartParamScheduler(opt, param_name='weight_decay', periods=[2, 2],
    ...                                     restart_weights=[1, 0.5], eta_min=0.0)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [0.0001, 5e-05, 5e-05, 2.5e-05, 2.5e-05]
    """

    family = "CosineRestart"

    def __init__(self, optimizer: Any, param_name: str, periods: list[int],
                 restart_weights: Sequence[float] = (1,), eta_min: float | None = None,
                 eta_min_ratio: float | None = None, begin: int = 0, end: int = INF,
                 last_step: int = -1, by_epoch: bool = True, verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, periods, restart_weights, eta_min,
                         eta_min_ratio, begin, end, last_step, by_epoch, verbose)

    def _chains_at(self, step: int) -> bool:
        """A restart sets the value (``restart_weights[i]`` of the base), as MMEngine does."""
        return step != 0 and step not in self.cumulative_periods[:-1]


class ReduceOnPlateauParamScheduler(ParamScheduler, mm.ReduceOnPlateauParamScheduler):
    """MMEngine's reduce-on-plateau: ``step(metrics)`` after validation, ``step()`` to count
    epochs; active in ``[begin, end)``.

    MMEngine's ``ReduceOnPlateauParamScheduler``, on the hyperparameter ``param_name``.

    >>> import torch
    >>> from cadence.compat.mmengine import ReduceOnPlateauParamScheduler
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9,
    ...                       weight_decay=1e-4)
    >>> sched = ReduceOnPlateauParamScheduler(opt, param_name='weight_decay', monitor='loss',
    ...                                       factor=0.5, patience=1)
    >>> values = [opt.param_groups[0]["weight_decay"]]
    >>> for loss in [1.0, 0.9, 0.9, 0.9, 0.9]:
    ...     opt.step(); sched.step(metrics={"loss": loss})
    ...     values.append(round(opt.param_groups[0]["weight_decay"], 6))
    ...
    >>> values
    [0.0001, 0.0001, 0.0001, 0.0001, 5e-05, 5e-05]
    """

    def __init__(self, optimizer: Any, param_name: str, monitor: str = "loss",
                 rule: str = "less", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_rule: str = "rel", cooldown: int = 0,
                 min_value: float | Sequence[float] = 0.0, eps: float = 1e-8, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        super().__init__(optimizer, param_name, monitor, rule, factor, patience, threshold,
                         threshold_rule, cooldown, min_value, eps, begin, end, last_step,
                         by_epoch, verbose)
