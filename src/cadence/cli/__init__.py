"""The ``cadence`` command (also ``python -m cadence``).

Every command takes SPECs: a YAML or JSON file, inline JSON, or a preset name (``cadence
presets`` lists them). A mistake in the command line or in what it names (an
:class:`~cadence.validation.InvalidInput`, raised where the mistake is made) gives one line,
``cadence <command>: error: <message>``, and exit status 2; any other exception is a bug in
cadence and keeps its traceback; Ctrl-C (a KeyboardInterrupt) gives ``cadence <command>:
interrupted`` and exit status 130. Every number an option takes has bounds, checked as the
command line is parsed. Files are written whole or not at all, and a report folder's files only
where cadence wrote them (:mod:`cadence.cli.outputs`). Commands import what they need when they
run: those that only read schedules (help, presets, preview, describe, plot) import no torch,
and only plot imports matplotlib.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

import cadence
from cadence.cli import outputs
from cadence.tools.curves import MAX_STEPS, check_steps_shown, horizon
from cadence.tools.presets import PRESETS
from cadence.tools.preview import MAX_HEIGHT, MAX_WIDTH
from cadence.validation import InvalidInput, InvalidValue

SPEC_HELP = ("a YAML or JSON file, inline JSON ('{\"type\": \"cosine\", \"steps\": 1000}'), or a "
             "preset: " + ", ".join(sorted(PRESETS)) + ". A file or JSON holds a schedule, a "
             "drop-in's config, MMEngine's list, or a 'scheduler' config of several "
             "hyperparameters and targets (loss weights, an EMA decay, dropouts), one curve "
             "each")
STEPS_HELP = ("how many steps to show, 0 .. N-1 (default: {whose} own length: 500 for "
              "'{{\"type\": \"cosine\", \"steps\": 500}}', a bit past a step decay's last "
              "milestone; 1000 for a preset, which is sized to it, and for a shape with no end, "
              "such as constant or exponential; at most 10,000,000)")
# What tools.plot.plot and LRFinderResult.plot write (a test checks that they agree).
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
# What compare and demo write in --out (cadence.cli.report.FILES; a test checks that they agree).
REPORT_FILES = ("report.md", "lr.png", "training.png", "results.json")
# Bounds of the options that train: each well past any use, each refused beyond at parse time.
MAX_EPOCHS = 1000  # compare, demo: about 35 s per run of 1000 epochs on one core
MAX_SEEDS = 100
MAX_ITERS = 10_000  # find-lr: 450 epochs of the digits
LR_LOW, LR_HIGH = 1e-12, 1e6  # find-lr's --start and --end (the model trains in float32)
MAX_TRAINING_STEPS = 10**12  # describe --training-steps (it evaluates up to 1000 x as far)
# The largest magnitude a figure draws: matplotlib's axis limits, margins and ticks overflow
# (a traceback, or an empty figure) for values much closer to the float range.
MAX_DRAWN = 1e200
MIN_PRESET_STEPS = 20  # what cadence.tools.presets.preset refuses below
TASK = "the digits LeNet, SGD with lr 0.02, momentum 0.9, batch 64"
FIND_LR_HELP = (
    "The loss of every update is recorded while the lr rises from --start to --end; three rules "
    "read a good lr off the loss curve: steepest (where it falls fastest), valley (fastai's), "
    "minimum (a tenth of the lr at the lowest loss); the table marks the one that trained best "
    "where it was measured (docs/find-lr.md). With --build MODULE:FUNCTION the test runs on "
    "your own model and data: FUNCTION returns (model, optimizer, loss_fn, data), that is a "
    "torch.nn.Module; the torch.optim.Optimizer you train it with (the sweep replaces its lr); "
    "loss_fn, called as loss_fn(model(inputs), targets) and returning a one-element tensor; "
    "and data, (inputs, targets) batches that can be iterated again (a DataLoader or a list). "
    "Or a dict with those four keys and, optionally, accumulation_steps, autocast_dtype, "
    "smoothing, diverge or scheduler. Put the model and the batches on the device to test "
    "on; the model and the optimizer are put back as they were.")
COMPARE_SPECS = (
    "A SPEC's values are factors of the task's base lr, 0.02 (a cosine from 1 to 0 takes the lr "
    "from 0.02 to 0), unless the config says they are absolute: '{\"type\": \"scheduler\", "
    "\"absolute\": true, \"lr\": {...}}', a d2l.* config, or a drop-in's own lrs (such as "
    "torch.OneCycleLR's max_lr, or an eta_min floor). Presets and the demo's schedules are "
    "sized to the whole run; a config's steps are optimizer steps (an epoch is 22 steps of "
    "batch 64).")


# -- the command line's own checks ----------------------------------------------------------------
class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, ``cadence <command>: error: <message>``,
    and exit status 2 (argparse would print the whole usage before it)."""

    def error(self, message: str) -> NoReturn:
        message = re.sub(r"^argument (\S+): (?=\1 )", "", message)  # "--x must ..." once
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def number(option: str, kind: type, rule: str, ok: Callable[[Any], bool]
           ) -> Callable[[str], Any]:
    """An argparse ``type=``: ``kind(text)`` if ``ok`` accepts it, else an error that names
    ``option``, ``rule`` and the text (``inf``, ``nan`` and ``1e999`` are refused as floats)."""

    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:  # not a number of that kind (or an int of too many digits)
            value = None
        if value is None or (isinstance(value, float) and not math.isfinite(value)) \
                or not ok(value):
            got = text if len(text) <= 40 else f"{text[:12]}... ({len(text):,} characters)"
            raise argparse.ArgumentTypeError(f"{option} must be {rule} (got {got})")
        return value

    convert.__name__ = option
    return convert


