"""Pure schedules: closed-form functions of the training step, and their algebra.

Nothing here imports torch. Every schedule is an immutable value that evaluates one step (a
float) or a numpy array of steps (a float64 array) through the same formula, pickles, compares,
and round-trips through :func:`cadence.from_config`.

>>> from cadence.schedules import Linear, CosineRestarts, join
>>> lr = join([Linear(start=0.05, end=1.0, steps=100),
...            CosineRestarts(period=200, period_mult=2, decay=0.97, low=0.2, high=2.0)],
...           boundaries=[100])
>>> round(lr(50), 6), round(lr(100), 6), round(lr(300), 6)
(0.525, 2.0, 1.946)
"""

from cadence.schedules.anneal import (
    Constant,
    Cosine,
    CosineWave,
    Geometric,
    Linear,
    OneMinusSqrt,
    Polynomial,
)
from cadence.schedules.base import Mark, Schedule
from cadence.schedules.branch import Cooldown, Extend, Switch
from cadence.schedules.combinators import (
    Clip,
    Join,
    Offset,
    Product,
    Quantize,
    Repeat,
    Reverse,
    Scale,
    Shift,
    Stretch,
    Sum,
    join,
    product,
)
from cadence.schedules.cyclic import Cyclic, OneCycle
from cadence.schedules.decay import Exponential, InverseSqrt, MultiStep, Noam, Step
from cadence.schedules.ema import EMAWarmup
from cadence.schedules.function import Lambda, Multiplicative
from cadence.schedules.restarts import CosineRestarts
from cadence.schedules.warmup import Warmup
from cadence.schedules.wsd import WSD

__all__ = [
    "WSD",
    "Clip",
    "Constant",
    "Cooldown",
    "Cosine",
    "CosineRestarts",
    "CosineWave",
    "Cyclic",
    "EMAWarmup",
    "Exponential",
    "Extend",
    "Geometric",
    "InverseSqrt",
    "Join",
    "Lambda",
    "Linear",
    "Mark",
    "MultiStep",
    "Multiplicative",
    "Noam",
    "Offset",
    "OneCycle",
    "OneMinusSqrt",
    "Polynomial",
    "Product",
    "Quantize",
    "Repeat",
    "Reverse",
    "Scale",
    "Schedule",
    "Shift",
    "Step",
    "Stretch",
    "Sum",
    "Switch",
    "Warmup",
    "join",
    "product",
]
