"""A Scheduler knows each param group by who it is, not where it sits: a group removed takes
its base with it, a group that moves keeps its own, a group added gets its own, in the same
process and across a resume (the state keeps each group's name and parameter shapes)."""

from __future__ import annotations

import pytest
import torch

from cadence import Scheduler
from cadence.schedules import Exponential


def group(lr, size, name=None):
    out = {"params": [torch.nn.Parameter(torch.zeros(size))], "lr": lr}
    if name is not None:
        out["name"] = name
    return out


def lrs(opt):
    return [g["lr"] for g in opt.param_groups]


@pytest.mark.parametrize("count", ["updates", "calls"])
def test_a_group_removed_and_another_added_gets_its_own_base(count):
    opt = torch.optim.SGD([group(0.1, 1), group(0.4, 2)], lr=0.1)
    sched = Scheduler(opt, lr=Exponential(rate=0.5), count=count)
    opt.step(), sched.step()
    del opt.param_groups[1]  # the same number of groups again after the next line
    opt.add_param_group(group(0.2, 3))
    opt.step(), sched.step()
    assert lrs(opt) == [0.1 * 0.5**2, 0.2 * 0.5**2]  # not 0.4's
    assert sched.bases("lr") == [0.1, 0.2]


@pytest.mark.parametrize("count", ["updates", "calls"])
def test_a_group_that_moves_keeps_its_base(count):
    opt = torch.optim.SGD([group(0.1, 1), group(0.4, 2), group(0.8, 3)], lr=0.1)
    sched = Scheduler(opt, lr=Exponential(rate=0.5), count=count)
    opt.step(), sched.step()
    del opt.param_groups[0]  # the others move up
    opt.step(), sched.step()
    assert lrs(opt) == [0.4 * 0.5**2, 0.8 * 0.5**2]
    assert sched.bases("lr") == [0.4, 0.8]


def test_the_optimizer_state_loaded_keeps_every_base():
    opt = torch.optim.SGD([group(0.1, 1), group(0.4, 2)], lr=0.1)
    sched = Scheduler(opt, lr=Exponential(rate=0.5))
    opt.step()
    opt.load_state_dict(opt.state_dict())  # new group dicts, the same groups
    opt.step()
    assert lrs(opt) == [0.1 * 0.25, 0.4 * 0.25] and sched.bases("lr") == [0.1, 0.4]


def saved_run():
    opt = torch.optim.SGD([group(0.1, 1, "backbone"), group(0.4, 2), group(0.8, 3)], lr=0.1)
    sched = Scheduler(opt, lr=Exponential(rate=0.5))
    opt.step()
    return sched.state_dict()


def test_strict_false_maps_the_saved_bases_by_name_and_shapes():
    """The model changed: a new head first, the old groups after it."""
    state = saved_run()
    opt = torch.optim.SGD([group(0.05, 5, "new head"), group(0.9, 3), group(0.9, 1, "backbone"),
                           group(0.9, 2)], lr=0.1)
    sched = Scheduler(opt, lr=Exponential(rate=0.5))
    sched.load_state_dict(state, strict=False)
    assert sched.bases("lr") == [0.05, 0.8, 0.1, 0.4]  # the new one keeps its own


def test_a_state_without_group_descriptions_maps_by_position():
    state = saved_run()
    del state["layout"]["param_groups"]  # as the states of the release before
    opt = torch.optim.SGD([group(0.9, 1), group(0.9, 2), group(0.9, 3)], lr=0.1)
    sched = Scheduler(opt, lr=Exponential(rate=0.5))
    sched.load_state_dict(state)
    assert sched.bases("lr") == [0.1, 0.4, 0.8]
