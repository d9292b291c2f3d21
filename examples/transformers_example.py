"""cadence in transformers' ``Trainer``: pass the scheduler in ``optimizers=(optimizer,
scheduler)``, as with PyTorch's.

A ``cadence.Scheduler`` follows the optimizer's updates itself (gradient accumulation and
skipped updates included). A Scheduler with a plateau controller is an instance of PyTorch's
``ReduceLROnPlateau``, so the Trainer feeds it the evaluation metric named by
``metric_for_best_model``. cadence's factories (``cadence.compat.transformers``) are drop-ins for
transformers' ``get_*_schedule*``.

Run: ``.venv/bin/python examples/transformers_example.py --recipe warmup-cosine`` (``--help``
for the options; the test suite runs it, tests/integrations/test_transformers_trainer.py).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import torch
from torch.utils.data import Dataset
from transformers import Trainer, TrainerCallback, TrainingArguments

import cadence
from cadence.compat.transformers import get_cosine_schedule_with_warmup
from cadence.schedules import Constant, Cosine, Warmup

WARMUP, TOTAL, BATCH = 10, 40, 4


def lr_schedule() -> Warmup:
    """The recipe's lr: a factor of the optimizer's lr, per optimizer update."""
    return Warmup(Cosine(start=1.0, end=0.0, steps=TOTAL - WARMUP), steps=WARMUP)


class Pairs(Dataset):
    """A fixed synthetic regression set, as the dicts a Trainer feeds to a model."""

    def __init__(self, seed: int, size: int = 32) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.x = torch.randn(size, 8, generator=generator)
        self.y = self.x.sum(dim=1, keepdim=True) + 0.1 * torch.randn(size, 1, generator=generator)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.x[i], "labels": self.y[i]}


class Regression(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Linear(8, 1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.net(x)
        return {"loss": torch.nn.functional.mse_loss(out, labels), "logits": out}


def scheduler_for(recipe: str, optimizer: torch.optim.Optimizer) -> Any:
    if recipe == "warmup-cosine":
        return cadence.Scheduler(optimizer, lr=lr_schedule())
    if recipe == "plateau":  # fed eval_loss after each evaluation (metric_for_best_model)
        plateau = cadence.ReduceOnPlateau(patience=0, factor=0.5, threshold=0.5)
        return cadence.Scheduler(optimizer, lr=Warmup(Constant(1.0), steps=WARMUP),
                                 plateau=plateau)
    if recipe == "drop-in":  # transformers' factory, cadence's values
        return get_cosine_schedule_with_warmup(optimizer, WARMUP, TOTAL)
    raise ValueError(f"unknown recipe {recipe!r}")


class Record(TrainerCallback):
    """The lr each optimizer update uses, and the evaluation losses."""

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer
        self.lrs: list[tuple[int, float]] = []
        self.eval_losses: list[float] = []
        self.logged: list[tuple[int, float]] = []  # the learning_rate the Trainer logs

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None,
               **kwargs: Any) -> None:
        if logs and "learning_rate" in logs:
            self.logged.append((state.global_step, float(logs["learning_rate"])))

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.lrs.append((state.global_step, float(self.optimizer.param_groups[0]["lr"])))

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Any = None,
                    **kwargs: Any) -> None:
        self.eval_losses.append(float(metrics["eval_loss"]))


def fit(recipe: str, output_dir: str, max_steps: int = TOTAL, accumulate: int = 1,
        save_steps: int | None = None, resume: str | None = None,
        logging_steps: int = 50) -> Record:
    """Train with transformers' Trainer on the CPU; returns what :class:`Record` saw."""
    torch.manual_seed(0)
    model = Regression()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = scheduler_for(recipe, optimizer)
    record = Record(optimizer)
    args = TrainingArguments(
        output_dir=output_dir, max_steps=max_steps, per_device_train_batch_size=BATCH,
        gradient_accumulation_steps=accumulate, eval_strategy="steps", eval_steps=8,
        metric_for_best_model="loss", save_strategy="steps" if save_steps else "no",
        save_steps=save_steps or 500, report_to=[], use_cpu=True, seed=0,
        logging_steps=logging_steps,
        disable_tqdm=True, dataloader_num_workers=0)
    trainer = Trainer(model=model, args=args, train_dataset=Pairs(0), eval_dataset=Pairs(1),
                      optimizers=(optimizer, scheduler), callbacks=[record])
    trainer.train(resume_from_checkpoint=resume)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", default="warmup-cosine",
                        choices=["warmup-cosine", "plateau", "drop-in"])
    parser.add_argument("--output-dir", default="trainer_output", help="the Trainer's output")
    parser.add_argument("--max-steps", type=int, default=TOTAL, help="optimizer updates")
    parser.add_argument("--accumulate", type=int, default=1, help="gradient_accumulation_steps")
    parser.add_argument("--save-steps", type=int, help="save a checkpoint every N updates")
    parser.add_argument("--resume", help="a checkpoint folder to resume from")
    parser.add_argument("--record", help="write the lrs and evaluation losses to this JSON file")
    args = parser.parse_args()
    record = fit(args.recipe, args.output_dir, args.max_steps, args.accumulate, args.save_steps,
                 args.resume)
    if args.record:
        with open(args.record, "w") as out:
            json.dump({"lrs": record.lrs, "eval_losses": record.eval_losses}, out)
    else:
        for step, lr in record.lrs:
            print(f"update {step:3d}: lr {lr:.6f}")


if __name__ == "__main__":
    main()
