"""Dropout and stochastic depth on a schedule: every dropout's p moves with the lr.

The model is a residual MLP. Each block has an ``nn.Dropout`` and a ``DropPath`` (stochastic
depth, Huang et al. 2016, whose ``drop_prob`` grows with depth), and there is one more dropout
before the head. ``cadence.Modules(model, "p", type=torch.nn.Dropout)`` is every dropout's
``p``, and ``cadence.Modules(model, "drop_prob", name="blocks.*", bounds=(0.0, 1.0))`` is every
module under ``blocks`` that has a ``drop_prob``. One schedule moves all of them, and each stays
relative to its own built value: module ``i`` holds ``base_i * schedule(t)`` after ``t``
updates. The schedules here:

- ``rise`` (the default): ``Linear(start=0.0, end=1.0, steps=100)``, no dropout at first, then
  up to the built values over the first 100 updates (a curriculum, as in Morerio et al. 2017,
  there with an exponential rise);
- ``early`` (Liu et al. 2023, "early dropout", for models that underfit):
  ``join([Constant(1.0), Constant(0.0)], boundaries=[50])``, the built values for the first 50
  updates, then none;
- ``late`` (Liu et al. 2023, "late dropout", for models that overfit):
  ``join([Constant(0.0), Constant(1.0)], boundaries=[100])``, none for the first 100 updates,
  then the built values.

A dropout probability outside [0, 1] is refused at the step that would give it, naming the
module, and nothing is written (``nn.Dropout``'s ``p`` has these bounds by default; the custom
``drop_prob`` gets them through ``bounds=``).

Run: ``.venv/bin/python examples/dropout_schedule.py --schedule early`` (``--help`` for the
options; the test suite runs it, tests/test_recipes.py).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import torch
import torch.nn.functional as F

import cadence
from cadence.schedules import Constant, Cosine, Linear, Schedule, Warmup, join

TOTAL, WARMUP, BATCH, BASE_LR = 200, 20, 32, 3e-3
WIDTH, DEPTH = 64, 3
P, HEAD_P, DROP_PATH = 0.2, 0.5, 0.3  # built values: block dropouts, head, deepest DropPath
RISE, EARLY, LATE = 100, 50, 100
SCHEDULES = ("rise", "early", "late")


class DropPath(torch.nn.Module):
    """Drop a sample's residual branch with probability ``drop_prob`` while training (and
    scale the kept ones by ``1 / (1 - drop_prob)``), as timm's ``DropPath`` does."""

    def __init__(self, drop_prob: float) -> None:
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.drop_prob == 0.0:
            return x
        keep = 1.0 - self.drop_prob
        mask = x.new_empty(x.shape[0], 1).bernoulli_(keep)
        return x * mask / keep if keep > 0 else x * 0.0


