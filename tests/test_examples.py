"""examples/tour.py runs as its docstring says and prints what it claims."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cadence.schedules import CosineRestarts, Linear, join

TOUR = Path(__file__).resolve().parents[1] / "examples" / "tour.py"


def test_the_tour_runs_and_prints_the_schedule_values():
    done = subprocess.run([sys.executable, str(TOUR)], capture_output=True, text=True,
                          timeout=120, check=True)
    lr = join([Linear(start=0.05, end=1.0, steps=100),
               CosineRestarts(period=200, period_mult=2, decay=0.97, low=0.2, high=2.0)],
              boundaries=[100])
    for step in (0, 50, 100, 300, 1500):
        assert f"{step:>4}  {lr(step):.6f}" in done.stdout
    assert "a million steps as one array" in done.stdout
    assert '"type": "join"' in done.stdout
