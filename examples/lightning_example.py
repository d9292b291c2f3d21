"""cadence in PyTorch Lightning: return the scheduler from ``configure_optimizers``, as with
PyTorch's.

A ``cadence.Scheduler`` follows the optimizer's updates itself, so Lightning's default interval
(``"epoch"``), ``interval="step"`` and ``accumulate_grad_batches`` all give the lr of the
schedule at each update (a ``"frequency"`` changes nothing then, and cadence says so: pass
``count="calls"`` for a schedule in Lightning's calls). A Scheduler with a plateau controller is
an instance of PyTorch's ``ReduceLROnPlateau``, so Lightning feeds it the metric named by
``monitor``: after each validation epoch by default, or, with ``"interval": "step"``, every
``"frequency"`` batches, which should be the trainer's ``val_check_interval`` so that each
report is a fresh metric (every batch, it would be fed the last validation's again and again,
and would need ``"strict": False`` until the first one). cadence's drop-ins
(``cadence.compat.lr_scheduler``) work as PyTorch's do.

Run: ``.venv/bin/python examples/lightning_example.py --recipe warmup-cosine`` (``--help`` for
the options; the test suite runs it, tests/integrations/test_lightning.py).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

import cadence
from cadence.compat import lr_scheduler
from cadence.schedules import Constant, Cosine, Linear, Stretch, Warmup

WARMUP, TOTAL, BATCH = 10, 60, 4
VAL_EVERY = 4  # "plateau-per-step": validation every 4 batches (8 per epoch), the metric fed then
DROPOUT, L2 = 0.2, 1e-3  # the "targets" recipe: its dropout's built p, its penalty's last weight


def lr_schedule() -> Cosine | Warmup:
    """The recipe's lr: a factor of the optimizer's lr, per optimizer update."""
    return Warmup(Cosine(start=1.0, end=0.0, steps=TOTAL - WARMUP), steps=WARMUP)


class Regression(L.LightningModule):
    """A linear model on a fixed synthetic set; ``recipe`` picks the scheduler. The "targets"
    recipe puts a dropout before it and an L2 penalty of weight ``l2`` on it, both scheduled
    with the lr."""

    def __init__(self, recipe: str) -> None:
        super().__init__()
        self.recipe = recipe
        self.net = torch.nn.Linear(8, 1)
        if recipe == "targets":
            self.net = torch.nn.Sequential(torch.nn.Dropout(DROPOUT), self.net)
        self.l2 = 0.0

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = F.mse_loss(self.net(x), y)
        if self.recipe == "targets":
            loss = loss + self.l2 * sum(p.square().sum() for p in self.parameters())
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", F.mse_loss(self.net(x), y))

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.SGD(self.parameters(), lr=0.05, momentum=0.9)
        if self.recipe == "warmup-cosine":  # per update, whatever Lightning's interval
            return {"optimizer": optimizer,
                    "lr_scheduler": cadence.Scheduler(optimizer, lr=lr_schedule())}
        if self.recipe == "targets":  # the dropout's p and the penalty's weight move with the lr
            scheduler = cadence.Scheduler(
                optimizer, lr=lr_schedule(),
                dropout=Linear(start=0.0, end=1.0, steps=TOTAL // 2),  # up to its built p
                l2=Linear(start=0.0, end=L2, steps=TOTAL),
                targets={"dropout": cadence.Modules(self, "p", type=torch.nn.Dropout),
                         "l2": cadence.Attribute(self, "l2")},
                absolute=["l2"])
            return {"optimizer": optimizer, "lr_scheduler": scheduler}
        if self.recipe == "plateau":  # a warm-up, then halve the lr when val_loss stalls
            scheduler = cadence.Scheduler(optimizer, lr=Warmup(Constant(1.0), steps=WARMUP),
                                          plateau=cadence.ReduceOnPlateau(patience=0, factor=0.5))
            return {"optimizer": optimizer,
                    "lr_scheduler": {"scheduler": scheduler, "monitor": "val_loss"}}
        if self.recipe == "plateau-per-step":  # validate every VAL_EVERY batches, fed each time
            scheduler = cadence.Scheduler(optimizer, lr=Warmup(Constant(1.0), steps=WARMUP),
                                          plateau=cadence.ReduceOnPlateau(patience=0, factor=0.5))
            return {"optimizer": optimizer,
                    "lr_scheduler": {"scheduler": scheduler, "monitor": "val_loss",
                                     "interval": "step", "frequency": VAL_EVERY}}
        if self.recipe == "every-other-step":  # a frequency that changes nothing (it warns)
            scheduler = cadence.Scheduler(optimizer, lr=lr_schedule())
            return {"optimizer": optimizer,
                    "lr_scheduler": {"scheduler": scheduler, "interval": "step",
                                     "frequency": 2}}
        if self.recipe == "fraction":  # written over [0, 1] of training, converted at the edge
            updates = self.trainer.estimated_stepping_batches
            scheduler = cadence.Scheduler(optimizer, lr=Stretch(Cosine(steps=1.0), factor=updates))
            return {"optimizer": optimizer, "lr_scheduler": scheduler}
        if self.recipe == "per-epoch":  # a schedule in epochs, stepped once per epoch
            scheduler = cadence.Scheduler(optimizer, lr=Cosine(steps=6), count="calls")
            return {"optimizer": optimizer,
                    "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}
        if self.recipe == "drop-in-one-cycle":  # PyTorch's class, cadence's values
            scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=TOTAL)
            return {"optimizer": optimizer,
                    "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
        if self.recipe in ("drop-in-plateau", "torch-plateau"):
            module = lr_scheduler if self.recipe == "drop-in-plateau" else torch.optim.lr_scheduler
            scheduler = module.ReduceLROnPlateau(optimizer, patience=0, factor=0.5)
            return {"optimizer": optimizer,
                    "lr_scheduler": {"scheduler": scheduler, "monitor": "val_loss"}}
        raise ValueError(f"unknown recipe {self.recipe!r}")


class Record(L.Callback):
    """The lr each optimizer update used (with the "targets" recipe, the dropout's p and the
    penalty's weight its loss used too), and the validation losses."""

    def __init__(self) -> None:
        self.lrs: list[tuple[int, float]] = []
        self.targets: list[tuple[int, float, float]] = []
        self.val_losses: list[float] = []

    def on_before_optimizer_step(self, trainer: L.Trainer, module: L.LightningModule,
                                 optimizer: Any) -> None:
        self.lrs.append((trainer.global_step, float(optimizer.param_groups[0]["lr"])))
        if module.recipe == "targets":
            self.targets.append((trainer.global_step, module.net[0].p, module.l2))

    def on_validation_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self.val_losses.append(float(trainer.callback_metrics["val_loss"]))


def data(seed: int = 0) -> DataLoader:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(32, 8, generator=generator)
    y = x @ torch.randn(8, 1, generator=generator) + 0.1 * torch.randn(32, 1, generator=generator)
    return DataLoader(TensorDataset(x, y), batch_size=BATCH)


def fit(recipe: str, max_steps: int = TOTAL, accumulate: int = 1,
        checkpoint_every: int | None = None, checkpoint_dir: str | None = None,
        resume: str | None = None) -> Record:
    """Train with Lightning on the CPU; returns what :class:`Record` saw."""
    L.seed_everything(0, verbose=False)
    record = Record()
    callbacks: list[L.Callback] = [record]
    if checkpoint_every:
        callbacks.append(L.pytorch.callbacks.ModelCheckpoint(
            dirpath=checkpoint_dir, every_n_train_steps=checkpoint_every, save_top_k=-1))
    trainer = L.Trainer(max_steps=max_steps, accumulate_grad_batches=accumulate,
                        callbacks=callbacks, accelerator="cpu", devices=1, logger=False,
                        enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=bool(checkpoint_every), num_sanity_val_steps=0,
                        val_check_interval=VAL_EVERY if recipe == "plateau-per-step" else None)
    trainer.fit(Regression(recipe), data(), data(seed=1), ckpt_path=resume)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", default="warmup-cosine",
                        choices=["warmup-cosine", "targets", "plateau", "plateau-per-step",
                                 "every-other-step", "fraction", "per-epoch",
                                 "drop-in-one-cycle", "drop-in-plateau", "torch-plateau"])
    parser.add_argument("--max-steps", type=int, default=TOTAL, help="optimizer updates")
    parser.add_argument("--accumulate", type=int, default=1, help="accumulate_grad_batches")
    parser.add_argument("--checkpoint-every", type=int, help="save every N updates")
    parser.add_argument("--checkpoint-dir", help="where the checkpoints go")
    parser.add_argument("--resume", help="a checkpoint to resume from")
    parser.add_argument("--record", help="write the lrs and validation losses to this JSON file")
    args = parser.parse_args()
    record = fit(args.recipe, args.max_steps, args.accumulate, args.checkpoint_every,
                 args.checkpoint_dir, args.resume)
    if args.record:
        with open(args.record, "w") as out:
            json.dump({"lrs": record.lrs, "targets": record.targets,
                       "val_losses": record.val_losses}, out)
    else:
        for step, lr in record.lrs:
            print(f"update {step:3d}: lr {lr:.6f}")


if __name__ == "__main__":
    main()
