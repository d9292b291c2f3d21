"""What targets add to a ``Scheduler.step()``: an attribute, a tensor filled in place, every
dropout of a model, and an EMA decay, against the same values written by a hand-written loop.

The scheduler drives an lr (warm-up + cosine) on one param group, with ``count="calls"`` so
that ``step()`` does the work the optimizer's hook does after each update. The hand-written
loop is what a training script does without cadence: compute each formula and assign it
(nothing checked, nothing saved).

Run: ``.venv/bin/python bench/bench_targets.py``
"""

from __future__ import annotations

import argparse
import math

import torch
from bench_scheduler import per_step_us  # the same timing (the script's folder is on the path)

import cadence
from cadence.schedules import Cosine, EMAWarmup, Linear, Warmup

STEPS, DROPOUTS = 10_000, 24


def model() -> torch.nn.Module:
    layers = [torch.nn.Dropout(0.1) for _ in range(DROPOUTS)]
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), *layers)
    net.register_buffer("temperature", torch.tensor(2.0))
    return net


class Loss:
    kl_weight = 0.0


def scheduled(kinds: tuple[str, ...]) -> object:
    net, loss, update = model(), Loss(), cadence.EMAUpdate()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    places: dict[str, object] = {
        "kl_weight": cadence.Attribute(loss, "kl_weight"),
        "temperature": cadence.Attribute(net, "temperature"),  # a buffer, filled in place
        "dropout": cadence.Modules(net, "p", type=torch.nn.Dropout), "ema_decay": update}
    schedules = {"kl_weight": Linear(start=0.0, end=1.0, steps=STEPS),
                 "temperature": Cosine(start=1.0, end=0.5, steps=STEPS),
                 "dropout": Linear(start=0.0, end=1.0, steps=STEPS),
                 "ema_decay": EMAWarmup(end=0.999)}
    sched = cadence.Scheduler(
        opt, lr=Warmup(Cosine(steps=STEPS), steps=100), count="calls",
        targets={k: places[k] for k in kinds}, absolute=[k for k in ("kl_weight", "ema_decay")
                                                         if k in kinds],
        **{k: schedules[k] for k in kinds})
    return sched.step


def by_hand() -> object:
    """The four values of the last row, written the way a training script writes them."""
    net, loss = model(), Loss()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    dropouts = [m for m in net.modules() if isinstance(m, torch.nn.Dropout)]
    bases = [m.p for m in dropouts]
    state = {"t": 0, "decay": 0.0}

    def step() -> None:
        t = state["t"] = state["t"] + 1
        warm = min(t / 100, 1.0)
        opt.param_groups[0]["lr"] = 0.1 * (warm if t < 100 else
                                           0.5 * (1 + math.cos(math.pi * min(t - 100, STEPS)
                                                               / STEPS)))
        loss.kl_weight = min(t / STEPS, 1.0)
        with torch.no_grad():
            net.temperature.fill_(2.0 * (0.5 + 0.25 * (1 + math.cos(math.pi * min(t, STEPS)
                                                                    / STEPS))))
        for m, base in zip(dropouts, bases):
            m.p = base * min(t / STEPS, 1.0)
        state["decay"] = min(0.999, 1 - (1 + t) ** (-2 / 3))

    return step


ROWS = [("lr only", ()), ("+ an attribute", ("kl_weight",)),
        ("+ a tensor (fill_)", ("kl_weight", "temperature")),
        (f"+ {DROPOUTS} dropouts", ("kl_weight", "temperature", "dropout")),
        ("+ an EMA decay", ("kl_weight", "temperature", "dropout", "ema_decay"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per figure (7)")
    parser.add_argument("--steps", type=int, default=5_000, help="steps per run (5000)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}; microseconds per step() (median of {args.repeat} runs)")
    for label, kinds in ROWS:
        cost = per_step_us(scheduled(kinds), args.steps, args.repeat)
        print(f"  cadence, {label:<22} {cost:7.2f}")
    cost = per_step_us(by_hand(), args.steps, args.repeat)
    print(f"  by hand, the same five values  {cost:7.2f}")


if __name__ == "__main__":
    main()