class Block(torch.nn.Module):
    """``x + drop_path(fc2(dropout(relu(fc1(x)))))``."""

    def __init__(self, p: float, drop_prob: float) -> None:
        super().__init__()
        self.fc1, self.fc2 = torch.nn.Linear(WIDTH, WIDTH), torch.nn.Linear(WIDTH, WIDTH)
        self.dropout = torch.nn.Dropout(p)
        self.drop_path = DropPath(drop_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.drop_path(self.fc2(self.dropout(F.relu(self.fc1(x)))))


class Net(torch.nn.Module):
    """A stem, ``DEPTH`` blocks (DropPath ``DROP_PATH * (i + 1) / DEPTH`` in block ``i``) and a
    head behind a dropout of ``HEAD_P``."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = torch.nn.Linear(16, WIDTH)
        self.blocks = torch.nn.Sequential(
            *[Block(P, DROP_PATH * (i + 1) / DEPTH) for i in range(DEPTH)])
        self.head = torch.nn.Sequential(torch.nn.Dropout(HEAD_P), torch.nn.Linear(WIDTH, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))


def dropout_schedule(kind: str) -> Schedule:
    """A factor of every module's built dropout: ``rise``, ``early`` or ``late``."""
    if kind == "rise":
        return Linear(start=0.0, end=1.0, steps=RISE)
    if kind == "early":
        return join([Constant(1.0), Constant(0.0)], boundaries=[EARLY])
    if kind == "late":
        return join([Constant(0.0), Constant(1.0)], boundaries=[LATE])
    raise ValueError(f"'kind' must be one of {SCHEDULES} (got {kind!r})")


def scheduler(model: Net, optimizer: torch.optim.Optimizer, dropout: Schedule,
              drop_path: Schedule | None = None) -> cadence.Scheduler:
    """The lr, every dropout's ``p`` and every block's ``drop_prob`` (by default on the
    dropouts' schedule), each a factor of its built value."""
    return cadence.Scheduler(
        optimizer, lr=Warmup(Cosine(start=1.0, end=0.1, steps=TOTAL - WARMUP), steps=WARMUP),
        dropout=dropout, drop_path=dropout if drop_path is None else drop_path,
        targets={"dropout": cadence.Modules(model, "p", type=torch.nn.Dropout),
                 "drop_path": cadence.Modules(model, "drop_prob", name="blocks.*",
                                              bounds=(0.0, 1.0))})


def data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """256 training points of a noisy linear function of 16 inputs, and 256 held out."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(512, 16, generator=g)
    y = x @ torch.randn(16, 1, generator=g) / 4 + 0.3 * torch.randn(512, 1, generator=g)
    return x, y


@dataclass(frozen=True)
class Step:
    """What one update used: the lr, every dropout's ``p`` and every ``drop_prob``."""

    step: int  # updates done before this one
    lr: float
    ps: list[float]  # in the order of model.modules()
    drop_probs: list[float]
    loss: float


def train(steps: int = TOTAL, schedule: str | Schedule = "rise",
          drop_path: Schedule | None = None, seed: int = 0) -> tuple[Net, list[Step]]:
    """Train for ``steps`` updates with the named schedule (or any schedule) on every dropout;
    the model, and what each update used."""
    torch.manual_seed(seed)
    model = Net()
    optimizer = torch.optim.AdamW(model.parameters(), lr=BASE_LR)
    shape = dropout_schedule(schedule) if isinstance(schedule, str) else schedule
    sched = scheduler(model, optimizer, shape, drop_path)  # keep a reference: its hook does not
    dropouts = [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    paths = [m for m in model.modules() if isinstance(m, DropPath)]
    x, y = data()
    out = []
    model.train()
    for _ in range(steps):
        t = sched.current_step
        rows = torch.randint(0, 256, (BATCH,), generator=torch.Generator().manual_seed(t))
        loss = F.mse_loss(model(x[rows]), y[rows])
        loss.backward()
        out.append(Step(t, float(optimizer.param_groups[0]["lr"]), [m.p for m in dropouts],
                        [m.drop_prob for m in paths], loss.item()))
        optimizer.step()  # moves the lr, every p and every drop_prob to step t + 1
        optimizer.zero_grad()
    return model, out


@torch.no_grad()
def held_out_loss(model: Net) -> float:
    x, y = data()
    model.eval()
    loss = F.mse_loss(model(x[256:]), y[256:]).item()
    model.train()
    return loss


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedule", default="rise", choices=SCHEDULES,
                        help="how the dropouts move (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=TOTAL,
                        help="optimizer updates (default: %(default)s)")
    args = parser.parse_args(argv)
    model, steps = train(args.steps, args.schedule)
    for s in steps:
        if s.step % 20 == 0:
            ps = " ".join(f"{p:.3f}" for p in s.ps)
            paths = " ".join(f"{p:.3f}" for p in s.drop_probs)
            print(f"update {s.step:3d}: lr {s.lr:.2e}  p {ps}  drop_prob {paths}  "
                  f"loss {s.loss:.3f}")
    print(f"held-out mse: {held_out_loss(model):.4f}")


if __name__ == "__main__":
    main()
