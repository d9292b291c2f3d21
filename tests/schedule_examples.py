"""Example schedules: one of every type, several of the richer ones."""

from __future__ import annotations

import math

from cadence.schedules import (
    WSD,
    Clip,
    Constant,
    Cosine,
    CosineRestarts,
    CosineWave,
    Cyclic,
    Exponential,
    Geometric,
    InverseSqrt,
    Lambda,
    Linear,
    Multiplicative,
    MultiStep,
    Noam,
    Offset,
    OneCycle,
    OneMinusSqrt,
    Polynomial,
    Product,
    Quantize,
    Repeat,
    Reverse,
    Scale,
    Shift,
    Step,
    Stretch,
    Sum,
    Warmup,
    join,
)


def halving_every_ten(step: int | float) -> float:
    """A module-level function, so the Lambda that wraps it pickles."""
    return 0.5 ** math.floor(step / 10)


# (id, schedule, bitwise): bitwise=False where numpy's vectorised exp/log/pow of a continuous
# argument may round the last bit differently from the C library (see cadence.schedules.ops).
EXAMPLES = [
    ("constant", Constant(0.3), True),
    ("linear-rise", Linear(start=0.05, end=1.0, steps=100), True),
    ("linear-fractional", Linear(start=2.0, end=-1.0, steps=37.5), True),
    ("cosine", Cosine(start=1.0, end=0.01, steps=1000), True),
    ("cosine-rise", Cosine(start=0.0, end=2.0, steps=10.5), True),
    ("cosine-wave", CosineWave(start=1.0, end=0.1, steps=7.5), True),
    ("polynomial", Polynomial(start=1.0, end=0.1, steps=500, power=2.0), False),
    ("polynomial-sqrt", Polynomial(start=0.0, end=1.0, steps=64, power=0.5), False),
    ("one-minus-sqrt", OneMinusSqrt(start=1.0, end=0.0, steps=300), True),
    ("geometric", Geometric(start=1e-7, end=10.0, steps=100), False),
    ("exponential-floor", Exponential(rate=0.99, start=1.0, floor=0.05), False),
    ("exponential-grow", Exponential(rate=1.01, start=0.001), False),
    ("step", Step(every=30, gamma=0.1), True),
    ("step-floor", Step(every=2.5, gamma=0.5, start=2.0, floor=0.01), True),
    ("multistep", MultiStep(milestones=(50, 80), gamma=0.1), True),
    ("multistep-repeats", MultiStep(milestones=(0, 10, 10, 20), gamma=0.5, floor=0.2), True),
    ("inverse-sqrt", InverseSqrt(start=0.1, timescale=1.0), True),
    ("inverse-sqrt-timescale", InverseSqrt(timescale=4000), True),
    ("noam", Noam(d_model=512, warmup_steps=4000), True),
    ("restarts-seed000", CosineRestarts(period=200, period_mult=2, decay=0.97, low=0.2,
                                        high=2.0), True),
    ("restarts-fractional", CosineRestarts(period=10, period_mult=1.5, cycles=3), True),
    ("restarts-fixed", CosineRestarts(period=50, low=0.1), True),
    ("cyclic", Cyclic(start=0.1, peak=1.0, up_steps=20), True),
    ("cyclic-triangular2", Cyclic(start=0.1, peak=1.0, up_steps=20, down_steps=30,
                                  mode="triangular2"), True),
    ("cyclic-exp-range", Cyclic(start=0.95, peak=0.8, up_steps=7, mode="exp_range",
                                gamma=0.999), False),
    ("one-cycle", OneCycle(total_steps=1000), True),
    ("one-cycle-three-phase", OneCycle(total_steps=100, anneal="linear", three_phase=True), True),
    ("one-cycle-momentum", OneCycle(total_steps=300, start=0.95, peak=0.85, end=0.95), True),
    ("wsd", WSD(warmup_steps=100, decay_steps=200, total_steps=1000, decay="1-sqrt",
                warmup="cosine", end=0.1), True),
    ("wsd-stable", WSD(warmup_steps=10, stable_steps=50, decay_steps=40, warmup="1-sqrt",
                       start=0.1), True),
    ("lambda", Lambda(halving_every_ten), True),
    ("multiplicative", Multiplicative(halving_every_ten), True),
    ("join", join([Linear(start=0.0, end=1.0, steps=10), Cosine(steps=90), Constant(0.0)],
                  boundaries=[10, 100]), True),
    ("product", Product((Cosine(steps=100), Step(every=25, gamma=0.5))), True),
    ("sum", Sum((Cosine(steps=100), Step(every=25, gamma=0.5))), True),
    ("scale", Scale(Cosine(steps=100), 3.0), True),
    ("shift", Shift(Cosine(steps=100), 0.5), True),
    ("clip", Clip(Cyclic(start=0.0, peak=1.0, up_steps=10), low=0.2, high=0.8), True),
    ("repeat", Repeat(Linear(start=1.0, end=0.0, steps=30), period=25), True),
    ("stretch", Stretch(Cosine(steps=100), factor=2.5), True),
    ("reverse", Reverse(Cosine(steps=100), steps=100), True),
    ("offset", Offset(Cosine(steps=100), steps=30), True),
    ("quantize", Quantize(Cosine(steps=10), every=25), True),
    ("warmup-prefix", Warmup(Cosine(steps=100), steps=10, start=0.1), True),
    ("warmup-overlay", Warmup(CosineRestarts(period=40), steps=25, shape="cosine",
                              mode="overlay"), True),
    ("warmup-exponential", Warmup(Step(every=10, gamma=0.5), steps=20, start=1e-3,
                                  shape="exponential"), False),
]

