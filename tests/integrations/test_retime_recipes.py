"""Re-timing a run with the real trainers on CPU (docs/recipes.md, "Re-time a run with a
trainer"): a run planned for ``T1`` updates is checkpointed at update ``K``, and resumed by a
script whose schedule is planned for ``T2`` and whose Scheduler is built with ``retime=``.

Every update's lr after the resume is checked against the re-timed schedule's closed form,
written out here from the policy's definition (not read from cadence), to 1e-12 relative; the
lr of the first update after the resume must be the old schedule's at ``K`` exactly (a re-timing
does not jump). A second resume, from a checkpoint saved after the re-timing, with the same new
script, must give the lrs of the re-timed run that never stopped, bit for bit (the state holds
the re-timed schedule). Lightning re-times by ``"rescale"``, transformers' Trainer by
``"hold"``, accelerate by ``"continue"``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F

import cadence
from cadence.schedules import Cosine

# Lightning 2.6 on PyTorch 2.13: its own use of a deprecated torch.utils._pytree name (every
# other warning, cadence's included, stays an error)
LIGHTNING_NOISE = pytest.mark.filterwarnings(
    r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated:FutureWarning")

BASE = 0.05  # the optimizers' lr
T1, K, T2, M = 24, 10, 40, 30  # planned total, checkpoint, new total, checkpoint after re-timing
BATCH, SAMPLES = 4, 32  # 8 updates an epoch: K and M are mid-epoch


# -- the closed forms ----------------------------------------------------------------------------
def cosine(t: float, steps: float) -> float:
    """``Cosine(steps=steps)``: from 1 at 0 to 0 at ``steps``, then 0."""
    return 0.5 * (1.0 + math.cos(math.pi * min(t, steps) / steps))


def rescaled(t: int) -> float:
    """What was left of the T1 cosine at K, stretched from [K, T1] over [K, T2]."""
    u = K + (T1 - K) * (t - K) / (T2 - K) if t < T2 else T1 + (t - T2)
    return cosine(u, T1)


def held(t: int) -> float:
    """The value at K held for T2 - T1 updates, then what was left of the T1 cosine."""
    return cosine(max(t - (T2 - T1), K), T1)


def continued(t: int) -> float:
    """A cosine from the value at K down to the schedule's end value (0) over [K, T2]."""
    return cosine(K, T1) * 0.5 * (1.0 + math.cos(math.pi * min(t - K, T2 - K) / (T2 - K)))


RETIMED = {"rescale": rescaled, "hold": held, "continue": continued}


def check_original(lrs: list[tuple[int, float]], stop: int) -> None:
    """The updates before the checkpoint followed the planned cosine."""
    assert [t for t, _ in lrs] == list(range(stop))
    for t, lr in lrs:
        assert math.isclose(lr, BASE * cosine(t, T1), rel_tol=1e-12, abs_tol=0.0), (t, lr)


def check_retimed(lrs: list[tuple[int, float]], policy: str) -> None:
    """Updates K to T2 - 1 followed the re-timed closed form."""
    assert [t for t, _ in lrs] == list(range(K, T2))
    # no jump: the first update after the resume uses the old schedule's value at K, exactly
    assert lrs[0][1] == BASE * float(Cosine(steps=T1)(K))
    for t, lr in lrs:
        expected = BASE * RETIMED[policy](t)
        assert math.isclose(lr, expected, rel_tol=1e-12, abs_tol=0.0), (t, lr, expected)
    if policy == "hold":  # the lr at K, held exactly over the T2 - T1 updates added
        assert {lr for t, lr in lrs if t <= K + (T2 - T1)} == {lrs[0][1]}
    # and moving at every other update
    assert len({lr for _, lr in lrs}) == T2 - K - (T2 - T1 if policy == "hold" else 0)


def ended(sched: Any) -> None:
    """The scheduler is at the new total, and the lr written for it is the end value, 0."""
    assert sched.current_step == T2 and sched.optimizer.param_groups[0]["lr"] == 0.0


def recorded_branch(sched: Any, policy: str) -> None:
    """The scheduler's state holds the re-timed schedule: the T1 cosine extended at K."""
    [saved] = sched.state_dict()["layout"]["hyperparameters"]["lr"]["schedules"]
    assert saved["type"] == "extend" and saved["policy"] == policy
    assert (saved["at"], saved["total"], saved["new_total"]) == (K, T1, T2)
    assert saved["schedule"] == {"type": "cosine", "start": 1.0, "end": 0.0, "steps": T1}


def data() -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed regression set: SAMPLES inputs of 8 features and their targets."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(SAMPLES, 8, generator=generator)
    return x, x.sum(dim=1, keepdim=True) + 0.1 * torch.randn(SAMPLES, 1, generator=generator)


