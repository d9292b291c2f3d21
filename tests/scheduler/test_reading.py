"""The read API (:class:`cadence.scheduler.reading.ReadableScheduler`): the native Scheduler,
its plateau and warm-restart forms, and every PyTorch and MMEngine drop-in have it, and what it
says agrees with what the optimizer's groups hold.

The check is independent of the read API: the groups are read directly (``betas[0]`` for
momentum on Adam) after each real step, and compared with ``value_at`` at the scheduler's
``current_step`` then, and with ``value_at`` of the whole run asked before the first step
(for the schedulers whose future does not depend on metrics)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

import cadence
from cadence.compat import lr_scheduler as C
from cadence.compat import mmengine as M
from cadence.compat.all_in_one import WarmRestartScheduler
from cadence.scheduler.reading import ReadableScheduler
from cadence.scheduler.track import Span
from cadence.schedules import Constant, Cosine, Linear, Warmup

STEPS = 12
LOSSES = [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]  # plateaus: reductions


def optimizer() -> torch.optim.Optimizer:
    """Two param groups with their own lr, momentum and weight decay."""
    params = [torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))]
    return torch.optim.SGD([{"params": [params[0]]},
                            {"params": [params[1]], "lr": 0.05, "weight_decay": 1e-3}],
                           lr=0.1, momentum=0.9, weight_decay=1e-4)


@dataclass
class Case:
    make: Callable[[torch.optim.Optimizer], Any]
    advance: Callable[[Any, int], None] = lambda sched, k: sched.step()
    predictable: bool = True  # its future does not depend on metrics


def metric(sched: Any, k: int) -> None:
    sched.step(LOSSES[k])


def mm_metric(sched: Any, k: int) -> None:
    """MMEngine's Runner: ``step()`` counts the epoch, ``step(metrics)`` after validation."""
    sched.step()
    sched.step(metrics={"loss": LOSSES[k]})


NATIVE = {
    "Scheduler": Case(lambda o: cadence.Scheduler(
        o, lr=Warmup(Cosine(steps=8), steps=3), momentum=Linear(start=1.0, end=0.9, steps=10),
        weight_decay={0: Constant(1.0), 1: Cosine(start=1.0, end=0.1, steps=10)})),
    "PlateauScheduler": Case(lambda o: cadence.Scheduler(
        o, lr=Cosine(steps=20), plateau=cadence.ReduceOnPlateau(factor=0.5, patience=1)),
        metric, predictable=False),
    "WarmRestartScheduler": Case(lambda o: WarmRestartScheduler(o, warmup_steps=3, T_0=4,
                                                                T_mult=2, gamma=0.9)),
}

TORCH = {
    "ChainedScheduler": Case(lambda o: C.ChainedScheduler(
        [C.ConstantLR(o, factor=0.5, total_iters=3), C.ExponentialLR(o, gamma=0.9)])),
    "ConstantLR": Case(lambda o: C.ConstantLR(o, factor=0.5, total_iters=4)),
    "CosineAnnealingLR": Case(lambda o: C.CosineAnnealingLR(o, T_max=5, eta_min=0.001)),
    "CosineAnnealingWarmRestarts": Case(lambda o: C.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.001)),
    "CyclicLR": Case(lambda o: C.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3)),
    "ExponentialLR": Case(lambda o: C.ExponentialLR(o, gamma=0.8)),
    "LambdaLR": Case(lambda o: C.LambdaLR(o, lr_lambda=Cosine(steps=10))),
    "LinearLR": Case(lambda o: C.LinearLR(o, start_factor=0.25, total_iters=6)),
    "MultiStepLR": Case(lambda o: C.MultiStepLR(o, milestones=[3, 7], gamma=0.5)),
    "MultiplicativeLR": Case(lambda o: C.MultiplicativeLR(o, lr_lambda=_times_09)),
    "OneCycleLR": Case(lambda o: C.OneCycleLR(o, max_lr=0.2, total_steps=STEPS + 1)),
    "PolynomialLR": Case(lambda o: C.PolynomialLR(o, total_iters=8, power=2.0)),
    "ReduceLROnPlateau": Case(lambda o: C.ReduceLROnPlateau(o, factor=0.5, patience=1), metric,
                              predictable=False),
    "SequentialLR": Case(lambda o: C.SequentialLR(
        o, [C.LinearLR(o, start_factor=0.1, total_iters=4), C.ExponentialLR(o, gamma=0.9)],
        milestones=[4])),
    "StepLR": Case(lambda o: C.StepLR(o, step_size=3, gamma=0.5)),
}


def _times_09(epoch: int) -> float:
    return 0.9


