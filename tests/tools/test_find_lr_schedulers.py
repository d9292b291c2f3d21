"""find_lr leaves every scheduler on the optimizer as it was, passed or not.

Each case builds the same model, optimizer and scheduler(s) twice, trains both a few updates,
runs the LR range test on one of them only (without passing the scheduler), then trains both 20
more updates: the lrs (and momenta) every update uses, the schedulers' steps and states and the
weights must be the same, update for update, as in the twin that never swept.
"""

from __future__ import annotations

import copy
import gc

import pytest
import torch
from torch.nn import functional as F

import cadence
from cadence.compat import lr_scheduler as compat
from cadence.scheduler import ReduceOnPlateau
from cadence.schedules import Cosine, Linear
from cadence.tools.find_lr import find_lr
from cadence.tools.snapshot import hooked_schedulers, scheduler_hooks_paused

BEFORE, AFTER = 3, 20  # updates before the sweep, and compared after it


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def batches(n=512, batch=32):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 8, generator=g)
    y = (x @ torch.randn(8, 3, generator=g)).argmax(1)
    return [(x[i:i + batch], y[i:i + batch]) for i in range(0, n, batch)]


def model():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(),
                                   torch.nn.Linear(16, 3))


class PerUpdateStepLR(torch.optim.lr_scheduler.StepLR):
    """A PyTorch scheduler stepped by one of its own methods, registered as a step hook."""

    def __init__(self, optimizer, **kwargs):
        super().__init__(optimizer, **kwargs)
        optimizer.register_step_post_hook(self.on_update)

    def on_update(self, optimizer, args, kwargs):
        self.step()


# name -> (the schedulers on a fresh optimizer, whether step() takes the metric)
def _cadence(opt, count="updates"):
    return [cadence.Scheduler(opt, lr=Linear(start=0.01, end=1.0, steps=100),
                              momentum=Cosine(start=1.0, end=0.5, steps=60), count=count)]


CASES = {
    "cadence updates": (_cadence, False),
    "cadence calls": (lambda opt: _cadence(opt, "calls"), False),
    "two cadence schedulers": (lambda opt: [
        cadence.Scheduler(opt, lr=Linear(start=0.01, end=1.0, steps=100)),
        cadence.Scheduler(opt, weight_decay=Cosine(start=1.0, end=0.0, steps=30))], False),
    "plateau": (lambda opt: [cadence.Scheduler(
        opt, lr=Cosine(start=1.0, end=0.1, steps=50),
        plateau=ReduceOnPlateau(patience=0, factor=0.5))], True),
    "seed000 LRScheduler": (lambda opt: [cadence.LRScheduler(opt, warmup_steps=5, T_0=4)],
                            False),
    "torch LambdaLR": (lambda opt: [torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: 1.0 / (1 + k))], False),
    "torch StepLR stepped by its hook": (lambda opt: [PerUpdateStepLR(opt, step_size=2,
                                                                      gamma=0.7)], False),
    "compat OneCycleLR": (lambda opt: [compat.OneCycleLR(opt, max_lr=0.05, total_steps=40)],
                          False),
}


def build(case):
    make, with_metric = CASES[case]
    net = model()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    return net, opt, make(opt), with_metric


def train(net, opt, schedulers, with_metric, data, updates):
    """``updates`` updates; per update the lr, momentum and weight decay it used, then each
    scheduler's step and state after its step()."""
    seen = []
    for k, (x, y) in enumerate(data[:updates]):
        used = [(g["lr"], g["momentum"], g["weight_decay"]) for g in opt.param_groups]
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        for s in schedulers:
            s.step(1.0 + (k % 2)) if with_metric else s.step()  # a plateau every other one
        seen.append((used, [(s.last_epoch, s.state_dict()) for s in schedulers]))
    return seen


def states(schedulers):
    return [(s.last_epoch, copy.deepcopy(s.state_dict())) for s in schedulers]


def group_values(opt):
    return [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]


