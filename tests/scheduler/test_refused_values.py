"""Values no optimizer accepts are refused before anything is written, and a step that fails
changes nothing: the groups and the step counter stay where they were."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence import Attribute, Scheduler
from cadence.compat import lr_scheduler as ours
from cadence.scheduler.track import ABSOLUTE, FINITE, NON_NEGATIVE, RELATIVE, Span, Track
from cadence.schedules import Constant, Cosine, Exponential, Lambda, Linear


def sgd(*lrs, momentum=0.9):
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=momentum, weight_decay=1e-4)


def lrs(opt):
    return [g["lr"] for g in opt.param_groups]


def test_a_negative_lr_is_refused_naming_the_group_and_the_value():
    opt = sgd(0.1)
    with pytest.raises(ValueError, match=r"'lr' must be a finite number >= 0 \(got -0.1 for "
                                         r"param group 0 at step 0"):
        Scheduler(opt, lr=-1.0)
    assert lrs(opt) == [0.1]
    assert not opt._optimizer_step_post_hooks  # the refused scheduler left no hook


@pytest.mark.parametrize("name", ["momentum", "weight_decay"])
def test_negative_momentum_and_weight_decay_are_refused_at_the_step_they_go_below_zero(name):
    opt = sgd(0.1)
    # 1 - t/5 crosses zero after step 5: steps 0..5 are written, step 6 is refused
    sched = Scheduler(opt, count="calls", **{name: Linear(start=1.0, end=-1.0, steps=10)})
    base = 0.9 if name == "momentum" else 1e-4
    for t in range(1, 6):
        sched.step()
        assert opt.param_groups[0][name] == pytest.approx(base * (1 - t / 5), abs=1e-15)
    held = opt.param_groups[0][name]
    with pytest.raises(ValueError, match=rf"'{name}' must be a finite number >= 0 .* at step 6"):
        sched.step()
    assert opt.param_groups[0][name] == held and sched.current_step == 5


def test_another_key_may_be_negative_but_not_infinite():
    opt = sgd(0.1)
    opt.param_groups[0]["offset"] = 1.0
    sched = Scheduler(opt, count="calls", offset=Linear(start=1.0, end=-1.0, steps=2))
    sched.step(), sched.step()
    assert opt.param_groups[0]["offset"] == -1.0
    with pytest.raises(ValueError, match=r"'offset' must be a finite number \(got inf"):
        Scheduler(opt, offset=Constant(1e308) * Constant(1e308), absolute=True)


def test_a_lambda_returning_nan_or_inf_is_refused():
    for bad in (math.nan, math.inf):
        opt = sgd(0.1)
        with pytest.raises(ValueError, match=rf"must return a finite number \(got {bad} at step 3\)"):
            sched = Scheduler(opt, lr=Lambda(lambda t, bad=bad: bad if t == 3 else 1.0),
                              count="calls")
            for _ in range(3):
                sched.step()
        assert lrs(opt) == [0.1] and sched.current_step == 2


def test_a_factor_that_overflows_a_group_to_infinity_is_refused():
    opt = sgd(1e300)
    with pytest.raises(ValueError, match=r"'lr' must be a finite number >= 0 \(got inf"):
        Scheduler(opt, lr=Constant(1e10))


def test_a_schedule_that_overflows_is_refused_when_every_base_is_small():
    """Exponential(rate=1.5) reaches inf at step 1751; on a base of 0.1 the bound on the
    schedule's values once overflowed to inf itself and let inf through."""
    opt = sgd(0.1, 0.001)
    sched = Scheduler(opt, lr=Exponential(rate=1.5), count="calls", start_step=1750)
    held = lrs(opt)
    with pytest.raises(ValueError, match=r"'lr' must be a finite number >= 0 \(got inf"):
        sched.step()
    assert lrs(opt) == held and all(math.isfinite(v) for v in held)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(1e-300, 1e300), min_size=1, max_size=4),
       st.floats(-1e308, 1e308) | st.sampled_from([math.inf, -math.inf, math.nan]),
       st.sampled_from([RELATIVE, ABSOLUTE, Span.floor(1e-3), Span.between(0.2, 2.0)]),
       st.sampled_from([FINITE, NON_NEGATIVE]))
def test_a_schedule_value_is_admitted_exactly_when_every_group_value_keeps_the_rule(
        bases, f, span, rule):
    track = Track("lr", [Constant(1.0)] * len(bases), bases, span, rule)
    lows, spans = track.ends()
    with np.errstate(all="ignore"):
        values = [low + width * f for low, width in zip(lows, spans)]
    keeps = all(math.isfinite(v) and (rule == FINITE or v >= 0) for v in values)
    low, high = track.admitted()
    assert math.isfinite(low) or low == -math.inf or not keeps  # the bound is never +-inf...
    assert high != math.inf
    if low <= f <= high:
        assert keeps, (f, values)  # ...and what it admits keeps the rule
    elif keeps and abs(f) <= 1e300 and not any(v == 0 and f != 0 for v in values):
        # no needless refusal (a negative factor whose product underflows to -0.0 is negative)
        pytest.fail(f"refused {f} whose values {values} keep the rule")


FAILS_WHEN_BUILT = {
    "a refused value at step 0": dict(lr=Constant(-1.0)),
    "a target whose write fails": dict(w=Constant(0.1), absolute=["w"]),
    "two names for one place": dict(w=Constant(0.6), v=Constant(0.7), absolute=["w", "v"]),
}


class Picky:
    """An attribute whose setter refuses small values."""

    def __init__(self) -> None:
        self._w = 1.0

    @property
    def w(self) -> float:
        return self._w

    @w.setter
    def w(self, value: float) -> None:
        if value < 0.5:
            raise ValueError("w must be >= 0.5")
        self._w = value


