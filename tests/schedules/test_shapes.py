"""Each shape against its formula written out here, at its landmarks and around them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cadence.schedules import (
    WSD,
    Clip,
    Constant,
    Cosine,
    CosineRestarts,
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

T = np.arange(0, 400, 0.5)


def approx(values, rel=1e-13):
    return pytest.approx(list(values), rel=rel, abs=1e-300)


# -- finite shapes: exact at both ends, held after the end ------------------------------------
FINITE = [
    Linear(start=0.3, end=1.7, steps=60),
    Cosine(start=1.0, end=0.05, steps=60),
    Cosine(start=0.0, end=1.0, steps=60),
    Polynomial(start=1.0, end=0.2, steps=60, power=3.0),
    OneMinusSqrt(start=2.0, end=0.5, steps=60),
    Geometric(start=1e-5, end=3.0, steps=60),
]


@pytest.mark.parametrize("shape", FINITE, ids=lambda s: type(s).__name__)
def test_finite_shapes_hit_their_landmarks_and_hold(shape):
    assert shape(0) == shape.start
    assert shape(60) == shape.end
    assert shape(60.0) == shape.end
    after = shape(np.array([60, 61, 100.5, 10**6, 10**9]))
    assert np.all(after == shape.end)  # no rebound


def test_linear_and_cosine_formulas():
    lin = Linear(start=0.3, end=1.7, steps=60)
    cos = Cosine(start=1.0, end=0.05, steps=60)
    p = np.minimum(T, 60) / 60
    assert lin(T).tolist() == approx(0.3 + (1.7 - 0.3) * p)
    assert cos(T).tolist() == approx(0.05 + (1.0 - 0.05) * (1 + np.cos(np.pi * p)) / 2, 1e-12)


def test_polynomial_and_one_minus_sqrt_formulas():
    p = np.minimum(T, 60) / 60
    poly = Polynomial(start=1.0, end=0.2, steps=60, power=3.0)
    assert poly(T).tolist() == approx(0.2 + 0.8 * (1 - p) ** 3, 1e-12)
    oms = OneMinusSqrt(start=2.0, end=0.5, steps=60)
    assert oms(T).tolist() == approx(0.5 + 1.5 * (1 - np.sqrt(p)), 1e-12)


def test_geometric_is_log_linear():
    g = Geometric(start=1e-5, end=3.0, steps=60)
    p = np.minimum(T, 60) / 60
    assert g(T).tolist() == approx(np.exp(np.log(1e-5) * (1 - p) + np.log(3.0) * p), 1e-12)


def test_exponential_floor_step_multistep():
    assert Exponential(rate=0.9, start=2.0)(T).tolist() == approx(2.0 * 0.9**T)
    floored = Exponential(rate=0.9, start=2.0, floor=0.3)(T)
    assert floored.tolist() == approx(np.maximum(0.3, 2.0 * 0.9**T))
    step = Step(every=7, gamma=0.5, floor=0.01)(T)
    assert step.tolist() == approx(np.maximum(0.01, 0.5 ** np.floor(T / 7)))
    multi = MultiStep(milestones=[10, 10, 100.5], gamma=0.1)
    assert multi([0, 9.9, 10, 100, 100.5, 300]).tolist() == approx(
        [1, 1, 0.01, 0.01, 0.001, 0.001])


def test_d2l_factor_scheduler_is_exponential_with_floor():
    """d2l's FactorScheduler(factor=0.9, stop_factor_lr=1e-2, base_lr=2.0), call by call."""
    lr, expected = 2.0, []
    for _ in range(50):
        lr = max(1e-2, lr * 0.9)
        expected.append(lr)
    # its n-th call (from 0) returns the value after n + 1 multiplications
    ours = Exponential(rate=0.9, start=2.0, floor=1e-2)(np.arange(1, 51))
    assert ours.tolist() == approx(expected, 1e-12)


def test_inverse_sqrt_forms():
    d2l = InverseSqrt(start=0.1, timescale=1.0)
    assert d2l(T).tolist() == approx(0.1 * (T + 1) ** -0.5)
    # transformers' inverse_sqrt decay after the warm-up, in local time
    w, timescale = 100, 250
    hf = [1.0 / math.sqrt((t + w + (timescale - w)) / timescale) for t in T]
    assert InverseSqrt(timescale=timescale)(T).tolist() == approx(hf)