def positive_int(option: str, limit: int) -> Callable[[str], int]:
    """An argparse ``type=`` for an int from 1 to ``limit``."""
    return number(option, int, f"a positive int up to {limit:,}", lambda n: 1 <= n <= limit)


def int_between(option: str, low: int, high: int, high_text: str | None = None
                ) -> Callable[[str], int]:
    """An argparse ``type=`` for an int from ``low`` to ``high`` (``high_text`` writes it)."""
    return number(option, int, f"an int from {low:,} to {high_text or f'{high:,}'}",
                  lambda n: low <= n <= high)


def positive_number(option: str, limit: float) -> Callable[[str], float]:
    """An argparse ``type=`` for a float > 0, up to ``limit``."""
    text = f"{limit:,.0f}" if float(limit).is_integer() and limit < 1e15 else f"{limit:g}"
    return number(option, float, f"a positive number up to {text}", lambda x: 0 < x <= limit)


def number_between(option: str, low: float, high: float) -> Callable[[str], float]:
    """An argparse ``type=`` for a float from ``low`` to ``high``."""
    return number(option, float, f"a number from {low:g} to {high:g}", lambda x: low <= x <= high)


def check_output_file(option: str, path: str, suffixes: tuple[str, ...] = FIGURE_SUFFIXES
                      ) -> Path:
    """Refuse, before any work, a figure path that cannot be written: a suffix matplotlib is
    not asked to write, a folder, a folder that does not exist or cannot be written in."""
    target = Path(path)
    if target.suffix.lower() not in suffixes:
        listed = ", ".join(suffixes[:-1]) + " or " + suffixes[-1]
        raise InvalidValue(f"{option} must end in {listed} (got {path!r})")
    if target.is_dir():
        raise InvalidValue(f"{option} {path!r} is a folder: give a file name in it")
    real = Path(os.path.realpath(target)) if target.is_symlink() else target  # written through
    what = outputs.kind(real)
    if what is not None:
        raise InvalidValue(f"{option} {path!r} is {what}, not a file cadence can replace")
    if real.exists() and not os.access(real, os.W_OK):  # renaming over it would ignore that
        raise InvalidValue(f"{option} {path!r} is read-only: cadence does not replace it")
    folder = real.parent
    if not folder.exists():
        raise InvalidValue(f"{option} {path!r}: the folder {str(folder)!r} does not exist")
    _check_writable(option, path, folder)
    return target


