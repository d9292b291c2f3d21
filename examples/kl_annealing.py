"""KL annealing: a VAE's KL weight follows a schedule, in the same Scheduler as the lr.

A small VAE learns 8-dimensional data generated from a 2-dimensional latent. Its loss is
``reconstruction + kl_weight * KL``, and ``kl_weight`` is a plain float attribute of the loss
object. ``cadence.Attribute(loss_fn, "kl_weight")`` makes it a target of the Scheduler that
also drives AdamW's lr. The weight is absolute (``absolute=["kl_weight"]``, since it starts at
0) and moves after each ``optimizer.step()``, so the loss of the update that follows ``t``
updates uses ``kl_schedule(t)``:

- ``linear`` (Bowman et al. 2016): ``Linear(start=0.0, end=1.0, steps=100)``, so the weight
  is ``min(t, 100) / 100``;
- ``cyclical`` (Fu et al. 2019, 4 cycles, each rising over its first half):
  ``Repeat(Linear(start=0.0, end=1.0, steps=25), period=50)``, so the weight is
  ``min(1, (t mod 50) / 25)``;
- ``config``: the cyclical schedules again, built by ``cadence.build(config, optimizer,
  targets={"kl_weight": cadence.Attribute(loss_fn, "kl_weight")})`` from the YAML text in
  ``CONFIG``. The config declares which of its keys are targets; the code says where each one
  lives. The config form needs PyYAML (``pip install cadence[yaml]``).

The config can be drawn and checked before any training::

    .venv/bin/python examples/kl_annealing.py --write-config kl.yaml
    .venv/bin/cadence plot kl.yaml -o kl.png --steps 200     # one panel for lr, one for kl_weight
    .venv/bin/cadence describe kl.yaml --steps 200

Run: ``.venv/bin/python examples/kl_annealing.py --schedule cyclical`` (``--help`` for the
options; the test suite runs it, tests/test_recipes.py).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from typing import Any

import torch

import cadence
from cadence.schedules import Cosine, Linear, Repeat, Schedule, Warmup

TOTAL, WARMUP, BATCH, BASE_LR = 200, 20, 64, 3e-3
KL_WARMUP = 100  # linear: the weight reaches 1 after this many updates
CYCLES, RATIO = 4, 0.5  # cyclical: 4 cycles over the run, each rising over its first half
SCHEDULES = ("cyclical", "linear", "config")

CONFIG = """\
# the example's cyclical schedules as a config: cadence plot / describe / build read it
type: scheduler
lr:                      # a factor of the optimizer's lr: warm up, then a cosine to 10%
  type: warmup
  steps: 20
  schedule: {type: cosine, start: 1.0, end: 0.1, steps: 180}
kl_weight:               # 4 cycles of 50 updates, each rising from 0 to 1 over 25
  type: repeat
  period: 50
  schedule: {type: linear, start: 0.0, end: 1.0, steps: 25}