def test_noam_is_the_attention_paper_formula():
    noam = Noam(d_model=512, warmup_steps=4000)
    steps = np.array([0, 1, 10, 3999, 4000, 4001, 10**5, 10**9])
    expected = [0.0] + [512**-0.5 * min(s**-0.5, s * 4000**-1.5) for s in steps[1:]]
    assert noam(steps).tolist() == approx(expected)
    assert Noam(d_model=64, warmup_steps=10, scale=2.0)(10) == pytest.approx(2 * (640) ** -0.5)


# -- cosine restarts --------------------------------------------------------------------------
def restarts_reference(t, period, mult, decay, low, high):
    """The loop every SGDR write-up uses: subtract finished cycles one at a time."""
    cycle, start, length = 0, 0.0, float(period)
    while t >= start + length:
        start, length, cycle = start + length, length * mult, cycle + 1
    cos = (1 + math.cos(math.pi * (t - start) / length)) / 2
    return low + (high - low) * decay**cycle * cos


@pytest.mark.parametrize(
    ("period", "mult", "decay", "low", "high"),
    [(200, 2, 0.97, 0.2, 2.0), (10, 1, 1.0, 0.0, 1.0), (10, 1.5, 0.5, 0.1, 1.0),
     (7, 3, 0.9, 0.0, 1.0), (2.5, 1.25, 1.0, 0.0, 1.0)],
)
def test_restarts_against_the_subtraction_loop(period, mult, decay, low, high):
    s = CosineRestarts(period=period, period_mult=mult, decay=decay, low=low, high=high)
    steps = np.arange(0, 3000, 0.75)
    expected = [restarts_reference(t, period, mult, decay, low, high) for t in steps]
    np.testing.assert_allclose(s(steps), expected, rtol=1e-9, atol=1e-15)


def test_restarts_land_exactly_on_their_boundaries():
    s = CosineRestarts(period=1, period_mult=2)
    for boundary in (0, 1, 3, 7, 15, 31, 2**40 - 1):
        assert s(boundary) == 1.0
        assert s(float(boundary)) == 1.0
    assert s([0, 1, 3, 7, 15]).tolist() == [1.0] * 5
    assert s(2) == pytest.approx(0.5, rel=1e-15)  # middle of the second cycle (1..3)
    fixed = CosineRestarts(period=200)
    for k in (0, 1, 5, 5_000_000):
        assert fixed(200 * k) == 1.0


def test_restarts_do_not_drift_at_a_billion_steps():
    fixed = CosineRestarts(period=200, low=0.1)
    early = fixed(np.arange(0, 200))
    late = fixed(np.arange(10**9, 10**9 + 200))
    np.testing.assert_array_equal(early, late)
    doubling = CosineRestarts(period=1, period_mult=2)
    # cycle 29 starts at 2**29 - 1 and lasts 2**29 steps
    start, length = 2**29 - 1, 2**29
    t = start + length // 4
    assert doubling(t) == pytest.approx((1 + math.cos(math.pi / 4)) / 2, rel=1e-15)


def test_restarts_cycle_limit_holds_low():
    s = CosineRestarts(period=10, period_mult=2, low=0.25, cycles=2)  # cycles end at 10, 30
    assert s(29.5) > 0.25
    assert s([30, 31, 1000, 10**9]).tolist() == [0.25] * 4


def test_restarts_fractional_multiplier_has_fractional_boundaries():
    s = CosineRestarts(period=10, period_mult=1.5)  # cycles start at 0, 10, 25, 47.5, 81.25
    for boundary in (0, 10, 25, 47.5, 81.25):
        assert s(boundary) == 1.0
    assert s(47.4) < 0.001


