"""Re-timing a running Scheduler (extend, cooldown, switch) and resuming a state into a changed
schedule (retime=): each value against a formula written out here."""

from __future__ import annotations

import math

import pytest
import torch

import cadence
from cadence.schedules import (
    Constant,
    Cosine,
    CosineRestarts,
    Exponential,
    Extend,
    Linear,
    Switch,
    join,
)
from cadence.validation import InvalidInput, InvalidValue

BASE = 0.1


def make(lr=None, *, groups=1, **kwargs):
    params = [torch.nn.Parameter(torch.zeros(2)) for _ in range(groups)]
    opt = torch.optim.SGD([{"params": [p]} for p in params], lr=BASE, momentum=0.9)
    return opt, cadence.Scheduler(opt, lr=lr, **kwargs)


def run(opt, n):
    """``n`` updates; the lr each one used."""
    used = []
    for _ in range(n):
        used.append(opt.param_groups[0]["lr"])
        opt.step()
    return used


def cosine(t, total):
    return 0.5 * (1 + math.cos(math.pi * min(t, total) / total))


# -- the three ways to extend, a cool-down, a switch --------------------------------------------
def test_extend_rescale_stretches_what_is_left():
    opt, sched = make(Cosine(steps=100))
    run(opt, 40)
    before = opt.param_groups[0]["lr"]
    sched.extend(160)
    assert opt.param_groups[0]["lr"] == before  # no change at the switch
    used = run(opt, 130)
    for i, lr in enumerate(used):
        t = 40 + i
        u = 40 + 60 * (t - 40) / 120 if t < 160 else 100
        assert lr == pytest.approx(BASE * cosine(u, 100), rel=1e-12, abs=1e-15)
    assert used[120] == BASE * Cosine(steps=100)(100)  # the end value at the new total


def test_extend_hold_holds_then_plays_the_rest():
    opt, sched = make(Cosine(steps=100))
    run(opt, 30)
    sched.extend(150, policy="hold")
    used = run(opt, 130)
    for i, lr in enumerate(used):
        t = 30 + i
        u = 30 if t < 80 else t - 50
        assert lr == BASE * Cosine(steps=100)(u)


def test_extend_continue_decays_from_the_value_to_the_end():
    opt, sched = make(Linear(start=1.0, end=0.2, steps=100))
    run(opt, 50)
    sched.extend(250, policy="continue", shape="linear")
    used = run(opt, 210)
    for i, lr in enumerate(used):
        t = 50 + i
        p = min(t - 50, 200) / 200
        assert lr == pytest.approx(BASE * (0.6 * (1 - p) + 0.2 * p), rel=1e-12)
    assert used[200] == pytest.approx(BASE * 0.2, rel=1e-15)


@pytest.mark.parametrize("shape, formula", [
    ("linear", lambda p: 1 - p),
    ("cosine", lambda p: 0.5 * (1 + math.cos(math.pi * p))),
    ("1-sqrt", lambda p: 1 - math.sqrt(p)),
])
def test_cooldown_shapes_and_lengths_with_units(shape, formula):
    stable = join([Linear(start=0.0, end=1.0, steps=10), Constant(1.0)], [10])
    opt, sched = make(stable, clock=cadence.Clock("updates", epoch="20up"))
    run(opt, 60)
    sched.anneal("2ep", shape=shape, end=0.1)
    used = run(opt, 60)
    for i, lr in enumerate(used):
        p = min(i, 40) / 40
        assert lr == pytest.approx(BASE * (0.1 + 0.9 * formula(p)), rel=1e-12, abs=1e-15)


def test_switch_refuses_a_jump_and_changes_nothing():
    opt, sched = make(Cosine(steps=100))
    run(opt, 40)
    lr, schedules, state = opt.param_groups[0]["lr"], sched.schedules("lr"), sched.state_dict()
    with pytest.raises(InvalidValue, match=r"'lr' would jump at step 40 from 0\.65.* to 0\.90"):
        sched.switch(lr=Cosine(steps=200))
    assert opt.param_groups[0]["lr"] == lr and sched.schedules("lr") == schedules
    assert sched.state_dict() == state
    sched.switch(lr=Cosine(steps=200), jump=True)
    assert opt.param_groups[0]["lr"] == BASE * Cosine(steps=200)(40)
    assert run(opt, 3)[1:] == [BASE * Cosine(steps=200)(t) for t in (41, 42)]


def test_switch_without_a_jump_is_taken():
    """A WSD run in its stable phase switched to a longer WSD: the same value there."""
    short = cadence.schedules.WSD(warmup_steps=10, decay_steps=20, total_steps=100)
    long = cadence.schedules.WSD(warmup_steps=10, decay_steps=20, total_steps=200)
    opt, sched = make(short)
    run(opt, 50)
    sched.switch(lr=long)
    assert run(opt, 150) == [BASE * long(t) for t in range(50, 200)]


