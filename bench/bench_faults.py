"""Costs that must not grow with a run's history, side by side with PyTorch in one run.

(a) Reduce on plateau on a flat loss, stepped 20,000 times: a reduction every 11 steps
(``patience=10``), so about 1,800 of them by the end. PyTorch's
``ReduceLROnPlateau(patience=10)``, cadence's drop-in of the same name, and the native
``Scheduler(opt, lr=Linear(start=1, end=0.5, steps=30000), count="calls",
plateau=ReduceOnPlateau(patience=10))``, each ``step(1.0)``: microseconds per step over the
first and over the last 1,000 steps, and their ratio (1.0: no growth).

(b) ``optimizer.step()`` (SGD, one parameter of 1,000 floats, no scheduler) on a fresh
optimizer, after 10,000 ``cadence.Scheduler(count="updates")`` were built on it and dropped
(each registered a step hook; a dropped one must leave none), and after 10,000 PyTorch
``LambdaLR`` were: microseconds per step and the step hooks the optimizer still holds.

Medians of several runs. Run: ``.venv/bin/python bench/bench_faults.py``
Targets (issue 8/9): native plateau last/first near 1 (before the reductions were a closed form
it was 12 µs over the first 1,000 steps and 287 µs over the last, 24x); ``optimizer.step()``
after dropped cadence schedulers within noise of a fresh one, no hooks left.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch.optim import lr_scheduler as T

import cadence
from cadence.compat import lr_scheduler as C
from cadence.schedules import Linear

STEPS, WINDOW, DROPPED = 20_000, 1_000, 10_000


def sgd(size: int = 1) -> torch.optim.SGD:
    param = torch.nn.Parameter(torch.zeros(size))
    param.grad = torch.ones(size)
    return torch.optim.SGD([param], lr=0.1)


def plateaus() -> dict[str, Callable[[torch.optim.Optimizer], Any]]:
    return {
        "PyTorch ReduceLROnPlateau": lambda opt: T.ReduceLROnPlateau(opt, patience=10),
        "cadence.compat drop-in": lambda opt: C.ReduceLROnPlateau(opt, patience=10),
        "cadence.Scheduler(plateau=)": lambda opt: cadence.Scheduler(
            opt, lr=Linear(start=1, end=0.5, steps=30_000), count="calls",
            plateau=cadence.ReduceOnPlateau(patience=10)),
    }


def plateau_run(make: Callable[[torch.optim.Optimizer], Any]) -> tuple[float, float, float]:
    """µs per ``step(1.0)`` over the first and the last ``WINDOW`` of ``STEPS`` steps, and the
    lr at the end."""
    opt = sgd()
    scheduler = make(opt)
    step = scheduler.step
    marks = []
    began = time.perf_counter()
    for i in range(1, STEPS + 1):
        step(1.0)
        if i in (WINDOW, STEPS - WINDOW, STEPS):
            marks.append(time.perf_counter())
    first = (marks[0] - began) / WINDOW * 1e6
    last = (marks[2] - marks[1]) / WINDOW * 1e6
    return first, last, float(opt.param_groups[0]["lr"])


def step_us(opt: torch.optim.Optimizer, steps: int, repeat: int) -> float:
    """Median over ``repeat`` runs of the mean time of one ``opt.step()``, in µs."""
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        for _ in range(steps):
            opt.step()
        runs.append((time.perf_counter() - began) / steps)
    return statistics.median(runs) * 1e6


def after_dropping(make: Callable[[torch.optim.Optimizer], Any] | None,
                   steps: int, repeat: int) -> tuple[float, int]:
    """``optimizer.step()`` µs after ``DROPPED`` schedulers from ``make`` were built on the
    optimizer and dropped (none if ``make`` is None), and the step hooks it then holds."""
    opt = sgd(1000)
    if make is not None:
        for _ in range(DROPPED):
            make(opt)
    gc.collect()
    hooks = len(opt._optimizer_step_post_hooks)
    return step_us(opt, steps, repeat), hooks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # PyTorch's step-order chatter is not what is measured
    print(f"torch {torch.__version__}; (a) reduce on plateau, flat loss, {STEPS:,} step(1.0), "
          f"µs per step over the first and the last {WINDOW:,} (median of {args.repeat})")
    print(f"{'':28} | {'first':>8} {'last':>8} {'last/first':>10} | {'final lr':>10}")
    for name, make in plateaus().items():
        runs = [plateau_run(make) for _ in range(args.repeat)]
        first = statistics.median(r[0] for r in runs)
        last = statistics.median(r[1] for r in runs)
        print(f"{name:28} | {first:8.2f} {last:8.2f} {last / first:9.2f}x | {runs[0][2]:10.3g}")
    print(f"\n(b) optimizer.step() (SGD, 1,000 floats), µs per step (median of {args.repeat}), "
          f"after {DROPPED:,} schedulers were built on it and dropped")
    print(f"{'':34} | {'step µs':>8} {'vs fresh':>8} | {'hooks left':>10}")
    cases: dict[str, Callable[[torch.optim.Optimizer], Any] | None] = {
        "fresh optimizer": None,
        "cadence.Scheduler(count='updates')": lambda opt: cadence.Scheduler(
            opt, lr=Linear(start=1, end=0.5, steps=1000)),
        "PyTorch LambdaLR": lambda opt: T.LambdaLR(opt, lambda t: 1.0),
    }
    fresh = None
    for name, make in cases.items():
        us, hooks = after_dropping(make, 2000, args.repeat)
        fresh = us if fresh is None else fresh
        print(f"{name:34} | {us:8.2f} {us / fresh:7.2f}x | {hooks:10d}")


if __name__ == "__main__":
    main()
