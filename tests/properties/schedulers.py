"""Every scheduler class of the public surface, built and stepped the same way: the drop-ins of
all three families (PyTorch's, transformers' factories, MMEngine's) found by walking the
package (:mod:`properties.surface`), and cadence's own ``Scheduler`` under both counts."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch
from properties.surface import (
    CONSTRUCTORS,
    MMParamScheduler,
    TorchLRScheduler,
    TorchPlateau,
    baseline,
    call,
    make_optimizer,
)

from cadence import PlateauScheduler, ReduceOnPlateau, Scheduler
from cadence.schedules import Cosine, Linear, Warmup

Make = Callable[[torch.optim.Optimizer], Any]
KINDS = (TorchLRScheduler, TorchPlateau, MMParamScheduler)


def _builds_a_scheduler(entry: Any) -> bool:
    if inspect.isclass(entry.obj):
        return issubclass(entry.obj, KINDS)
    return isinstance(call(entry, baseline(entry, make_optimizer())), KINDS)


def _surface() -> list[tuple[str, Make]]:
    found = []
    for entry in CONSTRUCTORS:
        if entry.obj in (Scheduler, PlateauScheduler) or not _builds_a_scheduler(entry):
            continue
        found.append((entry.id, lambda opt, e=entry: call(e, baseline(e, opt))))
    return found


def upstream(name: str) -> Make | None:
    """The upstream class (PyTorch's, MMEngine's) or transformers' factory that the drop-in
    ``name`` stands for, built with the arguments the suite gives the drop-in; None for
    cadence's own classes."""
    entry = next((e for e in CONSTRUCTORS if e.id == name), None)
    if entry is None:
        return None
    obj = entry.obj
    if inspect.isclass(obj):
        theirs = next((k for k in obj.__mro__[1:] if k.__name__ == obj.__name__
                       and k.__module__.startswith(("torch.", "mmengine."))), None)
    else:
        import transformers

        theirs = getattr(transformers, obj.__name__, None)
    if theirs is None or theirs is TorchLRScheduler:  # the abstract base computes nothing
        return None
    accepted = inspect.signature(theirs).parameters
    forwards = any(p.kind is p.VAR_KEYWORD for p in accepted.values())  # MMEngine's LR twins

    def build(opt: torch.optim.Optimizer) -> Any:
        return theirs(**{k: v for k, v in baseline(entry, opt).items()
                         if forwards or k in accepted})
    return build


def _native() -> list[tuple[str, Make]]:
    lr = Warmup(Cosine(start=1.0, end=0.1, steps=12), steps=3)
    out = []
    for count in ("updates", "calls"):
        out.append((f"cadence.Scheduler[{count}]", lambda opt, c=count: Scheduler(
            opt, lr=lr, momentum=Linear(start=1.0, end=0.9, steps=8), count=c)))
        out.append((f"cadence.PlateauScheduler[{count}]", lambda opt, c=count: Scheduler(
            opt, lr=lr, count=c, plateau=ReduceOnPlateau(patience=0, factor=0.5, sync=False))))
    return out


SCHEDULERS: list[tuple[str, Make]] = _native() + _surface()
IDS = [name for name, _ in SCHEDULERS]
