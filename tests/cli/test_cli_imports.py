"""Commands that only read schedules import no torch, scikit-learn or (but plot) matplotlib.

Each command runs in a fresh interpreter through ``cadence.cli.main``, which then prints the
heavy packages it finds in ``sys.modules``. No timing here: ``bench/bench_cli.py`` times them.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "sklearn", "matplotlib")
WRAPPER = (
    "import sys\n"
    "from cadence.cli import main\n"
    "status = main(sys.argv[1:])\n"
    f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    "raise SystemExit(status)\n"
)


def heavy_imports(*argv, cwd):
    out = subprocess.run([sys.executable, "-c", WRAPPER, *argv], capture_output=True, text=True,
                         cwd=cwd, timeout=300)
    assert out.returncode == 0, out.stderr
    return ast.literal_eval(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [
    ["--help"],
    ["presets"],
    ["preview", "cosine"],
    ["preview", '{"type": "warmup", "steps": 10, "schedule": {"type": "cosine", "steps": 90}}'],
    ["preview", "s.yaml"],
    ["describe", "cosine"],
    ["describe", "s.json", "--training-steps", "80"],
    ["plot", "--help"],
    ["compare", "--help"],
    ["find-lr", "--help"],
])
def test_reading_schedules_imports_no_torch(argv, tmp_path):
    (tmp_path / "s.yaml").write_text("type: cosine\nsteps: 100\n")
    (tmp_path / "s.json").write_text(json.dumps({"type": "linear", "steps": 100}))
    assert heavy_imports(*argv, cwd=tmp_path) == []


def test_plot_imports_matplotlib_only(tmp_path):
    assert heavy_imports("plot", "cosine", "-o", "x.png", cwd=tmp_path) == ["matplotlib"]
    assert (tmp_path / "x.png").read_bytes()[:4] == b"\x89PNG"


def test_a_scheduler_config_imports_torch_when_it_needs_it(tmp_path):
    spec = '{"type": "torch.StepLR", "step_size": 30}'
    assert heavy_imports("preview", spec, cwd=tmp_path) == ["torch"]
