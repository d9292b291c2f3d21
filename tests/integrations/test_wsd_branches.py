"""WSD by branching: cool-downs branched from checkpoints of one warm-up-then-stable run are the
WSD runs trained from scratch with that decay start, bit for bit.

On the built-in task (scikit-learn's digits, the LeNet of ``cadence demo``), on one thread with
fixed seeds: a single run that never decays (a linear warm-up, then a constant lr) saves
checkpoints (model, optimizer, scheduler) at 25%, 50% and 75% of 30 epochs. From each, a fresh
model, optimizer and ``Scheduler`` built with that same warm-up-then-stable schedule load the
checkpoint, ``sched.anneal(total - at, shape=...)`` branches the decay, and training goes on to
the end. Each such run equals the run trained from scratch under
``WSD(warmup_steps=W, stable_steps=at - W, decay_steps=total - at, decay=shape)``:
``torch.equal`` on every parameter and every optimizer state tensor, and the same lr at every
update. The data order is a function of (seed, epoch) and the loop is indexed by the update, so
a run resumed in the middle of an epoch sees the batches an uninterrupted run sees. The
scheduler's state is loaded before the optimizer's at some points and after it at others, and a
checkpoint taken inside the cool-down, loaded by a scheduler built again with the original
schedule, resumes the branch bit for bit too.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn

import cadence
from cadence.cli.task import lenet, load_digits
from cadence.schedules import WSD, Constant, Linear, Schedule, join

EPOCHS, BATCH, LR, SEED = 30, 64, 2e-3, 0
POINTS = (0.25, 0.50, 0.75)  # where the stable phase ends, as a fraction of the run
SHAPES = ("linear", "cosine", "1-sqrt")  # the decay of each point's branch, in that order
SCHEDULER_FIRST = (True, False, True)  # load the scheduler's state before the optimizer's?


@pytest.fixture(scope="module")
def task():
    """The digits' training images and labels, and the run's lengths (in updates)."""
    data = load_digits()
    per_epoch = math.ceil(len(data.train_x) / BATCH)  # 22 batches of 64 (the last one 3)
    total = EPOCHS * per_epoch
    return data, per_epoch, total


@pytest.fixture(autouse=True)
def one_thread():
    """One thread: the same reductions in the same order in every run."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def stable(warmup: int) -> Schedule:
    """The run that never decays: a linear warm-up over ``warmup`` updates, then 1."""
    return join([Linear(start=0.0, end=1.0, steps=warmup), Constant(1.0)], [warmup])


def fresh(schedule: Schedule) -> tuple[nn.Module, torch.optim.Optimizer, cadence.Scheduler]:
    """A model with the seed's initial weights, AdamW (state: step, both moments), and a
    Scheduler of the lr."""
    torch.manual_seed(SEED)
    model = lenet()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    return model, optimizer, cadence.Scheduler(optimizer, lr=schedule)


def train(task, model, optimizer, sched, start: int, stop: int, lrs: dict[int, float],
          save: dict[int, Path] | None = None) -> None:
    """Updates ``start`` to ``stop - 1``; the lr of each in ``lrs``; a checkpoint (model,
    optimizer and scheduler) to ``save[step]`` before the update of each step in ``save``."""
    data, per_epoch, _ = task
    loss_fn = nn.CrossEntropyLoss()
    order, epoch_of_order = None, -1
    assert sched.current_step == start
    for step in range(start, stop):
        if save and step in save:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": sched.state_dict()}, save[step])
        epoch, batch = divmod(step, per_epoch)
        if epoch != epoch_of_order:  # the epoch's shuffle: a function of (seed, epoch)
            generator = torch.Generator().manual_seed(SEED * 10_007 + epoch)
            order, epoch_of_order = torch.randperm(len(data.train_x), generator=generator), epoch
        index = order[batch * BATCH:(batch + 1) * BATCH]
        lrs[step] = optimizer.param_groups[0]["lr"]
        optimizer.zero_grad()
        loss_fn(model(data.train_x[index]), data.train_y[index]).backward()
        optimizer.step()
        sched.step()
    assert sched.current_step == stop


def resume(path: Path, schedule: Schedule, scheduler_first: bool):
    """A fresh model, optimizer and Scheduler(lr=schedule) with the checkpoint loaded."""
    model, optimizer, sched = fresh(schedule)
    saved = torch.load(path, weights_only=True)
    model.load_state_dict(saved["model"])
    if scheduler_first:
        sched.load_state_dict(saved["scheduler"])
        optimizer.load_state_dict(saved["optimizer"])
    else:
        optimizer.load_state_dict(saved["optimizer"])
        sched.load_state_dict(saved["scheduler"])
    return model, optimizer, sched


