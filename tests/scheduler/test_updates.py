"""What counts as an update: not the step torch.distributed.checkpoint takes to create an
optimizer's state, in any order of loading, for both counts."""

from __future__ import annotations

import pytest
import torch
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

from cadence import Scheduler
from cadence.schedules import Linear, Warmup


def built(count):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    sched = Scheduler(opt, lr=Warmup(Linear(start=1.0, end=0.0, steps=10), steps=3), count=count)
    return model, opt, sched


def train(model, opt, sched, steps):
    for _ in range(steps):
        model(torch.ones(4, 3)).pow(2).mean().backward()
        opt.step()
        opt.zero_grad()
        sched.step()


@pytest.mark.parametrize("order", ["scheduler first", "checkpoint first"])
@pytest.mark.parametrize("count", ["updates", "calls"])
def test_dcp_state_dict_calls_do_not_move_the_schedule(count, order):
    model, opt, sched = built(count)
    train(model, opt, sched, 4)
    model_state, optim_state = get_state_dict(model, opt)
    sched_state = sched.state_dict()
    train(model, opt, sched, 3)
    expected = [g["lr"] for g in opt.param_groups], sched.current_step

    model2, opt2, sched2 = built(count)
    if order == "scheduler first":
        sched2.load_state_dict(sched_state)
        set_state_dict(model2, opt2, model_state_dict=model_state, optim_state_dict=optim_state)
    else:
        set_state_dict(model2, opt2, model_state_dict=model_state, optim_state_dict=optim_state)
        sched2.load_state_dict(sched_state)
    assert sched2.current_step == 4
    train(model2, opt2, sched2, 3)
    assert ([g["lr"] for g in opt2.param_groups], sched2.current_step) == expected


def test_a_real_first_update_at_lr_zero_counts():
    """A warm-up from 0 makes the first update with every lr 0: it is not DCP's."""
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = Scheduler(opt, lr=Linear(start=0.0, end=1.0, steps=10))
    assert opt.param_groups[0]["lr"] == 0.0
    train(model, opt, sched, 1)
    assert sched.current_step == 1
