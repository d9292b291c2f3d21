"""How well cadence.tools.forecast's laws predict the loss of schedules they were not fitted to.

Three experiments, each law (multi-power, annealing, and the area law as the baseline) fitted
to a few runs and judged on others.

- ``replication``: the multi-power law paper's 25M model (tests/data/multipowerlaw_25m, lrs
  rebuilt as its SOURCE.md says, checked against the CSVs' lr column): each law fitted to the
  paper's three training runs (cosine_24000, constant_24000, wsdcon_9; the points at update
  24000 left out), then the six other runs predicted. PredE: the mean over the six runs of each
  run's mean relative error; WorstE: the mean over the six of each run's largest relative
  error; the fit's time.
- ``stream``: a one-pass linear regression (forecast_tasks.Stream: 1000 dimensions, input
  covariance eigenvalues i**-1.5, label noise 0.5, plain SGD with batches of 8 fresh samples,
  peak lr 0.8, half the largest lr at which the mean squared error stays bounded, a warm-up of
  100 updates). The loss is the population loss, exact from the weights, averaged over 16
  independent streams (the same streams under every schedule). Each law is fitted to a
  constant and a cosine run of 2000 updates, and predicts six schedules of 6000 updates (WSD
  with a linear and a 1-sqrt cooldown over the last 20%, cosine, linear decay, step decay,
  two-stage), every decay ending at a tenth of the peak. Figures: Spearman's rank correlation
  between predicted and measured final losses (the loss after the last update); the share of
  pairs ordered correctly among those whose measured final losses differ by more than two
  standard errors (of the streams' paired differences); the mean absolute relative error of
  the final losses, the same of the loss above the noise floor (the label noise's, known
  exactly), and the mean relative error over each predicted curve.
- ``builtin``: the demo's eight schedules on the built-in task (``cadence demo``'s training
  code: the digits LeNet, SGD lr 0.02, momentum 0.9, batch 64, 30 epochs), three seeds. The
  loss of a run is each epoch's mean training loss attached to the epoch's last update. Each
  law is fitted once, to the constant and cosine runs of all three seeds together, and
  predicts the six other schedules' final losses (the last epoch's). Figures: Spearman's rank
  correlation between predicted and measured (mean over the seeds) final losses; the share of
  pairs the prediction orders correctly among the pairs whose measured means differ by more
  than two standard errors of their difference (sqrt(se_a**2 + se_b**2), each se the standard
  error of a mean over the seeds); the median relative error of the final losses.

Everything is deterministic: fixed seeds, torch on one thread, the fits from fixed starting
points (on the same machine and builds; the fits' times vary with the machine and its load).

A note follows an experiment's figures where a law's fit ended worse, by the fit's own
objective, than the area law's (which the other two laws hold: their fit stopped short), and
where a law predicts a loss below 0.

Run: ``.venv/bin/python bench/bench_forecast.py [--only NAME] [--json PATH]`` (about 3 minutes
on two cores: the multi-power law's fit to the 25M runs about one, the stream's SGD runs about
one, the built-in task's 24 trainings under one).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

sys.path.insert(0, str(Path(__file__).resolve().parent))

import forecast_tasks as tasks

from cadence.tools.forecast import DELTA, Forecast, Run, fit

LAWS = ("multi-power", "annealing", "area")
EXPERIMENTS = ("replication", "stream", "builtin")


@contextmanager
def bar(description: str, total: int) -> Iterator[Any]:
    """A progress bar; yields a function that advances it by one."""
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn()) as progress:
        task = progress.add_task(description, total=total)
        yield lambda: progress.advance(task)


def spearman(a: list[float], b: list[float]) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def pct(value: float, digits: int = 2) -> str:
    return f"{100 * value:.{digits}f}%"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table, the first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(headers) + " |",
             "| --- | " + " | ".join(["---:"] * (len(headers) - 1)) + " |"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def fits(runs: list[Run], tick: Any) -> dict[str, Forecast]:
    out = {}
    for law in LAWS:
        out[law] = fit(runs, law)
        tick()
    return out


def objective(model: Forecast, runs: list[Run]) -> float:
    """What ``fit`` minimises: the Huber loss (threshold ``DELTA``) of the log residuals,
    summed over the runs' measured losses."""
    total = 0.0
    for run in runs:
        predicted = np.maximum(model.predict(run.lrs, run.steps).loss, 1e-12)
        r = np.abs(np.log(run.losses) - np.log(predicted))
        total += float(np.where(r <= DELTA, 0.5 * r * r, DELTA * (r - 0.5 * DELTA)).sum())
    return total


