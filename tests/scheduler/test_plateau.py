"""Reduce-on-plateau as a controller: against PyTorch's ReduceLROnPlateau, and composed."""

from __future__ import annotations

import json
import math
import re
import timeit
import warnings

import numpy as np
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
     ({"nan": "skip"}, "'nan' must be one of 'bad', 'ignore', 'raise' (got 'skip')"),
     ({"applies_to": None}, "'applies_to' must be a collection of hyperparameter names"),
     ({"applies_to": ["lr", 1]}, "'applies_to' must hold hyperparameter names (got 1)"),
     ({"applies_to": ""}, "'applies_to' must name at least one hyperparameter, each a "
                          "non-empty name (got '')"),
     ({"timeout": 0}, "'timeout' must be a positive number (got 0)")],
)
def test_bad_settings(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        ReduceOnPlateau(**kwargs)


def test_applies_to_must_be_scheduled():
    with pytest.raises(ValueError, match="'plateau.applies_to' names 'momentum'"):
        Scheduler(optimizer(), lr=Constant(1.0), plateau=ReduceOnPlateau(applies_to="momentum"))


# -- the reductions in closed form: values as PyTorch's repeated products, cost independent of
# their number ------------------------------------------------------------------------------
def repeated(value, reductions, factor, floor, eps):
    """The reductions one by one, as PyTorch's ReduceLROnPlateau makes them."""
    for _ in range(reductions):
        reduced = max(value * factor, floor)
        if value - reduced > eps:
            value = reduced
    return value


def with_reductions(reductions, **settings):
    plateau = ReduceOnPlateau(sync=False, **settings)
    plateau.load_state_dict({**plateau.state_dict(), "reductions": reductions})
    return plateau


@settings(max_examples=300, deadline=None)
@given(value=st.floats(1e-6, 100.0), reductions=st.integers(0, 3000),
       factor=st.sampled_from([0.1, 0.5, 0.8, 0.9, 0.99, 0.37]),
       min_value=st.sampled_from([0.0, 1e-4, 0.05]), min_scale=st.sampled_from([0.0, 0.3]),
       eps=st.sampled_from([0.0, 1e-8, 1e-4, 0.01]))
def test_the_closed_form_is_the_repeated_reductions(value, reductions, factor, min_value,
                                                     min_scale, eps):
    plateau = with_reductions(reductions, factor=factor, min_value=min_value,
                              min_scale=min_scale, eps=eps)
    expected = repeated(value, reductions, factor, max(min_value, min_scale * value), eps)
    got = plateau.apply(value)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-300)
    values = np.array([value, value / 3, 0.0, min_value])
    floors = np.maximum(min_value, min_scale * values)
    assert plateau.apply(values).tolist() == [plateau.apply(float(v)) for v in values]
    assert plateau.apply(values) == pytest.approx(
        [repeated(float(v), reductions, factor, float(f), eps) for v, f in zip(values, floors)],
        rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("eps", [0.0, 1e-8])
def test_thousands_of_reductions_give_pytorchs_lrs(eps):
    """A flat metric, patience 0: a reduction at every report, 3000 of them."""
    ours_opt, theirs_opt = optimizer(), optimizer()
    ours = Scheduler(ours_opt, lr=Constant(1.0),
                     plateau=ReduceOnPlateau(patience=0, factor=0.99, min_value=1e-9, eps=eps,
                                             sync=False))
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, patience=0, factor=0.99,
                                                        min_lr=1e-9, eps=eps)
    ours_lrs, theirs_lrs = [], []
    for _ in range(3000):
        ours.step(1.0)
        theirs.step(1.0)
        ours_lrs.append(ours_opt.param_groups[0]["lr"])
        theirs_lrs.append(theirs_opt.param_groups[0]["lr"])
    assert ours_lrs == pytest.approx(theirs_lrs, rel=1e-12)
    assert theirs_lrs[-1] == 1e-9 if eps == 0.0 else 1e-9 < theirs_lrs[-1] < 1e-6
    steps = np.arange(0, 50)
    table = ours.value_at(steps)["lr"]
    assert table[:, 0].tolist() == [ours.value_at(int(t))["lr"][0] for t in steps]


@pytest.mark.parametrize("eps", [0.0, 1e-8])
def test_the_cost_of_a_value_does_not_grow_with_the_reductions(eps):
    def seconds(plateau, value, number):
        return min(timeit.repeat(lambda: plateau.apply(value), number=number, repeat=3)) / number

    few = with_reductions(10, factor=0.99, min_value=1e-5, eps=eps)
    many = with_reductions(1_000_000, factor=0.99, min_value=1e-5, eps=eps)
    assert seconds(many, 0.1, 1) < 20 * seconds(few, 0.1, 200) + 50e-6
    values = np.linspace(0.01, 0.1, 1000)
    few, many = with_reductions(10, eps=eps), with_reductions(100_000, eps=eps)
    assert seconds(many, values, 1) < 20 * seconds(few, values, 20) + 1e-3


@pytest.mark.parametrize("mode", ["min", "max"])
def test_a_fresh_plateau_state_is_strict_json_and_loads_back(mode):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = Scheduler(opt, lr=Constant(1.0), plateau=ReduceOnPlateau(mode=mode, patience=0))
    text = json.dumps(sched.state_dict(), allow_nan=False)  # no Infinity in it
    again = Scheduler(opt, lr=Constant(1.0), plateau=ReduceOnPlateau(mode=mode, patience=0))
    again.load_state_dict(json.loads(text))
    assert again.plateau.best == (math.inf if mode == "min" else -math.inf)
    for metric in (1.0, 1.0, 0.5):  # the first report is an improvement, then one bad
        sched.step(metric), again.step(metric)
    assert again.plateau.state_dict() == sched.plateau.state_dict()


@pytest.mark.parametrize("key, value, message", [
    ("reductions", -1, r"\['plateau_state'\]\['reductions'\] must be an int >= 0 \(got -1\)"),
    ("bad_reports", 2.5, r"\['plateau_state'\]\['bad_reports'\] must be an int >= 0"),
    ("best", float("nan"), r"\['plateau_state'\]\['best'\] must be a finite number \(got nan\)"),
    ("best", "low", r"\['plateau_state'\]\['best'\] must be a finite number \(got 'low'\)"),
    ("cooldown_left", None, r"\['plateau_state'\]\['cooldown_left'\] must be an int >= 0"),
])
def test_a_tampered_plateau_state_is_refused_naming_the_key(key, value, message):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = Scheduler(opt, lr=Constant(1.0), plateau=ReduceOnPlateau(patience=0))
    sched.step(1.0), sched.step(2.0)
    state = sched.state_dict()
    before = dict(state["plateau_state"])
    state["plateau_state"][key] = value
    with pytest.raises((ValueError, TypeError), match=message):
        sched.load_state_dict(state)
    assert sched.plateau.state_dict() == before
    del state["plateau_state"][key]
    with pytest.raises(ValueError, match=rf"\['plateau_state'\] lacks \['{key}'\]"):
        sched.load_state_dict(state)
