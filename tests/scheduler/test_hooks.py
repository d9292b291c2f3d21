"""A Scheduler counts updates with a step hook on the optimizer; a dropped one leaves none."""

from __future__ import annotations

import gc

import pytest
import torch

from cadence import ReduceOnPlateau, Scheduler
from cadence.schedules import Cosine


def hooks(optimizer):
    return len(optimizer._optimizer_step_post_hooks)


@pytest.mark.parametrize("plateau", [None, ReduceOnPlateau(sync=False)], ids=["plain", "plateau"])
def test_dropped_schedulers_leave_no_step_hook(plateau):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    for _ in range(1000):
        Scheduler(opt, lr=Cosine(steps=10), plateau=plateau)
    gc.collect()
    assert hooks(opt) == 0
    kept = Scheduler(opt, lr=Cosine(steps=10), plateau=plateau)
    assert hooks(opt) == 1
    opt.step()
    assert kept.current_step == 1
    del kept
    gc.collect()
    assert hooks(opt) == 0
    opt.step()  # no hook of a dropped scheduler runs


def test_count_calls_registers_no_hook():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = Scheduler(opt, lr=Cosine(steps=10), count="calls")
    assert hooks(opt) == 0 and sched.current_step == 0
