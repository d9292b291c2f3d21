"""One writer per place: a place (a param group's hyperparameter, an attribute, a dict entry,
a tensor, an EMA update) scheduled twice is refused, in every form it takes; a hand-over and
upstream's chaining are not.

Within one scheduler (two names for one place) the refusal comes when it is built; between two
schedulers before the optimizer's next update, which it stops, since by then the first may be
gone (a scheduler built again in its place) or handed over (a child of a SequentialLR).
"""

from __future__ import annotations

import gc
import warnings

import pytest
import torch

import cadence
from cadence import Attribute, EMAUpdate, Item, Modules, Scheduler, TensorValue
from cadence.compat import lr_scheduler as C
from cadence.compat import mmengine as M
from cadence.schedules import Constant, Cosine, Linear


def sgd(lr=0.1):
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))]},
                            {"params": [torch.nn.Parameter(torch.zeros(1))], "name": "head"}],
                           lr=lr, momentum=0.9)


class Loss:
    kl_weight = 0.5


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = torch.nn.Dropout(0.2)
        self.register_buffer("temperature", torch.tensor(2.0))


def native(count):
    return lambda opt, **kw: Scheduler(opt, lr=Cosine(steps=10), count=count, **kw)


# (first, second): two writers of one place, built one after the other on the same optimizer
TWICE = {
    "two Schedulers on the lr (updates)": (native("updates"), native("updates")),
    "two Schedulers on the lr (calls)": (native("calls"), native("calls")),
    "a Scheduler, then a drop-in": (native("updates"), lambda o: C.StepLR(o, step_size=2)),
    "a drop-in, then a Scheduler": (lambda o: C.StepLR(o, step_size=2), native("calls")),
    "an MMEngine drop-in, then a Scheduler": (lambda o: M.StepLR(o, step_size=2),
                                               native("updates")),
    "one group's lr, selected by name": (
        lambda o: Scheduler(o, lr={"head": Cosine(steps=10)}),
        lambda o: Scheduler(o, lr={1: Linear(start=1.0, end=0.5, steps=10)})),
    "momentum": (lambda o: Scheduler(o, momentum=Linear(start=1.0, end=0.9, steps=5)),
                 lambda o: Scheduler(o, momentum=Constant(1.0))),
}


@pytest.mark.parametrize("pair", TWICE, ids=list(TWICE))
def test_two_writers_of_one_place_stop_the_next_update(pair):
    first_make, second_make = TWICE[pair]
    opt = sgd()
    first = first_make(opt)
    second = second_make(opt)
    before = [dict(g) for g in opt.param_groups]
    with pytest.raises(ValueError, match=r"is written by two schedulers: .* One writer per "
                       r"place"):
        opt.step()
    assert [dict(g) for g in opt.param_groups] == before  # the update did not run
    del first, second


def test_the_message_names_the_place_and_both_schedulers():
    opt = sgd()
    a = Scheduler(opt, lr=Cosine(steps=10))
    b = Scheduler(opt, lr=Linear(start=1.0, end=0.0, steps=10))
    with pytest.raises(ValueError) as caught:
        opt.step()
    message = str(caught.value)
    assert message.startswith("param group 0's 'lr' is written by two schedulers: "
                              "Scheduler(SGD, lr=Cosine(")
    assert "and Scheduler(SGD, lr=Linear(" in message and "close the first one" in message
    del a, b


TARGETS = {
    "an attribute": lambda net, loss, d: (Attribute(loss, "kl_weight"),
                                          Attribute(loss, "kl_weight")),
    "a dict entry": lambda net, loss, d: (Item(d, "aux"), Item(d, "aux")),
    "a buffer, as an attribute and as a tensor": lambda net, loss, d: (
        Attribute(net, "temperature"), TensorValue(net.temperature)),
    "a module's attribute": lambda net, loss, d: (Modules(net, "p", type=torch.nn.Dropout),
                                                  Attribute(net.drop, "p")),
    "an EMA update": lambda net, loss, d: (EMAUpdate(0.9),) * 2,
}


