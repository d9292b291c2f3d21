"""Named schedules for the command line, sized to a training length of ``steps``.

>>> preset("warmup-cosine", 1000)(50)
1.0
>>> sorted(PRESETS)[:4]
['constant', 'cosine', 'cosine-restarts', 'cyclic']
"""

from __future__ import annotations

from collections.abc import Callable

from cadence.compat.all_in_one_shapes import lr_scale
from cadence.config.registry import suggest
from cadence.schedules import (
    WSD,
    Constant,
    Cosine,
    CosineRestarts,
    Cyclic,
    Exponential,
    InverseSqrt,
    Linear,
    MultiStep,
    Noam,
    OneCycle,
    Polynomial,
    Schedule,
    Step,
    Warmup,
)
from cadence.validation import InvalidType, InvalidValue, check_positive_int


def _noam(steps: int) -> Schedule:
    warmup = max(1, steps // 10)
    return Noam(d_model=512, warmup_steps=warmup, scale=(512 * warmup) ** 0.5)  # peak 1


def _warm_restarts(steps: int) -> Schedule:
    """The all-in-one warm-restart scheduler's curve (``0.2 + 1.8 * lr_scale``, its default
    range) sized to ``steps``: a warm-up of about a tenth, then three cycles of lengths
    T_0, 2 T_0, 4 T_0 that end exactly at ``steps`` (T_0 is an int, as the scheduler takes it,
    so the warm-up absorbs the remainder)."""
    t_0 = max(1, (steps - steps // 10) // 7)
    return 1.8 * lr_scale(warmup_steps=steps - 7 * t_0, T_0=t_0, T_mult=2) + 0.2


PRESETS: dict[str, Callable[[int], Schedule]] = {
    "constant": lambda n: Constant(1.0),
    "linear": lambda n: Linear(start=1.0, end=0.0, steps=n),
    "step": lambda n: Step(every=n / 3, gamma=0.1),  # drops at n/3 and 2n/3; the third at n
    "multistep": lambda n: MultiStep(milestones=[max(1, n // 2), max(2, 3 * n // 4)], gamma=0.1),
    "exponential": lambda n: Exponential(rate=0.01 ** (1 / n)),
    "polynomial": lambda n: Polynomial(start=1.0, end=0.0, steps=n, power=2.0),
    "inverse-sqrt": lambda n: InverseSqrt(timescale=max(1, n // 10)),
    "cosine": lambda n: Cosine(start=1.0, end=0.0, steps=n),
    "warmup-cosine": lambda n: Warmup(Cosine(start=1.0, end=0.0, steps=n - max(1, n // 20)),
                                      steps=max(1, n // 20)),
    # three cycles of n/7, 2n/7 and 4n/7: the next restart is at n, after the last step
    "cosine-restarts": lambda n: CosineRestarts(period=n / 7, period_mult=2),
    "cyclic": lambda n: Cyclic(start=0.1, peak=1.0, up_steps=n / 8, mode="triangular2"),
    "one-cycle": lambda n: OneCycle(total_steps=n),
    "wsd": lambda n: WSD(warmup_steps=n // 20, decay_steps=n // 5, total_steps=n),
    "noam": _noam,
    "warm-restarts": _warm_restarts,
}
"""Each preset's name and the function that sizes it to a training of ``steps`` steps."""


def preset(name: str, steps: int = 1000) -> Schedule:
    """The preset ``name`` for a training of ``steps`` steps.

    ``PRESETS`` maps each name to the function that sizes it; ``cadence presets`` lists them.

    >>> from cadence.tools import PRESETS, preset
    >>> preset("cosine", 1000)
    Cosine(start=1.0, end=0.0, steps=1000)
    >>> preset("wsd", 1000)(500), len(PRESETS)
    (1.0, 15)
    """
    check_positive_int("steps", steps)
    if not isinstance(name, str):
        raise InvalidType(f"'name' must be the name of a preset, a str (got {name!r})")
    if name not in PRESETS:
        names = sorted(PRESETS)
        raise InvalidValue(f"unknown preset {name!r}{suggest(name, names)} "
                           f"(presets: {', '.join(names)})")
    if steps < 20:
        raise InvalidValue(f"'steps' must be at least 20 for a preset (got {steps})")
    return PRESETS[name](steps)
