"""Anything the tools show, turned into curves: a schedule, a scheduler, a config (dict, list,
file, inline JSON) or a preset name, evaluated over a range of steps.

Schedulers are read through :meth:`cadence.Scheduler.value_at`, so nothing in their optimizer
changes. Configs and presets are previewed on a stand-in optimizer whose lr, momentum and weight
decay are 1: their curves are the factors applied to a group's own values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cadence.compat.configs import build
from cadence.config.io import from_config, read_config
from cadence.config.registry import registered
from cadence.schedules import Mark, Schedule
from cadence.tools.presets import PRESETS, preset
from cadence.validation import InvalidType, InvalidValue


@dataclass
class Curve:
    """One hyperparameter of one param group over ``steps``, with its schedule's landmarks."""

    label: str
    hyperparameter: str
    group: int | None
    steps: np.ndarray
    values: np.ndarray
    marks: list[Mark] = field(default_factory=list)


def stand_in_optimizer() -> torch.optim.Optimizer:
    """One param group whose lr, momentum and weight decay are 1 (so values are factors)."""
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0, momentum=1.0,
                           weight_decay=1.0)


def parse(spec: Any) -> Any:
    """What a spec names, before anything is built: a Schedule or Scheduler as is, a preset
    name (a str), or config data (a dict or an MMEngine list) from a file or inline JSON."""
    if isinstance(spec, Path):
        return read_config(spec)
    if not isinstance(spec, str):
        return spec
    text = spec.strip()
    if text.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidValue(f"inline JSON does not parse: {exc}") from None
    if Path(text).suffix.lower() in (".json", ".yaml", ".yml"):
        if not Path(text).exists():
            raise InvalidValue(f"no such file: {text!r}")
        return read_config(text)
    return text


def is_scheduler(value: object) -> bool:
    """A cadence Scheduler or drop-in: it has the read API (``hyperparameters``,
    ``schedules``, ``value_at``)."""
    return all(hasattr(value, a) for a in ("hyperparameters", "schedules", "value_at"))


def load(spec: Any, steps: int = 1000) -> Any:
    """A schedule or scheduler from a spec: a Schedule or Scheduler as is; a preset name (sized
    to ``steps``); a JSON or YAML file; inline JSON; or a config dict / MMEngine list."""
    value = parse(spec)
    if isinstance(value, Schedule) or is_scheduler(value):
        return value
    if isinstance(value, str):
        return preset(value, steps)  # an unknown name is refused there, with the nearest
    if isinstance(value, dict) and value.get("type") in registered():
        schedule: Schedule = from_config(value)
        return schedule
    if isinstance(value, (dict, list)):
        return build(value, stand_in_optimizer())
    raise InvalidType(f"cannot show {spec!r}: give a schedule, a scheduler, a config, a file or "
                      "a preset name")


def curves(spec: Any, steps: Any, label: str | None = None) -> list[Curve]:
    """The curves of ``spec`` (see :func:`load`) at ``steps`` (an int N means 0 .. N-1)."""
    grid = np.arange(steps) if isinstance(steps, (int, np.integer)) else np.asarray(steps)
    horizon = float(grid.max()) if grid.size else 0.0
    source = load(spec, int(horizon) + 1)
    name = label or _label(spec, source)
    if isinstance(source, Schedule):
        return [Curve(name, "lr", None, grid, source(grid), source.marks(horizon))]
    if not source.hyperparameters:
        raise InvalidValue(f"{type(source).__name__} has no closed form to preview (a get_lr "
                           "override runs its own code)")
    values = source.value_at(grid)
    out = []
    for hyperparameter in source.hyperparameters:
        table = values[hyperparameter]
        schedules = source.schedules(hyperparameter)
        groups = table.shape[1]
        for g, schedule in enumerate(schedules[:groups]):
            if schedule is None:
                continue
            text = name if groups == 1 else f"{name} (group {g})"
            out.append(Curve(text, hyperparameter, g, grid, table[:, g], schedule.marks(horizon)))
    return out


def _label(spec: Any, source: Any) -> str:
    if isinstance(spec, str) and (spec in PRESETS or not spec.strip().startswith(("{", "["))):
        return Path(spec).stem if Path(spec).suffix else spec
    if isinstance(spec, Path):
        return spec.stem
    return str(getattr(source, "type_name", None) or type(source).__name__)
