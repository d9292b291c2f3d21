"""What each param group holds: its hyperparameters and its parameters, by name and shape."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from cadence.scheduler.slots import as_float

SHOWN = ("lr", "momentum", "betas", "eps", "weight_decay")


@dataclass
class GroupSummary:
    """One param group: its index, optional name, hyperparameters and (name, shape) of its
    parameters (names from the model; ``None`` for parameters the model does not know)."""

    index: int
    name: str | None
    hyperparameters: dict[str, Any]
    params: list[tuple[str | None, tuple[int, ...]]] = field(default_factory=list)

    @property
    def numel(self) -> int:
        """The number of elements of its parameters."""
        return sum(math.prod(shape) for _, shape in self.params)


def _plain(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return as_float(value)
    if isinstance(value, (tuple, list)):
        return tuple(_plain(v) for v in value)
    return value


def summarize_param_groups(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer
) -> tuple[list[GroupSummary], list[tuple[str, tuple[int, ...]]]]:
    """Each group's summary, and the model's parameters that are in no group."""
    names = {id(p): n for n, p in model.named_parameters()}
    seen: set[int] = set()
    groups = []
    for i, group in enumerate(optimizer.param_groups):
        shown = {k: _plain(group[k]) for k in SHOWN if k in group}
        params = []
        for p in group["params"]:
            seen.add(id(p))
            params.append((names.get(id(p)), tuple(p.shape)))
        groups.append(GroupSummary(i, group.get("name"), shown, params))
    missing = [(n, tuple(p.shape)) for n, p in model.named_parameters() if id(p) not in seen]
    return groups, missing