@pytest.mark.parametrize("case", FAILS_WHEN_BUILT)
@pytest.mark.parametrize("count", ["updates", "calls"])
def test_a_failed_construction_leaves_the_optimizer_and_targets_as_they_were(case, count):
    opt = sgd(0.1, 0.2)
    for g in opt.param_groups:
        g["lr"] = torch.tensor(g["lr"])  # filled in place: must be filled back too
    picky = Picky()
    before = [{k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in g.items()}
              for g in opt.param_groups]
    targets = {"w": Attribute(picky, "w")}
    if case == "two names for one place":
        targets["v"] = Attribute(picky, "w")
    kwargs = {"lr": Cosine(steps=10), **FAILS_WHEN_BUILT[case]}
    with pytest.raises(ValueError):
        Scheduler(opt, count=count, targets=targets if "w" in kwargs else None, **kwargs)
    after = [{k: v for k, v in g.items()} for g in opt.param_groups]
    assert [set(g) for g in after] == [set(g) for g in before]  # no initial_lr left behind
    for a, b in zip(after, before):
        for key in b:
            assert (torch.equal(a[key], b[key]) if isinstance(b[key], torch.Tensor)
                    else a[key] == b[key]), key
    assert picky.w == 1.0 and not opt._optimizer_step_post_hooks


def test_values_exactly_zero_and_a_floor_are_admitted_every_step():
    opt = sgd(0.1, 0.3)
    sched = Scheduler(opt, lr=Cosine(steps=4), count="calls")
    for t in range(1, 9):  # through the end and past it, where the value is exactly 0
        sched.step()
        assert lrs(opt) == [0.1 * Cosine(steps=4)(t), 0.3 * Cosine(steps=4)(t)]


def boom_from(step):
    def f(t):
        if t >= step:
            raise RuntimeError(f"boom at {t}")
        return 0.5
    return f


@pytest.mark.parametrize("count", ["calls", "updates"])
def test_a_schedule_that_raises_mid_step_changes_nothing(count):
    opt = sgd(0.1, 0.2)
    sched = Scheduler(opt, lr={0: Linear(start=1.0, end=0.0, steps=10), 1: Lambda(boom_from(3))},
                      count=count)
    for _ in range(2):
        opt.step()
        sched.step()
    before = lrs(opt)
    assert before == [0.1 * 0.8, 0.2 * 0.5] and sched.current_step == 2
    with pytest.raises(RuntimeError, match="boom at 3"):
        if count == "updates":
            opt.step()  # the hook moves the schedule: the update itself has happened
        else:
            sched.step()
    assert lrs(opt) == before and sched.current_step == 2
    assert sched.state_dict()["steps"] == 2


def test_a_failed_plateau_step_leaves_the_controller_as_it_was():
    from cadence import ReduceOnPlateau

    opt = sgd(0.1)
    sched = Scheduler(opt, lr=Lambda(boom_from(2)), count="calls",
                      plateau=ReduceOnPlateau(patience=0))
    sched.step(1.0)
    before = dict(sched.plateau.state_dict())
    with pytest.raises(RuntimeError, match="boom at 2"):
        sched.step(2.0)  # worse: a reduction is counted, then the write fails
    assert sched.plateau.state_dict() == before and sched.current_step == 1


def test_a_group_dict_replaced_in_the_optimizers_list_is_the_one_written():
    opt = sgd(0.1)
    sched = Scheduler(opt, lr=Linear(start=1.0, end=0.0, steps=10), count="calls")
    sched.step()
    opt.param_groups[0] = dict(opt.param_groups[0])
    sched.step(), sched.step()
    assert opt.param_groups[0]["lr"] == 0.1 * Linear(start=1.0, end=0.0, steps=10)(3)


def test_drop_ins_write_what_pytorch_writes_even_negative_momentum():
    """The drop-ins follow PyTorch where PyTorch accepts a value: OneCycleLR with a negative
    base_momentum writes the momenta PyTorch's own class writes."""
    theirs_opt, ours_opt = sgd(0.1), sgd(0.1)
    kwargs = dict(max_lr=1.0, total_steps=10, base_momentum=-0.5, max_momentum=0.9)
    theirs = torch.optim.lr_scheduler.OneCycleLR(theirs_opt, **kwargs)
    mine = ours.OneCycleLR(ours_opt, **kwargs)
    seen = []
    for _ in range(9):
        theirs_opt.step(), ours_opt.step()
        theirs.step(), mine.step()
        assert ours_opt.param_groups[0]["momentum"] == pytest.approx(
            theirs_opt.param_groups[0]["momentum"], rel=1e-12, abs=1e-15)
        seen.append(ours_opt.param_groups[0]["momentum"])
    assert min(seen) < 0  # a negative momentum was written, as PyTorch writes it


def test_a_state_whose_bases_give_a_refused_value_changes_nothing():
    opt = sgd(0.1)
    sched = Scheduler(opt, lr=Cosine(steps=10), count="calls")
    sched.step()
    state = sched.state_dict()
    state["bases"]["lr"] = [-0.5]  # finite, so read; the lr it gives is refused
    before, initial = lrs(opt), opt.param_groups[0]["initial_lr"]
    with pytest.raises(ValueError, match=r"'lr' must be a finite number >= 0"):
        sched.load_state_dict(state)
    assert lrs(opt) == before and opt.param_groups[0]["initial_lr"] == initial
    assert sched.bases("lr") == [0.1] and sched.current_step == 1
    sched.step()
    assert lrs(opt) == [0.1 * Cosine(steps=10)(2)]
