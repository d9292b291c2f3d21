"""cadence with FSDP2 and torch.distributed.checkpoint (examples/fsdp2_example.py), run by a real
torchrun with two processes (gloo, CPU): a run resumed from a DCP checkpoint in a fresh process
is the uninterrupted run, bit for bit, whether the scheduler's state is loaded before or after
``set_state_dict`` (DCP's update creating the optimizer's state at lr 0 is not counted).

Three torchrun launches: the whole run (which saves at update SAVE_AT and goes on: saving steps
nothing, the optimizer has its state by then) and one resume per order."""

from __future__ import annotations

import math

import pytest
import torch
from example_runner import torchrun_example

LR, STEPS, WARMUP, SAVE_AT = 0.01, 24, 5, 10  # the example's defaults, saved after update 10


def warmup_cosine(t):
    if t < WARMUP:
        return t / WARMUP
    return 0.1 + 0.9 * (1 + math.cos(math.pi * (t - WARMUP) / (STEPS - WARMUP))) / 2


def parameters(record):
    return {name: torch.tensor(values) for name, values in record["parameters"].items()}


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """Both ranks' records of the uninterrupted run, and the checkpoint it saved on the way."""
    folder = tmp_path_factory.mktemp("fsdp2")
    checkpoint = folder / "checkpoint"
    ranks = torchrun_example("fsdp2_example", "--save-at", str(SAVE_AT), "--save", str(checkpoint),
                             record=folder / "whole.json")
    return ranks, checkpoint


def test_every_rank_holds_the_schedules_lr_at_every_update(whole):
    ranks, checkpoint = whole
    assert ranks[0]["processes"] == 2
    assert (checkpoint / ".metadata").is_file()
    assert ranks[0]["lrs"] == ranks[1]["lrs"]
    assert ranks[0]["losses"] != ranks[1]["losses"]  # each rank trains on its half of a batch
    assert [step for step, *_ in ranks[0]["lrs"]] == list(range(STEPS))
    for step, *group_lrs in ranks[0]["lrs"]:  # both param groups (with and without decay)
        assert group_lrs == pytest.approx([LR * warmup_cosine(step)] * 2, rel=1e-15, abs=0)
    assert ranks[0]["steps"] == STEPS
    first, second = parameters(ranks[0]), parameters(ranks[1])  # gathered from the shards
    assert all(torch.equal(first[name], second[name]) for name in first)


@pytest.mark.parametrize("order", ["scheduler-first", "checkpoint-first"])
def test_a_dcp_checkpoint_resumes_bit_for_bit_in_a_fresh_process(whole, tmp_path, order):
    ranks, checkpoint = whole
    resumed = torchrun_example("fsdp2_example", "--resume", str(checkpoint), "--order", order,
                               record=tmp_path / "resumed.json")
    for rank in (0, 1):
        assert resumed[rank]["start"] == SAVE_AT
        assert resumed[rank]["lrs"] == ranks[rank]["lrs"][SAVE_AT:]  # steps and lrs, bit for bit
        assert resumed[rank]["losses"] == ranks[rank]["losses"][SAVE_AT:]
        assert resumed[rank]["steps"] == STEPS
        ending, expected = parameters(resumed[rank]), parameters(ranks[rank])
        assert ending.keys() == expected.keys()
        assert all(torch.equal(ending[name], expected[name]) for name in expected)