# -- one-cycle, WSD, warm-up ------------------------------------------------------------------
def test_one_cycle_phase_landmarks():
    s = OneCycle(total_steps=101, peak=2.0, pct_start=0.5, div_factor=4.0, final_div_factor=10.0)
    assert s(0) == 0.5
    assert s(49.5) == 2.0
    assert s(100) == 0.05
    assert s([100, 101, 10**6]).tolist() == [0.05] * 3
    three = OneCycle(total_steps=101, peak=2.0, pct_start=0.25, div_factor=4.0,
                     three_phase=True, final_div_factor=10.0)
    assert [three(x) for x in (0, 24.25, 48.5, 100)] == [0.5, 2.0, 0.5, 0.05]


def wsd_reference(t, w, s, d, warmup, decay, ratio):
    """transformers' _get_wsd_scheduler_lambda, written out (num_cycles = 0.5)."""
    if t < w:
        p = t / w
        f = {"linear": p, "cosine": 0.5 * (1 - math.cos(math.pi * p)),
             "1-sqrt": 1 - math.sqrt(1 - p)}[warmup]
        return f * (1 - ratio) + ratio
    if t < w + s:
        return 1.0
    if t < w + s + d:
        p = (t - w - s) / d
        f = {"linear": 1 - p, "cosine": 0.5 * (1 + math.cos(math.pi * p)),
             "1-sqrt": 1 - math.sqrt(p)}[decay]
        return f * (1 - ratio) + ratio
    return ratio


@pytest.mark.parametrize("warmup", ["linear", "cosine", "1-sqrt"])
@pytest.mark.parametrize("decay", ["linear", "cosine", "1-sqrt"])
def test_wsd_matches_transformers_formula(warmup, decay):
    ratio = 0.1
    s = WSD(warmup_steps=30, decay_steps=50, total_steps=200, warmup=warmup, decay=decay,
            start=ratio, end=ratio)
    steps = np.arange(0, 260)
    expected = [wsd_reference(t, 30, 120, 50, warmup, decay, ratio) for t in steps]
    np.testing.assert_allclose(s(steps), expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("given", "inferred"),
    [({"warmup_steps": 10, "stable_steps": 20, "decay_steps": 30}, ("total_steps", 60)),
     ({"warmup_steps": 10, "stable_steps": 20, "total_steps": 60}, ("decay_steps", 30)),
     ({"warmup_steps": 10, "decay_steps": 30, "total_steps": 60}, ("stable_steps", 20)),
     ({"stable_steps": 20, "decay_steps": 30, "total_steps": 60}, ("warmup_steps", 10))],
)
def test_wsd_infers_the_missing_length(given, inferred):
    s = WSD(**given)
    names = ("warmup_steps", "stable_steps", "decay_steps", "total_steps")
    assert dict(zip(names, s.lengths()))[inferred[0]] == inferred[1]
    assert s(10) == 1.0 and s(30) == 1.0 and s(60) == 0.0 and s(0) == 0.0