def assert_same(a: tuple[nn.Module, torch.optim.Optimizer], b: tuple[nn.Module,
                torch.optim.Optimizer], what: str) -> None:
    """Bit for bit: every parameter, every optimizer state tensor, every group's settings."""
    (model_a, opt_a), (model_b, opt_b) = a, b
    params_a, params_b = dict(model_a.named_parameters()), dict(model_b.named_parameters())
    assert params_a.keys() == params_b.keys()
    for name, p in params_a.items():
        assert torch.equal(p, params_b[name]), f"{what}: parameter {name} differs"
    state_a, state_b = opt_a.state_dict(), opt_b.state_dict()
    assert state_a["state"].keys() == state_b["state"].keys() and len(state_a["state"]) == \
        len(params_a)
    for index, slots in state_a["state"].items():
        other = state_b["state"][index]
        assert slots.keys() == other.keys() == {"step", "exp_avg", "exp_avg_sq"}
        for key, tensor in slots.items():
            assert torch.equal(tensor, other[key]), f"{what}: optimizer {index}.{key} differs"
    assert state_a["param_groups"] == state_b["param_groups"], what


def test_wsd_branched_from_stable_checkpoints_equals_wsd_from_scratch(task, tmp_path):
    _, per_epoch, total = task
    warmup = 3 * per_epoch
    points = [round(f * total) for f in POINTS]
    assert points == [165, 330, 495] and all(warmup < at for at in points)
    assert points[0] % per_epoch and points[2] % per_epoch  # 7.5 and 22.5 epochs: mid-epoch

    # the single run that never decays, to 75%, saving at each point
    base_lrs: dict[int, float] = {}
    saves = {at: tmp_path / f"stable-{at}.pt" for at in points}
    model, optimizer, sched = fresh(stable(warmup))
    train(task, model, optimizer, sched, 0, points[-1] + 1, base_lrs, saves)
    assert all(base_lrs[s] == LR for s in range(warmup, points[-1] + 1))  # never decays

    finals = []
    for at, shape, scheduler_first in zip(points, SHAPES, SCHEDULER_FIRST):
        what = f"cool-down ({shape}) from {at}"
        # branched: the checkpoint, a cool-down from there to the end
        lrs = {s: base_lrs[s] for s in range(at)}
        model, optimizer, sched = resume(saves[at], stable(warmup), scheduler_first)
        assert sched.current_step == at and optimizer.param_groups[0]["lr"] == LR
        sched.anneal(total - at, shape=shape)
        inside = at + (total - at) // 2 + 5  # a checkpoint inside the cool-down (mid-epoch)
        inside_save = {inside: tmp_path / f"{shape}-{inside}.pt"}
        train(task, model, optimizer, sched, at, total, lrs, inside_save)
        branched = (model, optimizer)

        # from scratch: WSD with its decay starting at `at`
        scratch_lrs: dict[int, float] = {}
        wsd = WSD(warmup_steps=warmup, stable_steps=at - warmup, decay_steps=total - at,
                  decay=shape)
        model, optimizer, sched = fresh(wsd)
        train(task, model, optimizer, sched, 0, total, scratch_lrs)
        assert lrs == scratch_lrs, what
        assert lrs[at - 1] == lrs[at] == LR and 0.0 < lrs[total - 1] < 0.1 * LR, what
        assert_same(branched, (model, optimizer), what)
        assert optimizer.param_groups[0]["lr"] == 0.0  # the decay's end, after the last update

        # resumed again, from inside the cool-down, by a scheduler built with the original
        # schedule: the state holds the branch
        again = dict(lrs)
        model, optimizer, sched = resume(inside_save[inside], stable(warmup),
                                         not scheduler_first)
        assert optimizer.param_groups[0]["lr"] == lrs[inside]
        train(task, model, optimizer, sched, inside, total, again)
        assert again == lrs, what
        assert_same(branched, (model, optimizer), f"{what}, resumed at {inside}")
        finals.append(branched[0])

    # the three branches are three different runs (the test compares something)
    weights = [m[-1].weight for m in finals]
    assert not torch.equal(weights[0], weights[1]) and not torch.equal(weights[1], weights[2])
