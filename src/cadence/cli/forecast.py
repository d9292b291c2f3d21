"""``cadence forecast``: fit a loss law to logged runs (:mod:`cadence.tools.forecast`) and rank
candidate schedules by the final loss it predicts, beside the area law's prediction.

Everything that can be refused is refused before the fit, which can take tens of seconds: the
output paths (an existing file only with ``--force``), the runs' CSVs and the candidates. The
command imports numpy and scipy, rich for its tables, and matplotlib only with ``--out``.

>>> from cadence.cli import parser
>>> args = parser().parse_args(["forecast", "a.csv", "--candidates", "cosine", "wsd"])
>>> args.law, args.candidates
('multi-power', ['cosine', 'wsd'])
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cadence.cli import outputs
from cadence.cli.options import FIGURE_SUFFIXES, check_output_file, int_between, positive_number
from cadence.tools.curves import MAX_STEPS
from cadence.validation import InvalidInput, InvalidValue

LAWS = ("multi-power", "annealing", "area")  # cadence.tools.forecast_laws.LAWS (a test checks)
MIN_STEPS = 20  # what a preset is refused below
MAX_PEAK = 1e6  # --peak-lr, as find-lr's --end
SUMMARY = ("know before you train: fit a loss law to a few logged runs and rank candidate "
           "schedules by the final loss it predicts")
EXAMPLE = ("cadence forecast constant.csv cosine.csv --candidates cosine wsd one-cycle my.yaml "
           "--out forecast.png\n"
           "  cadence forecast losses.csv --lrs hyperparameters.csv --law annealing "
           "--candidates wsd cosine --steps 20000 --save model.json")
DESCRIPTION = (
    "Each RUN is a CSV with a header: an 'update' (or 'step') column, a 'loss' column (empty "
    "where the loss was not measured) and the lr of every update in an 'lr' (or 'lr/0') column; "
    "or, with --lrs, the lrs from the CSV that cadence's HyperparameterLog wrote for that run. "
    "The law (multi-power, Luo et al. 2025; annealing, Tissue et al. 2024; or area, the "
    "baseline: the loss as a power of the area under the lrs) is fitted to every measured loss "
    "of the runs; the table ranks the candidates by their predicted final loss, with a band from "
    "the fit's residuals and the area law's prediction beside it, and gives each fitted run's "
    "errors. A candidate is a preset, a schedule config file (YAML or JSON) or inline JSON; its "
    "values are factors of --peak-lr, over --steps updates. The laws were validated on one-pass "
    "LLM pretraining with AdamW: a forecast elsewhere is a guess to check (docs/forecast.md).")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The command's arguments, on its parser ``p``."""
    p.add_argument("runs", nargs="+", metavar="RUN", help="a CSV of one run (see above)")
    p.add_argument("--candidates", nargs="+", required=True, metavar="SPEC",
                   help="the schedules to rank: presets (cadence presets lists them), YAML or "
                        "JSON files, inline JSON; their values are factors of --peak-lr")
    p.add_argument("--law", choices=LAWS, default="multi-power",
                   help="the law to fit (default multi-power, the most accurate where it was "
                        "validated, and the slowest: tens of seconds; annealing and area take "
                        "about a second)")
    p.add_argument("--steps", type=int_between("--steps", MIN_STEPS, MAX_STEPS),
                   help="the candidates' length in updates (default: the longest RUN's; "
                        f"from {MIN_STEPS} to {MAX_STEPS:,}); past the longest RUN the "
                        "forecast is an extrapolation, and says so")
    p.add_argument("--peak-lr", type=positive_number("--peak-lr", MAX_PEAK),
                   help="the lr a candidate's factor of 1 stands for (default: the highest lr "
                        f"of the RUNs; at most {MAX_PEAK:g}); above it, an extrapolation")
    p.add_argument("--lrs", nargs="+", metavar="LOG", help="the lrs of each RUN, in the same "
                   "order: the CSV HyperparameterLog(optimizer, csv=...) wrote for it (its "
                   "'lr/0' column); the RUNs then need only the 'update' and 'loss' columns")
    p.add_argument("--out", metavar="FILE", help="also draw the fit and the forecast to this "
                   "file (.png, .svg, .pdf)")
    p.add_argument("--save", metavar="FILE", help="also write the fitted law to this JSON "
                   "file (cadence.tools.forecast.Forecast.load reads it)")
    p.add_argument("--force", action="store_true",
                   help="replace a file of the --out or --save name (refused otherwise)")


def _refuse_existing(option: str, path: str | None, force: bool, suffixes: tuple[str, ...]
                     ) -> None:
    """Refuse an output path that cannot be written, or one that exists (unless ``force``)."""
    if path is None:
        return
    check_output_file(option, path, suffixes)
    if not force and os.path.lexists(path):
        raise InvalidValue(f"{option} {path!r} exists: pass --force to overwrite it, or choose "
                           f"another {option}")


def _check_input(option: str, path: str) -> None:
    target = Path(path)
    if not target.exists():
        raise InvalidValue(f"{option}: no such file: {path!r}")
    if target.is_dir():
        raise InvalidValue(f"{option} {path!r} is a folder, not a CSV file")


