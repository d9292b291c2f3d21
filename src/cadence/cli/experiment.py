"""The built-in experiment: train the digits LeNet under several schedules and seeds.

The comparison of Dive into Deep Learning's learning-rate chapter, made real: for every
schedule and seed a fresh model trains with SGD (lr 0.02, momentum 0.9, batch 64); each epoch
records the train loss and accuracy and the test accuracy, and every step the lr actually in
the optimizer. A schedule's values are factors of that base lr (:func:`relative` says which
specs are). A seed fixes the initial weights and the order of the batches, and torch runs on
one thread, so a run gives the same numbers again on the same machine and PyTorch build;
another CPU or build rounds its floating-point reductions differently, and the numbers differ
a little.

Under ``torchrun`` (``WORLD_SIZE`` > 1) the model trains with DistributedDataParallel on the gloo
backend, each rank on its own shard of every epoch's batches; after every epoch the ranks check
that they hold the same lr in every group (an error if not); only rank 0 reports.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

import cadence
from cadence.cli.task import BASE_LR, BATCH_SIZE, MOMENTUM, Digits, lenet, load_digits
from cadence.compat.configs import build
from cadence.schedules import (
    Constant,
    Cosine,
    Exponential,
    InverseSqrt,
    MultiStep,
    OneCycle,
    Quantize,
    Schedule,
    Warmup,
)
from cadence.tools.curves import load, parse
from cadence.tools.presets import preset

Factory = Callable[[torch.optim.Optimizer, int, int], Any]


def _scheduler(schedule: Any) -> Factory:
    return lambda opt, total, per_epoch: cadence.Scheduler(opt, lr=schedule(total, per_epoch))


def _warm_restarts(opt: torch.optim.Optimizer, total: int, per_epoch: int) -> Any:
    """The all-in-one warm-restart scheduler sized as the preset is: a warm-up of about a
    tenth, then cycles of T_0, 2 T_0 and 4 T_0 steps that end with the training."""
    t_0 = max(1, (total - total // 10) // 7)
    return cadence.WarmRestartScheduler(opt, warmup_steps=total - 7 * t_0, T_0=t_0, T_mult=2,
                                        base_batch_size=BATCH_SIZE)


# d2l's schedules (its per-epoch rules run per step through Quantize), common shapes, and the
# all-in-one warm-restart scheduler.
DEMO: dict[str, Factory] = {
    "constant": _scheduler(lambda n, e: Constant(1.0)),
    "square-root": _scheduler(lambda n, e: Quantize(InverseSqrt(timescale=1.0), every=e)),
    "factor": _scheduler(lambda n, e: Quantize(Exponential(rate=0.9, start=0.9, floor=0.05),
                                               every=e)),
    "multistep": _scheduler(lambda n, e: MultiStep(milestones=[n // 2, 3 * n // 4], gamma=0.5)),
    "cosine": _scheduler(lambda n, e: Cosine(start=1.0, end=0.01, steps=n)),
    "warmup-cosine": _scheduler(lambda n, e: Warmup(Cosine(start=1.0, end=0.01,
                                                           steps=n - n // 10), steps=n // 10)),
    "one-cycle": _scheduler(lambda n, e: OneCycle(total_steps=n)),
    "warm-restarts": _warm_restarts,
}


def relative(spec: str) -> bool:
    """Whether ``spec``'s lrs are factors that multiply the base lr: true of the demo's
    schedules, presets and schedule configs, and of a scheduler config whose lrs scale with the
    base (``torch.StepLR``), not of one that sets absolute lrs (``torch.OneCycleLR``'s
    ``max_lr``) or a floor (``eta_min``): see :func:`cadence.tools.plot.value_kind`."""
    if spec in DEMO:
        return True
    from cadence.tools.plot import FACTOR, value_kind

    return value_kind(spec, "lr", 1000) == FACTOR


def factory(spec: str) -> Factory:
    """How to build spec's scheduler: a demo name, a preset (sized to the run), or a config
    (file, inline JSON) that ``cadence.build`` takes. A bad spec fails here, before training."""
    if spec in DEMO:
        return DEMO[spec]
    value = parse(spec)
    if isinstance(value, str):
        preset(value, 1000)  # refuses an unknown name, with the nearest
        return lambda opt, total, per_epoch: cadence.Scheduler(opt, lr=preset(value, total))
    source = load(spec)  # a schedule, or a scheduler on a stand-in: refuses a bad config, named
    if isinstance(source, Schedule):
        return lambda opt, total, per_epoch: cadence.Scheduler(opt, lr=source)
    return lambda opt, total, per_epoch: build(value, opt)


@dataclass
class Run:
    """One schedule, one seed."""

    schedule: str
    seed: int
    epochs: list[dict[str, float]] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def final(self, key: str) -> float:
        return self.epochs[-1][key]


class Ranks:
    """The process group when run under torchrun; a single process otherwise."""

    def __init__(self) -> None:
        self.size = int(os.environ.get("WORLD_SIZE", "1"))
        if self.size > 1 and not dist.is_initialized():
            dist.init_process_group("gloo")
        self.rank = dist.get_rank() if self.size > 1 else 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    def total(self, values: list[float]) -> list[float]:
        """Sum over ranks."""
        if self.size == 1:
            return values
        tensor = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(tensor)
        return [float(v) for v in tensor]

    def check_same(self, values: list[float], what: str) -> None:
        """Every rank must hold exactly the same values."""
        if self.size == 1:
            return
        gathered: list[Any] = [None] * self.size
        dist.all_gather_object(gathered, values)
        if any(g != gathered[0] for g in gathered):
            raise RuntimeError(f"ranks disagree on {what}: {gathered}")

    def close(self, wait: bool = True) -> None:
        """Leave the process group: after the others (``wait``), or at once (after an error
        or Ctrl-C, when the others may never come)."""
        if self.size > 1 and dist.is_initialized():
            if wait:
                dist.barrier()
            dist.destroy_process_group()


def batches(n: int, seed: int, epoch: int, ranks: Ranks) -> Iterator[torch.Tensor]:
    """This rank's share of every batch of the epoch: the same shuffle on every rank, each
    taking its slice of each batch of ``BATCH_SIZE``."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 10_007 + epoch))
    for start in range(0, n, BATCH_SIZE):
        batch = order[start:start + BATCH_SIZE]
        yield batch[ranks.rank::ranks.size]


