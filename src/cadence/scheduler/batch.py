"""Batch-size scaling of the learning rate (the warm-restart scheduler's rules).

With ``ratio = batch_size / base_batch_size``:

- ``"linear"``: ``ratio`` (Goyal et al.'s linear scaling rule),
- ``"sqrt"``: ``sqrt(ratio)`` (the rule for adaptive optimizers),
- ``"blend"``: ``(ratio + sqrt(ratio)) / 2``.

>>> batch_factor("sqrt", 256, 64)
2.0
"""

from __future__ import annotations

import math

from cadence.validation import InvalidValue, check_choice, check_positive

MODES = ("linear", "sqrt", "blend")


def check_settings(mode: object, base_batch_size: object) -> tuple[str | None, float]:
    """``batch_size_mode`` checked, and the base batch size it needs (1 without a mode)."""
    if mode is None:
        return None, 1.0
    checked = check_choice("batch_size_mode", mode, MODES)
    if base_batch_size is None:
        raise InvalidValue("'base_batch_size' must be given with 'batch_size_mode'")
    return checked, check_positive("base_batch_size", base_batch_size)


def batch_factor(mode: str | None, batch_size: float | None, base_batch_size: float) -> float:
    """The multiplier for ``batch_size`` under ``mode`` (1 without a mode or a batch size)."""
    if mode is None or batch_size is None:
        return 1.0
    ratio = batch_size / base_batch_size
    if mode == "linear":
        return ratio
    if mode == "sqrt":
        return math.sqrt(ratio)
    return 0.5 * ratio + 0.5 * math.sqrt(ratio)


def check_batch_size(value: object) -> float:
    """A positive batch size."""
    return check_positive("batch_size", value)
