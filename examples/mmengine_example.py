"""cadence in MMEngine's Runner: name cadence's classes in ``param_scheduler`` with the scope
``cadence`` (``type="cadence.LinearLR"``); MMEngine finds them by itself.

The classes are MMEngine's own (subclasses, with MMEngine's arguments, windows,
``convert_to_iter_based`` and state), with cadence's closed-form values, so a Runner gives the
same lrs as with MMEngine's classes, and ``resume=True`` continues exactly.

Run: ``.venv/bin/python examples/mmengine_example.py`` (``--help`` for the options; the test
suite runs it, tests/integrations/test_mmengine_runner.py).
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from typing import Any

import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import DataLoader, Dataset

EPOCHS, BATCH, SAMPLES = 4, 4, 32  # 8 iterations per epoch


def param_scheduler(scope: str) -> list[dict[str, Any]]:
    """A warm-up window in iterations, then a cosine written in epochs and run per iteration,
    and a step decay per epoch on the momentum; ``scope`` is ``"cadence"`` for cadence's
    classes, ``"mmengine"`` for MMEngine's."""
    return [
        dict(type=f"{scope}.LinearLR", start_factor=0.1, by_epoch=False, begin=0, end=8),
        dict(type=f"{scope}.CosineAnnealingLR", T_max=3, eta_min=1e-4, by_epoch=True, begin=1,
             end=EPOCHS, convert_to_iter_based=True),
        dict(type=f"{scope}.MultiStepMomentum", milestones=[2, 3], gamma=0.9, by_epoch=True),
    ]


class Pairs(Dataset):
    def __init__(self) -> None:
        generator = torch.Generator().manual_seed(0)
        self.x = torch.randn(SAMPLES, 8, generator=generator)
        self.y = self.x.sum(dim=1, keepdim=True)

    def __len__(self) -> int:
        return SAMPLES

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"inputs": self.x[i], "labels": self.y[i]}


class Regression(BaseModel):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Linear(8, 1)

    def forward(self, inputs: torch.Tensor, labels: torch.Tensor,
                mode: str = "tensor") -> Any:
        out = self.net(inputs)
        return {"loss": F.mse_loss(out, labels)} if mode == "loss" else out


class RecordLR(Hook):
    """The lr and momentum of every iteration."""

    def __init__(self) -> None:
        self.lrs: list[tuple[int, float, float]] = []

    def before_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None) -> None:
        group = runner.optim_wrapper.param_groups[0]
        self.lrs.append((runner.iter, float(group["lr"]), float(group["momentum"])))


def fit(scope: str, work_dir: str, checkpoint_every: int | None = None, by_epoch: bool = False,
        resume: str | None = None) -> list[tuple[int, float, float]]:
    """Train with MMEngine's Runner on the CPU, by epoch, saving every ``checkpoint_every``
    iterations (epochs with ``by_epoch``); returns the lr and momentum of each iteration run."""
    if resume:
        # MMEngine 0.10's checkpoints hold its message hub (numpy arrays, its HistoryBuffer),
        # which PyTorch >= 2.6 refuses to unpickle by default (weights_only=True), and its
        # loader does not pass weights_only: allow a full load, for your own checkpoints only.
        os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    torch.manual_seed(0)
    record = RecordLR()
    hooks: dict[str, Any] = {"logger": dict(type="LoggerHook", interval=1000)}
    hooks["checkpoint"] = (dict(type="CheckpointHook", interval=checkpoint_every, by_epoch=by_epoch)
                           if checkpoint_every else None)
    runner = Runner(
        model=Regression(), work_dir=work_dir, experiment_name=f"cadence-{uuid.uuid4().hex}",
        train_dataloader=DataLoader(Pairs(), batch_size=BATCH, shuffle=False),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.05, momentum=0.9)),
        param_scheduler=param_scheduler(scope),
        train_cfg=dict(by_epoch=True, max_epochs=EPOCHS, val_interval=10**6),
        default_hooks=hooks, custom_hooks=[record], resume=resume is not None,
        load_from=resume, randomness=dict(seed=0),
        log_level="WARNING", default_scope="mmengine")
    runner.train()
    return record.lrs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scope", default="cadence", choices=["cadence", "mmengine"],
                        help="whose scheduler classes the config names")
    parser.add_argument("--work-dir", default="mmengine_work_dir", help="the Runner's work_dir")
    parser.add_argument("--checkpoint-every", type=int, help="save every N iterations")
    parser.add_argument("--by-epoch", action="store_true",
                        help="--checkpoint-every counts epochs (MMEngine's epoch_N.pth)")
    parser.add_argument("--resume", help="a checkpoint to resume from (resume=True)")
    parser.add_argument("--record", help="write the lrs to this JSON file")
    args = parser.parse_args()
    lrs = fit(args.scope, args.work_dir, args.checkpoint_every, args.by_epoch, args.resume)
    if args.record:
        with open(args.record, "w") as out:
            json.dump({"lrs": lrs}, out)
    else:
        for step, lr, momentum in lrs:
            print(f"iteration {step:3d}: lr {lr:.6f}, momentum {momentum:.4f}")


if __name__ == "__main__":
    main()
