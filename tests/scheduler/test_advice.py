"""An lr schedule written as learning rates (the optax and Keras habit) but bound, by default,
as a factor of each group's base lr trains at lr squared without a word: cadence says so when
the scheduler is built and in ``describe``, naming ``absolute=``."""

from __future__ import annotations

import warnings

import pytest
import torch

from cadence import LooksLikeRates, Scheduler
from cadence.schedules import Constant, Cosine, Linear, MultiStep, Warmup
from cadence.tools import describe


def adamw(lr=3e-4):
    return torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=lr)


AS_RATES = {
    "the reported case": (adamw(3e-4), Warmup(Cosine(start=3e-4, end=0.0, steps=900), steps=100)),
    "SGD's 0.1 written as the start": (torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))],
                                                       lr=0.1), Cosine(start=0.1, end=0.0, steps=50)),
    "a constant lr": (adamw(1e-3), Constant(1e-3)),
    "milestones on a rate": (adamw(2e-5), MultiStep(milestones=[10], gamma=0.1) * 2e-5),
}


@pytest.mark.parametrize("case", AS_RATES)
def test_a_schedule_of_learning_rates_bound_as_factors_is_flagged_naming_absolute(case):
    opt, schedule = AS_RATES[case]
    with pytest.warns(LooksLikeRates, match=r"Pass absolute=\['lr'\]"):
        Scheduler(opt, lr=schedule)


@pytest.mark.parametrize("schedule", [
    Warmup(Cosine(start=1.0, end=0.0, steps=900), steps=100),
    Linear(start=0.0, end=1.0, steps=10),
    Cosine(start=1.0, end=0.01, steps=100),
    Constant(0.5),
])
def test_factors_are_not_flagged(schedule):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Scheduler(adamw(), lr=schedule)


@pytest.mark.parametrize("absolute", [["lr"], True, False])
def test_saying_absolute_either_way_silences_it(absolute):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Scheduler(adamw(), lr=Cosine(start=3e-4, end=0.0, steps=100), absolute=absolute)


def test_describe_flags_it_in_a_config_and_a_live_scheduler():
    config = {"type": "scheduler", "lr": {"type": "cosine", "start": 3e-4, "end": 0, "steps": 100}}
    found = describe(config, 100).warnings
    assert any("peaks at 0.0003, which looks like a learning rate" in w and "absolute=['lr']" in w
               for w in found), found
    with pytest.warns(LooksLikeRates):
        live = Scheduler(adamw(), lr=Cosine(start=3e-4, end=0.0, steps=100))
    found = describe(live, 100).warnings
    assert any("the lr would peak at 9e-08 (0.0003 x 0.0003)" in w for w in found), found
    assert not describe({**config, "absolute": ["lr"]}, 100).warnings
