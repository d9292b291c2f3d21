"""Re-timing a run changes nothing that came before it, over every registered schedule type.

Schedule level: :class:`~cadence.schedules.Extend` (each policy) and
:class:`~cadence.schedules.Cooldown` branched from a random schedule of every type at a random
step are the original, value for value, before the switch; have the original's value at the
switch (no jump); reach the end value exactly at the new end; and round-trip through a config.

Scheduler level: a run re-timed by ``Scheduler.extend`` / ``Scheduler.anneal`` after a few
updates keeps its lr at the switch, follows the branch written here, and, saved later and
resumed by the original script (built with the original schedule, the state loaded before or
after the optimizer's), continues bit for bit: every lr, parameter and optimizer state tensor of
the uninterrupted run. A scheduler built with another schedule refuses the state.

The schedule level checks every value against the original schedule evaluated directly, or
against each policy's formula written here. The scheduler level checks the lrs against
``base * branch(t)``, the branch built directly (which the schedule level checks), and the
resumed runs against the uninterrupted one.
"""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any

import hypothesis
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cadence.schedules as S
from cadence import Scheduler
from cadence.config import from_config, registered
from cadence.config.encoding import fingerprint
from cadence.schedules import Schedule
from cadence.schedules.extents import own_end
from cadence.validation import InvalidType, InvalidValue

POLICIES = ("rescale", "hold", "continue")
DECAYS = ("linear", "cosine", "1-sqrt")


def examples(count: int) -> int:
    """``count`` examples, or the profile's own number when it asks for more
    (``CADENCE_HYPOTHESIS=explore``), as properties.surface.examples (not imported: it walks
    the whole package)."""
    default = hypothesis.settings.default.max_examples
    return max(count, default if default > 100 else count)


# -- module-level functions (a Lambda, a Multiplicative): they pickle and have a fingerprint ---
def halving(step: int | float) -> float:
    return 0.5 ** math.floor(step / 7)


def sawtooth(step: int | float) -> float:
    return 1.0 - (step % 5) / 10.0


def shrinking(step: int) -> float:
    return 0.97


def wobbling(step: int) -> float:
    return 1.0 if step % 3 else 0.9


# -- a random schedule of every registered type ----------------------------------------------
def _round(x: float) -> float:
    return round(x, 6)