def test_a_value_refused_after_the_switch_puts_the_schedule_back():
    opt, sched = make(Constant(1.0))
    run(opt, 5)
    with pytest.raises(InvalidInput, match="lr"):
        sched.switch(lr=-1.0, jump=True)  # a negative lr
    assert sched.schedules("lr") == [Constant(1.0)] and opt.param_groups[0]["lr"] == BASE


@pytest.mark.parametrize("call, match", [
    (lambda s: s.extend(200, policy="stretch"), r"'policy' must be one of 'rescale'"),
    (lambda s: s.extend(200, shape="step"), r"'shape' must be one of 'linear'"),
    (lambda s: s.anneal(10, names=["momentum"]),
     r"'momentum' is not scheduled by this Scheduler; it schedules \['lr'\]"),
    (lambda s: s.anneal("2ep"), r"epoch"),
    (lambda s: s.anneal(0), r"'lr': 'steps' must be a positive number \(got 0\)"),
    (lambda s: s.extend(30), r"'lr': 'new_total' must be > 'at' \(40\) \(got 30\)"),
    (lambda s: s.extend(200, policy="hold", names=["lr"]) or s.extend(90, policy="hold"),
     r"'new_total' must be >= 'total' \(200\) with policy 'hold'"),
    (lambda s: s.switch(), r"switch\(\) needs a schedule"),
    (lambda s: s.switch(lr=Constant(1.0), jump="yes"), r"'jump' must be a bool"),
])
def test_mistakes_are_named(call, match):
    opt, sched = make(Cosine(steps=100))
    run(opt, 40)
    with pytest.raises(InvalidInput, match=match):
        call(sched)


def test_a_schedule_with_no_end_is_left_unless_named():
    opt, sched = make(Exponential(rate=0.99), momentum=Cosine(steps=100))
    run(opt, 10)
    sched.extend(200)  # the lr goes on for ever: nothing to extend
    assert sched.schedules("lr") == [Exponential(rate=0.99)]
    assert isinstance(sched.schedules("momentum")[0], Extend)
    with pytest.raises(InvalidValue, match=r"'lr': 'total' must be given: Exponential"):
        sched.extend(300, names=["lr"])


# -- what a switch does to groups, targets, a plateau and restarts ------------------------------
def test_each_group_and_each_target_is_re_timed():
    class Loss:
        kl = 1.0
    loss = Loss()
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in range(2)]
    opt = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5}], lr=BASE)
    sched = cadence.Scheduler(opt, lr={0: Cosine(steps=100), 1: Linear(start=1.0, end=0.0,
                                                                      steps=50)},
                              kl=Linear(start=0.0, end=1.0, steps=100),
                              targets={"kl": cadence.Attribute(loss, "kl")}, absolute=["kl"])
    run(opt, 20)
    sched.extend(200, names=["lr", "kl"])
    run(opt, 80)
    t = 100
    assert opt.param_groups[0]["lr"] == pytest.approx(BASE * cosine(20 + 80 * 80 / 180, 100))
    assert opt.param_groups[1]["lr"] == pytest.approx(0.5 * (1 - (20 + 30 * 80 / 180) / 50))
    assert loss.kl == pytest.approx((20 + 80 * (t - 20) / 180) / 100)


def test_a_plateau_keeps_its_reductions_and_patience():
    plateau = cadence.ReduceOnPlateau(factor=0.5, patience=0)
    opt, sched = make(Constant(1.0), plateau=plateau)
    run(opt, 10)
    sched.report(1.0)
    sched.report(2.0)  # worse: reduce to half
    kept = plateau.state_dict()
    assert opt.param_groups[0]["lr"] == BASE * 0.5
    sched.anneal(20)
    assert plateau.state_dict() == kept
    used = run(opt, 10)
    assert used == [BASE * (1 - i / 20) * 0.5 for i in range(10)]
    sched.report(3.0)  # patience goes on: one more reduction
    assert opt.param_groups[0]["lr"] == pytest.approx(BASE * 0.5 * 0.25)


def test_restart_cycles_are_stretched_held_or_ended():
    restarts = CosineRestarts(period=20)
    opt, sched = make(restarts)
    run(opt, 30)
    with pytest.raises(InvalidValue, match="'total' must be given"):
        sched.extend(140, names=["lr"])  # restarts with no end: the total is not known
    opt, sched = make(restarts)
    run(opt, 30)
    sched.switch(lr=Extend(restarts, at=30, total=100, new_total=200))  # rescale: cycles x 10/7
    assert [m.step for m in sched.schedules("lr")[0].marks(200) if m.kind == "restart"] == \
        pytest.approx([20, 30 + 10 * 170 / 70, 30 + 30 * 170 / 70, 30 + 50 * 170 / 70,
                       30 + 70 * 170 / 70])
    opt, sched = make(restarts)
    run(opt, 30)
    sched.anneal(40)
    kinds = [(m.step, m.kind) for m in sched.schedules("lr")[0].marks(200)]
    assert kinds == [(20.0, "restart"), (30.0, "branch"), (70.0, "phase")]  # no restart after


