"""Bad numbers: every numeric option has bounds, checked as the command line is parsed (one
line, exit status 2, naming the option, the rule and the value), and the views draw values up to
the float range or refuse them in one line, never with a traceback.

Work that would train is replaced by stubs, so an option that is accepted fails at once here
instead of training for ever.
"""

from __future__ import annotations

import argparse
import json
from importlib import import_module

import pytest

from cadence.cli import main, parser

HUGE = str(10**12)


def fail_if_called(*args, **kwargs):
    pytest.fail("work started with a number out of bounds")


@pytest.fixture
def no_work(monkeypatch, tmp_path):
    """Nothing trains, draws or summarizes; cwd is tmp_path."""
    experiment = import_module("cadence.cli.experiment")
    monkeypatch.setattr(experiment, "compare", fail_if_called)
    monkeypatch.setattr(experiment, "load_digits", fail_if_called)
    monkeypatch.setattr(import_module("cadence.cli.task"), "find_lr_on_task", fail_if_called)
    monkeypatch.setattr(import_module("cadence.tools.plot"), "plot", fail_if_called)
    monkeypatch.setattr(import_module("cadence.tools.describe"), "describe", fail_if_called)
    monkeypatch.chdir(tmp_path)


# (command line, what the one error line says: the option, the rule and the value)
OUT_OF_BOUNDS = [
    (["find-lr", "--iters", HUGE], f"--iters must be an int from 2 to 10,000 (got {HUGE})"),
    (["find-lr", "--iters", "10001"], "--iters must be an int from 2 to 10,000 (got 10001)"),
    (["find-lr", "--start", "1e-308", "--end", "1e308"],
     "--start must be a number from 1e-12 to 1e+06 (got 1e-308)"),
    (["find-lr", "--end", "1e308"], "--end must be a number from 1e-12 to 1e+06 (got 1e308)"),
    (["find-lr", "--start", "1e-13"], "--start must be a number from 1e-12 to 1e+06 (got 1e-13)"),
    (["find-lr", "--end", "2e6"], "--end must be a number from 1e-12 to 1e+06 (got 2e6)"),
    (["compare", "cosine", "--epochs", HUGE],
     f"--epochs must be a positive int up to 1,000 (got {HUGE})"),
    (["compare", "cosine", "--seeds", HUGE],
     f"--seeds must be a positive int up to 100 (got {HUGE})"),
    (["demo", "--epochs", "1001"], "--epochs must be a positive int up to 1,000 (got 1001)"),
    (["demo", "--seeds", "101"], "--seeds must be a positive int up to 100 (got 101)"),
    (["describe", "cosine", "--training-steps", str(10**12 + 1)],
     f"--training-steps must be a positive int up to 1,000,000,000,000 (got {10**12 + 1})"),
    (["describe", "cosine", "--training-steps", str(10**306)],
     "--training-steps must be a positive int up to 1,000,000,000,000 (got 100000000000... (307 "
     "characters))"),
    (["plot", "cosine", "-o", "x.png", "--steps-per-epoch", HUGE],
     f"--steps-per-epoch must be a positive int up to 10,000,000 (got {HUGE})"),
    (["describe", "cosine", "--steps-per-epoch", HUGE], "--steps-per-epoch must be a positive int"),
    (["preview", "cosine", "--steps-per-epoch", HUGE], "--steps-per-epoch must be a positive int"),
    (["preview", "cosine", "--epochs", "1e8", "--steps-per-epoch", "1"],
     "--epochs must be a positive number up to 10,000,000 (got 1e8)"),
    (["plot", "cosine", "-o", "x.png", "--epochs", "1e300", "--steps-per-epoch", "1"],
     "--epochs must be a positive number up to 10,000,000 (got 1e300)"),
    (["presets", "--steps", "5"], "--steps must be an int from 20 to 10,000,000 (got 5)"),
]


@pytest.mark.parametrize(("argv", "message"), OUT_OF_BOUNDS,
                         ids=[" ".join(a)[:50] for a, _ in OUT_OF_BOUNDS])
