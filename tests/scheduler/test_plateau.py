"""Reduce-on-plateau as a controller: against PyTorch's ReduceLROnPlateau, and composed."""

from __future__ import annotations

import math
import re
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence import ReduceOnPlateau, Scheduler
from cadence.schedules import Constant, Cosine, Warmup


def optimizer(lr=0.1):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def torch_lrs(metrics, **kwargs):
    opt = optimizer()
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in metrics:
            opt.step()
            sched.step(m)
            out.append(opt.param_groups[0]["lr"])
    return out


def cadence_lrs(metrics, **kwargs):
    opt = optimizer()
    sched = Scheduler(opt, lr=Constant(1.0), plateau=ReduceOnPlateau(sync=False, **kwargs))
    out = []
    for m in metrics:
        sched.report(m)
        out.append(opt.param_groups[0]["lr"])
    return out


metric = st.one_of(st.floats(0.0, 10.0), st.just(math.nan))


@settings(max_examples=200, deadline=None)
@given(metrics=st.lists(metric, min_size=1, max_size=60),
       mode=st.sampled_from(["min", "max"]), factor=st.sampled_from([0.1, 0.5, 0.8]),
       patience=st.integers(0, 4), threshold=st.sampled_from([0.0, 1e-4, 0.05, 0.5]),
       threshold_mode=st.sampled_from(["rel", "abs"]), cooldown=st.integers(0, 3))
def test_matches_pytorch(metrics, mode, factor, patience, threshold, threshold_mode, cooldown):
    kwargs = dict(mode=mode, factor=factor, patience=patience, threshold=threshold,
                  threshold_mode=threshold_mode, cooldown=cooldown)
    ours, theirs = cadence_lrs(metrics, **kwargs), torch_lrs(metrics, **kwargs)
    if min(theirs) > 1e-6:  # below that PyTorch's eps=1e-8 rule starts to skip reductions
        assert ours == pytest.approx(theirs, rel=1e-12)


def test_warmup_then_plateau():
    warm = Warmup(Constant(1.0), steps=10)
    opt = optimizer()
    sched = Scheduler(opt, lr=warm, plateau=ReduceOnPlateau(patience=0, factor=0.5,
                                                            start_step=10, sync=False))
    for _ in range(5):
        opt.step()
        sched.step()
    assert sched.report(1.0) is False and sched.report(2.0) is False  # ignored during warm-up
    for _ in range(5):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == 0.1
    assert sched.report(1.0) is False  # the first counted report sets the best
    assert sched.report(1.5) is True
    assert opt.param_groups[0]["lr"] == 0.05  # at once, not at the next step()
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.05


def test_composes_with_a_decay_and_floors_at_min_scale():
    cosine = Cosine(start=1.0, end=0.1, steps=100)
    opt = optimizer(lr=1.0)
    sched = Scheduler(opt, lr=cosine, count="calls",
                      plateau=ReduceOnPlateau(patience=0, factor=0.1, min_scale=0.05, sync=False))
    for _ in range(20):
        sched.step()
    sched.report(1.0)
    for _ in range(4):
        sched.report(2.0)
    assert sched.plateau.apply(1.0) == 0.05
    assert opt.param_groups[0]["lr"] == cosine(20) * 0.05
    sched.step()
    assert opt.param_groups[0]["lr"] == cosine(21) * 0.05


def test_only_the_named_hyperparameters_are_reduced():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    sched = Scheduler(opt, lr=Constant(1.0), momentum=Constant(1.0),
                      plateau=ReduceOnPlateau(patience=0, sync=False))
    sched.report(1.0)
    sched.report(2.0)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01)
    assert opt.param_groups[0]["momentum"] == 0.9


def test_nan_rules():
    for rule, expected in (("bad", True), ("ignore", False)):
        p = ReduceOnPlateau(patience=0, nan=rule, sync=False)
        p.observe(1.0)
        assert p.observe(math.nan) is expected
    strict = ReduceOnPlateau(nan="raise", sync=False)
    with pytest.raises(ValueError, match="'metric' must not be NaN"):
        strict.observe(float("nan"))


def test_tensor_metrics():
    p = ReduceOnPlateau(patience=0, sync=False)
    p.observe(torch.tensor(1.0))
    assert p.observe(torch.tensor(3.0)) is True


def test_report_without_a_controller():
    sched = Scheduler(optimizer(), lr=Constant(1.0))
    with pytest.raises(ValueError, match=re.escape("report() needs a plateau controller")):
        sched.report(1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"mode": "minimum"}, "'mode' must be one of 'min', 'max' (got 'minimum')"),
     ({"factor": 1.0}, "'factor' must be a number in (0, 1) (got 1.0)"),
     ({"patience": -1}, "'patience' must be an int >= 0 (got -1)"),
     ({"threshold_mode": "relative"}, "'threshold_mode' must be one of 'rel', 'abs'"),
     ({"cooldown": 1.5}, "'cooldown' must be an int >= 0 (got 1.5)"),
     ({"min_scale": 2.0}, "'min_scale' must be a number in [0, 1] (got 2.0)"),
     ({"nan": "skip"}, "'nan' must be one of 'bad', 'ignore', 'raise' (got 'skip')")],
)
def test_bad_settings(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        ReduceOnPlateau(**kwargs)


def test_applies_to_must_be_scheduled():
    with pytest.raises(ValueError, match="'plateau.applies_to' names 'momentum'"):
        Scheduler(optimizer(), lr=Constant(1.0), plateau=ReduceOnPlateau(applies_to="momentum"))
