"""Differential tests: random lists of MMEngine param schedulers (LR, Momentum and generic
``...ParamScheduler`` forms) on one optimizer, with ``begin``/``end`` windows that leave gaps and
overlap, by epoch or by iteration, some converted with ``build_iter_from_epoch`` and a random
``epoch_length``, built once from ``mmengine.optim.scheduler`` and once from
``cadence.compat.mmengine``, stepped as MMEngine's Runner steps them (the iteration-based ones
after every iteration, the by-epoch ones after every epoch) and compared at every iteration:
every group's lr, momentum (``betas[0]`` on Adam) and weight decay, and each scheduler's
``get_last_value()`` and ``last_step``. A state round trip through cadence in the middle, too.

The drawn configurations leave out MMEngine's raise past a ``OneCycleLR``'s ``total_steps``,
where cadence holds (docs/compat.md).
"""

from __future__ import annotations

import functools
import io
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stepping import lrs_per_step

mm = pytest.importorskip("mmengine.optim.scheduler")
from mmengine.optim import OptimWrapper  # noqa: E402

from cadence.compat import mmengine as M  # noqa: E402

INF = M.INF
# Not bit for bit: MMEngine's forms are recursive (each step moves what the groups hold),
# cadence's are ratios of closed forms, so they round differently in the last bits, and the
# differences add up over the steps; near its end a linear OneCycleLR anneal cancels, keeping an
# absolute accuracy of about 1e-16. Over 2000 random lists the largest difference was 8e-13
# relative (on a value above 1e-6): a tight relative tolerance, with an absolute one of a few
# ulps of the largest value (2) for values that are 0 on one side and a rounding residue on the
# other (a cosine at eta_min=0, a linear decay to 0).
RTOL, ATOL = 1e-12, 1e-14


