"""A user's mistake is one line and exit status 2; a bug in cadence keeps its traceback.

Every command line here runs in this process (``cadence.cli.main``), in a temporary folder that
holds the bad files it names.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest

import cadence.cli as cli
from cadence.cli import main

NEST = "[" * 200 + "]" * 200
COMMANDS = {"plot", "describe", "preview", "presets", "find-lr", "compare", "demo"}


def write_bad_files(folder: Path) -> None:
    """Every bad file the table names, in ``folder``."""
    texts = {
        "tabs.yaml": "type: cosine\nsteps:\n\t- 5\n",
        "list.yaml": "- 1\n- 2\n",
        "tag.yaml": "type: !!python/object/apply:os.system ['echo hi']\n",
        "name_tag.yaml": "type: !!python/name:os.system\n",
        "dup.yaml": "type: cosine\nsteps: 5\nsteps: 6\n",
        "syntax.yaml": "type: cosine\nsteps: [1, 2\n",
        "scalar.yaml": "hello\n",
        "number.yaml": "5\n",
        "empty.yaml": "",
        "alias.yaml": "type: cosine\nsteps: &n 5\nstart: *n\n",
        "bomb.yaml": "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
        "deep.yaml": NEST + "\n",
        "badkey.yaml": "type: cosine\nstep: 10\n",
        "nondict.yaml": "type: warmup\nsteps: 3\nschedule: [1]\n",
        "unhashable.yaml": "? [a, b]\n: 1\n",
        "date.yaml": "type: cosine\nsteps: 2001-01-01\n",
        "bad.json": '{"type": "cosine",\n "steps": }',
        "dup.json": '{"type": "cosine", "steps": 5, "steps": 6}',
        "deep.json": NEST,
        "nan.json": '{"type": "cosine", "steps": NaN}',
        "strings.json": '["cosine"]',
        "afile.txt": "not a folder\n",
    }
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "binary.yaml").write_bytes(b"\xff\xfe\x00")
    (folder / "folder.yaml").mkdir()
    (folder / "folder.png").mkdir()


# (command line, what the one error line must say)
BAD = [
    # presets
    (["preview", "cosin"], "unknown preset 'cosin'; did you mean 'cosine'"),
    (["plot", "nope", "-o", "x.png"], "unknown preset 'nope'"),
    (["describe", "warmup_cosine"], "unknown preset 'warmup_cosine'; did you mean"),
    (["presets", "--steps", "5"], "--steps must be an int from 20 to 10,000,000 (got 5)"),
    (["compare", "nope", "--epochs", "1"], "unknown preset 'nope'"),
    # inline JSON
    (["preview", "{bad"], "inline JSON does not parse: Expecting property name"),
    (["preview", '{"type": "cosine", "steps": }'],
     "inline JSON does not parse: Expecting value (line 1, column 29)"),
    (["preview", '{"type": "cosine", "step": 5}'], "unknown key 'step' for config type 'cosine'"),
    (["preview", '{"type": "cosin", "steps": 5}'], "unknown config type 'cosin'; did you mean"),
    (["preview", '{"steps": 5}'], "a config must have a 'type' key"),
    (["preview", '{"type": 3}'], "config 'type' must be a str (got 3)"),
    (["preview", '{"type": "cosine", "steps": 0}'], "'steps' must be a positive number (got 0)"),
    (["preview", '{"type": "cosine", "steps": "ten"}'], "'steps' must be a positive number"),
    (["preview", '{"type": "cosine", "steps": NaN}'], "inline JSON holds NaN"),
    (["preview", '{"type": "cosine", "steps": Infinity}'], "inline JSON holds Infinity"),
    (["preview", '{"type": "cosine", "steps": 5, "steps": 6}'],
     "inline JSON has the key 'steps' twice"),
    (["preview", "[1, 2]"], "must hold mappings with a 'type' key (got 1 at index 0)"),
    (["preview", "[]"], "must hold at least one config (got [])"),
    (["preview", '["cosine"]'], "(got 'cosine' at index 0)"),
    (["preview", NEST], "inline JSON nests deeper than 100 levels"),
    (["preview", "[" * 100_000], "inline JSON nests deeper than 100 levels"),
    (["preview", '{"type": "warmup", "schedule": 5, "steps": 10}'],
     "'schedule' must be a Schedule (got 5)"),
    (["preview", '{"type": "warmup", "schedule": {"type": "cosine", "steps": 10}}'],
     "config type 'warmup' needs the key 'steps'"),
    (["preview", '{"type": "cosine", "steps": 1e12}'],
     "must be at most 10,000,000 steps to show (got 1,000,000,000,000)"),
    (["preview", '{"type": "cosine", "steps": ' + "9" * 5000 + "}"],
     "inline JSON does not parse: Exceeds the limit"),
    (["preview", '{"type": "join", "schedules": [{"type": "constant", "valu": 1}], '
      '"boundaries": []}'], "unknown key 'valu' for config type 'constant'"),
    (["plot", '{"type": "cosine", "steps": 5}', "{bad", "-o", "x.png"],
     "inline JSON does not parse"),
    # YAML files
    (["preview", "tabs.yaml"], "'tabs.yaml' does not parse: found character"),
    (["describe", "tabs.yaml"], "indents with spaces, not tabs) (line 3, column 1)"),
    (["preview", "list.yaml"], "'list.yaml' holds a list, which must be of configs (mappings "
                               "with a 'type' key) (got 1 at index 0)"),
    (["preview", "tag.yaml"], "could not determine a constructor for the tag "
                              "'tag:yaml.org,2002:python/object/apply:os.system'"),
    (["preview", "name_tag.yaml"], "'tag:yaml.org,2002:python/name:os.system'"),
    (["preview", "dup.yaml"], "'dup.yaml': the key 'steps' appears twice in one mapping (first "
                              "at line 2): a config names each key once (line 3, column 1)"),
    (["preview", "syntax.yaml"], "expected ',' or ']'"),
    (["preview", "scalar.yaml"], "'scalar.yaml' must hold a config (a mapping with a 'type' key)"
                                 " or a list of them (got the str 'hello')"),
    (["preview", "number.yaml"], "(got the int 5)"),
    (["preview", "empty.yaml"], "'empty.yaml' is empty"),
    (["preview", "binary.yaml"], "'binary.yaml' is not UTF-8 text"),
    (["preview", "folder.yaml"], "'folder.yaml' is a folder, not a config file"),
    (["preview", "alias.yaml"], "'alias.yaml': aliases and anchors (*name, &name) are not "
                                "allowed in a config (line 2, column 8)"),
    (["plot", "bomb.yaml", "-o", "x.png"], "'bomb.yaml': aliases and anchors"),
    (["preview", "deep.yaml"], "'deep.yaml': nesting deeper than 100 levels"),
    (["preview", "badkey.yaml"], "'badkey.yaml': unknown key 'step' for config type 'cosine'"),
    (["preview", "nondict.yaml"], "'nondict.yaml': 'schedule' must be a Schedule (got [1])"),
    (["preview", "unhashable.yaml"], "'unhashable.yaml' does not parse: found unhashable key"),
    (["preview", "date.yaml"], "'date.yaml': 'steps' must be a positive number"),
    (["preview", "missing.yaml"], "no such file: 'missing.yaml'"),
    # JSON files
    (["preview", "bad.json"], "'bad.json' does not parse: Expecting value (line 2, column 11)"),
    (["describe", "dup.json"], "'dup.json' has the key 'steps' twice in one mapping"),
    (["preview", "deep.json"], "'deep.json' nests deeper than 100 levels"),
    (["preview", "nan.json"], "'nan.json' holds NaN, which is not a finite number"),
    (["preview", "strings.json"], "'strings.json' holds a list, which must be of configs"),
    (["describe", "missing.json"], "no such file: 'missing.json'"),
    (["compare", "missing.json", "--epochs", "1"], "no such file: 'missing.json'"),
    # numbers
    (["preview", "cosine", "--steps", "0"], "--steps must be a positive int up to 10,000,000 "
                                            "(got 0)"),
    (["preview", "cosine", "--steps", "-5"], "--steps must be a positive int"),
    (["preview", "cosine", "--steps", "1e3"], "--steps must be a positive int up to 10,000,000 "
                                              "(got 1e3)"),
    (["describe", "cosine", "--steps", "20000000"], "(got 20000000)"),
    (["preview", "cosine", "--epochs", "inf", "--steps-per-epoch", "10"],
     "--epochs must be a positive number up to 10,000,000 (got inf)"),
    (["preview", "cosine", "--epochs", "nan", "--steps-per-epoch", "10"],
     "--epochs must be a positive number up to 10,000,000 (got nan)"),
    (["preview", "cosine", "--epochs", "-1", "--steps-per-epoch", "10"], "(got -1)"),
    (["describe", "cosine", "--epochs", "0", "--steps-per-epoch", "10"],
     "--epochs must be a positive number up to 10,000,000 (got 0)"),
    (["plot", "cosine", "-o", "x.png", "--epochs", "1e400", "--steps-per-epoch", "2"],
     "--epochs must be a positive number up to 10,000,000 (got 1e400)"),
    (["plot", "cosine", "-o", "x.png", "--epochs", "3"], "--epochs needs --steps-per-epoch"),
    (["preview", "cosine", "--epochs", "1e6", "--steps-per-epoch", "1000"],
     "--epochs x --steps-per-epoch must be at most 10,000,000 steps to show"),
    (["preview", "cosine", "--steps-per-epoch", "0"], "--steps-per-epoch must be a positive int"),
    (["preview", "cosine", "--width", "0"], "--width must be a positive int up to 1,000 (got 0)"),
    (["preview", "cosine", "--width", "100000"], "(got 100000)"),
    (["preview", "cosine", "--height", "-2"], "--height must be a positive int up to 500"),
    (["describe", "cosine", "--training-steps", "0"], "--training-steps must be a positive int"),
    (["describe", "cosine", "--training-steps", "2.5"], "(got 2.5)"),
    (["presets", "--steps", "inf"], "--steps must be an int from 20 to 10,000,000 (got inf)"),
    (["compare", "cosine", "--epochs", "0"], "--epochs must be a positive int up to 1,000 (got 0)"),
    (["compare", "cosine", "--seeds", "-1"], "--seeds must be a positive int up to 100 (got -1)"),
    (["demo", "--epochs", "2.5"], "--epochs must be a positive int up to 1,000 (got 2.5)"),
    (["find-lr", "--start", "0"], "--start must be a number from 1e-12 to 1e+06 (got 0)"),
    (["find-lr", "--end", "inf"], "--end must be a number from 1e-12 to 1e+06 (got inf)"),
    (["find-lr", "--start", "1", "--end", "0.1"],
     "--end must be more than --start (got --start 1 --end 0.1)"),
    (["find-lr", "--iters", "1"], "--iters must be an int from 2 to 10,000 (got 1)"),
    (["find-lr", "--seed", "-1"], "--seed must be an int from 0 to 2**32 - 1 (got -1)"),
    (["find-lr", "--seed", "99999999999"], "(got 99999999999)"),
    # outputs
    (["plot", "cosine", "-o", "x.jpg"], "-o must end in .png, .svg or .pdf (got 'x.jpg')"),
    (["plot", "cosine", "-o", "x"], "-o must end in .png, .svg or .pdf (got 'x')"),
    (["plot", "cosine", "-o", "nodir/x.png"],
     "-o 'nodir/x.png': the folder 'nodir' does not exist"),
    (["plot", "cosine", "-o", "afile.txt/x.png"], "'afile.txt' is a file, not a folder"),
    (["plot", "cosine", "-o", "folder.png"], "-o 'folder.png' is a folder"),
    (["find-lr", "--plot", "nodir/f.png"], "--plot 'nodir/f.png': the folder 'nodir' does not"),
    (["find-lr", "--plot", "f.gif"], "--plot must end in .png, .svg or .pdf (got 'f.gif')"),
    (["compare", "cosine", "--out", "afile.txt"], "--out 'afile.txt' is a file, not a folder"),
    (["demo", "--out", "afile.txt/report"], "'afile.txt' is a file, not a folder"),
    # scheduler configs missing what they need
    (["describe", '{"type": "torch.StepLR"}'],
     "config type 'torch.StepLR' needs the key 'step_size'"),
    (["describe", '{"type": "torch.ChainedScheduler"}'],
     "config type 'torch.ChainedScheduler' needs the key 'schedulers'"),
    (["describe", '{"type": "torch.SequentialLR", "schedulers": 5, "milestones": [1]}'],
     "torch.SequentialLR's 'schedulers' must be a list of scheduler configs (got 5)"),
    (["describe", '[{"type": "StepLR"}]'], "MMEngine's Step scheduler needs 'step_size'"),
    (["describe", '{"type": "mmengine.StepLR"}'], "MMEngine's Step scheduler needs 'step_size'"),
    (["describe", '{"type": "torch.EPOCH_DEPRECATION_WARNING"}'],
     "unknown config type 'torch.EPOCH_DEPRECATION_WARNING'"),
    # options
    (["preview", "cosine", "--bogus"], "unrecognized arguments: --bogus"),
    (["preview"], "the following arguments are required: SPEC"),
    (["find-lr", "--mode", "sideways"], "argument --mode: invalid choice: 'sideways'"),
    (["preview", "cosine", "--steps", "10", "--epochs", "2"], "not allowed with argument --steps"),
    (["plot", "cosine"], "the following arguments are required: -o/--output"),
    (["preview", "cosine", "--width"], "argument --width: expected one argument"),
    (["nosuch"], "argument COMMAND: invalid choice: 'nosuch'"),
    ([], "the following arguments are required: COMMAND"),
]


@pytest.fixture
def in_bad_files(tmp_path, monkeypatch):
    write_bad_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_table_is_large():
    assert len(BAD) >= 60
    assert len({tuple(argv) for argv, _ in BAD}) == len(BAD)


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a)[:60] for a, _ in BAD])
def test_a_mistake_is_one_line_and_status_2(argv, message, in_bad_files, capsys):
    status = main(argv)
    out, err = capsys.readouterr()
    command = argv[0] if argv and argv[0] in COMMANDS else None
    prefix = f"cadence {command}: error: " if command else "cadence: error: "
    lines = err.splitlines()
    assert status == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith(prefix), err
    assert message in lines[0], err
    assert "Traceback" not in err and out == ""


def test_a_yaml_bomb_is_refused_at_once(in_bad_files, capsys):
    # ten levels of nine aliases each: 9**10 strings once expanded, from a 400-byte file
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    Path("bomb10.yaml").write_text("\n".join(lines) + "\n")
    assert len(Path("bomb10.yaml").read_bytes()) < 500
    assert main(["describe", "bomb10.yaml"]) == 2
    assert "aliases and anchors" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/proc").is_dir(),
                    reason="needs /proc, a folder in which no file can be made (even by root)")
@pytest.mark.parametrize("argv", [["plot", "cosine", "-o", "/proc/cadence-x.png"],
                                  ["compare", "cosine", "--out", "/proc/cadence/report"]])
def test_a_folder_that_cannot_be_written_in_is_refused(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "cannot write in the folder '/proc'" in err and len(err.splitlines()) == 1


# -- bugs are not swallowed --------------------------------------------------------------------
@pytest.mark.parametrize("error", [KeyError("x"), TypeError("boom"), ValueError("bug"),
                                   OSError("disk"), ImportError("lib")])
def test_a_bug_in_a_command_propagates(error, monkeypatch):
    def broken(args):
        raise error

    monkeypatch.setattr(cli, "cmd_preview", broken)
    with pytest.raises(type(error)):
        main(["preview", "cosine"])


def test_a_bug_deep_in_the_library_propagates(monkeypatch):
    curves = import_module("cadence.tools.curves")

    def broken(spec):
        raise TypeError("a bug, not a user's mistake")

    monkeypatch.setattr(curves, "horizon", broken)
    monkeypatch.setattr(cli, "horizon", broken)
    with pytest.raises(TypeError, match="a bug"):
        main(["preview", "cosine"])


def test_a_bug_prints_its_traceback_and_exits_1(tmp_path):
    code = ("import cadence.cli as c\n"
            "c.cmd_presets = lambda args: {}['missing']\n"
            "raise SystemExit(c.main(['presets']))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)
    assert out.returncode == 1
    assert "Traceback" in out.stderr and "KeyError: 'missing'" in out.stderr
    assert "cadence presets: error" not in out.stderr


# -- outputs are checked before any work --------------------------------------------------------
def fail_if_called(*args, **kwargs):
    pytest.fail("work started before the output path was checked")


def test_find_lr_refuses_a_bad_plot_path_before_training(tmp_path, monkeypatch, capsys):
    task = import_module("cadence.cli.task")
    find_lr = import_module("cadence.tools.find_lr")  # the module (the package has the function)

    monkeypatch.setattr(find_lr, "find_lr", fail_if_called)
    monkeypatch.setattr(task, "load_digits", fail_if_called)
    monkeypatch.chdir(tmp_path)
    assert main(["find-lr", "--plot", "nowhere/f.png"]) == 2
    assert "--plot 'nowhere/f.png': the folder 'nowhere' does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["compare", "cosine", "--out", "a.txt"],
                                  ["demo", "--out", "a.txt/report"]])
def test_compare_and_demo_refuse_a_bad_folder_before_training(argv, tmp_path, monkeypatch,
                                                              capsys):
    import cadence.cli.experiment as experiment

    monkeypatch.setattr(experiment, "compare", fail_if_called)
    monkeypatch.setattr(experiment, "train", fail_if_called)
    monkeypatch.setattr(experiment, "load_digits", fail_if_called)
    monkeypatch.chdir(tmp_path)
    Path("a.txt").write_text("a file")
    assert main(argv) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_plot_refuses_a_bad_path_before_drawing(tmp_path, monkeypatch, capsys):
    curves = import_module("cadence.tools.curves")

    monkeypatch.setattr(curves, "horizon", fail_if_called)
    monkeypatch.setattr(cli, "horizon", fail_if_called)
    monkeypatch.chdir(tmp_path)
    assert main(["plot", "cosine", "-o", "nowhere/x.png"]) == 2
    assert "the folder 'nowhere' does not exist" in capsys.readouterr().err


def test_the_figure_suffixes_are_those_the_tools_write():
    from cadence.tools.find_lr import PLOT_SUFFIXES
    from cadence.tools.plot import FORMATS

    assert set(cli.FIGURE_SUFFIXES) == set(FORMATS) == set(PLOT_SUFFIXES)


def test_a_good_command_line_still_works(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("s.json").write_text(json.dumps({"type": "cosine", "steps": 300}))
    assert main(["preview", "s.json", "--height", "4"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "s: lr" in out
