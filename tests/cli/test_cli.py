"""The cadence command, through its real entry points."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest

from cadence.cli import main

SCRIPT = Path(sys.executable).with_name("cadence")


def cadence(*args, cwd=None, module=False):
    command = [sys.executable, "-m", "cadence", *args] if module else [str(SCRIPT), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=300)


def test_the_console_script_and_python_m_cadence():
    assert SCRIPT.exists()
    for module in (False, True):
        out = cadence("--help", module=module)
        assert out.returncode == 0
        for command in ("plot", "describe", "preview", "find-lr", "demo", "compare", "presets"):
            assert command in out.stdout


@pytest.mark.parametrize("command", ["plot", "describe", "preview", "find-lr", "demo",
                                     "compare", "presets"])
def test_every_command_has_help_with_an_example(command):
    out = cadence(command, "--help")
    assert out.returncode == 0
    assert "example:" in out.stdout and f"cadence {command}" in out.stdout


def test_plot_writes_the_figure(tmp_path):
    out = cadence("plot", "warmup-cosine", '{"type": "step", "every": 300, "gamma": 0.5}',
                  "-o", str(tmp_path / "lr.png"), "--epochs", "10", "--steps-per-epoch", "100")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "lr.png").read_bytes()[:4] == b"\x89PNG"


def test_preview_draws_in_the_terminal(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps({"type": "cosine", "steps": 300}))
    out = cadence("preview", str(tmp_path / "s.json"), "--steps", "400", "--height", "5")
    assert out.returncode == 0, out.stderr
    rows = [line for line in out.stdout.splitlines() if "┤" in line]
    assert len(rows) == 5 and "s: lr" in out.stdout


def test_describe_and_presets():
    out = cadence("describe", "cosine-restarts", "--steps", "1000", "--training-steps", "700")
    assert out.returncode == 0, out.stderr
    assert "cosine-restarts" in out.stdout
    out = cadence("presets", "--steps", "500")
    assert out.returncode == 0 and "warm-restarts" in out.stdout and "one-cycle" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [(("plot", "cosin", "-o", "x.png"), "unknown preset 'cosin'; did you mean 'cosine'"),
     (("plot", "{bad", "-o", "x.png"), "inline JSON does not parse"),
     (("plot", "cosine", "-o", "x.jpg"), "-o must end in .png, .svg or .pdf (got 'x.jpg')"),
     (("describe", "missing.yaml"), "no such file: 'missing.yaml'"),
     (("preview", '{"type": "cosine", "step": 5}'), "unknown key 'step' for config type 'cosine'"),
     (("compare", "nope", "--epochs", "1"), "unknown preset 'nope'"),
     (("preview", "cosine", "--steps", "0"), "--steps must be a positive int up to 10,000,000 "
                                             "(got 0)"),
     (("preview", "cosine", "--epochs", "inf", "--steps-per-epoch", "5"),
      "--epochs must be a positive number up to 10,000,000 (got inf)"),
     (("preview", "bad.yaml"), "'bad.yaml': aliases and anchors (*name, &name) are not allowed"),
     (("plot", "cosine", "-o", "x.png", "--epochs", "3"), "--epochs needs --steps-per-epoch")],
)
def test_a_bad_spec_is_one_line_and_status_2(args, message, tmp_path):
    (tmp_path / "bad.yaml").write_text("type: cosine\nsteps: &n 10\nend: *n\n")
    out = cadence(*args, cwd=tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr


def test_find_lr_on_the_built_in_task(tmp_path):
    out = cadence("find-lr", "--iters", "40", "--plot", str(tmp_path / "f.png"))
    assert out.returncode == 0, out.stderr
    assert "steepest" in out.stdout and "valley" in out.stdout
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    from cadence.tools.find_lr import RECOMMENDATION, RECOMMENDED

    assert f"{RECOMMENDED} (recommended)" in out.stdout  # the rule that measured best ...
    assert f"recommended: {RECOMMENDED}. {RECOMMENDATION}" in out.stdout  # ... and why


def test_demo_writes_the_report(tmp_path):
    out = cadence("demo", "--epochs", "2", "--seeds", "2", "--out", str(tmp_path / "report"))
    assert out.returncode == 0, out.stderr
    for name in ("constant", "square-root", "factor", "multistep", "cosine", "warmup-cosine",
                 "one-cycle", "warm-restarts"):
        assert name in out.stdout
    report = (tmp_path / "report" / "report.md").read_text()
    assert "![learning rates](lr.png)" in report and "| warm-restarts |" in report
    for image in ("lr.png", "training.png"):
        assert (tmp_path / "report" / image).read_bytes()[:4] == b"\x89PNG"
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert len(results["runs"]) == 16 and results["setup"]["seeds"] == 2


# -- how many steps a view shows ------------------------------------------------------------------
def axis_line(text):
    return text.strip().splitlines()[-1].split()


@pytest.mark.parametrize(("spec", "last"), [
    ('{"type": "cosine", "steps": 500}', "499"),
    ('{"type": "warmup", "steps": 100, "schedule": {"type": "cosine", "steps": 900}}', "999"),
    ('{"type": "join", "boundaries": [200], "schedules": [{"type": "linear", "steps": 200}, '
     '{"type": "cosine", "steps": 50}]}', "249"),
    ('{"type": "multistep", "milestones": [40, 80]}', "99"),
    ('{"type": "one_cycle", "total_steps": 3000}', "2999"),
    ('{"type": "exponential", "rate": 0.99}', "999"),
    ("constant", "999"),
    ("cosine", "999"),
])
def test_preview_shows_the_schedules_own_length_by_default(spec, last, capsys):
    assert main(["preview", spec, "--height", "3"]) == 0
    assert axis_line(capsys.readouterr().out) == ["0", "step", last]


def test_steps_still_win_over_the_schedules_length(capsys):
    assert main(["preview", '{"type": "cosine", "steps": 500}', "--steps", "2000"]) == 0
    assert axis_line(capsys.readouterr().out) == ["0", "step", "1999"]


def test_preview_in_epochs_is_labelled_in_epochs(capsys):
    assert main(["preview", "cosine", "--epochs", "10", "--steps-per-epoch", "100"]) == 0
    assert axis_line(capsys.readouterr().out) == ["0", "epoch", "9.99"]


def test_plot_and_describe_get_the_horizon(monkeypatch, tmp_path, capsys):
    seen = {}
    monkeypatch.setattr(import_module("cadence.tools.plot"), "plot",
                        lambda spec, steps, **kw: seen.update(plot=steps, per_epoch=kw[
                            "steps_per_epoch"]))
    monkeypatch.setattr(import_module("cadence.tools.describe"), "describe",
                        lambda spec, steps, **kw: seen.update(describe=steps) or "")
    monkeypatch.chdir(tmp_path)
    cosine = '{"type": "cosine", "steps": 500}'
    longer = '{"type": "warmup", "steps": 100, "schedule": {"type": "cosine", "steps": 900}}'
    assert main(["plot", cosine, longer, "-o", "x.png"]) == 0
    assert seen == {"plot": 1000, "per_epoch": None}
    assert main(["plot", cosine, "-o", "x.png", "--epochs", "3", "--steps-per-epoch", "40"]) == 0
    assert seen == {"plot": 120, "per_epoch": 40}
    assert main(["describe", cosine]) == 0
    assert seen["describe"] == 500
    assert main(["describe", "one-cycle"]) == 0
    assert seen["describe"] == 1000


@pytest.mark.parametrize("command", ["plot", "describe", "preview"])
def test_the_views_say_their_default_length(command, capsys):
    assert main([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "own length" in text and "1000 for a preset" in text and "--epochs" in text
    assert ("x axis is then in epochs" in text) == (command != "describe")


@pytest.mark.parametrize("command", ["compare", "demo"])
def test_compare_says_what_a_specs_values_are(command, capsys):
    assert main([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "lr 0.02" in text
    if command == "compare":
        assert "factors of the task's base lr, 0.02" in text and "absolute" in text
