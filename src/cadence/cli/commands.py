"""What each command does once its command line is parsed: the views (plot, describe,
preview, presets), which read schedules and import no torch, and the commands that train
(compare, demo, find-lr). Each imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from functools import partial
from typing import Any

from cadence.cli import outputs
from cadence.cli.options import check_output_file, check_output_folder
from cadence.tools.curves import MAX_STEPS, check_steps_shown
from cadence.tools.presets import PRESETS
from cadence.validation import InvalidValue

# What compare and demo write in --out (cadence.cli.report.FILES; a test checks that they agree).
REPORT_FILES = ("report.md", "lr.png", "training.png", "results.json")
# The largest magnitude a figure draws: matplotlib's axis limits, margins and ticks overflow
# (a traceback, or an empty figure) for values much closer to the float range.
MAX_DRAWN = 1e200


def _shown_steps(args: argparse.Namespace, specs: Sequence[Any]) -> int:
    """The steps a view shows: --epochs x --steps-per-epoch, --steps, or the longest of the
    SPECs' own lengths (see :func:`cadence.tools.curves.horizon`)."""
    if args.epochs is not None:
        if args.steps_per_epoch is None:
            raise InvalidValue("--epochs needs --steps-per-epoch (how many optimizer steps "
                               "make an epoch)")
        total = args.epochs * args.steps_per_epoch
        if not total <= MAX_STEPS:
            raise InvalidValue(f"--epochs x --steps-per-epoch must be at most {MAX_STEPS:,} "
                               f"steps to show (got {args.epochs:g} x {args.steps_per_epoch:,} "
                               f"= {total:.4g})")
        return max(1, round(total))
    if args.steps is not None:
        return int(args.steps)
    from cadence.tools.curves import horizon  # the library's, looked up when it is called

    return max(check_steps_shown(horizon(spec), f"the length of {spec!r} (shown when --steps "
                                 "is not given)") for spec in specs)


def _print(text: Any) -> None:
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = 120  # logs and CI: do not wrap tables at 80 columns
    console.print(text)


# -- commands -------------------------------------------------------------------------------------
def _check_values(curve: Any, view: str, log: bool = False, limit: float = math.inf) -> None:
    """Refuse a curve that ``view`` cannot draw: a value that is not finite, one beyond
    ``limit`` in magnitude, or (on a log scale) no positive value at all."""
    import numpy as np

    values = np.asarray(curve.values, dtype=np.float64)
    name = f"the {curve.hyperparameter} of {curve.label!r}"
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InvalidValue(f"{name} is {values[bad[0]]} at step {curve.steps[bad[0]]:g}: "
                           f"{view} draws finite values only")
    far = np.flatnonzero(np.abs(values) > limit)
    if far.size:
        raise InvalidValue(f"{name} reaches {values[far[0]]:.4g} at step "
                           f"{curve.steps[far[0]]:g}, beyond the ±{limit:g} {view} can draw "
                           "('cadence preview' draws any finite value)")
    if log and not np.any(values > 0):
        raise InvalidValue(f"--log: {name} has no positive value to draw on a log scale")


def cmd_plot(args: argparse.Namespace) -> None:
    """Draw the SPECs to a file (the path is checked first, and the values before drawing);
    the file named is replaced if it exists, written whole."""
    check_output_file("-o", args.output)
    steps = _shown_steps(args, args.spec)
    from cadence.tools.curves import curves
    from cadence.tools.plot import plot

    for spec in args.spec:
        for curve in curves(spec, steps):
            _check_values(curve, "a figure", log=args.log, limit=MAX_DRAWN)
    with outputs.replacing(args.output) as temp:
        plot(args.spec, steps, steps_per_epoch=args.steps_per_epoch, log=args.log,
             title=args.title, marks=not args.no_marks, path=temp, axis=args.axis)
    print(f"wrote {args.output}")


def cmd_describe(args: argparse.Namespace) -> None:
    """Print the SPEC's summary table and warnings."""
    from cadence.tools.describe import describe

    steps = _shown_steps(args, [args.spec])
    print(describe(args.spec, steps, training_steps=args.training_steps))


