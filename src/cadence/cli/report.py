"""The experiment's report: the comparison table, the figures and ``report.md``."""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from rich.table import Table

from cadence.cli.experiment import BASE_LR, BATCH_SIZE, MOMENTUM, Run

COLUMNS = ("train_loss", "train_acc", "test_acc")
HEADERS = ("schedule", "final train loss", "train acc", "test acc", "time (s)")


def by_schedule(runs: Sequence[Run]) -> dict[str, list[Run]]:
    out: dict[str, list[Run]] = {}
    for run in runs:
        out.setdefault(run.schedule, []).append(run)
    return out


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std(ddof=1)) if array.size > 1 else 0.0


def _cell(values: Sequence[float], digits: int) -> str:
    mean, std = mean_std(values)
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def rows(runs: Sequence[Run]) -> list[list[str]]:
    """One row per schedule: final train loss, train and test accuracy (mean ± std over
    seeds) and wall time per run."""
    out = []
    for name, group in by_schedule(runs).items():
        out.append([name, _cell([r.final("train_loss") for r in group], 4),
                    _cell([r.final("train_acc") for r in group], 4),
                    _cell([r.final("test_acc") for r in group], 4),
                    _cell([r.seconds for r in group], 2)])
    return out


def table(runs: Sequence[Run], title: str | None = None) -> Table:
    """The comparison as a rich table."""
    out = Table(title=title)
    for i, header in enumerate(HEADERS):
        out.add_column(header, justify="left" if i == 0 else "right")
    for row in rows(runs):
        out.add_row(*row)
    return out


def markdown(runs: Sequence[Run]) -> str:
    """The comparison as a Markdown table."""
    lines = ["| " + " | ".join(HEADERS) + " |",
             "| " + " | ".join(["---"] + ["---:"] * (len(HEADERS) - 1)) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows(runs)]
    return "\n".join(lines)


def lr_figure(runs: Sequence[Run], steps_per_epoch: int) -> Figure:
    """The lr every schedule applied at every step (first seed), in one figure."""
    fig = Figure(figsize=(9, 4.5), layout="constrained")
    ax = fig.subplots()
    for name, group in by_schedule(runs).items():
        lrs = np.asarray(group[0].lrs)
        ax.plot(np.arange(lrs.size) / steps_per_epoch, lrs, label=name, linewidth=1.5)
    ax.set(title="learning rate applied at each step", xlabel="epoch", ylabel="lr")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", ncols=2)
    return fig


def training_figure(runs: Sequence[Run]) -> Figure:
    """Train loss, train accuracy and test accuracy per epoch: the mean over seeds, with the
    range across seeds shaded."""
    fig = Figure(figsize=(13, 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    titles = {"train_loss": "train loss", "train_acc": "train accuracy",
              "test_acc": "test accuracy"}
    for i, (name, group) in enumerate(by_schedule(runs).items()):
        epochs = [e["epoch"] for e in group[0].epochs]
        for ax, key in zip(axes, COLUMNS):
            values = np.array([[e[key] for e in r.epochs] for r in group])
            ax.plot(epochs, values.mean(axis=0), label=name, color=f"C{i % 10}", linewidth=1.5)
            ax.fill_between(epochs, values.min(axis=0), values.max(axis=0), color=f"C{i % 10}",
                            alpha=0.15, linewidth=0)
    for ax, key in zip(axes, COLUMNS):
        ax.set(title=titles[key], xlabel="epoch")
        ax.grid(True, alpha=0.3)
    axes[0].set_yscale("log")
    axes[2].legend(fontsize="small")
    return fig


def write(runs: Sequence[Run], out: Path, *, epochs: int, seeds: int, world_size: int,
          seconds: float) -> list[Path]:
    """Write ``lr.png``, ``training.png``, ``results.json`` and ``report.md`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    steps_per_epoch = max(1, math.ceil(len(runs[0].lrs) / max(1, len(runs[0].epochs))))
    lr_figure(runs, steps_per_epoch).savefig(out / "lr.png", dpi=110)
    training_figure(runs).savefig(out / "training.png", dpi=110)
    results: dict[str, Any] = {
        "setup": {"epochs": epochs, "seeds": seeds, "batch_size": BATCH_SIZE, "lr": BASE_LR,
                  "momentum": MOMENTUM, "processes": world_size, "torch": torch.__version__},
        "runs": [{"schedule": r.schedule, "seed": r.seed, "seconds": r.seconds,
                  "epochs": r.epochs, "lrs": r.lrs} for r in runs]}
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    names = ", ".join(by_schedule(runs))
    text = f"""# cadence: schedules compared on the digits task

Seed 004's experiment on scikit-learn's 8x8 digits (1,347 training and 450 test images, a
stratified split with a fixed seed): a LeNet-style CNN trained with SGD (lr {BASE_LR}, momentum
{MOMENTUM}, batch {BATCH_SIZE}) for {epochs} epochs under each schedule, {seeds} seed(s) each
({world_size} process{"es" if world_size > 1 else ""}, {seconds:.0f} s in all, torch
{torch.__version__}, {platform.machine()}). Values are the last epoch's, mean ± standard deviation
over seeds; time is per run.

Schedules: {names}.

{markdown(runs)}

![learning rates](lr.png)

![loss and accuracy](training.png)

Raw numbers per epoch and seed are in `results.json`.
"""
    (out / "report.md").write_text(text, encoding="utf-8")
    return [out / "report.md", out / "lr.png", out / "training.png", out / "results.json"]
