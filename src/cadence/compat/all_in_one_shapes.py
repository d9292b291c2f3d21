"""The pure description of the all-in-one :class:`~cadence.compat.all_in_one.WarmRestartScheduler`:
its ``lr_scale`` as a schedule, no torch needed (presets, plots and ``describe`` use it)."""

from __future__ import annotations

from collections.abc import Callable

from cadence.schedules import (
    Clip,
    Constant,
    Cosine,
    CosineRestarts,
    Lambda,
    Linear,
    Schedule,
    join,
    product,
)


def lr_scale(warmup_steps: int = 100, warmup_scale_min: float = 0.05,
             warmup_type: str = "linear", T_0: int = 200, T_mult: int = 2, gamma: float = 0.97,
             custom_lambda: Callable[[int], float] | None = None) -> Schedule:
    """The warm-restart scheduler's ``lr_scale`` without the batch factor, as a schedule:
    ``warm(k) * restart(k) * custom_lambda(k)``.

    >>> round(lr_scale()(150), 6)   # 50 steps into the first 200-step cosine
    0.853553
    """
    restarts = CosineRestarts(period=T_0, period_mult=T_mult, decay=gamma)
    parts: list[Schedule] = []
    if warmup_steps > 0:
        rise = Linear if warmup_type == "linear" else Cosine
        parts.append(Clip(rise(start=0.0, end=1.0, steps=warmup_steps), low=warmup_scale_min))
        parts.append(join([Constant(1.0), restarts], boundaries=[warmup_steps]))
    else:
        parts.append(restarts)
    if custom_lambda is not None:
        parts.append(Lambda(custom_lambda))
    return product(parts)
