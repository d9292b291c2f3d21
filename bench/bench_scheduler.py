"""Per-step cost of ``Scheduler.step()`` against PyTorch and against the floor.

An lr schedule of linear warm-up + cosine annealing with warm restarts drives SGD with 1, 10,
100 and 1000 param groups. Side by side, in one run:

- PyTorch: ``SequentialLR(LinearLR, CosineAnnealingWarmRestarts).step()``;
- the floor: a loop that only writes precomputed floats into the groups;
- cadence: ``Scheduler(opt, lr=join([Linear, CosineRestarts])).step()``;

first with float lrs, then with tensor lrs (``lr=torch.tensor(...)`` in every group). Those
time ``count="calls"``, where ``step()`` moves the schedule; with the default
``count="updates"`` the optimizer's step hook does the same work, and the last column is what
that hook adds to one ``optimizer.step()`` (float lrs), timed inside the step (see ``Hook``).
Every group has its own base lr (0.1 * 0.999**i), the harder case for a relative scheduler:
each group gets its own product ``base * factor``.

A second table puts the three ways a step moves the schedule against the floor (float lrs),
each timed as the floor is, in a loop of calls, each run right after a run of the floor and
its ratio taken to that run (medians of both):

- updates: the default clock, the hook that ``optimizer.step()`` runs after each update,
  called in a loop (inside a real step, after its work, it takes longer: the last column above);
- calls: ``Scheduler(..., count="calls").step()`` (as above);
- all-in-one: seed 000's ``WarmRestartScheduler(opt).step()`` (its defaults: warm-up, warm
  restarts with a decay, the lr between 0.2x and 2x each group's base: ``low + span * f``).

Run: ``.venv/bin/python bench/bench_scheduler.py``
Targets (issue 3): at most 2x the floor at 1000 groups with float lrs, for each of updates,
calls and all-in-one; under 1 ms per step at 1000 groups with tensor lrs; never slower than
PyTorch at any size.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable

import torch
from torch.optim import lr_scheduler as L

from cadence import Scheduler, WarmRestartScheduler
from cadence.scheduler.updates import UpdateCounter
from cadence.schedules import CosineRestarts, Linear, join

WARMUP, T_0, T_MULT = 100, 200, 2
SIZES = (1, 10, 100, 1000)


def make_optimizer(groups: int, tensor_lr: bool) -> torch.optim.SGD:
    """Every group with its own base lr (layer-wise decay): no two groups share a value."""
    lrs = [0.1 * 0.999**i for i in range(groups)]
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))],
               "lr": torch.tensor(lr) if tensor_lr else lr} for lr in lrs]
    return torch.optim.SGD(params, lr=0.1)


def time_us(step: object, steps: int) -> float:
    """The mean time of one call over ``steps`` calls, in microseconds."""
    began = time.perf_counter()
    for _ in range(steps):
        step()  # type: ignore[operator]
    return (time.perf_counter() - began) / steps * 1e6


def per_step_us(step: object, steps: int, repeat: int) -> float:
    """Median over ``repeat`` runs of the mean time of one call, in microseconds."""
    return statistics.median(time_us(step, steps) for _ in range(repeat))


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


def all_in_one_step(groups: int) -> object:
    return WarmRestartScheduler(make_optimizer(groups, tensor_lr=False)).step


class Stopwatch:
    """A pair of optimizer step post hooks: ``start``, registered before others, and
    ``stop``, after them, add up the time the hooks between them take."""

    def __init__(self) -> None:
        self.total = self.began = 0.0

    def start(self, *args: object) -> None:
        self.began = time.perf_counter()

    def stop(self, *args: object) -> None:
        self.total += time.perf_counter() - self.began


class Hook:
    """What the default clock's hook adds to one ``optimizer.step()`` of SGD (no gradients:
    its step reads every group and updates nothing), timed inside the step between two post
    hooks around the scheduler's (``count="updates"``), less the same pair on a bare SGD.
    Timing the whole steps instead would subtract two figures of milliseconds at 1000 groups,
    whose noise swamps the hook's tens of microseconds."""

    def __init__(self, groups: int) -> None:
        self.runs = []
        for scheduled in (False, True):
            optimizer, watch = make_optimizer(groups, tensor_lr=False), Stopwatch()
            optimizer.register_step_post_hook(watch.start)
            if scheduled:  # held, so its hook stays
                self.scheduler = Scheduler(optimizer, lr=schedule())
            optimizer.register_step_post_hook(watch.stop)
            self.runs.append((optimizer, watch))

    def __call__(self, steps: int) -> float:
        took = []
        for optimizer, watch in self.runs:
            watch.total = 0.0
            for _ in range(steps):
                optimizer.step()
            took.append(watch.total / steps * 1e6)
        assert self.scheduler.last_epoch > 0
        return took[1] - took[0]


