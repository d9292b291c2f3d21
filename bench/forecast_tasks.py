"""The runs that bench/bench_forecast.py fits and predicts: the multi-power law paper's 25M
curves, a one-pass linear regression on a stream, and the built-in digits task.

Each function returns :class:`cadence.tools.forecast.Run` s (the lr of every update, the
updates where the loss was measured and the losses), so the bench only fits and compares.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cadence.schedules import (
    Constant,
    Cosine,
    Geometric,
    Linear,
    MultiStep,
    OneMinusSqrt,
    Schedule,
    Warmup,
    join,
)
from cadence.tools.forecast import Run

# -- the multi-power law paper's 25M model ------------------------------------------------------
DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "multipowerlaw_25m"
PEAK_25M, WARMUP_25M = 3e-4, 2160
TRAIN_25M = ("cosine_24000", "constant_24000", "wsdcon_9")  # the paper's three training runs
HELD_OUT_25M = ("constant_72000", "cosine_72000", "wsd_20000_24000", "wsdld_20000_24000",
                "wsdcon_3", "wsdcon_18")


def schedule_25m(name: str) -> tuple[Schedule, int]:
    """The factor (of 3e-4) of every update of run ``name`` and the run's length, as
    tests/data/multipowerlaw_25m/SOURCE.md describes: a linear warm-up from 0 over 2160
    updates, then the run's own shape."""
    w = WARMUP_25M
    kind, _, rest = name.partition("_")
    if kind == "constant":
        return Warmup(Constant(1.0), steps=w), int(rest)
    if kind == "cosine":
        total = int(rest)
        return Warmup(Cosine(start=1.0, end=0.1, steps=total - w), steps=w), total
    if kind in ("wsd", "wsdld"):  # stable until 20000, then down to 3e-5 at 24000
        stable, total = (int(v) for v in rest.split("_"))
        decay = Geometric if kind == "wsd" else Linear
        return join([Linear(start=0.0, end=1.0, steps=w), Constant(1.0),
                     decay(start=1.0, end=0.1, steps=total - stable)], [w, stable]), total
    if kind == "wsdcon":  # 3e-4 until 8000, then rest * 1e-5 until 16000
        return join([Linear(start=0.0, end=1.0, steps=w), Constant(1.0),
                     Constant(int(rest) * 1e-5 / PEAK_25M)], [w, 8000]), 16000
    raise ValueError(f"no schedule for the run {name!r}")


def run_25m(name: str) -> Run:
    """One 25M run: the losses of its CSV (the points at update 24000 left out, as the
    authors' loader does) and the lrs rebuilt from its name."""
    table = np.genfromtxt(DATA / f"{name}.csv", delimiter=",", names=True)
    steps, losses = table["step"].astype(np.int64), table["loss"]
    keep = steps != 24000
    schedule, total = schedule_25m(name)
    lrs = PEAK_25M * schedule(np.arange(total))
    recorded = table["lr"][keep]
    assert np.allclose(lrs[steps[keep]], recorded, rtol=1e-6), name  # the CSV's own lr column
    return Run(name, lrs, steps[keep], losses[keep])


