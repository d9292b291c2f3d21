"""Saving and resuming: exact, in any order, and refusing a different schedule."""

from __future__ import annotations

import io

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import non_negative_schedules

from cadence import ReduceOnPlateau, Scheduler
from cadence.schedules import Constant, Cosine, Lambda, Linear, Warmup

ORDERS = ("optimizer first", "scheduler first", "fresh optimizer", "scheduler state alone")


def make_optimizer(scale=1.0):
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 0.1 * scale},
              {"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 0.03 * scale,
               "momentum": 0.5}]
    return torch.optim.SGD(groups, lr=0.1, momentum=0.9, weight_decay=1e-4)


def values(opt):
    return [(g["lr"], g["momentum"], g["weight_decay"]) for g in opt.param_groups]


def through_disk(state):
    """torch.save then torch.load(weights_only=True): the state must be plain data."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def make(opt, lr, momentum, count):
    # absolute=False: random schedules are factors, some small enough to look like rates
    return Scheduler(opt, lr=lr, momentum=momentum, weight_decay=Linear(start=1, end=0, steps=50),
                     batch_size_mode="linear", base_batch_size=32, count=count, absolute=False)


def advance(opt, sched, batch):
    opt.step()
    sched.step(batch_size=batch)


def restore(order, lr, momentum, count, opt_state, sched_state):
    if order == "optimizer first":
        opt = make_optimizer()
        opt.load_state_dict(opt_state)
        sched = make(opt, lr, momentum, count)
        sched.load_state_dict(sched_state)
    elif order == "scheduler first":
        opt = make_optimizer()
        sched = make(opt, lr, momentum, count)
        sched.load_state_dict(sched_state)
        opt.load_state_dict(opt_state)
    elif order == "fresh optimizer":  # built with other values; only the scheduler state
        opt = make_optimizer(scale=7.0)
        sched = make(opt, lr, momentum, count)
        sched.load_state_dict(sched_state)
    else:
        opt = make_optimizer()
        sched = make(opt, lr, momentum, count)
        sched.load_state_dict(sched_state)
    return opt, sched


@settings(max_examples=40, deadline=None)
@given(lr=non_negative_schedules, momentum=non_negative_schedules, stop=st.integers(0, 300),
       order=st.sampled_from(ORDERS), count=st.sampled_from(["updates", "calls"]),
       batches=st.lists(st.none() | st.sampled_from([16, 32, 128]), min_size=1, max_size=5))
def test_resume_is_bit_identical(lr, momentum, stop, order, count, batches):
    opt = make_optimizer()
    sched = make(opt, lr, momentum, count)
    for t in range(stop):
        advance(opt, sched, batches[t % len(batches)])
    opt_state = through_disk(opt.state_dict())
    sched_state = through_disk(sched.state_dict())
    at_stop = values(opt)
    expected = []
    for t in range(stop, stop + 1000):
        advance(opt, sched, batches[t % len(batches)])
        expected.append(values(opt))

    opt2, sched2 = restore(order, lr, momentum, count, opt_state, sched_state)
    assert values(opt2) == at_stop
    assert sched2.last_epoch == stop
    resumed = []
    for t in range(stop, stop + 1000):
        advance(opt2, sched2, batches[t % len(batches)])
        resumed.append(values(opt2))
    assert resumed == expected


def plain(value):
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def test_state_holds_only_plain_data():
    opt = make_optimizer()
    sched = Scheduler(opt, lr={0: Warmup(Cosine(steps=10), steps=3), 1: Lambda(abs)},
                      plateau=ReduceOnPlateau(patience=0, sync=False))
    sched.report(1.0)
    state = sched.state_dict()
    assert plain(state)
    assert through_disk(state) == state


def test_plateau_state_resumes():
    def build(opt):
        return Scheduler(opt, lr=Constant(1.0),
                         plateau=ReduceOnPlateau(patience=1, factor=0.5, sync=False))
    opt = make_optimizer()
    sched = build(opt)
    for metric in (1.0, 1.0, 1.0, 0.5, 0.6):
        sched.report(metric)
    opt2 = make_optimizer()
    again = build(opt2)
    again.load_state_dict(through_disk(sched.state_dict()))
    assert values(opt2) == values(opt)
    for metric in (0.6, 0.6, 0.4, 0.9, 0.9, 0.9):
        assert again.report(metric) == sched.report(metric)
        assert values(opt2) == values(opt)


def test_a_different_schedule_is_refused_unless_asked():
    opt = make_optimizer()
    sched = Scheduler(opt, lr=Cosine(steps=100), count="calls")
    for _ in range(10):
        sched.step()
    state = sched.state_dict()
    other = Scheduler(make_optimizer(), lr=Linear(start=1.0, end=0.0, steps=100), count="calls")
    with pytest.raises(ValueError, match=r"saved with a different schedule: 'lr' schedules .*"
                                         r"cosine.* != .*linear.*strict=False.*step 10"):
        other.load_state_dict(state)
    other.load_state_dict(state, strict=False)
    assert other.last_epoch == 10
    assert other.get_last_lr() == [0.1 * 0.9, 0.03 * 0.9]
    more = Scheduler(make_optimizer(), lr=Cosine(steps=100), momentum=Constant(1.0))
    with pytest.raises(ValueError, match=r"it schedules \['lr'\], this scheduler "
                                         r"\['lr', 'momentum'\]"):
        more.load_state_dict(state)


def test_garbage_states_are_refused():
    sched = Scheduler(make_optimizer(), lr=Cosine(steps=10))
    torch_state = torch.optim.lr_scheduler.StepLR(make_optimizer(), 3).state_dict()
    for bad, error in ((torch_state, ValueError), ({}, ValueError), ([1, 2], TypeError)):
        with pytest.raises(error, match="must come from cadence.Scheduler.state_dict"):
            sched.load_state_dict(bad)
