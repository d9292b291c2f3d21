"""Stepping schedulers side by side: the lr a one-parameter SGD holds after each update."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import torch


def lrs_per_step(module: ModuleType, make: Callable[[ModuleType, torch.optim.Optimizer], Any],
                 steps: int, *, lr: float = 1.0, momentum: float = 0.0) -> list[list[float]]:
    """Every group's lr after each of ``steps`` updates of ``SGD(lr, momentum)`` on one
    parameter, stepping (in order) the schedulers ``make(module, optimizer)`` returns."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=momentum)
    schedulers = make(module, opt)
    out = []
    for _ in range(steps):
        opt.step()
        for scheduler in schedulers:
            scheduler.step()
        out.append([float(g["lr"]) for g in opt.param_groups])
    return out
