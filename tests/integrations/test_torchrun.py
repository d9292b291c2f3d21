"""cadence in a plain DistributedDataParallel loop (examples/torchrun_example.py), run by a real
torchrun with two processes (gloo, CPU)."""

from __future__ import annotations

import math

import pytest
import torch
from example_runner import torchrun_example

BASE, EPOCHS, UPDATES_PER_EPOCH, WARMUP = 0.05, 4, 8, 6  # 64 samples, 2 ranks, batches of 4


def torchrun(tmp_path, name, *args):
    """Both ranks' records of ``examples/torchrun_example.py`` under torchrun."""
    return torchrun_example("torchrun_example", *args, record=tmp_path / f"{name}.json")


def warmup_cosine(t):
    total = EPOCHS * UPDATES_PER_EPOCH - WARMUP
    if t < WARMUP:
        return t / WARMUP
    return 0.1 + 0.9 * (1 + math.cos(math.pi * (t - WARMUP) / total)) / 2


def test_every_rank_holds_the_schedules_lr_and_reduces_on_the_mean_metric(tmp_path):
    ranks = torchrun(tmp_path, "whole")
    assert ranks[0]["processes"] == 2
    assert ranks[0]["lrs"] == ranks[1]["lrs"]
    assert ranks[0]["val_losses"] != ranks[1]["val_losses"]  # each rank validates its shard
    # PyTorch's ReduceLROnPlateau fed the mean of the ranks' losses, once per epoch
    reference = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(reference, patience=0, factor=0.5)
    factors = [1.0]
    for losses in zip(ranks[0]["val_losses"], ranks[1]["val_losses"], strict=True):
        plateau.step(sum(losses) / 2)
        factors.append(reference.param_groups[0]["lr"])
    assert min(factors[:EPOCHS]) < 1.0  # a reduction happened within the run
    expected = [(t, BASE * warmup_cosine(t) * factors[t // UPDATES_PER_EPOCH])
                for t in range(EPOCHS * UPDATES_PER_EPOCH)]
    assert [step for step, _ in ranks[0]["lrs"]] == [step for step, _ in expected]
    assert [lr for _, lr in ranks[0]["lrs"]] == pytest.approx([lr for _, lr in expected],
                                                              rel=1e-12)


def test_a_saved_state_resumes_every_rank_in_fresh_processes(tmp_path):
    whole = torchrun(tmp_path, "whole")
    state = str(tmp_path / "state.pt")
    torchrun(tmp_path, "first", "--stop-at", "2", "--save", state)
    resumed = torchrun(tmp_path, "resumed", "--resume", state)
    for rank in (0, 1):
        assert resumed[rank]["lrs"] == whole[rank]["lrs"][2 * UPDATES_PER_EPOCH:]  # bit for bit
        assert resumed[rank]["val_losses"] == whole[rank]["val_losses"][2:]