def shapes(non_negative: bool) -> dict[str, st.SearchStrategy[Schedule]]:
    """A strategy for each registered type, keyed by its config name. Lengths are short (a run
    of the scheduler test plays them out) and some are fractional; with ``non_negative`` every
    value is >= 0 (what an lr factor may be)."""
    v = (st.floats(0, 2) if non_negative else st.floats(-2, 2)).map(_round)
    pos = st.floats(0.05, 2).map(_round)
    n = st.one_of(st.integers(1, 30), st.integers(1, 60).map(lambda k: k + 0.5))
    frac = st.floats(0.05, 0.95).map(lambda x: round(x, 4))
    shape3 = st.sampled_from(DECAYS)

    def anneal(cls: type) -> st.SearchStrategy[Schedule]:
        return st.builds(lambda a, b, k: cls(start=a, end=b, steps=k), v, v, n)

    ended = st.one_of(anneal(S.Linear), anneal(S.Cosine), anneal(S.OneMinusSqrt))
    child = st.one_of(
        st.builds(S.Constant, v), ended,
        st.builds(lambda e, g, a: S.Step(every=e, gamma=g, start=a), n, frac, v),
        st.builds(lambda p, lo, hi: S.CosineRestarts(period=p, low=lo, high=hi), n, v, v),
    )

    @st.composite
    def extended(draw: Any) -> Schedule:
        inner = draw(ended)
        total = float(inner.steps)
        at = draw(st.integers(0, math.floor(total)))
        policy = draw(st.sampled_from(POLICIES))
        low = max(at + 1, math.ceil(total)) if policy == "hold" else at + 1
        return S.Extend(inner, at=at, new_total=draw(st.integers(low, low + 20)),
                        policy=policy, shape=draw(shape3))

    return {
        "constant": st.builds(S.Constant, v),
        "linear": anneal(S.Linear),
        "cosine": anneal(S.Cosine),
        "cosine_wave": anneal(S.CosineWave),
        "one_minus_sqrt": anneal(S.OneMinusSqrt),
        "polynomial": st.builds(lambda a, b, k, p: S.Polynomial(start=a, end=b, steps=k, power=p),
                                v, v, n, pos),
        "geometric": st.builds(lambda a, b, k: S.Geometric(start=a, end=b, steps=k), pos, pos, n),
        "exponential": st.builds(lambda r, a, f: S.Exponential(rate=r, start=a, floor=f),
                                 st.floats(0.8, 1.0), v, st.none() | v),
        "step": st.builds(lambda e, g, a: S.Step(every=e, gamma=g, start=a), n, frac, v),
        "multistep": st.builds(lambda m, g: S.MultiStep(milestones=sorted(m), gamma=g),
                               st.lists(st.integers(0, 40), max_size=4), pos),
        "inverse_sqrt": st.builds(lambda a, s: S.InverseSqrt(start=a, timescale=s), v, pos),
        "noam": st.builds(lambda d, w: S.Noam(d_model=d, warmup_steps=w),
                          st.integers(1, 1024), n),
        "ema_warmup": st.builds(lambda e, g, p: S.EMAWarmup(end=e, gamma=g, power=p),
                                st.floats(0.1, 0.9), st.floats(0.5, 2.0), st.floats(0.75, 1.5)),
        "cosine_restarts": st.builds(
            lambda p, m, d, lo, hi, c: S.CosineRestarts(period=p, period_mult=m, decay=d, low=lo,
                                                        high=hi, cycles=c),
            n, st.sampled_from([1, 1.5, 2]), st.floats(0, 1), v, v, st.none() | st.integers(1, 4)),
        "cyclic": st.builds(lambda a, b, u, d, mode: S.Cyclic(start=a, peak=b, up_steps=u,
                                                              down_steps=d, mode=mode, gamma=0.999),
                            v, v, n, st.none() | n,
                            st.sampled_from(["triangular", "triangular2", "exp_range"])),
        "one_cycle": st.builds(lambda k, p, an, three: S.OneCycle(total_steps=k, pct_start=p,
                                                                  anneal=an, three_phase=three),
                               st.integers(20, 60), st.floats(0.1, 0.45),
                               st.sampled_from(["cos", "linear"]), st.booleans()),
        "wsd": st.builds(lambda w, s, d, wu, de, e: S.WSD(warmup_steps=w, stable_steps=s,
                                                          decay_steps=d, warmup=wu, decay=de, end=e),
                         st.integers(0, 20), st.integers(0, 20), st.integers(1, 20), shape3, shape3,
                         frac),
        "lambda": st.builds(S.Lambda, st.sampled_from([halving, sawtooth])),
        "multiplicative": st.builds(S.Multiplicative, st.sampled_from([shrinking, wobbling])),
        "join": st.builds(lambda xs, gaps: S.join(xs, [int(b) for b in np.cumsum(gaps)[:len(xs) - 1]]),
                          st.lists(child, min_size=1, max_size=3),
                          st.lists(st.integers(1, 20), min_size=2, max_size=2)),
        "product": st.builds(lambda xs: S.Product(tuple(xs)), st.lists(child, min_size=1, max_size=3)),
        "sum": st.builds(lambda xs: S.Sum(tuple(xs)), st.lists(child, min_size=1, max_size=3)),
        "scale": st.builds(S.Scale, child, pos if non_negative else v),
        "shift": st.builds(S.Shift, child, v),
        "clip": st.builds(lambda x, lo: S.Clip(x, low=lo, high=lo + 1), child, v),
        "repeat": st.builds(S.Repeat, child, n),
        "stretch": st.builds(S.Stretch, child, pos),
        "reverse": st.builds(S.Reverse, child, n),
        "offset": st.builds(S.Offset, child, st.integers(0, 30)),
        "quantize": st.builds(S.Quantize, child, n),
        "warmup": st.builds(lambda x, k, a, shape, mode: S.Warmup(x, steps=k, start=a, shape=shape,
                                                                  mode=mode),
                            child, n, frac, st.sampled_from(["linear", "cosine"]),
                            st.sampled_from(["prefix", "overlay"])),
        "cooldown": st.builds(lambda x, at, k, shape, e: S.Cooldown(x, at=at, steps=k, shape=shape,
                                                                    end=e),
                              child, st.integers(0, 30), n, shape3, v),
        "extend": extended(),
        "switch": st.builds(lambda x, at, y: S.Switch(x, at=at, then=y),
                            child, st.integers(0, 30), child),
    }