# -- the drawn configurations ---------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    """One scheduler: MMEngine's class name, its keyword arguments, and whether it is built
    with ``build_iter_from_epoch(..., epoch_length=...)``."""

    name: str
    kwargs: dict[str, Any] = field(hash=False)
    convert: bool = False

    def make(self, module, opt, epoch_length):
        cls = getattr(module, self.name)
        kwargs = {k: list(v) if isinstance(v, list) else v for k, v in self.kwargs.items()}
        if self.convert:
            return cls.build_iter_from_epoch(opt, **kwargs, epoch_length=epoch_length)
        return cls(opt, **kwargs)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        how = ".build_iter_from_epoch" if self.convert else ""
        return f"{self.name}{how}(opt, {args})"


@dataclass(frozen=True)
class Plan:
    lrs: tuple[float, ...]
    adam: bool
    wrapped: bool  # in MMEngine's OptimWrapper, as its Runner passes it
    specs: tuple[Spec, ...]
    epoch_length: int
    epochs: int
    resume_at: int  # iterations before the state round trip
    optimizer_first: bool


def rounded(digits):
    return functools.partial(round, ndigits=digits)


gammas = st.floats(0.5, 0.99).map(rounded(4))
factors = st.floats(0.05, 1.0).map(rounded(4))
FAMILIES = ("Step", "MultiStep", "Constant", "Exponential", "CosineAnnealing", "Linear", "Poly",
            "CosineRestart", "OneCycle")


def family_kwargs(family, param, horizon, window_length):
    """The family's own arguments. ``horizon`` is a length in the scheduler's unit (epochs or
    iterations), ``window_length`` its window's (None when it never ends)."""
    floor = {"lr": st.sampled_from([0.0, 1e-4, 0.002]),
             "momentum": st.sampled_from([0.0, 0.5, 0.85]),
             "weight_decay": st.sampled_from([0.0, 1e-5])}[param]
    ratio = st.sampled_from([0.0, 0.05, 0.3])
    if family == "Step":
        return st.fixed_dictionaries(dict(step_size=st.integers(1, max(1, horizon // 3)),
                                          gamma=gammas))
    if family == "MultiStep":
        return st.fixed_dictionaries(dict(milestones=st.lists(st.integers(0, horizon),
                                                              max_size=4), gamma=gammas))
    if family == "Constant":
        return st.fixed_dictionaries(dict(factor=factors))
    if family == "Exponential":
        return st.fixed_dictionaries(dict(gamma=st.floats(0.8, 0.99).map(rounded(4))))
    if family == "CosineAnnealing":
        t_max = st.integers(1, max(1, horizon))
        if window_length is not None:
            t_max = st.none() | t_max  # None: the window's length
        return st.one_of(st.fixed_dictionaries(dict(T_max=t_max, eta_min=floor)),
                         st.fixed_dictionaries(dict(T_max=t_max, eta_min_ratio=ratio)))
    if family == "Linear":
        return st.fixed_dictionaries(dict(start_factor=factors,
                                          end_factor=st.sampled_from([1.0, 0.5, 0.0]) | factors))
    if family == "Poly":
        return st.fixed_dictionaries(dict(eta_min=floor,
                                          power=st.floats(0.5, 3.0).map(rounded(3))))
    if family == "CosineRestart":
        def restart(periods):
            n = len(periods)
            weights = st.lists(st.floats(0.1, 1.0).map(rounded(3)), min_size=n, max_size=n)
            return st.one_of(
                st.fixed_dictionaries(dict(periods=st.just(periods), restart_weights=weights,
                                           eta_min=floor)),
                st.fixed_dictionaries(dict(periods=st.just(periods), restart_weights=weights,
                                           eta_min_ratio=ratio)))
        return st.lists(st.integers(1, max(1, horizon // 2)), min_size=1,
                        max_size=3).flatmap(restart)
    assert family == "OneCycle"
    return st.fixed_dictionaries(dict(
        eta_max=st.floats(0.01, 2.0).map(rounded(4)),
        pct_start=st.floats(0.1, 0.45).map(rounded(3)),
        anneal_strategy=st.sampled_from(["cos", "linear"]),
        div_factor=st.floats(2.0, 50.0).map(rounded(2)),
        final_div_factor=st.sampled_from([10.0, 100.0, 1e4]),
        three_phase=st.booleans()))


@st.composite
def specs(draw, epoch_length, epochs):
    family = draw(st.sampled_from(FAMILIES))
    if family == "OneCycle":
        param = "lr"  # MMEngine's OneCycle is for the lr only
    else:
        param = draw(st.sampled_from(["lr", "lr", "momentum", "weight_decay"]))
    by_epoch = draw(st.booleans())
    convert = by_epoch and draw(st.booleans())
    horizon = epochs if by_epoch else epochs * epoch_length
    begin = draw(st.integers(0, max(0, horizon - 1)))
    length = draw(st.none() | st.integers(1, max(1, horizon)))
    if family in ("Linear", "Constant", "OneCycle") and length is None:
        length = draw(st.integers(1, max(1, horizon)))  # their phase is the window
    kwargs = dict(begin=begin, by_epoch=by_epoch)
    if length is not None:
        kwargs["end"] = begin + length
    kwargs.update(draw(family_kwargs(family, param, horizon, length)))
    if family == "OneCycle":
        # MMEngine divides by 0 when the first phase ends at step 0, and raises past
        # total_steps (cadence holds): a total of at least the window's length
        total = length * (epoch_length if convert else 1)
        if kwargs["pct_start"] * total < 2:
            kwargs["pct_start"] = round(min(0.45, 2.0 / total + 0.01), 3)
            if kwargs["pct_start"] * total < 2:
                return None
        if draw(st.booleans()):
            kwargs["total_steps"] = length + draw(st.integers(0, 5))
    if family in ("Linear", "Constant") and length is not None and length * (
            epoch_length if convert else 1) < 2:
        kwargs["end"] = begin + 2  # MMEngine divides by total_iters = end - begin - 1
    name = {"lr": f"{family}LR", "momentum": f"{family}Momentum",
            "weight_decay": f"{family}ParamScheduler"}[param]
    if param == "weight_decay":
        kwargs = {"param_name": "weight_decay", **kwargs}
    return Spec(name, kwargs, convert)


def param_of(spec):
    if spec.name.endswith("LR"):
        return "lr"
    return "momentum" if spec.name.endswith("Momentum") else spec.kwargs["param_name"]


@st.composite
def plans(draw):
    epoch_length = draw(st.integers(1, 10))
    epochs = draw(st.integers(1, 10))
    lrs = tuple(draw(st.lists(st.floats(1e-3, 1.0).map(rounded(4)), min_size=1, max_size=3)))
    drawn = draw(st.lists(specs(epoch_length, epochs).filter(lambda s: s is not None),
                          min_size=1, max_size=4))
    # one OneCycleLR at most: two differ on purpose (test_a_second_one_cycle_keeps_the_first)
    assume(sum(spec.name == "OneCycleLR" for spec in drawn) <= 1)
    iterations = epoch_length * epochs
    return Plan(lrs=lrs, adam=draw(st.booleans()), wrapped=draw(st.booleans()),
                specs=tuple(drawn), epoch_length=epoch_length, epochs=epochs,
                resume_at=draw(st.integers(0, iterations)), optimizer_first=draw(st.booleans()))


# -- building and stepping ------------------------------------------------------------------
def make_optimizer(plan):
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in plan.lrs]
    if plan.adam:
        opt = torch.optim.Adam(groups, betas=(0.9, 0.99), weight_decay=1e-4, foreach=False)
    else:
        opt = torch.optim.SGD(groups, momentum=0.9, weight_decay=1e-4, foreach=False)
    return OptimWrapper(opt) if plan.wrapped else opt


def record(opt, schedulers):
    """Every group's lr, momentum and weight decay, and each scheduler's last values; each
    scheduler's last_step."""
    values = []
    for g in opt.param_groups:
        values += [g["lr"], g["betas"][0] if "betas" in g else g["momentum"], g["weight_decay"]]
    for s in schedulers:
        values += [float(v) for v in s.get_last_value()]
    return values, [s.last_step for s in schedulers]


def train(opt, schedulers, plan, start, stop):
    """Iterations ``start`` to ``stop`` as MMEngine's Runner runs them: the optimizer steps, the
    iteration-based schedulers after each iteration, the by-epoch ones after each epoch; the
    values each iteration trained with, and the counters after it."""
    values, steps = [], []
    for i in range(start, stop):
        v, _ = record(opt, schedulers)
        opt.step()
        for s in schedulers:
            if not s.by_epoch:
                s.step()
        if (i + 1) % plan.epoch_length == 0:
            for s in schedulers:
                if s.by_epoch:
                    s.step()
        values.append(v)
        steps.append(record(opt, schedulers)[1])
    return values, steps


def run(module, plan, stop=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt = make_optimizer(plan)
        schedulers = [spec.make(module, opt, plan.epoch_length) for spec in plan.specs]
        total = plan.epochs * plan.epoch_length
        values, steps = train(opt, schedulers, plan, 0, total if stop is None else stop)
    return values, steps, [(w.category.__name__, str(w.message)) for w in caught], (
        opt, schedulers)


def compare(ours, theirs, plan):
    np.testing.assert_allclose(np.array(ours, dtype=float), np.array(theirs, dtype=float),
                               rtol=RTOL, atol=ATOL, err_msg=repr(plan))


# -- the tests ------------------------------------------------------------------------------
@settings(max_examples=800, deadline=None)
@given(plan=plans())
def test_random_scheduler_lists_step_like_mmengine(plan):
    theirs, their_steps, their_warnings, _ = run(mm, plan)
    ours, our_steps, our_warnings, _ = run(M, plan)
    compare(ours, theirs, plan)
    assert our_steps == their_steps
    assert our_warnings == their_warnings


@settings(max_examples=400, deadline=None)
@given(plan=plans())
def test_a_state_round_trip_in_the_middle_changes_nothing(plan):
    theirs, their_steps, _, _ = run(mm, plan)
    _, _, _, (opt, schedulers) = run(M, plan, stop=plan.resume_at)
    buffer = io.BytesIO()
    torch.save({"optimizer": opt.state_dict(), "schedulers": [s.state_dict() for s in schedulers]},
               buffer)
    buffer.seek(0)
    # MMEngine's state (which the drop-ins keep) holds a Counter and OneCycle's anneal_func, so
    # it loads as MMEngine's checkpoints do, unpickled in full
    state = torch.load(buffer, weights_only=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # building again warns as the first build did
        opt2 = make_optimizer(plan)
        fresh = [spec.make(M, opt2, plan.epoch_length) for spec in plan.specs]
        if plan.optimizer_first:
            opt2.load_state_dict(state["optimizer"])
        for s, s_state in zip(fresh, state["schedulers"]):
            s.load_state_dict(s_state)
        if not plan.optimizer_first:
            opt2.load_state_dict(state["optimizer"])
        ours, our_steps = train(opt2, fresh, plan, plan.resume_at,
                                plan.epochs * plan.epoch_length)
    compare(ours, theirs[plan.resume_at:], plan)
    assert our_steps == their_steps[plan.resume_at:]




# -- the differences the suite found, each the smallest example: regression tests, and the one
# difference kept on purpose
def lrs_side_by_side(make, steps):
    """Group 0's lr after each of ``steps`` iterations (all schedulers by iteration):
    MMEngine's, then cadence's."""
    return [[row[0] for row in lrs_per_step(module, make, steps, momentum=0.9)]
            for module in (mm, M)]


def test_chained_cosine_after_its_minimum():
    theirs, ours = lrs_side_by_side(lambda m, o: [
        m.ExponentialLR(o, gamma=0.5, by_epoch=False),
        m.CosineAnnealingLR(o, T_max=3, eta_min=0.1, by_epoch=False)], steps=6)
    # MMEngine: [0.4, 0.1333, 0.1, 0.275, 0.2125, 0.1083] (the rise added at last_step = 4)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("floor", [{"eta_min": 0.1}, {"eta_min_ratio": 0.1}])
def test_chained_cosine_restarts_keep_their_floor(floor):
    # with another scheduler on the same parameter, MMEngine scales the value's distance from
    # eta_min
    theirs, ours = lrs_side_by_side(lambda m, o: [
        m.ExponentialLR(o, gamma=0.5, by_epoch=False),
        m.CosineRestartLR(o, periods=[4], restart_weights=[1.0], by_epoch=False, **floor)],
        steps=4)
    # MMEngine: [0.4414, 0.1707, 0.0957, 0.0479]; cadence gave [0.4341, 0.1375, 0.0290, 0.0145]
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


def test_a_chained_cosine_restart_cycle_without_amplitude_still_moves_the_value():
    # its first cycle restarts at restart_weights[0] * base = eta_min: MMEngine still scales
    # the distance from eta_min by the cosine's change
    theirs, ours = lrs_side_by_side(lambda m, o: [
        m.StepLR(o, step_size=1, gamma=0.5, by_epoch=False),
        m.CosineRestartLR(o, periods=[2, 1, 1], restart_weights=[0.1, 1.0, 1.0], eta_min=0.1,
                          by_epoch=False)], steps=4)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


def test_a_second_one_cycle_keeps_the_first():
    # Kept on purpose (docs/compat.md): MMEngine's OneCycleLR reads initial_lr, max_lr and
    # min_lr from the param groups at every step, and a second OneCycleLR's constructor
    # overwrites them, so the first cycle runs with the second's peak; cadence's first cycle
    # keeps its own settings, and the second runs as MMEngine's does.
    theirs, ours = lrs_side_by_side(lambda m, o: [
        m.OneCycleLR(o, eta_max=1.0, final_div_factor=10.0, begin=0, end=6, by_epoch=False),
        m.OneCycleLR(o, eta_max=0.5, final_div_factor=100.0, begin=6, end=12, by_epoch=False)],
        steps=11)
    alone, _ = lrs_side_by_side(lambda m, o: [
        m.OneCycleLR(o, eta_max=1.0, final_div_factor=10.0, begin=0, end=6, by_epoch=False)],
        steps=5)
    np.testing.assert_allclose(ours[:5], alone, rtol=RTOL, atol=ATOL)  # the first, as built
    assert max(theirs[:5]) <= 0.5 < max(alone)  # MMEngine's first cycle: the second's peak
    np.testing.assert_allclose(ours[5:], theirs[5:], rtol=RTOL, atol=ATOL)
