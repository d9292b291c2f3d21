"""cadence.LRScheduler: seed 000's class, its values, its attributes, its defects fixed."""

from __future__ import annotations

import inspect
import io
import re

import numpy as np
import pytest
import torch
from seed000_reference import SeedLRScheduler

import cadence
from cadence import LRScheduler


def create_model():
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))


def create_optimizer(model):
    return torch.optim.Adam([
        {"params": model[0].parameters(), "lr": 0.001},
        {"params": model[1].parameters(), "lr": 0.002},
        {"params": model[2].parameters(), "lr": 0.003},
    ])


def lrs(opt):
    return [g["lr"] for g in opt.param_groups]


def late_halving(step):
    return 1.0 if step < 500 else max(0.5, 1 - (step - 500) * 1e-3)


CONFIGS = [
    {},
    {"warmup_steps": 200, "T_0": 100, "gamma": 0.9},
    {"warmup_type": "cosine", "warmup_steps": 30, "T_0": 17, "T_mult": 1},
    {"batch_size_mode": "linear", "T_0": 50, "T_mult": 3, "eta_scal_min": 0.1,
     "eta_scal_max": 1.0},
    {"batch_size_mode": "blend", "warmup_scale_min": 0.0, "warmup_steps": 10},
    {"custom_lambda": late_halving, "base_batch_size": 32, "gamma": 1.0},
]
BATCHES = [None, 128, 32, 64, 256, None, 1]


@pytest.mark.parametrize("config", CONFIGS, ids=[str(c) for c in CONFIGS])
def test_same_values_as_the_seed_step_by_step(config):
    theirs_opt, ours_opt = create_optimizer(create_model()), create_optimizer(create_model())
    theirs = SeedLRScheduler(theirs_opt, **config)
    ours = LRScheduler(ours_opt, **config)
    for k in range(1500):
        batch = BATCHES[k % len(BATCHES)]
        theirs.step(batch)
        ours.step(batch)
        assert lrs(ours_opt) == pytest.approx(lrs(theirs_opt), rel=1e-12)
        assert (ours.global_step, ours.cycle, ours.T_i, ours.T_cur) == (
            theirs.global_step, theirs.cycle, theirs.T_i, theirs.T_cur)
        assert ours.lr_scale == pytest.approx(theirs.lr_scale, rel=1e-12)
    assert ours.base_lrs == theirs.base_lrs
    assert ours.eta_min_lrs == pytest.approx(theirs.eta_min_lrs)
    assert ours.eta_max_lrs == pytest.approx(theirs.eta_max_lrs)


def test_defaults_are_the_seeds():
    expected = {"warmup_steps": 100, "warmup_scale_min": 0.05, "warmup_type": "linear",
                "T_0": 200, "T_mult": 2, "eta_scal_min": 0.2, "eta_scal_max": 2.0,
                "gamma": 0.97, "base_batch_size": 64, "batch_size_mode": "sqrt",
                "custom_lambda": None}
    params = inspect.signature(LRScheduler).parameters
    assert list(params) == ["optimizer", *expected]
    assert {n: p.default for n, p in params.items() if n != "optimizer"} == expected


def test_construction_writes_the_warmup_start():
    opt = create_optimizer(create_model())
    LRScheduler(opt)
    # eta_scal_min + (eta_scal_max - eta_scal_min) * warmup_scale_min = 0.29 of the base
    assert lrs(opt) == pytest.approx([0.00029, 0.00058, 0.00087])


def test_is_a_scheduler_and_a_torch_lr_scheduler():
    sched = LRScheduler(create_optimizer(create_model()))
    assert isinstance(sched, cadence.Scheduler)
    assert isinstance(sched, torch.optim.lr_scheduler.LRScheduler)


def snapshot(opt, sched):
    return [dict((k, v) for k, v in g.items() if k != "params") for g in opt.param_groups], \
        sched.state_dict()


