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
and only plot (and forecast, to draw with --out) imports matplotlib.

Here are the parser and :func:`main`; what each command does is in :mod:`cadence.cli.commands`
(forecast's, its options too, in :mod:`cadence.cli.forecast`), the option types and the checks
of output paths in :mod:`cadence.cli.options`.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import cadence
from cadence.cli import forecast, outputs
from cadence.cli.commands import MAX_DRAWN as MAX_DRAWN
from cadence.cli.commands import (
    REPORT_FILES,
    cmd_compare,
    cmd_describe,
    cmd_find_lr,
    cmd_plot,
    cmd_presets,
    cmd_preview,
)
from cadence.cli.options import FIGURE_SUFFIXES as FIGURE_SUFFIXES
from cadence.cli.options import Parser, int_between, number_between, positive_int, positive_number
from cadence.cli.options import check_output_file as check_output_file
from cadence.cli.options import check_output_folder as check_output_folder
from cadence.cli.options import number as number
from cadence.tools.curves import MAX_STEPS
from cadence.tools.curves import check_steps_shown as check_steps_shown
from cadence.tools.curves import horizon as horizon
from cadence.tools.presets import PRESETS
from cadence.tools.preview import MAX_HEIGHT, MAX_WIDTH
from cadence.validation import InvalidInput
from cadence.validation import InvalidValue as InvalidValue

SPEC_HELP = ("a YAML or JSON file, inline JSON ('{\"type\": \"cosine\", \"steps\": 1000}'), or a "
             "preset: " + ", ".join(sorted(PRESETS)) + ". A file or JSON holds a schedule, a "
             "drop-in's config, MMEngine's list, or a 'scheduler' config of several "
             "hyperparameters and targets (loss weights, an EMA decay, dropouts), one curve "
             "each")
STEPS_HELP = ("how many steps to show, 0 .. N-1 (default: {whose} own length: 500 for "
              "'{{\"type\": \"cosine\", \"steps\": 500}}', a bit past a step decay's last "
              "milestone; 1000 for a preset, which is sized to it, and for a shape with no end, "
              "such as constant or exponential; at most 10,000,000)")
# Bounds of the options that train: each well past any use, each refused beyond at parse time.
MAX_EPOCHS = 1000  # compare, demo: about 35 s per run of 1000 epochs on one core
MAX_SEEDS = 100
MAX_ITERS = 10_000  # find-lr: 450 epochs of the digits
LR_LOW, LR_HIGH = 1e-12, 1e6  # find-lr's --start and --end (the model trains in float32)
MAX_TRAINING_STEPS = 10**12  # describe --training-steps (it evaluates up to 1000 x as far)
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


def _forecasts(sub: Any) -> None:
    """forecast: fits a law to logged runs (:mod:`cadence.cli.forecast`); trains nothing."""
    p = _subcommand(sub, "forecast", forecast.cmd_forecast, forecast.SUMMARY, forecast.EXAMPLE,
                    forecast.DESCRIPTION)
    forecast.add_arguments(p)


# the optional packages the commands import, and the extra that installs each
EXTRAS = {"rich": "cli", "sklearn": "cli", "matplotlib": "plot", "yaml": "yaml",
          "torch": "cli", "tensorboard": "tensorboard", "scipy": "forecast"}
# the extra a command needs as a whole: a package it misses that this extra brings names it,
# so one install gives the command all it needs (not matplotlib's 'plot', then 'cli' for rich)
COMMAND_EXTRAS = {"presets": "cli", "describe": "cli", "find-lr": "cli", "compare": "cli",
                  "demo": "cli", "plot": "plot", "forecast": "cli"}


def extra_for(command: str, package: str) -> str:
    """The extra to install for ``command`` when ``package`` is missing.

    >>> extra_for("demo", "matplotlib"), extra_for("plot", "yaml"), extra_for("preview", "yaml")
    ('cli', 'yaml', 'yaml')
    """
    whole = COMMAND_EXTRAS.get(command)
    within = {"cli": ("cli", "plot", "yaml", "forecast")}.get(whole or "", (whole,))  # all in cli
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
    _forecasts(sub)
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
