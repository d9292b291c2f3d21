"""The drop-ins at scale: many param groups with distinct base lrs (layer-wise lr decay).

For 1, 100, 1,000 and 10,000 param groups (group ``i`` with lr ``0.1 * 0.999**i``), side by
side in one run, PyTorch's ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=1000,
eta_min=1e-5)`` and cadence's drop-in of the same name:

- build: constructing the scheduler on a fresh optimizer (its first write included);
- step: one ``step()`` (after ``optimizer.step()`` was seen once, so no warning path);
- state round trip: ``state_dict()``, ``torch.save`` to memory, ``torch.load(weights_only=True)``
  and ``load_state_dict`` into a second scheduler, then one ``step()`` of it.

Medians of several runs, in microseconds. Run: ``.venv/bin/python bench/bench_groups.py``
Targets (issue 8): build and round trip within 2x of PyTorch at 1,000 groups; ``step()`` faster
than PyTorch at every size.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch.optim import lr_scheduler as T

from cadence.compat import lr_scheduler as C

SIZES = (1, 100, 1000, 10_000)


def make_optimizer(groups: int) -> torch.optim.SGD:
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1 * 0.999**i}
              for i in range(groups)]
    optimizer = torch.optim.SGD(params, lr=0.1)
    optimizer.step()  # so neither scheduler takes its "step() before optimizer.step()" path
    return optimizer


def make(module: Any, optimizer: torch.optim.Optimizer) -> Any:
    return module.CosineAnnealingLR(optimizer, T_max=1000, eta_min=1e-5)


def median_us(run: Callable[[], object], repeat: int, setup: Callable[[], Any] | None = None,
              inner: int = 1) -> float:
    """Median over ``repeat`` runs of the time of ``run`` (``inner`` calls each), in µs; each
    run after a fresh ``setup()`` when given (not timed)."""
    times = []
    for _ in range(repeat):
        arg = setup() if setup is not None else None
        began = time.perf_counter()
        for _ in range(inner):
            run() if arg is None else run(arg)  # type: ignore[call-arg]
        times.append((time.perf_counter() - began) / inner)
    return statistics.median(times) * 1e6


def measure(module: Any, groups: int, repeat: int) -> tuple[float, float, float]:
    build = median_us(lambda opt: make(module, opt), repeat,  # type: ignore[arg-type, misc]
                      setup=lambda: make_optimizer(groups))
    optimizer = make_optimizer(groups)
    scheduler = make(module, optimizer)
    scheduler.step()
    steps = max(3, 20_000 // groups)
    step = median_us(scheduler.step, repeat, inner=steps)
    other = make(module, make_optimizer(groups))
    other.step()

    def round_trip() -> None:
        buffer = io.BytesIO()
        torch.save(scheduler.state_dict(), buffer)
        buffer.seek(0)
        other.load_state_dict(torch.load(buffer, weights_only=True))
        other.step()

    trip = median_us(round_trip, repeat)
    return build, step, trip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per figure (median)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="numbers of param groups")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # PyTorch's deprecation chatter is not what is measured
    print(f"{'groups':>7} | {'build µs: torch':>15} {'cadence':>9} {'ratio':>6} | "
          f"{'step µs: torch':>14} {'cadence':>9} {'speed-up':>8} | "
          f"{'round trip µs: torch':>20} {'cadence':>9} {'ratio':>6}")
    for groups in args.sizes:
        repeat = args.repeat if groups < 10_000 else max(3, args.repeat // 2)
        tb, ts, tt = measure(T, groups, repeat)
        cb, cs, ct = measure(C, groups, repeat)
        print(f"{groups:>7} | {tb:>15.1f} {cb:>9.1f} {cb / tb:>5.2f}x | {ts:>14.1f} {cs:>9.1f} "
              f"{ts / cs:>7.2f}x | {tt:>20.1f} {ct:>9.1f} {ct / tt:>5.2f}x")


if __name__ == "__main__":
    main()
