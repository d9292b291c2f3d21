"""Under torch.distributed (two real gloo processes): the plateau metric is averaged, so every
rank keeps the same lr; a report is a collective that fails fast, naming the rank that did not
report; ranks whose schedulers are at different steps are refused, naming their steps."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from cadence import ReduceOnPlateau, Scheduler
from cadence.schedules import Constant

WORKER = Path(__file__).with_name("plateau_worker.py")
sys.path.insert(0, str(WORKER.parent))
try:
    from plateau_worker import METRICS
finally:
    sys.path.pop(0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """Both ranks' records of one run of plateau_worker.py (every case, one pair of
    processes)."""
    out = tmp_path_factory.mktemp("ranks")
    port = free_port()
    procs = []
    for rank in range(2):
        env = {**os.environ, "RANK": str(rank), "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1",
               "MASTER_PORT": str(port)}
        procs.append(subprocess.Popen([sys.executable, str(WORKER), str(out)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    for proc in procs:
        output, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, output.decode()
    return [json.loads((out / f"rank{rank}.json").read_text()) for rank in range(2)]


def single_process(metrics):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = Scheduler(opt, lr=Constant(1.0),
                      plateau=ReduceOnPlateau(patience=1, factor=0.5, sync=False))
    seen = []
    for m in metrics:
        sched.report(m)
        seen.append(opt.param_groups[0]["lr"])
    return seen


def test_two_gloo_ranks_keep_the_same_lr(ranks):
    rank0, rank1 = ranks[0]["average"], ranks[1]["average"]
    assert rank0 == rank1
    averaged = [(a + b) / 2 for a, b in zip(METRICS[0], METRICS[1])]
    assert rank0 == single_process(averaged)
    assert rank0 != single_process(METRICS[0]) and rank0 != single_process(METRICS[1])
    assert min(rank0) < 0.1  # the averaged metric did plateau
    # timeout=None exchanges by all_gather: the same lrs
    assert ranks[0]["collective"] == ranks[1]["collective"] == rank0


def test_the_drop_in_averages_over_the_ranks_too(ranks):
    reference = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(reference, patience=1, factor=0.5)
    expected = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step() before optimizer.step()
        for a, b in zip(METRICS[0], METRICS[1]):
            plateau.step((a + b) / 2)
            expected.append(reference.param_groups[0]["lr"])
    assert ranks[0]["drop_in"] == ranks[1]["drop_in"] == expected
    assert min(expected) < 0.1


def test_a_rank_that_does_not_report_is_named_within_the_timeout(ranks):
    missing = ranks[0]["missing"]
    assert missing["error"].startswith("RankTimeout: rank 1 did not report metric #")
    assert "within 2 s (this rank, 0, called report()/step(metric) at step 0; #" in missing["error"]
    assert "every rank must call it" in missing["error"]
    assert "ReduceOnPlateau(sync=False) decides on each rank's own metric" in missing["error"]
    assert 1.9 < missing["seconds"] < 15  # not the process group's 30 minutes
    assert ranks[1]["missing"]["error"] is None  # it did not call: it goes on


def test_a_rank_that_comes_after_the_others_gave_up_does_not_apply_the_exchange(ranks):
    early, late = ranks[0]["late"], ranks[1]["late"]
    assert early["first"].startswith("RankTimeout: rank 1 did not report metric #")
    assert late["first"].startswith("RankTimeout: rank 0 gave up waiting for exchange #")
    assert "abandoned on every rank" in late["first"]
    assert early["after_first"] == late["after_first"] == 0.1  # neither applied it
    assert early["second"] is None and late["second"] is None
    assert early["lr"] == late["lr"] and early["reductions"] == late["reductions"]


def test_ranks_at_different_steps_are_refused_naming_their_steps(ranks):
    for case in ("steps", "steps_collective"):
        for rank in ranks:
            report = rank[case]["report"]
            assert report.startswith("RankMismatch: the ranks' schedulers are at different "
                                     "steps at report()/step(metric): rank 0 at step 3; rank 1 "
                                     "at step 4."), (case, report)
            assert "count='updates'" in report
            assert rank[case]["unchanged"]  # the refused report changed nothing
            assert rank[case]["check_ranks"].startswith(
                "RankMismatch: the ranks' schedulers are at different steps at check_ranks(): "
                "rank 0 at step 3; rank 1 at step 4.")


def test_ranks_calling_different_collectives_are_refused(ranks):
    for rank in ranks:
        assert rank["kinds"] == ("RankMismatch: the ranks called different collectives at the "
                                 "same point (rank 0 report(); rank 1 check_ranks()): every rank "
                                 "must call report()/step(metric) and check_ranks() the same "
                                 "number of times, in the same order")


def test_the_store_keeps_only_the_last_exchanges_keys(ranks):
    for rank in ranks:
        keys = rank["keys"]
        assert keys["counts"][0] == keys["counts"][1]  # 20 more reports, no more keys
        for held in keys["held"]:
            last, current = held.values()
            assert last == [False, False] and current == [True, True]


def test_without_a_process_group_nothing_is_exchanged():
    sched = Scheduler(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1),
                      lr=Constant(1.0), plateau=ReduceOnPlateau(patience=0, factor=0.5))
    sched.check_ranks()
    assert sched.report(1.0) is False and sched.report(2.0) is True


@pytest.mark.parametrize("timeout", [0, -1.0, "60", float("inf")])
def test_a_bad_timeout_is_refused(timeout):
    with pytest.raises((ValueError, TypeError), match=r"'timeout' must be a positive number"):
        ReduceOnPlateau(timeout=timeout)