def _mm(name: str, param: str | None, **kwargs: Any) -> Case:
    cls = getattr(M, name)
    named = {} if param is None else {"param_name": param}
    plateau = "ReduceOnPlateau" in name
    return Case(lambda o: cls(o, **named, **kwargs), mm_metric if plateau else
                (lambda sched, k: sched.step()), predictable=not plateau)


MM_SETTINGS: dict[str, dict[str, Any]] = {
    "Constant": dict(factor=0.5, end=4),
    "CosineAnnealing": dict(T_max=6, eta_min=0.0, end=8),
    "CosineRestart": dict(periods=[3, 5], restart_weights=[1.0, 0.5], eta_min=0.0),
    "Exponential": dict(gamma=0.8),
    "Linear": dict(start_factor=0.25, end=6),
    "MultiStep": dict(milestones=[3, 7], gamma=0.5),
    "OneCycle": dict(eta_max=0.2, total_steps=STEPS + 1),
    "Poly": dict(eta_min=0.0, power=2.0, end=8),
    "ReduceOnPlateau": dict(monitor="loss", factor=0.5, patience=1),
    "Step": dict(step_size=3, gamma=0.5),
}
MMENGINE = {}
for family, settings in MM_SETTINGS.items():
    MMENGINE[f"{family}LR"] = _mm(f"{family}LR", None, **settings)
    if family != "OneCycle":  # MMEngine's one cycle is for the lr only
        MMENGINE[f"{family}Momentum"] = _mm(f"{family}Momentum", None, **settings)
    param = "lr" if family == "OneCycle" else "weight_decay"
    MMENGINE[f"{family}ParamScheduler"] = _mm(f"{family}ParamScheduler", param, **settings)

CASES = {**NATIVE, **{f"torch.{k}": v for k, v in TORCH.items()},
         **{f"mmengine.{k}": v for k, v in MMENGINE.items()}}


def test_every_drop_in_class_has_a_case():
    """A drop-in added to either family is added here too."""
    torch_classes = {n for n in C.__all__ if isinstance(getattr(C, n), type)
                     and issubclass(getattr(C, n), torch.optim.lr_scheduler.LRScheduler)}
    assert torch_classes - {"LRScheduler", "_LRScheduler"} == set(TORCH)
    mm_classes = {n for n in M.__all__ if isinstance(getattr(M, n), type)}
    assert mm_classes - {"ParamScheduler"} == set(MMENGINE)


def held(group: dict[str, Any], name: str) -> float:
    """What a param group holds for ``name`` (momentum is ``betas[0]`` on Adam), read
    directly."""
    if name == "momentum" and "momentum" not in group:
        return float(group["betas"][0])
    return float(group[name])


def assert_groups_hold(sched: Any, values: dict[str, Any], when: str) -> None:
    groups = sched.optimizer.param_groups
    for name in sched.hyperparameters:
        expected = [math.nan if v is None else float(v) for v in values[name]]
        got = [held(g, name) if not math.isnan(e) else math.nan
               for g, e in zip(groups, expected)]
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15,
                                   err_msg=f"{name!r} {when}")


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_it_is_a_readable_scheduler(case):
    sched = case.make(optimizer())
    assert isinstance(sched, ReadableScheduler)
    names = sched.hyperparameters
    assert isinstance(names, tuple) and names and all(isinstance(n, str) for n in names)
    assert isinstance(sched.targets, tuple)
    groups = len(sched.optimizer.param_groups)
    for name in names:
        schedules, bases = sched.schedules(name), sched.bases(name)
        assert len(schedules) == len(bases) == groups
        assert all(s is None or isinstance(s, cadence.schedules.Schedule) for s in schedules)
        assert isinstance(sched.span(name), Span)
    with pytest.raises(KeyError):
        sched.schedules("no such name")
    if not sched.targets:
        with pytest.raises(KeyError):
            sched.places("no such target")


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_value_at_agrees_with_the_groups(case):
    opt = optimizer()
    sched = case.make(opt)
    ahead = sched.value_at(np.arange(STEPS + 1)) if case.predictable else None
    for k in range(STEPS + 1):
        if k:
            opt.step()
            case.advance(sched, k - 1)
        step = sched.current_step
        assert step == k
        assert_groups_hold(sched, sched.value_at(step), f"at step {k}")
        now = sched.current_values()
        assert_groups_hold(sched, {n: now[n] for n in sched.hyperparameters},
                           f"(current_values) at step {k}")
        if ahead is not None:
            assert_groups_hold(sched, {n: ahead[n][k] for n in sched.hyperparameters},
                               f"(asked before the first step) at step {k}")
