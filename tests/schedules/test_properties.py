"""Properties over randomly built schedules: random shapes, random arguments, random nesting."""

from __future__ import annotations

import math
import pickle

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import anneals, schedules

import cadence
import cadence.schedules as S

steps = st.lists(st.one_of(st.integers(0, 10**7), st.floats(0, 1e5)), min_size=1, max_size=20)


@settings(max_examples=150, deadline=None)
@given(schedule=schedules, ts=steps)
def test_any_schedule_keeps_the_contract(schedule, ts):
    scalars = np.array([schedule(t) for t in ts])
    assert not np.any(np.isnan(scalars))
    arrays = schedule(np.array(ts, dtype=np.float64))
    # bit-equal but for numpy's last-bit rounding of exp/log/pow (see cadence.schedules.ops)
    np.testing.assert_allclose(arrays, scalars, rtol=1e-13, atol=1e-12)
    rebuilt = cadence.from_config(schedule.to_config())
    assert rebuilt == schedule
    assert [rebuilt(t) for t in ts] == scalars.tolist()
    assert pickle.loads(pickle.dumps(schedule)) == schedule


@settings(max_examples=100, deadline=None)
@given(shape=anneals, extra=st.floats(0, 1e9))
def test_finite_shapes_hold_their_end(shape, extra):
    end = shape(shape.steps)
    assert end == shape.end
    assert shape(shape.steps + extra) == end
    assert shape(0) == shape.start


@settings(max_examples=100, deadline=None)
@given(schedule=schedules, cut=st.integers(1, 10**6))
def test_join_gives_local_time(schedule, cut):
    head = S.Constant(-1.0)
    joined = S.join([head, schedule], [cut])
    for offset in (0, 1, 17, 1000):
        a, b = joined(cut + offset), schedule(offset)
        assert a == b or (math.isnan(a) and math.isnan(b))
