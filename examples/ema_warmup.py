"""An EMA of the weights whose decay warms up, moved by the same Scheduler as the lr.

A small MLP (with BatchNorm) learns a regression on generated data with AdamW and a warm-up +
cosine lr. ``torch.optim.swa_utils.AveragedModel`` keeps an exponential moving average of its
weights and BatchNorm statistics (``use_buffers=True``). Its averaging function is
``cadence.EMAUpdate()``, which is also one of the Scheduler's targets. Its decay follows
``EMAWarmup(end, gamma, power) = min(end, 1 - (1 + t / gamma) ** -power)``: 0 at the start,
rising, then held at ``end``. With a fixed decay of 0.98, the weights of the first update (close
to the random initialization) would still make up 0.98**100 = 13% of the average after 100
updates; starting low lets the average follow the model early on and smooth it later.

The decay is absolute (``absolute=["ema_decay"]``) and moves after each ``optimizer.step()``.
So the k-th ``ema.update_parameters(model)``, which comes after the k-th update, averages with
decay ``EMAWarmup(k)``: ``e_k = d_k * e_(k-1) + (1 - d_k) * w_k``. The first call copies the
weights, as AveragedModel's first call always does. The scheduler's ``state_dict()`` holds the
lr's and the decay's state, so a run saved and resumed (``--save``, ``--resume``) gives the same
weights, bit for bit, as a run that never stopped. (On this short run the average trails the
model while the model still improves fast; the point here is how the decay is driven.)

Run: ``.venv/bin/python examples/ema_warmup.py`` (``--help`` for the options; the test suite
runs it, tests/test_recipes.py).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel

import cadence
from cadence.schedules import Cosine, EMAWarmup, Warmup

TOTAL, WARMUP, BATCH, BASE_LR = 400, 40, 32, 3e-2
END, GAMMA, POWER = 0.98, 1.0, 0.75  # power 3/4 suits short runs, 2/3 long ones


def lr_schedule(total: int) -> Warmup:
    """The lr as a factor of ``BASE_LR``: a linear warm-up, then a cosine to 1% of it."""
    return Warmup(Cosine(start=1.0, end=0.01, steps=total - WARMUP), steps=WARMUP)


def data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed regression set: 1024 points, ``y = sin(x @ a) + x @ b + noise``."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1024, 8, generator=g)
    a, b = torch.randn(8, 1, generator=g) / 2, torch.randn(8, 1, generator=g) / 4
    y = torch.sin(x @ a) + x @ b + 0.1 * torch.randn(1024, 1, generator=g)
    return x, y


def batch(step: int, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch of the update that follows ``step`` updates: drawn from the step alone, so a
    resumed run draws the same batches as an uninterrupted one."""
    rows = torch.randint(0, 768, (BATCH,), generator=torch.Generator().manual_seed(step))
    return x[rows], y[rows]  # the last 256 points are kept for evaluation


@dataclass
class Training:
    """Everything a run holds and a checkpoint saves."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    update: cadence.EMAUpdate  # AveragedModel's averaging function, and a target
    ema: AveragedModel
    scheduler: cadence.Scheduler


def build(total: int = TOTAL, end: float = END, seed: int = 0) -> Training:
    """A fresh model, optimizer, EMA and scheduler."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(8, 64), torch.nn.BatchNorm1d(64),
                                torch.nn.ReLU(), torch.nn.Linear(64, 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=BASE_LR, weight_decay=1e-4)
    update = cadence.EMAUpdate()
    ema = AveragedModel(model, multi_avg_fn=update, use_buffers=True)
    scheduler = cadence.Scheduler(
        optimizer, lr=lr_schedule(total),
        ema_decay=EMAWarmup(end=end, gamma=GAMMA, power=POWER),
        targets={"ema_decay": update}, absolute=["ema_decay"])
    return Training(model, optimizer, update, ema, scheduler)


def checkpoint(training: Training) -> dict[str, Any]:
    """The four state dicts (the EMA's decay is in the scheduler's)."""
    return {"model": training.model.state_dict(), "optimizer": training.optimizer.state_dict(),
            "ema": training.ema.state_dict(), "scheduler": training.scheduler.state_dict()}


def restore(training: Training, saved: dict[str, Any]) -> None:
    """Load a :func:`checkpoint` into a fresh :func:`build` (any order works)."""
    training.model.load_state_dict(saved["model"])
    training.optimizer.load_state_dict(saved["optimizer"])
    training.ema.load_state_dict(saved["ema"])
    training.scheduler.load_state_dict(saved["scheduler"])


@dataclass
class Run:
    """What each update used, and the weights after each one: what the EMA averaged."""

    training: Training
    lrs: list[float] = field(default_factory=list)
    decays: list[float] = field(default_factory=list)  # the decay of each update_parameters
    weights: list[dict[str, torch.Tensor]] = field(default_factory=list)


def train(steps: int = TOTAL, *, total: int = TOTAL, end: float = END,
          training: Training | None = None, keep_weights: bool = True) -> Run:
    """Train until ``steps`` updates are done (continuing ``training`` if given), recording
    each update's lr, the EMA decay it averaged with, and the model's weights."""
    training = training or build(total, end)
    model, optimizer, update, ema = (training.model, training.optimizer, training.update,
                                     training.ema)
    x, y = data()
    run = Run(training)
    model.train()
    while training.scheduler.current_step < steps:
        inputs, targets = batch(training.scheduler.current_step, x, y)
        run.lrs.append(float(optimizer.param_groups[0]["lr"]))
        F.mse_loss(model(inputs), targets).backward()
        optimizer.step()  # the scheduler moves on here: lr and decay of the next step
        ema.update_parameters(model)  # averages with update.decay
        optimizer.zero_grad()
        run.decays.append(update.decay)
        if keep_weights:
            run.weights.append({k: v.detach().clone() for k, v in model.state_dict().items()})
    return run


@torch.no_grad()
def evaluate(module: torch.nn.Module) -> float:
    """The mean squared error on the 256 held-out points, in eval mode."""
    x, y = data()
    was = module.training
    module.eval()
    loss = F.mse_loss(module(x[768:]), y[768:]).item()
    module.train(was)
    return loss


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=TOTAL,
                        help="train until this many optimizer updates are done (default: "
                        "%(default)s, the length of the lr schedule)")
    parser.add_argument("--end", type=float, default=END,
                        help="the EMA decay's final value (default: %(default)s)")
    parser.add_argument("--save", help="save the model, optimizer, EMA and scheduler here")
    parser.add_argument("--resume", help="continue from a checkpoint written by --save")
    args = parser.parse_args(argv)
    training = build(TOTAL, args.end)
    if args.resume:
        restore(training, torch.load(args.resume, weights_only=True))
    while training.scheduler.current_step < args.steps:  # 40 updates at a time
        run = train(min(training.scheduler.current_step + 40, args.steps),
                    training=training, keep_weights=False)
        print(f"update {training.scheduler.current_step:4d}: lr {run.lrs[-1]:.2e}  "
              f"ema decay {run.decays[-1]:.4f}  held-out mse: model "
              f"{evaluate(training.model):.4f}, ema {evaluate(training.ema):.4f}")
    if args.save:
        torch.save(checkpoint(training), args.save)


if __name__ == "__main__":
    main()
