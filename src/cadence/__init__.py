"""cadence: exact, composable schedules for every optimizer hyperparameter in PyTorch.

The pure schedule layer (:mod:`cadence.schedules`) and configs (:mod:`cadence.config`) never
import torch; ``cadence.Scheduler`` and the other torch-bound names load it on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from cadence import schedules
from cadence.config import dump_config, from_config, load_config, read_config, register, to_config
from cadence.validation import InvalidInput

__version__ = "0.2.0"
"""cadence's version: ``cadence --version`` prints it; the package's metadata reads it."""

# name -> module, imported on first access so that `import cadence` does not import torch
_LAZY = {
    "Scheduler": "cadence.scheduler",
    "Clock": "cadence.scheduler.clock",
    "BatchRamp": "cadence.schedules.units",
    "Attribute": "cadence.scheduler",
    "EMAUpdate": "cadence.scheduler",
    "Item": "cadence.scheduler",
    "LooksLikeRates": "cadence.scheduler",
    "Modules": "cadence.scheduler",
    "TensorValue": "cadence.scheduler",
    "PlateauScheduler": "cadence.scheduler",
    "ReduceOnPlateau": "cadence.scheduler",
    "LRScheduler": "cadence.compat",
    "WarmRestartScheduler": "cadence.compat",
    "build": "cadence.compat",
}

__all__ = [
    "Attribute",
    "BatchRamp",
    "Clock",
    "EMAUpdate",
    "InvalidInput",
    "Item",
    "LRScheduler",
    "LooksLikeRates",
    "Modules",
    "PlateauScheduler",
    "ReduceOnPlateau",
    "Scheduler",
    "TensorValue",
    "WarmRestartScheduler",
    "__version__",
    "build",
    "dump_config",
    "from_config",
    "load_config",
    "read_config",
    "register",
    "schedules",
    "to_config",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cadence' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