def test_plot_changes_nothing_and_writes_a_file(tmp_path):
    opt = create_optimizer(create_model())
    sched = LRScheduler(opt, warmup_steps=20, T_0=30)
    for _ in range(25):
        sched.step(128)
    before = snapshot(opt, sched)
    fig = sched.plot(300, batch_size=128)
    assert snapshot(opt, sched) == before
    top, bottom = fig.axes
    assert len(top.lines) == 3 and len(bottom.lines) == 1
    x, y = top.lines[1].get_data()
    assert x[0] == 26 and len(x) == 300
    expected = sched.value_at(np.arange(26, 326), batch_size=128)["lr"][:, 1]
    np.testing.assert_array_equal(y, expected)
    path = sched.plot(100, path=tmp_path / "lr.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sched.plot(50, path=tmp_path / "lr.svg").read_text().lstrip().startswith("<?xml")
    assert snapshot(opt, sched) == before
    twin_opt = create_optimizer(create_model())
    twin = LRScheduler(twin_opt, warmup_steps=20, T_0=30)
    for _ in range(25):
        twin.step(128)
    for _ in range(50):
        sched.step(64)
        twin.step(64)
        assert lrs(opt) == lrs(twin_opt)


@pytest.mark.parametrize("order", ["optimizer first", "scheduler first", "scheduler only"])
def test_resume_in_any_order(order):
    def run(opt, sched, steps, start):
        out = []
        for k in range(start, start + steps):
            sched.step(BATCHES[k % len(BATCHES)])
            out.append(lrs(opt))
        return out

    opt = create_optimizer(create_model())
    sched = LRScheduler(opt, warmup_steps=50, T_0=40, gamma=0.9)
    run(opt, sched, 150, 0)
    buffer = io.BytesIO()
    torch.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, buffer)
    expected = run(opt, sched, 300, 150)
    buffer.seek(0)
    ckpt = torch.load(buffer, weights_only=True)
    opt2 = create_optimizer(create_model())
    if order == "optimizer first":
        opt2.load_state_dict(ckpt["optimizer"])  # lrs are the scheduled ones now
        sched2 = LRScheduler(opt2, warmup_steps=50, T_0=40, gamma=0.9)
        sched2.load_state_dict(ckpt["scheduler"])
    elif order == "scheduler first":
        sched2 = LRScheduler(opt2, warmup_steps=50, T_0=40, gamma=0.9)
        sched2.load_state_dict(ckpt["scheduler"])
        opt2.load_state_dict(ckpt["optimizer"])
    else:
        sched2 = LRScheduler(opt2, warmup_steps=50, T_0=40, gamma=0.9)
        sched2.load_state_dict(ckpt["scheduler"])
    assert sched2.base_lrs == [0.001, 0.002, 0.003]
    assert run(opt2, sched2, 300, 150) == expected


