"""Shapes against PyTorch's own schedulers, stepped the usual way (an independent reference)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as L

from cadence.schedules import (
    Constant,
    Cosine,
    CosineRestarts,
    Cyclic,
    Exponential,
    Linear,
    MultiStep,
    OneCycle,
    Polynomial,
    Step,
    join,
)

BASE = 0.1


def torch_curve(make, steps, lr=BASE, **opt_kwargs):
    """lr of the first param group before each of ``steps`` updates."""
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=lr, **opt_kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = make(opt)
        out = []
        for _ in range(steps):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    return np.array(out), opt


def check(schedule, make, steps, base=BASE, rtol=1e-10, **opt_kwargs):
    ref, _ = torch_curve(make, steps, lr=base, **opt_kwargs)
    ours = base * schedule(np.arange(steps))
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=0)


@pytest.mark.parametrize(("every", "gamma"), [(30, 0.1), (7, 0.5), (1, 0.9)])
def test_step_matches_steplr(every, gamma):
    check(Step(every=every, gamma=gamma), lambda o: L.StepLR(o, every, gamma), 200)


@pytest.mark.parametrize("milestones", [[50, 80], [3, 3, 40], [1, 2, 3]])
def test_multistep_matches_multisteplr(milestones):
    check(MultiStep(milestones=milestones, gamma=0.3),
          lambda o: L.MultiStepLR(o, milestones, 0.3), 150)


@pytest.mark.parametrize("gamma", [0.95, 0.5, 1.02])
def test_exponential_matches_exponentiallr(gamma):
    check(Exponential(rate=gamma), lambda o: L.ExponentialLR(o, gamma), 120, rtol=1e-12)


@pytest.mark.parametrize(("t_max", "eta_min"), [(100, 0.0), (37, 0.001)])
def test_cosine_matches_cosineannealinglr_within_its_horizon(t_max, eta_min):
    check(Cosine(start=1.0, end=eta_min / BASE, steps=t_max),
          lambda o: L.CosineAnnealingLR(o, t_max, eta_min), t_max + 1, rtol=1e-9)


@pytest.mark.parametrize(("start", "end", "iters"), [(0.1, 1.0, 10), (1.0, 0.2, 25)])
def test_linear_matches_linearlr(start, end, iters):
    check(Linear(start=start, end=end, steps=iters),
          lambda o: L.LinearLR(o, start, end, iters), 3 * iters, rtol=1e-12)


def test_constant_window_matches_constantlr():
    check(join([Constant(0.25), Constant(1.0)], [8]),
          lambda o: L.ConstantLR(o, factor=0.25, total_iters=8), 30)


@pytest.mark.parametrize(("iters", "power"), [(50, 1.0), (30, 2.0), (40, 0.5)])
def test_polynomial_matches_polynomiallr(iters, power):
    check(Polynomial(start=1.0, end=0.0, steps=iters, power=power),
          lambda o: L.PolynomialLR(o, iters, power), 3 * iters, rtol=1e-9)


@pytest.mark.parametrize(("t0", "mult", "eta_min"), [(10, 1, 0.0), (5, 2, 0.01), (3, 3, 0.0)])
def test_restarts_match_cosineannealingwarmrestarts(t0, mult, eta_min):
    check(CosineRestarts(period=t0, period_mult=mult, low=eta_min / BASE),
          lambda o: L.CosineAnnealingWarmRestarts(o, t0, mult, eta_min), 400, rtol=1e-9)


@pytest.mark.parametrize(
    ("mode", "gamma", "up", "down"),
    [("triangular", 1.0, 10, None), ("triangular2", 1.0, 5, 15), ("exp_range", 0.99, 8, 4)],
)
def test_cyclic_matches_cycliclr(mode, gamma, up, down):
    check(
        Cyclic(start=1.0, peak=10.0, up_steps=up, down_steps=down, mode=mode, gamma=gamma),
        lambda o: L.CyclicLR(o, BASE, 10 * BASE, up, down, mode, gamma, cycle_momentum=False),
        200,
        rtol=1e-9,
    )


@pytest.mark.parametrize(
    ("total", "pct", "anneal", "three"),
    [(100, 0.3, "cos", False), (250, 0.25, "linear", False), (120, 0.2, "cos", True),
     (77, 0.4, "linear", True)],
)
def test_one_cycle_matches_onecyclelr(total, pct, anneal, three):
    schedule = OneCycle(total_steps=total, peak=1.0, pct_start=pct, anneal=anneal,
                        three_phase=three, div_factor=20.0, final_div_factor=50.0)
    make = lambda o: L.OneCycleLR(o, max_lr=BASE, total_steps=total, pct_start=pct,  # noqa: E731
                                  anneal_strategy=anneal, three_phase=three, div_factor=20.0,
                                  final_div_factor=50.0, cycle_momentum=False)
    check(schedule, make, total, rtol=1e-9)


def test_one_cycle_momentum_matches_onecyclelr():
    total = 90
    ref = []
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=BASE, momentum=0.9)
    sched = L.OneCycleLR(opt, max_lr=BASE, total_steps=total, base_momentum=0.8,
                         max_momentum=0.95)
    for _ in range(total):
        ref.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step()
    ours = OneCycle(total_steps=total, start=0.95, peak=0.8, end=0.95)(np.arange(total))
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_warmup_then_restarts_matches_sequentiallr():
    make = lambda o: L.SequentialLR(  # noqa: E731
        o, [L.LinearLR(o, 0.05, total_iters=20), L.CosineAnnealingWarmRestarts(o, 15, 2, 0.001)],
        milestones=[20])
    schedule = join([Linear(start=0.05, end=1.0, steps=20),
                     CosineRestarts(period=15, period_mult=2, low=0.01)], boundaries=[20])
    check(schedule, make, 300, rtol=1e-9)
