"""cadence with FSDP2 (``fully_shard``) and torch.distributed.checkpoint (DCP), on CPU.

Build the Scheduler on every rank, after ``fully_shard`` and the optimizer; it counts the
optimizer's updates, so every rank holds the same lr. Checkpoint as FSDP2 users do:
``get_state_dict(model, optimizer)`` (sharded DTensors) plus ``scheduler.state_dict()`` (plain
JSON-safe data) in one state saved with ``dcp.save``; DCP writes the non-tensor entries once
(pickled) and gives every rank a copy on ``dcp.load``. To resume, build everything fresh, load
the state into a template of the same structure and hand it back with ``set_state_dict`` and
``scheduler.load_state_dict``, in either order: the update DCP takes on an optimizer that has no
state yet (all lrs 0, zero gradients, to create the state it loads into) is not counted.

``--order scheduler-first`` loads the scheduler's entry alone (a partial ``dcp.load``) before
``get_state_dict`` creates the optimizer's state; ``--order checkpoint-first`` loads the whole
state, ``set_state_dict``, then the scheduler.

Run: ``torchrun --nproc_per_node=2 examples/fsdp2_example.py`` (``--help`` for the options; the
test suite runs it with two processes, tests/integrations/test_fsdp2.py).
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
import torch.nn.functional as F
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from torch.distributed.tensor import DTensor

import cadence
from cadence.schedules import Cosine, Warmup

FEATURES, HIDDEN, BATCH = 8, 32, 16  # BATCH: the global batch, split over the ranks
LR, WARMUP = 0.01, 5
ORDERS = ("scheduler-first", "checkpoint-first")


def lr_schedule(total: int) -> Warmup:
    """The lr as a factor of each group's, per optimizer update."""
    return Warmup(Cosine(start=1.0, end=0.1, steps=total - WARMUP), steps=WARMUP)


def build(steps: int) -> tuple[torch.nn.Module, torch.optim.Optimizer, cadence.Scheduler]:
    """The model sharded over the ranks (each Linear, then the root), AdamW with decay on the
    weights only, and the scheduler: the same on every rank, in a fresh process or not."""
    mesh = init_device_mesh("cpu", (dist.get_world_size(),))
    torch.manual_seed(0)  # the same initial weights on every rank, before sharding
    model = torch.nn.Sequential(torch.nn.Linear(FEATURES, HIDDEN), torch.nn.ReLU(),
                                torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.ReLU(),
                                torch.nn.Linear(HIDDEN, 1))
    for layer in model:
        if isinstance(layer, torch.nn.Linear):
            fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    weights = [p for p in model.parameters() if p.ndim > 1]
    biases = [p for p in model.parameters() if p.ndim == 1]
    optimizer = torch.optim.AdamW([{"params": weights, "weight_decay": 0.1},
                                   {"params": biases, "weight_decay": 0.0}], lr=LR)
    scheduler = cadence.Scheduler(optimizer, lr=lr_schedule(steps))
    return model, optimizer, scheduler


def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """This rank's share of the global batch of update ``step``: drawn from a seed of its own,
    so a resumed run reads the same data without a data loader's state."""
    generator = torch.Generator().manual_seed(1000 + step)
    x = torch.randn(BATCH, FEATURES, generator=generator)
    y = torch.sin(x.sum(dim=1, keepdim=True)) + 0.1 * torch.randn(BATCH, 1, generator=generator)
    share = BATCH // dist.get_world_size()
    rank = dist.get_rank()
    return x[rank * share:(rank + 1) * share], y[rank * share:(rank + 1) * share]


def save(path: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
         scheduler: cadence.Scheduler, step: int) -> None:
    """One DCP checkpoint: each rank writes its shards; the scheduler's state and the loop's
    step are non-tensor entries, written once."""
    scheduler.check_ranks()  # what DCP writes once must be what every rank holds
    model_state, optimizer_state = get_state_dict(model, optimizer)
    dcp.save({"model": model_state, "optimizer": optimizer_state,
              "scheduler": scheduler.state_dict(), "train": {"step": step}},
             checkpoint_id=path)


def resume(path: str, order: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
           scheduler: cadence.Scheduler) -> int:
    """Load a checkpoint written by :func:`save` into freshly built objects; the loop's step.
    ``dcp.load`` fills a template of the same structure in place: the scheduler's own
    ``state_dict()`` is the template of its entry."""
    if order == "scheduler-first":
        # the scheduler first, while the optimizer has no state yet; then get_state_dict
        # creates the state (DCP's update at lr 0, not counted) and set_state_dict loads it
        head: dict[str, Any] = {"scheduler": scheduler.state_dict(), "train": {"step": 0}}
        dcp.load(head, checkpoint_id=path)
        scheduler.load_state_dict(head["scheduler"])
        model_state, optimizer_state = get_state_dict(model, optimizer)
        state: dict[str, Any] = {"model": model_state, "optimizer": optimizer_state}
        dcp.load(state, checkpoint_id=path)
        set_state_dict(model, optimizer, model_state_dict=state["model"],
                       optim_state_dict=state["optimizer"])
        return int(head["train"]["step"])
    # everything at once, then the scheduler last
    model_state, optimizer_state = get_state_dict(model, optimizer)
    full: dict[str, Any] = {"model": model_state, "optimizer": optimizer_state,
                            "scheduler": scheduler.state_dict(), "train": {"step": 0}}
    dcp.load(full, checkpoint_id=path)
    set_state_dict(model, optimizer, model_state_dict=full["model"],
                   optim_state_dict=full["optimizer"])
    scheduler.load_state_dict(full["scheduler"])
    return int(full["train"]["step"])


