"""WSD by branching: one warm-up-then-stable run, and cool-downs branched from its checkpoints.

Warmup-stable-decay (WSD) keeps the lr at its peak until a late decay, so one long run that
never decays can give a finished model at any point: take its checkpoint there and cool it
down. Here the run trains the built-in task of ``cadence demo`` (scikit-learn's digits, a small
LeNet, SGD with momentum 0.9, batches of 64, one thread, a fixed seed) under a linear warm-up
over ``--warmup`` of the run to the peak lr ``--lr`` (0.05: at the demo's 0.02 the loss leaves
its first plateau late), then that lr, and keeps a checkpoint (model, optimizer and scheduler
``state_dict()``) at each of ``--points`` (fractions of the run). From each checkpoint and for
each of ``--shapes``, a fresh model, optimizer and Scheduler, built with the same
warm-up-then-stable schedule as the script always builds it, load the checkpoint, and
``sched.anneal(total - at, shape=shape)`` branches a decay to 0 over the rest of the run.
Each branch is WSD with its decay starting there, bit for bit
(tests/integrations/test_wsd_branches.py compares such runs with WSD runs trained from
scratch). The stable run also goes on to the end without decaying, for comparison.

The figure (``--out``) draws the loss on the training set and on the held-out set, and the lr,
of the stable run and of every branch, against the epoch; a table gives each branch's final
losses and held-out accuracy. The data order is a function of (seed, epoch) and the loop counts
updates, so a branch that starts in the middle of an epoch sees the batches an uninterrupted
run would.

Run: ``.venv/bin/python examples/wsd_branches.py`` (``--help`` for the options; the test suite
runs it, tests/test_examples.py).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

import cadence
from cadence.cli.experiment import Ranks, batches
from cadence.cli.task import BATCH_SIZE, MOMENTUM, Digits, lenet, load_digits
from cadence.schedules import Constant, Linear, Schedule, join

SHAPES = ("linear", "cosine", "1-sqrt")
LR = 0.05  # the peak lr: the demo's 0.02 is slow to leave the loss's first plateau


def stable(warmup: int) -> Schedule:
    """The run that never decays: a linear warm-up over ``warmup`` updates, then the base lr."""
    return join([Linear(start=0.0, end=1.0, steps=warmup), Constant(1.0)], [warmup])


@dataclass
class Curve:
    """One run: the losses at the evaluated steps, and the lr of every update it made."""

    name: str
    at: int  # the update it starts at (0 for the stable run, where it branched for a branch)
    shape: str | None
    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)


class Task:
    """The digits, the loop over updates and the evaluations: update ``s`` trains on batch
    ``s % per_epoch`` of epoch ``s // per_epoch``, whatever run it is in."""

    def __init__(self, epochs: int, seed: int, lr: float = LR) -> None:
        self.data: Digits = load_digits()
        self.seed, self.lr = seed, lr
        self.ranks = Ranks()  # one process: every batch whole
        self.per_epoch = math.ceil(len(self.data.train_x) / BATCH_SIZE)
        self.total = epochs * self.per_epoch
        self.every = max(1, self.per_epoch // 2)  # evaluate twice an epoch
        self._epoch: tuple[int, list[torch.Tensor]] = (-1, [])

    def batch(self, step: int) -> torch.Tensor:
        epoch, index = divmod(step, self.per_epoch)
        if self._epoch[0] != epoch:  # the epoch's shuffle: a function of (seed, epoch)
            self._epoch = (epoch, list(batches(len(self.data.train_x), self.seed, epoch,
                                               self.ranks)))
        return self._epoch[1][index]

    def fresh(self) -> tuple[nn.Module, torch.optim.Optimizer]:
        torch.manual_seed(self.seed)
        model = lenet()
        return model, torch.optim.SGD(model.parameters(), lr=self.lr, momentum=MOMENTUM)

    def evaluate(self, model: nn.Module, step: int, curve: Curve) -> None:
        loss = nn.CrossEntropyLoss()
        model.eval()
        with torch.no_grad():
            data = self.data
            out = model(data.test_x)
            curve.steps.append(step)
            curve.train_loss.append(float(loss(model(data.train_x), data.train_y)))
            curve.test_loss.append(float(loss(out, data.test_y)))
            curve.test_acc.append(float((out.argmax(1) == data.test_y).float().mean()))
        model.train()

    def train(self, model: nn.Module, optimizer: torch.optim.Optimizer,
              sched: cadence.Scheduler, curve: Curve, stop: int, keep: tuple[int, ...] = ()
              ) -> dict[int, dict[str, Any]]:
        """Train from the scheduler's step to ``stop``; the checkpoints at the steps in
        ``keep``, taken before their update."""
        loss_fn = nn.CrossEntropyLoss()
        checkpoints = {}
        start = sched.current_step
        self.evaluate(model, start, curve)
        for step in range(start, stop):
            if step in keep:
                checkpoints[step] = copy.deepcopy({
                    "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": sched.state_dict()})
            index = self.batch(step)
            curve.lrs.append(float(optimizer.param_groups[0]["lr"]))
            optimizer.zero_grad()
            loss_fn(model(self.data.train_x[index]), self.data.train_y[index]).backward()
            optimizer.step()
            sched.step()
            if (step + 1) % self.every == 0 or step + 1 == stop:
                self.evaluate(model, step + 1, curve)
        return checkpoints


def run(epochs: int, points: list[float], shapes: list[str], warmup: float,
        seed: int, lr: float = LR) -> tuple[Task, list[Curve]]:
    """The stable run to the end, then every branch; the stable run first in the list."""
    torch.set_num_threads(1)  # the same reductions in the same order in every run
    task = Task(epochs, seed, lr)
    total, warmup_steps = task.total, round(warmup * task.total)
    ats = sorted({round(p * total) for p in points})
    if not 0 < warmup_steps < ats[0] or ats[-1] >= total:
        raise SystemExit(f"the warm-up ({warmup_steps} updates) must end before the first "
                         f"branch point, and every point must be inside the run ({total} "
                         f"updates): points at {ats}")
    model, optimizer = task.fresh()
    sched = cadence.Scheduler(optimizer, lr=stable(warmup_steps))
    base = Curve("stable", 0, None)
    checkpoints = task.train(model, optimizer, sched, base, total, keep=tuple(ats))
    curves = [base]
    for at in ats:
        for shape in shapes:
            model, optimizer = task.fresh()
            # the scheduler as the training script builds it; the checkpoint says where it is
            sched = cadence.Scheduler(optimizer, lr=stable(warmup_steps))
            saved = checkpoints[at]
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            sched.load_state_dict(saved["scheduler"])
            sched.anneal(total - at, shape=shape)  # from here: WSD decaying at `at`
            curve = Curve(f"{shape} from epoch {at / task.per_epoch:g}", at, shape)
            task.train(model, optimizer, sched, curve, total)
            curves.append(curve)
    return task, curves


def figure(task: Task, curves: list[Curve], path: str) -> None:
    """Train loss, held-out loss and lr against the epoch: the stable run in black, each
    branch point in its colour, each shape in its line style."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 9), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True, height_ratios=[2, 2, 1])
    ats = sorted({c.at for c in curves if c.shape is not None})
    colours = {at: f"C{i}" for i, at in enumerate(ats)}
    styles = {"linear": "-", "cosine": "--", "1-sqrt": ":"}
    for curve in curves:
        colour = "black" if curve.shape is None else colours[curve.at]
        style = "-" if curve.shape is None else styles[curve.shape]
        width = 1.0 if curve.shape is None else 1.5
        epochs = [s / task.per_epoch for s in curve.steps]
        axes[0].plot(epochs, curve.train_loss, style, color=colour, lw=width, label=curve.name)
        axes[1].plot(epochs, curve.test_loss, style, color=colour, lw=width)
        updates = [(curve.at + i) / task.per_epoch for i in range(len(curve.lrs))]
        axes[2].plot(updates, curve.lrs, style, color=colour, lw=width)
    for at in ats:
        for ax in axes:
            ax.axvline(at / task.per_epoch, color=colours[at], lw=0.5, alpha=0.4)
    axes[0].set(yscale="log", ylabel="train loss",
                title="WSD branches: cool-downs from one warm-up-then-stable run")
    axes[1].set(yscale="log", ylabel="held-out loss")
    axes[2].set(xlabel="epoch", ylabel="lr")
    axes[0].legend(fontsize="small", ncol=2)
    fig.savefig(path, dpi=120)


def table(curves: list[Curve]) -> str:
    rows = [("run", "train loss", "held-out loss", "held-out acc")]
    rows += [(c.name, f"{c.train_loss[-1]:.4f}", f"{c.test_loss[-1]:.4f}",
              f"{c.test_acc[-1]:.4f}") for c in curves]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths))) for row in rows]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def fractions(text: str) -> list[float]:
    values = [float(v) for v in text.split(",")]
    if not all(0.0 < v < 1.0 for v in values):
        raise argparse.ArgumentTypeError(f"fractions of the run, in (0, 1) (got {text!r})")
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30, help="the run's length")
    parser.add_argument("--points", type=fractions, default="0.25,0.5,0.75",
                        help="where the branches start, as fractions of the run "
                        "(comma-separated)")
    parser.add_argument("--shapes", nargs="+", choices=SHAPES, default=["linear", "1-sqrt"],
                        help="the cool-down shapes branched from each point")
    parser.add_argument("--warmup", type=float, default=0.1,
                        help="the warm-up's length, as a fraction of the run")
    parser.add_argument("--lr", type=float, default=LR, help="the peak lr")
    parser.add_argument("--seed", type=int, default=0,
                        help="the initial weights and the order of the batches")
    parser.add_argument("--out", default="wsd_branches.png", help="the figure's file")
    parser.add_argument("--record", metavar="PATH",
                        help="also write every run (losses, lrs) to this JSON file")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1 (got {args.epochs})")
    task, curves = run(args.epochs, args.points, args.shapes, args.warmup, args.seed,
                       args.lr)
    figure(task, curves, args.out)
    print(f"{args.epochs} epochs of {task.per_epoch} updates; warm-up "
          f"{round(args.warmup * task.total)} updates; final losses:")
    print(table(curves))
    print(f"wrote {args.out}")
    if args.record:
        with open(args.record, "w") as out:
            json.dump({"per_epoch": task.per_epoch, "total": task.total,
                       "warmup": round(args.warmup * task.total),
                       "runs": [asdict(c) for c in curves]}, out)


if __name__ == "__main__":
    main()
