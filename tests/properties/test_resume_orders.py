"""Every scheduler class resumes exactly in the three orders users write.

A run is saved after a few steps (the optimizer's state and the scheduler's) and resumed in a
fresh optimizer three ways: the optimizer's state loaded first, then the scheduler built and
its state loaded (PyTorch's own classes get this one wrong: the first step of the rebuilt
scheduler moves the loaded values on); the scheduler built and its state loaded, then the
optimizer's; the scheduler's state alone. Each must continue with exactly the values, every
hyperparameter of every param group, bit for bit, of the run that was never interrupted. The
state alone is also loaded into an optimizer built with other learning rates: the bases come
from the state, so the lrs are the run's (the hyperparameters nobody schedules keep the new
optimizer's values there).
"""

from __future__ import annotations

import copy
import warnings

import pytest
from properties.schedulers import IDS, SCHEDULERS
from properties.surface import group_values, make_optimizer, step_once

SAVED_AT, AFTER = 4, 6
ORDERS = ("optimizer first", "scheduler first", "scheduler alone", "alone, other lrs")


def other_lrs() -> object:
    """The optimizer of the suite, with other learning rates."""
    opt = make_optimizer()
    for group in opt.param_groups:
        group["lr"] *= 3.0
    return opt


def run(make, steps):
    opt = make_optimizer()
    sched = make(opt)
    seen, states = [], None
    for k in range(steps):
        if k == SAVED_AT:
            states = copy.deepcopy((opt.state_dict(), sched.state_dict()))
        seen.append(group_values(opt))
        step_once(sched)
    return seen, states


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("make", [m for _, m in SCHEDULERS], ids=IDS)
def test_every_load_order_continues_the_run_bit_for_bit(make, order):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's and MMEngine's own warnings
        seen, (opt_state, sched_state) = run(make, SAVED_AT + AFTER)
        if order == "optimizer first":
            opt = make_optimizer()
            opt.load_state_dict(copy.deepcopy(opt_state))
            sched = make(opt)
            sched.load_state_dict(copy.deepcopy(sched_state))
        elif order == "scheduler first":
            opt = make_optimizer()
            sched = make(opt)
            sched.load_state_dict(copy.deepcopy(sched_state))
            opt.load_state_dict(copy.deepcopy(opt_state))
        else:
            opt = make_optimizer() if order == "scheduler alone" else other_lrs()
            sched = make(opt)
            sched.load_state_dict(copy.deepcopy(sched_state))
        resumed = []
        for _ in range(AFTER):
            resumed.append(group_values(opt))
            step_once(sched)
    expected = seen[SAVED_AT:]
    if order == "alone, other lrs":
        if "lr" not in sched.hyperparameters:
            pytest.skip("it does not schedule the lr")
        resumed, expected = lrs(resumed), lrs(expected)
    assert resumed == expected


def lrs(rows):
    return [{k: v for k, v in row.items() if k[1] == "lr"} for row in rows]