# -- resuming ----------------------------------------------------------------------------------
def test_a_switched_run_resumes_exactly_from_its_original_script():
    stable = join([Linear(start=0.0, end=1.0, steps=10), Constant(1.0)], [10])
    opt, sched = make(stable)
    run(opt, 40)
    sched.anneal(30)
    run(opt, 10)
    state, rest = sched.state_dict(), run(opt, 30)
    opt2, again = make(stable)  # the script as it was
    again.load_state_dict(state)
    assert again.schedules("lr") == sched.schedules("lr")
    assert run(opt2, 30) == rest


def test_a_changed_schedule_is_refused_without_a_policy():
    opt, sched = make(Cosine(steps=100))
    run(opt, 40)
    state = sched.state_dict()
    _opt2, other = make(Cosine(steps=200))
    with pytest.raises(InvalidValue, match=r"'lr' schedules .*'steps': 100.* != .*'steps': 200"
                                           r".*retime='rescale'"):
        other.load_state_dict(state)
    assert other.schedules("lr") == [Cosine(steps=200)] and other.current_step == 0


@pytest.mark.parametrize("policy", ["rescale", "hold", "continue"])
def test_resuming_with_a_policy_re_times_the_saved_schedule(policy):
    opt, sched = make(Cosine(steps=100))
    run(opt, 40)
    state = sched.state_dict()
    expected = Extend(Cosine(steps=100), at=40, new_total=200, policy=policy)
    opt2, longer = make(Cosine(steps=200), retime=policy)
    longer.load_state_dict(state)
    assert longer.schedules("lr") == [expected]
    used = run(opt2, 170)
    assert used == [BASE * expected(t) for t in range(40, 210)]
    assert used[0] == BASE * Cosine(steps=100)(40)  # no jump
    # saved again and resumed by the same new script: exact, not re-timed a second time
    state2 = longer.state_dict()
    _opt3, third = make(Cosine(steps=200), retime=policy)
    third.load_state_dict(state2)
    assert third.schedules("lr") == [expected]


def test_resuming_with_switch_and_jump():
    opt, sched = make(Cosine(steps=100))
    run(opt, 40)
    state = sched.state_dict()
    opt2, new = make(Cosine(steps=200), retime="switch")
    with pytest.raises(InvalidValue, match=r"'lr' would jump at step 40 .*retime='jump'"):
        new.load_state_dict(state)
    assert new.schedules("lr") == [Cosine(steps=200)] and new.current_step == 0
    new.load_state_dict(state, retime="jump")
    assert new.schedules("lr") == [Switch(Cosine(steps=100), at=40, then=Cosine(steps=200))]
    assert opt2.param_groups[0]["lr"] == BASE * Cosine(steps=200)(40)


def test_retime_is_checked():
    with pytest.raises(InvalidValue, match=r"'retime' must be one of 'rescale', 'hold', "
                                           r"'continue', 'switch', 'jump' \(got 'later'\)"):
        make(Cosine(steps=10), retime="later")
    _opt, sched = make(Cosine(steps=10))
    with pytest.raises(InvalidValue, match="'retime' must be one of"):
        sched.load_state_dict(sched.state_dict(), retime="x")


def test_resuming_past_the_old_end_with_rescale_is_refused_by_name():
    opt, sched = make(Cosine(steps=100))
    run(opt, 120)
    _opt2, longer = make(Cosine(steps=200), retime="rescale")
    with pytest.raises(InvalidValue, match=r"'lr': resuming with retime='rescale' at step 120: "
                                           r"'at' must be <= 'total' \(100\)"):
        longer.load_state_dict(sched.state_dict())


def test_the_all_in_one_scheduler_keeps_its_branch_in_the_state():
    """WarmRestartScheduler's layout is the seed's settings; a re-timed one adds its schedule."""
    def made():
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE)
        return opt, cadence.WarmRestartScheduler(opt)
    opt, sched = made()
    for _ in range(50):
        opt.step()
        sched.step()
    assert "hyperparameters" not in sched.state_dict()["layout"]  # as before, until re-timed
    before = opt.param_groups[0]["lr"]
    sched.anneal(30)
    assert opt.param_groups[0]["lr"] == before
    state, rest = sched.state_dict(), []
    for _ in range(40):
        opt.step()
        sched.step()
        rest.append(opt.param_groups[0]["lr"])
    opt2, again = made()
    again.load_state_dict(state)
    assert again.schedules("lr") == sched.schedules("lr")
    for lr in rest:
        opt2.step()
        again.step()
        assert opt2.param_groups[0]["lr"] == lr
