"""Tools that show what a schedule will do: curves, plots, summaries, terminal previews."""

from cadence.tools.curves import Curve, curves, load
from cadence.tools.presets import PRESETS, preset
from cadence.tools.preview import preview, sparkline

__all__ = ["PRESETS", "Curve", "curves", "load", "preset", "preview", "sparkline"]