SIGNED = shapes(non_negative=False)
NON_NEGATIVE = shapes(non_negative=True)
TYPES = sorted(SIGNED)


def test_every_registered_type_is_drawn():
    assert set(SIGNED) == set(registered())
    assert set(NON_NEGATIVE) == set(registered())


def wraps_a_function(config: Any) -> bool:
    """Whether a fingerprint holds a Lambda or a Multiplicative (no config form)."""
    if isinstance(config, dict):
        return config.get("type") in ("lambda", "multiplicative") or any(
            wraps_a_function(item) for item in config.values())
    if isinstance(config, list):
        return any(wraps_a_function(item) for item in config)
    return False


# -- schedule level --------------------------------------------------------------------------
def decayed(shape: str, start: float, end: float, p: float) -> float:
    """A decay from ``start`` to ``end`` at the fraction ``p`` of it, as the textbooks write
    each shape."""
    if shape == "linear":
        return start + (end - start) * p
    if shape == "cosine":
        return end + (start - end) * (1 + math.cos(math.pi * p)) / 2
    return end + (start - end) * (1 - math.sqrt(p))


def close_to(value: float) -> Any:
    return pytest.approx(value, rel=1e-9, abs=1e-12)


def check_branch(original: Schedule, branched: Schedule, at: int, end_step: int | float,
                 end_value: float, end_array: float) -> None:
    """Before ``at`` the original (one step at a time and as an array, alone and mixed with
    later steps); at ``at`` the original's value; at ``end_step`` exactly ``end_value``.

    In an array, the value at ``at`` (and at ``end_step``) is the original's there either as
    one step gives it or as an array gives it (``end_array``): the two may differ in the last
    bits for the shapes of exp, log and pow (tests/schedule_examples.py), and a branch that
    starts from (or decays to) the original's value takes the one-step value, as the
    scheduler reads it."""
    assert branched(at) == original(at), "a jump at the switch"
    assert branched(end_step) == end_value, "the end value missed at the new end"
    before = [float(t) for t in range(at)] + [t - 0.5 for t in range(1, at + 1)]
    for t in before:
        assert branched(t) == original(t)
    steps = np.array(before, dtype=np.float64)
    np.testing.assert_array_equal(branched(steps), original(steps))
    mixed = branched(np.array([*before, at, end_step], dtype=np.float64))
    np.testing.assert_array_equal(mixed[: len(before)], original(steps))
    assert mixed[len(before)] in (original(at), original(np.array([float(at)]))[0])
    assert mixed[-1] in (end_value, end_array)


def check_config(branched: Schedule, steps: list[float]) -> None:
    if wraps_a_function(fingerprint(branched)):
        with pytest.raises(InvalidType, match="no config form"):
            branched.to_config()
        return
    config = branched.to_config()
    rebuilt = from_config(config)
    assert type(rebuilt) is type(branched)
    assert rebuilt.to_config() == config
    assert [rebuilt(t) for t in steps] == [branched(t) for t in steps]
    grid = np.array(steps, dtype=np.float64)
    np.testing.assert_array_equal(rebuilt(grid), branched(grid))


