"""The contract every schedule keeps, checked over one example of every type."""

from __future__ import annotations

import copy
import json
import math
import pickle

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from schedule_examples import EXAMPLES

import cadence
import cadence.schedules as S
from cadence.config import registered
from cadence.schedules import Lambda, Multiplicative, Schedule

STEPS = [0, 1, 2, 3, 7, 9.5, 10, 24.999, 25, 99, 100, 101, 250, 999, 1000, 4000, 12345.5, 10**6]


def values(schedule, steps=STEPS):
    return [schedule(s) for s in steps]


def test_every_registered_type_has_an_example():
    covered = {type(s).type_name for _, s, _ in EXAMPLES}
    assert set(registered()) <= covered


def test_scalar_steps_give_python_floats(example):
    _, schedule, _ = example
    big = 10**6 if isinstance(schedule, Multiplicative) else 10**9
    for step in (0, 5, 2.5, np.int64(7), np.float32(3.5), np.float64(11.0), big):
        value = schedule(step)
        assert type(value) is float
        assert not math.isnan(value)


def test_array_is_the_scalar_formula(example):
    _, schedule, bitwise = example
    steps = np.array(STEPS, dtype=np.float64)
    out = schedule(steps)
    assert out.dtype == np.float64 and out.shape == steps.shape
    expected = np.array(values(schedule))
    if bitwise:
        np.testing.assert_array_equal(out, expected)
    else:
        np.testing.assert_array_max_ulp(out, expected, maxulp=2)


def test_array_shapes_and_inputs(example):
    _, schedule, _ = example
    grid = np.arange(12).reshape(3, 4)
    out = schedule(grid)
    assert out.shape == (3, 4)
    np.testing.assert_array_equal(out, schedule(grid.ravel()).reshape(3, 4))
    assert schedule(np.array(5)).shape == ()
    assert float(schedule(np.array(5))) == pytest.approx(schedule(5), rel=1e-15)
    assert schedule([1, 2]).tolist() == schedule(np.array([1.0, 2.0])).tolist()
    assert schedule(np.array([], dtype=int)).shape == (0,)


def test_long_arrays_equal_short_ones(example):
    """Evaluation in blocks gives the same values as one block."""
    _, schedule, _ = example
    steps = np.arange(0, 200_000, 3.5)
    whole = schedule(steps)
    pieces = np.concatenate([schedule(steps[a : a + 1000]) for a in range(0, steps.size, 1000)])
    np.testing.assert_array_equal(whole, pieces)


@pytest.mark.parametrize(
    ("step", "error"),
    [
        (-1, ValueError),
        (-0.5, ValueError),
        (math.nan, ValueError),
        (math.inf, ValueError),
        (np.float64(-2.0), ValueError),
        ("3", TypeError),
        (None, TypeError),
        (True, TypeError),
        ([1, -1], ValueError),
        ([0.0, math.nan], ValueError),
        (np.array(["a"]), TypeError),
        (np.array([True]), TypeError),
    ],
)
def test_bad_steps_are_refused(example, step, error):
    _, schedule, _ = example
    with pytest.raises(error, match="'step' must be"):
        schedule(step)


def test_error_names_the_bad_entry():
    with pytest.raises(ValueError, match=r"got -3.0 at index 2"):
        S.Constant(1.0)([0, 1, -3, 4])


def test_pickle_deepcopy_equality_and_hash(example):
    _, schedule, _ = example
    for clone in (pickle.loads(pickle.dumps(schedule)), copy.deepcopy(schedule)):
        assert clone == schedule
        assert hash(clone) == hash(schedule)
        assert values(clone) == values(schedule)
    assert schedule != S.Constant(12345.0)


def test_repr_is_readable_and_rebuilds(example):
    _, schedule, _ = example
    text = repr(schedule)
    assert text.startswith(type(schedule).__name__ + "(")
    if not isinstance(schedule, (Lambda, Multiplicative)):
        namespace = {name: getattr(S, name) for name in S.__all__}
        assert eval(text, namespace) == schedule


def test_config_round_trip(example, tmp_path):
    _, schedule, _ = example
    if isinstance(schedule, (Lambda, Multiplicative)):
        with pytest.raises(TypeError, match="no config form"):
            schedule.to_config()
        return
    cfg = schedule.to_config()
    assert cfg["type"] == type(schedule).type_name
    text = json.dumps(cfg, allow_nan=False)  # strict JSON
    rebuilt = cadence.from_config(json.loads(text))
    assert rebuilt == schedule
    assert values(rebuilt) == values(schedule)
    assert cadence.from_config(yaml.safe_load(yaml.safe_dump(cfg))) == schedule
    for suffix in (".json", ".yaml"):
        path = cadence.dump_config(schedule, tmp_path / f"schedule{suffix}")
        assert cadence.load_config(path) == schedule


def test_big_steps_are_numbers(example):
    _, schedule, _ = example
    if isinstance(schedule, Multiplicative):  # computed step by step: refused, not hung
        with pytest.raises(ValueError, match="'step' must be <= 10,000,000 for Multiplicative"):
            schedule(10**9)
        return
    assert not math.isnan(schedule(10**9))
    assert not math.isnan(schedule(10**12 + 0.5))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_steps_scalar_equals_array(data):
    name, schedule, bitwise = data.draw(st.sampled_from(EXAMPLES), label="schedule")
    top = 10**5 if isinstance(schedule, Multiplicative) else 10**9
    steps = data.draw(
        st.lists(
            st.one_of(
                st.integers(0, top),
                st.floats(0, min(1e7, top), allow_nan=False, allow_infinity=False),
            ),
            min_size=1,
            max_size=30,
        ),
        label="steps",
    )
    scalars = np.array([schedule(s) for s in steps])
    arrays = schedule(np.array(steps, dtype=np.float64))
    assert not np.any(np.isnan(scalars))
    if bitwise:
        np.testing.assert_array_equal(arrays, scalars, err_msg=name)
    else:
        np.testing.assert_array_max_ulp(arrays, scalars, maxulp=2)


def test_schedule_is_abstract_enough():
    """A subclass only needs _eval; the base gives calling, arrays and algebra."""
    assert issubclass(S.Cosine, Schedule)
    double = 2 * S.Cosine(steps=10)
    assert double(0) == 2.0
