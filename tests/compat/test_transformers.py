"""cadence.compat.transformers against transformers' formulas, written out here, and against the
real package where it is installed (the `parity` extra)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from cadence.compat import transformers as C
from cadence.compat.lr_scheduler import LambdaLR, ReduceLROnPlateau


# -- transformers' lr lambdas, written out (optimization.py) -----------------------------------
def warm(t, w):
    return t / max(1, w)


def ref_linear(t, w, T):
    return warm(t, w) if t < w else max(0.0, (T - t) / max(1, T - w))


def ref_cosine(t, w, T, num_cycles=0.5):
    if t < w:
        return warm(t, w)
    p = (t - w) / max(1, T - w)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * num_cycles * 2.0 * p)))


def ref_hard_restarts(t, w, T, num_cycles=1):
    if t < w:
        return warm(t, w)
    p = (t - w) / max(1, T - w)
    if p >= 1.0:
        return 0.0
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((num_cycles * p) % 1.0))))


def ref_polynomial(t, w, T, lr_init, lr_end=1e-7, power=1.0):
    if t < w:
        return warm(t, w)
    if t > T:
        return lr_end / lr_init
    remaining = 1 - (t - w) / (T - w)
    return ((lr_init - lr_end) * remaining**power + lr_end) / lr_init


def ref_inverse_sqrt(t, w, timescale=None):
    timescale = timescale or w or 10_000
    if t < w:
        return warm(t, w)
    return 1.0 / math.sqrt((t + timescale - w) / timescale)


def ref_cosine_min_lr(t, w, T, rate, num_cycles=0.5):
    if t < w:
        return warm(t, w)
    p = (t - w) / max(1, T - w)
    f = 0.5 * (1.0 + math.cos(math.pi * num_cycles * 2.0 * p))
    return max(0.0, f * (1 - rate) + rate)


def ref_cosine_warmup_min_lr(t, w, T, rate, num_cycles=0.5, warmup_lr_rate=None):
    if t < w:
        if warmup_lr_rate is None:
            return (t + 1.0) / max(1.0, w)
        return warmup_lr_rate + (1.0 - warmup_lr_rate) * t / max(1, w - 1)
    p = (t - w + 1.0) / max(1.0, T - w)
    f = 0.5 * (1.0 + math.cos(math.pi * num_cycles * 2.0 * p))
    return max(0.0, f * (1 - rate) + rate)


def ref_wsd(t, w, s, d, warmup_type="linear", decay_type="cosine", ratio=0.0, num_cycles=0.5):
    if t < w:
        p = t / max(1, w)
        f = {"linear": p, "cosine": 0.5 * (1.0 - math.cos(math.pi * p)),
             "1-sqrt": 1.0 - math.sqrt(1.0 - p)}[warmup_type]
        return max(0.0, f * (1.0 - ratio) + ratio)
    if t < w + s:
        return 1.0
    if t < w + s + d:
        p = (t - w - s) / max(1, d)
        f = {"linear": 1.0 - p,
             "cosine": 0.5 * (1.0 + math.cos(math.pi * num_cycles * 2.0 * p)),
             "1-sqrt": 1.0 - math.sqrt(p)}[decay_type]
        return max(0.0, f * (1.0 - ratio) + ratio)
    return ratio


def lrs(sched, steps, lr=1e-3):
    opt = sched.optimizer
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"] / lr)
        opt.step()
        sched.step()
    return np.array(out)


def optimizer(lr=1e-3):
    return torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=lr)


SHAPES = [(0, 100), (1, 100), (2, 50), (10, 100), (37, 91)]


@pytest.mark.parametrize(("w", "T"), SHAPES)
def test_linear_cosine_restarts_polynomial(w, T):
    steps = np.arange(T)
    cases = [
        (C.get_linear_schedule_with_warmup(optimizer(), w, T), [ref_linear(t, w, T) for t in steps]),
        (C.get_cosine_schedule_with_warmup(optimizer(), w, T), [ref_cosine(t, w, T) for t in steps]),
        (C.get_cosine_schedule_with_warmup(optimizer(), w, T, num_cycles=1.75),
         [ref_cosine(t, w, T, 1.75) for t in steps]),
        (C.get_cosine_with_hard_restarts_schedule_with_warmup(optimizer(), w, T, num_cycles=3),
         [ref_hard_restarts(t, w, T, 3) for t in steps]),
        (C.get_polynomial_decay_schedule_with_warmup(optimizer(), w, T, lr_end=1e-5, power=2.0),
         [ref_polynomial(t, w, T, 1e-3, 1e-5, 2.0) for t in steps]),
        (C.get_cosine_with_min_lr_schedule_with_warmup(optimizer(), w, T, min_lr_rate=0.1),
         [ref_cosine_min_lr(t, w, T, 0.1) for t in steps]),
        (C.get_cosine_with_min_lr_schedule_with_warmup(optimizer(), w, T, num_cycles=1.5,
                                                       min_lr=1e-5),
         [ref_cosine_min_lr(t, w, T, 0.01, 1.5) for t in steps]),
        (C.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(optimizer(), w, T, min_lr_rate=0.1),
         [ref_cosine_warmup_min_lr(t, w, T, 0.1) for t in steps]),
        (C.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(optimizer(), w, T, min_lr_rate=0.05,
                                                               warmup_lr_rate=0.2),
         [ref_cosine_warmup_min_lr(t, w, T, 0.05, 0.5, 0.2) for t in steps]),
    ]
    for sched, expected in cases:
        assert isinstance(sched, LambdaLR)
        np.testing.assert_allclose(lrs(sched, T), expected, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("w", [0, 1, 7, 40])
def test_constant_and_inverse_sqrt(w):
    steps = np.arange(300)
    np.testing.assert_array_equal(lrs(C.get_constant_schedule(optimizer()), 300), 1.0)
    np.testing.assert_allclose(lrs(C.get_constant_schedule_with_warmup(optimizer(), w), 300),
                               [min(1.0, warm(t, w)) if t < w else 1.0 for t in steps], rtol=1e-12)
    for timescale in (None, 37):
        np.testing.assert_allclose(
            lrs(C.get_inverse_sqrt_schedule(optimizer(), w, timescale=timescale), 300),
            [ref_inverse_sqrt(t, w, timescale) for t in steps], rtol=1e-12)


@pytest.mark.parametrize(
    ("w", "s", "d", "kw"),
    [(10, 50, 40, {}), (0, 20, 30, {"warmup_type": "cosine", "decay_type": "linear"}),
     (15, 0, 25, {"warmup_type": "1-sqrt", "decay_type": "1-sqrt", "min_lr_ratio": 0.1}),
     (5, 10, 20, {"num_cycles": 1.25, "min_lr_ratio": 0.05}), (8, 12, 0, {"min_lr_ratio": 0.2})],
)
def test_warmup_stable_decay(w, s, d, kw):
    via_total = C.get_wsd_schedule(optimizer(), w, d, num_training_steps=w + s + d, **kw)
    via_stable = C.get_wsd_schedule(optimizer(), w, d, num_stable_steps=s, **kw)
    ratio = kw.pop("min_lr_ratio", 0.0)
    expected = [ref_wsd(t, w, s, d, ratio=ratio, **kw) for t in range(2 * (w + s + d))]
    for sched in (via_total, via_stable):
        np.testing.assert_allclose(lrs(sched, 2 * (w + s + d)), expected, rtol=1e-9, atol=1e-15)


def test_get_scheduler_covers_every_name_with_the_right_arguments():
    for name in C.SCHEDULES:
        kwargs = {"cosine_with_min_lr": {"min_lr_rate": 0.1},
                  "cosine_warmup_with_min_lr": {"min_lr_rate": 0.1},
                  "warmup_stable_decay": {"num_decay_steps": 10}}.get(name, {})
        sched = C.get_scheduler(name, optimizer(), num_warmup_steps=5, num_training_steps=50,
                                scheduler_specific_kwargs=kwargs)
        expected = ReduceLROnPlateau if name == "reduce_lr_on_plateau" else LambdaLR
        assert isinstance(sched, expected)


class _Enum:
    value = "linear"


def test_get_scheduler_accepts_the_enum_and_refuses_unknown_names_and_keywords():
    assert isinstance(C.get_scheduler(_Enum(), optimizer(), 2, 10), LambdaLR)
    with pytest.raises(ValueError, match=re.escape(
            "unknown scheduler name 'cosin'; did you mean 'cosine'? (valid names: linear, cosine")):
        C.get_scheduler("cosin", optimizer(), 2, 10)
    with pytest.raises(ValueError, match=re.escape(
            "unknown keyword 'num_cycle' for scheduler 'cosine'; did you mean 'num_cycles'? "
            "(valid keywords: num_cycles)")):
        C.get_scheduler("cosine", optimizer(), 2, 10, {"num_cycle": 2})
    with pytest.raises(ValueError, match="linear requires `num_warmup_steps`"):
        C.get_scheduler("linear", optimizer())
    with pytest.raises(ValueError, match="cosine requires `num_training_steps`"):
        C.get_scheduler("cosine", optimizer(), num_warmup_steps=3)
    with pytest.raises(ValueError, match="must be smaller than initial lr"):
        C.get_polynomial_decay_schedule_with_warmup(optimizer(1e-8), 1, 10)
    with pytest.raises(ValueError, match="Only one of min_lr or min_lr_rate"):
        C.get_cosine_with_min_lr_schedule_with_warmup(optimizer(), 1, 10, min_lr=1, min_lr_rate=1)
    with pytest.raises(ValueError, match=re.escape("'num_training_steps' (10) must equal")):
        C.get_wsd_schedule(optimizer(), 2, 3, num_training_steps=10, num_stable_steps=1)


def test_no_rebound_past_the_training_steps():
    """transformers' cosine swings back up after num_training_steps; cadence holds 0."""
    sched = C.get_cosine_schedule_with_warmup(optimizer(), 10, 100)
    values = lrs(sched, 300)
    assert values[100:].max() == 0.0
    assert ref_cosine(150, 10, 100) > 0.4


