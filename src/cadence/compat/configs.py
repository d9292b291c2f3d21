"""``cadence.build``: a scheduler from a config (dict, list, JSON or YAML file).

A config is one of:

- a schedule config (``{"type": "cosine", "steps": 1000}``): a :class:`cadence.Scheduler` on lr;
- ``{"type": "scheduler", "lr": <schedule config>, "momentum": ..., **Scheduler options}``,
  where a hyperparameter may also map group names to schedule configs, and ``plateau`` holds
  :class:`cadence.ReduceOnPlateau`'s arguments; ``"targets": [names]`` declares which keys
  are targets (values outside the optimizer, such as ``kl_weight``), whose places the code
  passes: ``build(config, optimizer, targets={"kl_weight": cadence.Attribute(loss, ...)})``;
- ``{"type": "WarmRestartScheduler", ...}`` (or ``"LRScheduler"``): the all-in-one
  warm-restart scheduler;
- ``{"type": "torch.<Class>", ...}``: a PyTorch drop-in (``schedulers`` nested, ``lr_lambda`` a
  schedule config);
- ``{"type": "transformers.<name>", "num_warmup_steps": ..., ...}``: a transformers factory;
- ``{"type": "mmengine.<Class>", ...}``, or MMEngine's list of ``dict(type=...)`` configs;
- ``{"type": "d2l.<Class>", ...}``: a d2l schedule, as absolute lrs.

Unknown types and keys are refused with the nearest valid name.

>>> import torch
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> sched = build({"type": "torch.StepLR", "step_size": 2, "gamma": 0.5}, opt)
>>> type(sched).__name__, sched.get_last_lr()
('StepLR', [0.1])
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from cadence.compat import d2l, lr_scheduler, mmengine_shapes, transformers
from cadence.compat.all_in_one import WarmRestartScheduler
from cadence.config.io import config_path, from_config, read_config
from cadence.config.registry import registered, suggest
from cadence.scheduler import ReduceOnPlateau, Scheduler
from cadence.scheduler.clock import as_clock
from cadence.scheduler.slots import NotAHyperparameter
from cadence.schedules import Schedule
from cadence.validation import InvalidType, InvalidValue

_TORCH = [n for n in lr_scheduler.__all__ if isinstance(getattr(lr_scheduler, n), type)
          and n not in ("LRScheduler", "_LRScheduler")]
_MMENGINE = sorted(mmengine_shapes.TYPES)
_D2L = list(d2l.__all__)


def known_types() -> list[str]:
    """Every ``type`` that :func:`build` takes."""
    return sorted([*registered(), "scheduler", "WarmRestartScheduler", "LRScheduler",
                   *(f"torch.{n}" for n in _TORCH),
                   *(f"transformers.{n}" for n in transformers.SCHEDULES),
                   *(f"mmengine.{n}" for n in _MMENGINE), *(f"d2l.{n}" for n in _D2L)])


def _check(kind: str, target: Callable[..., Any], keys: list[str], skip: tuple[str, ...]) -> None:
    """``keys`` are keys ``target`` takes, and every key it needs is there."""
    params = inspect.signature(target).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        valid = [n for n in params if n not in skip]
        for key in keys:
            if key not in valid:
                raise InvalidValue(f"unknown key {key!r} for config type {kind!r}"
                                   f"{suggest(key, valid)} (valid keys: {', '.join(valid)})")
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    needed = [n for n, p in params.items() if n not in skip and p.kind in named
              and p.default is inspect.Parameter.empty]
    missing = [n for n in needed if n not in keys]
    if missing:
        raise InvalidValue(f"config type {kind!r} needs the key {missing[0]!r} "
                           f"(needed: {', '.join(needed)})")


def _schedule(value: Any) -> Any:
    return from_config(value) if isinstance(value, Mapping) and "type" in value else value


def build(config: Any, optimizer: torch.optim.Optimizer, *,
          epoch_length: int | None = None, targets: Mapping[str, Any] | None = None) -> Any:
    """The scheduler a config describes, on ``optimizer`` (see the module's documentation).
    ``epoch_length`` is MMEngine's iterations per epoch, for by-epoch configs; ``targets``
    gives the place of each target a ``scheduler`` config declares.

    >>> import torch
    >>> import cadence
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = cadence.build({
    ...     "type": "scheduler",
    ...     "lr": {"type": "warmup", "steps": 10, "schedule": {"type": "cosine", "steps": 90}},
    ...     "momentum": {"type": "linear", "start": 1.0, "end": 0.95, "steps": 100}}, opt)
    >>> type(sched).__name__, sched.value_at(10)
    ('Scheduler', {'lr': [0.1], 'momentum': [0.8955]})
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> sched = cadence.build({"type": "transformers.linear",
    ...                        "num_warmup_steps": 10, "num_training_steps": 100}, opt)
    >>> type(sched).__name__, round(sched.lr_lambdas[0](55), 6)
    ('LambdaLR', 0.5)
    """
    if isinstance(config, (str, Path)):
        config = read_config(config_path(config, "config"))
    if targets is not None and not (isinstance(config, Mapping)
                                    and config.get("type") == "scheduler"):
        raise InvalidValue("'targets' are for a config of type 'scheduler' that declares them "
                           f"(got a config of type {_kind_of(config)!r})")
    if isinstance(config, list):
        return mmengine_shapes.build_schedulers(config, optimizer, epoch_length=epoch_length)
    if not isinstance(config, Mapping) or "type" not in config:
        raise InvalidType(f"a scheduler config must be a dict with a 'type' key, or a list of "
                          f"MMEngine configs (got {config!r})")
    kind = config["type"]
    args = {k: v for k, v in config.items() if k != "type"}
    if not isinstance(kind, str):
        raise InvalidType(f"config 'type' must be a str (got {kind!r})")
    if kind in registered():
        return Scheduler(optimizer, lr=from_config(config))
    if kind == "scheduler":
        return _scheduler(args, optimizer, targets)
    if kind in ("WarmRestartScheduler", "LRScheduler"):
        _check(kind, WarmRestartScheduler, list(args), ("optimizer",))
        return WarmRestartScheduler(optimizer, **args)
    family, _, name = kind.partition(".")
    if family == "torch" and name in _TORCH:
        return _torch(kind, name, args, optimizer)
    if family == "transformers" and name in transformers.SCHEDULES:
        warmup, total = args.pop("num_warmup_steps", None), args.pop("num_training_steps", None)
        return transformers.get_scheduler(name, optimizer, warmup, total, args)
    if family == "mmengine" and name in _MMENGINE:
        return mmengine_shapes.build_schedulers([{"type": name, **args}], optimizer,
                                         epoch_length=epoch_length)
    if family == "d2l" and name in _D2L:
        cls = getattr(d2l, name)
        _check(kind, cls, list(args), ())
        return Scheduler(optimizer, lr=cls(**args).schedule, absolute=True)
    names = known_types()
    raise InvalidValue(f"unknown config type {kind!r}{suggest(kind, names)} "
                       f"(known types: {', '.join(names)})")


def _kind_of(config: Any) -> Any:
    return config.get("type") if isinstance(config, Mapping) else type(config).__name__


def declared_targets(args: Mapping[str, Any]) -> list[str]:
    """The names a ``scheduler`` config's ``targets`` key declares (none without one)."""
    names = args.get("targets", [])
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise InvalidType(f"a 'scheduler' config's 'targets' must be a list of names (got "
                          f"{names!r})")
    for name in names:
        if name not in args:
            raise InvalidValue(f"the config declares the target {name!r} and gives it no "
                               f"schedule: add '{name}': <schedule config>")
    return names


def _places(names: list[str], targets: Mapping[str, Any] | None) -> dict[str, Any]:
    given = {} if targets is None else targets
    if not isinstance(given, Mapping):
        raise InvalidType(f"'targets' must be a dict from names to targets (got {given!r})")
    missing = [n for n in names if n not in given]
    if missing:
        raise InvalidValue(
            f"the config declares the target {missing[0]!r}: pass where it lives, "
            f"build(config, optimizer, targets={{{missing[0]!r}: cadence.Attribute(obj, "
            f"{missing[0]!r})}}) (declared: {names})")
    extra = [n for n in given if n not in names]
    if extra:
        raise InvalidValue(f"'targets' names {extra[0]!r}, which the config does not declare "
                           f"(its 'targets': {names})")
    return dict(given)


def _scheduler(args: dict[str, Any], optimizer: torch.optim.Optimizer,
               targets: Mapping[str, Any] | None = None) -> Scheduler:
    options = ("absolute", "batch_size_mode", "base_batch_size", "batch_scaled", "count",
               "plateau", "start_step", "clock")
    names = declared_targets(args)
    args = {k: v for k, v in args.items() if k != "targets"}
    if "clock" in args:  # lengths with units become the clock's, before anything is built
        args["clock"] = as_clock(args["clock"])
        args = {k: v if k in options else args["clock"].resolve(v, f"config[{k!r}]")
                for k, v in args.items()}
    kwargs: dict[str, Any] = {}
    for key, value in args.items():
        if key in options:
            kwargs[key] = value
        elif isinstance(value, Mapping) and "type" not in value:
            kwargs[key] = {selector: _schedule(v) for selector, v in value.items()}
        else:
            kwargs[key] = _schedule(value)
    if not any(key not in options for key in kwargs):
        raise InvalidValue("config type 'scheduler' needs at least one hyperparameter to "
                           "schedule, e.g. 'lr': {'type': 'cosine', 'steps': 1000} (got keys "
                           f"{list(args)})")
    if isinstance(kwargs.get("plateau"), Mapping):
        _check("scheduler.plateau", ReduceOnPlateau, list(kwargs["plateau"]), ())
        kwargs["plateau"] = ReduceOnPlateau(**kwargs["plateau"])
    try:
        return Scheduler(optimizer, targets=_places(names, targets), **kwargs)
    except NotAHyperparameter as exc:
        raise exc.reworded(
            f"the config schedules {exc.name!r}, which is not a hyperparameter of param group "
            f"{exc.index} (it has: {', '.join(exc.keys)}): {target_hint(exc.name, names)}, "
            f"and pass where it lives: cadence.build(config, optimizer, targets={{"
            f"{exc.name!r}: cadence.Attribute(obj, {exc.name!r})}})") from None


def target_hint(name: str, declared: list[str]) -> str:
    """How a ``scheduler`` config that declares the targets ``declared`` makes ``name`` one.

    >>> target_hint("kl_weight", ["ema_decay"]).split(": ", 1)[1]
    "'targets: [ema_decay, kl_weight]'"
    """
    listed = ", ".join([*declared, name])
    return (f"if {name!r} is a value outside the optimizer (a loss weight, an EMA decay), "
            f"declare it in the config's targets: 'targets: [{listed}]'")


def _torch(kind: str, name: str, args: dict[str, Any], optimizer: torch.optim.Optimizer) -> Any:
    cls = getattr(lr_scheduler, name)
    _check(kind, cls, list(args), ("optimizer",))
    if "schedulers" in args:
        if not isinstance(args["schedulers"], list):
            raise InvalidType(f"{kind}'s 'schedulers' must be a list of scheduler configs "
                              f"(got {args['schedulers']!r})")
        args["schedulers"] = [build(c, optimizer) for c in args["schedulers"]]
    if "lr_lambda" in args:
        value = args["lr_lambda"]
        args["lr_lambda"] = ([_schedule(v) for v in value] if isinstance(value, list)
                             else _schedule(value))
        for fn in args["lr_lambda"] if isinstance(args["lr_lambda"], list) else [args["lr_lambda"]]:
            if not isinstance(fn, Schedule):
                raise InvalidValue(f"{kind}'s 'lr_lambda' must be a schedule config in a config "
                                   f"(got {fn!r})")
    if name == "ChainedScheduler":
        return cls(args["schedulers"], optimizer=optimizer)
    return cls(optimizer, **args)
