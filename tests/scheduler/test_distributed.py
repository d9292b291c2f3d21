"""Under torch.distributed the plateau metric is averaged, so every rank keeps the same lr."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch

from cadence import ReduceOnPlateau, Scheduler
from cadence.schedules import Constant

WORKER = Path(__file__).with_name("plateau_worker.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def single_process(metrics):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = Scheduler(opt, lr=Constant(1.0),
                      plateau=ReduceOnPlateau(patience=1, factor=0.5, sync=False))
    seen = []
    for m in metrics:
        sched.report(m)
        seen.append(opt.param_groups[0]["lr"])
    return seen


def test_two_gloo_ranks_keep_the_same_lr(tmp_path):
    port = free_port()
    procs = []
    for rank in range(2):
        env = {**os.environ, "RANK": str(rank), "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1",
               "MASTER_PORT": str(port)}
        procs.append(subprocess.Popen([sys.executable, str(WORKER), str(tmp_path)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out.decode()
    rank0 = json.loads((tmp_path / "rank0.json").read_text())
    rank1 = json.loads((tmp_path / "rank1.json").read_text())
    assert rank0 == rank1
    sys.path.insert(0, str(WORKER.parent))
    try:
        from plateau_worker import METRICS
    finally:
        sys.path.pop(0)
    averaged = [(a + b) / 2 for a, b in zip(METRICS[0], METRICS[1])]
    assert rank0 == single_process(averaged)
    assert rank0 != single_process(METRICS[0]) and rank0 != single_process(METRICS[1])
    assert min(rank0) < 0.1  # the averaged metric did plateau
