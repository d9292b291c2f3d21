"""One rank of tests/scheduler/test_clock.py's torchrun test: a tokens clock fed uneven counts.

Rank r feeds, at update k, ``(7 + 3k + 5r) % 11 + 1`` tokens (the ranks differ); every rank's
clock moves by the sum over the ranks. Writes ``rank<r>.json`` with the clock's position and
the lr after each update.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from cadence import Scheduler
from cadence.schedules import Cosine


def main() -> None:
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = Scheduler(opt, lr=Cosine(steps=200), clock="tokens")
    positions, lrs = [], []
    for k in range(12):
        opt.step()
        sched.step(tokens=(7 + 3 * k + 5 * rank) % 11 + 1)
        positions.append(sched.current_step)
        lrs.append(opt.param_groups[0]["lr"])
    sched.check_ranks()
    Path(sys.argv[1], f"rank{rank}.json").write_text(json.dumps({"positions": positions,
                                                                 "lrs": lrs}))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