def test_wsd_without_stable_or_decay_phases():
    no_stable = WSD(warmup_steps=10, stable_steps=0, decay_steps=10, decay="linear")
    assert no_stable([0, 5, 10, 15, 20, 99]).tolist() == [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    no_decay = WSD(warmup_steps=4, stable_steps=6, decay_steps=0, end=0.1)
    # as transformers: with no decay phase the value drops to end at total_steps
    assert no_decay([0, 2, 4, 9.5, 10, 1000]).tolist() == [0.0, 0.5, 1.0, 1.0, 0.1, 0.1]


def test_warmup_prefix_and_overlay():
    main = Cosine(start=2.0, end=0.0, steps=100)
    prefix = Warmup(main, steps=10, start=0.1)
    expected = [2.0 * (0.1 + 0.9 * t / 10) if t < 10 else main(t - 10) for t in T]
    assert prefix(T).tolist() == approx(expected)
    overlay = Warmup(main, steps=10, start=0.1, mode="overlay")
    expected = [min(1.0, 0.1 + 0.9 * t / 10) * main(t) for t in T]
    assert overlay(T).tolist() == approx(expected)
    cosine = Warmup(main, steps=10, shape="cosine")
    assert cosine(5) == pytest.approx(2.0 * 0.5) and cosine(0) == 0.0
    exponential = Warmup(Constant(1.0), steps=4, start=1e-4, shape="exponential")
    assert exponential([0, 1, 2, 3, 4, 9]).tolist() == approx([1e-4, 1e-3, 1e-2, 1e-1, 1, 1])


# -- combinators --------------------------------------------------------------------------------
def test_join_uses_local_time():
    a, b, c = Linear(start=0, end=1, steps=10), Cosine(steps=50), Step(every=5, gamma=0.5)
    s = join([a, b, c], boundaries=[10, 60])
    expected = [a(t) if t < 10 else b(t - 10) if t < 60 else c(t - 60) for t in T]
    assert s(T).tolist() == expected
    assert s(10) == b(0) and s(60) == c(0)


def test_join_with_unsorted_steps():
    s = join([Constant(1.0), Constant(2.0), Constant(3.0)], boundaries=[5, 10])
    assert s([12, 0, 7, 5, 10, 4.99]).tolist() == [3.0, 1.0, 2.0, 2.0, 3.0, 1.0]


def test_product_scale_shift_clip():
    a, b = Cosine(steps=100), Step(every=30, gamma=0.5)
    assert Product((a, b))(T).tolist() == [a(t) * b(t) for t in T]
    assert (a * b) == Product((a, b))
    assert (a * b * a) == Product((a, b, a))
    assert Scale(a, 3.0)(T).tolist() == [3.0 * a(t) for t in T]
    assert (3 * a) == Scale(a, 3.0) == (a * 3) and (a / 2) == Scale(a, 0.5)
    assert Shift(a, -0.25)(T).tolist() == [a(t) - 0.25 for t in T]
    assert (a + 1) == Shift(a, 1.0) == (1 + a) and (a - 1) == Shift(a, -1.0)
    assert Clip(a, low=0.2, high=0.9)(T).tolist() == [min(0.9, max(0.2, a(t))) for t in T]
    assert Clip(a, high=0.5)(0) == 0.5 and Clip(a, low=0.5)(100) == 0.5


def test_sum_and_difference_of_two_schedules():
    a, b = Cosine(steps=100), Step(every=30, gamma=0.5)
    assert (a + b) == Sum((a, b)) and (a + b + a) == Sum((a, b, a))
    assert (a + b)(T).tolist() == [a(t) + b(t) for t in T]
    assert (a - b)(T).tolist() == pytest.approx([a(t) - b(t) for t in T], abs=1e-15)
    assert (-a)(T).tolist() == [-a(t) for t in T]
    assert (1 - a)(T).tolist() == pytest.approx([1 - a(t) for t in T], abs=1e-15)
    assert (a + b).marks(100) == sorted(set(a.marks(100)) | set(b.marks(100)))
    with pytest.raises(TypeError):
        a + "0.1"


def test_offset_quantize_multiplicative():
    a = Linear(start=1.0, end=0.0, steps=30)
    assert Offset(a, steps=7.5)(T).tolist() == [a(t + 7.5) for t in T]
    assert Quantize(a, every=4)(T).tolist() == [a(math.floor(t / 4)) for t in T]
    factors = {k: 1.0 - 0.01 * (k % 5) for k in range(1, 500)}
    product, expected = 1.0, [1.0]
    for k in range(1, 400):
        product *= factors[k]
        expected.append(product)
    m = Multiplicative(factors.__getitem__)
    assert m(np.arange(400)).tolist() == expected
    assert [m(k) for k in range(400)] == expected
    assert m(7.9) == m(7)


def test_repeat_stretch_reverse():
    a = Linear(start=1.0, end=0.0, steps=30)
    assert Repeat(a, period=25)(T).tolist() == [a(math.fmod(t, 25)) for t in T]
    assert Stretch(a, factor=2.5)(T).tolist() == approx([a(t / 2.5) for t in T])
    assert Reverse(a, steps=30)(T).tolist() == [a(30 - min(t, 30)) for t in T]


def test_lambda_receives_ints_for_whole_steps():
    seen = []

    def record(step):
        seen.append(step)
        return 1.0

    Lambda(record)([0, 1.5, 2])
    assert seen == [0, 1.5, 2] and [type(s) for s in seen] == [int, float, int]
    with pytest.raises(TypeError, match="must return a finite number"):
        Lambda(lambda step: "x")(0)
