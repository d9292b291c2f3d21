"""What the command line writes: never a user's file unasked, never half of one, and Ctrl-C is
one line and exit status 130.

A folder of generated files (compare and demo's ``--out``) is replaced only where cadence wrote
it, unchanged since (its manifest says); a file the user names (``plot -o``, ``find-lr
--plot``) is what they asked for, and is replaced whole or not at all. Work that would train is
replaced by stubs here, so a refusal that came after training would fail at once.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from importlib import import_module
from pathlib import Path

import pytest

import cadence.cli as cli
from cadence.cli import main
from cadence.cli.experiment import Run

experiment = import_module("cadence.cli.experiment")
task = import_module("cadence.cli.task")
SCRIPT = Path(sys.executable).with_name("cadence")
REPORT = ("report.md", "lr.png", "training.png", "results.json")
MANIFEST = ".cadence-manifest.json"  # cadence.cli.MANIFEST


def fail_if_called(*args, **kwargs):
    pytest.fail("work started before the outputs were checked")


def interrupted_main(argv):
    """main(argv), where a KeyboardInterrupt that escapes fails the test (pytest would take it
    for the user's and stop the whole run)."""
    try:
        return main(argv)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped main() as a KeyboardInterrupt")


def fake_runs(specs, ranks, *, epochs=1, seeds=1, tick=lambda: None):
    """What experiment.compare returns, without training: two epochs of made-up numbers."""
    runs = []
    for spec in specs:
        for seed in range(seeds):
            run = Run(spec, seed, lrs=[0.02, 0.01, 0.005, 0.001], seconds=0.1)
            run.epochs = [{"epoch": e + 1, "train_loss": 1.0 / (e + 1 + seed),
                           "train_acc": 0.5 + 0.1 * e, "test_acc": 0.4 + 0.1 * e}
                          for e in range(2)]
            runs.append(run)
    return runs


@pytest.fixture
def no_training(monkeypatch, tmp_path):
    """compare and demo refuse or write their report without training; cwd is tmp_path."""
    monkeypatch.setattr(experiment, "compare", fail_if_called)
    monkeypatch.setattr(experiment, "train", fail_if_called)
    monkeypatch.setattr(experiment, "load_digits", fail_if_called)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def report_folder(monkeypatch, path: Path) -> None:
    """A report folder as cadence writes it (with its manifest), from made-up runs."""
    monkeypatch.setattr(experiment, "compare", fake_runs)
    assert main(["compare", "cosine", "--seeds", "1", "--epochs", "1", "--out", str(path)]) == 0
    monkeypatch.setattr(experiment, "compare", fail_if_called)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


COMMANDS = {"compare": ["compare", "cosine", "--epochs", "1", "--seeds", "1"],
            "demo": ["demo", "--epochs", "1", "--seeds", "1"]}


# -- a folder of generated files: only cadence's, unchanged, are replaced ------------------------
@pytest.mark.parametrize("name", REPORT)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_users_file_in_out_is_refused_before_training(command, name, no_training, capsys):
    folder = no_training / "out"
    folder.mkdir()
    (folder / name).write_bytes(b"the user's own file")
    (folder / "notes.txt").write_text("unrelated")
    status = main([*COMMANDS[command], "--out", "out"])
    err = capsys.readouterr().err
    assert status == 2 and len(err.splitlines()) == 1, err
    assert err.startswith(f"cadence {command}: error: --out 'out' holds {name}, "), err
    assert "--force" in err and "another --out" in err
    assert (folder / name).read_bytes() == b"the user's own file"
    assert sorted(p.name for p in folder.iterdir()) == sorted([name, "notes.txt"])


@pytest.mark.parametrize(("edit", "refused"), [
    ("report.md", ["report.md"]),            # edited since cadence wrote it
    ("results.json", ["results.json"]),
    ("lr.png", ["lr.png"]),
    ("both", ["report.md", "training.png"]),
    ("manifest", [MANIFEST, *REPORT]),  # a manifest that is not cadence's vouches for none
])
def test_a_file_changed_since_cadence_wrote_it_is_refused(edit, refused, no_training,
                                                          monkeypatch, capsys):
    folder = no_training / "report"
    report_folder(monkeypatch, folder)
    capsys.readouterr()
    if edit == "manifest":
        (folder / MANIFEST).write_text("my own notes")
    for name in ["report.md", "training.png"] if edit == "both" else [edit]:
        if edit != "manifest":
            with open(folder / name, "ab") as file:
                file.write(b"\nthe user's addition\n")
    before = snapshot(folder)
    assert main([*COMMANDS["demo"], "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"holds {', '.join(refused)}, which cadence did not write or which changed" in err
    assert snapshot(folder) == before


def test_a_report_folder_is_written_with_its_manifest_and_a_second_run_works(
        no_training, monkeypatch, capsys):
    folder = no_training / "report"
    folder.mkdir()
    (folder / "notes.txt").write_text("the user's notes, next to the report")
    report_folder(monkeypatch, folder)
    assert import_module("cadence.cli.outputs").MANIFEST == MANIFEST
    manifest = json.loads((folder / MANIFEST).read_text())
    assert sorted(manifest["files"]) == sorted(REPORT)
    assert not [p for p in folder.iterdir() if ".tmp" in p.name]
    first = snapshot(folder)
    # `make demo` twice: the second run replaces what the first wrote
    monkeypatch.setattr(experiment, "compare", fake_runs)
    assert main([*COMMANDS["demo"], "--out", str(folder)]) == 0
    assert (folder / "notes.txt").read_text() == "the user's notes, next to the report"
    assert "| constant |" in (folder / "report.md").read_text()  # the demo's, not compare's
    assert snapshot(folder)["report.md"] != first["report.md"]


@pytest.mark.parametrize("command", COMMANDS)
def test_force_replaces_the_users_files(command, no_training, monkeypatch, capsys):
    folder = no_training / "out"
    folder.mkdir()
    for name in REPORT:
        (folder / name).write_bytes(b"mine")
    monkeypatch.setattr(experiment, "compare", fake_runs)
    assert main([*COMMANDS[command], "--out", "out", "--force"]) == 0
    assert (folder / "lr.png").read_bytes()[:4] == b"\x89PNG"
    assert main([*COMMANDS[command], "--out", "out"]) == 0  # now cadence's: no --force needed


def test_a_folder_in_the_way_is_refused_even_with_force(no_training, capsys):
    (no_training / "out" / "lr.png").mkdir(parents=True)
    assert main([*COMMANDS["compare"], "--out", "out", "--force"]) == 2
    assert "'lr.png' is a folder" in capsys.readouterr().err


def test_the_report_files_are_those_report_writes():
    from cadence.cli import report

    assert cli.REPORT_FILES == report.FILES == REPORT


@pytest.mark.parametrize("command", COMMANDS)
def test_help_says_what_out_and_force_do(command, capsys):
    assert main([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--force" in text and MANIFEST in text and "only if unchanged" in text


# -- a file the user names is replaced, whole; one that is not a file is refused -----------------
@pytest.mark.parametrize("command", ["plot", "find-lr"])
def test_help_says_the_named_file_is_replaced(command, capsys):
    assert main([command, "--help"]) == 0
    assert "a file of that name is replaced" in " ".join(capsys.readouterr().out.split())


def make(kind: str, path: Path) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.close()
    elif kind == "device":
        path.symlink_to("/dev/null")


NOT_FILES = [("fifo", "a named pipe (FIFO)"), ("socket", "a socket"),
             ("device", "a character device")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize(("kind", "what"), NOT_FILES)
@pytest.mark.parametrize("argv", [["plot", "cosine", "-o", "x.png"],
                                  ["find-lr", "--iters", "10", "--plot", "x.png"]])
def test_a_named_output_that_is_not_a_file_is_refused_before_work(argv, kind, what, tmp_path,
                                                                  monkeypatch, capsys):
    monkeypatch.setattr(import_module("cadence.tools.plot"), "plot", fail_if_called)
    monkeypatch.setattr(task, "find_lr_on_task", fail_if_called)
    monkeypatch.chdir(tmp_path)
    make(kind, tmp_path / "x.png")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"'x.png' is {what}, not a file cadence can replace" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("argv", [["plot", "cosine", "-o", "x.png"],
                                  ["find-lr", "--iters", "10", "--plot", "x.png"]])
def test_a_read_only_named_output_is_not_replaced(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(import_module("cadence.tools.plot"), "plot", fail_if_called)
    monkeypatch.setattr(task, "find_lr_on_task", fail_if_called)
    monkeypatch.chdir(tmp_path)
    Path("x.png").write_bytes(b"a figure the user protected")
    Path("x.png").chmod(0o444)
    access = os.access  # root may write anything: say what a user would be told
    monkeypatch.setattr(os, "access", lambda path, mode: access(path, mode) and (
        Path(path).name != "x.png" or mode != os.W_OK))
    assert main(argv) == 2
    assert "'x.png' is read-only: cadence does not replace it" in capsys.readouterr().err
    assert Path("x.png").read_bytes() == b"a figure the user protected"


def interrupted_plot(spec, steps, *, path, **kwargs):
    """tools.plot.plot stopped by Ctrl-C half-way through writing its file."""
    Path(path).write_bytes(b"\x89PNG half of a figure")
    raise KeyboardInterrupt


class HalfWritten:
    """An LRFinderResult whose plot is stopped by Ctrl-C half-way through its file."""

    stopped_early, suggestions = False, {}

    def plot(self, path):
        return interrupted_plot(None, 0, path=path)


@pytest.mark.parametrize("argv", [["plot", "cosine", "-o", "x.png"],
                                  ["find-lr", "--iters", "10", "--plot", "x.png"]])
def test_ctrl_c_while_a_named_file_is_written_leaves_the_old_one(argv, tmp_path, monkeypatch,
                                                                 capsys):
    monkeypatch.setattr(import_module("cadence.tools.plot"), "plot", interrupted_plot)
    monkeypatch.setattr(task, "find_lr_on_task", lambda **kw: HalfWritten())
    monkeypatch.chdir(tmp_path)
    Path("x.png").write_bytes(b"the previous figure")
    assert interrupted_main(argv) == 130
    assert capsys.readouterr().err == f"cadence {argv[0]}: interrupted\n"
    assert Path("x.png").read_bytes() == b"the previous figure"
    assert sorted(os.listdir()) == ["x.png"]  # no temporary file left


# -- Ctrl-C: one line, status 130, nothing half-written -----------------------------------------
def interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize(("argv", "module", "name"), [
    (["find-lr", "--iters", "10", "--plot", "f.png"], "cadence.cli.task", "find_lr_on_task"),
    (["compare", "cosine", "--epochs", "1", "--out", "out"], "cadence.cli.experiment", "compare"),
    (["demo", "--epochs", "1", "--out", "out"], "cadence.cli.experiment", "compare"),
    (["preview", "cosine"], "cadence.tools.curves", "curves"),
    (["plot", "cosine", "-o", "x.png"], "cadence.tools.curves", "curves"),
    (["describe", "cosine"], "cadence.tools.describe", "describe"),
    (["presets"], "cadence.tools.presets", "preset"),
])
def test_ctrl_c_is_one_line_and_status_130(argv, module, name, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(import_module(module), name, interrupt)
    monkeypatch.chdir(tmp_path)
    assert interrupted_main(argv) == 130
    assert capsys.readouterr().err == f"cadence {argv[0]}: interrupted\n"
    assert os.listdir() == []  # no output, no folder, no temporary file


def test_ctrl_c_while_the_report_is_written_leaves_each_file_old_or_new(no_training,
                                                                       monkeypatch, capsys):
    folder = no_training / "report"
    report_folder(monkeypatch, folder)
    old = snapshot(folder)
    outputs = import_module("cadence.cli.outputs")
    replace = os.replace
    calls = []

    def replace_twice(src, dst):  # the manifest first, then one file; then Ctrl-C
        calls.append(dst)
        if len(calls) > 2:
            raise KeyboardInterrupt
        replace(src, dst)

    monkeypatch.setattr(experiment, "compare", fake_runs)
    monkeypatch.setattr(outputs.os, "replace", replace_twice)
    assert interrupted_main([*COMMANDS["demo"], "--out", str(folder)]) == 130
    monkeypatch.setattr(outputs.os, "replace", replace)
    assert not [p for p in folder.iterdir() if ".tmp" in p.name]
    now = snapshot(folder)
    assert now["report.md"] != old["report.md"]  # replaced before the interruption
    assert now["lr.png"] == old["lr.png"]  # not reached
    # the manifest knows both, so the next run needs no --force
    assert main([*COMMANDS["demo"], "--out", str(folder)]) == 0


@pytest.mark.parametrize("argv", [
    ["find-lr", "--iters", "10000", "--start", "1e-9", "--end", "1e-6", "--plot", "f.png"],
    ["compare", "cosine", "--epochs", "1000", "--out", "out"],
])
def test_a_real_ctrl_c_while_training(argv, tmp_path):
    # SIGINT as a terminal delivers it: a test run started in the background (`make test &`)
    # ignores SIGINT, and its children inherit that unless it is put back
    process = subprocess.Popen([str(SCRIPT), *argv], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(3)  # well into the training (which would take minutes)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert err.strip().splitlines() == [f"cadence {argv[0]}: interrupted"], err
    assert os.listdir(tmp_path) == []
