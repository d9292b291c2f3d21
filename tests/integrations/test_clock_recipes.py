"""A Scheduler whose clock counts tokens, fed by the real trainers on CPU (docs/recipes.md,
"Schedules in tokens or samples", and examples/token_clock.py).

Every update's lr is checked against the WSD closed form written here, at the tokens consumed
before that update, counted in the test from the batches the model was given (not from the
trainer's or the clock's own count). The two-process case (ranks feeding uneven counts, summed)
is tests/scheduler/test_clock.py's.
"""

from __future__ import annotations

import re
import subprocess
import sys
from itertools import accumulate, pairwise
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from example_runner import EXAMPLES, example, run_example

import cadence
from cadence.schedules import WSD

# Lightning 2.6 on PyTorch 2.13: its own use of a deprecated torch.utils._pytree name (every
# other warning, cadence's included, stays an error)
LIGHTNING_NOISE = pytest.mark.filterwarnings(
    r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated:FutureWarning")
recipe = example("token_clock")
BASE = 0.02  # the optimizers' lr
EPOCHS, BATCH = 2, 4


def wsd(s: float, total: float) -> float:
    """The recipes' WSD factor at ``s`` tokens of a ``total``-token run: a linear warm-up over
    the first 10%, 1, then a linear decay to 0 over the last 20%, then 0."""
    warmup, decay_start = 0.1 * total, 0.8 * total
    if s < warmup:
        return s / warmup
    if s < decay_start:
        return 1.0
    return max(0.0, 1.0 - (s - decay_start) / (total - decay_start))


def scheduler(optimizer: torch.optim.Optimizer, total: int, cls: type = cadence.Scheduler
              ) -> Any:
    """That WSD on a tokens clock, its lengths written with units (fractions of ``total``)."""
    clock = cadence.Clock("tokens", total=f"{total}tok")
    return cls(optimizer, clock=clock,
               lr=WSD(warmup_steps=clock.length("0.1dur"), decay_steps=clock.length("0.2dur"),
                      total_steps=clock.length("1dur"), decay="linear"))


def check_lrs(lrs: list[float], per_update: list[int], total: int) -> None:
    """Update ``k`` used ``BASE * wsd(tokens before it)``."""
    before = [0, *accumulate(per_update)][: len(per_update)]
    assert len(lrs) == len(per_update)
    for k, (lr, s) in enumerate(zip(lrs, before)):
        assert lr == pytest.approx(BASE * wsd(s, total), rel=1e-12, abs=1e-15), (k, s)


class Counted(recipe.TinyLM):
    """The example's model, noting the real tokens and all positions of each training batch it
    is given (the test's own count)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, int]] = []  # (attention_mask.sum(), input_ids.numel())

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if self.training:
            assert attention_mask is not None
            self.seen.append((int(attention_mask.sum()), input_ids.numel()))
        return super().forward(input_ids, attention_mask, labels)


class Sequences(torch.utils.data.Dataset):
    """The example's generated sequences, as the dicts a Trainer collates."""

    def __init__(self, count: int) -> None:
        self.items = recipe.sequences(count)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.items[i]}


def collate(features: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return recipe.padded([f["input_ids"] for f in features])


# -- transformers' Trainer -----------------------------------------------------------------------
def fit_trainer(output_dir: str, counted: Any, accumulate_steps: int = 1,
                max_steps: int = -1, save_steps: int | None = None,
                resume: str | None = None) -> SimpleNamespace:
    """Train the example's model with transformers' Trainer on 48 sequences (12 batches of 4 an
    epoch), a tokens clock fed by the recipe's callback; what was seen."""
    pytest.importorskip("transformers")
    from transformers import Trainer, TrainerCallback, TrainingArguments

    class FeedTokens(TrainerCallback):  # the recipe's callback
        def __init__(self, sched: cadence.Scheduler) -> None:
            self.sched, self.last = sched, 0

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.last = state.num_input_tokens_seen  # a resumed run starts from its count

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            # the count over every micro-batch of this update, already summed over processes
            self.sched.step(tokens=state.num_input_tokens_seen - self.last, summed=True)
            self.last = state.num_input_tokens_seen

    class Record(TrainerCallback):
        def __init__(self) -> None:
            self.lrs: list[float] = []
            self.batches: list[int] = []  # batches the model had seen when each update was made
            self.logged: list[tuple[float, int]] = []  # learning_rate, num_input_tokens_seen

        def on_pre_optimizer_step(self, args: Any, state: Any, control: Any,
                                  **kwargs: Any) -> None:
            self.lrs.append(float(optimizer.param_groups[0]["lr"]))
            self.batches.append(len(model.seen))

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None,
                   **kwargs: Any) -> None:
            if logs and "learning_rate" in logs:
                self.logged.append((float(logs["learning_rate"]), logs["num_input_tokens_seen"]))

    data = Sequences(48)
    total = EPOCHS * sum(len(s) for s in data.items)  # the real tokens of the run
    torch.manual_seed(0)
    model = Counted()
    optimizer = torch.optim.SGD(model.parameters(), lr=BASE)
    sched = scheduler(optimizer, total)
    record = Record()
    args = TrainingArguments(
        output_dir=output_dir, num_train_epochs=EPOCHS, max_steps=max_steps,
        per_device_train_batch_size=BATCH, gradient_accumulation_steps=accumulate_steps,
        include_num_input_tokens_seen=counted, save_strategy="steps" if save_steps else "no",
        save_steps=save_steps or 500, report_to=[], use_cpu=True, seed=0, logging_steps=1,
        disable_tqdm=True, dataloader_num_workers=0)
    assert args.include_num_input_tokens_seen == ("all" if counted is True else counted)
    trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=collate,
                      optimizers=(optimizer, sched), callbacks=[FeedTokens(sched), record])
    trainer.train(resume_from_checkpoint=resume)
    return SimpleNamespace(record=record, sched=sched, model=model, trainer=trainer, total=total)


