"""One rank of the 2-process tests of test_distributed.py (run by them, not by pytest).

The two ranks go through the cases below in order, and each writes what it saw to
OUT/rank<N>.json: a dict from case to its record.

- ``average``: each rank reports its own metric sequence; the controller averages them across
  ranks (through the process group's store). ``collective``: the same with ``timeout=None``
  (by all_gather). ``drop_in``: the same through the ReduceLROnPlateau drop-in.
- ``keys``: how many keys the store holds after 3 and after 20 more reports, and which.
- ``steps``: rank 1 makes one more optimizer update than rank 0, then both report, then both
  call ``check_ranks()``; the errors each rank raised. ``steps_collective``: the report
  with ``timeout=None``. ``kinds``: rank 0 reports while rank 1 calls ``check_ranks()``.
- ``missing`` (last: the ranks' exchanges are out of step after it): rank 0 reports with a
  2 s timeout, rank 1 does not; the error rank 0 raised and how long it took.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import torch
import torch.distributed as dist

from cadence import ReduceOnPlateau, Scheduler
from cadence.compat import lr_scheduler as C
from cadence.scheduler import ranks
from cadence.schedules import Constant

# alone, each rank would reduce at other reports than their average does
METRICS = {0: [1.0, 0.5, 0.5, 0.5, 0.2, 0.2, 0.2, 0.2], 1: [1.0, 1.5, 1.2, 1.2, 1.2, 1.6, 1.6, 1.6]}


def optimizer() -> torch.optim.SGD:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


def lrs_seen(rank: int, **settings: Any) -> list[float]:
    opt = optimizer()
    sched = Scheduler(opt, lr=Constant(1.0),
                      plateau=ReduceOnPlateau(patience=1, factor=0.5, **settings))
    seen = []
    for metric in METRICS[rank]:
        sched.report(metric)
        seen.append(opt.param_groups[0]["lr"])
    sched.check_ranks()  # the same step on both: passes
    return seen


def drop_in(rank: int) -> list[float]:
    opt = optimizer()
    sched = C.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    seen = []
    for metric in METRICS[rank]:
        opt.step()
        sched.step(metric)
        seen.append(opt.param_groups[0]["lr"])
    return seen


def keys(rank: int) -> dict[str, Any]:
    store = dist.distributed_c10d._get_default_store()
    sched = Scheduler(optimizer(), lr=Constant(1.0), plateau=ReduceOnPlateau(patience=1))
    counts, held = [], []
    for reports in (3, 20):
        for _ in range(reports):
            sched.report(1.0 + rank)
        dist.barrier()  # both ranks are done with their last exchange (and its deletions)
        channel = ranks._channels[store]
        n = channel.count
        counts.append(store.num_keys())
        held.append({f"#{k}": [store.check([f"cadence/{channel.generation}/{k}/{r}"])
                               for r in (0, 1)] for k in (n - 1, n)})
        dist.barrier()  # and neither has started its next one
    return {"counts": counts, "held": held}


def error(call: Any) -> str | None:
    try:
        call()
    except (ranks.RankMismatch, ranks.RankTimeout) as e:
        return f"{type(e).__name__}: {e}"
    return None


def steps(rank: int, **settings: Any) -> dict[str, Any]:
    opt = optimizer()
    sched = Scheduler(opt, lr=Constant(1.0), plateau=ReduceOnPlateau(patience=1, **settings))
    for _ in range(3 + rank):  # rank 1 makes one more update
        opt.step()
    state = sched.state_dict()
    return {"report": error(lambda: sched.report(1.0)),
            "unchanged": sched.state_dict() == state,
            "check_ranks": error(sched.check_ranks)}


def kinds(rank: int) -> str | None:
    sched = Scheduler(optimizer(), lr=Constant(1.0), plateau=ReduceOnPlateau())
    return error(sched.check_ranks if rank else lambda: sched.report(1.0))


def missing(rank: int) -> dict[str, Any]:
    sched = Scheduler(optimizer(), lr=Constant(1.0), plateau=ReduceOnPlateau(timeout=2))
    began = time.monotonic()
    message = error(lambda: sched.report(1.0)) if rank == 0 else None  # rank 1 forgets
    return {"error": message, "seconds": time.monotonic() - began}


def late(rank: int) -> dict[str, Any]:
    """Rank 1 reports after rank 0's wait ran out: both see the exchange abandoned, neither
    applies it, and the next report finds them together again with the same lr."""
    opt = optimizer()
    sched = Scheduler(opt, lr=Constant(1.0),
                      plateau=ReduceOnPlateau(patience=0, factor=0.5, timeout=1))
    if rank == 1:
        time.sleep(3)
    first = error(lambda: sched.report(5.0))
    dist.barrier()
    after_first = opt.param_groups[0]["lr"]
    second = error(lambda: sched.report(6.0))  # worse on both: one reduction, on both
    return {"first": first, "after_first": after_first, "second": second,
            "lr": opt.param_groups[0]["lr"], "reductions": sched.plateau.reductions}


def main(out: str) -> None:
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    record = {
        "average": lrs_seen(rank),
        "collective": lrs_seen(rank, timeout=None),
        "drop_in": drop_in(rank),
        "keys": keys(rank),
        "steps": steps(rank),
        "steps_collective": steps(rank, timeout=None),
        "kinds": kinds(rank),
        "late": late(rank),
        "missing": missing(rank),
    }
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump(record, f)
    dist.barrier()  # leave together: a rank that tears down early aborts the other's gloo
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
