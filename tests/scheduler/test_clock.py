"""A Scheduler's clock: samples and tokens fed by the loop, lengths with units, batch ramps.

Each test checks against a formula written here: the Megatron-style ramp played by hand, the
WSD and warm-up-cosine closed forms, sums of the fed counts.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import cadence
from cadence import BatchRamp, Clock, Scheduler
from cadence.cli.task import BASE_LR, MOMENTUM, lenet, load_digits
from cadence.schedules import WSD, Cosine, Warmup

# -- Megatron-Bridge#2609: a batch ramp, warm-up and WSD decay in samples ----------------------
UPDATES, START, END, STEP, OVER = 100, 8, 16, 8, 160  # batch 8 -> 16 over the first 160 samples


def played_ramp() -> list[int]:
    """The samples consumed before each of the 100 updates, by Megatron's rule played out:
    an update's batch is start + step * floor(consumed / (over / stages)), end from ``over``."""
    stages = (END - START) // STEP
    consumed, out = 0, []
    for _ in range(UPDATES + 1):
        out.append(consumed)
        batch = END if consumed >= OVER else START + STEP * math.floor(consumed / (OVER / stages))
        consumed += batch
    return out


def wsd_closed_form(s: float, warmup: float, decay_start: float, total: float) -> float:
    """Linear warm-up to 1 over ``warmup`` samples, 1, then linear to 0 at ``total``."""
    if s < warmup:
        return s / warmup
    if s < decay_start:
        return 1.0
    return max(0.0, 1.0 - (s - decay_start) / (total - decay_start))


def test_a_batch_ramp_with_warm_up_and_decay_in_samples_on_the_built_in_task():
    positions = played_ramp()
    # the schedule in samples, from lengths given in updates: the warm-up is what the first 10
    # updates consume (10 x 8), the decay the last 20 updates (20 x 16), the total 100 updates
    warmup, decay_start, total = 10 * 8, (20 * 8 + 60 * 16), 20 * 8 + 80 * 16
    assert positions[-1] == total == 1440
    config = {"type": "scheduler",
              "clock": {"unit": "samples", "total": "100up",
                        "batch_size": {"type": "batch_ramp", "start": START, "end": END,
                                       "increment": STEP, "over": f"{OVER}sp"}},
              "lr": {"type": "wsd", "warmup_steps": "10up", "decay_steps": "80up..100up",
                     "total_steps": "1dur", "decay": "linear"}}
    data = load_digits()
    torch.manual_seed(0)
    model = lenet()
    opt = torch.optim.SGD(model.parameters(), lr=BASE_LR, momentum=MOMENTUM)
    sched = cadence.build(config, opt)
    lrs, batches, at = [], [], 0
    for _ in range(UPDATES):
        batch = int(sched.batch_size)  # the loop reads the ramp's batch size
        x, y = data.train_x[at:at + batch], data.train_y[at:at + batch]
        at = (at + batch) % (len(data.train_x) - END)
        lrs.append(opt.param_groups[0]["lr"])
        batches.append(batch)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        opt.zero_grad()
        sched.step(samples=batch)
    assert batches == [b - a for a, b in itertools.pairwise(positions)]
    assert batches[:20] == [8] * 20 and batches[20:] == [16] * 80  # stage 2 at update 20
    for k, lr in enumerate(lrs):  # every update's lr is the closed form at the samples before it
        want = BASE_LR * wsd_closed_form(positions[k], warmup, decay_start, total)
        assert lr == pytest.approx(want, rel=1e-12, abs=1e-300), k
    assert lrs[10] == BASE_LR and lrs[9] < BASE_LR  # the warm-up ends at its 80th sample
    first_decay = positions.index(decay_start)
    assert first_decay == 80 and lrs[first_decay] == BASE_LR and lrs[first_decay + 1] < BASE_LR
    assert lrs[-1] > 0 and sched.current_step == total  # the decay ends with the last update
    assert opt.param_groups[0]["lr"] == 0.0