@pytest.mark.parametrize(("counted", "accumulate_steps"),
                         [(True, 1), ("non_padding", 1), ("non_padding", 2)])
def test_transformers_trainer_feeds_num_input_tokens_seen(tmp_path, counted, accumulate_steps):
    run = fit_trainer(str(tmp_path), counted, accumulate_steps)
    record, sched, total = run.record, run.sched, run.total
    # transformers counts input_ids.numel() (padding included) for True / "all", and
    # attention_mask.sum() for "non_padding"; the test counts from the batches the model saw
    which = 0 if counted == "non_padding" else 1
    counts = [seen[which] for seen in run.model.seen]
    bounds = [0, *record.batches]
    per_update = [sum(counts[a:b]) for a, b in pairwise(bounds)]
    assert len(per_update) == EPOCHS * 12 // accumulate_steps == run.trainer.state.global_step
    assert bounds[-1] == len(counts)  # every batch belongs to an update
    check_lrs(record.lrs, per_update, total)
    assert sched.current_step == sum(counts) == run.trainer.state.num_input_tokens_seen
    # the Trainer logs get_last_lr() between optimizer.step() and the feed: the update's lr
    assert [lr for lr, _ in record.logged] == record.lrs
    assert [n for _, n in record.logged] == list(accumulate(per_update))
    if counted == "non_padding":
        assert sched.current_step == total and record.lrs[-1] > 0
    else:  # padding counted: the run passes its planned tokens early, and the lr holds 0
        assert sched.current_step > total and record.lrs[-1] == 0.0


def test_transformers_trainer_resumes_the_token_clock_from_a_checkpoint(tmp_path):
    """The Trainer saves the scheduler's state (its position, in tokens) and restores
    num_input_tokens_seen; the callback's on_train_begin starts from the restored count."""
    whole = fit_trainer(str(tmp_path / "whole"), "non_padding")
    stop = 10  # mid-epoch
    out = tmp_path / "run"
    first = fit_trainer(str(out), "non_padding", max_steps=stop, save_steps=stop)
    resumed = fit_trainer(str(out), "non_padding", max_steps=EPOCHS * 12,
                          resume=str(out / f"checkpoint-{stop}"))
    assert first.record.lrs + resumed.record.lrs == whole.record.lrs  # the same floats
    assert resumed.sched.current_step == whole.sched.current_step == whole.total


