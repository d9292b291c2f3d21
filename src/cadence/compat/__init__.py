"""Drop-ins that keep upstream names, built on cadence's schedules and its binding core.

Each upstream scheduler is two halves: a pure description (upstream's arguments in, one track
of per-group schedules out, no optimizer: :mod:`~cadence.compat.torch_shapes`,
:mod:`~cadence.compat.mmengine_shapes`) and a thin class that is an instance of upstream's
class of the same name, keeps upstream's attributes, state and chaining rules
(:mod:`~cadence.compat.chaining`), and hands the description to the binding core
(:mod:`cadence.scheduler.binder`). PyTorch's ``lr_scheduler``, transformers' factories,
MMEngine's param schedulers (which need MMEngine itself), d2l's schedulers, the all-in-one
:class:`WarmRestartScheduler` (also ``LRScheduler``, the name of the hand-written class it
replaces), and :func:`build` for configs.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {"LRScheduler": "cadence.compat.all_in_one",
         "WarmRestartScheduler": "cadence.compat.all_in_one", "build": "cadence.compat.configs"}

__all__ = ["LRScheduler", "WarmRestartScheduler", "build"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cadence.compat' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
