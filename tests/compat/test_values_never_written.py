"""Values the drop-ins never write, though upstream's classes would.

An argument that becomes a learning rate (a floor, a peak, a cycle's bounds, an end value) is
refused below 0 by every drop-in, naming it: no optimizer trains with a negative lr, and no
upstream test needs one. (Momentum stays as upstream takes it: negative momentum is a method
of its own.) A step that would write a value that is not finite (a growth that overflows, a
function that returns inf) is refused before anything is written, naming the drop-in and its
settings, and is not taken."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from cadence.compat import lr_scheduler as C
from cadence.compat import mmengine as M
from cadence.compat import transformers as H

CASES = [
    (C.CosineAnnealingLR, dict(T_max=10, eta_min=-1), "eta_min"),
    (C.CosineAnnealingWarmRestarts, dict(T_0=10, eta_min=-1), "eta_min"),
    (C.CyclicLR, dict(base_lr=-1, max_lr=0.1), "base_lr"),
    (C.CyclicLR, dict(base_lr=0.01, max_lr=-1), "max_lr"),
    (C.CyclicLR, dict(base_lr=[0.01, -1], max_lr=0.1), "base_lr"),
    (C.OneCycleLR, dict(max_lr=-1, total_steps=10), "max_lr"),
    (C.ReduceLROnPlateau, dict(min_lr=-1), "min_lr"),
    (M.CosineAnnealingLR, dict(T_max=10, eta_min=-1), "eta_min"),
    (M.CosineAnnealingLR, dict(T_max=10, eta_min_ratio=-0.5), "eta_min_ratio"),
    (M.CosineAnnealingParamScheduler, dict(param_name="lr", T_max=10, eta_min=-1), "eta_min"),
    (M.PolyLR, dict(eta_min=-1, end=10), "eta_min"),
    (M.CosineRestartLR, dict(periods=[5, 5], restart_weights=[1, 1], eta_min=-1), "eta_min"),
    (M.CosineRestartLR, dict(periods=[5, 5], restart_weights=[1, -1], eta_min=0.0),
     "restart_weights"),
    (M.OneCycleLR, dict(eta_max=-1, total_steps=10), "eta_max"),
    (M.ReduceOnPlateauLR, dict(min_value=-1), "min_value"),
    (H.get_polynomial_decay_schedule_with_warmup,
     dict(num_warmup_steps=2, num_training_steps=10, lr_end=-1), "lr_end"),
    (H.get_cosine_with_min_lr_schedule_with_warmup,
     dict(num_warmup_steps=2, num_training_steps=10, min_lr=-1), "min_lr"),
    (H.get_cosine_with_min_lr_schedule_with_warmup,
     dict(num_warmup_steps=2, num_training_steps=10, min_lr_rate=-0.1), "min_lr_rate"),
    (H.get_wsd_schedule, dict(num_warmup_steps=2, num_decay_steps=2, num_training_steps=10,
                              min_lr_ratio=-0.1), "min_lr_ratio"),
]


@pytest.mark.parametrize(("make", "kwargs", "name"), CASES,
                         ids=[f"{m.__module__.rsplit('.', 1)[-1]}.{m.__name__}-{n}"
                              for m, _, n in CASES])
def test_a_negative_lr_is_refused_naming_the_argument(make, kwargs, name):
    opt = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))]},
                           {"params": [torch.nn.Parameter(torch.zeros(1))]}],
                          lr=0.1, momentum=0.9)
    before = [dict(g) for g in opt.param_groups]
    with pytest.raises(ValueError, match=rf"'{name}' must be a (number >= 0|positive number) \(got -"):
        make(opt, **kwargs)
    assert [dict(g) for g in opt.param_groups] == before  # and the optimizer is as it was


def test_momentum_below_zero_stays_upstreams_choice():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    C.OneCycleLR(opt, max_lr=1.0, total_steps=10, base_momentum=-0.5)


OVERFLOWS = {
    "torch ExponentialLR": lambda o: C.ExponentialLR(o, gamma=1.5),
    "torch LambdaLR": lambda o: C.LambdaLR(o, lambda e: math.inf if e > 1750 else 1.5 ** e),
    "torch MultiplicativeLR": lambda o: C.MultiplicativeLR(o, lambda e: 1.5),
    "torch StepLR": lambda o: C.StepLR(o, step_size=1, gamma=1.5),
    "MMEngine ExponentialLR": lambda o: M.ExponentialLR(o, gamma=1.5),
    "MMEngine StepLR": lambda o: M.StepLR(o, step_size=1, gamma=1.5),
}


@pytest.mark.parametrize("make", OVERFLOWS.values(), ids=list(OVERFLOWS))
def test_a_step_that_would_write_inf_is_refused_and_not_taken(make):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = make(opt)
        with pytest.raises(ValueError, match=r"('lr' must be a finite number \(got inf for "
                           r"param group 0 at step 1751 from \w+\(|the function .* must return "
                           r"a finite number \(got inf at step 1751)") as caught:
            for _ in range(2000):
                opt.step()
                sched.step()
    held = opt.param_groups[0]["lr"]
    assert 0 < held < float("inf") and held == pytest.approx(0.1 * 1.5 ** 1750)
    step = getattr(sched, "last_epoch", getattr(sched, "last_step", None))
    assert step == 1750, caught.value  # the refused step was not taken
