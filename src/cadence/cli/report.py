"""The experiment's report: the comparison table, the figures and ``report.md``."""

from __future__ import annotations

import io
import json
import math
import os
import platform
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from rich.table import Table

from cadence.cli.experiment import BASE_LR, BATCH_SIZE, MOMENTUM, Run, relative
from cadence.cli.outputs import Folder

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


# Dash patterns, one a schedule (with its colour): where two schedules' lrs are the same (the
# constant and a step decay before its first drop), the one drawn later is dashed and thinner,
# so the one beneath shows through its gaps and along its edges.
DASHES: tuple[Any, ...] = ("-", (0, (6, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)), (0, (3, 1.5)),
                           (0, (10, 3)), (0, (1, 3)), (0, (6, 2, 1, 2, 1, 2)), (0, (2, 2)),
                           (0, (12, 2, 2, 2)))
WIDEST, THINNEST = 2.6, 1.2  # line widths of the first and the last schedule drawn


def line_styles(count: int) -> list[dict[str, Any]]:
    """The colour, dash pattern and width of each of ``count`` curves, in drawing order: no two
    alike in colour and dash (up to 90 curves), each drawn thinner than those beneath it,
    and every one but the first dashed.

    >>> [(s["color"], s["linewidth"]) for s in line_styles(3)]
    [('C0', 2.6), ('C1', 1.9), ('C2', 1.2)]
    """
    step = (WIDEST - THINNEST) / max(1, count - 1)
    dashed = len(DASHES) - 1  # the patterns after the first, solid one
    return [{"color": f"C{i % 10}",
             "linestyle": DASHES[1 + (i % 10 + i // 10) % dashed] if i else DASHES[0],
             "linewidth": round(WIDEST - step * i, 6) if count > 1 else 2.0}
            for i in range(count)]


def lr_figure(runs: Sequence[Run], steps_per_epoch: int) -> Figure:
    """The lr every schedule applied at every step (first seed), in one figure: the absolute
    lr on the left axis and, on the right, the same curves read as factors of the base lr
    ``BASE_LR`` (lr / base lr). Curves that coincide stay visible (:func:`line_styles`)."""
    fig = Figure(figsize=(9, 4.5), layout="constrained")
    ax = fig.subplots()
    groups = by_schedule(runs)
    for (name, group), style in zip(groups.items(), line_styles(len(groups))):
        lrs = np.asarray(group[0].lrs)
        ax.plot(np.arange(lrs.size) / steps_per_epoch, lrs, label=name, **style)
    setup = f"(SGD, momentum {MOMENTUM}, batch {BATCH_SIZE})"
    if all(relative(name) for name in by_schedule(runs)):
        title = f"lr applied at each step: base lr {BASE_LR} × the schedule's factor {setup}"
    else:
        title = f"lr applied at each step {setup}"
    ax.set(title=title, xlabel="epoch", ylabel="lr (absolute)")
    factor = ax.secondary_yaxis("right", functions=(_per_base, _times_base))
    factor.set_ylabel(f"factor of the base lr {BASE_LR}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", ncols=2)
    return fig


def _per_base(lr: Any) -> Any:
    return np.asarray(lr) / BASE_LR


def _times_base(factor: Any) -> Any:
    return np.asarray(factor) * BASE_LR


def bands(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column of ``values`` (seeds x epochs): the mean (the table's), and the lowest and
    the highest value over the seeds. The band holds every seed's curve and, drawn on a log
    axis, never reaches below the lowest value: a band of mean ± std does wherever the std
    exceeds the mean, and a log axis sends it to the bottom as if the loss had collapsed.

    >>> [a.tolist() for a in bands([[1.0, 0.5], [2.0, 0.1], [6.0, 0.3]])]
    [[3.0, 0.3], [1.0, 0.1], [6.0, 0.5]]
    """
    array = np.asarray(values, dtype=float)
    return array.mean(axis=0), array.min(axis=0), array.max(axis=0)


BAND_LABEL = "shaded: lowest to highest seed"


def training_figure(runs: Sequence[Run]) -> Figure:
    """Train loss (on a log axis), train accuracy and test accuracy per epoch: the mean over
    seeds, shaded from the lowest to the highest seed (:func:`bands`), one legend for all;
    each schedule in the style of :func:`lr_figure`, so curves that coincide (the constant
    and a step decay before its first drop train alike) stay visible.
    Where a band's lowest value is not above 0 (a loss of exactly 0), the log axis leaves a
    gap rather than draw it."""
    from matplotlib.patches import Patch

    fig = Figure(figsize=(13, 4.6), layout="constrained")
    axes = fig.subplots(1, 3)
    groups = by_schedule(runs)
    for (name, group), style in zip(groups.items(), line_styles(len(groups))):
        epochs = [e["epoch"] for e in group[0].epochs]
        for ax, key in zip(axes, COLUMNS):
            mean, low, high = bands([[e[key] for e in r.epochs] for r in group])
            if key in LOG_SCALE:
                low = np.where(low > 0, low, np.nan)
            ax.plot(epochs, mean, label=name, **style)
            ax.fill_between(epochs, low, high, color=style["color"], alpha=0.15, linewidth=0,
                            gid=name)
    for ax, key in zip(axes, COLUMNS):
        ax.set(title=TITLES[key], xlabel="epoch", ylabel=YLABELS[key])
        ax.grid(True, alpha=0.3)
        if key in LOG_SCALE:
            ax.set_yscale("log")
    handles, labels = axes[0].get_legend_handles_labels()
    seeds = min(len(g) for g in groups.values())
    if seeds > 1:
        handles.append(Patch(color="0.5", alpha=0.3, linewidth=0))
        labels.append(BAND_LABEL)
    fig.legend(handles, labels, loc="outside right upper", fontsize="small", title="schedule")
    fig.suptitle(band_caption(seeds))
    return fig


LOG_SCALE = ("train_loss",)  # the panels drawn on a log axis
TITLES = {"train_loss": "train loss", "train_acc": "train accuracy",
          "test_acc": "test accuracy"}
YLABELS = {"train_loss": "cross-entropy, mean over the epoch (log scale)",
           "train_acc": "fraction correct over the epoch",
           "test_acc": "fraction of the test images correct"}


def band_caption(seeds: int) -> str:
    """What the training figure's curves and bands are."""
    if seeds < 2:
        return "one seed per schedule: the curves are that run (no band)"
    return (f"lines: mean over {seeds} seeds (the table's mean); shaded: from the lowest to the "
            "highest seed")


FILES = ("report.md", "lr.png", "training.png", "results.json")  # what write() writes, in order


def render(runs: Sequence[Run], *, epochs: int, seeds: int, world_size: int,
           seconds: float) -> dict[str, bytes]:
    """The contents of ``report.md``, ``lr.png``, ``training.png`` and ``results.json``."""
    steps_per_epoch = max(1, math.ceil(len(runs[0].lrs) / max(1, len(runs[0].epochs))))
    results: dict[str, Any] = {
        "setup": {"epochs": epochs, "seeds": seeds, "batch_size": BATCH_SIZE, "lr": BASE_LR,
                  "momentum": MOMENTUM, "processes": world_size, "torch": torch.__version__},
        "runs": [{"schedule": r.schedule, "seed": r.seed, "seconds": r.seconds,
                  "epochs": r.epochs, "lrs": r.lrs} for r in runs]}
    figures = {"lr.png": _png(lr_figure(runs, steps_per_epoch)),
               "training.png": _png(training_figure(runs))}
    text = report_text(runs, epochs=epochs, seeds=seeds, world_size=world_size,
                       seconds=seconds, cpu_seconds=time.process_time())  # the figures drawn
    return {"report.md": text.encode("utf-8"), **figures,
            "results.json": (json.dumps(results, indent=1) + "\n").encode("utf-8")}


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def write(runs: Sequence[Run], out: Path, *, epochs: int, seeds: int, world_size: int,
          seconds: float, force: bool = False) -> list[Path]:
    """Write ``report.md``, ``lr.png``, ``training.png`` and ``results.json`` into ``out``,
    each whole, replacing only files cadence wrote there and that are unchanged since, unless
    ``force`` (:class:`cadence.cli.outputs.Folder`)."""
    contents = render(runs, epochs=epochs, seeds=seeds, world_size=world_size, seconds=seconds)
    return Folder(out, FILES, force=force).write(contents)


def report_text(runs: Sequence[Run], *, epochs: int, seeds: int, world_size: int,
                seconds: float, cpu_seconds: float) -> str:
    """``report.md``: the setup, what the lrs are, the table, the figures and what repeats."""
    names = ", ".join(by_schedule(runs))
    processes = f"{world_size} process{'es' if world_size > 1 else ''}"
    return _fill(f"""# cadence: schedules compared on the digits task

The learning-rate comparison of Dive into Deep Learning, on scikit-learn's 8x8 digits (1,347
training and 450 test images, a stratified split with a fixed seed): a LeNet-style CNN
trained with SGD (lr {BASE_LR}, momentum {MOMENTUM}, batch {BATCH_SIZE}) for {epochs} epochs
under each schedule, {seeds} seed(s) each ({processes}, torch {torch.__version__},
{platform.machine()}, {_cores()} CPU cores, {torch.get_num_threads()} torch thread(s)).
Training took {seconds:.0f} s of wall time; this process had used {cpu_seconds:.0f} s of CPU
time (user + system, all threads) when it wrote the report. Values are the last epoch's, mean
± sample standard deviation over seeds; time is wall time per run.

Schedules: {names}. {lr_note(runs)}

{markdown(runs)}

![learning rates](lr.png)

`lr.png`: the lr in the optimizer at every step of each schedule's first seed; the left axis is
the absolute lr, the right axis the same lr as a factor of the base lr {BASE_LR}.

![loss and accuracy](training.png)

`training.png`: {band_note(seeds)}

{REPEATS}

Raw numbers per epoch and seed are in `results.json`.
""")


def _fill(text: str) -> str:
    """Every prose paragraph of ``text`` wrapped at 100 columns (headings, tables and images
    as they are)."""
    paragraphs = text.split("\n\n")
    kept = ("#", "|", "!")
    return "\n\n".join(p if p.startswith(kept) else textwrap.fill(" ".join(p.split()), 100)
                       for p in paragraphs)


def _cores() -> int | None:
    """The CPU cores this process may run on (what a container grants, where it says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count()


def lr_note(runs: Sequence[Run]) -> str:
    """What the schedules' values are: factors that multiply the base lr, except for scheduler
    configs whose lrs do not scale with it (:func:`cadence.cli.experiment.relative`)."""
    names = list(by_schedule(runs))
    configs = [n for n in names if not relative(n)]
    factors = (f"factors that multiply the base lr {BASE_LR} (SGD, momentum {MOMENTUM}, batch "
               f"{BATCH_SIZE}): the lr at step t is {BASE_LR} × schedule(t)")
    if not configs:
        return f"Each schedule's values are {factors}."
    text = (f"{', '.join(configs)}: scheduler config(s) whose lrs do not scale with the base lr "
            "(absolute values such as a max_lr, or a floor such as eta_min).")
    if len(configs) < len(names):
        others = ", ".join(n for n in names if n not in configs)
        text = f"The values of {others} are {factors}. " + text
    return text


def band_note(seeds: int) -> str:
    """What the training figure's lines and bands are, in the report."""
    if seeds < 2:
        return "train loss, train and test accuracy per epoch of the one seed (no band)."
    return (f"train loss (log axis), train and test accuracy per epoch: the lines are the mean "
            f"over the {seeds} seeds (the table's mean), the shaded bands reach from the lowest "
            "to the highest seed, so every seed's curve lies inside (a mean ± std band would "
            "reach 0 or below wherever the seeds differ more than the mean, which a log axis "
            "draws as a plunge to the bottom).")


REPEATS = """**What repeats, what does not.** A seed fixes the initial weights and the order of the
batches, and torch runs on one thread (`torch.set_num_threads(1)`), so the same command on the
same machine and PyTorch build gives the same numbers, every digit. Another CPU, PyTorch build
or thread count (or several processes, whose gradients are averaged) rounds the floating-point
reductions differently, the runs drift apart a little and the table's last digits differ. The
times depend on the machine and its load."""
