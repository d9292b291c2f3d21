"""Tools that show what a schedule will do before a GPU-day is spent on it: plots, summaries,
terminal previews, the LR range test, param-group inspection and hyperparameter logging.

They take a schedule, a scheduler, a config (dict, JSON/YAML file, inline JSON) or a preset name,
and never change an optimizer's state.
"""

from cadence.tools.curves import Curve, curves, load
from cadence.tools.describe import CurveSummary, Description, Jump, describe
from cadence.tools.find_lr import LRFinderResult, NoSuggestion, Suggestion, find_lr
from cadence.tools.inspection import ParamGroupReport, inspect_param_groups
from cadence.tools.plot import plot
from cadence.tools.presets import PRESETS, preset
from cadence.tools.preview import preview, sparkline
from cadence.tools.record import HyperparameterLog

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
