"""cadence in a plain training loop under torchrun and DistributedDataParallel.

Build the Scheduler on every rank, as the optimizer is built. It counts the optimizer's updates
(one per update, whatever the number of processes), so every rank holds the same lr; a plateau
controller averages the metric each rank reports over the ranks before it decides, so the
ranks reduce together even when each validates on its own shard: ``scheduler.step(loss)`` is a
collective, every rank calls it (a rank that does not is named on the others within the
controller's ``timeout``, and ranks at different steps are refused, naming their steps). Save
the scheduler's ``state_dict()`` with the optimizer's and load it on every rank to resume;
``scheduler.check_ranks()`` (a collective too) checks that every rank is at the same step.

Run: ``torchrun --nproc_per_node=2 examples/torchrun_example.py`` (``--help`` for the options;
the test suite runs it with two processes, tests/integrations/test_torchrun.py).
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

import cadence
from cadence.schedules import Cosine, Warmup

EPOCHS, BATCH, SAMPLES = 4, 4, 64
WARMUP = 6


def lr_schedule(total: int) -> Warmup:
    """The lr as a factor of the optimizer's, per optimizer update."""
    return Warmup(Cosine(start=1.0, end=0.1, steps=total - WARMUP), steps=WARMUP)


def dataset(seed: int) -> TensorDataset:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(SAMPLES, 8, generator=generator)
    y = x @ torch.randn(8, 1, generator=generator) + torch.randn(SAMPLES, 1, generator=generator)
    return TensorDataset(x, y)


def fit(stop_at: int | None = None, save: str | None = None,
        resume: str | None = None) -> dict[str, Any]:
    """Train on this process's shard; the lr of each update and each epoch's validation loss
    on this rank's shard. The process group is set up by the caller."""
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)  # the same initial weights on every rank
    model = DistributedDataParallel(torch.nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sampler = DistributedSampler(dataset(0), shuffle=True, seed=0)
    loader = DataLoader(dataset(0), batch_size=BATCH, sampler=sampler)
    validation = DataLoader(dataset(1), batch_size=SAMPLES,
                            sampler=DistributedSampler(dataset(1), shuffle=False))
    scheduler = cadence.Scheduler(optimizer, lr=lr_schedule(EPOCHS * len(loader)),
                                  plateau=cadence.ReduceOnPlateau(patience=0, factor=0.5))
    start = 0
    if resume:
        state = torch.load(resume)
        model.module.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start = state["epoch"]
    scheduler.check_ranks()  # every rank at the same step (RankMismatch names them if not)
    lrs, val_losses = [], []
    for epoch in range(start, EPOCHS):
        sampler.set_epoch(epoch)
        for inputs, targets in loader:
            lrs.append((scheduler.current_step, optimizer.param_groups[0]["lr"]))
            optimizer.zero_grad()
            F.mse_loss(model(inputs), targets).backward()
            optimizer.step()  # moves the schedule on: cadence counts the optimizer's updates
        with torch.no_grad():
            loss = sum(F.mse_loss(model(x), y).item() for x, y in validation)
        val_losses.append(loss)
        scheduler.step(loss)  # on every rank: the plateau decides on the mean over ranks
        if stop_at is not None and epoch + 1 == stop_at:
            if rank == 0 and save:
                torch.save({"model": model.module.state_dict(), "epoch": epoch + 1,
                            "optimizer": optimizer.state_dict(),
                            "scheduler": scheduler.state_dict()}, save)
            break
    return {"rank": rank, "processes": world, "lrs": lrs, "val_losses": val_losses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stop-at", type=int, help="stop after this many epochs")
    parser.add_argument("--save", help="where rank 0 saves the state when it stops")
    parser.add_argument("--resume", help="a state saved with --save to resume from")
    parser.add_argument("--record", help="write each rank's lrs and validation losses to this "
                                         "JSON file (rank appended after rank 0)")
    args = parser.parse_args()
    if "RANK" not in os.environ:
        parser.error("run it under torchrun: torchrun --nproc_per_node=2 " + __file__)
    dist.init_process_group("gloo")
    result = fit(args.stop_at, args.save, args.resume)
    dist.barrier()  # the model (and its DDP reducer) is gone: close the group, then exit
    dist.destroy_process_group()
    if args.record:
        path = args.record if result["rank"] == 0 else f"{args.record}.rank{result['rank']}"
        with open(path, "w") as out:
            json.dump(result, out)
    elif result["rank"] == 0:
        for step, lr in result["lrs"]:
            print(f"update {step:3d}: lr {lr:.6f}")


if __name__ == "__main__":
    main()