# -- a one-pass linear regression on a stream -----------------------------------------------------
@dataclass(frozen=True)
class Stream:
    """Linear regression ``y = x . w* + noise`` with fresh Gaussian samples every update:
    ``x ~ N(0, diag(lambda))`` with ``lambda_i = i**-exponent`` (i = 1..dim), ``w*`` drawn
    once, ``w*_i ~ N(0, 1)`` (every direction holds the same share of the signal before the
    spectrum weighs it), label noise of standard deviation ``noise``. Plain SGD (no momentum)
    from ``w = 0``, a batch of ``batch`` fresh samples per update, on the squared error
    ``(x . w - y)**2 / 2``. The loss is the population loss, exact from the weights:
    ``sum_i lambda_i (w_i - w*_i)**2 / 2 + noise**2 / 2``, averaged over ``replicas``
    independent streams (the same streams under every schedule)."""

    dim: int = 1000
    exponent: float = 1.5
    noise: float = 0.5
    batch: int = 8
    peak: float = 0.8
    warmup: int = 100
    horizon: int = 6000
    every: int = 20
    replicas: int = 16
    seed: int = 0

    @property
    def floor(self) -> float:
        """The lowest loss there is: the label noise's."""
        return self.noise ** 2 / 2

    def schedules(self) -> dict[str, tuple[Schedule, int]]:
        """The two fitted runs (a third of the horizon) and the six predicted ones: each a
        factor of ``peak`` after the same linear warm-up, and its length. Every decay ends at
        a tenth of the peak."""
        w, short, full = self.warmup, self.horizon // 3, self.horizon
        rest = full - w

        def warm(s: Schedule) -> Schedule:
            return Warmup(s, steps=w)

        def wsd(decay: type[Schedule], share: float) -> Schedule:
            cool = round(share * full)
            return warm(join([Constant(1.0), decay(start=1.0, end=0.1, steps=cool)],
                             [rest - cool]))

        return {
            "constant (fit)": (warm(Constant(1.0)), short),
            "cosine (fit)": (warm(Cosine(start=1.0, end=0.1, steps=short - w)), short),
            "wsd linear 20%": (wsd(Linear, 0.2), full),
            "wsd 1-sqrt 20%": (wsd(OneMinusSqrt, 0.2), full),
            "cosine": (warm(Cosine(start=1.0, end=0.1, steps=rest)), full),
            "linear": (warm(Linear(start=1.0, end=0.1, steps=rest)), full),
            "step": (warm(MultiStep(milestones=[rest // 2, 3 * rest // 4],
                                    gamma=math.sqrt(0.1))), full),
            "two-stage": (warm(join([Constant(1.0), Constant(0.3)], [rest // 2])), full),
        }

    def run(self, name: str, schedule: Schedule, total: int) -> tuple[Run, np.ndarray]:
        """Train every replica under ``peak * schedule`` for ``total`` updates; the run (the
        replicas' mean population loss after every ``every``-th update from the end of the
        warm-up, and after the last) and each replica's loss after the last update."""
        lrs = self.peak * schedule(np.arange(total))
        spectrum = np.arange(1, self.dim + 1, dtype=np.float64) ** -self.exponent
        scale = np.sqrt(spectrum)
        target = np.random.default_rng(self.seed).standard_normal(self.dim)
        rng = np.random.default_rng(self.seed + 1)  # the same stream for every schedule
        error = np.tile(-target, (self.replicas, 1))  # w - w*, one row per replica
        at = set(range(self.warmup - 1 + self.every, total, self.every)) | {total - 1}
        steps, losses, last = [], [], np.zeros(self.replicas)
        for t in range(total):
            z = rng.standard_normal((self.replicas, self.batch, self.dim))
            eps = rng.standard_normal((self.replicas, self.batch))
            x = z * scale  # (replicas, batch, dim)
            residual = np.einsum("rbd,rd->rb", x, error) - self.noise * eps  # x.w - y
            error -= lrs[t] / self.batch * np.einsum("rbd,rb->rd", x, residual)
            if t in at:
                each = 0.5 * (error * error) @ spectrum + self.floor
                steps.append(t)
                losses.append(float(each.mean()))
                last = each
        return Run(name, lrs, np.asarray(steps), np.asarray(losses)), last


# -- the built-in task --------------------------------------------------------------------------
def builtin_runs(epochs: int, seeds: int, tick: Callable[[], None]) -> dict[str, list[Run]]:
    """The demo's eight schedules on the digits LeNet (``cadence demo``'s training code, one
    thread), each seed a run: the lr of every update as the optimizer held it, and each epoch's
    mean training loss (over the epoch's batches, before each update) attached to the epoch's
    last update."""
    import torch

    from cadence.cli.experiment import DEMO, Ranks, compare

    runs = compare(list(DEMO), Ranks(), epochs=epochs, seeds=seeds, tick=tick)
    torch.set_num_threads(1)
    out: dict[str, list[Run]] = {name: [] for name in DEMO}
    for r in runs:
        per_epoch = len(r.lrs) // epochs
        steps = np.arange(1, epochs + 1) * per_epoch - 1
        losses = np.array([e["train_loss"] for e in r.epochs])
        out[r.schedule].append(Run(f"{r.schedule} seed {r.seed}", np.asarray(r.lrs), steps,
                                   losses))
    return out