def read_runs(paths: Sequence[str], lrs: Sequence[str] | None) -> list[Any]:
    """The runs of the RUN CSVs (with their --lrs logs); a mistake names the argument.

    >>> read_runs(["nowhere.csv"], None)
    Traceback (most recent call last):
    cadence.validation.InvalidValue: RUN: no such file: 'nowhere.csv'
    """
    from cadence.tools.forecast import Run

    if lrs is not None and len(lrs) != len(paths):
        raise InvalidValue(f"--lrs names {len(lrs)} file(s) for {len(paths)} RUN(s): give one "
                           "per RUN, in the same order")
    logs: Sequence[str | None] = lrs if lrs is not None else [None] * len(paths)
    runs = []
    for path, log in zip(paths, logs):
        _check_input("RUN", path)
        if log is not None:
            _check_input("--lrs", log)
        try:
            run = Run.from_csv(path, lrs=log)
        except InvalidInput as exc:
            text = str(exc)
            if log is not None and text.startswith(str(log)):
                raise InvalidValue(f"--lrs {text}") from None
            prefix = "RUN " if text.startswith(str(path)) else f"RUN {path!r}: "
            raise InvalidValue(prefix + text) from None
        runs.append(run)
    names = [r.name for r in runs]
    if len(set(names)) < len(names):  # two runs named alike (a/run.csv, b/run.csv): by path
        runs = [Run(str(p), r.lrs, r.steps, r.losses) for p, r in zip(paths, runs)]
    return runs


def read_candidates(specs: Sequence[str], total: int, peak: float) -> dict[str, Any]:
    """Each candidate by its name (as given), checked: a schedule of finite lrs >= 0."""
    import numpy as np

    from cadence.tools.forecast import lrs_of

    out: dict[str, Any] = {}
    for spec in specs:
        if spec in out:
            raise InvalidValue(f"--candidates names {spec!r} twice")
        try:
            lrs = lrs_of(spec, total, peak)
        except InvalidInput as exc:
            raise InvalidValue(f"--candidates: {exc}") from None
        if not np.all(np.isfinite(lrs)) or lrs.min() < 0 or not lrs.max() > 0:
            raise InvalidValue(f"--candidates {spec!r}: its lrs must be finite, >= 0 and not all "
                               f"0 (from {lrs.min():.3g} to {lrs.max():.3g})")
        out[spec] = spec
    return out


def _loss(value: float) -> str:
    return f"{value:.4f}"


def cmd_forecast(args: argparse.Namespace) -> None:
    """Fit the law (and the area law) to the RUNs, print the ranking and the fit's residuals,
    and draw and save what was asked."""
    _refuse_existing("--out", args.out, args.force, FIGURE_SUFFIXES)
    _refuse_existing("--save", args.save, args.force, (".json",))
    runs = read_runs(args.runs, args.lrs)
    total = args.steps or max(r.lrs.size for r in runs)
    peak = args.peak_lr or max(float(r.lrs.max()) for r in runs)
    if not peak > 0:
        raise InvalidValue("the RUNs' lrs are all 0: give --peak-lr, or runs that trained")
    candidates = read_candidates(args.candidates, total, peak)
    from rich.console import Console
    from rich.table import Table

    from cadence.cli.commands import _print
    from cadence.tools.forecast import fit, rank

    what = f"fitting the {args.law} law to {len(runs)} run(s)"
    with Console(stderr=True).status(what + ("" if args.law == "area" else
                                             ", and the area law, the baseline") + " ..."):
        model = fit(runs, args.law)
        baseline = model if args.law == "area" else fit(runs, "area")
    ranked = rank(model, candidates, baseline=None if args.law == "area" else baseline,
                  total=total, peak=peak)

    table = Table(title=f"predicted final loss after {total:,} updates at peak lr {peak:.3g} "
                        f"({args.law} law fitted to {len(runs)} run(s))")
    for header in ("#", "candidate", "final loss", "band (5-95%)", "area law"):
        table.add_column(header, justify="left" if header == "candidate" else "right")
    for i, r in enumerate(ranked, 1):
        table.add_row(str(i), r.name, _loss(r.final), f"{_loss(r.low)} - {_loss(r.high)}",
                      "-" if r.baseline is None else _loss(r.baseline))
    _print(table)

    fitted = Table(title="fitted runs: relative error of the fit at their measured losses")
    for header in ("run", "updates", "losses", "peak lr", "mean error", "worst error",
                   "area law: mean", "area law: worst"):
        fitted.add_column(header, justify="left" if header == "run" else "right")
    for run in runs:
        own, base = model.residuals[run.name], baseline.residuals[run.name]
        fitted.add_row(run.name, f"{run.lrs.size:,}", f"{run.losses.size:,}",
                       f"{run.lrs.max():.3g}", f"{own['mean']:.3%}", f"{own['max']:.3%}",
                       f"{base['mean']:.3%}", f"{base['max']:.3%}")
    _print(fitted)
    params = ", ".join(f"{k}={v:.5g}" for k, v in model.params.items())
    print(f"{model.law} law: {params} (fitted in {model.fit_seconds:.1f} s)")
    notes: dict[str, list[str]] = {}
    for r in ranked:
        for note in r.notes:
            notes.setdefault(note, []).append(r.name)
    for note, names in notes.items():
        print(f"note ({', '.join(names)}): {note}")
    _write(args, model, baseline, runs, candidates, total, peak)


def _write(args: argparse.Namespace, model: Any, baseline: Any, runs: list[Any],
           candidates: dict[str, Any], total: int, peak: float) -> None:
    """The figure and the JSON that were asked for, each whole (checked again first: a file
    may have appeared during the fit)."""
    if args.out is not None:
        _refuse_existing("--out", args.out, args.force, FIGURE_SUFFIXES)
        from cadence.tools.forecast_plot import plot_forecast

        with outputs.replacing(args.out) as temp:
            plot_forecast(model, runs, candidates, baseline=baseline, total=total, peak=peak,
                          title=f"{model.law} law fitted to {len(runs)} run(s)", path=temp)
        print(f"wrote {args.out}")
    if args.save is not None:
        _refuse_existing("--save", args.save, args.force, (".json",))
        with outputs.replacing(args.save) as temp:
            model.save(temp, overwrite=True)
        print(f"wrote {args.save}")
