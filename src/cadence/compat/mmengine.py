"""Drop-ins for MMEngine's parameter schedulers, and its list-of-configs composition.

Every MMEngine scheduler is a factor of the group's base value in its own local time, active in
``[begin, end)``: 1 before ``begin``, the shape inside, the last active value held after
``end``. :func:`build_schedulers` takes MMEngine's list of ``dict(type=..., ...)`` and combines
them the way MMEngine does: disjoint windows run in sequence, a gap keeps the value, overlapping
windows multiply. By-epoch schedulers run in iterations through ``epoch_length`` (held within each
epoch, or spread over it with ``convert_to_iter_based=True``).

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

from cadence.compat.torch_base import (
    GroupSchedules,
    cosine_annealing,
    per_group,
    set_one_cycle_bases,
)
from cadence.config.registry import suggest
from cadence.scheduler.plateau import ReduceOnPlateau as Plateau
from cadence.scheduler.scheduler import Scheduler
from cadence.scheduler.slots import as_float, resolve
from cadence.schedules import (
    Constant,
    Cosine,
    Exponential,
    Linear,
    MultiStep,
    OneCycle,
    Polynomial,
    Quantize,
    Schedule,
    Step,
    join,
    product,
)
from cadence.validation import (
    check_choice,
    check_non_negative,
    check_non_negative_int,
    check_positive,
    check_positive_int,
    check_range,
)

INF = int(1e9)

__all__ = [
    "INF",
    "ConstantLR",
    "ConstantMomentum",
    "ConstantParamScheduler",
    "CosineAnnealingLR",
    "CosineAnnealingMomentum",
    "CosineAnnealingParamScheduler",
    "CosineRestartLR",
    "CosineRestartMomentum",
    "CosineRestartParamScheduler",
    "ExponentialLR",
    "ExponentialMomentum",
    "ExponentialParamScheduler",
    "LinearLR",
    "LinearMomentum",
    "LinearParamScheduler",
    "MultiStepLR",
    "MultiStepMomentum",
    "MultiStepParamScheduler",
    "OneCycleLR",
    "OneCycleParamScheduler",
    "ParamScheduler",
    "PolyLR",
    "PolyMomentum",
    "PolyParamScheduler",
    "ReduceOnPlateauLR",
    "ReduceOnPlateauMomentum",
    "ReduceOnPlateauParamScheduler",
    "StepLR",
    "StepMomentum",
    "StepParamScheduler",
    "build_schedulers",
    "window",
]


def window(shape: Schedule, begin: int, end: int) -> Schedule:
    """``shape`` active in ``[begin, end)``: 1 before, its last active value after."""
    pieces: list[Schedule] = []
    marks: list[int] = []
    if begin > 0:
        pieces.append(Constant(1.0))
        marks.append(begin)
    pieces.append(shape)
    if end < INF:
        pieces.append(Constant(shape(end - 1 - begin)))
        marks.append(end)
    return join(pieces, marks) if marks else shape


class ParamScheduler(Scheduler):
    """MMEngine's ``_ParamScheduler``: one hyperparameter (``param_name``), active in
    ``[begin, end)``. Stepped once per epoch (``by_epoch=True``) or per iteration; MMEngine
    schedulers on one optimizer chain, as here."""

    time_params: tuple[str, ...] = ()  # arguments counted in epochs or iterations

    def __init__(self, optimizer: torch.optim.Optimizer, param_name: str, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"'optimizer' must be a torch.optim.Optimizer (got {optimizer!r})")
        self.param_name = param_name
        self.begin = check_non_negative_int("begin", begin)
        self.end = check_positive_int("end", end)
        if self.end <= self.begin:
            raise ValueError(f"'end' must be larger than 'begin' ({begin}) (got {end})")
        self.by_epoch = bool(by_epoch)
        self.verbose = bool(verbose)
        if isinstance(last_step, bool) or not isinstance(last_step, int) or last_step < -1:
            raise ValueError(f"'last_step' must be an int >= -1 (got {last_step!r})")
        bases = [as_float(resolve(param_name, g, i).read(g))
                 for i, g in enumerate(optimizer.param_groups)]
        bases = [as_float(g.get(f"initial_{param_name}", b))
                 for g, b in zip(optimizer.param_groups, bases)]
        self.windows = [window(s, self.begin, self.end) for s in self._shape(bases).factors(bases)]
        spec, _ = GroupSchedules(self.windows, absolute=False).spec()
        specs: dict[str, Any] = {param_name: spec}
        super().__init__(optimizer, count="calls", chain=True, start_step=last_step + 1,
                         plateau=self._controller(), **specs)

    def _shape(self, bases: list[float]) -> GroupSchedules:
        """The factor in local time (subclasses)."""
        return GroupSchedules([Constant(1.0)] * len(bases), absolute=False)

    def _controller(self) -> Plateau | None:
        return None

    @property
    def last_step(self) -> int:
        return self.last_epoch

    def get_last_value(self) -> list[Any]:
        """The scheduled value of every group."""
        return self.current_values()[self.param_name]

    @classmethod
    def build_iter_from_epoch(cls, *args: Any, begin: int = 0, end: int = INF,
                              by_epoch: bool = True, epoch_length: int | None = None,
                              **kwargs: Any) -> ParamScheduler:
        """The iteration-based twin of an epoch-based scheduler: ``begin``, ``end`` and the
        scheduler's own epoch counts times ``epoch_length``."""
        if not by_epoch:
            raise ValueError("only an epoch-based scheduler (by_epoch=True) converts to "
                             "iterations")
        length = check_positive_int("epoch_length", epoch_length)
        for name in cls.time_params:
            if kwargs.get(name) is not None:
                value = kwargs[name]
                kwargs[name] = ([v * length for v in value] if isinstance(value, (list, tuple))
                                else value * length)
        kwargs.update(begin=int(begin * length), end=end if end == INF else int(end * length),
                      by_epoch=False)
        return cls(*args, **kwargs)


