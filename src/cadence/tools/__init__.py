"""Tools that show what a schedule will do before a GPU-day is spent on it: plots, summaries,
terminal previews, the LR range test, param-group inspection and hyperparameter logging.

They take a schedule, a scheduler, a config (dict, JSON/YAML file, inline JSON) or a preset name,
and never change an optimizer's state. Every name is imported on first use, so that a tool
that only reads schedules (a preview, a summary) does not import torch or matplotlib.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cadence.tools.curves import Curve, curves, load
    from cadence.tools.describe import CurveSummary, Description, Jump, describe
    from cadence.tools.find_lr import LRFinderResult, NoSuggestion, Suggestion, find_lr
    from cadence.tools.inspection import ParamGroupReport, inspect_param_groups
    from cadence.tools.plot import plot
    from cadence.tools.presets import PRESETS, preset
    from cadence.tools.preview import preview, sparkline
    from cadence.tools.record import HyperparameterLog

# name -> the module that defines it
_LAZY = {
    "Curve": "cadence.tools.curves",
    "curves": "cadence.tools.curves",
    "load": "cadence.tools.curves",
    "CurveSummary": "cadence.tools.describe",
    "Description": "cadence.tools.describe",
    "Jump": "cadence.tools.describe",
    "describe": "cadence.tools.describe",
    "LRFinderResult": "cadence.tools.find_lr",
    "NoSuggestion": "cadence.tools.find_lr",
    "Suggestion": "cadence.tools.find_lr",
    "find_lr": "cadence.tools.find_lr",
    "ParamGroupReport": "cadence.tools.inspection",
    "inspect_param_groups": "cadence.tools.inspection",
    "plot": "cadence.tools.plot",
    "PRESETS": "cadence.tools.presets",
    "preset": "cadence.tools.presets",
    "preview": "cadence.tools.preview",
    "sparkline": "cadence.tools.preview",
    "HyperparameterLog": "cadence.tools.record",
}

__all__ = [
    "PRESETS",
    "Curve",
    "CurveSummary",
    "Description",
    "HyperparameterLog",
    "Jump",
    "LRFinderResult",
    "NoSuggestion",
    "ParamGroupReport",
    "Suggestion",
    "curves",
    "describe",
    "find_lr",
    "inspect_param_groups",
    "load",
    "plot",
    "preset",
    "preview",
    "sparkline",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cadence.tools' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Tools(ModuleType):
    """This package: importing a submodule that shares its name with the function it defines
    (``plot``, ``preview``, ``describe``, ``curves``, ``find_lr``) binds the function here, not
    the module, so ``from cadence.tools import plot`` is the function whatever was imported
    first (as when this package imported them all)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and _LAZY.get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Tools