# -- Lightning -----------------------------------------------------------------------------------
def fit_lightning(folder: Path, lr: Any, max_steps: int, retime: str | None = None,
                  resume: Path | None = None, save_at: int | None = None
                  ) -> tuple[list[tuple[int, float]], Any]:
    """Fit a linear model whose configure_optimizers builds ``Scheduler(opt, lr=lr,
    retime=retime)`` (interval "step"), from the checkpoint ``resume`` if given, saving
    ``folder/step=N.ckpt`` after update ``save_at``; the (step, lr) of each update, and the
    scheduler."""
    L = pytest.importorskip("lightning")
    from torch.utils.data import DataLoader, TensorDataset

    class Regression(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Linear(8, 1)
            self.lrs: list[tuple[int, float]] = []

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            x, y = batch
            return F.mse_loss(self.net(x), y)

        def on_before_optimizer_step(self, optimizer: Any) -> None:
            self.lrs.append((self.trainer.global_step, float(optimizer.param_groups[0]["lr"])))

        def configure_optimizers(self) -> Any:
            optimizer = torch.optim.SGD(self.parameters(), lr=BASE, momentum=0.9)
            sched = cadence.Scheduler(optimizer, lr=lr, retime=retime)
            return {"optimizer": optimizer,
                    "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    class SaveAt(L.Callback):  # as ModelCheckpoint(every_n_train_steps=...) saves, once
        def on_train_batch_end(self, trainer: Any, *args: Any) -> None:
            if trainer.global_step == save_at:
                trainer.save_checkpoint(folder / f"step={save_at}.ckpt")

    trainer = L.Trainer(max_steps=max_steps, callbacks=[SaveAt()], accelerator="cpu",
                        devices=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    torch.manual_seed(0)
    module = Regression()
    trainer.fit(module, DataLoader(TensorDataset(*data()), batch_size=BATCH), ckpt_path=resume)
    return module.lrs, trainer.lr_scheduler_configs[0].scheduler


@LIGHTNING_NOISE
@pytest.mark.filterwarnings(  # Lightning's advice on resuming mid-epoch: meant here (the data
    # is not shuffled, and the lrs do not depend on it)
    "ignore:You're resuming from a checkpoint that ended before the epoch ended")
def test_lightning_resumes_a_checkpoint_into_a_rescaled_longer_schedule(tmp_path):
    first, _ = fit_lightning(tmp_path / "first", Cosine(steps=T1), max_steps=K, save_at=K)
    check_original(first, K)

    # the new script: a schedule for T2, the old one rescaled into it from the checkpoint on
    resumed, sched = fit_lightning(tmp_path / "resumed", Cosine(steps=T2), max_steps=T2,
                                   retime="rescale", resume=tmp_path / "first" / f"step={K}.ckpt",
                                   save_at=M)
    check_retimed(resumed, "rescale")
    ended(sched)
    recorded_branch(sched, "rescale")

    # resumed again after the re-timing, by the same script: the re-timed run, exactly
    later = tmp_path / "resumed" / f"step={M}.ckpt"
    again, _ = fit_lightning(tmp_path / "again", Cosine(steps=T2), max_steps=T2,
                             retime="rescale", resume=later)
    assert again == resumed[M - K:]
    # and by the original script (no retime=): the state says the run was re-timed from its
    # schedule, so it follows the re-timed one
    original, sched = fit_lightning(tmp_path / "original", Cosine(steps=T1), max_steps=T2,
                                    resume=later)
    assert original == resumed[M - K:]
    recorded_branch(sched, "rescale")


# -- transformers' Trainer -----------------------------------------------------------------------
def fit_trainer(folder: Path, lr: Any, max_steps: int, retime: str | None = None,
                resume: Path | None = None, save_steps: int | None = None
                ) -> tuple[list[tuple[int, float]], Any]:
    """Train a linear model with ``Trainer(..., optimizers=(opt, Scheduler(opt, lr=lr,
    retime=retime)))`` for ``max_steps`` updates, from ``resume`` if given, saving
    ``folder/checkpoint-N`` every ``save_steps``; the (step, lr) of each update, and the
    scheduler."""
    pytest.importorskip("transformers")
    from transformers import Trainer, TrainerCallback, TrainingArguments

    class Regression(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Linear(8, 1)

        def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
            out = self.net(x)
            return {"loss": F.mse_loss(out, labels), "logits": out}

    class Record(TrainerCallback):
        def __init__(self) -> None:
            self.lrs: list[tuple[int, float]] = []

        def on_pre_optimizer_step(self, args: Any, state: Any, control: Any,
                                  **kwargs: Any) -> None:
            self.lrs.append((state.global_step, float(optimizer.param_groups[0]["lr"])))

    x, y = data()
    torch.manual_seed(0)
    model = Regression()
    optimizer = torch.optim.SGD(model.parameters(), lr=BASE, momentum=0.9)
    sched = cadence.Scheduler(optimizer, lr=lr, retime=retime)
    record = Record()
    args = TrainingArguments(
        output_dir=str(folder), max_steps=max_steps, per_device_train_batch_size=BATCH,
        save_strategy="steps" if save_steps else "no", save_steps=save_steps or 500,
        report_to=[], use_cpu=True, seed=0, disable_tqdm=True, dataloader_num_workers=0)
    trainer = Trainer(model=model, args=args,
                      train_dataset=[{"x": a, "labels": b} for a, b in zip(x, y)],
                      optimizers=(optimizer, sched), callbacks=[record])
    trainer.train(resume_from_checkpoint=None if resume is None else str(resume))
    assert trainer.lr_scheduler is sched
    return record.lrs, sched


def test_transformers_trainer_resumes_a_checkpoint_into_a_held_longer_schedule(tmp_path):
    first, _ = fit_trainer(tmp_path / "first", Cosine(steps=T1), max_steps=K, save_steps=K)
    check_original(first, K)

    resumed, sched = fit_trainer(tmp_path / "resumed", Cosine(steps=T2), max_steps=T2,
                                 retime="hold", resume=tmp_path / "first" / f"checkpoint-{K}",
                                 save_steps=K)  # the Trainer keeps the checkpoint's save_steps
    check_retimed(resumed, "hold")
    ended(sched)
    recorded_branch(sched, "hold")

    again, sched = fit_trainer(tmp_path / "again", Cosine(steps=T2), max_steps=T2,
                               retime="hold", resume=tmp_path / "resumed" / f"checkpoint-{M}")
    assert again == resumed[M - K:]
    recorded_branch(sched, "hold")


@pytest.mark.parametrize("retime", [None, "hold"])
def test_transformers_trainer_resumed_with_the_original_schedule_changes_nothing(tmp_path,
                                                                                 retime):
    """The script as it was (with or without a retime= left in it): the resumed run is the run
    that never stopped, bit for bit."""
    whole, _ = fit_trainer(tmp_path / "whole", Cosine(steps=T1), max_steps=T1)
    check_original(whole, T1)
    first, _ = fit_trainer(tmp_path / "first", Cosine(steps=T1), max_steps=K, save_steps=K)
    resumed, sched = fit_trainer(tmp_path / "resumed", Cosine(steps=T1), max_steps=T1,
                                 retime=retime, resume=tmp_path / "first" / f"checkpoint-{K}")
    assert first + resumed == whole
    [saved] = sched.state_dict()["layout"]["hyperparameters"]["lr"]["schedules"]
    assert saved == {"type": "cosine", "start": 1.0, "end": 0.0, "steps": T1}  # no branch


# -- accelerate ----------------------------------------------------------------------------------
def fit_accelerate(lr: Any, stop: int, retime: str | None = None, start: int = 0,
                   resume: Path | None = None, save: Path | None = None,
                   save_at: int | None = None) -> tuple[list[tuple[int, float]], Any]:
    """``accelerator.prepare(model, opt, loader, Scheduler(opt, lr=lr, retime=retime))``,
    ``accelerator.load_state(resume)`` if given (saved after ``start`` updates), train to update
    ``stop``, ``accelerator.save_state(save)`` after update ``save_at``; the (step, lr) of each
    update, and the scheduler."""
    pytest.importorskip("accelerate")
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState
    from torch.utils.data import DataLoader, TensorDataset

    try:
        accelerator = Accelerator(cpu=True)
        torch.manual_seed(0)
        model = torch.nn.Linear(8, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=BASE, momentum=0.9)
        sched = cadence.Scheduler(optimizer, lr=lr, retime=retime)
        loader = DataLoader(TensorDataset(*data()), batch_size=BATCH)
        model, optimizer, loader, prepared = accelerator.prepare(model, optimizer, loader, sched)
        if resume is not None:
            accelerator.load_state(str(resume))
        assert sched.current_step == start
        lrs, t = [], start
        while t < stop:
            skip = t % len(loader)  # the batches of this epoch done before the checkpoint
            for inputs, targets in accelerator.skip_first_batches(loader, skip) if skip \
                    else loader:
                lrs.append((t, float(optimizer.param_groups[0]["lr"])))
                accelerator.backward(F.mse_loss(model(inputs), targets))
                optimizer.step()
                prepared.step()
                optimizer.zero_grad()
                t += 1
                if t == save_at:
                    accelerator.save_state(str(save))
                if t == stop:
                    break
        return lrs, sched
    finally:  # accelerate's process-wide state, as no other test expects to find it
        AcceleratorState._reset_state(reset_partial_state=True)


def test_accelerate_loads_a_state_into_a_continued_longer_schedule(tmp_path):
    first, _ = fit_accelerate(Cosine(steps=T1), stop=K, save=tmp_path / "first", save_at=K)
    check_original(first, K)

    # the new schedule without retime=: the state is refused, and says what to pass
    with pytest.raises(cadence.InvalidInput, match="saved with a different schedule"):
        fit_accelerate(Cosine(steps=T2), stop=T2, start=K, resume=tmp_path / "first")

    resumed, sched = fit_accelerate(Cosine(steps=T2), stop=T2, retime="continue", start=K,
                                    resume=tmp_path / "first", save=tmp_path / "resumed",
                                    save_at=M)
    check_retimed(resumed, "continue")
    ended(sched)
    recorded_branch(sched, "continue")

    again, sched = fit_accelerate(Cosine(steps=T2), stop=T2, retime="continue", start=M,
                                  resume=tmp_path / "resumed")
    assert again == resumed[M - K:]
    recorded_branch(sched, "continue")  # not re-timed a second time from M
