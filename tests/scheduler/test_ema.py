"""EMAUpdate: AveragedModel's averaging function with a decay a Scheduler moves, against
PyTorch's own EMA function and an EMA written out here; and EMAWarmup's formula."""

from __future__ import annotations

import pytest
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

import cadence
from cadence.schedules import Constant, EMAWarmup


def model_and_optimizer(seed: int = 0) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                torch.nn.Linear(4, 1))
    return model, torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def train(model, opt, ema, steps: int, seen: list | None = None, start: int = 0) -> None:
    for i in range(steps):
        torch.manual_seed(1000 + start + i)  # the same batches, whoever trains
        x = torch.randn(16, 3)
        model(x).square().mean().backward()
        opt.step()
        opt.zero_grad()
        ema.update_parameters(model)
        if seen is not None:
            seen.append([p.detach().clone() for p in model.parameters()])


def test_a_constant_decay_averages_as_pytorchs_own_ema_bit_for_bit():
    ours_model, ours_opt = model_and_optimizer()
    torch_model, torch_opt = model_and_optimizer()
    update = cadence.EMAUpdate()
    ours = AveragedModel(ours_model, multi_avg_fn=update, use_buffers=True)
    theirs = AveragedModel(torch_model, multi_avg_fn=get_ema_multi_avg_fn(0.99), use_buffers=True)
    sched = cadence.Scheduler(ours_opt, ema_decay=Constant(0.99), absolute=True,
                              targets={"ema_decay": update})
    train(ours_model, ours_opt, ours, 12)
    train(torch_model, torch_opt, theirs, 12)
    assert sched.current_step == 12 and update.decay == 0.99
    for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()):
        assert torch.equal(a, b)  # parameters, BatchNorm's buffers and its integer counter


def test_a_warmed_up_decay_gives_the_ema_written_out_by_hand():
    model, opt = model_and_optimizer()
    update = cadence.EMAUpdate()
    ema = AveragedModel(model, multi_avg_fn=update)
    sched = cadence.Scheduler(opt, ema_decay=EMAWarmup(end=0.9, gamma=2.0, power=0.75),
                              absolute=True, targets={"ema_decay": update})
    weights: list = []
    decays = []
    for k in range(20):
        train(model, opt, ema, 1, weights, start=k)
        decays.append(update.decay)
    assert sched.current_step == 20
    expected_decays = [min(0.9, 1 - (1 + k / 2.0) ** -0.75) for k in range(1, 21)]
    assert decays == pytest.approx(expected_decays, rel=1e-15)
    average = [w.double() for w in weights[0]]  # the first update copies the model
    for d, w in zip(expected_decays[1:], weights[1:]):
        average = [d * a + (1 - d) * x.double() for a, x in zip(average, w)]
    for got, want in zip(ema.module.parameters(), average):
        torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=1e-7)


def test_the_ema_resumes_bit_identically():
    def build():
        model, opt = model_and_optimizer()
        update = cadence.EMAUpdate()
        ema = AveragedModel(model, multi_avg_fn=update)
        sched = cadence.Scheduler(opt, lr=Constant(1.0), ema_decay=EMAWarmup(end=0.95),
                                  absolute=["ema_decay"], targets={"ema_decay": update})
        return model, opt, ema, sched, update

    model, opt, ema, sched, _ = build()  # kept: a dropped scheduler moves nothing
    train(model, opt, ema, 14)
    assert sched.current_step == 14
    straight = [p.clone() for p in ema.parameters()]

    model, opt, ema, sched, _ = build()
    train(model, opt, ema, 6)
    saved = {"model": model.state_dict(), "opt": opt.state_dict(), "ema": ema.state_dict(),
             "sched": sched.state_dict()}
    saved = {k: {n: v.clone() if isinstance(v, torch.Tensor) else v for n, v in s.items()}
             if k != "opt" else s for k, s in saved.items()}
    model, opt, ema, sched, update = build()
    sched.load_state_dict(saved["sched"])  # the scheduler first this time
    model.load_state_dict(saved["model"])
    opt.load_state_dict(saved["opt"])
    ema.load_state_dict(saved["ema"])
    assert update.decay == EMAWarmup(end=0.95)(6)
    train(model, opt, ema, 8, start=6)
    for a, b in zip(ema.parameters(), straight):
        assert torch.equal(a, b)


@pytest.mark.parametrize("decay", [-0.1, 1.5, float("nan"), "0.9", None, True])
def test_a_bad_decay_is_refused_naming_it(decay):
    with pytest.raises((ValueError, TypeError), match="'decay'"):
        cadence.EMAUpdate(decay)


def test_a_decay_schedule_leaving_0_1_is_refused_before_anything_moves():
    _, opt = model_and_optimizer()
    update = cadence.EMAUpdate()
    with pytest.raises(ValueError, match=r"'ema_decay' must be a number in \[0, 1\] \(got 1.5"):
        cadence.Scheduler(opt, ema_decay=Constant(1.5), absolute=True,
                          targets={"ema_decay": update})
    assert update.decay == 0.0


def test_a_relative_decay_is_refused_naming_absolute():
    _, opt = model_and_optimizer()
    with pytest.raises(ValueError, match="target 'ema_decay' .* takes the schedule's values "
                                         "themselves: give 'ema_decay' in 'absolute'"):
        cadence.Scheduler(opt, ema_decay=EMAWarmup(end=0.999),
                          targets={"ema_decay": cadence.EMAUpdate(0.999)})


def test_ema_warmup_formula_and_where_it_reaches_its_end():
    s = EMAWarmup(end=0.999, gamma=1.0, power=2 / 3)
    for t in (0, 1, 7, 100, 31_000, 31_622, 31_623, 10**6):
        assert s(t) == pytest.approx(min(0.999, 1 - (1 + t) ** (-2 / 3)), rel=1e-15, abs=0)
    reach = s.reaches()
    assert reach == pytest.approx(1000 ** 1.5 - 1, rel=1e-12)
    assert s(reach + 1) == 0.999 and s(reach - 1) < 0.999
    with pytest.raises(ValueError, match=r"'end' must be a number in \[0, 1\)"):
        EMAWarmup(end=1.0)
