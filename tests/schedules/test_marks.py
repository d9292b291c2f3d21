"""Landmarks of schedules: phase ends, restarts, milestones."""

from __future__ import annotations

import pytest

from cadence.schedules import (
    WSD,
    Cosine,
    CosineRestarts,
    Cyclic,
    Linear,
    Mark,
    MultiStep,
    Noam,
    OneCycle,
    Quantize,
    Repeat,
    Step,
    Stretch,
    Warmup,
    join,
)


def test_every_example_gives_tidy_marks(example):
    _, schedule, _ = example
    marks = schedule.marks(5000)
    assert marks == sorted(set(marks))
    assert all(0 < m.step <= 5000 and m.kind in ("phase", "restart", "milestone", "branch")
               for m in marks)
    assert len(schedule.marks(10**9)) <= 256


@pytest.mark.parametrize(
    ("schedule", "horizon", "expected"),
    [
        (Cosine(steps=100), 200, [(100, "phase")]),
        (Cosine(steps=100), 50, []),
        (Step(every=30, gamma=0.5), 100, [(30, "milestone"), (60, "milestone"), (90, "milestone")]),
        (MultiStep(milestones=[0, 50, 80]), 60, [(50, "milestone")]),
        (CosineRestarts(period=1, period_mult=2), 8, [(1, "restart"), (3, "restart"), (7, "restart")]),
        (CosineRestarts(period=10, cycles=2), 100, [(10, "restart"), (20, "phase")]),
        (Cyclic(start=0.1, peak=1.0, up_steps=5, down_steps=10), 40, [(15, "restart"), (30, "restart")]),
        (Noam(d_model=8, warmup_steps=40), 100, [(40, "phase")]),
        (OneCycle(total_steps=101, pct_start=0.5), 200, [(49.5, "phase"), (100, "phase")]),
        (WSD(warmup_steps=10, decay_steps=20, total_steps=100), 200,
         [(10, "phase"), (80, "phase"), (100, "phase")]),
        (Warmup(Step(every=30, gamma=0.5), steps=10), 80, [(10, "phase"), (40, "milestone"), (70, "milestone")]),
        (join([Linear(start=0.0, end=1.0, steps=10), CosineRestarts(period=20)], [10]), 60,
         [(10, "phase"), (30, "restart"), (50, "restart")]),
        (Repeat(Linear(start=1.0, end=0.0, steps=5), period=10), 25,
         [(5, "phase"), (10, "restart"), (15, "phase"), (20, "restart"), (25, "phase")]),
        (Stretch(Step(every=10, gamma=0.5), factor=3), 70, [(30, "milestone"), (60, "milestone")]),
        (Quantize(MultiStep(milestones=[2.5, 4]), every=10), 100, [(30, "milestone"), (40, "milestone")]),
    ],
)
def test_marks(schedule, horizon, expected):
    assert schedule.marks(horizon) == [Mark(float(s), k) for s, k in expected]