def _targets(kind):
    net, loss, weights = Net(), Loss(), {"aux": 0.5}
    return TARGETS[kind](net, loss, weights), (net, loss, weights)


@pytest.mark.parametrize("kind", TARGETS)
def test_one_place_under_two_names_is_refused_when_built(kind):
    (a, b), _keep = _targets(kind)
    opt = sgd()
    before = [dict(g) for g in opt.param_groups]
    absolute = ["one", "two"] if isinstance(a, EMAUpdate) else []
    with pytest.raises(ValueError, match=r"target '(one|two)' .* and target '(one|two)' .* are "
                       "one place, written twice"):
        Scheduler(opt, one=Constant(0.9), two=Constant(0.8), targets={"one": a, "two": b},
                  absolute=absolute)
    assert [dict(g) for g in opt.param_groups] == before


@pytest.mark.parametrize("kind", TARGETS)
@pytest.mark.parametrize("count", ["updates", "calls"])
def test_one_place_in_two_schedulers_stops_the_next_update(kind, count):
    (a, b), _keep = _targets(kind)
    opt = sgd()
    absolute = ["w"] if isinstance(a, EMAUpdate) else []
    first = Scheduler(opt, w=Constant(0.9), targets={"w": a}, absolute=absolute, count=count)
    second = Scheduler(opt, w=Constant(0.8), targets={"w": b}, absolute=absolute, count=count)
    with pytest.raises(ValueError, match="is written by two schedulers"):
        opt.step()
    del first, second


# -- what is not two writers ------------------------------------------------------------------
@pytest.mark.parametrize("container", ["torch", "cadence"])
@pytest.mark.parametrize("count", ["updates", "calls"])
def test_children_of_a_sequential_lr_hand_over(container, count):
    module = torch.optim.lr_scheduler if container == "torch" else C
    opt = sgd()
    children = [Scheduler(opt, lr=Linear(start=0.1, end=1.0, steps=3), count=count),
                Scheduler(opt, lr=Cosine(steps=5), count=count)]
    sched = module.SequentialLR(opt, children, milestones=[3])
    for _ in range(6):
        opt.step()
        sched.step()


@pytest.mark.parametrize("family", ["torch", "mmengine"])
def test_drop_ins_chain_as_upstreams_do(family):
    opt = sgd()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "torch":
            schedulers = [C.StepLR(opt, 2), C.ExponentialLR(opt, 0.9)]
        else:
            schedulers = [M.LinearLR(opt, start_factor=0.5, end=4), M.ExponentialLR(opt, 0.9)]
        for _ in range(4):
            opt.step()
            for s in schedulers:
                s.step()


def test_different_places_are_not_shared():
    opt = sgd()
    lr = Scheduler(opt, lr=Cosine(steps=10))
    momentum = Scheduler(opt, momentum=Linear(start=1.0, end=0.9, steps=10))
    head = Scheduler(sgd(), lr={"head": Cosine(steps=10)})
    for _ in range(3):
        opt.step()
    del lr, momentum, head


def test_a_scheduler_built_again_in_the_place_of_one_nobody_holds():
    """Seed 000's script: ``scheduler = LRScheduler(optimizer, ...)`` a second time."""
    opt = sgd()
    sched = Scheduler(opt, lr=Cosine(steps=10))
    opt.step()
    sched = Scheduler(opt, lr=Linear(start=1.0, end=0.0, steps=10))
    opt.step()
    assert sched.current_step == 1


def test_close_frees_the_places():
    opt = sgd()
    first = Scheduler(opt, lr=Cosine(steps=10))
    second = Scheduler(opt, lr=Linear(start=1.0, end=0.0, steps=10))
    first.close()
    opt.step()
    assert second.current_step == 1 and first.current_step == 0  # it no longer counts
    del first
    gc.collect()
    opt.step()
    assert cadence.scheduler.writers.live(opt) == [second]