@pytest.mark.parametrize("name", TYPES)
@settings(max_examples=examples(15), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors])
@given(data=st.data())
def test_a_branch_is_the_original_until_it_switches_and_lands_on_its_end(name, data):
    original = data.draw(SIGNED[name], label="original")
    assert type(original).type_name == name
    end = own_end(original)
    if end is None:  # no end of its own: where it was planned to end is given
        total: int | float = data.draw(st.integers(1, 60), label="total")
        given_total: int | float | None = total
    else:
        total = int(end) if float(end).is_integer() else end
        given_total = None
    at = data.draw(st.integers(0, math.floor(total)), label="at")
    planned_end = original(total)
    for policy in POLICIES:  # each policy, every example
        low = max(at + 1, math.ceil(total)) if policy == "hold" else at + 1
        new_total = data.draw(st.integers(low, low + 40), label=f"new_total ({policy})")
        decay = data.draw(st.sampled_from(DECAYS), label=f"shape ({policy})")
        extended = S.Extend(original, at=at, new_total=new_total, policy=policy,
                            total=given_total, shape=decay)
        check_branch(original, extended, at, new_total, planned_end,
                     original(np.array([float(total)]))[0])
        if policy != "continue":  # past the new end, the original as it went on past its end
            for d in (0.5, 1, 7):
                assert extended(new_total + d) == original(total + d)
        else:  # the decay written here, then its end value held
            assert extended(new_total + 3) == planned_end
        # inside the branch: the policy's formula, written out
        u = at + data.draw(st.floats(0.01, 0.99), label=f"inside ({policy})") * (new_total - at)
        if policy == "rescale":
            assert extended(u) == original(u if new_total == total else
                                           at + (total - at) * ((u - at) / (new_total - at)))
        elif policy == "hold":
            assert extended(u) == original(max(u - (new_total - total), at))
        else:
            assert extended(u) == close_to(decayed(decay, original(at), planned_end,
                                                   (u - at) / (new_total - at)))
        check_config(extended, [0, at / 2, at, u, new_total, new_total + 5])

    cool_at = data.draw(st.integers(0, 60), label="cooldown at")
    steps = data.draw(st.integers(1, 40), label="cooldown steps")
    floor = data.draw(st.floats(-1, 1).map(_round), label="cooldown end")
    decay = data.draw(st.sampled_from(DECAYS), label="cooldown shape")
    cooled = S.Cooldown(original, at=cool_at, steps=steps, shape=decay, end=floor)
    check_branch(original, cooled, cool_at, cool_at + steps, floor, floor)
    p = data.draw(st.floats(0.01, 0.99), label="cooldown inside")
    assert cooled(cool_at + p * steps) == close_to(decayed(decay, original(cool_at), floor, p))
    assert cooled(cool_at + steps + 9) == floor
    check_config(cooled, [0, cool_at, cool_at + steps / 3, cool_at + steps, cool_at + steps + 2])


# -- scheduler level -------------------------------------------------------------------------
X = torch.linspace(-1.0, 1.0, 12).reshape(4, 3)
Y = torch.linspace(0.5, -0.5, 8).reshape(4, 2)


def build(kind: str, seed: int = 0) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    model = torch.nn.Linear(3, 2)
    groups = [{"params": [model.weight]}, {"params": [model.bias], "lr": 0.03}]
    if kind == "sgd":
        opt: torch.optim.Optimizer = torch.optim.SGD(groups, lr=0.1, momentum=0.9,
                                                     weight_decay=1e-3)
    else:
        opt = torch.optim.AdamW(groups, lr=0.1, weight_decay=1e-2)
    return model, opt


BASES = (0.1, 0.03)


def update(model: torch.nn.Module, opt: torch.optim.Optimizer, sched: Scheduler) -> None:
    opt.zero_grad()
    loss = ((model(X) - Y) ** 2).mean()
    loss.backward()
    opt.step()
    sched.step()


def snapshot(model: torch.nn.Module, opt: torch.optim.Optimizer) -> dict[str, Any]:
    state = {(i, key): value.clone() if isinstance(value, torch.Tensor) else value
             for i, p in enumerate(model.parameters()) for key, value in opt.state[p].items()}
    return {"lrs": [g["lr"] for g in opt.param_groups],
            "params": [p.detach().clone() for p in model.parameters()], "state": state}


