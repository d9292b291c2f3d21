"""One rank of the 2-process plateau test (run by test_distributed.py, not by pytest).

Each rank reports its own metric sequence; the controller averages them across ranks. The rank
writes the lr it saw after every report to OUT/rank<N>.json.
"""

from __future__ import annotations

import json
import os
import sys

import torch
import torch.distributed as dist

from cadence import ReduceOnPlateau, Scheduler
from cadence.schedules import Constant

# alone, each rank would reduce at other reports than their average does
METRICS = {0: [1.0, 0.5, 0.5, 0.5, 0.2, 0.2, 0.2, 0.2], 1: [1.0, 1.5, 1.2, 1.2, 1.2, 1.6, 1.6, 1.6]}


def main(out: str) -> None:
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = Scheduler(opt, lr=Constant(1.0), plateau=ReduceOnPlateau(patience=1, factor=0.5))
    seen = []
    for metric in METRICS[rank]:
        sched.report(metric)
        seen.append(opt.param_groups[0]["lr"])
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump(seen, f)
    dist.barrier()  # leave together: a rank that tears down early aborts the other's gloo
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