def fit(steps: int, stop_at: int | None = None, save_at: int | None = None,
        save_dir: str | None = None, resume_dir: str | None = None,
        order: str = ORDERS[0]) -> dict[str, Any]:
    """Train from the start or from ``resume_dir``; each update's step and lrs (every group),
    this rank's losses, and the full parameters at the end. The process group is the caller's."""
    model, optimizer, scheduler = build(steps)
    start = resume(resume_dir, order, model, optimizer, scheduler) if resume_dir else 0
    scheduler.check_ranks()  # every rank at the same step (RankMismatch names them if not)
    lrs, losses = [], []
    for step in range(start, steps if stop_at is None else stop_at):
        lrs.append([scheduler.current_step, *[g["lr"] for g in optimizer.param_groups]])
        inputs, targets = batch(step)
        loss = F.mse_loss(model(inputs), targets)
        loss.backward()
        optimizer.step()  # moves the schedule on: cadence counts the optimizer's updates
        optimizer.zero_grad()
        losses.append(loss.item())
        if save_dir and save_at == step + 1:
            save(save_dir, model, optimizer, scheduler, step + 1)
    scheduler.check_ranks()
    parameters = {name: (p.full_tensor() if isinstance(p, DTensor) else p).tolist()
                  for name, p in model.named_parameters()}  # a collective: every rank gathers
    return {"rank": dist.get_rank(), "processes": dist.get_world_size(), "start": start,
            "order": order if resume_dir else None, "steps": scheduler.current_step,
            "lrs": lrs, "losses": losses, "parameters": parameters}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Example: torchrun --nproc_per_node=2 examples/fsdp2_example.py --stop-at 10 "
               "--save ckpt, then the same with --resume ckpt --order checkpoint-first: the "
               "updates from 10 on, as the whole run makes them")
    parser.add_argument("--steps", type=int, default=24,
                        help="optimizer updates in the whole run, the schedule's length "
                             "(default: %(default)s)")
    parser.add_argument("--stop-at", type=int, metavar="N",
                        help="stop after update N (default: run all --steps)")
    parser.add_argument("--save", metavar="DIR",
                        help="save a DCP checkpoint to this folder after update --save-at")
    parser.add_argument("--save-at", type=int, metavar="N",
                        help="with --save: the update after which to save, and go on "
                             "(default: the last update run, --stop-at or --steps)")
    parser.add_argument("--resume", metavar="DIR", help="a checkpoint written by --save")
    parser.add_argument("--order", choices=ORDERS, default=ORDERS[0],
                        help="with --resume: load the scheduler's state before set_state_dict "
                             "(and before DCP creates the optimizer's state), or after it "
                             "(default: %(default)s)")
    parser.add_argument("--record", help="write each rank's lrs, losses and final parameters "
                                         "to this JSON file (rank appended after rank 0)")
    args = parser.parse_args()
    if args.steps <= WARMUP:
        parser.error(f"--steps must be more than the {WARMUP} warm-up updates "
                     f"(got {args.steps})")
    end = args.steps if args.stop_at is None else args.stop_at
    if not 0 < end <= args.steps:
        parser.error(f"--stop-at must be in 1..{args.steps} (got {args.stop_at})")
    if args.save_at is not None and args.save is None:
        parser.error("--save-at needs --save DIR")
    if args.save is not None and args.save_at is None:
        args.save_at = end
    if args.save_at is not None and not 0 < args.save_at <= end:
        parser.error(f"--save-at must be in 1..{end}, an update this run makes "
                     f"(got {args.save_at})")
    if "RANK" not in os.environ:
        parser.error("run it under torchrun: torchrun --nproc_per_node=2 " + __file__)
    dist.init_process_group("gloo")
    if BATCH % dist.get_world_size():
        parser.error(f"the global batch of {BATCH} must split evenly over the processes")
    result = fit(args.steps, args.stop_at, args.save_at, args.save, args.resume, args.order)
    dist.barrier()
    dist.destroy_process_group()
    if args.record:
        path = args.record if result["rank"] == 0 else f"{args.record}.rank{result['rank']}"
        with open(path, "w") as out:
            json.dump(result, out)
    elif result["rank"] == 0:
        for step, *group_lrs in result["lrs"]:
            print(f"update {step:3d}: lr " + " ".join(f"{lr:.6f}" for lr in group_lrs))


if __name__ == "__main__":
    main()