def assert_same(got: dict[str, Any], want: dict[str, Any], where: str) -> None:
    assert got["lrs"] == want["lrs"], where
    assert all(torch.equal(a, b) for a, b in zip(got["params"], want["params"], strict=True)), where
    assert got["state"].keys() == want["state"].keys(), where
    for key, value in want["state"].items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(got["state"][key], value), (where, key)
        else:
            assert got["state"][key] == value, (where, key)


def scheduler(opt: torch.optim.Optimizer, schedule: Schedule) -> Scheduler:
    return Scheduler(opt, lr=schedule, absolute=False)


@pytest.mark.parametrize("name", TYPES)
@settings(max_examples=examples(5), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors])
@given(data=st.data())
def test_a_retimed_run_resumes_bit_for_bit_from_the_original_script(name, data):
    original = data.draw(NON_NEGATIVE[name], label="original")
    assert type(original).type_name == name
    kind = data.draw(st.sampled_from(["sgd", "adamw"]), label="optimizer")
    k = data.draw(st.integers(0, 12), label="updates before the switch")
    end = own_end(original)
    operations = ["cooldown", *(POLICIES if end is not None and end > k else ())]
    operation = data.draw(st.sampled_from(operations), label="operation")
    decay = data.draw(st.sampled_from(DECAYS), label="shape")
    if operation == "cooldown":
        steps = data.draw(st.integers(1, 20), label="cooldown steps")
        floor = data.draw(st.floats(0, 1).map(_round), label="cooldown end")
        branch: Schedule = S.Cooldown(original, at=k, steps=steps, shape=decay, end=floor)
        last = k + steps
    else:
        low = max(k + 1, math.ceil(end)) if operation == "hold" else k + 1
        last = data.draw(st.integers(low, low + 20), label="new total")
        branch = S.Extend(original, at=k, new_total=last, policy=operation, shape=decay)
    finish = last + 2
    m = data.draw(st.integers(0, finish - k), label="updates before the save")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model, opt = build(kind)
        sched = scheduler(opt, original)
        run = []
        for t in range(k):
            run.append(snapshot(model, opt))
            assert run[-1]["lrs"] == [b * original(t) for b in BASES], t
            update(model, opt, sched)
        before = [g["lr"] for g in opt.param_groups]
        if operation == "cooldown":
            sched.anneal(steps, shape=decay, end=floor)
        else:
            sched.extend(last, policy=operation, shape=decay)
        assert [g["lr"] for g in opt.param_groups] == before, "the lr jumped at the switch"
        saved = None
        for t in range(k, finish + 1):
            if t == k + m:
                saved = copy.deepcopy((model.state_dict(), opt.state_dict(), sched.state_dict()))
            run.append(snapshot(model, opt))
            assert run[-1]["lrs"] == [b * branch(t) for b in BASES], t
            if t < finish:
                update(model, opt, sched)
        assert saved is not None

        for order in ("scheduler first", "optimizer first"):
            model2, opt2 = build(kind, seed=1)
            model2.load_state_dict(copy.deepcopy(saved[0]))
            if order == "scheduler first":
                sched2 = scheduler(opt2, original)
                sched2.load_state_dict(copy.deepcopy(saved[2]))
                opt2.load_state_dict(copy.deepcopy(saved[1]))
            else:
                opt2.load_state_dict(copy.deepcopy(saved[1]))
                sched2 = scheduler(opt2, original)
                sched2.load_state_dict(copy.deepcopy(saved[2]))
            for t in range(k + m, finish + 1):
                assert_same(snapshot(model2, opt2), run[t], f"{order}, step {t}")
                if t < finish:
                    update(model2, opt2, sched2)

        # another script's schedule: refused, naming the difference, and nothing changed
        other = S.Scale(original, 0.5)
        _, opt3 = build(kind)
        sched3 = scheduler(opt3, other)
        kept = [g["lr"] for g in opt3.param_groups]
        with pytest.raises(InvalidValue, match=r"different schedule: 'lr' schedules"):
            sched3.load_state_dict(copy.deepcopy(saved[2]))
        assert [g["lr"] for g in opt3.param_groups] == kept == [b * other(0) for b in BASES]
        assert sched3.state_dict()["steps"] == 0
