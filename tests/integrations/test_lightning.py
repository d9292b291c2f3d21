"""cadence in PyTorch Lightning (examples/lightning_example.py), with the real Trainer on CPU."""

from __future__ import annotations

import math

import pytest
import torch
from example_runner import example, run_example

pytest.importorskip("lightning")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning",
                                        "ignore::FutureWarning")
recipes = example("lightning_example")
BASE = 0.05  # the example's optimizer lr


@pytest.mark.parametrize("accumulate", [1, 2])
def test_each_update_uses_the_schedule_at_its_step(accumulate):
    record = recipes.fit("warmup-cosine", max_steps=30, accumulate=accumulate)
    schedule = recipes.lr_schedule()
    assert [step for step, _ in record.lrs] == list(range(30))
    assert [lr for _, lr in record.lrs] == [BASE * schedule(t) for t in range(30)]


def test_targets_move_with_the_lr_at_every_update():
    record = recipes.fit("targets", max_steps=40)
    schedule = recipes.lr_schedule()
    half = recipes.TOTAL // 2
    assert [lr for _, lr in record.lrs] == [BASE * schedule(t) for t in range(40)]
    assert [step for step, _, _ in record.targets] == list(range(40))
    for t, p, l2 in record.targets:
        assert p == pytest.approx(recipes.DROPOUT * min(t, half) / half, rel=1e-14, abs=1e-17)
        assert l2 == pytest.approx(recipes.L2 * t / recipes.TOTAL, rel=1e-14, abs=1e-20)


def test_a_plateau_scheduler_is_fed_the_monitored_metric():
    record = recipes.fit("plateau")
    # PyTorch's ReduceLROnPlateau fed the same validation losses, one per epoch
    reference = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(reference, patience=0, factor=0.5)
    factors = [1.0]
    for loss in record.val_losses:
        plateau.step(loss)
        factors.append(reference.param_groups[0]["lr"])
    updates_per_epoch = 32 // recipes.BATCH
    expected = [BASE * min(1.0, t / recipes.WARMUP) * factors[t // updates_per_epoch]
                for t in range(recipes.TOTAL)]
    assert [lr for _, lr in record.lrs] == pytest.approx(expected, rel=1e-12)
    assert min(factors) < 1.0  # it did reduce


def test_a_plateau_fed_per_step_after_each_validation():
    record = recipes.fit("plateau-per-step", max_steps=40)
    reference = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(reference, patience=0, factor=0.5)
    factors = [1.0]
    for loss in record.val_losses:  # one validation, one report, every VAL_EVERY updates
        plateau.step(loss)
        factors.append(reference.param_groups[0]["lr"])
    assert len(record.val_losses) == 40 // recipes.VAL_EVERY
    expected = [BASE * min(1.0, t / recipes.WARMUP) * factors[t // recipes.VAL_EVERY]
                for t in range(40)]
    assert [lr for _, lr in record.lrs] == pytest.approx(expected, rel=1e-12)
    assert min(factors) < 1.0


@pytest.mark.filterwarnings("default::UserWarning")
def test_a_frequency_that_changes_nothing_is_said():
    with pytest.warns(UserWarning, match=r"Lightning steps Scheduler every 2 steps \('frequency'"
                      r": 2\)\. This scheduler counts optimizer updates"):
        record = recipes.fit("every-other-step", max_steps=12)
    schedule = recipes.lr_schedule()
    assert [lr for _, lr in record.lrs] == [BASE * schedule(t) for t in range(12)]


def test_the_plateau_drop_in_is_fed_as_pytorchs_is():
    ours, theirs = recipes.fit("drop-in-plateau"), recipes.fit("torch-plateau")
    assert ours.lrs == theirs.lrs and ours.val_losses == theirs.val_losses
    assert len({lr for _, lr in ours.lrs}) > 1


@pytest.mark.parametrize("accumulate", [1, 2])
def test_a_schedule_over_the_fraction_of_training(accumulate):
    record = recipes.fit("fraction", max_steps=24, accumulate=accumulate)
    assert [lr for _, lr in record.lrs] == pytest.approx(
        [BASE * (1 + math.cos(math.pi * t / 24)) / 2 for t in range(24)], rel=1e-12)


def test_a_schedule_in_epochs_stepped_per_epoch():
    record = recipes.fit("per-epoch", max_steps=48)
    per_epoch = 32 // recipes.BATCH
    cosine = recipes.Cosine(steps=6)
    assert [lr for _, lr in record.lrs] == [BASE * cosine(t // per_epoch) for t in range(48)]


def test_the_one_cycle_drop_in_per_step():
    record = recipes.fit("drop-in-one-cycle")
    reference = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE, momentum=0.9)
    one_cycle = torch.optim.lr_scheduler.OneCycleLR(reference, max_lr=0.1,
                                                    total_steps=recipes.TOTAL)
    expected = []
    for _ in range(recipes.TOTAL):
        expected.append(reference.param_groups[0]["lr"])
        reference.step()
        one_cycle.step()
    assert [lr for _, lr in record.lrs] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("recipe", ["targets", "plateau"])  # targets: the warmup-cosine lr too
def test_a_mid_epoch_checkpoint_resumes_in_a_fresh_process(tmp_path, recipe):
    uninterrupted = recipes.fit(recipe)
    stop = 20  # not a multiple of the 8 updates per epoch
    run_example("lightning_example", "--recipe", recipe, "--max-steps", str(stop),
                "--checkpoint-every", str(stop), "--checkpoint-dir", str(tmp_path),
                record=tmp_path / "first.json")
    [checkpoint] = tmp_path.glob("*.ckpt")
    resumed = run_example("lightning_example", "--recipe", recipe, "--resume", str(checkpoint),
                          record=tmp_path / "resumed.json")
    tail = [lr for step, lr in uninterrupted.lrs if step >= stop]
    assert [step for step, _ in resumed["lrs"]] == list(range(stop, recipes.TOTAL))
    assert [lr for _, lr in resumed["lrs"]] == tail  # bit for bit
    assert resumed["targets"] == [list(row) for row in uninterrupted.targets if row[0] >= stop]
