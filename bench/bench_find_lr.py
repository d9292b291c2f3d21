"""Which of find-lr's three suggestions trains best, measured on two small tasks.

For every task and seed: the LR range test (``cadence.tools.find_lr.find_lr``, as ``cadence
find-lr`` runs it) on a fresh model, then a fresh model of the same seed trained with each
rule's suggested lr, used two ways: as a constant lr, and as the peak of a one-cycle schedule
(``OneCycle``: warm-up to the peak over 30% of the run, cosine down to 1/10,000 of it). Each row
gives the suggested lr (geometric mean and range over the seeds) and the final train loss and
test metric (mean ± sample standard deviation over the seeds); the task's usual lr is the
reference.

find-lr's rules read the trailing moving average of the losses, which lags them (about 49
points with ``smoothing=0.98``). The rows marked "centred" apply the same rules to the losses
smoothed without lag (:func:`centred`), to measure what the lag does to the suggestions.

Tasks (nothing is downloaded):

- ``digits``: the built-in task, scikit-learn's 8x8 digits and the LeNet of ``cadence demo``,
  SGD with momentum 0.9, batch 64; the range test is ``cadence find-lr``'s default (1e-4 to 10,
  300 updates); trained for 12 epochs (264 updates); the metric is test accuracy. Reference:
  the demo's lr, 0.02.
- ``markov``: a one-layer GRU (hidden 64) predicting the next symbol of sequences drawn from a
  fixed random Markov chain over 12 symbols, Adam, batch 32; range test 1e-5 to 10, 200
  updates; trained for 15 epochs (240 updates); the metric is the held-out cross-entropy in
  nats per symbol (the chain's entropy rate is the floor). Reference: Adam's default lr, 1e-3.

Run: ``.venv/bin/python bench/bench_find_lr.py`` (about 5 minutes on one core; ``--seeds``).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from torch import nn

import cadence
from cadence.cli.task import BASE_LR, BATCH_SIZE, MOMENTUM, lenet, load_digits
from cadence.schedules import OneCycle
from cadence.tools.find_lr import RULES, Suggestion, find_lr, suggest

CENTRED_SHARE = 1 / 40  # the centred smoothing's half-window, as a share of the points

USES = ("constant", "one-cycle")


@dataclass
class Task:
    """A model, its optimizer, its batches and how it is judged."""

    name: str
    model: Callable[[], nn.Module]
    optimizer: Callable[[nn.Module, float], torch.optim.Optimizer]
    batches: Callable[[int, int], list[tuple[torch.Tensor, torch.Tensor]]]  # (seed, epoch)
    loss_fn: Callable[[Any, Any], torch.Tensor]
    metric: Callable[[nn.Module], float]
    metric_name: str
    higher_is_better: bool
    epochs: int
    sweep: tuple[float, float, int]  # start, end, updates
    reference: float


def shuffled(x: torch.Tensor, y: torch.Tensor, batch: int, seed: int,
             epoch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed * 10_007 + epoch))
    return [(x[i], y[i]) for i in order.split(batch)]


# -- the digits LeNet (the built-in task) -------------------------------------------------------
def digits_task() -> Task:
    data = load_digits()

    def accuracy(model: nn.Module) -> float:
        model.eval()
        with torch.no_grad():
            return float((model(data.test_x).argmax(1) == data.test_y).float().mean())

    return Task(
        "digits", lenet,
        lambda m, lr: torch.optim.SGD(m.parameters(), lr=lr, momentum=MOMENTUM),
        lambda seed, epoch: shuffled(data.train_x, data.train_y, BATCH_SIZE, seed, epoch),
        nn.CrossEntropyLoss(), accuracy, "test accuracy", True, 12, (1e-4, 10.0, 300), BASE_LR)


# -- next symbol of a Markov chain, a GRU -------------------------------------------------------
SYMBOLS, LENGTH, HIDDEN = 12, 32, 64


class NextSymbol(nn.Module):
    """Embedding, one GRU layer, a linear read-out: logits for the next symbol at each place."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(SYMBOLS, 16)
        self.gru = nn.GRU(16, HIDDEN, batch_first=True)
        self.out = nn.Linear(HIDDEN, SYMBOLS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden, _ = self.gru(self.embed(x))
        return self.out(hidden)  # (batch, length, symbols)


def markov_chain(count: int, rng: np.random.Generator, table: np.ndarray) -> torch.Tensor:
    """``count`` sequences of ``LENGTH + 1`` symbols drawn from the chain ``table``."""
    out = np.empty((count, LENGTH + 1), dtype=np.int64)
    out[:, 0] = rng.integers(SYMBOLS, size=count)
    cumulative = table.cumsum(axis=1)
    for t in range(1, LENGTH + 1):
        u = rng.random(count)[:, None]
        out[:, t] = (u > cumulative[out[:, t - 1]]).sum(axis=1).clip(max=SYMBOLS - 1)
    return torch.from_numpy(out)


def markov_task() -> Task:
    rng = np.random.default_rng(2024)
    table = rng.dirichlet(np.full(SYMBOLS, 0.3), size=SYMBOLS)  # a fixed, fairly sparse chain
    train, test = markov_chain(512, rng, table), markov_chain(256, rng, table)

    def loss_fn(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(logits.reshape(-1, SYMBOLS), targets.reshape(-1))

    def held_out(model: nn.Module) -> float:
        model.eval()
        with torch.no_grad():
            return float(loss_fn(model(test[:, :-1]), test[:, 1:]))

    return Task(
        "markov", NextSymbol, lambda m, lr: torch.optim.Adam(m.parameters(), lr=lr),
        lambda seed, epoch: shuffled(train[:, :-1], train[:, 1:], 32, seed, epoch),
        loss_fn, held_out, "held-out loss", False, 15, (1e-5, 10.0, 200), 1e-3)


def entropy_rate(table: np.ndarray) -> float:
    """The chain's entropy per symbol (nats) under its stationary distribution."""
    values, vectors = np.linalg.eig(table.T)
    stationary = np.real(vectors[:, np.argmin(np.abs(values - 1))])
    stationary /= stationary.sum()
    logs = np.log(np.where(table > 0, table, 1.0))
    return float(-(stationary[:, None] * table * logs).sum())


# -- the measurement ---------------------------------------------------------------------------
def fresh(task: Task, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return task.model()


def range_test(task: Task, seed: int) -> Any:
    model = fresh(task, seed)
    start, end, updates = task.sweep
    return find_lr(model, task.optimizer(model, start), task.loss_fn, task.batches(seed, 0),
                   start_lr=start, end_lr=end, num_iter=updates, seed=seed)


def train(task: Task, seed: int, lr: float, use: str) -> tuple[float, float]:
    """(final epoch's mean train loss, test metric) after ``task.epochs`` epochs; a run whose
    loss stops being finite ends there, and both are infinite (a divergence)."""
    model = fresh(task, seed)
    optimizer = task.optimizer(model, lr)
    steps = task.epochs * len(task.batches(seed, 0))
    # held here: a Scheduler that nobody holds is collected, and its hook with it
    scheduler = cadence.Scheduler(optimizer, lr=OneCycle(total_steps=steps)) \
        if use == "one-cycle" else None
    loss_sum = 0.0
    for epoch in range(task.epochs):
        model.train()
        loss_sum, count = 0.0, 0
        for x, y in task.batches(seed, epoch):
            optimizer.zero_grad()
            loss = task.loss_fn(model(x), y)
            if not torch.isfinite(loss):
                return math.inf, math.inf
            loss.backward()
            optimizer.step()
            loss_sum, count = loss_sum + float(loss.detach()) * len(y), count + len(y)
        loss_sum /= count
    metric = task.metric(model)
    del scheduler
    return loss_sum, metric if math.isfinite(metric) else math.inf


def cell(values: list[float], digits: int = 4) -> str:
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) < len(values):
        return f"diverged in {len(values) - len(finite)} of {len(values)}"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.{digits}f} ± {std:.{digits}f}"


def lr_cell(lrs: list[float]) -> str:
    geo = math.exp(statistics.mean(math.log(v) for v in lrs))
    return f"{geo:.3g} ({min(lrs):.2g}–{max(lrs):.2g})"


def centred(losses: list[float], share: float = CENTRED_SHARE) -> list[float]:
    """The losses smoothed by a centred window, so that no point lags: the median of the
    ``2h + 1`` points around each point, then the mean of those medians over the same window,
    ``h = max(1, round(share * m))`` for ``m`` finite points (the window shrinks symmetrically
    at the ends); the points from the first non-finite loss on stay as they are."""
    y = np.asarray(losses, dtype=np.float64)
    bad = ~np.isfinite(y)
    m = int(np.argmax(bad)) if bad.any() else len(y)
    half = max(1, round(share * m))

    def window(values: np.ndarray, reduce: Callable[..., Any]) -> np.ndarray:
        return np.array([reduce(values[i - k:i + k + 1]) for i in range(m)
                         for k in (min(half, i, m - 1 - i),)])

    out = y.copy()
    out[:m] = window(window(y[:m], np.median), np.mean)
    return [float(v) for v in out]


def measure(task: Task, seeds: int, progress: Any, bar: Any) -> list[list[str]]:
    """One row per source of an lr: each rule as find-lr reads it (the trailing average),
    each rule on the centred curve, and the reference lr."""
    found: dict[str, list[float]] = {rule: [] for rule in RULES}
    centred_found: dict[str, list[float]] = {f"{rule} (centred)": [] for rule in RULES}
    for seed in range(seeds):
        result = range_test(task, seed)
        other = suggest(result.lrs, centred(result.losses))
        for rule in RULES:
            s, c = result.suggestion(rule), other[rule]
            assert isinstance(s, Suggestion) and isinstance(c, Suggestion), (task.name, seed)
            found[rule].append(s.lr)
            centred_found[f"{rule} (centred)"].append(c.lr)
        progress.advance(bar)
    sources = {**found, **centred_found,
               f"reference {task.reference:g}": [task.reference] * seeds}
    rows = []
    for name, lrs in sources.items():
        row = [task.name, name, lr_cell(lrs)]
        for use in USES:
            results = [train(task, seed, lr, use) for seed, lr in enumerate(lrs)]
            progress.advance(bar, len(lrs))
            row += [cell([r[0] for r in results]), cell([r[1] for r in results])]
        rows.append(row)
    return rows


HEADERS = ("task", "lr from", "lr: geometric mean (range)", "constant: train loss",
           "constant: test metric", "one-cycle: train loss", "one-cycle: test metric")


def markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |",
             "| " + " | ".join(["---"] * 2 + ["---:"] * (len(HEADERS) - 2)) + " |"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds per task (default 5)")
    parser.add_argument("--tasks", nargs="+", choices=("digits", "markov"),
                        default=["digits", "markov"])
    args = parser.parse_args()
    torch.set_num_threads(1)  # the same numbers on every run of this machine and build
    makers = {"digits": digits_task, "markov": markov_task}
    tasks = [makers[name]() for name in args.tasks]
    runs = len(tasks) * args.seeds * (1 + (2 * len(RULES) + 1) * len(USES))
    began = time.perf_counter()
    rows: list[list[str]] = []
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn()) as progress:
        bar = progress.add_task("range tests and trainings", total=runs)
        for task in tasks:
            rows += measure(task, args.seeds, progress, bar)
    print(f"\n{args.seeds} seeds per task; torch {torch.__version__}, 1 thread; "
          f"{time.perf_counter() - began:.0f} s")
    for task in tasks:
        print(f"{task.name}: {task.epochs} epochs; test metric: {task.metric_name} "
              f"({'higher' if task.higher_is_better else 'lower'} is better)")
    if "markov" in args.tasks:
        table = np.random.default_rng(2024).dirichlet(np.full(SYMBOLS, 0.3), size=SYMBOLS)
        print(f"markov: the chain's entropy rate (the lowest loss possible): "
              f"{entropy_rate(table):.4f} nats per symbol")
    print()
    print(markdown(rows))


if __name__ == "__main__":
    main()
