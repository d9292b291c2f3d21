"""Lengths, periods and rates at the ends of float64: subnormal (5e-324), the smallest normal
float, tiny normal (1e-300) and huge (1e308, the largest float).

The rule (see ``cadence.validation.check_steps``): any positive finite number of steps is a
length. A schedule built on one gives a value at every step (never NaN, and never inf except
where the exact value is beyond float64, as a growth is) and its landmarks, or it is refused at
construction with an error that names the argument. None ends in an ``OverflowError``,
``ZeroDivisionError`` or a NaN from deep inside.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from properties.surface import check_series, names_argument

import cadence
from cadence.schedules import (
    WSD,
    Constant,
    Cosine,
    CosineRestarts,
    CosineWave,
    Cyclic,
    EMAWarmup,
    Exponential,
    Geometric,
    InverseSqrt,
    Linear,
    Noam,
    Offset,
    OneCycle,
    OneMinusSqrt,
    Polynomial,
    Quantize,
    Repeat,
    Reverse,
    Schedule,
    Step,
    Stretch,
    Warmup,
)
from cadence.schedules.base import MAX_MARKS, repeats
from cadence.validation import InvalidValue

TINY = [5e-324, 1e-320, sys.float_info.min, 1e-300]
HUGE = [1e308, sys.float_info.max]
STEPS = [0, 0.5, 1, 2, 3, 10, 100, 10**6, 1e15, 1e300, sys.float_info.max]
INNER = Cosine(start=1.0, end=0.0, steps=100)

# (a builder of the schedule from the value, the argument's name)
LENGTHS = [
    (lambda v: Linear(steps=v), "steps"),
    (lambda v: Cosine(steps=v), "steps"),
    (lambda v: CosineWave(steps=v), "steps"),
    (lambda v: Polynomial(steps=v, power=2.0), "steps"),
    (lambda v: Polynomial(steps=10, power=v), "power"),
    (lambda v: OneMinusSqrt(steps=v), "steps"),
    (lambda v: Geometric(end=0.1, steps=v), "steps"),
    (lambda v: Exponential(rate=v), "rate"),
    (lambda v: Step(every=v), "every"),
    (lambda v: InverseSqrt(timescale=v), "timescale"),
    (lambda v: Noam(d_model=512, warmup_steps=v), "warmup_steps"),
    (lambda v: EMAWarmup(gamma=v), "gamma"),
    (lambda v: EMAWarmup(power=v), "power"),
    (lambda v: Cyclic(start=0.1, peak=1.0, up_steps=v), "up_steps"),
    (lambda v: Cyclic(start=0.1, peak=1.0, up_steps=v, mode="triangular2"), "up_steps"),
    (lambda v: Cyclic(start=0.1, peak=1.0, up_steps=10, down_steps=v), "down_steps"),
    (lambda v: Cyclic(start=0.1, peak=1.0, up_steps=3, mode="exp_range", gamma=v), "gamma"),
    (lambda v: OneCycle(total_steps=100, div_factor=v), "div_factor"),
    (lambda v: OneCycle(total_steps=100, final_div_factor=v), "final_div_factor"),
    (lambda v: CosineRestarts(period=v), "period"),
    (lambda v: CosineRestarts(period=v, period_mult=2.0), "period"),
    (lambda v: CosineRestarts(period=v, period_mult=1.5, decay=0.9), "period"),
    (lambda v: CosineRestarts(period=v, period_mult=1e6), "period"),
    (lambda v: Warmup(INNER, steps=v), "steps"),
    (lambda v: Warmup(INNER, steps=v, mode="overlay"), "steps"),
    (lambda v: Warmup(INNER, steps=v, shape="exponential", start=0.01), "steps"),
    (lambda v: Repeat(INNER, period=v), "period"),
    (lambda v: Repeat(Step(every=3, gamma=0.5), period=v), "period"),
    (lambda v: Stretch(INNER, factor=v), "factor"),
    (lambda v: Stretch(CosineWave(steps=10), factor=v), "factor"),
    (lambda v: Stretch(Step(every=3, gamma=0.5), factor=v), "factor"),
    (lambda v: Stretch(Cyclic(start=0.1, peak=1.0, up_steps=3), factor=v), "factor"),
    (lambda v: Quantize(Cyclic(start=0.1, peak=1.0, up_steps=3), every=v), "every"),
    (lambda v: Quantize(CosineRestarts(period=10, period_mult=2), every=v), "every"),
    (lambda v: Reverse(Cyclic(start=0.1, peak=1.0, up_steps=3), steps=v), "steps"),
    (lambda v: Offset(Cyclic(start=0.1, peak=1.0, up_steps=3), steps=v), "steps"),
    (lambda v: Offset(CosineWave(steps=10), steps=v), "steps"),
    (lambda v: WSD(warmup_steps=v, decay_steps=4, total_steps=10), "warmup_steps"),
    (lambda v: WSD(warmup_steps=2, decay_steps=v, total_steps=10), "decay_steps"),
    (lambda v: WSD(warmup_steps=2, stable_steps=v, decay_steps=4), "stable_steps"),
]


def finite_or_growing(schedule: Schedule) -> None:
    """Never NaN; inf only where a growth runs out of float64 (the property suite's rule)."""
    series = [(float(t), v) for t, v in zip(STEPS, values(schedule))]
    check_series(repr(schedule), series)


def values(schedule: Schedule) -> list[float]:
    scalars = [schedule(t) for t in STEPS]
    array = schedule(np.array(STEPS, dtype=np.float64)).tolist()
    np.testing.assert_allclose(array, scalars, rtol=1e-12)
    return scalars


@pytest.mark.parametrize("value", TINY + HUGE)
@pytest.mark.parametrize(("build", "name"), LENGTHS,
                         ids=[f"{i}-{n}" for i, (_, n) in enumerate(LENGTHS)])
def test_extreme_values_work_or_are_refused_by_name(build, name, value):
    try:
        schedule = build(value)
    except InvalidValue as exc:
        assert names_argument(str(exc), name), str(exc)
        return
    finite_or_growing(schedule)
    for horizon in (10.0, 1e9, math.inf):
        marks = schedule.marks(horizon)
        assert len(marks) <= MAX_MARKS
        assert all(0 < m.step <= horizon and math.isfinite(m.step) for m in marks)
    assert cadence.from_config(schedule.to_config()) == schedule


@pytest.mark.parametrize("config", [
    {"type": "noam", "d_model": 512, "warmup_steps": 5e-324},
    {"type": "step", "every": 5e-324},
    {"type": "cosine_wave", "steps": 5e-324},
    {"type": "repeat", "schedule": {"type": "cosine", "steps": 100}, "period": 5e-324},
    {"type": "ema_warmup", "power": 1e-308},
])
def test_reported_configs_give_finite_values_and_landmarks(config):
    schedule = cadence.from_config(config)
    found = [schedule(t) for t in (0, 1, 10, 10**6)]
    assert all(math.isfinite(v) for v in found)
    assert np.isfinite(schedule(np.array([0, 0.5, 1, 2, 3, 10, 100]))).all()
    assert len(schedule.marks(1e9)) <= MAX_MARKS


def test_noam_with_a_tiny_warm_up_is_its_decay():
    s = Noam(d_model=512, warmup_steps=5e-324)
    assert s(0) == 0.0
    assert s(1) == 512**-0.5
    assert s(100) == pytest.approx(512**-0.5 / 10, rel=1e-15)
    assert Noam(d_model=512, warmup_steps=1e-300)(5e-301) == pytest.approx(
        512**-0.5 * 0.5 * 1e150, rel=1e-12)


def test_ema_warmup_that_never_reaches_its_end():
    s = EMAWarmup(power=1e-308)
    assert s.reaches() == math.inf
    assert s.marks(1e12) == []
    assert s(10**6) == 0.0  # 1 - (1 + t)**-1e-308 is below a float's precision at 1


def test_restarts_of_a_tiny_period_stay_in_range_and_self_similar():
    # cycles of 2**-1022 * 2**k steps: the one holding step 3 runs from 2 to 4
    for period in (sys.float_info.min, 5e-324):
        s = CosineRestarts(period=period, period_mult=2.0)
        assert s(3) == pytest.approx(0.5, abs=1e-12)
        found = np.array(values(s))
        assert ((found >= 0.0) & (found <= 1.0)).all()


def test_restarts_whose_next_cycle_ends_past_the_largest_float():
    s = CosineRestarts(period=1e308, period_mult=1e6)
    found = values(s)
    assert found[:9] == [1.0] * 9  # up to step 1e15, at the start of the first cycle
    assert found[9] == pytest.approx(1.0)
    assert found[10] == 1.0  # in the second cycle, which ends past the largest float
    assert s.marks(math.inf) == [(1e308, "restart")]


def test_exp_range_gamma_that_overflows_is_never_nan():
    s = Cyclic(start=0.1, peak=1.0, up_steps=10, mode="exp_range", gamma=1e20)
    assert s(100) == 0.1  # a cycle's bottom
    assert s(np.array([0.0, 20.0, 100.0])).tolist() == [0.1, 0.1, 0.1]
    flat = Cyclic(start=0.5, peak=0.5, up_steps=10, mode="exp_range", gamma=1e20)
    assert values(flat) == [0.5] * len(STEPS)


def test_one_cycle_factor_that_overflows_is_named():
    with pytest.raises(InvalidValue, match=r"'div_factor' must be a positive number that "
                       r"'peak' \(1.0\) divided by stays finite \(got 5e-324\)"):
        OneCycle(total_steps=100, div_factor=5e-324)
    with pytest.raises(InvalidValue, match="'final_div_factor'"):
        OneCycle(total_steps=100, final_div_factor=5e-324)
    # with start and end given, the factors divide nothing
    s = OneCycle(total_steps=100, start=0.1, end=0.01, div_factor=5e-324,
                 final_div_factor=5e-324)
    assert s(0) == pytest.approx(0.1)


def test_wsd_phase_too_short_to_see_is_named():
    with pytest.raises(InvalidValue, match=r"'decay_steps' must be 0 or long enough .* step 10 "
                       r"\(got 5e-324"):
        WSD(warmup_steps=2, decay_steps=5e-324, total_steps=10)
    with pytest.raises(InvalidValue, match=r"'total_steps' must be small enough"):
        WSD(warmup_steps=2, decay_steps=4, total_steps=1e308)


def test_combinators_hold_an_overflowing_inner_time_at_the_last_float():
    wave = CosineWave(steps=10)
    assert Stretch(wave, factor=5e-324)(1) == wave(sys.float_info.max)
    assert Offset(wave, steps=sys.float_info.max)(1e300) == wave(sys.float_info.max)
    assert Quantize(Constant(0.5), every=5e-324)(1) == 0.5


def test_repeats_counts_whole_periods_up_to_the_mark_limit():
    assert repeats(1000.0, 300) == 3
    assert repeats(10.0, 5e-324) == MAX_MARKS
    assert repeats(math.inf, 1.0) == MAX_MARKS
    assert repeats(0.0, 1.0) == 0


def test_restarts_whose_boundary_formula_overflows_before_the_step_does():
    # cycle 52 of CosineRestarts(period=1, period_mult=1e6) starts near step 1e306, but its
    # formula's 1e6**52 is past the largest float
    s = CosineRestarts(period=1, period_mult=1e6)
    b51, b52 = [((10**6) ** k - 1) // 999_999 for k in (51, 52)]
    t = 10**303
    expected = math.sin(math.pi / 2 * ((b52 - t) / (b52 - b51))) ** 2
    assert s(1e303) == pytest.approx(expected, rel=1e-12)
    assert s(np.array([1e303]))[0] == pytest.approx(expected, rel=1e-12)