@pytest.mark.parametrize("case", list(CASES))
def test_a_scheduler_not_passed_goes_on_as_if_there_was_no_sweep(case):
    data = batches()
    swept, twin = build(case), build(case)
    train(*swept, data, BEFORE)
    train(*twin, data, BEFORE)
    net, opt, schedulers, _ = swept
    before_states, before_groups = states(schedulers), group_values(opt)
    result = find_lr(net, opt, F.cross_entropy, data, start_lr=1e-4, end_lr=1.0, num_iter=50)
    assert len(result.lrs) > 20  # it did train
    assert states(schedulers) == before_states
    assert group_values(opt) == before_groups
    assert group_values(opt) == group_values(twin[1])
    after_sweep = train(*swept, data[BEFORE:], AFTER)
    never_swept = train(*twin, data[BEFORE:], AFTER)
    for k, (a, b) in enumerate(zip(after_sweep, never_swept)):
        assert a == b, f"update {k + 1} after the sweep"
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), twin[0].parameters()))


def test_the_reported_case_against_the_formula():
    """The issue's case: Scheduler(opt, lr=...) counting updates, not passed; find_lr of 50
    updates used to leave it reading step 0 with the next update jumping to step 51."""
    net = model()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    schedule = Linear(start=0.01, end=1.0, steps=100)
    scheduler = cadence.Scheduler(opt, lr=schedule)
    data = batches()
    find_lr(net, opt, F.cross_entropy, data, start_lr=1e-4, end_lr=1e-2, num_iter=50)
    assert scheduler.current_step == 0
    for t, (x, y) in enumerate(data[:AFTER]):
        assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * schedule(t), rel=1e-12), t
        F.cross_entropy(net(x), y).backward()
        opt.step()
        opt.zero_grad()
        scheduler.step()
        assert scheduler.current_step == t + 1


def test_the_hooks_come_back_in_their_order_and_other_hooks_still_run():
    net = model()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    calls = []
    opt.register_step_post_hook(lambda *args: calls.append("first"))
    first = cadence.Scheduler(opt, lr=Linear(start=1.0, end=0.0, steps=100))
    opt.register_step_pre_hook(lambda *args: calls.append("pre"))
    second = cadence.Scheduler(opt, weight_decay=Linear(start=1.0, end=0.0, steps=100))
    post = list(opt._optimizer_step_post_hooks.items())
    pre = list(opt._optimizer_step_pre_hooks.items())
    assert hooked_schedulers(opt) == [first, second]
    find_lr(net, opt, F.cross_entropy, batches(), start_lr=1e-4, end_lr=1e-2, num_iter=12)
    assert calls == ["pre", "first"] * 12  # the user's hooks ran in the sweep
    assert list(opt._optimizer_step_post_hooks.items()) == post
    assert list(opt._optimizer_step_pre_hooks.items()) == pre
    assert first.current_step == second.current_step == 0


def test_hooks_added_or_removed_meanwhile_are_kept_so():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    keep = [cadence.Scheduler(opt, lr=0.5)]
    other = opt.register_step_post_hook(lambda *args: None)
    with scheduler_hooks_paused(opt):
        assert opt._optimizer_step_post_hooks == {other.id: opt._optimizer_step_post_hooks[
            other.id]}
        other.remove()
        added = opt.register_step_post_hook(lambda *args: None)
        keep.clear()  # the scheduler goes: its hook is not put back
        gc.collect()
    assert list(opt._optimizer_step_post_hooks) == [added.id]


def test_a_scheduler_given_and_hooked_is_restored_once():
    net = model()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    scheduler = cadence.Scheduler(opt, lr=Linear(start=1.0, end=0.0, steps=100))
    opt.step()
    state = copy.deepcopy(scheduler.state_dict())
    find_lr(net, opt, F.cross_entropy, batches(), start_lr=1e-4, end_lr=1e-2, num_iter=12,
            scheduler=scheduler)
    assert scheduler.state_dict() == state and scheduler.current_step == 1
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.99, rel=1e-12)
