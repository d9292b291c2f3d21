"""Re-timing a running PyTorch drop-in (``sched.T_max = 2000`` mid-run), checked step by step
against PyTorch's own class: the values after the change, the closed form that gives them
(``value_at``), and resuming a re-timed run from its state in every order users load it."""

from __future__ import annotations

import copy
import io
import pickle
import warnings
from collections import Counter

import pytest
import torch
from torch.optim import lr_scheduler as T

from cadence.compat import lr_scheduler as C
from cadence.compat._torch_retime import RECORD
from cadence.validation import InvalidInput, InvalidValue

RTOL, ATOL = 1e-12, 1e-14  # as tests/differential/test_torch_differential.py
LRS = (0.1, 0.04)  # two groups with different bases

# family, its arguments, the step of the change, {attribute: new value}, steps after
CASES = [
    ("CosineAnnealingLR", dict(T_max=100, eta_min=0.001), 40, dict(T_max=200), 400),
    ("CosineAnnealingLR", dict(T_max=100, eta_min=0.001), 40, dict(T_max=60), 200),
    ("CosineAnnealingLR", dict(T_max=100, eta_min=0.0), 40, dict(T_max=40), 200),  # a minimum
    ("CosineAnnealingLR", dict(T_max=100, eta_min=0.0), 60, dict(T_max=20), 100),  # past it
    ("CosineAnnealingLR", dict(T_max=100, eta_min=0.0), 100, dict(T_max=150), 400),
    ("CosineAnnealingLR", dict(T_max=100, eta_min=0.002), 0, dict(T_max=30), 100),
    ("CosineAnnealingLR", dict(T_max=100, eta_min=0.002), 33, dict(T_max=72.5), 200),
    ("LinearLR", dict(start_factor=0.1, total_iters=50), 20, dict(total_iters=100), 150),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.0, total_iters=50), 20,
     dict(total_iters=30), 60),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.1, total_iters=50), 60,
     dict(total_iters=100), 60),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.1, total_iters=50), 20,
     dict(end_factor=0.5), 60),
    ("PolynomialLR", dict(total_iters=50, power=2.0), 20, dict(total_iters=100), 120),
    ("PolynomialLR", dict(total_iters=50, power=2.0), 20, dict(total_iters=30), 60),
    ("PolynomialLR", dict(total_iters=50, power=1.0), 10, dict(power=3.0), 60),
    ("ConstantLR", dict(factor=0.5, total_iters=10), 5, dict(total_iters=20), 40),
    ("ConstantLR", dict(factor=0.5, total_iters=10), 5, dict(total_iters=3), 40),
    ("ConstantLR", dict(factor=0.5, total_iters=10), 5, dict(factor=0.25), 40),
    ("StepLR", dict(step_size=10, gamma=0.5), 25, dict(step_size=20), 80),
    ("StepLR", dict(step_size=10, gamma=0.5), 25, dict(step_size=7, gamma=0.8), 80),
    ("MultiStepLR", dict(milestones=[10, 30], gamma=0.5), 20,
     dict(milestones=Counter([25, 50, 50])), 60),
    ("ExponentialLR", dict(gamma=0.95), 20, dict(gamma=0.9), 60),
    ("CosineAnnealingWarmRestarts", dict(T_0=10, T_mult=1, eta_min=0.001), 15,
     dict(T_0=20), 80),
    ("CosineAnnealingWarmRestarts", dict(T_0=10, T_mult=2, eta_min=0.001), 15,
     dict(T_mult=3), 150),
    ("CosineAnnealingWarmRestarts", dict(T_0=10, T_mult=2, eta_min=0.001), 15,
     dict(T_mult=1), 80),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=100), 40, dict(total_steps=200), 59),
]
CLOSED = {"OneCycleLR", "CosineAnnealingWarmRestarts"}  # closed forms upstream too


def _ids(case):
    name, _, step, change, _ = case
    return f"{name}-{'-'.join(f'{k}={v}' for k, v in change.items())}-at{step}"


def _optimizer():
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in LRS]
    return torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, LRS)],
                           momentum=0.9)


def _make(module, name, kwargs, optimizer=None):
    optimizer = optimizer or _optimizer()
    return optimizer, getattr(module, name)(optimizer, **copy.deepcopy(kwargs))


def _lrs(optimizer):
    return [float(g["lr"]) for g in optimizer.param_groups]


def _steps(optimizer, scheduler, count):
    out = []
    for _ in range(count):
        optimizer.step()
        scheduler.step()
        out.append(_lrs(optimizer))
    return out


def _run(module, name, kwargs, step, change, after):
    """The lrs of every step after ``change`` was assigned at ``step``, and the scheduler."""
    optimizer, scheduler = _make(module, name, kwargs)
    _steps(optimizer, scheduler, step)
    for key, value in change.items():
        setattr(scheduler, key, copy.deepcopy(value))
    return _steps(optimizer, scheduler, after), optimizer, scheduler