def test_a_number_out_of_bounds_is_refused_as_it_is_parsed(argv, message, no_work, capsys):
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 2, err
    assert err.splitlines() == [err.rstrip("\n")], err
    assert err.startswith(f"cadence {argv[0]}: error: {message}"), err
    assert out == ""


def numeric_options():
    """(command, option, its type) for every option of every command that takes a number."""
    top = parser()
    commands = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in commands.choices.items():
        for action in sub._actions:
            if action.type is not None and action.option_strings:
                yield name, action.option_strings[-1], action.type


@pytest.mark.parametrize("text", ["1" + "0" * 13, "1e300"])
def test_every_numeric_option_has_bounds(text):
    found = list(numeric_options())
    assert len(found) >= 15
    for command, option, convert in found:
        with pytest.raises(argparse.ArgumentTypeError, match=f"^{option} must be .* \\(got "
                                                             f"{text}\\)$"):
            print(f"{command} {option} took {text}: {convert(text)}")


# -- values near the float range in the views -------------------------------------------------
def linear(start, end):
    return json.dumps({"type": "linear", "start": start, "end": end, "steps": 100})


WIDE = linear(1e308, -1e308)
TOP = json.dumps({"type": "constant", "value": 1.7976931348623157e308})
OVERFLOWS = json.dumps({"type": "exponential", "rate": 1e300})  # inf from step 2
NEGATIVE = json.dumps({"type": "constant", "value": -1.0})
TOO_LONG = json.dumps({"type": "cosine_restarts", "period": 1e308, "period_mult": 2,
                       "cycles": 3})  # its length overflows

DRAWN = [
    (["preview", WIDE], ["1e+308 ┤", "-9.8e+307 ┤"]),
    (["preview", linear(-1e308, 1e308)], ["9.8e+307 ┤", "-1e+308 ┤"]),
    (["preview", TOP, "--log"], ["1.798e+308 ┤"]),
]


@pytest.mark.parametrize(("argv", "shown"), DRAWN, ids=[" ".join(a)[:60] for a, _ in DRAWN])
def test_preview_draws_values_up_to_the_float_range(argv, shown, capsys):
    assert main(argv) == 0
    out = capsys.readouterr().out
    for text in shown:
        assert text in out, out


REFUSED = [
    (["preview", OVERFLOWS], "the lr of 'exponential' is inf at step 8: a preview draws finite "
                             "values only"),
    (["preview", NEGATIVE, "--log"], "--log: the lr of 'constant' has no positive value"),
    (["preview", TOO_LONG], "must be at most 10,000,000 steps to show (got 1.798e+308)"),
    (["describe", TOO_LONG], "must be at most 10,000,000 steps to show (got 1.798e+308)"),
    (["plot", WIDE, "-o", "x.png"], "the lr of 'linear' reaches 1e+308 at step 0, beyond the "
                                    "±1e+200 a figure can draw ('cadence preview' draws any"),
    (["plot", linear(1, 1e300), "-o", "x.png", "--log"], "reaches 1e+298 at step 1, beyond"),
    (["plot", TOP, "-o", "x.svg"], "reaches 1.798e+308 at step 0"),
    (["plot", "cosine", OVERFLOWS, "-o", "x.png"], "the lr of 'exponential' is inf at step 2: "
                                                   "a figure draws finite values only"),
    (["plot", NEGATIVE, "-o", "x.png", "--log"], "--log: the lr of 'constant' has no positive "
                                                 "value to draw on a log scale"),
    (["plot", TOO_LONG, "-o", "x.png"], "must be at most 10,000,000 steps to show"),
]


@pytest.mark.parametrize(("argv", "message"), REFUSED, ids=[" ".join(a)[:60] for a, _ in REFUSED])
def test_values_a_view_cannot_draw_are_one_line(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 2, err
    assert len(err.splitlines()) == 1 and message in err, err
    assert out == ""
    assert list(tmp_path.iterdir()) == []  # no figure written