def test_a_state_with_other_settings_is_refused():
    sched = LRScheduler(create_optimizer(create_model()), T_0=40)
    other = LRScheduler(create_optimizer(create_model()), T_0=50)
    with pytest.raises(ValueError, match="saved with a different schedule.*'T_0': 40"):
        other.load_state_dict(sched.state_dict())


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [({"T_0": 0}, ValueError, "'T_0' must be a positive int (got 0)"),
     ({"T_0": 2.5}, TypeError, "'T_0' must be a positive int (got 2.5)"),
     ({"T_mult": 0}, ValueError, "'T_mult' must be a positive int (got 0)"),
     ({"batch_size_mode": "cubic"}, ValueError, "'batch_size_mode' must be one of 'linear', 'sqrt', 'blend' (got 'cubic')"),
     ({"warmup_type": "exp"}, ValueError, "'warmup_type' must be one of 'linear', 'cosine' (got 'exp')"),
     ({"gamma": -1}, ValueError, "'gamma' must be a positive number (got -1)"),
     ({"warmup_steps": -1}, ValueError, "'warmup_steps' must be an int >= 0 (got -1)"),
     ({"warmup_scale_min": 1.5}, ValueError, "'warmup_scale_min' must be a number in [0, 1] (got 1.5)"),
     ({"eta_scal_min": -0.1}, ValueError, "'eta_scal_min' must be a number >= 0 (got -0.1)"),
     ({"eta_scal_max": 0.1}, ValueError, "'eta_scal_max' must be >= 'eta_scal_min' (0.2) (got 0.1)"),
     ({"base_batch_size": 0}, ValueError, "'base_batch_size' must be a positive int (got 0)"),
     ({"custom_lambda": 3}, TypeError, "'custom_lambda' must be callable or None (got 3)")],
)
def test_every_argument_is_validated(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        LRScheduler(create_optimizer(create_model()), **kwargs)


def test_batch_size_must_be_positive():
    sched = LRScheduler(create_optimizer(create_model()))
    with pytest.raises(ValueError, match=re.escape("'batch_size' must be a positive number (got 0)")):
        sched.step(0)


def test_no_warmup():
    opt = create_optimizer(create_model())
    sched = LRScheduler(opt, warmup_steps=0, T_0=10, T_mult=1)
    assert lrs(opt) == pytest.approx([0.002, 0.004, 0.006])  # the top of the first cycle
    for _ in range(10):
        sched.step()
    assert sched.cycle == 1 and sched.T_cur == 0
    top = 0.2 + 1.8 * 0.97  # eta_scal_min + (eta_scal_max - eta_scal_min) * gamma
    assert lrs(opt) == pytest.approx([0.001 * top, 0.002 * top, 0.003 * top], rel=1e-12)


def test_visualize_optimizer_param_groups(capsys):
    model = create_model()
    extra = torch.nn.Linear(1, 1)
    model.append(extra)
    opt = create_optimizer(model)
    LRScheduler.visualize_optimizer_param_groups(model, opt)
    out = capsys.readouterr().out
    assert "Param Group 0:" in out and "Param Group 2:" in out
    assert "lr: 0.002" in out and "weight_decay: 0" in out
    assert "0.weight" in out and "shape: (3, 4)" in out and "2.bias" in out
    assert "Parameters in no group:" in out and "3.weight" in out


# The seed's test script, with only the import changed (it defines LRScheduler by copying the
# class; here it imports it). Steps are recorded to compare the resumed run.
SEED_SCRIPT = '''
import torch
from cadence import LRScheduler

RECORD = []

def create_model():
    model_A = torch.nn.Linear(4, 3)
    model_B = torch.nn.Linear(3, 2)
    model_C = torch.nn.Linear(2, 1)
    return torch.nn.Sequential(model_A, model_B, model_C)

def create_optimizer(model):
    return torch.optim.Adam([
        {"params": model[0].parameters(), "lr": 0.001},
        {"params": model[1].parameters(), "lr": 0.002},
        {"params": model[2].parameters(), "lr": 0.003},
    ])

def train_and_save(model, optimizer, scheduler, steps=300, save_step=150, ckpt_path="scheduler_ckpt.pth"):
    for step in range(steps):
        scheduler.step(batch_size=128)
        RECORD.append([g["lr"] for g in optimizer.param_groups])
        if step == save_step:
            torch.save({
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
            }, ckpt_path)
            print(f"Checkpoint saved at step {step}")
    print(f"Final scheduler state: step={scheduler.global_step}, cycle={scheduler.cycle}, T_cur={scheduler.T_cur}")

def load_and_resume(ckpt_path="scheduler_ckpt.pth"):
    model = create_model()
    optimizer = create_optimizer(model)
    scheduler = LRScheduler(optimizer, warmup_steps=200, T_0=100, gamma=0.9)
    checkpoint = torch.load(ckpt_path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    print(f"Scheduler restored: step={scheduler.global_step}, cycle={scheduler.cycle}, T_cur={scheduler.T_cur}")
    return model, optimizer, scheduler

def custom_schedule_fn(step: int) -> float:
    return 1.0

checkpoint_path = "scheduler_ckpt.pth"
model = create_model()
optimizer = create_optimizer(model)
scheduler = LRScheduler(optimizer, warmup_steps=200, T_0=100, gamma=0.9, custom_lambda=custom_schedule_fn)
train_and_save(model, optimizer, scheduler, steps=300, save_step=150, ckpt_path=checkpoint_path)
model_restored, optimizer_restored, scheduler_restored = load_and_resume(checkpoint_path)
for i, group in enumerate(optimizer.param_groups):
    print(f"Param group {i} learning rate: {group['lr']}")
scheduler = LRScheduler(optimizer, base_batch_size=64)
for _ in range(0):
    current_batch_size = 128
    scheduler.step(current_batch_size)
scheduler.visualize_optimizer_param_groups(model, optimizer)
scheduler.plot(3000)
'''


def test_the_seeds_script_runs_and_resumes_exactly(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "seed_script"}
    exec(compile(SEED_SCRIPT, "seed_000_test_script", "exec"), namespace)
    out = capsys.readouterr().out
    assert "Checkpoint saved at step 150" in out
    assert "Scheduler restored: step=151, cycle=0, T_cur=0" in out
    resumed_opt, resumed = namespace["optimizer_restored"], namespace["scheduler_restored"]
    record = namespace["RECORD"]
    assert lrs(resumed_opt) == record[150]
    for k in range(151, 300):
        resumed.step(batch_size=128)
        assert lrs(resumed_opt) == record[k]
    # the scheduler built afterwards on the trained optimizer took the real base lrs
    assert namespace["scheduler"].base_lrs == [0.001, 0.002, 0.003]


def test_its_name_says_what_it_does_and_the_old_name_still_works():
    assert cadence.WarmRestartScheduler is LRScheduler is cadence.compat.LRScheduler
    assert cadence.compat.WarmRestartScheduler is LRScheduler
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    for kind in ("WarmRestartScheduler", "LRScheduler"):
        built = cadence.build({"type": kind, "warmup_steps": 10, "T_0": 20}, opt)
        assert type(built) is cadence.WarmRestartScheduler
        assert (built.warmup_steps, built.T_0) == (10, 20)