def test_the_schedule_is_the_lambda_and_has_a_config():
    sched = C.get_scheduler("warmup_stable_decay", optimizer(), 10, 100,
                            {"num_decay_steps": 20, "min_lr_ratio": 0.1})
    schedule = sched.lr_lambdas[0]
    assert schedule.to_config()["type"] == "wsd"
    np.testing.assert_allclose(schedule(np.arange(100)), lrs(sched, 100), rtol=1e-15)


# -- the real package, where it installs ------------------------------------------------------
def test_same_values_as_the_transformers_package():
    hf = pytest.importorskip("transformers.optimization")
    cases = {
        "linear": [{}], "constant": [{}], "constant_with_warmup": [{}],
        "cosine": [{}, {"num_cycles": 0.75}, {"num_cycles": 2.3}],
        "cosine_with_restarts": [{}, {"num_cycles": 3}],
        "polynomial": [{}, {"power": 2.0, "lr_end": 1e-5}],
        "inverse_sqrt": [{}],
        "cosine_with_min_lr": [{"min_lr_rate": 0.1}, {"min_lr": 1e-5, "num_cycles": 1.5}],
        "cosine_warmup_with_min_lr": [{"min_lr_rate": 0.1},
                                      {"min_lr_rate": 0.05, "warmup_lr_rate": 0.2}],
        "warmup_stable_decay": [{"num_decay_steps": 20},
                                {"num_decay_steps": 30, "warmup_type": "1-sqrt",
                                 "decay_type": "1-sqrt", "min_lr_ratio": 0.1}],
    }
    for name, kwargs_list in cases.items():
        for kwargs in kwargs_list:
            for w, T in SHAPES:
                theirs = hf.get_scheduler(name, optimizer(), num_warmup_steps=w,
                                          num_training_steps=T,
                                          scheduler_specific_kwargs=dict(kwargs))
                ours = C.get_scheduler(name, optimizer(), num_warmup_steps=w,
                                       num_training_steps=T, scheduler_specific_kwargs=dict(kwargs))
                np.testing.assert_allclose(lrs(ours, T), lrs(theirs, T), rtol=1e-9, atol=1e-15,
                                           err_msg=f"{name} {kwargs} {w} {T}")