def check_output_folder(option: str, path: str) -> Path:
    """Refuse, before any work, a folder that cannot be made or written in (it may not exist
    yet: its nearest existing parent must be a folder that can be written in)."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise InvalidValue(f"{option} {path!r} is a file, not a folder")
    existing = next(p for p in (target, *target.parents) if p.exists())
    _check_writable(option, path, existing)
    return target


def _check_writable(option: str, path: str, folder: Path) -> None:
    if not folder.is_dir():
        raise InvalidValue(f"{option} {path!r}: {str(folder)!r} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise InvalidValue(f"{option} {path!r}: cannot write in the folder {str(folder)!r} "
                           f"({exc.strerror or exc})") from None


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


# -- the parser -----------------------------------------------------------------------------------
def _subcommand(sub: Any, name: str, func: Callable[[argparse.Namespace], None], summary: str,
                example: str, description: str = "") -> argparse.ArgumentParser:
    text = "\n\n".join(textwrap.fill(part, 79, break_on_hyphens=False)
                       for part in (summary, description) if part)
    parser = sub.add_parser(name, help=summary, description=text,
                            epilog=f"example:\n  {example}",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(func=func, parser=parser)
    return parser


def _horizon(parser: argparse.ArgumentParser, whose: str, axis: bool = True) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--steps", type=positive_int("--steps", MAX_STEPS),
                       help=STEPS_HELP.format(whose=whose))
    group.add_argument("--epochs", type=positive_number("--epochs", MAX_STEPS),
                       help="how many epochs to show (with --steps-per-epoch; at most "
                            f"{MAX_STEPS:,} steps in all)")
    parser.add_argument("--steps-per-epoch", type=positive_int("--steps-per-epoch", MAX_STEPS),
                        help=f"optimizer steps per epoch, at most {MAX_STEPS:,}"
                             + (": the x axis is then in epochs" if axis else " (for --epochs)"))


def _views(sub: Any) -> None:
    """plot, describe, preview and presets: they read schedules and train nothing."""
    p = _subcommand(sub, "plot", cmd_plot, "draw schedules to a PNG, SVG or PDF file",
                    "cadence plot warmup-cosine cosine-restarts -o lr.png --epochs 30 "
                    "--steps-per-epoch 100")
    p.add_argument("spec", nargs="+", metavar="SPEC", help=SPEC_HELP)
    p.add_argument("-o", "--output", required=True,
                   help="the file to write (.png, .svg, .pdf); a file of that name is replaced")
    _horizon(p, "the longest SPEC's")
    p.add_argument("--log", action="store_true", help="log scale on the value axis")
    p.add_argument("--title", help="a title for the figure")
    p.add_argument("--no-marks", action="store_true", help="do not mark restarts and phases")
    p.add_argument("--axis", choices=("updates", "samples", "tokens"),
                   help="draw a scheduler config on a clock (its 'clock' key) against updates, "
                        "samples or tokens, converted through what its clock knows (the batch "
                        "size or ramp, the tokens in a sample); by default its clock's own unit")

    p = _subcommand(sub, "describe", cmd_describe, "summarise a schedule: start, peak, end, "
                    "warm-up, restarts, jumps, and warnings for common mistakes",
                    "cadence describe my_schedule.yaml --steps 10000 --training-steps 8000")
    p.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    _horizon(p, "the SPEC's", axis=False)
    p.add_argument("--training-steps", type=positive_int("--training-steps", MAX_TRAINING_STEPS),
                   help="the planned training length, to check the schedule against (at most "
                        f"{MAX_TRAINING_STEPS:,})")

    p = _subcommand(sub, "preview", cmd_preview, "draw a schedule in the terminal",
                    "cadence preview '{\"type\": \"cosine\", \"steps\": 500}' --steps 600")
    p.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    _horizon(p, "the SPEC's")
    p.add_argument("--width", type=positive_int("--width", MAX_WIDTH), default=60,
                   help=f"columns (default 60, at most {MAX_WIDTH})")
    p.add_argument("--height", type=positive_int("--height", MAX_HEIGHT), default=12,
                   help=f"rows (default 12, at most {MAX_HEIGHT})")
    p.add_argument("--log", action="store_true", help="log scale on the value axis")

    p = _subcommand(sub, "presets", cmd_presets, "list the named presets",
                    "cadence presets --steps 5000")
    p.add_argument("--steps", type=int_between("--steps", MIN_PRESET_STEPS, MAX_STEPS),
                   default=1000, help=f"size them to this many steps (default 1000, at least "
                                      f"{MIN_PRESET_STEPS})")


def _training(sub: Any) -> None:
    """find-lr, compare and demo: they train the built-in task (and import torch)."""
    p = _subcommand(sub, "find-lr", cmd_find_lr, "run the LR range test on the built-in task, "
                    "or on your model and data (--build)",
                    "cadence find-lr --start 1e-3 --end 10 --plot find_lr.png\n"
                    "  cadence find-lr --build mypkg.lr_setup:make --start 1e-6 --end 1 "
                    "--iters 200", FIND_LR_HELP)
    p.add_argument("--build", metavar="MODULE:FUNCTION",
                   help="run the test on your own model and data: FUNCTION in MODULE (a module "
                        "to import, found from the current folder first, or a .py file), "
                        "called with no arguments after the generators are seeded with "
                        "--seed, returns (model, optimizer, loss_fn, data) or a dict with those "
                        "keys (see above)")
    lrs = f"from {LR_LOW:g} to {LR_HIGH:g}"
    p.add_argument("--start", type=number_between("--start", LR_LOW, LR_HIGH), default=1e-4,
                   help=f"first lr (default 1e-4; {lrs})")
    p.add_argument("--end", type=number_between("--end", LR_LOW, LR_HIGH), default=10.0,
                   help=f"last lr (default 10; {lrs})")
    p.add_argument("--iters", type=int_between("--iters", 2, MAX_ITERS), default=300,
                   help="iterations (default 300: the LeNet needs a few epochs to start "
                        f"learning; at most {MAX_ITERS:,})")
    p.add_argument("--mode", choices=("exp", "linear"), default="exp", help="sweep shape")
    p.add_argument("--seed", type=int_between("--seed", 0, 2**32 - 1, "2**32 - 1"),
                   default=0, help="random seed (default 0; from 0 to 2**32 - 1)")
    p.add_argument("--plot", help="also write the loss curve to this file (.png, .svg, .pdf); "
                                  "a file of that name is replaced")

    for name, summary, example in (
        ("compare", f"train the built-in task ({TASK}) under each SPEC and compare",
         "cadence compare cosine one-cycle my.yaml --epochs 20 --seeds 2 --out report\n"
         "  torchrun --nproc_per_node=2 -m cadence compare cosine constant"),
        ("demo", "the main job: a comparison of eight schedules on the built-in task "
         f"({TASK}), with a report", "cadence demo --out report"),
    ):
        p = _subcommand(sub, name, cmd_compare, summary, example,
                        COMPARE_SPECS if name == "compare" else "")
        if name == "compare":
            p.add_argument("spec", nargs="+", metavar="SPEC", help=SPEC_HELP + ", or one of the "
                           "demo's schedules; its values are factors of the base lr 0.02 unless "
                           "the config says absolute")
        p.add_argument("--epochs", type=positive_int("--epochs", MAX_EPOCHS), default=30,
                       help=f"epochs per run (default 30, at most {MAX_EPOCHS:,})")
        p.add_argument("--seeds", type=positive_int("--seeds", MAX_SEEDS),
                       default=3 if name == "demo" else 2,
                       help=f"seeds per schedule (default {3 if name == 'demo' else 2}, at most "
                            f"{MAX_SEEDS})")
        p.add_argument("--out", default="report",
                       help="the report's folder (default report/): cadence writes "
                            f"{', '.join(REPORT_FILES)} there, each whole, and records them in "
                            f"{outputs.MANIFEST}; a later run replaces only those files, and "
                            "only if unchanged since. It refuses, before training, to replace "
                            "a file of those names that you made or edited")
        p.add_argument("--force", action="store_true",
                       help="replace the report's files in --out even if cadence did not write "
                            "them or they changed since")


# the optional packages the commands import, and the extra that installs each
EXTRAS = {"rich": "cli", "sklearn": "cli", "matplotlib": "plot", "yaml": "yaml",
          "torch": "cli", "tensorboard": "tensorboard"}
# the extra a command needs as a whole: a package it misses that this extra brings names it,
# so one install gives the command all it needs (not matplotlib's 'plot', then 'cli' for rich)
COMMAND_EXTRAS = {"presets": "cli", "describe": "cli", "find-lr": "cli", "compare": "cli",
                  "demo": "cli", "plot": "plot"}


def extra_for(command: str, package: str) -> str:
    """The extra to install for ``command`` when ``package`` is missing.

    >>> extra_for("demo", "matplotlib"), extra_for("plot", "yaml"), extra_for("preview", "yaml")
    ('cli', 'yaml', 'yaml')
    """
    whole = COMMAND_EXTRAS.get(command)
    within = {"cli": ("cli", "plot", "yaml")}.get(whole or "", (whole,))  # cli brings plot, yaml
    return whole if whole is not None and EXTRAS[package] in within else EXTRAS[package]


def parser() -> argparse.ArgumentParser:
    """The ``cadence`` command's argument parser."""
    top = Parser(
        prog="cadence",
        description="Schedules for the learning rate and every other optimizer "
                    "hyperparameter: see them before you train, compare them on a built-in task.",
        epilog="examples:\n  cadence preview warmup-cosine --steps 2000\n"
               "  cadence plot cosine one-cycle warm-restarts -o schedules.png\n  cadence demo",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action="version", version=f"cadence {cadence.__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _views(sub)
    _training(sub)
    return top


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status: 0, or 2 for a mistake in the command line
    or in what it names, printed as one line, or 130 for Ctrl-C (a KeyboardInterrupt: one line,
    ``interrupted``; a file being written is left as it was, see :mod:`cadence.cli.outputs`).
    Any other exception is a bug in cadence: it propagates with its traceback."""
    command = "cadence"
    try:
        try:
            args, unknown = parser().parse_known_args(argv)
            if unknown:  # said by the command's parser, so that the error names the command
                args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        except SystemExit as exc:  # --help (0), or a bad command line, printed as one line (2)
            return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
        command = f"cadence {args.command}"
        args.func(args)
    except InvalidInput as exc:
        print(f"{command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:  # an optional package the command needs
        package = (exc.name or "").partition(".")[0]
        if package not in EXTRAS:
            raise  # not one of cadence's extras: a bug, with its traceback
        print(f"{command}: error: this command needs the {package!r} package: pip install "
              f"'cadence[{extra_for(command.partition(' ')[2], package)}]'", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130
    return 0
