"""examples/tour.py runs as its docstring says and prints what it claims; examples/wsd_branches.py
draws its runs, prints their table, and its branches follow WSD."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from cadence.schedules import WSD, CosineRestarts, Linear, join

TOUR = Path(__file__).resolve().parents[1] / "examples" / "tour.py"


def test_the_tour_runs_and_prints_the_schedule_values():
    done = subprocess.run([sys.executable, str(TOUR)], capture_output=True, text=True,
                          timeout=120, check=True)
    lr = join([Linear(start=0.05, end=1.0, steps=100),
               CosineRestarts(period=200, period_mult=2, decay=0.97, low=0.2, high=2.0)],
              boundaries=[100])
    for step in (0, 50, 100, 300, 1500):
        assert f"{step:>4}  {lr(step):.6f}" in done.stdout
    assert "a million steps as one array" in done.stdout
    assert '"type": "join"' in done.stdout


# -- examples/wsd_branches.py ------------------------------------------------------------------
WSD_BRANCHES = TOUR.parent / "wsd_branches.py"


def test_the_wsd_branches_example_draws_its_runs_and_each_branch_is_wsd(tmp_path):
    """A quick run (4 epochs): the figure, the table, and each branch's lrs those of WSD with
    its decay starting at the branch point."""
    figure, record = tmp_path / "branches.png", tmp_path / "runs.json"
    done = subprocess.run([sys.executable, str(WSD_BRANCHES), "--epochs", "4", "--out",
                           str(figure), "--record", str(record)],
                          capture_output=True, text=True, timeout=300, check=True)
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.stat().st_size > 10_000
    recorded = json.loads(record.read_text())
    total, warmup, runs = recorded["total"], recorded["warmup"], recorded["runs"]
    assert (total, warmup) == (88, 9)  # 4 epochs of 22 updates, a tenth of them warming up
    names = [run["name"] for run in runs]
    assert names == ["stable"] + [f"{shape} from epoch {epoch}" for epoch in (1, 2, 3)
                                  for shape in ("linear", "1-sqrt")]
    lines = done.stdout.splitlines()
    assert lines[1].split() == ["run", "train", "loss", "held-out", "loss", "held-out", "acc"]
    for name, line, run in zip(names, lines[3:], runs):
        assert line.startswith(name) and line.split()[-3:] == [
            f"{run['train_loss'][-1]:.4f}", f"{run['test_loss'][-1]:.4f}",
            f"{run['test_acc'][-1]:.4f}"]
    assert lines[-1] == f"wrote {figure}"
    stable = runs[0]
    assert stable["lrs"] == [0.05 * min(s / warmup, 1.0) for s in range(total)]
    for run in runs[1:]:
        at = run["at"]
        wsd = WSD(warmup_steps=warmup, stable_steps=at - warmup, decay_steps=total - at,
                  decay=run["shape"])
        assert run["lrs"] == [0.05 * float(wsd(s)) for s in range(at, total)], run["name"]
        assert run["steps"][0] == at and run["steps"][-1] == total
        assert all(np.isfinite(run["train_loss"])) and len(run["test_loss"]) == len(run["steps"])


def test_the_wsd_branches_example_has_a_useful_help():
    done = subprocess.run([sys.executable, str(WSD_BRANCHES), "--help"], capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.startswith("usage: wsd_branches.py ")
    assert "WSD by branching: one warm-up-then-stable run" in " ".join(done.stdout.split())
    for option in ("--epochs", "--points", "--shapes", "--warmup", "--lr", "--seed", "--out",
                   "--record", "(default: 30)", "(default: wsd_branches.png)"):
        assert option in done.stdout, option