# -- Lightning -----------------------------------------------------------------------------------
class Bare(cadence.Scheduler):
    """A Scheduler noting each step() call's fed tokens (None: a bare call, Lightning's)."""

    def step(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append(kwargs.get("tokens"))
        super().step(*args, **kwargs)

    @property
    def calls(self) -> list[Any]:
        return self.__dict__.setdefault("_calls", [])


@LIGHTNING_NOISE
@pytest.mark.parametrize("accumulate_steps", [1, 2])
def test_lightning_feeds_the_tokens_of_each_update_from_on_train_batch_end(accumulate_steps):
    L = pytest.importorskip("lightning")
    from torch.utils.data import DataLoader

    data = Sequences(48)
    loader = DataLoader(data, batch_size=BATCH, collate_fn=collate)  # not shuffled
    total = EPOCHS * sum(len(s) for s in data.items)

    class TokenLM(L.LightningModule):  # the recipe's module
        def __init__(self) -> None:
            super().__init__()
            self.lm = recipe.TinyLM()
            self.lrs: list[float] = []

        def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> Any:
            return self.lm(**batch)["loss"]

        def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
            # every micro-batch: those before an update wait for it
            self.lr_schedulers().step(tokens=batch["attention_mask"].sum())

        def on_before_optimizer_step(self, optimizer: Any) -> None:
            self.lrs.append(float(optimizer.param_groups[0]["lr"]))

        def configure_optimizers(self) -> Any:
            optimizer = torch.optim.SGD(self.parameters(), lr=BASE)
            return {"optimizer": optimizer,
                    "lr_scheduler": {"scheduler": scheduler(optimizer, total, Bare),
                                     "interval": "step"}}

    torch.manual_seed(0)
    module = TokenLM()
    trainer = L.Trainer(max_epochs=EPOCHS, accumulate_grad_batches=accumulate_steps,
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu")
    trainer.fit(module, loader)

    per_batch = [int(b["attention_mask"].sum()) for b in loader] * EPOCHS  # the test's count
    per_update = [sum(per_batch[i:i + accumulate_steps])
                  for i in range(0, len(per_batch), accumulate_steps)]
    assert trainer.global_step == len(per_update) == EPOCHS * 12 // accumulate_steps
    check_lrs(module.lrs, per_update, total)
    sched = trainer.lr_scheduler_configs[0].scheduler
    assert sched.current_step == sum(per_batch) == total
    # a feed per micro-batch and one bare call by Lightning per update: the bare calls moved
    # nothing, the micro-batches before an update moved the clock with it
    assert [int(n) for n in sched.calls if n is not None] == per_batch
    assert sched.calls.count(None) == len(per_update)


def test_counts_fed_before_an_update_move_the_clock_with_it():
    """Feeding every micro-batch under gradient accumulation: the counts fed with no update
    since the last feed wait, and move the clock with the feed after the next update."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE)
    sched = scheduler(opt, 1000)
    seen = []
    for n in (10, 20, 30, 40):  # two updates of two micro-batches, each micro-batch fed
        if n in (20, 40):
            opt.step()
        sched.step(tokens=n)
        seen.append(sched.current_step)
    assert seen == [0, 10 + 20, 30, 30 + 30 + 40]


# -- a plain loop: padding excluded, or packing --------------------------------------------------
@pytest.mark.parametrize("layout", ["pad", "pack"])
def test_a_plain_loop_counting_real_tokens(layout):
    row = 16
    data = recipe.sequences(40)
    plan = [recipe.batches(data, layout, BATCH, row, epoch) for epoch in range(EPOCHS)]
    # the test's count: the lengths of the sequences each batch drew (the example's shuffle:
    # a permutation seeded by the epoch), or rows of `row` tokens (pack)
    if layout == "pad":
        per_update = []
        for epoch in range(EPOCHS):
            order = torch.randperm(len(data), generator=torch.Generator().manual_seed(epoch))
            per_update += [sum(len(data[j]) for j in order[i:i + BATCH].tolist())
                           for i in range(0, len(data), BATCH)]
        assert sum(per_update) == EPOCHS * sum(len(s) for s in data)
    else:
        per_update = [len(b["input_ids"]) * row for epoch in plan for b in epoch]
        assert sum(per_update) == EPOCHS * (sum(len(s) for s in data) // row * row)
        assert all(bool(b["attention_mask"].all()) for epoch in plan for b in epoch)
    total = sum(per_update)
    torch.manual_seed(0)
    model = recipe.TinyLM()
    opt = torch.optim.AdamW(model.parameters(), lr=BASE)
    sched = scheduler(opt, total)
    lrs, fed = [], []
    for epoch in plan:
        for batch in epoch:
            lrs.append(float(opt.param_groups[0]["lr"]))
            model(**batch)["loss"].backward()
            opt.step()
            opt.zero_grad()
            fed.append(int(batch["attention_mask"].sum()))  # packing: input_ids.numel()
            sched.step(tokens=fed[-1])
    assert fed == per_update
    assert sched.current_step == sum(fed) == total
    check_lrs(lrs, per_update, total)
    assert lrs[-1] > 0 == opt.param_groups[0]["lr"]  # the decay ends with the last update


# -- examples/token_clock.py ---------------------------------------------------------------------
ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d\.\d{6})\s+(\d+\.\d{4})$", re.MULTILINE)


@pytest.mark.parametrize("layout", ["pad", "pack"])
def test_the_example_prints_the_wsd_lr_at_each_token_count(layout):
    done = subprocess.run([sys.executable, str(EXAMPLES / "token_clock.py"), "--layout", layout,
                           "--sequences", "40", "--batch-size", "4", "--row-length", "16",
                           "--every", "1"], capture_output=True, text=True, timeout=120,
                          check=True)
    total = int(re.search(r"WSD over (\d+) tokens", done.stdout)[1])
    rows = [(int(u), int(s), float(lr), float(loss)) for u, s, lr, loss in
            ROW.findall(done.stdout)]
    assert [u for u, *_ in rows] == list(range(len(rows))) and len(rows) >= 15
    for _, s, lr, _ in rows:
        assert lr == pytest.approx(BASE * wsd(s, total), abs=6e-7)
    assert f"consumed {total} of {total} tokens in {len(rows)} updates" in done.stdout
    assert rows[-1][3] < rows[0][3]  # it learns


def test_the_example_records_every_update_and_has_help(tmp_path):
    run = run_example("token_clock", "--sequences", "24", "--batch-size", "4",
                      record=tmp_path / "run.json")
    updates = run["updates"]
    assert [u["tokens_before"] for u in updates] == \
        [0, *accumulate(u["tokens"] for u in updates)][:-1]
    check_lrs([u["lr"] for u in updates], [u["tokens"] for u in updates], run["total"])
    done = subprocess.run([sys.executable, str(EXAMPLES / "token_clock.py"), "--help"],
                          capture_output=True, text=True, timeout=60, check=True)
    assert "--layout {pad,pack}" in done.stdout and "attention_mask.sum()" in done.stdout
