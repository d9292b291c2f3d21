"""A schedule is a value: nothing it remembers between calls changes a result, travels in a
pickle, grows without bound or goes wrong when threads share it."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import sys
import threading

import numpy as np
import pytest

from cadence.schedules import CosineRestarts, Multiplicative
from cadence.schedules.function import RunningProduct


def factor(k):
    return 0.999 if k % 3 else 0.99


def running_product(t):
    """The product written out: factor(1) * ... * factor(t), in that order."""
    product = 1.0
    for k in range(1, t + 1):
        product *= factor(k)
    return product


def wrong_in_threads(schedule, rows, expected):
    """The steps at which ``schedule``, evaluated by one thread per row of ``rows`` at once,
    differs from ``expected(step)``."""
    wrong = []
    start = threading.Barrier(len(rows))

    def work(row):
        start.wait()
        wrong.extend(t for t in row if schedule(t) != expected(t))

    threads = [threading.Thread(target=work, args=(row,)) for row in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return wrong


@pytest.fixture
def frequent_switches():
    """Threads switched every microsecond, so a race shows in every run."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_multiplicative_shared_by_threads_gives_the_products_every_time(frequent_switches):
    schedule = Multiplicative(factor)
    steps = np.random.default_rng(0).integers(0, 40_000, size=(6, 60)).tolist()
    assert wrong_in_threads(schedule, steps, running_product) == []
    # and afterwards, on one thread, in any order
    for t in (39_999, 5, 12_345, 0, 4096, 4095, 8193):
        assert schedule(t) == running_product(t)
    table = np.array([[7, 4097], [0, 30_000]])
    assert schedule(table).tolist() == [[running_product(7), running_product(4097)],
                                        [1.0, running_product(30_000)]]


def test_multiplicative_keeps_bounded_memory_and_no_memory_in_a_pickle():
    schedule = Multiplicative(factor)
    schedule(1_000_000)
    checkpoints = schedule._running()._checkpoints
    assert len(checkpoints) == 1_000_000 // RunningProduct.BLOCK + 1
    copy = pickle.loads(pickle.dumps(schedule))
    assert copy == schedule and "_running_product" not in vars(copy)
    assert len(pickle.dumps(schedule)) < 200


def test_cosine_restarts_remembers_only_a_cycle_that_changes_no_value_nor_a_pickle():
    """It keeps the last cycle found (stepping is then one comparison): the values are those
    of a fresh schedule, whatever was asked before, and a pickle or copy holds the arguments
    only."""
    steps = [5, 15, 16, 3, 1000.5, 29.999, 30, 70, 69.5]
    used = CosineRestarts(period=10, period_mult=2)
    for t in steps:
        assert used(t) == CosineRestarts(period=10, period_mult=2)(t)
    fields = {f.name for f in dataclasses.fields(used)}
    assert set(vars(pickle.loads(pickle.dumps(used)))) == fields
    assert copy.deepcopy(used) == used


@pytest.mark.parametrize("t", [2**53 - 1, 2**54 + 2, 2.0**63, 1e300])
def test_cosine_restarts_far_out_stays_finite(t):
    """Past 2**53 a cycle of a few steps is shorter than a float's spacing: the value is the
    cycle's start (high), never a ZeroDivisionError or NaN."""
    for schedule in (CosineRestarts(period=1), CosineRestarts(period=0.5, period_mult=2)):
        scalar = schedule(t)
        array = schedule(np.array([t, 0.25]))
        assert np.isfinite(scalar) and np.isfinite(array).all()
        assert 0.0 <= scalar <= 1.0 and array[1] == schedule(0.25)


def test_cosine_restarts_shared_by_threads_gives_a_fresh_schedules_values(frequent_switches):
    shared = CosineRestarts(period=7, period_mult=1.5)
    steps = np.random.default_rng(1).uniform(0, 5000, size=(6, 300)).tolist()
    expected = {t: CosineRestarts(period=7, period_mult=1.5)(t) for row in steps for t in row}
    assert wrong_in_threads(shared, steps, expected.__getitem__) == []
