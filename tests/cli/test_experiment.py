"""The built-in experiment: deterministic, the lrs it applies are the schedules', reports,
and DistributedDataParallel over 2 gloo processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from cadence.cli import report
from cadence.cli.experiment import DEMO, Ranks, compare, factory, relative
from cadence.cli.task import lenet, load_digits
from cadence.schedules import Cosine


def test_the_task():
    data = load_digits()
    assert data.train_x.shape == (1347, 1, 8, 8) and data.test_x.shape == (450, 1, 8, 8)
    assert float(data.train_x.min()) >= 0.0 and float(data.train_x.max()) <= 1.0
    test = np.bincount(data.test_y.numpy())
    every = test + np.bincount(data.train_y.numpy())
    assert np.all(np.abs(test - 0.25 * every) <= 1)  # stratified: each class split 1:3
    assert lenet()(data.test_x[:3]).shape == (3, 10)


def test_same_numbers_for_the_same_seed_and_the_schedules_own_lrs():
    first = compare(["cosine", "warm-restarts"], Ranks(), epochs=2, seeds=1)
    second = compare(["cosine", "warm-restarts"], Ranks(), epochs=2, seeds=1)
    for a, b in zip(first, second):
        assert a.epochs == b.epochs and a.lrs == b.lrs
    cosine = first[0]
    total = len(cosine.lrs)
    expected = 0.02 * Cosine(start=1.0, end=0.01, steps=total)(np.arange(total))
    np.testing.assert_allclose(cosine.lrs, expected, rtol=1e-12)
    assert len(DEMO) >= 7


def test_specs_are_checked_before_training(tmp_path):
    (tmp_path / "s.yaml").write_text("type: torch.StepLR\nstep_size: 10\n")
    for spec in ("cosine", "wsd", '{"type": "cosine", "steps": 50}', str(tmp_path / "s.yaml")):
        factory(spec)
    with pytest.raises(ValueError, match="unknown preset 'cosne'"):
        factory("cosne")
    with pytest.raises(ValueError, match="unknown key 'stepsize'"):
        factory('{"type": "torch.StepLR", "stepsize": 3}')


def test_which_specs_are_factors_of_the_base_lr(tmp_path):
    """A relative spec's lrs are 0.02 x its values on a base of 1; the others' are not."""
    (tmp_path / "step.yaml").write_text("type: torch.StepLR\nstep_size: 10\n")
    one_cycle = '{"type": "torch.OneCycleLR", "max_lr": 0.1, "total_steps": 22}'
    assert all(relative(spec) for spec in DEMO)
    assert relative("wsd") and relative('{"type": "cosine", "steps": 50}')
    assert relative(str(tmp_path / "step.yaml"))
    assert not relative(one_cycle)
    # trained, the one-cycle config gives PyTorch's lrs for max_lr=0.1, whatever the base lr
    (run,) = compare([one_cycle], Ranks(), epochs=1, seeds=1)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.02, momentum=0.9)
    upstream = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=22)
    expected = []
    for _ in range(22):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        upstream.step()
    np.testing.assert_allclose(run.lrs, expected, rtol=1e-9)
    assert max(run.lrs) > 0.09  # not 0.02 x anything below 1


def test_report(tmp_path):
    runs = compare(["constant", "one-cycle"], Ranks(), epochs=2, seeds=2)
    table = report.markdown(runs)
    assert table.splitlines()[0] == "| schedule | final train loss | train acc | test acc | time (s) |"
    row = table.splitlines()[2]
    losses = [r.final("train_loss") for r in runs if r.schedule == "constant"]
    assert row.startswith("| constant | ") and f"{np.mean(losses):.4f} ± " in row
    paths = report.write(runs, tmp_path, epochs=2, seeds=2, world_size=1, seconds=1.0)
    assert [p.name for p in paths] == ["report.md", "lr.png", "training.png", "results.json"]
    fig = report.training_figure(runs)
    assert [ax.get_title() for ax in fig.axes] == ["train loss", "train accuracy", "test accuracy"]
    assert all(len(ax.get_lines()) == 2 for ax in fig.axes)
    assert all(ax.get_ylabel() for ax in fig.axes) and len(fig.legends) == 1
    report_md = " ".join((tmp_path / "report.md").read_text().split())
    assert "multiply the base lr 0.02 (SGD, momentum 0.9, batch 64)" in report_md
    assert len(report.lr_figure(runs, 22).axes[0].get_lines()) == 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_processes_keep_the_same_lr_and_rank_0_reports(tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    out = tmp_path / "ddp"
    env = {**os.environ, "MASTER_PORT": str(free_port())}
    run = subprocess.run(
        [str(torchrun), "--nproc_per_node=2", "--master_port", env["MASTER_PORT"], "-m",
         "cadence", "compare", "cosine", "warm-restarts", "--epochs", "2", "--seeds", "1",
         "--out", str(out)], capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("2 process(es)") == 1  # only rank 0 printed the table
    results = json.loads((out / "results.json").read_text())
    assert results["setup"]["processes"] == 2
    single = {r.schedule: r for r in compare(["cosine", "warm-restarts"], Ranks(), epochs=2, seeds=1)}
    for entry in results["runs"]:
        assert entry["lrs"] == single[entry["schedule"]].lrs
        for got, want in zip(entry["epochs"], single[entry["schedule"]].epochs):
            assert got["train_loss"] == pytest.approx(want["train_loss"], rel=1e-3)


def test_ranks_that_disagree_are_caught(tmp_path):
    env = {**os.environ, "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1",
           "MASTER_PORT": str(free_port())}
    worker = Path(__file__).with_name("ranks_worker.py")
    procs = [subprocess.Popen([sys.executable, str(worker), str(tmp_path)],
                              env={**env, "RANK": str(rank)}, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT) for rank in range(2)]
    for proc in procs:
        output, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, output.decode()
    for rank in range(2):
        result = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert result["same"] == "ok"
        assert result["different"].startswith("ranks disagree on the lr: [[0.1], [0.2]]")