def hook_cost_us(groups: int, steps: int, repeat: int) -> float:
    """What the scheduler's hook adds to ``optimizer.step()``, in microseconds (median)."""
    hook = Hook(groups)
    return statistics.median(hook(steps) for _ in range(repeat))


class Updates:
    """The default clock's work per optimizer update: the scheduler's hook (an
    ``UpdateCounter``), called as ``optimizer.step()`` calls it, one call after another as the
    floor's loop and the other steps are timed."""

    def __init__(self, groups: int) -> None:
        self.optimizer = make_optimizer(groups, tensor_lr=False)
        self.scheduler = Scheduler(self.optimizer, lr=schedule())  # held: the hook's is weak
        self.hook = UpdateCounter(self.scheduler)

    def __call__(self) -> None:
        self.hook(self.optimizer, (), {})


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


def timer(step: object) -> Callable[[int], float]:
    """A run of ``step``: ``steps`` calls, timed."""
    return lambda steps: time_us(step, steps)


def against_floor(groups: int, steps: int, repeat: int) -> dict[str, tuple[float, float]]:
    """Each way a step moves the schedule, and the floor: ``{name: (microseconds, times the
    floor)}``, medians over ``repeat`` runs; each run is timed right after a run of the floor,
    and its ratio is to that run (a machine that gets busier slows both alike)."""
    floor = floor_step(groups)
    timed: dict[str, Callable[[int], float]] = {
        "updates": timer(Updates(groups)),
        "calls": timer(cadence_step(groups, False)),
        "all-in-one": timer(all_in_one_step(groups)),
    }
    floors: list[float] = []
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in timed}
    for _ in range(repeat):
        for name, run in timed.items():
            floors.append(time_us(floor, steps))
            took = run(steps)
            runs[name].append((took, took / floors[-1]))
    out = {"floor": (statistics.median(floors), 1.0)}
    for name, pairs in runs.items():
        out[name] = (statistics.median(t for t, _ in pairs),
                     statistics.median(r for _, r in pairs))
    return out


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
    floors = {}
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
        floors[n] = against_floor(n, steps, args.repeat)
    print("targets: cadence <= 2x floor at 1000 float groups; < 1000 us at 1000 tensor groups; "
          "faster than PyTorch at every size")
    print()
    print("against the floor (float lrs): updates = the hook of optimizer.step() (default "
          "clock), calls = step() with count='calls', all-in-one = WarmRestartScheduler.step()")
    print(f"{'groups':>6} | {'floor':>7} | {'updates':>8} {'vs floor':>8} | {'calls':>8} "
          f"{'vs floor':>8} | {'all-in-one':>10} {'vs floor':>8}")
    for n, t in floors.items():
        print(f"{n:>6} | {t['floor'][0]:7.1f} | "
              + " | ".join(f"{t[k][0]:{w}.1f} {t[k][1]:7.2f}x"
                           for k, w in (("updates", 8), ("calls", 8), ("all-in-one", 10))))
    print("targets: updates, calls and all-in-one each <= 2x the floor at 1000 groups")


if __name__ == "__main__":
    main()
