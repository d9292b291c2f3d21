"""A param group added with ``optimizer.add_param_group`` after the scheduler was built (what
Lightning's ``BackboneFinetuning`` does when it unfreezes a backbone), for every scheduler
class.

A drop-in does what its upstream class does with that group, side by side with it: the same
values where upstream moves it (PyTorch's and MMEngine's chainable forms), the group left as
it is where upstream leaves it, and where upstream fails (its formula needs a base lr, a
``max_lr`` or a function per group) a ``ValueError`` that names the group, at the same step.
``cadence.Scheduler`` (both counts) schedules it from the step it appears, relative to its own
lr then.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from properties.schedulers import SCHEDULERS, upstream
from properties.surface import make_optimizer, step_once

from cadence import Scheduler

ADDED_AT, STEPS = 2, 9


def add_group(opt: torch.optim.Optimizer) -> None:
    params = [torch.nn.Parameter(torch.zeros(1))]
    opt.add_param_group({"params": params, "lr": 0.2, "momentum": 0.8})


def lrs_with_a_group_added(make) -> tuple[list[list[float]], BaseException | None]:
    opt = make_optimizer()
    sched = make(opt)
    seen: list[list[float]] = []
    try:
        for k in range(STEPS):
            if k == ADDED_AT:
                add_group(opt)
            seen.append([float(g["lr"]) for g in opt.param_groups])
            step_once(sched)
    except Exception as exc:
        return seen, exc
    return seen, None


DROP_INS = [(name, make, upstream(name)) for name, make in SCHEDULERS
            if upstream(name) is not None]


@pytest.mark.parametrize(("make", "theirs"), [(m, t) for _, m, t in DROP_INS],
                         ids=[name for name, _, _ in DROP_INS])
def test_a_drop_in_does_with_an_added_group_what_upstream_does(make, theirs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        upstream_lrs, their_error = lrs_with_a_group_added(theirs)
        our_lrs, our_error = lrs_with_a_group_added(make)
    assert len(our_lrs) == len(upstream_lrs)  # the same steps, up to a failure
    added = [row[2:] for row in our_lrs], [row[2:] for row in upstream_lrs]
    assert added[0] == added[1]  # the added group's lr, bit for bit
    if their_error is None:
        assert our_error is None
    else:
        assert isinstance(our_error, ValueError), our_error
        assert "param group 2 " in str(our_error)


@pytest.mark.parametrize("count", ["updates", "calls"])
def test_cadence_scheduler_schedules_an_added_group_from_its_own_lr(count):
    from cadence.schedules import Exponential

    opt = make_optimizer()
    sched = Scheduler(opt, lr=Exponential(rate=0.5), count=count)
    for k in range(STEPS):
        if k == ADDED_AT:
            add_group(opt)
        if k == ADDED_AT:
            assert opt.param_groups[2]["lr"] == 0.2  # not scheduled before the next update
        elif k > ADDED_AT:
            assert opt.param_groups[2]["lr"] == 0.2 * 0.5 ** k  # base: its lr when it came
        step_once(sched)
