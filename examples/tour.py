"""A short tour of cadence's schedule layer: compose, evaluate, save, preview.

Run: ``.venv/bin/python examples/tour.py`` (the test suite runs it, tests/test_examples.py).
``make demo`` is something else: the built-in training experiment.
"""

from __future__ import annotations

import json

import numpy as np

import cadence
from cadence.schedules import CosineRestarts, Linear, Step, Warmup, join
from cadence.tools import preview, sparkline


def main() -> None:
    # A warm-up from 5% into cosine restarts that double in length and lose 3% of their
    # height at each restart, between 0.2x and 2x of the base lr.
    lr = join(
        [Linear(start=0.05, end=1.0, steps=100),
         CosineRestarts(period=200, period_mult=2, decay=0.97, low=0.2, high=2.0)],
        boundaries=[100],
    )
    print("schedule:", lr)
    print()
    print("step    factor")
    for step in (0, 50, 100, 200, 299, 300, 700, 1500):
        print(f"{step:>4}  {lr(step):.6f}")
    curve = lr(np.arange(1_000_000))
    print(f"\na million steps as one array: min {curve.min():.4f}, max {curve.max():.4f}")

    print("\nas a config (JSON):")
    config = lr.to_config()
    print(json.dumps(config))
    assert cadence.from_config(config) == lr

    print()
    print(preview(lr, steps=1500, title="warm-up + cosine restarts, 1500 steps"))
    print()
    step_decay = Warmup(Step(every=300, gamma=0.5), steps=50)
    print(f"warm-up + step decay  {sparkline(step_decay, steps=1500)}")


if __name__ == "__main__":
    main()