def notes(models: dict[str, Forecast], laws: dict[str, Any], runs: list[Run]) -> list[str]:
    """What to know about the fits, printed: a law whose fit to ``runs`` is worse than the
    area law's by the fit's own objective (both others hold the area law, at B = 0 or C = 0:
    their fit stopped short of a minimum), and a predicted loss below 0."""
    area = objective(models["area"], runs)
    out = []
    for law, m in models.items():
        value = objective(m, runs)
        if law != "area" and value > area * (1 + 1e-9):
            out.append(f"note: the {law} law's fit is worse than the area law's, which it "
                       f"holds (objective {value:.6g} against {area:.6g}): it stopped short "
                       f"({', '.join(f'{k}={v:.4g}' for k, v in m.params.items())})")
    out += [f"note: the {law} law predicts a final loss below 0 for {name} ({value:.4f})"
            for law, f in laws.items() for name, value in f.get("predicted", {}).items()
            if value <= 0]
    for line in out:
        print(line)
    return out


# -- 1. the 25M runs ------------------------------------------------------------------------------
def replication() -> dict[str, Any]:
    train = [tasks.run_25m(name) for name in tasks.TRAIN_25M]
    held = [tasks.run_25m(name) for name in tasks.HELD_OUT_25M]
    with bar("replication: fitting the laws to the 25M runs", len(LAWS)) as tick:
        models = fits(train, tick)
    figures: dict[str, Any] = {"laws": {}, "runs": {}}
    for law, model in models.items():
        errors = {run.name: model.errors(run) for run in held}
        figures["laws"][law] = {
            "PredE": statistics.mean(e[0] for e in errors.values()),
            "WorstE": statistics.mean(e[1] for e in errors.values()),
            "fit_seconds": model.fit_seconds,
            "params": model.params,
        }
        for name, (mean, worst) in errors.items():
            figures["runs"].setdefault(name, {})[law] = {"mean": mean, "max": worst}
    print("\nreplication: the 25M model, fitted to " + ", ".join(tasks.TRAIN_25M)
          + "; the six other runs predicted")
    print(table(["law", "PredE", "WorstE", "fit time"],
                [[law, pct(f["PredE"], 3), pct(f["WorstE"], 3), f"{f['fit_seconds']:.1f} s"]
                 for law, f in figures["laws"].items()]))
    figures["notes"] = notes(models, figures["laws"], train)
    print("\neach held-out run's mean (largest) relative error")
    print(table(["run", *LAWS],
                [[name, *(f"{pct(e[law]['mean'], 3)} ({pct(e[law]['max'], 3)})"
                          for law in LAWS)] for name, e in figures["runs"].items()]))
    return figures