def _ratio(eta_min: float | None, eta_min_ratio: float | None, base: float) -> float:
    """The floor as a fraction of the base (``eta_min`` is absolute)."""
    if eta_min is not None and eta_min_ratio is not None:
        raise ValueError("Either 'eta_min' or 'eta_min_ratio' should be specified, not both")
    if eta_min_ratio is not None:
        return check_non_negative("eta_min_ratio", eta_min_ratio)
    low = check_non_negative("eta_min", eta_min or 0.0)
    return low / base if base else 0.0


class StepParamScheduler(ParamScheduler):
    """Multiply by ``gamma`` every ``step_size`` steps."""

    time_params = ("step_size",)

    def __init__(self, optimizer: torch.optim.Optimizer, param_name: str, step_size: int,
                 gamma: float = 0.1, begin: int = 0, end: int = INF, last_step: int = -1,
                 by_epoch: bool = True, verbose: bool = False) -> None:
        self.step_size = check_positive_int("step_size", step_size)
        self.gamma = check_positive("gamma", gamma)
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    def _shape(self, bases: list[float]) -> GroupSchedules:
        return GroupSchedules([Step(every=self.step_size, gamma=self.gamma)] * len(bases), False)


class MultiStepParamScheduler(ParamScheduler):
    """Multiply by ``gamma`` at each milestone."""

    time_params = ("milestones",)

    def __init__(self, optimizer: torch.optim.Optimizer, param_name: str,
                 milestones: Sequence[int], gamma: float = 0.1, last_step: int = -1,
                 begin: int = 0, end: int = INF, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        self.milestones = sorted(check_non_negative_int("milestones", m) for m in milestones)
        self.gamma = check_positive("gamma", gamma)
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    def _shape(self, bases: list[float]) -> GroupSchedules:
        return GroupSchedules([MultiStep(milestones=self.milestones, gamma=self.gamma)]
                              * len(bases), False)


class ConstantParamScheduler(ParamScheduler):
    """``factor`` until the window's last step, then 1."""

    def __init__(self, optimizer: torch.optim.Optimizer, param_name: str,
                 factor: float = 1.0 / 3, begin: int = 0, end: int = INF, last_step: int = -1,
                 by_epoch: bool = True, verbose: bool = False) -> None:
        self.factor = check_range("factor", factor, 0.0, 1.0)
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    def _shape(self, bases: list[float]) -> GroupSchedules:
        last = self.end - self.begin - 1
        shape = (join([Constant(self.factor), Constant(1.0)], [last]) if last > 0
                 else Constant(self.factor))
        return GroupSchedules([shape] * len(bases), False)


class ExponentialParamScheduler(ParamScheduler):
    """Multiply by ``gamma`` every step."""

    def __init__(self, optimizer: torch.optim.Optimizer, param_name: str, gamma: float,
                 begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        self.gamma = check_positive("gamma", gamma)
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    def _shape(self, bases: list[float]) -> GroupSchedules:
        return GroupSchedules([Exponential(rate=self.gamma)] * len(bases), False)


class CosineAnnealingParamScheduler(ParamScheduler):
    """Cosine from the base to ``eta_min`` (or ``eta_min_ratio`` of the base) over ``T_max``
    (default: the window), oscillating past it."""

    time_params = ("T_max",)

    def __init__(self, optimizer: torch.optim.Optimizer, param_name: str,
                 T_max: int | None = None, eta_min: float | None = None, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False, eta_min_ratio: float | None = None) -> None:
        self.T_max = check_positive_int("T_max", T_max if T_max is not None else end - begin)
        self.eta_min, self.eta_min_ratio = eta_min, eta_min_ratio
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    def _shape(self, bases: list[float]) -> GroupSchedules:
        return GroupSchedules([
            cosine_annealing(1.0, _ratio(self.eta_min, self.eta_min_ratio, base), self.T_max)
            for base in bases], False)


class LinearParamScheduler(ParamScheduler):
    """The factor goes linearly from ``start_factor`` to ``end_factor`` over the window."""

    def __init__(self, optimizer: torch.optim.Optimizer, param_name: str,
                 start_factor: float = 1.0 / 3, end_factor: float = 1.0, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        self.start_factor = check_range("start_factor", start_factor, 0.0, 1.0)
        self.end_factor = check_range("end_factor", end_factor, 0.0, 1.0)
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    def _shape(self, bases: list[float]) -> GroupSchedules:
        last = self.end - self.begin - 1
        shape = (Linear(start=self.start_factor, end=self.end_factor, steps=last) if last > 0
                 else Constant(self.start_factor))
        return GroupSchedules([shape] * len(bases), False)


class PolyParamScheduler(ParamScheduler):
    """Polynomial decay to ``eta_min`` over the window."""

    def __init__(self, optimizer: torch.optim.Optimizer, param_name: str, eta_min: float = 0,
                 power: float = 1.0, begin: int = 0, end: int = INF, last_step: int = -1,
                 by_epoch: bool = True, verbose: bool = False) -> None:
        self.eta_min = check_non_negative("eta_min", eta_min)
        self.power = check_positive("power", power)
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    def _shape(self, bases: list[float]) -> GroupSchedules:
        last = self.end - self.begin - 1
        if last <= 0:
            return GroupSchedules([Constant(1.0)] * len(bases), False)
        return GroupSchedules([Polynomial(start=1.0, end=_ratio(self.eta_min, None, b),
                                          steps=last, power=self.power) for b in bases], False)


class OneCycleParamScheduler(ParamScheduler):
    """The one-cycle policy (lr only, as in MMEngine); past ``total_steps`` the value holds."""

    time_params = ("total_steps",)

    def __init__(self, optimizer: torch.optim.Optimizer, param_name: str,
                 eta_max: float | list[float] = 0, total_steps: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos", div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        if param_name != "lr":
            raise ValueError(f"'param_name' must be 'lr' for OneCycle (got {param_name!r})")
        self.total_steps = check_positive_int(
            "total_steps", total_steps if total_steps is not None else end - begin)
        self.pct_start = check_range("pct_start", pct_start, 0.0, 1.0)
        self.anneal_strategy = check_choice("anneal_strategy", anneal_strategy, ("cos", "linear"))
        self.div_factor = check_positive("div_factor", div_factor)
        self.final_div_factor = check_positive("final_div_factor", final_div_factor)
        self.three_phase = bool(three_phase)
        peaks = [check_positive("eta_max", v) for v in per_group("eta_max", eta_max, optimizer)]
        if last_step == -1:
            set_one_cycle_bases(optimizer, peaks, self.div_factor, self.final_div_factor)
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    def _shape(self, bases: list[float]) -> GroupSchedules:
        shape = OneCycle(total_steps=self.total_steps, start=1.0, peak=self.div_factor,
                         end=1.0 / self.final_div_factor, pct_start=self.pct_start,
                         anneal=self.anneal_strategy, three_phase=self.three_phase)
        return GroupSchedules([shape] * len(bases), False)


class CosineRestartParamScheduler(ParamScheduler):
    """Cosine cycles of the given ``periods``, each restarting at ``restart_weights[i]`` of the
    base and going down to ``eta_min`` (or ``eta_min_ratio``); the last value holds after."""

    time_params = ("periods",)

    def __init__(self, optimizer: torch.optim.Optimizer, param_name: str,
                 periods: list[int], restart_weights: Sequence[float] = (1,),
                 eta_min: float | None = None, eta_min_ratio: float | None = None,
                 begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        self.periods = [check_positive_int("periods", p) for p in periods]
        self.restart_weights = [check_non_negative("restart_weights", w)
                                for w in restart_weights]
        if len(self.periods) != len(self.restart_weights):
            raise ValueError(f"'restart_weights' must have one entry per period "
                             f"({len(self.periods)}) (got {len(self.restart_weights)})")
        if (eta_min is None) == (eta_min_ratio is None):
            raise ValueError("Either 'eta_min' or 'eta_min_ratio' should be specified")
        self.eta_min, self.eta_min_ratio = eta_min, eta_min_ratio
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    def _shape(self, bases: list[float]) -> GroupSchedules:
        out = []
        for base in bases:
            r = _ratio(self.eta_min, self.eta_min_ratio, base)
            cycles: list[Schedule] = [Cosine(start=w, end=r, steps=p)
                                      for w, p in zip(self.restart_weights, self.periods)]
            marks = [sum(self.periods[: i + 1]) for i in range(len(self.periods))]
            cycles.append(Constant(cycles[-1](self.periods[-1] - 1)))
            out.append(join(cycles, marks))
        return GroupSchedules(out, False)


class ReduceOnPlateauParamScheduler(ParamScheduler):
    """Reduce when ``metrics[monitor]`` stops improving: ``step(metrics)`` after validation,
    ``step()`` to count epochs; active in ``[begin, end)``."""

    need_val_args = True

    def __init__(self, optimizer: torch.optim.Optimizer, param_name: str, monitor: str = "loss",
                 rule: str = "less", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_rule: str = "rel", cooldown: int = 0,
                 min_value: float | Sequence[float] = 0.0, eps: float = 1e-8, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        self.monitor = monitor
        rule = check_choice("rule", rule, ("less", "greater"))
        if factor >= 1.0:
            raise ValueError(f"'factor' must be < 1.0 (got {factor!r})")
        values = per_group("min_value", min_value, optimizer)
        self._plateau = Plateau(mode="min" if rule == "less" else "max", factor=factor,
                                patience=patience, threshold=threshold,
                                threshold_mode=threshold_rule, cooldown=cooldown,
                                min_value=[float(v) for v in values], eps=eps,
                                applies_to=(param_name,))
        self._epochs = 0
        super().__init__(optimizer, param_name, begin, end, last_step, by_epoch, verbose)

    def _controller(self) -> Plateau | None:
        return self._plateau

    def step(self, metrics: Mapping[str, Any] | None = None) -> None:  # type: ignore[override]
        if metrics is None:
            self._epochs += 1
            return
        if not isinstance(metrics, Mapping):
            raise TypeError(f"'metrics' must be a dict of metric values (got {metrics!r})")
        if self.monitor not in metrics:
            raise KeyError(f"the monitored metric {self.monitor!r} is not in {list(metrics)}")
        if self.begin <= self._epochs < self.end:
            self._t += 1
            self.report(metrics[self.monitor])


def _fixed(base: type[ParamScheduler], param_name: str, name: str) -> type[ParamScheduler]:
    """MMEngine's ``...LR`` and ``...Momentum`` twins: the same scheduler on one hyperparameter
    (``momentum`` is ``betas[0]`` on Adam)."""

    def __init__(self: ParamScheduler, optimizer: torch.optim.Optimizer, *args: Any,
                 **kwargs: Any) -> None:
        base.__init__(self, optimizer, param_name, *args, **kwargs)

    cls = type(name, (base,), {"__init__": __init__, "__doc__": base.__doc__,
                               "__module__": __name__, "param": param_name})
    cls.__qualname__ = name
    return cls


_FAMILIES = {
    "Step": StepParamScheduler, "MultiStep": MultiStepParamScheduler,
    "Constant": ConstantParamScheduler, "Exponential": ExponentialParamScheduler,
    "CosineAnnealing": CosineAnnealingParamScheduler, "Linear": LinearParamScheduler,
    "Poly": PolyParamScheduler, "OneCycle": OneCycleParamScheduler,
    "CosineRestart": CosineRestartParamScheduler, "ReduceOnPlateau": ReduceOnPlateauParamScheduler,
}
SCHEDULERS: dict[str, type[ParamScheduler]] = {
    f"{k}ParamScheduler": v for k, v in _FAMILIES.items()}
for _family, _base in _FAMILIES.items():
    SCHEDULERS[f"{_family}LR"] = _fixed(_base, "lr", f"{_family}LR")
    if _family != "OneCycle":
        SCHEDULERS[f"{_family}Momentum"] = _fixed(_base, "momentum", f"{_family}Momentum")
StepLR = SCHEDULERS["StepLR"]
StepMomentum = SCHEDULERS["StepMomentum"]
MultiStepLR = SCHEDULERS["MultiStepLR"]
MultiStepMomentum = SCHEDULERS["MultiStepMomentum"]
ConstantLR = SCHEDULERS["ConstantLR"]
ConstantMomentum = SCHEDULERS["ConstantMomentum"]
ExponentialLR = SCHEDULERS["ExponentialLR"]
ExponentialMomentum = SCHEDULERS["ExponentialMomentum"]
CosineAnnealingLR = SCHEDULERS["CosineAnnealingLR"]
CosineAnnealingMomentum = SCHEDULERS["CosineAnnealingMomentum"]
LinearLR = SCHEDULERS["LinearLR"]
LinearMomentum = SCHEDULERS["LinearMomentum"]
PolyLR = SCHEDULERS["PolyLR"]
PolyMomentum = SCHEDULERS["PolyMomentum"]
OneCycleLR = SCHEDULERS["OneCycleLR"]
CosineRestartLR = SCHEDULERS["CosineRestartLR"]
CosineRestartMomentum = SCHEDULERS["CosineRestartMomentum"]
ReduceOnPlateauLR = SCHEDULERS["ReduceOnPlateauLR"]
ReduceOnPlateauMomentum = SCHEDULERS["ReduceOnPlateauMomentum"]


def _arguments(cls: type[ParamScheduler]) -> list[str]:
    base = next(c for c in cls.__mro__ if "__init__" in c.__dict__ and c.__name__.endswith(
        "ParamScheduler"))
    names = list(inspect.signature(base).parameters)
    fixed = getattr(cls, "param", None)
    return [n for n in names if n not in ("optimizer", "self") and (n != "param_name" or not fixed)]


def build_schedulers(configs: Sequence[Mapping[str, Any]] | Mapping[str, Any],
                     optimizer: torch.optim.Optimizer,
                     epoch_length: int | None = None) -> Scheduler:
    """One :class:`cadence.Scheduler` from MMEngine's scheduler configs, stepped once per
    iteration (or once per epoch when every config is by epoch and no ``epoch_length`` is
    given). Plateau configs are fed with ``report(metric)``."""
    items = [configs] if isinstance(configs, Mapping) else list(configs)
    by_epoch = [c.get("by_epoch", True) for c in items]
    if epoch_length is None and any(by_epoch) and not all(by_epoch):
        raise ValueError("'epoch_length' is needed to combine by-epoch and by-iteration "
                         "schedulers")
    per_iteration = epoch_length is not None
    length = 1 if epoch_length is None else check_positive_int("epoch_length", epoch_length)
    factors: dict[str, list[list[Schedule]]] = {}
    plateau: Plateau | None = None
    probe = _Probe(optimizer)
    for i, raw in enumerate(items):
        cfg = dict(raw)
        kind = cfg.pop("type", None)
        if kind not in SCHEDULERS:
            names = sorted(SCHEDULERS)
            raise ValueError(f"unknown scheduler type {kind!r} in configs[{i}]"
                             f"{suggest(str(kind), names)} (known: {', '.join(names)})")
        cls = SCHEDULERS[kind]
        convert = cfg.pop("convert_to_iter_based", False)
        allowed = _arguments(cls)
        for key in cfg:
            if key not in allowed:
                raise ValueError(f"unknown key {key!r} for {kind} in configs[{i}]"
                                 f"{suggest(key, allowed)} (valid keys: {', '.join(allowed)})")
        if convert and cfg.get("by_epoch", True):
            if epoch_length is None:
                raise ValueError(f"configs[{i}] asks for convert_to_iter_based: pass "
                                 "'epoch_length'")
            built = cls.build_iter_from_epoch(probe.optimizer, **cfg, epoch_length=length)
        else:
            built = cls(probe.optimizer, **cfg)
        param = built.param_name
        for index, schedule in enumerate(built.windows):
            if per_iteration and built.by_epoch:
                schedule = Quantize(schedule, every=length)
            factors.setdefault(param, [[] for _ in optimizer.param_groups])[index].append(schedule)
        if built.plateau is not None:
            plateau = built.plateau
        probe.reset()
    specs: dict[str, Any] = {}
    for param, per_group_parts in factors.items():
        schedules = [product(parts) for parts in per_group_parts]
        specs[param] = GroupSchedules(schedules, absolute=False).spec()[0]
    for group, initial in zip(optimizer.param_groups, probe.initial_lr):
        if initial is not None:
            group["initial_lr"] = initial
    return Scheduler(optimizer, count="calls", plateau=plateau, **specs)


class _Probe:
    """Builds each config's scheduler on a copy of the optimizer's groups, to read its
    schedules without touching the real optimizer."""

    optimizer: torch.optim.Optimizer

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self._source = optimizer
        self.initial_lr: list[float | None] = [None] * len(optimizer.param_groups)
        self.reset()

    def reset(self) -> None:
        if hasattr(self, "optimizer"):
            for i, group in enumerate(self.optimizer.param_groups):
                if "max_lr" in group:  # a OneCycle config moved the base, as MMEngine does
                    self.initial_lr[i] = group["initial_lr"]
        groups = []
        for group, initial in zip(self._source.param_groups, self.initial_lr):
            copy = {k: v for k, v in group.items() if k != "params"}
            if initial is not None:
                copy["initial_lr"] = initial
            copy["params"] = [torch.zeros(1, requires_grad=True)]
            groups.append(copy)
        self.optimizer = _Blank(groups)


class _Blank(torch.optim.Optimizer):
    """An optimizer with no defaults of its own: the probe's groups keep exactly their keys."""

    def __init__(self, groups: list[dict[str, Any]]) -> None:
        super().__init__(groups, {})