targets: [kl_weight]     # outside the optimizer: build(..., targets=...) says where it lives
absolute: [kl_weight]    # the schedule's values themselves (a factor of 0 would stay 0)
"""


def lr_schedule(total: int = TOTAL) -> Warmup:
    """The lr as a factor of ``BASE_LR``: a linear warm-up, then a cosine to 10% of it."""
    return Warmup(Cosine(start=1.0, end=0.1, steps=total - WARMUP), steps=WARMUP)


def kl_schedule(kind: str, total: int = TOTAL) -> Schedule:
    """The KL weight at each step: ``linear`` or ``cyclical`` (see the module's docstring)."""
    if kind == "linear":
        return Linear(start=0.0, end=1.0, steps=KL_WARMUP)
    if kind == "cyclical":
        period = total // CYCLES
        return Repeat(Linear(start=0.0, end=1.0, steps=int(RATIO * period)), period=period)
    raise ValueError(f"'kind' must be 'linear' or 'cyclical' (got {kind!r})")


def config() -> dict[str, Any]:
    """``CONFIG`` as data."""
    import yaml  # only the config form needs PyYAML

    return yaml.safe_load(CONFIG)


@dataclass(frozen=True)
class Terms:
    """One evaluation of the loss, with the KL weight it used."""

    total: torch.Tensor
    reconstruction: torch.Tensor
    kl: torch.Tensor
    kl_weight: float


class ELBOLoss:
    """``reconstruction + kl_weight * KL`` per sample, averaged over the batch: the squared
    error of the reconstruction, and the KL divergence of the encoder's Gaussian from N(0, I).
    ``kl_weight`` is a plain float, which the Scheduler rewrites after each update."""

    def __init__(self, kl_weight: float = 0.0) -> None:
        self.kl_weight = kl_weight

    def __call__(self, x: torch.Tensor, reconstruction: torch.Tensor, mean: torch.Tensor,
                 logvar: torch.Tensor) -> Terms:
        rec = (reconstruction - x).square().sum(1).mean()
        kl = (-0.5 * (1 + logvar - mean.square() - logvar.exp()).sum(1)).mean()
        return Terms(rec + self.kl_weight * kl, rec, kl, self.kl_weight)


class VAE(torch.nn.Module):
    """8 -> 32 -> 2-dimensional Gaussian latent -> 32 -> 8."""

    def __init__(self, latent: int = 2) -> None:
        super().__init__()
        self.encoder = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(),
                                           torch.nn.Linear(32, 2 * latent))
        self.decoder = torch.nn.Sequential(torch.nn.Linear(latent, 32), torch.nn.ReLU(),
                                           torch.nn.Linear(32, 8))

    def forward(self, x: torch.Tensor, noise: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean, logvar = self.encoder(x).chunk(2, dim=1)
        z = mean + (0.5 * logvar).exp() * noise  # the reparameterization trick
        return self.decoder(z), mean, logvar


def data(seed: int = 0) -> torch.Tensor:
    """512 points ``tanh(z @ A) + noise`` with ``z`` drawn from a 2-dimensional N(0, I)."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(512, 2, generator=g)
    return torch.tanh(z @ torch.randn(2, 8, generator=g)) + 0.1 * torch.randn(512, 8, generator=g)


def scheduler(optimizer: torch.optim.Optimizer, loss_fn: ELBOLoss, kind: str,
              total: int = TOTAL) -> cadence.Scheduler:
    """The lr and the KL weight in one Scheduler, written in code or read from ``CONFIG``."""
    targets = {"kl_weight": cadence.Attribute(loss_fn, "kl_weight")}
    if kind == "config":
        return cadence.build(config(), optimizer, targets=targets)
    return cadence.Scheduler(optimizer, lr=lr_schedule(total), kl_weight=kl_schedule(kind, total),
                             targets=targets, absolute=["kl_weight"])


@dataclass(frozen=True)
class Step:
    """What one update used: its lr and KL weight, and the loss terms."""

    step: int  # updates done before this one
    lr: float
    kl_weight: float
    total: float
    reconstruction: float
    kl: float


def train(steps: int = TOTAL, kind: str = "cyclical", seed: int = 0) -> list[Step]:
    """Train the VAE for ``steps`` updates; what each one used."""
    torch.manual_seed(seed)
    model, loss_fn = VAE(), ELBOLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=BASE_LR)
    sched = scheduler(optimizer, loss_fn, kind)  # keep a reference: its hook does not
    x = data()
    out = []
    for _ in range(steps):
        t = sched.current_step  # updates done
        g = torch.Generator().manual_seed(t)
        batch = x[torch.randint(0, len(x), (BATCH,), generator=g)]
        terms = loss_fn(batch, *model(batch, torch.randn(BATCH, 2, generator=g)))
        terms.total.backward()
        out.append(Step(t, float(optimizer.param_groups[0]["lr"]), terms.kl_weight,
                        terms.total.item(), terms.reconstruction.item(), terms.kl.item()))
        optimizer.step()  # moves the lr and the KL weight to step t + 1
        optimizer.zero_grad()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedule", default="cyclical", choices=SCHEDULES,
                        help="the KL weight's schedule; 'config' builds the cyclical one from "
                        "CONFIG (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=TOTAL,
                        help="optimizer updates (default: %(default)s)")
    parser.add_argument("--write-config", metavar="PATH",
                        help="write CONFIG to this YAML file (for cadence plot / describe) and "
                        "stop")
    parser.add_argument("--record", help="write what each update used to this JSON file")
    args = parser.parse_args(argv)
    if args.write_config:
        with open(args.write_config, "w") as out:
            out.write(CONFIG)
        print(f"wrote {args.write_config}; draw it with: cadence plot {args.write_config} "
              f"-o kl.png --steps {TOTAL}")
        return
    steps = train(args.steps, args.schedule)
    if args.record:
        with open(args.record, "w") as out:
            json.dump([asdict(s) for s in steps], out)
        return
    for s in steps:
        if s.step % 10 == 0:
            print(f"update {s.step:3d}: lr {s.lr:.2e}  kl_weight {s.kl_weight:.2f}  "
                  f"reconstruction {s.reconstruction:.3f}  kl {s.kl:.3f}")


if __name__ == "__main__":
    main()