def _assert_close(ours, theirs, where=""):
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a == pytest.approx(b, rel=RTOL, abs=ATOL), f"{where} step +{i + 1}: {a} != {b}"


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_a_setting_assigned_mid_run_follows_pytorch(case):
    name, kwargs, step, change, after = case
    theirs, _, _ = _run(T, name, kwargs, step, change, after)
    ours, _, scheduler = _run(C, name, kwargs, step, change, after)
    _assert_close(ours, theirs, name)
    if name not in CLOSED:  # recorded, and written from the closed form that previews it
        assert scheduler.__dict__[RECORD][0]["step"] == step
        ahead = scheduler.value_at([step + after])["lr"][0].tolist()
        assert ahead == pytest.approx(ours[-1], rel=1e-15)


def test_an_assigned_milestone_list_is_read_as_milestones():
    """PyTorch's MultiStepLR indexes a plain list by the epoch (an IndexError or a wrong
    count); the drop-in reads it as the milestones, as a Counter of them."""
    ours, _, _ = _run(C, "MultiStepLR", dict(milestones=[10, 30]), 20,
                      dict(milestones=[25, 50]), 40)
    theirs, _, _ = _run(T, "MultiStepLR", dict(milestones=[10, 30]), 20,
                        dict(milestones=Counter([25, 50])), 40)
    _assert_close(ours, theirs)


def test_one_cycle_total_steps_moves_the_limit_only():
    """The phases are the cycle (PyTorch's): the values stay; past the old end the last value
    holds, where PyTorch extrapolates its last phase (back up, for a cosine)."""
    _, _, scheduler = _run(C, "OneCycleLR", dict(max_lr=0.1, total_steps=100), 40,
                           dict(total_steps=200), 100)
    plain = C.OneCycleLR(_optimizer(), max_lr=0.1, total_steps=100)
    assert scheduler.value_at([50, 99, 150])["lr"].tolist() == \
        plain.value_at([50, 99, 150])["lr"].tolist()
    assert RECORD not in scheduler.__dict__


def test_two_changes_in_a_row():
    def run(module):
        optimizer, scheduler = _make(module, "CosineAnnealingLR", dict(T_max=100))
        out = _steps(optimizer, scheduler, 30)
        scheduler.T_max = 200
        out += _steps(optimizer, scheduler, 50)
        scheduler.T_max = 120
        return out + _steps(optimizer, scheduler, 300), scheduler
    ours, scheduler = run(C)
    _assert_close(ours, run(T)[0])
    assert [r["step"] for r in scheduler.__dict__[RECORD]] == [30, 80]


@pytest.mark.parametrize("order", ["optimizer-first", "usual", "state-alone"])
@pytest.mark.parametrize("case", [c for c in CASES if c[0] not in CLOSED] + [
    c for c in CASES if c[0] == "CosineAnnealingWarmRestarts"], ids=_ids)
def test_a_re_timed_run_resumes_exactly(case, order):
    """Saved 7 steps after the change and resumed by the original script (built with the
    original arguments): the values go on as the run that was not interrupted, PyTorch's."""
    name, kwargs, step, change, after = case
    theirs, _, _ = _run(T, name, kwargs, step, change, after)
    optimizer, scheduler = _make(C, name, kwargs)
    _steps(optimizer, scheduler, step)
    for key, value in change.items():
        setattr(scheduler, key, copy.deepcopy(value))
    _steps(optimizer, scheduler, 7)
    buffer = io.BytesIO()
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
               buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    optimizer = _optimizer()
    if order == "optimizer-first":
        optimizer.load_state_dict(saved["optimizer"])
        _, scheduler = _make(C, name, kwargs, optimizer)
        scheduler.load_state_dict(saved["scheduler"])
    else:
        _, scheduler = _make(C, name, kwargs, optimizer)
        if order == "usual":
            optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
    _assert_close(_steps(optimizer, scheduler, after - 7), theirs[7:], order)


def test_the_state_loads_into_pytorch_and_back():
    _, _, ours = _run(C, "CosineAnnealingLR", dict(T_max=100), 40, dict(T_max=200), 5)
    state = ours.state_dict()
    plain = C.CosineAnnealingLR(_optimizer(), T_max=100).state_dict()
    assert set(state) == set(plain) | {RECORD}
    theirs = T.CosineAnnealingLR(_optimizer(), T_max=100)
    theirs.load_state_dict(state)  # PyTorch's class takes it (and ignores the record)
    assert theirs.T_max == 200 and theirs.last_epoch == 45
    ours.load_state_dict(plain)  # a state without a record clears it: PyTorch's settings
    assert RECORD not in ours.__dict__ and ours.T_max == 100


