"""The ``cadence`` command (also ``python -m cadence``).

Every command takes SPECs: a YAML or JSON file, inline JSON, or a preset name (``cadence
presets`` lists them). A bad SPEC or argument gives one error line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from cadence.tools.presets import PRESETS

SPEC_HELP = ("a YAML or JSON file, inline JSON ('{\"type\": \"cosine\", \"steps\": 1000}'), or a "
             "preset: " + ", ".join(sorted(PRESETS)))


class Failure(Exception):
    """A user error: printed as one line, exit status 2."""


def _horizon(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--steps", type=int, help="how many steps to show (default 1000)")
    group.add_argument("--epochs", type=float, help="how many epochs to show (with "
                       "--steps-per-epoch); the x axis is then in epochs")
    parser.add_argument("--steps-per-epoch", type=int, help="optimizer steps per epoch")


def _steps(args: argparse.Namespace) -> tuple[int, int | None]:
    if args.epochs is not None:
        if not args.steps_per_epoch:
            raise Failure("--epochs needs --steps-per-epoch")
        return max(1, round(args.epochs * args.steps_per_epoch)), args.steps_per_epoch
    return (args.steps if args.steps is not None else 1000), args.steps_per_epoch


def _print(text: Any) -> None:
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = 120  # logs and CI: do not wrap tables at 80 columns
    console.print(text)


# -- commands -----------------------------------------------------------------------------------
def cmd_plot(args: argparse.Namespace) -> None:
    from cadence.tools.plot import plot

    steps, per_epoch = _steps(args)
    plot(args.spec, steps, steps_per_epoch=per_epoch, log=args.log, title=args.title,
         marks=not args.no_marks, path=args.output)
    print(f"wrote {args.output}")


def cmd_describe(args: argparse.Namespace) -> None:
    from cadence.tools.describe import describe

    steps, _ = _steps(args)
    print(describe(args.spec, steps, training_steps=args.training_steps))


def cmd_preview(args: argparse.Namespace) -> None:
    import numpy as np

    from cadence.tools.curves import curves
    from cadence.tools.preview import preview

    steps, _ = _steps(args)
    for curve in curves(args.spec, steps):
        title = f"{curve.label}: {curve.hyperparameter}"
        print(preview(partial(np.interp, xp=curve.steps, fp=curve.values), steps,
                      width=args.width, height=args.height, log=args.log, title=title))


def cmd_presets(args: argparse.Namespace) -> None:
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
    from cadence.cli import report
    from cadence.cli.experiment import Ranks, compare, factory

    for spec in args.spec:  # refuse a bad spec before anything trains
        factory(spec)
    ranks = Ranks()
    try:
        began = time.perf_counter()
        with _progress(ranks.main) as progress:
            task = progress.add_task("training", total=len(args.spec) * args.seeds * args.epochs)
            runs = compare(args.spec, ranks, epochs=args.epochs, seeds=args.seeds,
                           tick=lambda: progress.advance(task))
        seconds = time.perf_counter() - began
        if ranks.main:
            _print(report.table(runs, title=f"{args.epochs} epochs, {args.seeds} seed(s), "
                                            f"{ranks.size} process(es)"))
            paths = report.write(runs, Path(args.out), epochs=args.epochs, seeds=args.seeds,
                                 world_size=ranks.size, seconds=seconds)
            print("wrote " + ", ".join(str(p) for p in paths))
    finally:
        ranks.close()


def cmd_demo(args: argparse.Namespace) -> None:
    from cadence.cli.experiment import DEMO

    args.spec = list(DEMO)
    cmd_compare(args)


def cmd_find_lr(args: argparse.Namespace) -> None:
    import torch
    from rich.table import Table

    from cadence.cli.task import lenet, load_digits
    from cadence.tools.find_lr import find_lr

    torch.manual_seed(args.seed)
    data = load_digits()
    model = lenet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    order = torch.randperm(len(data.train_x), generator=torch.Generator().manual_seed(args.seed))
    batches = [(data.train_x[i], data.train_y[i]) for i in order.split(64)]
    result = find_lr(model, optimizer, torch.nn.CrossEntropyLoss(), batches,
                     start_lr=args.start, end_lr=args.end, num_iter=args.iters, mode=args.mode,
                     seed=args.seed)
    table = Table(title="LR range test on the digits LeNet"
                        + (f" (stopped early: {result.reason})" if result.stopped_early else ""))
    table.add_column("rule")
    table.add_column("suggested lr", justify="right")
    table.add_column("smoothed loss there", justify="right")
    for rule, suggestion in result.suggestions.items():
        if suggestion:
            table.add_row(rule, f"{suggestion.lr:.3g}", f"{suggestion.loss:.4g}")
        else:
            table.add_row(rule, "none", suggestion.reason)
    _print(table)
    if args.plot:
        result.plot(path=args.plot)
        print(f"wrote {args.plot}")


# -- the parser ---------------------------------------------------------------------------------
def _subcommand(sub: Any, name: str, func: Callable[[argparse.Namespace], None], summary: str,
                example: str) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=summary, description=summary,
                            epilog=f"example:\n  {example}",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(func=func)
    return parser


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="cadence",
        description="Schedules for the learning rate and every other optimizer "
                    "hyperparameter: see them before you train, compare them on a built-in task.",
        epilog="examples:\n  cadence preview warmup-cosine --steps 2000\n"
               "  cadence plot cosine one-cycle seed000 -o schedules.png\n  cadence demo",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = _subcommand(sub, "plot", cmd_plot, "draw schedules to a PNG, SVG or PDF file",
                    "cadence plot warmup-cosine cosine-restarts -o lr.png --epochs 30 "
                    "--steps-per-epoch 100")
    p.add_argument("spec", nargs="+", metavar="SPEC", help=SPEC_HELP)
    p.add_argument("-o", "--output", required=True, help="the file to write (.png, .svg, .pdf)")
    _horizon(p)
    p.add_argument("--log", action="store_true", help="log scale on the value axis")
    p.add_argument("--title", help="a title for the figure")
    p.add_argument("--no-marks", action="store_true", help="do not mark restarts and phases")

    p = _subcommand(sub, "describe", cmd_describe, "summarise a schedule: start, peak, end, "
                    "warm-up, restarts, jumps, and warnings for common mistakes",
                    "cadence describe my_schedule.yaml --steps 10000 --training-steps 8000")
    p.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    _horizon(p)
    p.add_argument("--training-steps", type=int, help="the planned training length, to check "
                   "the schedule against")

    p = _subcommand(sub, "preview", cmd_preview, "draw a schedule in the terminal",
                    "cadence preview '{\"type\": \"cosine\", \"steps\": 500}' --steps 600")
    p.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    _horizon(p)
    p.add_argument("--width", type=int, default=60, help="columns (default 60)")
    p.add_argument("--height", type=int, default=12, help="rows (default 12)")
    p.add_argument("--log", action="store_true", help="log scale on the value axis")

    p = _subcommand(sub, "presets", cmd_presets, "list the named presets", "cadence presets")
    p.add_argument("--steps", type=int, default=1000, help="size them to this many steps")

    p = _subcommand(sub, "find-lr", cmd_find_lr, "run the LR range test on the built-in task",
                    "cadence find-lr --start 1e-3 --end 10 --plot find_lr.png")
    p.add_argument("--start", type=float, default=1e-4, help="first lr (default 1e-4)")
    p.add_argument("--end", type=float, default=10.0, help="last lr (default 10)")
    p.add_argument("--iters", type=int, default=300,
                   help="iterations (default 300: the LeNet needs a few epochs to start learning)")
    p.add_argument("--mode", choices=("exp", "linear"), default="exp", help="sweep shape")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--plot", help="also write the loss curve to this file")

    for name, func, summary, example in (
        ("compare", cmd_compare, "train the built-in task under each SPEC and compare",
         "cadence compare cosine one-cycle my.yaml --epochs 20 --seeds 2 --out report\n"
         "  torchrun --nproc_per_node=2 -m cadence compare cosine constant"),
        ("demo", cmd_demo, "the main job: seed 004's comparison of eight schedules on the "
         "built-in task, with a report", "cadence demo --out report"),
    ):
        p = _subcommand(sub, name, func, summary, example)
        if name == "compare":
            p.add_argument("spec", nargs="+", metavar="SPEC", help=SPEC_HELP + ", or one of the "
                           "demo's schedules")
        p.add_argument("--epochs", type=int, default=30, help="epochs per run (default 30)")
        p.add_argument("--seeds", type=int, default=3 if name == "demo" else 2,
                       help="seeds per schedule")
        p.add_argument("--out", default="report", help="the report's folder (default report/)")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = parser().parse_args(argv)
    for name in ("epochs", "seeds", "steps", "steps_per_epoch", "iters", "width", "height",
                 "training_steps"):
        value = getattr(args, name, None)
        if value is not None and value <= 0:
            print(f"cadence {args.command}: error: --{name.replace('_', '-')} must be positive "
                  f"(got {value})", file=sys.stderr)
            return 2
    try:
        args.func(args)
    except (Failure, ValueError, TypeError, KeyError, OSError, ImportError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"cadence {args.command}: error: {message}", file=sys.stderr)
        return 2
    return 0
