"""The fast write path: a track with one schedule over many float groups is written from one
numpy computation (``cadence.scheduler.plan``), and every value is bit for bit the one the
per-group formula gives in Python: ``span * f``, or ``low + span * f`` with a floor.
"""

from __future__ import annotations

import copy
import math
import pickle
import struct
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import cadence
from cadence import Scheduler
from cadence.scheduler.plan import Writes
from cadence.scheduler.track import ABSOLUTE, FINITE, NON_NEGATIVE, RELATIVE, Span, Track
from cadence.schedules import Constant, CosineRestarts, Linear, join

SPANS = {"relative": RELATIVE, "absolute": ABSOLUTE, "floor": Span.floor(1e-5),
         "between": Span.between(0.2, 2.0), "negative floor": Span.floor(-0.3)}


def groups(bases):
    return [{"params": [], "lr": float(b)} for b in bases]


def bits(value):
    return struct.pack("<d", value)


def python_values(track, f):
    """The formula, in Python, group by group."""
    lows, spans = track.ends()
    return [low + span * f if track.floored else span * f for low, span in zip(lows, spans)]


def written(track, f, n):
    optimizer_groups = groups(b if b is not None else 0.0 for b in track.bases[:n])
    Writes("lr", optimizer_groups, range(n)).write_scaled(f, track)
    return [g["lr"] for g in optimizer_groups]


def assert_same_bits(got, want):
    assert all(type(v) is float for v in got)
    assert [bits(v) for v in got] == [bits(float(v)) for v in want]


@pytest.mark.parametrize("n", [1, 10, 63, 64, 255, 256, 1000])
@pytest.mark.parametrize("span", SPANS.values(), ids=SPANS.keys())
def test_every_size_and_span_writes_the_python_formulas_bits(n, span):
    bases = [0.1 * 0.999**i for i in range(n)]
    track = Track("lr", [Constant(1.0)] * n, bases, span, FINITE)
    writes = Writes("lr", groups(bases), range(n))
    for f in (0.0, -0.0, 1.0, 0.05, 0.8535533905932737, 1 / 3, 7.5e-300, -2.5, 1e300):
        writes.write_scaled(f, track)
        assert_same_bits([g["lr"] for g in writes.groups], python_values(track, f))


@settings(max_examples=60, deadline=None)
@given(bases=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=256, max_size=300),
       f=st.floats(allow_nan=False, allow_infinity=False),
       span=st.sampled_from(list(SPANS.values())))
def test_any_bases_and_factor_give_the_python_formulas_bits(bases, f, span):
    track = Track("lr", [Constant(1.0)] * len(bases), bases, span)
    assert_same_bits(written(track, f, len(bases)), python_values(track, f))


@pytest.mark.parametrize("f", [math.inf, -math.inf, math.nan, 1e308])
@pytest.mark.parametrize("span", [RELATIVE, Span.floor(1e-5)], ids=["relative", "floor"])
def test_a_factor_that_could_overflow_is_written_as_python_writes_it_without_a_warning(f, span):
    """A track without a rule (a drop-in's, as PyTorch writes whatever its formula gives) may
    take any factor: the values are Python's, and numpy is not asked (it would warn)."""
    bases = [0.1 * 0.999**i for i in range(300)]
    track = Track("lr", [Constant(1.0)] * len(bases), bases, span)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = written(track, f, len(bases))
    want = python_values(track, f)
    assert [repr(v) for v in got] == [repr(v) for v in want]


def test_numpy_raising_on_underflow_changes_nothing():
    bases = [1e-300 * (1 + i / 300) for i in range(300)]
    track = Track("lr", [Constant(1.0)] * len(bases), bases, RELATIVE, NON_NEGATIVE)
    with np.errstate(all="raise"):
        got = written(track, 1e-15, len(bases))  # subnormal values
    assert_same_bits(got, python_values(track, 1e-15))


def test_new_bases_are_written_at_the_next_step():
    n = 300
    track = Track("lr", [Constant(1.0)] * n, [0.1] * n, Span.floor(1e-3), NON_NEGATIVE)
    writes = Writes("lr", groups([0.1] * n), range(n))
    writes.write_scaled(0.5, track)
    track.rebase([0.2 + i for i in range(n)])
    writes.write_scaled(0.5, track)
    assert_same_bits([g["lr"] for g in writes.groups], python_values(track, 0.5))


def layer_decay(n, lr=0.1):
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))],
                             "lr": lr * 0.999**i} for i in range(n)], lr=lr)


def schedule():
    return join([Linear(start=0.05, end=1.0, steps=100), CosineRestarts(period=200)],
                boundaries=[100])


@pytest.mark.parametrize("count", ["updates", "calls"])
def test_a_thousand_groups_hold_each_base_times_the_schedule(count):
    opt = layer_decay(1000)
    bases = [g["lr"] for g in opt.param_groups]
    sched = Scheduler(opt, lr=schedule(), count=count)
    for t in range(1, 400):
        opt.step() if count == "updates" else sched.step()
        f = schedule()(t)
        assert_same_bits([g["lr"] for g in opt.param_groups], [b * f for b in bases])


def test_the_all_in_one_scheduler_writes_its_formula_into_a_thousand_groups():
    opt = layer_decay(1000)
    bases = [g["lr"] for g in opt.param_groups]
    sched = cadence.WarmRestartScheduler(opt)
    core = sched._core()
    for t in range(1, 400):
        sched.step()
        f = core(t)
        want = [0.2 * b + (2.0 * b - 0.2 * b) * f for b in bases]
        assert_same_bits([g["lr"] for g in opt.param_groups], want)


def test_a_group_dict_replaced_among_a_thousand_is_the_one_written():
    opt = layer_decay(1000)
    sched = Scheduler(opt, lr=Linear(start=1.0, end=0.0, steps=10), count="calls")
    sched.step()
    opt.param_groups[500] = dict(opt.param_groups[500])
    sched.step()
    assert opt.param_groups[500]["lr"] == 0.1 * 0.999**500 * Linear(start=1.0, end=0.0,
                                                                      steps=10)(2)


@pytest.mark.parametrize("copy", [lambda x: pickle.loads(pickle.dumps(x)), copy.deepcopy],
                         ids=["pickle", "deepcopy"])
def test_a_copied_scheduler_writes_its_own_groups(copy):
    opt = layer_decay(300)
    sched = cadence.WarmRestartScheduler(opt)
    sched.step()
    twin = copy(sched)
    twin.step(), twin.step()
    sched.step()
    core = sched._core()
    assert [g["lr"] for g in twin.optimizer.param_groups] == [
        0.2 * b + (2.0 * b - 0.2 * b) * core(3.0) for b in twin.base_lrs]
    assert [g["lr"] for g in opt.param_groups] == [
        0.2 * b + (2.0 * b - 0.2 * b) * core(2.0) for b in sched.base_lrs]


def test_a_copied_plan_writes_from_its_own_buffer():
    n = 300
    track = Track("lr", [Constant(1.0)] * n, [0.1] * n, Span.floor(1e-3), NON_NEGATIVE)
    writes = Writes("lr", groups([0.1] * n), range(n))
    writes.write_scaled(0.5, track)
    twin, twin_track = copy.deepcopy((writes, track))  # the plan still fits its track
    twin.write_scaled(0.25, twin_track)
    assert_same_bits([g["lr"] for g in twin.groups], python_values(track, 0.25))
    assert_same_bits([g["lr"] for g in writes.groups], python_values(track, 0.5))