# -- 2. the stream ------------------------------------------------------------------------------
def stream() -> dict[str, Any]:
    task = tasks.Stream()
    schedules = task.schedules()
    measured: dict[str, tuple[Run, np.ndarray]] = {}
    with bar("stream: SGD runs, then the fits", len(schedules) + len(LAWS)) as tick:
        for name, (schedule, total) in schedules.items():
            measured[name] = task.run(name, schedule, total)
            tick()
        fitted = [run for name, (run, _) in measured.items() if name.endswith("(fit)")]
        models = fits(fitted, tick)
    targets = {name: value for name, value in measured.items() if not name.endswith("(fit)")}
    names = list(targets)
    finals = [targets[n][0].losses[-1] for n in names]
    floor = task.floor

    def stderr(values: np.ndarray) -> float:
        return float(values.std(ddof=1) / math.sqrt(values.size))

    # the same streams under every schedule: a pair differs when the replicas' paired
    # differences have a mean more than two standard errors from 0
    distinct = [(a, b) for a, b in combinations(names, 2)
                if abs(finals[names.index(a)] - finals[names.index(b)])
                > 2 * stderr(targets[a][1] - targets[b][1])]
    figures: dict[str, Any] = {
        "task": {"dim": task.dim, "exponent": task.exponent, "noise": task.noise,
                 "batch": task.batch, "peak": task.peak, "warmup": task.warmup,
                 "horizon": task.horizon, "fit_horizon": task.horizon // 3,
                 "every": task.every, "replicas": task.replicas, "floor": floor},
        "measured": {name: {"final": float(run.losses[-1]), "stderr": stderr(last)}
                     for name, (run, last) in measured.items()},
        "distinct_pairs": len(distinct), "pairs": len(names) * (len(names) - 1) // 2,
        "laws": {}}
    for law, model in models.items():
        predicted = [model.predict(targets[n][0].lrs, [targets[n][0].steps[-1]]).final
                     for n in names]
        by_name = dict(zip(names, predicted))
        right = sum((by_name[a] - by_name[b]) * (finals[names.index(a)] - finals[names.index(b)])
                    > 0 for a, b in distinct)
        figures["laws"][law] = {
            "spearman": spearman(predicted, finals),
            "ordered": right / len(distinct) if distinct else math.nan,
            "final_error": statistics.mean(abs(p - m) / m for p, m in zip(predicted, finals)),
            "excess_error": statistics.mean(abs(p - m) / (m - floor)
                                            for p, m in zip(predicted, finals)),
            "curve_error": statistics.mean(model.errors(targets[n][0])[0] for n in names),
            "predicted": by_name,
            "fit_residuals": model.residuals,
            "params": model.params, "fit_seconds": model.fit_seconds}
    print(f"\nstream: linear regression, {task.dim} dimensions, eigenvalues "
          f"i**-{task.exponent}, label noise {task.noise} (floor {floor:.4f}), SGD batch "
          f"{task.batch}, peak lr {task.peak}, warm-up {task.warmup}; fitted to constant and "
          f"cosine over {task.horizon // 3} updates, six schedules predicted at {task.horizon}; "
          f"the loss: the population loss, the mean over {task.replicas} streams, every "
          f"{task.every} updates")
    rows = []
    for name, (run, last) in measured.items():
        row = [name, f"{run.losses[-1]:.5f} ± {stderr(last):.5f}"]
        if name in targets:
            row += [f"{figures['laws'][law]['predicted'][name]:.5f}" for law in LAWS]
        else:
            row += [f"(fit: {pct(models[law].residuals[name]['mean'], 3)})" for law in LAWS]
        rows.append(row)
    print(table(["schedule", "measured final ± se", *LAWS], rows))
    print(f"\n{len(distinct)} of {figures['pairs']} pairs differ by more than two standard "
          "errors (paired over the streams)")
    print(table(["law", "Spearman", "pairs ordered right", "final: mean abs. rel. error",
                 "above the floor: mean abs. rel. error", "curve: mean rel. error"],
                [[law, f"{f['spearman']:.3f}", pct(f["ordered"], 0), pct(f["final_error"]),
                  pct(f["excess_error"]), pct(f["curve_error"])]
                 for law, f in figures["laws"].items()]))
    figures["notes"] = notes(models, figures["laws"], fitted)
    return figures