def test_load_then_assign_is_a_re_timing():
    """The saved settings win on load (PyTorch's rule); to change them, assign after it."""
    def run(module):
        optimizer, scheduler = _make(module, "LinearLR", dict(start_factor=1.0, end_factor=0.1,
                                                             total_iters=50))
        _steps(optimizer, scheduler, 20)
        state = copy.deepcopy((optimizer.state_dict(), scheduler.state_dict()))
        optimizer, scheduler = _make(module, "LinearLR", dict(start_factor=1.0,
                                                             end_factor=0.1, total_iters=100))
        optimizer.load_state_dict(state[0])
        scheduler.load_state_dict(state[1])
        assert scheduler.total_iters == 50
        scheduler.total_iters = 100
        return _steps(optimizer, scheduler, 100), scheduler
    ours, scheduler = run(C)
    _assert_close(ours, run(T)[0])
    assert scheduler.__dict__[RECORD] == [
        {"step": 20, "settings": {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 50}}]


def test_step_epoch_forgets_the_re_timing():
    """``step(epoch)`` is PyTorch's closed form of the settings now: the branch is gone."""
    def run(module):
        out, optimizer, scheduler = _run(module, "CosineAnnealingLR", dict(T_max=100), 40,
                                         dict(T_max=200), 10)
        scheduler.step(70)
        return [*out, _lrs(optimizer), *_steps(optimizer, scheduler, 20)], scheduler
    ours, scheduler = run(C)
    _assert_close(ours, run(T)[0])
    assert RECORD not in scheduler.__dict__


def test_eta_min_is_chained_not_recorded():
    ours, _, scheduler = _run(C, "CosineAnnealingLR", dict(T_max=100, eta_min=0.001), 40,
                              dict(T_max=200), 10)
    scheduler.eta_min = 0.01
    theirs, _, upstream = _run(T, "CosineAnnealingLR", dict(T_max=100, eta_min=0.001), 40,
                               dict(T_max=200), 10)
    upstream.eta_min = 0.01
    _assert_close(ours + _steps(scheduler.optimizer, scheduler, 300),
                  theirs + _steps(upstream.optimizer, upstream, 300))
    assert RECORD not in scheduler.__dict__


@pytest.mark.parametrize("container", ["ChainedScheduler", "SequentialLR"])
def test_a_re_timed_child_of_a_container(container):
    def run(module):
        optimizer = _optimizer()
        cosine = module.CosineAnnealingLR(optimizer, T_max=100, eta_min=0.001)
        other = module.ExponentialLR(optimizer, gamma=0.99)
        if container == "ChainedScheduler":
            scheduler = module.ChainedScheduler([cosine, other])
        else:
            scheduler = module.SequentialLR(optimizer, [other, cosine], milestones=[10])
        out = _steps(optimizer, scheduler, 40)
        cosine.T_max = 300
        return out + _steps(optimizer, scheduler, 200)
    _assert_close(run(C), run(T))


def test_copies_keep_the_re_timing():
    _, _, scheduler = _run(C, "StepLR", dict(step_size=10), 25, dict(step_size=4), 3)
    copied = pickle.loads(pickle.dumps(scheduler))
    assert copied.__dict__[RECORD] == scheduler.__dict__[RECORD]
    assert copied.value_at([60])["lr"].tolist() == scheduler.value_at([60])["lr"].tolist()


def test_a_change_refused_names_the_setting_and_is_not_recorded():
    optimizer, scheduler = _make(C, "CosineAnnealingLR", dict(T_max=100))
    _steps(optimizer, scheduler, 5)
    scheduler.T_max = 0
    with pytest.raises(InvalidValue, match=r"T_max was changed at step 5: 'T_max' must be a "
                                           r"positive number \(got 0\)"):
        scheduler.step()
    assert scheduler.last_epoch == 5 and RECORD not in scheduler.__dict__
    scheduler.T_max = 50
    scheduler.step()
    assert scheduler.__dict__[RECORD] == [{"step": 5, "settings": {"T_max": 100,
                                                                   "eta_min": 0.0}}]


@pytest.mark.parametrize(("record", "match"), [
    ({"step": 3}, r"\['_cadence_retimed'\] must be a list"),
    ([{"step": 3}], r"\['_cadence_retimed'\]\[0\] must be a dict with 'step' and 'settings'"),
    ([{"step": -1, "settings": {"T_max": 10, "eta_min": 0.0}}],
     r"\[0\]\['step'\] must be a finite number >= 0 \(got -1\)"),
    ([{"step": 2, "settings": {"T_max": 10}}],
     r"\[0\]\['settings'\] must name \['T_max', 'eta_min'\]"),
])
def test_a_bad_record_is_refused_before_anything_is_loaded(record, match):
    _, _, scheduler = _run(C, "CosineAnnealingLR", dict(T_max=100), 10, {}, 0)
    state = scheduler.state_dict()
    state.update(T_max=7, **{RECORD: record})
    with pytest.raises(InvalidInput, match=match):
        scheduler.load_state_dict(state)
    assert scheduler.T_max == 100
