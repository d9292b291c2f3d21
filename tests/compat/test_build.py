"""cadence.build: every kind of config, and the errors for bad ones."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import cadence
from cadence.compat import lr_scheduler as C
from cadence.schedules import Cosine, Warmup


def sgd():
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1,
                             "name": "body"},
                            {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.2,
                             "name": "head"}], momentum=0.9, weight_decay=1e-4)


def lrs(opt):
    return [g["lr"] for g in opt.param_groups]


def test_a_schedule_config_schedules_the_lr():
    opt = sgd()
    sched = cadence.build({"type": "cosine", "start": 1.0, "end": 0.0, "steps": 10}, opt)
    assert isinstance(sched, cadence.Scheduler)
    assert sched.value_at(5)["lr"] == [0.1 * Cosine(steps=10)(5), 0.2 * Cosine(steps=10)(5)]


def test_a_scheduler_config():
    opt = sgd()
    sched = cadence.build({
        "type": "scheduler",
        "lr": {"type": "warmup", "steps": 5, "schedule": {"type": "cosine", "steps": 95}},
        "momentum": {"head": {"type": "constant", "value": 0.5}},
        "weight_decay": {"type": "linear", "start": 1.0, "end": 0.0, "steps": 100},
        "absolute": ["momentum"],
        "batch_size_mode": "sqrt", "base_batch_size": 32, "count": "calls",
        "plateau": {"patience": 2, "factor": 0.5, "sync": False},
    }, opt)
    assert sched.hyperparameters == ("lr", "momentum", "weight_decay")
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.5]
    sched.step(batch_size=128)
    warm = Warmup(Cosine(steps=95), steps=5)
    assert lrs(opt) == [0.1 * warm(1) * 2.0, 0.2 * warm(1) * 2.0]
    assert sched.plateau is not None and sched.plateau.patience == 2


def test_torch_configs_nest():
    opt = sgd()
    sched = cadence.build({"type": "torch.SequentialLR", "milestones": [5], "schedulers": [
        {"type": "torch.LinearLR", "start_factor": 0.1, "total_iters": 5},
        {"type": "torch.LambdaLR", "lr_lambda": {"type": "exponential", "rate": 0.9}},
    ]}, opt)
    assert isinstance(sched, C.SequentialLR)
    values = []
    for _ in range(10):
        values.append(lrs(opt)[0])
        opt.step()
        sched.step()
    expected = [0.1 * (0.1 + 0.9 * t / 5) for t in range(5)] + [0.1 * 0.9**t for t in range(5)]
    np.testing.assert_allclose(values, expected, rtol=1e-12)
    chained = cadence.build({"type": "torch.ChainedScheduler", "schedulers": [
        {"type": "torch.ConstantLR", "factor": 0.5, "total_iters": 2},
        {"type": "torch.ExponentialLR", "gamma": 0.9}]}, sgd())
    assert isinstance(chained, C.ChainedScheduler)


def test_transformers_mmengine_d2l_and_seed000_configs(tmp_path):
    hf = cadence.build({"type": "transformers.cosine", "num_warmup_steps": 10,
                        "num_training_steps": 100, "num_cycles": 0.5}, sgd())
    assert isinstance(hf, C.LambdaLR)
    mm = cadence.build([{"type": "LinearLR", "start_factor": 0.001, "by_epoch": False,
                         "begin": 0, "end": 50},
                        {"type": "MultiStepLR", "by_epoch": True, "milestones": [8, 11]}],
                       sgd(), epoch_length=10)
    assert mm.value_at(80)["lr"][0] == pytest.approx(0.01)
    single = cadence.build({"type": "mmengine.StepLR", "step_size": 3, "by_epoch": False}, sgd())
    assert single.value_at(3)["lr"][0] == pytest.approx(0.01)
    book = cadence.build({"type": "d2l.CosineScheduler", "max_update": 20, "warmup_steps": 5,
                          "base_lr": 0.3, "final_lr": 0.01}, sgd())
    assert book.value_at(5)["lr"] == [0.3, 0.3]
    seed = cadence.build({"type": "LRScheduler", "warmup_steps": 10, "T_0": 20}, sgd())
    assert isinstance(seed, cadence.LRScheduler) and seed.T_0 == 20
    path = tmp_path / "sched.yaml"
    path.write_text("type: torch.StepLR\nstep_size: 3\ngamma: 0.5\n")
    assert isinstance(cadence.build(path, sgd()), C.StepLR)


@pytest.mark.parametrize(
    ("config", "error", "message"),
    [({"type": "torch.StepLr", "step_size": 2}, ValueError, "unknown config type 'torch.StepLr'; did you mean 'torch.StepLR'?"),
     ({"type": "torch.StepLR", "step_sise": 2}, ValueError, "unknown key 'step_sise' for config type 'torch.StepLR'; did you mean 'step_size'?"),
     ({"type": "cosin", "steps": 2}, ValueError, "unknown config type 'cosin'; did you mean 'cosine'?"),
     ({"type": "cosine", "step": 2}, ValueError, "unknown key 'step' for config type 'cosine'; did you mean 'steps'?"),
     ({"type": "d2l.CosineScheduler", "max_updates": 5}, ValueError, "unknown key 'max_updates' for config type 'd2l.CosineScheduler'; did you mean 'max_update'?"),
     ({"type": "transformers.cosine", "num_warmup_steps": 1, "num_training_steps": 9, "cycles": 1}, ValueError, "unknown keyword 'cycles' for scheduler 'cosine'"),
     ({"type": "scheduler", "lr": {"type": "cosine", "steps": 5}, "plateau": {"patiense": 1}}, ValueError, "unknown key 'patiense' for config type 'scheduler.plateau'; did you mean 'patience'?"),
     ({"steps": 3}, TypeError, "a scheduler config must be a dict with a 'type' key"),
     ({"type": "torch.LambdaLR", "lr_lambda": 3}, ValueError, "torch.LambdaLR's 'lr_lambda' must be a schedule config in a config (got 3)")],
)
def test_bad_configs_name_the_problem(config, error, message):
    with pytest.raises(error, match=re.escape(message)):
        cadence.build(config, sgd())