# -- 3. the built-in task -------------------------------------------------------------------------
def builtin(epochs: int, seeds: int) -> dict[str, Any]:
    from cadence.cli.experiment import DEMO

    with bar("builtin: training the demo's schedules", len(DEMO) * seeds * epochs) as tick:
        runs = tasks.builtin_runs(epochs, seeds, tick)
    fitted = runs["constant"] + runs["cosine"]
    with bar("builtin: fitting the laws", len(LAWS)) as tick:
        models = fits(fitted, tick)
    targets = {name: seeded for name, seeded in runs.items() if name not in ("constant", "cosine")}
    means = {name: statistics.mean(r.losses[-1] for r in seeded)
             for name, seeded in runs.items()}
    stderrs = {name: statistics.stdev(r.losses[-1] for r in seeded) / math.sqrt(len(seeded))
               if len(seeded) > 1 else 0.0 for name, seeded in runs.items()}
    names = list(targets)
    measured = [means[n] for n in names]
    distinct = [(a, b) for a, b in combinations(names, 2)
                if abs(means[a] - means[b]) > 2 * math.hypot(stderrs[a], stderrs[b])]
    figures: dict[str, Any] = {
        "epochs": epochs, "seeds": seeds,
        "measured": {n: {"final": means[n], "stderr": stderrs[n]} for n in runs},
        "distinct_pairs": len(distinct), "pairs": len(names) * (len(names) - 1) // 2,
        "laws": {}}
    for law, model in models.items():
        predicted = {n: statistics.mean(model.predict(r.lrs, [r.steps[-1]]).final
                                        for r in targets[n]) for n in names}
        right = sum((predicted[a] - predicted[b]) * (means[a] - means[b]) > 0
                    for a, b in distinct)
        figures["laws"][law] = {
            "spearman": spearman([predicted[n] for n in names], measured),
            "ordered": right / len(distinct) if distinct else math.nan,
            "median_error": float(np.median([abs(predicted[n] - means[n]) / means[n]
                                             for n in names])),
            "predicted": predicted,
            "fit_residuals": model.residuals,
            "params": model.params, "fit_seconds": model.fit_seconds}
    print(f"\nbuiltin: the demo's schedules, {epochs} epochs, {seeds} seeds; the loss: each "
          "epoch's mean training loss at the epoch's last update; fitted to the constant and "
          "cosine runs of every seed together")
    rows = []
    for name in runs:
        row = [name, f"{means[name]:.4f} ± {stderrs[name]:.4f}"]
        if name in targets:
            row += [f"{figures['laws'][law]['predicted'][name]:.4f}" for law in LAWS]
        else:
            residual = {law: statistics.mean(models[law].residuals[r.name]["mean"]
                                             for r in runs[name]) for law in LAWS}
            row += [f"(fit: {pct(residual[law])})" for law in LAWS]
        rows.append(row)
    print(table(["schedule", "measured final ± se", *LAWS], rows))
    print(f"\n{len(distinct)} of {figures['pairs']} pairs differ by more than two standard "
          "errors")
    print(table(["law", "Spearman", "pairs ordered right", "median rel. error"],
                [[law, f"{f['spearman']:.3f}", pct(f["ordered"], 0), pct(f["median_error"])]
                 for law, f in figures["laws"].items()]))
    figures["notes"] = notes(models, figures["laws"], fitted)
    return figures


# -- the summary --------------------------------------------------------------------------------
def summary(figures: dict[str, Any]) -> str:
    lines = []
    if "replication" in figures:
        lines.append("replication (25M model; PredE / WorstE / fit time):")
        for law, f in figures["replication"]["laws"].items():
            lines.append(f"  {law:12} {pct(f['PredE'], 3)} / {pct(f['WorstE'], 3)} / "
                         f"{f['fit_seconds']:.0f} s")
    if "stream" in figures:
        st = figures["stream"]
        lines.append(f"stream (linear regression; Spearman / pairs ordered right of "
                     f"{st['distinct_pairs']} distinct / final mean abs. rel. error / above the "
                     f"floor / curve mean rel. error):")
        for law, f in st["laws"].items():
            lines.append(f"  {law:12} {f['spearman']:.3f} / {pct(f['ordered'], 0)} / "
                         f"{pct(f['final_error'])} / {pct(f['excess_error'])} / "
                         f"{pct(f['curve_error'])}")
    if "builtin" in figures:
        b = figures["builtin"]
        lines.append(f"builtin (digits LeNet, {b['seeds']} seeds; Spearman / pairs ordered right "
                     f"of {b['distinct_pairs']} distinct / median rel. error):")
        for law, f in b["laws"].items():
            lines.append(f"  {law:12} {f['spearman']:.3f} / {pct(f['ordered'], 0)} / "
                         f"{pct(f['median_error'])}")
    for name in EXPERIMENTS:
        lines += [f"  {name}: {w}" for w in figures.get(name, {}).get("notes", [])]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=EXPERIMENTS, help="run one experiment (default: all)")
    parser.add_argument("--epochs", type=int, default=30,
                        help="builtin: epochs per run (default 30, the demo's)")
    parser.add_argument("--seeds", type=int, default=3, help="builtin: seeds (default 3)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)  # the same numbers on every run of this machine and build
    began = time.perf_counter()
    figures: dict[str, Any] = {}
    chosen = [args.only] if args.only else list(EXPERIMENTS)
    for name in chosen:
        start = time.perf_counter()
        if name == "replication":
            figures[name] = replication()
        elif name == "stream":
            figures[name] = stream()
        else:
            figures[name] = builtin(args.epochs, args.seeds)
        figures[name]["seconds"] = time.perf_counter() - start
    seconds = time.perf_counter() - began
    print(f"\nsummary (torch {torch.__version__}, numpy {np.__version__}; {seconds:.0f} s)")
    print(summary(figures))
    if args.json is not None:
        figures["seconds"] = seconds
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
