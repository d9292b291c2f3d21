"""Schedule layer speed: a million-step curve as one array, and one scalar evaluation.

The composite is a linear warm-up followed by cosine annealing with warm restarts. PyTorch
produces the same curve by stepping ``SequentialLR(LinearLR, CosineAnnealingWarmRestarts)``
once per step; cadence evaluates the closed form on ``np.arange(steps)``. Both run here, side
by side, and the script prints the times, the ratio and the largest relative difference.

Run: ``.venv/bin/python bench/bench_schedules.py [--steps N]``
Targets (issue 2): array >= 100x faster than stepping PyTorch; scalar median < 1.5 us.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import warnings

import numpy as np
import torch

from cadence.schedules import CosineRestarts, Linear, join

BASE_LR = 0.1
WARMUP, START_FACTOR = 1_000, 0.05
T_0, T_MULT, ETA_MIN = 2_000, 2, 0.005


def cadence_schedule() -> object:
    return join(
        [
            Linear(start=START_FACTOR, end=1.0, steps=WARMUP),
            CosineRestarts(period=T_0, period_mult=T_MULT, low=ETA_MIN / BASE_LR),
        ],
        boundaries=[WARMUP],
    )


def torch_curve(steps: int) -> tuple[np.ndarray, float]:
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=BASE_LR)
    sched = torch.optim.lr_scheduler
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stepping without optimizer.step() on purpose
        seq = sched.SequentialLR(
            opt,
            [
                sched.LinearLR(opt, start_factor=START_FACTOR, total_iters=WARMUP),
                sched.CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_MULT, eta_min=ETA_MIN),
            ],
            milestones=[WARMUP],
        )
        out = np.empty(steps)
        group = opt.param_groups[0]
        began = time.perf_counter()
        for i in range(steps):
            out[i] = group["lr"]
            seq.step()
        elapsed = time.perf_counter() - began
    return out, elapsed


def best_of(fn: object, repeat: int) -> tuple[object, float]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()  # type: ignore[operator]
        times.append(time.perf_counter() - began)
    return result, min(times)


def numpy_closed_form(steps: int) -> np.ndarray:
    """Context only: a plain numpy warm-up + (single) cosine, the textbook way."""
    t = np.arange(steps, dtype=np.float64)
    warm = START_FACTOR + (1 - START_FACTOR) * t / WARMUP
    cos = 0.5 * (1 + np.cos(np.pi * np.minimum(t - WARMUP, steps) / steps))
    return BASE_LR * np.where(t < WARMUP, warm, cos)


def scalar_median_us(schedule: object, repeat: int = 200, batch: int = 1_000) -> float:
    rng = np.random.default_rng(0)
    steps = [int(s) for s in rng.integers(0, 10**6, size=batch)]
    per_call = []
    for _ in range(repeat):
        began = time.perf_counter()
        for s in steps:
            schedule(s)  # type: ignore[operator]
        per_call.append((time.perf_counter() - began) / batch)
    return statistics.median(per_call) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000_000, help="curve length (1,000,000)")
    args = parser.parse_args()
    n = args.steps
    schedule = cadence_schedule()
    steps = np.arange(n)

    print(f"warm-up ({WARMUP} steps from {START_FACTOR}) + cosine restarts "
          f"(T_0={T_0}, T_mult={T_MULT}, eta_min={ETA_MIN}), {n:,} steps, "
          f"torch {torch.__version__}")
    ref, torch_s = torch_curve(n)
    print(f"  PyTorch SequentialLR stepped     {torch_s * 1e3:10.1f} ms")
    curve, cadence_s = best_of(lambda: BASE_LR * schedule(steps), repeat=7)  # type: ignore[operator]
    print(f"  cadence, one array               {cadence_s * 1e3:10.1f} ms")
    _, numpy_s = best_of(lambda: numpy_closed_form(n), repeat=7)
    print(f"  plain numpy warm-up+cosine       {numpy_s * 1e3:10.1f} ms   (context)")
    rel = np.abs(np.asarray(curve) - ref) / np.abs(ref)
    worst = int(np.argmax(rel))
    print(f"  speed-up over PyTorch            {torch_s / cadence_s:10.0f} x   (target >= 100 x)")
    print(f"  max relative difference          {rel.max():10.2e}   (at step {worst:,})")

    median = scalar_median_us(schedule)
    print(f"  one scalar evaluation, median    {median:10.3f} us  (target < 1.5 us)")
    assert math.isfinite(median)


if __name__ == "__main__":
    main()
