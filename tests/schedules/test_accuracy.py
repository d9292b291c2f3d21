"""Relative accuracy against a 50-digit reference (mpmath), where values get small.

The textbook ``0.5 * (1 + cos(pi * t / T))`` cancels near the end of a long decay: one step
before the end of a 1,000,000-step cosine it is off by about 6e-6 relative (PyTorch too). Every
shape here stays within 1e-12 of the exact value everywhere.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from cadence.schedules import (
    WSD,
    Cosine,
    CosineRestarts,
    Cyclic,
    Exponential,
    Geometric,
    InverseSqrt,
    Linear,
    Noam,
    OneCycle,
    OneMinusSqrt,
    Polynomial,
)

mpmath.mp.dps = 50
TOLERANCE = 1e-12
N = 10**6


def mp_anneal(start, end, steps, weight):
    """``end + (start - end) * weight(p)``, exact to 50 digits."""
    def value(t):
        p = mpmath.mpf(min(t, steps)) / steps
        return mpmath.mpf(end) + (mpmath.mpf(start) - end) * weight(p)
    return value


def mp_cos(p):
    return (1 + mpmath.cos(mpmath.pi * p)) / 2


def mp_restarts(period, mult, decay, low, high):
    def value(t):
        t = mpmath.mpf(t)
        if mult == 1:
            i = mpmath.floor(t / period)
            start, length = i * period, mpmath.mpf(period)
        else:
            i = mpmath.floor(mpmath.log(1 + t * (mult - 1) / period) / mpmath.log(mult))
            start = period * (mpmath.mpf(mult) ** i - 1) / (mult - 1)
            length = period * mpmath.mpf(mult) ** i
        return low + (high - low) * mpmath.mpf(decay) ** i * mp_cos((t - start) / length)
    return value


def near(points, span=50):
    """Steps around each landmark, and some spread out between them."""
    steps = set()
    for x in points:
        steps.update(max(0, x + d) for d in range(-span, span + 1))
        steps.update(max(0.0, x + d) for d in (-0.5, -0.25, -1e-3, 1e-3, 0.25))
    return sorted(steps)


def spread(n, count=400):
    return [int(x) for x in np.linspace(0, n, count)]


CASES = [
    ("cosine 1e6", Cosine(start=1.0, end=0.0, steps=N),
     mp_anneal(1.0, 0.0, N, mp_cos), near([0, N // 2, N]) + spread(N)),
    ("cosine rising", Cosine(start=0.0, end=1.0, steps=N),
     mp_anneal(0.0, 1.0, N, mp_cos), near([0, N]) + spread(N)),
    ("cosine to floor", Cosine(start=3e-4, end=1e-6, steps=N),
     mp_anneal(3e-4, 1e-6, N, mp_cos), near([0, N]) + spread(N)),
    ("cosine 1e9", Cosine(start=1.0, end=0.0, steps=10**9),
     mp_anneal(1.0, 0.0, 10**9, mp_cos), near([0, 10**9])),
    ("linear", Linear(start=1.0, end=0.0, steps=N),
     mp_anneal(1.0, 0.0, N, lambda p: 1 - p), near([0, N]) + spread(N)),
    ("linear rising", Linear(start=0.0, end=1.0, steps=N),
     mp_anneal(0.0, 1.0, N, lambda p: 1 - p), near([0, N])),
    ("polynomial", Polynomial(start=1.0, end=0.0, steps=N, power=2.0),
     mp_anneal(1.0, 0.0, N, lambda p: (1 - p) ** 2), near([0, N]) + spread(N)),
    ("polynomial rising", Polynomial(start=0.0, end=1.0, steps=N, power=0.9),
     mp_anneal(0.0, 1.0, N, lambda p: (1 - p) ** mpmath.mpf(0.9)), near([0, N])),
    ("1-sqrt", OneMinusSqrt(start=1.0, end=0.0, steps=N),
     mp_anneal(1.0, 0.0, N, lambda p: 1 - mpmath.sqrt(p)), near([0, N]) + spread(N)),
    ("geometric", Geometric(start=1e-8, end=10.0, steps=N),
     lambda t: mpmath.mpf(1e-8) ** (1 - mpmath.mpf(min(t, N)) / N)
     * mpmath.mpf(10.0) ** (mpmath.mpf(min(t, N)) / N), near([0, N]) + spread(N)),
    ("exponential", Exponential(rate=0.9999, start=1.0),
     lambda t: mpmath.mpf(0.9999) ** t, spread(N)),
    ("inverse sqrt", InverseSqrt(start=1.0, timescale=4000.0),
     lambda t: mpmath.sqrt(mpmath.mpf(4000) / (t + 4000)), near([0]) + spread(10**9)),
    ("noam", Noam(d_model=512, warmup_steps=4000),
     lambda t: mpmath.mpf(512) ** -0.5 * min(mpmath.mpf(t) ** -0.5 if t else mpmath.inf,
                                             t * mpmath.mpf(4000) ** -1.5),
     near([0, 4000]) + spread(10**7)),
    ("restarts doubling", CosineRestarts(period=1000, period_mult=2),
     mp_restarts(1000, 2, 1.0, 0.0, 1.0), near([1000 * (2**k - 1) for k in range(1, 11)])),
    ("restarts seed 000", CosineRestarts(period=200, period_mult=2, decay=0.97, low=0.2, high=2),
     mp_restarts(200, 2, 0.97, 0.2, 2.0), near([200 * (2**k - 1) for k in range(1, 10)])),
    ("restarts at 1e9", CosineRestarts(period=1000),
     mp_restarts(1000, 1, 1.0, 0.0, 1.0), near([10**9, 10**9 + 1000])),
    ("restarts x1.5", CosineRestarts(period=100, period_mult=1.5),
     mp_restarts(100, 1.5, 1.0, 0.0, 1.0), near([100, 250, 475, 812.5, 1318.75], span=20)),
]


@pytest.mark.parametrize(("name", "schedule", "reference", "steps"), CASES,
                         ids=[c[0] for c in CASES])
def test_relative_error_below_1e_12(name, schedule, reference, steps):
    ours = schedule(np.array(steps, dtype=np.float64))
    worst = 0.0
    for t, value in zip(steps, ours):
        exact = reference(t)
        if exact == 0:
            assert value == 0, (name, t, value)
            continue
        worst = max(worst, float(abs((mpmath.mpf(float(value)) - exact) / exact)))
    assert worst < TOLERANCE, f"{name}: worst relative error {worst:.2e}"
    for t in steps[:: max(1, len(steps) // 50)]:  # scalar path agrees
        assert schedule(t) == pytest.approx(float(reference(t)), rel=TOLERANCE, abs=1e-300)


def test_one_cycle_and_wsd_ends_and_cyclic_are_accurate():
    total = N
    s = OneCycle(total_steps=total, pct_start=0.3)
    start = 1 / 25
    end = start / 1e4
    up = 0.3 * total - 1
    for t in near([total - 1], span=30):
        t = min(t, total - 1)
        p = mpmath.mpf(t - up) / (total - 1 - up)
        exact = end + (1 - mpmath.mpf(end)) * mp_cos(p)
        assert abs(s(t) - exact) / exact < TOLERANCE
    wsd = WSD(warmup_steps=1000, decay_steps=10**5, total_steps=N, decay="cosine")
    for t in near([N], span=30):
        p = mpmath.mpf(min(t, N) - (N - 10**5)) / 10**5
        exact = mp_cos(p)
        if exact:
            assert abs(wsd(t) - exact) / exact < TOLERANCE
    cyc = Cyclic(start=1e-4, peak=1.0, up_steps=1000)
    for t in near([0, 1000, 2000, 10**9], span=10):
        u = mpmath.mpf(t) % 2000
        x = u / 1000 if u <= 1000 else (2000 - u) / 1000
        exact = mpmath.mpf(1e-4) + (1 - mpmath.mpf(1e-4)) * x
        assert abs(cyc(t) - exact) / exact < TOLERANCE


def test_the_textbook_formula_is_what_loses_digits():
    """The reference above can tell: the cancelling form misses by far more than 1e-12."""
    t = N - 1
    textbook = 0.5 * (1 + math.cos(math.pi * t / N))
    exact = mp_cos(mpmath.mpf(t) / N)
    assert abs(textbook - exact) / exact > 1e-6
    assert abs(Cosine(start=1.0, end=0.0, steps=N)(t) - exact) / exact < 1e-15
