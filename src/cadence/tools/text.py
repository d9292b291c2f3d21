"""Plain-text rendering shared by the tools: numbers and steps formatted for tables, and rich
renderables printed without colour.

>>> fmt_number(0.000123456), fmt_step(10.0), fmt_list(["1", "2"], limit=1)
('0.0001235', '10', '1, ... (2)')
"""

from __future__ import annotations

import io
from typing import Any

from cadence.validation import MissingPackage, check_positive_int

CELL_ITEMS = 6
WIDTH = 120


def fmt_number(value: Any, *, sign: bool = False) -> str:
    """A value with 4 significant digits (``-0`` shows as ``0``)."""
    number = float(value)
    if number == 0:
        return "0"
    return f"{number:+.4g}" if sign else f"{number:.4g}"


def fmt_step(step: Any) -> str:
    """A step: whole numbers without a decimal point, others with up to 6 digits."""
    value = float(step)
    return str(int(value)) if value.is_integer() else f"{value:.6g}"


def fmt_list(items: list[str], limit: int = CELL_ITEMS) -> str:
    """At most ``limit`` items, then ``... (N)`` with the total count; ``-`` when empty."""
    if not items:
        return "-"
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f", ... ({len(items)})"


def natural_width(renderable: Any, low: int = 80, high: int = 200) -> int:
    """The width ``renderable`` takes unwrapped, kept within ``[low, high]``."""
    rich = need_rich("measuring")
    console = rich.console.Console(width=high, file=io.StringIO(), color_system=None)
    measured = rich.measure.Measurement.get(console, console.options, renderable)
    return max(low, min(high, measured.maximum))


def render_text(renderable: Any, width: int = WIDTH) -> str:
    """``renderable`` printed by a recording rich console without colour, as plain text."""
    check_positive_int("width", width)
    rich = need_rich("rendering as text")
    console = rich.console.Console(record=True, width=width, file=io.StringIO(),
                                   color_system=None, force_terminal=False, highlight=False,
                                   soft_wrap=False)
    console.print(renderable)
    text: str = console.export_text()
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def need_rich(what: str) -> Any:
    """The rich modules, or an ImportError that says how to install them."""
    try:
        import rich.box
        import rich.console
        import rich.measure
        import rich.table
        import rich.text
    except ImportError as exc:  # pragma: no cover - rich is installed with the cli extra
        raise MissingPackage(f"{what} needs the 'rich' package: pip install 'cadence[cli]'"
                             ) from exc
    return rich