# -- the same schedule at another batch size ---------------------------------------------------
def run_fed(feeds: list[int], clock: Clock, schedule: object) -> dict[int, float]:
    """{position: lr of the update made there} for a run fed ``feeds``."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = Scheduler(opt, lr=schedule, clock=clock)
    seen = {}
    for n in feeds:
        seen[sched.current_step] = opt.param_groups[0]["lr"]
        opt.step()
        sched.step(**{clock.unit: n})
    seen[sched.current_step] = opt.param_groups[0]["lr"]
    return seen


def warmup_cosine(t: float, warmup: float, total: float) -> float:
    t = min(t, total)  # past its end a schedule holds its end value
    return t / warmup if t < warmup else 0.5 * (1 + math.cos(math.pi * (t - warmup) /
                                                             (total - warmup)))


def test_batch_32_and_64_give_the_same_lr_at_every_shared_sample_count():
    clock = Clock("samples", total="1e4sp")
    schedule = Warmup(Cosine(steps=clock.length("0.9dur")), steps=clock.length("1000sp"))
    small = run_fed([32] * 320, clock, schedule)
    large = run_fed([64] * 160, clock, schedule)
    shared = sorted(set(small) & set(large))
    assert len(shared) == 161
    for s in shared:
        assert small[s] == large[s]  # the same bits
        assert small[s] == pytest.approx(0.1 * warmup_cosine(s, 1000, 1e4), rel=1e-12, abs=1e-16)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 4096), min_size=2, max_size=60))
def test_tokens_of_variable_batches_give_the_closed_form_at_every_count(lengths):
    clock = Clock("tokens", total=f"{sum(lengths)}tok")
    schedule = Warmup(Cosine(steps=clock.length("0.8dur")), steps=clock.length("0.2dur"))
    fine = run_fed(lengths, clock, schedule)
    # the same tokens in half as many batches: each of its positions is one of fine's
    merged = [sum(lengths[i:i + 2]) for i in range(0, len(lengths), 2)]
    coarse = run_fed(merged, clock, schedule)
    assert set(coarse) <= set(fine)
    total = sum(lengths)
    for t, lr in fine.items():
        assert lr == pytest.approx(0.1 * warmup_cosine(t, 0.2 * total, total), rel=1e-12,
                                   abs=1e-16)
        if t in coarse:
            assert coarse[t] == lr


# -- resume, mid-ramp ----------------------------------------------------------------------------
RAMP = BatchRamp(start=4, end=16, increment=4, over="240sp")


def ramp_run(stop: int | None = None, state: dict | None = None, order: str = "scheduler first",
             updates: int = 40) -> tuple[list[float], dict, dict]:
    """A small model trained ``updates`` updates on a ramp in samples; with ``stop`` it returns
    the states saved there; with ``state`` it resumes from them."""
    torch.manual_seed(0)
    model = torch.nn.Linear(6, 3)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    clock = Clock("samples", batch_size=RAMP, total="40up", scaling="sqrt", base_batch_size=16)
    schedule = WSD(warmup_steps=clock.length("5up"), decay_steps=clock.length("30up..40up"),
                   total_steps=clock.length("40up"), decay="cosine")
    start = 0
    if state is not None:
        model.load_state_dict(state["model"])
        sched = None
        if order == "scheduler first":
            sched = Scheduler(opt, lr=schedule, clock=clock)
            sched.load_state_dict(state["scheduler"])
            opt.load_state_dict(state["optimizer"])
        else:
            opt.load_state_dict(state["optimizer"])
            sched = Scheduler(opt, lr=schedule, clock=clock)
            sched.load_state_dict(state["scheduler"])
        start = state["update"]
    else:
        sched = Scheduler(opt, lr=schedule, clock=clock)
    g = torch.Generator().manual_seed(1)
    inputs = torch.randn(2000, 6, generator=g)
    lrs = []
    for k in range(updates):
        consumed = int(sched.current_step)
        batch = int(sched.batch_size)
        if k >= start:
            x = inputs[consumed % 1900:consumed % 1900 + batch]
            lrs.append(opt.param_groups[0]["lr"])
            model(x).square().mean().backward()
            opt.step()
            opt.zero_grad()
            sched.step(samples=batch)
        if stop is not None and k + 1 == stop:
            saved = {"model": model.state_dict(), "optimizer": opt.state_dict(),
                     "scheduler": sched.state_dict(), "update": stop}
            buffer = io.BytesIO()
            torch.save(saved, buffer)
            buffer.seek(0)
            return lrs, torch.load(buffer, weights_only=True), {}
    return lrs, {}, {"model": model.state_dict(), "optimizer": opt.state_dict()}


@pytest.mark.parametrize("order", ["scheduler first", "optimizer first"])
@pytest.mark.parametrize("stop", [3, 7, 13, 21, 33])
def test_a_resume_mid_ramp_is_bit_exact(stop, order):
    whole, _, end = ramp_run()
    before, state, _ = ramp_run(stop=stop)
    after, _, resumed = ramp_run(state=state, order=order)
    assert before + after == whole  # every lr, bit for bit
    for key, value in end["model"].items():
        assert torch.equal(value, resumed["model"][key])
    for a, b in zip(end["optimizer"]["state"].values(), resumed["optimizer"]["state"].values()):
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_the_ramp_and_its_batch_scaling_follow_the_samples():
    _, state, _ = ramp_run(stop=12)
    assert state["scheduler"]["steps"] == sum(
        4 + 4 * math.floor(s / 80) if s < 240 else 16 for s in played_positions(12))


def played_positions(updates: int) -> list[int]:
    out, consumed = [], 0
    for _ in range(updates):
        out.append(consumed)
        consumed += 16 if consumed >= 240 else 4 + 4 * math.floor(consumed / 80)
    return out


def test_the_batch_factor_is_the_sqrt_of_the_ramped_batch():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    clock = Clock("samples", batch_size=RAMP, scaling="sqrt", base_batch_size=16)
    sched = Scheduler(opt, lr=1.0, clock=clock)
    for s in played_positions(30):
        batch = 16 if s >= 240 else 4 + 4 * math.floor(s / 80)
        assert sched.current_step == s and sched.batch_size == batch
        assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * math.sqrt(batch / 16), rel=1e-15)
        values = sched.value_at(np.array([s]))["lr"][0, 0]
        assert values == opt.param_groups[0]["lr"]
        opt.step()
        sched.step(samples=batch)


# -- what counts ---------------------------------------------------------------------------------
def test_a_skipped_amp_updates_samples_count_with_the_next_update():
    param = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.SGD([param], lr=0.1)
    scaler = torch.amp.GradScaler("cpu")
    sched = Scheduler(opt, lr=Cosine(steps=100), clock="samples")
    seen = []
    for bad in [False, True, False, False, True]:
        loss = (param * (math.inf if bad else 1.0)).sum()
        scaler.scale(loss).backward()
        scaler.step(opt)  # skipped where the gradient is not finite
        scaler.update()
        opt.zero_grad()
        sched.step(samples=10)
        seen.append(sched.current_step)
    # the skipped update's 10 samples wait for the next real update; the last one waits still
    assert seen == [10, 10, 30, 40, 40]
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 * (1 + math.cos(math.pi * 0.4)))


def test_a_bare_step_does_not_move_a_fed_clock_and_updates_do_not_either():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = Scheduler(opt, lr=Cosine(steps=100), clock="tokens")
    for _ in range(3):
        opt.step()
        sched.step()  # a trainer's own call
    assert sched.current_step == 0 and opt.param_groups[0]["lr"] == 0.1
    sched.step(tokens=torch.tensor(25))  # one update was made since the last feed: counted
    assert sched.current_step == 25


@pytest.mark.parametrize(("clock", "call", "message"), [
    ("samples", {"tokens": 3}, "step(tokens=...) feeds a clock of tokens; this Scheduler counts samples"),
    ("updates", {"samples": 3}, "this Scheduler counts updates, which the optimizer's updates move"),
    ("samples", {"samples": -1}, "'samples' must be an int >= 0 (got -1)"),
    ("samples", {"samples": 2.5}, "'samples' must be an int >= 0, the samples of this update"),
])
def test_a_wrong_feed_is_refused_naming_it(clock, call, message):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = Scheduler(opt, lr=1.0, clock=clock)
    opt.step()
    before = sched.current_step
    with pytest.raises((ValueError, TypeError)) as caught:
        sched.step(**call)
    assert message in str(caught.value)
    assert sched.current_step == before


# -- refused before training ---------------------------------------------------------------------
@pytest.mark.parametrize(("clock", "length", "message"), [
    (Clock("updates"), "2e9tok", "'2e9tok' cannot be converted to updates: the tokens in a sample are not fixed"),
    (Clock("samples"), "10up", "'10up' cannot be converted to samples: the samples in an update are not fixed"),
    (Clock("tokens", batch_size=8), "0.8dur", "'0.8dur' is a fraction of the run, and the run's total is not given"),
    (Clock("samples", batch_size=8), "3ep", "'3ep' is in epochs, and an epoch's length is not given"),
    (Clock("samples"), "12 parsecs", "must be a length such as '500up', '1e6sp', '2e9tok', '3ep' or '0.8dur' (got '12 parsecs')"),
])
def test_a_conversion_that_the_run_does_not_define_is_refused(clock, length, message):
    with pytest.raises(ValueError) as caught:
        clock.length(length)
    assert message in str(caught.value)


def test_a_config_with_an_undefined_unit_is_refused_before_any_step():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    config = {"type": "scheduler", "clock": "tokens",
              "lr": {"type": "cosine", "steps": "1000up"}}
    with pytest.raises(ValueError) as caught:
        cadence.build(config, opt)
    assert str(caught.value).startswith("config['lr']['steps'] '1000up' cannot be converted "
                                        "to tokens: the samples in an update are not fixed")
    assert opt.param_groups[0]["lr"] == 0.1 and "initial_lr" not in opt.param_groups[0]


def test_conversions_are_exact_where_defined():
    clock = Clock("tokens", batch_size=512, tokens_per_sample=2048, epoch="1e4sp",
                  total="1e12tok")
    assert clock.length("10up") == 10 * 512 * 2048
    assert clock.length("3ep") == 3 * 1e4 * 2048
    assert clock.length("0.8dur") == 0.8e12
    assert clock.length("1e6sp") == 1e6 * 2048
    assert clock.length(123) == 123.0


def test_the_clock_is_in_the_state_and_a_different_one_is_refused():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = Scheduler(opt, lr=Cosine(steps=100), clock=Clock("samples", batch_size=4))
    opt.step()
    sched.step(samples=4)
    state = json.loads(json.dumps(sched.state_dict()))
    assert state["steps"] == 4 and state["layout"]["count"] == "samples"
    other = Scheduler(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1),
                      lr=Cosine(steps=100), clock=Clock("samples", batch_size=8))
    with pytest.raises(ValueError, match="clock"):
        other.load_state_dict(state)


def test_the_shorthands_and_a_clock_are_not_mixed():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="give the clock's settings in 'clock' only: count"):
        Scheduler(opt, lr=1.0, clock="samples", count="calls")


# -- two ranks, uneven token counts ---------------------------------------------------------------
WORKER = Path(__file__).with_name("clock_worker.py")


def test_two_ranks_feeding_uneven_tokens_agree_on_the_clock(tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    run = subprocess.run([str(torchrun), "--nproc_per_node=2", "--master_port",
                          str(free_port()), str(WORKER), str(tmp_path)],
                         capture_output=True, text=True, timeout=300, env={**os.environ})
    assert run.returncode == 0, run.stderr[-3000:]
    seen = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    feeds = [[(7 + 3 * k + 5 * r) % 11 + 1 for k in range(12)] for r in range(2)]
    totals = np.cumsum([a + b for a, b in zip(*feeds)]).tolist()
    for r in range(2):
        assert seen[r]["positions"] == totals  # every rank: the sum of both ranks' tokens
        assert seen[r]["lrs"] == seen[0]["lrs"]
    for t, lr in zip(totals, seen[0]["lrs"]):
        assert lr == pytest.approx(0.1 * 0.5 * (1 + math.cos(math.pi * min(t, 200) / 200)),
                                   rel=1e-12, abs=1e-16)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
