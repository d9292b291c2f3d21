"""Terminal previews of a schedule: a braille line plot and a one-line sparkline.

For machines without a display: both return plain text (Unicode braille and block characters).

>>> from cadence.schedules import Cosine
>>> sparkline(Cosine(start=1.0, end=0.0, steps=8), steps=9)
'██▇▆▄▃▂▁▁'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from cadence.validation import InvalidValue, check_optional, check_positive, check_positive_int

MAX_WIDTH = 1000  # characters; a preview holds width x height cells
MAX_HEIGHT = 500
BLOCKS = "▁▂▃▄▅▆▇█"
# Bit of each braille dot, by [column][row] inside a 2 x 4 cell.
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
_BRAILLE = 0x2800


def _values(schedule: Callable[[Any], Any], steps: np.ndarray) -> np.ndarray:
    """The schedule at ``steps``: finite values (any, up to the largest floats), or an
    InvalidValue naming the first step whose value is not (a preview has no place for it)."""
    values = np.asarray(schedule(steps), dtype=np.float64)
    if values.shape != steps.shape:
        raise InvalidValue(f"the schedule gave {values.shape} values for {steps.shape} steps")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InvalidValue(f"the schedule is {values[bad[0]]} at step {steps[bad[0]]:g}: a "
                           "preview draws finite values only")
    return values


def _scale(values: np.ndarray, log: bool) -> tuple[np.ndarray, float, float]:
    """Finite values mapped to [0, 1], and the (low, high) they span. On a log scale values
    at or below 0 sit at the lowest positive one, and at least one must be positive."""
    if log:
        positive = values[values > 0]
        if not positive.size:
            raise InvalidValue("a log scale needs a value above 0 (every value is at or below "
                               f"0, the highest {float(values.max()):.4g})")
        low, high = float(positive.min()), float(values.max())
        shown = np.log10(np.maximum(values, low))
        return _unit(shown, float(np.log10(low)), float(np.log10(high))), low, high
    low, high = float(values.min()), float(values.max())
    return _unit(values, low, high), low, high


def _unit(shown: np.ndarray, low: float, high: float) -> np.ndarray:
    """``(shown - low) / (high - low)`` in [0, 1] (0.5 where high == low), also where the span
    is beyond the largest float (from -1e308 to 1e308): then the halves are subtracted."""
    with np.errstate(over="ignore"):
        span = high - low
    if not span > 0:
        return np.full_like(shown, 0.5)
    if math.isfinite(span):
        unit = (shown - low) / span
    else:
        unit = (shown / 2 - low / 2) / (high / 2 - low / 2)
    return np.clip(unit, 0.0, 1.0)


def check_size(name: str, value: object, limit: int) -> int:
    """A positive int up to ``limit`` (a preview's width or height, in characters)."""
    number = check_positive_int(name, value)
    if number > limit:
        raise InvalidValue(f"{name!r} must be a positive int up to {limit} (got {value!r})")
    return number


def sparkline(schedule: Callable[[Any], Any], steps: int, width: int = 60) -> str:
    """One line of block characters: the schedule sampled at ``width`` steps over
    ``[0, steps - 1]``.

    >>> from cadence.schedules import Cosine, Warmup
    >>> from cadence.tools import sparkline
    >>> sparkline(Warmup(Cosine(steps=90), steps=10), 100, width=20)
    '▁▅███▇▇▇▆▅▅▄▄▃▂▂▂▁▁▁'
    """
    check_positive_int("steps", steps)
    check_size("width", width, MAX_WIDTH)
    grid = np.linspace(0, steps - 1, min(width, steps))
    unit, _, _ = _scale(_values(schedule, grid), log=False)
    return "".join(BLOCKS[round(float(u) * (len(BLOCKS) - 1))] for u in unit)


def preview(
    schedule: Callable[[Any], Any],
    steps: int,
    *,
    width: int = 60,
    height: int = 12,
    log: bool = False,
    title: str | None = None,
    steps_per_epoch: float | None = None,
    unit: str = "step",
) -> str:
    """A braille line plot of the schedule over steps ``0 .. steps - 1``, with its range on
    the y axis and the step range on the x axis (in epochs with ``steps_per_epoch``: step
    ``t`` is at epoch ``t / steps_per_epoch``; ``unit`` names what the steps count, e.g. a
    clock's ``"tokens"``). ``width`` (at most ``MAX_WIDTH``) and
    ``height`` (at most ``MAX_HEIGHT``) are in characters; each holds 2 x 4 dots.

    ``cadence preview SPEC`` prints it.

    >>> from cadence.schedules import Cosine
    >>> from cadence.tools import preview
    >>> text = preview(Cosine(steps=100), 100, width=30, height=6)
    >>> len(text.splitlines()) >= 6
    True
    """
    check_positive_int("steps", steps)
    check_size("width", width, MAX_WIDTH)
    check_size("height", height, MAX_HEIGHT)
    per_epoch = check_optional(check_positive, "steps_per_epoch", steps_per_epoch)
    columns, rows = 2 * width, 4 * height
    grid = np.linspace(0, steps - 1, columns)
    scaled, low, high = _scale(_values(schedule, grid), log)
    level = np.rint((1.0 - scaled) * (rows - 1)).astype(int)  # 0 is the top row of dots
    cells = np.zeros((height, width), dtype=np.int64)
    previous = level[0]
    for x, y in enumerate(level):
        # join neighbouring samples with a vertical run, so steep drops stay visible
        top, bottom = min(previous, y), max(previous, y)
        for dot_row in range(top, bottom + 1):
            cells[dot_row // 4, x // 2] |= _DOTS[x % 2][dot_row % 4]
        previous = y
    labels = [f"{high:.4g}", f"{low:.4g}"]
    pad = max(len(s) for s in labels)
    lines = [title] if title else []
    for r in range(height):
        label = labels[0] if r == 0 else labels[1] if r == height - 1 else ""
        row = "".join(chr(_BRAILLE + int(c)) for c in cells[r])
        lines.append(f"{label:>{pad}} ┤{row}")
    lines.append(" " * pad + " └" + "─" * width)
    lines.append(" " * (pad + 2) + _x_axis(steps, width, per_epoch, unit) +
                 (" (log scale)" if log else ""))
    return "\n".join(lines)


def _x_axis(steps: int, width: int, per_epoch: float | None, unit: str = "step") -> str:
    """``0``, the unit (``step``, a clock's ``samples`` or ``tokens``, or ``epoch``) in the
    middle, and the last step (or epoch)."""
    last = f"{steps - 1}" if per_epoch is None else f"{(steps - 1) / per_epoch:.4g}"
    unit = unit if per_epoch is None else "epoch"
    return f"0{unit:^{max(0, width - len(last) - 1)}}{last}"
