"""Per-step cost of ``Scheduler.step()`` against PyTorch and against the floor.

An lr schedule of linear warm-up + cosine annealing with warm restarts drives SGD with 1, 10,
100 and 1000 param groups. Side by side, in one run:

- PyTorch: ``SequentialLR(LinearLR, CosineAnnealingWarmRestarts).step()``;
- the floor: a loop that only writes precomputed floats into the groups;
- cadence: ``Scheduler(opt, lr=join([Linear, CosineRestarts])).step()``;

first with float lrs, then with tensor lrs (``lr=torch.tensor(...)`` in every group). Those
time ``count="calls"``, where ``step()`` moves the schedule; with the default
``count="updates"`` the optimizer's step hook does the same work, and the last column is what
that hook adds to one ``optimizer.step()`` (float lrs). Every
group has its own base lr (0.1 * 0.999**i), the harder case for a relative scheduler: each group
gets its own product ``base * factor``.

Run: ``.venv/bin/python bench/bench_scheduler.py``
Targets (issue 3): at most 2x the floor at 1000 groups with float lrs; under 1 ms per step at
1000 groups with tensor lrs; never slower than PyTorch at any size.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch
from torch.optim import lr_scheduler as L

from cadence import Scheduler
from cadence.schedules import CosineRestarts, Linear, join

WARMUP, T_0, T_MULT = 100, 200, 2
SIZES = (1, 10, 100, 1000)


def make_optimizer(groups: int, tensor_lr: bool) -> torch.optim.SGD:
    """Every group with its own base lr (layer-wise decay): no two groups share a value."""
    lrs = [0.1 * 0.999**i for i in range(groups)]
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))],
               "lr": torch.tensor(lr) if tensor_lr else lr} for lr in lrs]
    return torch.optim.SGD(params, lr=0.1)


def per_step_us(step: object, steps: int, repeat: int) -> float:
    """Median over ``repeat`` runs of the mean time of one call, in microseconds."""
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        for _ in range(steps):
            step()  # type: ignore[operator]
        runs.append((time.perf_counter() - began) / steps)
    return statistics.median(runs) * 1e6


def torch_step(groups: int, tensor_lr: bool) -> object:
    opt = make_optimizer(groups, tensor_lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seq = L.SequentialLR(opt, [L.LinearLR(opt, 0.05, total_iters=WARMUP),
                                   L.CosineAnnealingWarmRestarts(opt, T_0, T_MULT)],
                             milestones=[WARMUP])
    seq.step()  # past the first-step order warning
    return seq.step


def schedule() -> object:
    return join([Linear(start=0.05, end=1.0, steps=WARMUP),
                 CosineRestarts(period=T_0, period_mult=T_MULT)], boundaries=[WARMUP])


def cadence_step(groups: int, tensor_lr: bool) -> object:
    opt = make_optimizer(groups, tensor_lr)
    return Scheduler(opt, lr=schedule(), count="calls").step


def hook_cost_us(groups: int, steps: int, repeat: int) -> float:
    """What the scheduler's hook adds to ``optimizer.step()`` (no gradients: SGD only loops
    over its groups), in microseconds."""
    bare = make_optimizer(groups, tensor_lr=False)
    hooked = make_optimizer(groups, tensor_lr=False)
    scheduler = Scheduler(hooked, lr=schedule())  # count="updates": held, so its hook stays
    cost = per_step_us(hooked.step, steps, repeat) - per_step_us(bare.step, steps, repeat)
    assert scheduler.last_epoch > 0
    return cost


def floor_step(groups: int) -> object:
    opt = make_optimizer(groups, tensor_lr=False)
    table = [0.1 * (0.5 + 0.5 * (k % 7) / 7) for k in range(1000)]
    state = {"k": 0}
    param_groups = opt.param_groups

    def step() -> None:
        value = table[state["k"] % 1000]
        state["k"] += 1
        for group in param_groups:
            group["lr"] = value

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per figure (7)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    # PyTorch warns that its schedulers step without optimizer.step(): on purpose, since the
    # benchmark times the scheduler's step() alone.
    warnings.simplefilter("ignore", UserWarning)
    print(f"torch {torch.__version__}; microseconds per step() (median of {args.repeat} runs)")
    print(f"{'groups':>6} | {'PyTorch':>9} {'floor':>9} {'cadence':>9} | {'vs PyTorch':>10} "
          f"{'vs floor':>8} || {'PyTorch':>9} {'cadence':>9} {'vs PyTorch':>10} (tensor lrs) "
          f"|| {'hook':>6}")
    for n in SIZES:
        steps = max(200, 20_000 // n)
        t_torch = per_step_us(torch_step(n, False), steps, args.repeat)
        t_floor = per_step_us(floor_step(n), steps, args.repeat)
        t_ours = per_step_us(cadence_step(n, False), steps, args.repeat)
        tt_torch = per_step_us(torch_step(n, True), max(50, steps // 10), args.repeat)
        tt_ours = per_step_us(cadence_step(n, True), max(50, steps // 10), args.repeat)
        hook = hook_cost_us(n, steps, args.repeat)
        print(f"{n:>6} | {t_torch:9.1f} {t_floor:9.1f} {t_ours:9.1f} | "
              f"{t_torch / t_ours:9.1f}x {t_ours / t_floor:7.2f}x || "
              f"{tt_torch:9.1f} {tt_ours:9.1f} {tt_torch / tt_ours:9.1f}x{'':13}|| {hook:6.1f}")
    print("targets: cadence <= 2x floor at 1000 float groups; < 1000 us at 1000 tensor groups; "
          "faster than PyTorch at every size")


if __name__ == "__main__":
    main()