def cmd_preview(args: argparse.Namespace) -> None:
    """Draw each curve of the SPEC in braille, evaluated only where the preview samples it (so
    a long horizon costs no more than a short one)."""
    import numpy as np

    from cadence.tools.curves import curves, unit_of
    from cadence.tools.preview import preview

    steps = _shown_steps(args, [args.spec])
    # the whole steps nearest those the preview samples (one a column of dots): as exact as
    # every step, at the cost of a few hundred
    grid = np.unique(np.rint(np.linspace(0, steps - 1, 2 * args.width)))
    found = curves(args.spec, grid)
    for curve in found:
        _check_values(curve, "a preview", log=args.log)
    for curve in found:
        title = f"{curve.label}: {curve.hyperparameter}"
        print(preview(partial(np.interp, xp=curve.steps, fp=curve.values), steps,
                      width=args.width, height=args.height, log=args.log, title=title,
                      steps_per_epoch=args.steps_per_epoch, unit=unit_of([curve])))


def cmd_presets(args: argparse.Namespace) -> None:
    """List the presets, each with a sparkline and its repr."""
    from rich.table import Table

    from cadence.tools.presets import preset
    from cadence.tools.preview import sparkline

    table = Table(title=f"presets (sized to {args.steps} steps)")
    table.add_column("name")
    table.add_column("shape")
    table.add_column("schedule", overflow="fold")
    for name in sorted(PRESETS):
        schedule = preset(name, args.steps)
        table.add_row(name, sparkline(schedule, args.steps, width=40), repr(schedule))
    _print(table)


def _progress(enabled: bool) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress("[progress.description]{task.description}", BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), disable=not enabled)


def cmd_compare(args: argparse.Namespace) -> None:
    """Train under each SPEC (the demo's, for demo) and write the report: the folder, the
    files in it that a report would replace, and the SPECs are checked before anything
    trains."""
    out = check_output_folder("--out", args.out)
    outputs.Folder(out, REPORT_FILES, force=args.force).check()
    from cadence.cli import report
    from cadence.cli.experiment import DEMO, Ranks, compare, factory

    specs = list(DEMO) if args.command == "demo" else args.spec
    for spec in specs:  # refuse a bad spec before anything trains
        factory(spec)
    ranks = Ranks()
    done = False
    try:
        began = time.perf_counter()
        with _progress(ranks.main) as progress:
            task = progress.add_task("training", total=len(specs) * args.seeds * args.epochs)
            runs = compare(specs, ranks, epochs=args.epochs, seeds=args.seeds,
                           tick=lambda: progress.advance(task))
        seconds = time.perf_counter() - began
        if ranks.main:
            _print(report.table(runs, title=f"{args.epochs} epochs, {args.seeds} seed(s), "
                                            f"{ranks.size} process(es)"))
            paths = report.write(runs, out, epochs=args.epochs, seeds=args.seeds,
                                 world_size=ranks.size, seconds=seconds, force=args.force)
            print("wrote " + ", ".join(str(p) for p in paths))
        done = True
    finally:
        ranks.close(wait=done)  # after an error or Ctrl-C, no rank waits for the others


def cmd_find_lr(args: argparse.Namespace) -> None:
    """Run the LR range test on the built-in task, or on the model and data that --build's
    function makes (the options are checked first, then the function is imported, called and
    what it returned checked, before the sweep)."""
    if args.plot is not None:
        check_output_file("--plot", args.plot)
    if args.end <= args.start:
        raise InvalidValue(f"--end must be more than --start (got --start {args.start:g} "
                           f"--end {args.end:g})")
    if args.build is not None:
        from cadence.cli.user_task import parse

        parse(args.build)  # the form, before torch is imported
    from rich.table import Table

    from cadence.tools.find_lr import RECOMMENDATION, RECOMMENDED

    sweep = {"start_lr": args.start, "end_lr": args.end, "num_iter": args.iters,
             "mode": args.mode, "seed": args.seed}
    if args.build is None:
        from cadence.cli.task import find_lr_on_task

        result, name = find_lr_on_task(**sweep), "the digits LeNet"
    else:
        from cadence.cli.user_task import build, run

        result, name = run(build(args.build, seed=args.seed), **sweep), args.build
    table = Table(title=f"LR range test on {name}"
                        + (f" (stopped early: {result.reason})" if result.stopped_early else ""))
    table.add_column("rule")
    table.add_column("suggested lr", justify="right")
    table.add_column("smoothed loss there", justify="right")
    for rule, suggestion in result.suggestions.items():
        mark = " (recommended)" if rule == RECOMMENDED else ""
        if suggestion:
            table.add_row(rule + mark, f"{suggestion.lr:.3g}", f"{suggestion.loss:.4g}")
        else:
            table.add_row(rule + mark, "none", suggestion.reason)
    _print(table)
    print(f"recommended: {RECOMMENDED}. {RECOMMENDATION}")
    if args.plot:
        with outputs.replacing(args.plot) as temp:
            result.plot(path=temp)
        print(f"wrote {args.plot}")
