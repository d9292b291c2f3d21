"""cadence with Hugging Face accelerate: ``accelerator.prepare`` the scheduler with the rest.

accelerate steps a prepared scheduler once per process at each update (its convention: a
schedule is sized for one process, in the batches of the dataloader before ``prepare``), skips
updates the optimizer skipped, and leaves out accumulation micro-batches. cadence's drop-ins
follow that as PyTorch's schedulers do; a ``cadence.Scheduler`` follows it with
``count="calls"`` (its default, ``count="updates"``, counts the optimizer's updates instead: one
per update, whatever the number of processes, so a schedule sized as accelerate sizes one ends
N times later under N processes; such a Scheduler says so at its first ``step()``).

Run: ``.venv/bin/python examples/accelerate_example.py``, or on two processes
``torchrun --nproc_per_node=2 examples/accelerate_example.py`` (``--help`` for the options; the
test suite runs both, tests/integrations/test_accelerate.py).
"""

from __future__ import annotations

import argparse
import json
import warnings
from typing import Any

import torch
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset

import cadence
from cadence.compat import lr_scheduler
from cadence.schedules import Cosine, Warmup

EPOCHS, BATCH, SAMPLES = 2, 4, 64
STEPS = EPOCHS * SAMPLES // BATCH  # accelerate's sizing: the batches of one process
WARMUP = 8


def lr_schedule() -> Warmup:
    return Warmup(Cosine(start=1.0, end=0.0, steps=STEPS - WARMUP), steps=WARMUP)


def scheduler_for(recipe: str, optimizer: torch.optim.Optimizer) -> Any:
    if recipe == "cadence":  # one step() per call, as accelerate calls it
        return cadence.Scheduler(optimizer, lr=lr_schedule(), count="calls")
    if recipe == "cadence-updates":  # ported as is: one step per update (it warns, > 1 process)
        return cadence.Scheduler(optimizer, lr=lr_schedule())
    if recipe == "drop-in":
        return lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=STEPS)
    if recipe == "torch":  # the reference: PyTorch's own class
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=STEPS)
    if recipe == "torch-lambda":
        schedule = lr_schedule()
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: schedule(t))
    raise ValueError(f"unknown recipe {recipe!r}")


def fit(recipe: str, accumulate: int = 1, stop_at: int | None = None,
        save_dir: str | None = None, resume: str | None = None) -> dict[str, Any]:
    """Train; returns the lr of each update (on this process) and the process count."""
    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=accumulate)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(SAMPLES, 8, generator=generator)
    y = x.sum(dim=1, keepdim=True)
    model = torch.nn.Linear(8, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = scheduler_for(recipe, optimizer)
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    updates, lrs = 0, []
    if resume:
        accelerator.load_state(resume)
        with open(f"{resume}/updates.json") as saved:
            updates = json.load(saved)
    skip = updates * accumulate % len(loader)  # batches of the current epoch already seen
    for _epoch in range(updates * accumulate // len(loader), EPOCHS):
        epoch_loader = accelerator.skip_first_batches(loader, skip) if skip else loader
        skip = 0
        for inputs, targets in epoch_loader:
            with accelerator.accumulate(model):
                accelerator.backward(F.mse_loss(model(inputs), targets))
                if accelerator.sync_gradients:
                    lrs.append((updates, float(optimizer.param_groups[0]["lr"])))
                    updates += 1
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            if stop_at is not None and updates == stop_at and accelerator.sync_gradients:
                accelerator.save_state(save_dir)
                if accelerator.is_main_process:
                    with open(f"{save_dir}/updates.json", "w") as out:
                        out.write(json.dumps(updates))
                return {"lrs": lrs, "processes": accelerator.num_processes}
    return {"lrs": lrs, "processes": accelerator.num_processes,
            "rank": accelerator.process_index}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", default="cadence",
                        choices=["cadence", "cadence-updates", "drop-in", "torch",
                                 "torch-lambda"])
    parser.add_argument("--accumulate", type=int, default=1, help="gradient_accumulation_steps")
    parser.add_argument("--stop-at", type=int, help="save the state after this many updates")
    parser.add_argument("--save-dir", help="where accelerator.save_state writes")
    parser.add_argument("--resume", help="a folder of accelerator.save_state to resume from")
    parser.add_argument("--record", help="write each process's lrs to this JSON file "
                                         "(rank appended)")
    args = parser.parse_args()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        result = fit(args.recipe, args.accumulate, args.stop_at, args.save_dir, args.resume)
    result["warnings"] = [str(w.message) for w in caught if "cadence" in w.filename
                          or "Scheduler" in str(w.message)]
    if args.record:
        rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
        path = args.record if rank == 0 else f"{args.record}.rank{rank}"
        with open(path, "w") as out:
            json.dump(result, out)
    else:
        for step, lr in result["lrs"]:
            print(f"update {step:3d}: lr {lr:.6f}")
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