def train(spec: str, make: Factory, seed: int, epochs: int, data: Digits, ranks: Ranks,
          tick: Callable[[], None] = lambda: None) -> Run:
    """Train one model under one schedule; ``tick`` is called after every epoch."""
    torch.manual_seed(seed)
    model: nn.Module = lenet()
    if ranks.size > 1:
        model = nn.parallel.DistributedDataParallel(model)
        # The first conv's weight gradient has a size-1 input-channel dimension whose stride
        # differs from DDP's bucket view; the layouts are equivalent, the warning is noise.
        warnings.filterwarnings("ignore", message="Grad strides do not match bucket view")
    opt = torch.optim.SGD(model.parameters(), lr=BASE_LR, momentum=MOMENTUM)
    per_epoch = math.ceil(len(data.train_x) / BATCH_SIZE)
    scheduler = make(opt, epochs * per_epoch, per_epoch)
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    run = Run(spec, seed)
    began = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        loss_sum = correct = count = 0.0
        for index in batches(len(data.train_x), seed, epoch, ranks):
            x, y = data.train_x[index], data.train_y[index]
            run.lrs.append(float(opt.param_groups[0]["lr"]))
            opt.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            (loss / BATCH_SIZE * ranks.size).backward()  # DDP averages over ranks
            opt.step()
            scheduler.step()
            loss_sum += float(loss.detach())
            correct += float((out.argmax(1) == y).sum())
            count += len(y)
        loss_sum, correct, count = ranks.total([loss_sum, correct, count])
        model.eval()
        with torch.no_grad():
            test_acc = float((model(data.test_x).argmax(1) == data.test_y).float().mean())
        ranks.check_same([float(g["lr"]) for g in opt.param_groups], f"the lr after epoch {epoch}")
        run.epochs.append({"epoch": epoch + 1, "train_loss": loss_sum / count,
                           "train_acc": correct / count, "test_acc": test_acc})
        tick()
    run.seconds = time.perf_counter() - began
    return run


def compare(specs: list[str], ranks: Ranks, *, epochs: int = 30, seeds: int = 2,
            tick: Callable[[], None] = lambda: None) -> list[Run]:
    """Train under every schedule in ``specs`` for every seed in ``range(seeds)``; ``tick`` is
    called after every epoch of every run (for a progress bar)."""
    makers = {spec: factory(spec) for spec in specs}
    # one thread: the same reductions in the same order on every run of this machine and build
    # (another CPU or PyTorch build may still round differently), and fastest for this model
    torch.set_num_threads(1)
    data = load_digits()
    return [train(spec, makers[spec], seed, epochs, data, ranks, tick)
            for spec in specs for seed in range(seeds)]
