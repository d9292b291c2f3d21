"""The LR range test: the sweep, smoothing, stopping, suggestions, exact restoration, plots."""

from __future__ import annotations

import copy
import math
import random
import re

import numpy as np
import pytest
import torch
from figures import kinds_without_a_legend_entry
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional as F

from cadence.scheduler import Scheduler
from cadence.schedules import Cosine
from cadence.tools.find_lr import (
    LRFinderResult,
    NoSuggestion,
    Suggestion,
    find_lr,
    lowest,
    suggest,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # tiny models: one thread is fastest, and spares a busy machine the threads' contention
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# -- a small deterministic task ----------------------------------------------------------------
def classification(n=512, batch=64, features=8, classes=3):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, features, generator=g)
    y = (x @ torch.randn(features, classes, generator=g)).argmax(1)
    return [(x[i:i + batch], y[i:i + batch]) for i in range(0, n, batch)]


def regression(n=256, batch=32):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, 4, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.1 * torch.randn(n, 1, generator=g)
    return [(x[i:i + batch], y[i:i + batch]) for i in range(0, n, batch)]


def mlp(dropout=0.0):
    """Linear -> BatchNorm -> ReLU (-> Dropout) -> Linear, the same weights every time, built
    without touching the global random generator."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        layers = [torch.nn.Linear(8, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU()]
        if dropout:
            layers.append(torch.nn.Dropout(dropout))
        return torch.nn.Sequential(*layers, torch.nn.Linear(16, 3))


def linear():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return torch.nn.Linear(4, 1)


def sgd(model, lr=0.1):
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def geometric(start, end, n):
    return [start * (end / start) ** (i / (n - 1)) for i in range(n)]


def fastai_valley(losses):
    """fastai's ``valley`` (fastai/callback/schedule.py), written out: the index it picks."""
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    return max_start + int(sections) + int(sections / 2)


def window(m):
    """The points the rules look at, for a finite curve of ``m`` points (see ``suggest``)."""
    return m // 10, m - min(5, m // 10)


# -- the sweep -------------------------------------------------------------------------------
def test_exp_sweep_is_geometric():
    model = mlp()
    result = find_lr(model, sgd(model), F.cross_entropy, classification(),
                     start_lr=1e-5, end_lr=1e-2, num_iter=40)
    assert not result.stopped_early
    assert result.lrs == pytest.approx(geometric(1e-5, 1e-2, 40), rel=1e-12, abs=0)
    assert result.lrs[0] == 1e-5 and result.lrs[-1] == pytest.approx(1e-2, rel=1e-15)


def test_linear_sweep_is_linear():
    model = mlp()
    result = find_lr(model, sgd(model), F.cross_entropy, classification(),
                     start_lr=1e-4, end_lr=0.05, num_iter=25, mode="linear")
    expected = [1e-4 + (0.05 - 1e-4) * i / 24 for i in range(25)]
    assert result.lrs == pytest.approx(expected, rel=1e-12, abs=0)


def test_every_group_gets_the_sweep_tensor_lrs_included():
    model = mlp()
    first, last = list(model.parameters())[:2], list(model.parameters())[2:]
    lr = torch.tensor(0.3)
    optimizer = torch.optim.SGD([{"params": first}, {"params": last, "lr": lr}], lr=0.1)
    seen = []
    handle = optimizer.register_step_pre_hook(
        lambda opt, args, kwargs: seen.append([float(g["lr"]) for g in opt.param_groups]))
    result = find_lr(model, optimizer, F.cross_entropy, classification(),
                     start_lr=1e-4, end_lr=1e-2, num_iter=12)
    handle.remove()
    assert [a for a, _ in seen] == result.lrs  # the lr of group 0, as used by each update
    assert [b for _, b in seen] == pytest.approx(result.lrs, rel=1e-7)  # float32 tensor lr
    assert result.lrs == pytest.approx(geometric(1e-4, 1e-2, 12), rel=1e-12)
    assert optimizer.param_groups[1]["lr"] is lr and lr.item() == pytest.approx(0.3)


def test_losses_are_the_losses_of_the_updates():
    model, data = mlp(), classification()
    twin = copy.deepcopy(model).train()
    result = find_lr(model, sgd(model), F.cross_entropy, data, start_lr=1e-4, end_lr=1e-2,
                     num_iter=10)
    assert result.losses[0] == pytest.approx(F.cross_entropy(twin(data[0][0]), data[0][1]).item(),
                                             rel=1e-6)


def test_smoothing_is_a_bias_corrected_moving_average():
    model = mlp()
    result = find_lr(model, sgd(model), F.cross_entropy, classification(), start_lr=1e-4,
                     end_lr=0.1, num_iter=30, smoothing=0.9)
    avg, expected = 0.0, []
    for i, loss in enumerate(result.losses):
        avg = 0.9 * avg + 0.1 * loss
        expected.append(avg / (1 - 0.9 ** (i + 1)))
    assert result.smoothed == pytest.approx(expected, rel=1e-12, abs=0)
    assert result.smoothed[0] == pytest.approx(result.losses[0], rel=1e-12)

    raw = find_lr(model, sgd(model), F.cross_entropy, classification(), start_lr=1e-4,
                  end_lr=0.1, num_iter=30, smoothing=0.0)
    assert raw.smoothed == raw.losses


def test_stops_when_the_loss_explodes():
    model = linear()
    result = find_lr(model, sgd(model), F.mse_loss, regression(), start_lr=1e-4, end_lr=100.0,
                     num_iter=100)
    assert result.stopped_early
    assert 10 < len(result.lrs) < 100
    assert "exceeded 4 x the best" in result.reason or "not finite" in result.reason
    s = result.smoothed
    # it stopped at the first update past four times the best, or not finite
    assert not math.isfinite(s[-1]) or s[-1] > 4 * min(s[:-1])
    assert all(s[k] <= 4 * min(s[:k + 1]) for k in range(len(s) - 1))
    assert len(result.lrs) == len(result.losses) == len(result.smoothed)


def test_a_lower_diverge_stops_sooner():
    model = linear()
    kwargs = dict(start_lr=1e-4, end_lr=100.0, num_iter=100)
    strict = find_lr(model, sgd(model), F.mse_loss, regression(), diverge=1.5, **kwargs)
    loose = find_lr(model, sgd(model), F.mse_loss, regression(), **kwargs)
    assert strict.stopped_early and len(strict.lrs) <= len(loose.lrs)
    assert strict.smoothed[-1] > 1.5 * min(strict.smoothed[:-1])


def test_runs_to_the_end_when_the_loss_does_not_explode():
    model = mlp()
    result = find_lr(model, sgd(model), F.cross_entropy, classification(), start_lr=1e-5,
                     end_lr=1e-3, num_iter=30)
    assert not result.stopped_early
    assert len(result.lrs) == 30
    assert result.reason == "ran all 30 updates; the loss did not explode"


def test_negative_losses_do_not_count_as_exploding():
    model = mlp()

    def shifted(output, target):
        return F.cross_entropy(output, target) - 10.0

    result = find_lr(model, sgd(model), shifted, classification(), start_lr=1e-5, end_lr=1e-3,
                     num_iter=20)
    assert not result.stopped_early and max(result.smoothed) < 0


def test_data_is_iterated_again_when_it_runs_out():
    model, data = mlp(), classification()[:3]
    seen = []

    def loss_fn(output, target):
        seen.append(target)
        return F.cross_entropy(output, target)

    find_lr(model, sgd(model), loss_fn, data, start_lr=1e-5, end_lr=1e-4, num_iter=7)
    assert [t.data_ptr() for t in seen] == [data[i % 3][1].data_ptr() for i in range(7)]


def test_an_iterator_that_runs_out_is_an_error():
    model = mlp()
    optimizer = sgd(model)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match="'data' must yield .* cannot be iterated again"):
        find_lr(model, optimizer, F.cross_entropy, iter(classification()[:2]), num_iter=5)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


# -- exact restoration -----------------------------------------------------------------------
def setup(kind):
    """A model with BatchNorm, Adam with two groups (one with a tensor lr) after three real
    updates, and a scheduler of ``kind``; the model left in eval mode with gradients."""
    model, data = mlp(), classification()
    params = list(model.parameters())
    optimizer = torch.optim.Adam([{"params": params[:2]},
                                  {"params": params[2:], "lr": torch.tensor(0.002)}],
                                 lr=0.001, foreach=False)
    if kind == "cadence":
        scheduler = Scheduler(optimizer, lr=Cosine(start=1.0, end=0.1, steps=20))
    elif kind == "steplr":
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    else:
        scheduler = None
    for inputs, targets in data[:3]:
        F.cross_entropy(model(inputs), targets).backward()
        optimizer.step()
        optimizer.zero_grad()
        if scheduler is not None:
            scheduler.step()
    # one more update the scheduler has not been told of yet, and fresh gradients
    F.cross_entropy(model(data[3][0]), data[3][1]).backward()
    optimizer.step()
    F.cross_entropy(model(data[4][0]), data[4][1]).backward()
    model.eval()
    return model, optimizer, scheduler, data


def capture(model, optimizer, scheduler):
    return {
        "params": [p.detach().clone() for p in model.parameters()],
        "grads": [p.grad.clone() for p in model.parameters()],
        "buffers": {k: b.clone() for k, b in model.named_buffers()},
        "training": [m.training for m in model.modules()],
        "groups": [{k: copy.deepcopy(v) for k, v in g.items() if k != "params"}
                   for g in optimizer.param_groups],
        "group_params": [list(g["params"]) for g in optimizer.param_groups],
        "state": {id(p): {k: copy.deepcopy(v) for k, v in s.items()}
                  for p, s in optimizer.state.items()},
        "state_objects": {id(p): (s, dict(s)) for p, s in optimizer.state.items()},
        "lr_objects": [g["lr"] for g in optimizer.param_groups],
        "scheduler": None if scheduler is None else copy.deepcopy(scheduler.state_dict()),
        "last_epoch": None if scheduler is None else scheduler.last_epoch,
        "opt_called": vars(optimizer).get("_opt_called", "missing"),
        "rng": (random.getstate(), np.random.get_state(), torch.get_rng_state()),
    }


def same(a, b):
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                and a.dtype == b.dtype and torch.equal(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def assert_restored(before, model, optimizer, scheduler):
    after = capture(model, optimizer, scheduler)
    for key in ("params", "grads", "buffers", "training", "groups", "state", "scheduler",
                "last_epoch", "opt_called"):
        assert same(before[key], after[key]), key
    assert all(a is b for ga, gb in zip(before["group_params"], after["group_params"])
               for a, b in zip(ga, gb))
    assert all(a is b for a, b in zip(before["lr_objects"], after["lr_objects"]))
    for key, (entry, items) in before["state_objects"].items():  # same dicts, same tensors
        assert after["state_objects"][key][0] is entry
        assert all(after["state_objects"][key][1][k] is v for k, v in items.items())
    python, numpy, torch_cpu = before["rng"]
    assert random.getstate() == python
    assert all(same(a, b) for a, b in zip(np.random.get_state(), numpy))
    assert torch.equal(torch.get_rng_state(), torch_cpu)


@pytest.mark.parametrize("kind", [None, "cadence", "steplr"])
def test_everything_is_restored_exactly(kind):
    model, optimizer, scheduler, data = setup(kind)
    before = capture(model, optimizer, scheduler)
    assert before["state"] and before["scheduler"] != {}
    result = find_lr(model, optimizer, F.cross_entropy, data, start_lr=1e-4, end_lr=10.0,
                     num_iter=60, scheduler=scheduler, seed=3)
    assert len(result.lrs) > 20  # it did train
    assert_restored(before, model, optimizer, scheduler)
    assert "initial_lr" in optimizer.param_groups[0] or kind is None


@pytest.mark.parametrize("kind", [None, "cadence", "steplr"])
def test_training_goes_on_as_if_nothing_happened(kind):
    """Three more updates after find_lr give bit for bit what they give without it."""
    runs = []
    for with_finder in (False, True):
        model, optimizer, scheduler, data = setup(kind)
        if with_finder:
            find_lr(model, optimizer, F.cross_entropy, data, start_lr=1e-4, end_lr=10.0,
                    num_iter=40, scheduler=scheduler)
        model.train()
        lrs = []
        for inputs, targets in data[5:8]:
            F.cross_entropy(model(inputs), targets).backward()
            optimizer.step()
            optimizer.zero_grad()
            if scheduler is not None:
                scheduler.step()
            lrs.append([float(g["lr"]) for g in optimizer.param_groups])
        runs.append(([p.detach().clone() for p in model.parameters()], lrs))
    (params_a, lrs_a), (params_b, lrs_b) = runs
    assert lrs_a == lrs_b
    assert all(torch.equal(a, b) for a, b in zip(params_a, params_b))


def test_state_made_by_the_sweep_is_dropped():
    model = mlp()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    find_lr(model, optimizer, F.cross_entropy, classification(), num_iter=5)
    assert len(optimizer.state) == 0 and optimizer.state_dict()["state"] == {}


def test_a_scheduler_stepped_by_a_hook_is_put_back():
    model, optimizer, scheduler, data = setup("steplr")
    handle = optimizer.register_step_post_hook(lambda *args: scheduler.step())
    before = capture(model, optimizer, scheduler)
    find_lr(model, optimizer, F.cross_entropy, data, start_lr=1e-4, end_lr=1e-2, num_iter=15,
            scheduler=scheduler)
    handle.remove()
    assert_restored(before, model, optimizer, scheduler)


def test_gradients_left_from_before_do_not_leak_into_the_sweep():
    model, data = mlp(), classification()
    clean = find_lr(model, sgd(model), F.cross_entropy, data, start_lr=1e-3, end_lr=1.0,
                    num_iter=10)
    F.cross_entropy(model(data[0][0]), data[0][1]).backward()
    stale = find_lr(model, sgd(model), F.cross_entropy, data, start_lr=1e-3, end_lr=1.0,
                    num_iter=10)
    assert stale.losses == clean.losses
    assert all(p.grad is not None for p in model.parameters())


def test_cadence_scheduler_comes_back_at_its_step_and_follows_updates_after():
    model, optimizer, scheduler, data = setup("cadence")
    t = scheduler.last_epoch
    lrs = [g["lr"] for g in optimizer.param_groups]
    find_lr(model, optimizer, F.cross_entropy, data, start_lr=1e-4, end_lr=1e-2, num_iter=15,
            scheduler=scheduler)
    assert scheduler.last_epoch == t and [g["lr"] for g in optimizer.param_groups] == lrs
    optimizer.step()  # the sweep's updates did not count; the next one does
    assert scheduler.last_epoch == t + 1
    assert [g["lr"] for g in optimizer.param_groups] == scheduler.value_at(t + 1)["lr"]


def test_restored_when_loss_fn_raises_midway():
    model, optimizer, scheduler, data = setup("steplr")
    before = capture(model, optimizer, scheduler)
    calls = []

    def flaky(output, target):
        calls.append(1)
        if len(calls) == 7:
            raise RuntimeError("boom at call 7")
        return F.cross_entropy(output, target)

    with pytest.raises(RuntimeError, match="boom at call 7"):
        find_lr(model, optimizer, flaky, data, start_lr=1e-3, end_lr=1.0, num_iter=20,
                scheduler=scheduler, seed=0)
    assert len(calls) == 7
    assert_restored(before, model, optimizer, scheduler)


def test_random_generators_are_restored_and_seed_repeats():
    model, data = mlp(dropout=0.3), classification()
    random.seed(11)
    np.random.seed(11)
    torch.manual_seed(11)
    states = (random.getstate(), np.random.get_state(), torch.get_rng_state())
    kwargs = dict(start_lr=1e-4, end_lr=1.0, num_iter=30)
    first = find_lr(model, sgd(model), F.cross_entropy, data, seed=5, **kwargs)
    assert random.getstate() == states[0]
    assert all(same(a, b) for a, b in zip(np.random.get_state(), states[1]))
    assert torch.equal(torch.get_rng_state(), states[2])
    second = find_lr(model, sgd(model), F.cross_entropy, data, seed=5, **kwargs)
    other = find_lr(model, sgd(model), F.cross_entropy, data, seed=6, **kwargs)
    assert (first.lrs, first.losses, first.smoothed) == (second.lrs, second.losses,
                                                         second.smoothed)
    assert first.suggestions == second.suggestions
    assert other.losses != first.losses  # dropout draws from the seeded generator


def test_seed_seeds_python_and_numpy_too():
    model, data = mlp(), classification()
    draws = []

    def loss_fn(output, target):
        draws.append((random.random(), float(np.random.rand())))
        return F.cross_entropy(output, target)

    for _ in range(2):
        find_lr(model, sgd(model), loss_fn, data, start_lr=1e-4, end_lr=1e-3, num_iter=3,
                seed=9)
    assert draws[:3] == draws[3:]
    random.seed(9)
    np.random.seed(9)
    assert draws[0] == (random.random(), float(np.random.rand()))


def test_a_shuffling_dataloader_repeats_with_a_seed():
    x = torch.cat([b[0] for b in classification()])
    y = torch.cat([b[1] for b in classification()])
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64,
                                         shuffle=True)
    model = mlp()
    state = torch.get_rng_state()
    runs = [find_lr(model, sgd(model), F.cross_entropy, loader, start_lr=1e-4, end_lr=1.0,
                    num_iter=20, seed=seed) for seed in (4, 4, 5)]
    assert runs[0].losses == runs[1].losses != runs[2].losses
    assert torch.equal(torch.get_rng_state(), state)


def test_the_step_flag_of_torch_schedulers_is_put_back():
    model = mlp()
    optimizer = sgd(model)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)
    assert "_opt_called" not in vars(optimizer)
    find_lr(model, optimizer, F.cross_entropy, classification(), num_iter=5, scheduler=scheduler)
    assert "_opt_called" not in vars(optimizer)  # torch's warning for step() order still works


# -- gradient accumulation and autocast ------------------------------------------------------
def test_gradient_accumulation():
    model, data = mlp(), classification()
    optimizer = sgd(model)
    updates, calls = [], []
    handle = optimizer.register_step_post_hook(lambda *args: updates.append(1))

    def loss_fn(output, target):
        calls.append(target)
        return F.cross_entropy(output, target)

    twin = copy.deepcopy(model).train()
    accumulated = find_lr(model, optimizer, loss_fn, data, start_lr=1e-4, end_lr=1e-2,
                          num_iter=20, accumulation_steps=4)
    handle.remove()
    plain = find_lr(model, optimizer, F.cross_entropy, data, start_lr=1e-4, end_lr=1e-2,
                    num_iter=20)
    assert not accumulated.stopped_early
    assert len(updates) == 20 and len(calls) == 80
    assert accumulated.lrs == plain.lrs
    # the recorded loss of an update is the mean over its micro-batches
    first = [F.cross_entropy(twin(x), y).item() for x, y in data[:4]]
    assert accumulated.losses[0] == pytest.approx(sum(first) / 4, rel=1e-6)


def test_bfloat16_autocast_on_cpu():
    model, data = mlp(), classification()
    dtypes = []

    def loss_fn(output, target):
        dtypes.append(output.dtype)
        return F.cross_entropy(output, target)

    result = find_lr(model, sgd(model), loss_fn, data, start_lr=1e-4, end_lr=1e-2,
                     num_iter=20, autocast_dtype=torch.bfloat16)
    assert len(result.losses) == 20 and all(math.isfinite(v) for v in result.losses)
    assert set(dtypes) == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in model.parameters())


# -- suggestions -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def full_sweep():
    model = mlp()
    return find_lr(model, sgd(model), F.cross_entropy, classification(), start_lr=1e-4,
                   end_lr=10.0, num_iter=100)


def nearest_to_a_tenth(lrs, k):
    """The index of the recorded lr nearest (in log10) to a tenth of ``lrs[k]``, by brute
    force."""
    target = math.log10(lrs[k]) - 1
    distances = [abs(math.log10(lr) - target) for lr in lrs]
    return distances.index(min(distances))


def test_suggestions_lie_in_the_sweep(full_sweep):
    r = full_sweep
    assert set(r.suggestions) == {"steepest", "valley", "minimum"}
    for rule, s in r.suggestions.items():
        assert isinstance(s, Suggestion) and s and s.rule == rule
        assert 1e-4 <= s.lr <= 10.0
        assert s.lr == r.lrs[s.index] and s.loss == r.smoothed[s.index]  # one point, every rule
    assert r.suggestion() is r.suggestions["valley"]
    assert r.suggestion("minimum") is r.suggestions["minimum"]


def test_steepest_is_where_the_smoothed_loss_falls_fastest(full_sweep):
    r = full_sweep
    s = r.suggestion("steepest")
    lo, hi = window(len(r.smoothed))
    y, x = np.array(r.smoothed[lo:hi]), np.log10(r.lrs[lo:hi])
    slope = np.gradient(y, x)
    assert lo <= s.index < hi and s.lr == r.lrs[s.index]
    assert slope[s.index - lo] == slope.min() < 0
    assert r.smoothed[s.index + 1] < r.smoothed[s.index - 1]  # really going down there


def test_valley_is_fastais(full_sweep):
    r = full_sweep
    lo, hi = window(len(r.smoothed))
    s = r.suggestion("valley")
    assert s.index == lo + fastai_valley(r.smoothed[lo:hi])
    assert s.lr == r.lrs[s.index]


def test_minimum_is_the_point_nearest_a_tenth_of_the_lowest_point(full_sweep):
    r = full_sweep
    lo, hi = window(len(r.smoothed))
    low = lo + r.smoothed[lo:hi].index(min(r.smoothed[lo:hi]))
    s = r.suggestion("minimum")
    assert lowest(r.smoothed) == low
    assert s.index == nearest_to_a_tenth(r.lrs, low)
    assert (s.lr, s.loss) == (r.lrs[s.index], r.smoothed[s.index])


def test_suggest_on_a_curve_written_out():
    lrs = geometric(1e-6, 1.0, 40)
    # flat, then a straight fall in log(lr) from point 10 to 25, then up
    curve = [3.0] * 10 + [3.0 - 0.1 * k for k in range(1, 16)] + [1.6 + 0.2 * k for k in range(15)]
    out = suggest(lrs, curve)
    lo, hi = window(40)
    assert (lo, hi) == (4, 36)
    # a tenth of lrs[24] lies 6.5 points back: 17 or 18, whichever rounding makes nearer
    assert out["minimum"].index == nearest_to_a_tenth(lrs, 24) in (17, 18)
    assert 10 <= out["steepest"].index <= 24 and out["steepest"].lr == lrs[out["steepest"].index]
    assert out["valley"].index == lo + fastai_valley(curve[lo:hi])
    assert 10 < out["valley"].index < 24
    # a curve that only rises has no steepest point and no valley
    rising = suggest(lrs, [1.0 + k for k in range(40)])
    assert not rising["steepest"] and not rising["valley"]
    assert "never decreases" in rising["valley"].reason


curves_of_a_sweep = st.integers(10, 160).flatmap(lambda n: st.tuples(
    st.just(n), st.floats(1e-8, 1e-2), st.floats(1.0, 1e4),
    st.lists(st.floats(-3.0, 3.0), min_size=n, max_size=n),
    st.one_of(st.none(), st.integers(0, n - 1))))


@settings(max_examples=200, deadline=None)
@given(curves_of_a_sweep)
def test_every_suggestion_is_one_point_and_its_dot_is_drawn_there(case):
    n, start, ratio, steps, nan_from = case
    lrs = geometric(start, start * ratio, n)
    curve = list(np.cumsum(steps) + 10.0)  # a random walk
    if nan_from is not None:
        curve[nan_from:] = [float("nan")] * (n - nan_from)
    out = suggest(lrs, curve)
    finite = n if nan_from is None else nan_from
    for s in out.values():
        if not s:
            continue
        assert 0 <= s.index < finite
        assert s.lr == lrs[s.index] and s.loss == curve[s.index]
    if out["minimum"]:
        assert out["minimum"].index == nearest_to_a_tenth(lrs[:finite], lowest(curve))
    result = LRFinderResult(lrs, curve, curve, False, "done", out)
    (ax,) = result.plot().axes
    dots = {line.get_gid(): line for line in ax.get_lines() if line.get_marker() == "o"}
    assert set(dots) == {rule for rule, s in out.items() if s}
    for rule, line in dots.items():
        assert list(line.get_xdata()) == [out[rule].lr]
        assert list(line.get_ydata()) == [out[rule].loss]
    import matplotlib.pyplot as plt
    plt.close("all")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_real_sweep_agrees_with_itself(seed):
    model = mlp(dropout=0.2)
    r = find_lr(model, sgd(model), F.cross_entropy, classification(), start_lr=1e-3,
                end_lr=30.0, num_iter=60, seed=seed)
    for s in r.suggestions.values():
        if s:
            assert (s.lr, s.loss) == (r.lrs[s.index], r.smoothed[s.index])


def test_a_minimum_whose_tenth_is_below_the_sweep_takes_the_first_point():
    lrs = geometric(1e-3, 1.0, 20)  # a tenth of lrs[k] is lrs[k - 6.33]
    curve = [2.0, 1.9, 1.5, 1.0] + [1.0 + 0.1 * k for k in range(1, 17)]
    s = suggest(lrs, curve)["minimum"]
    assert (s.index, s.lr, s.loss) == (0, lrs[0], curve[0])


def test_valley_clamps_where_fastai_wraps_around():
    lrs = geometric(1e-3, 1.0, 12)
    curve = [5.0, 2.0, 1.0] + [1.0 + k for k in range(1, 10)]  # one fall, then a rise
    lo, hi = window(12)
    assert (lo, hi) == (1, 11)
    assert fastai_valley(curve[lo:hi]) == -1  # fastai would take the last point
    valley = suggest(lrs, curve)["valley"]
    assert valley.index == lo and valley.lr == lrs[lo]  # we take the first


def test_no_suggestion_for_a_short_sweep():
    model = mlp()
    result = find_lr(model, sgd(model), F.cross_entropy, classification(), num_iter=3)
    for rule in ("steepest", "valley", "minimum"):
        s = result.suggestion(rule)
        assert isinstance(s, NoSuggestion) and not s and s.rule == rule
        assert s.reason == "the curve has 3 points; at least 10 are needed"


def test_no_suggestion_when_the_loss_is_nan_from_the_start():
    model = mlp()

    def nan_loss(output, target):
        return F.cross_entropy(output, target) * float("nan")

    result = find_lr(model, sgd(model), nan_loss, classification(), num_iter=50)
    assert result.stopped_early and len(result.lrs) == 1
    assert "not finite" in result.reason
    assert math.isnan(result.losses[0]) and math.isnan(result.smoothed[0])
    for s in result.suggestions.values():
        assert isinstance(s, NoSuggestion)
        assert s.reason == "the loss is not finite before the sweep could start"


def test_no_suggestion_when_the_loss_turns_nan_early():
    lrs = geometric(1e-5, 1.0, 20)
    curve = [1.0, 0.9, 0.8, 0.7, float("nan")] + [0.5] * 15
    s = suggest(lrs, curve)["valley"]
    assert s.reason == "the curve has 4 finite points; at least 10 are needed"


# -- the result ------------------------------------------------------------------------------
def test_result_repr_and_unknown_rule(full_sweep):
    assert repr(full_sweep).startswith("LRFinderResult(points=100, stopped_early=False")
    with pytest.raises(ValueError, match="'rule' must be one of"):
        full_sweep.suggestion("best")


def test_plot(full_sweep, tmp_path):
    from matplotlib.figure import Figure

    fig = full_sweep.plot()
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    # loss, smoothed loss, a cross at the lowest point, a dot per suggestion
    assert len(ax.get_lines()) == 2 + 1 + 3
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    low = lowest(full_sweep.smoothed)
    assert labels[:3] == ["loss", "smoothed loss", f"lowest point: {full_sweep.lrs[low]:.2e}"]
    assert [label.split(":")[0].split(" (")[0] for label in labels[3:]] == [
        "steepest", "valley", "minimum"]
    assert kinds_without_a_legend_entry(fig) == []

    path = full_sweep.plot(tmp_path / "lr.png")
    assert path == tmp_path / "lr.png"
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert full_sweep.plot(str(tmp_path / "lr.svg")).read_text().lstrip().startswith("<?xml")
    with pytest.raises(ValueError, match="'path' must end in one of .png, .svg, .pdf"):
        full_sweep.plot(tmp_path / "lr.txt")


def test_plot_without_suggestions_and_with_a_blown_up_loss():
    result = LRFinderResult([1e-3, 1e-2, 1e-1], [1.0, 0.5, float("inf")],
                            [1.0, 0.7, float("inf")], True, "exploded",
                            {"valley": NoSuggestion("valley", "too short")})
    (ax,) = result.plot().axes
    assert len(ax.get_lines()) == 2


# -- argument checks -------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "exc", "message"), [
    ({"start_lr": 0.0}, ValueError, "'start_lr' must be a positive number (got 0.0)"),
    ({"start_lr": "1e-3"}, TypeError, "'start_lr' must be a positive number"),
    ({"end_lr": float("inf")}, ValueError, "'end_lr' must be a positive number"),
    ({"start_lr": 1.0, "end_lr": 0.5}, ValueError, "'end_lr' must be a number > start_lr=1"),
    ({"start_lr": 0.5, "end_lr": 0.5}, ValueError, "'end_lr' must be a number > start_lr"),
    ({"num_iter": 1}, ValueError, "'num_iter' must be an int >= 2 (got 1)"),
    ({"num_iter": 10.0}, TypeError, "'num_iter' must be an int >= 2 (got 10.0)"),
    ({"num_iter": True}, TypeError, "'num_iter' must be an int >= 2"),
    ({"mode": "log"}, ValueError, "'mode' must be one of 'exp', 'linear' (got 'log')"),
    ({"smoothing": 1.0}, ValueError, r"'smoothing' must be a number in \[0, 1\) \(got 1.0\)"),
    ({"smoothing": -0.1}, ValueError, "'smoothing' must be a number in"),
    ({"diverge": 1.0}, ValueError, "'diverge' must be a number > 1 (got 1.0)"),
    ({"diverge": None}, TypeError, "'diverge' must be a number > 1"),
    ({"accumulation_steps": 0}, ValueError, "'accumulation_steps' must be a positive int"),
    ({"accumulation_steps": 2.0}, TypeError, "'accumulation_steps' must be a positive int"),
    ({"autocast_dtype": torch.float32}, ValueError,
     "'autocast_dtype' must be None, torch.bfloat16 or torch.float16 (got torch.float32)"),
    ({"autocast_dtype": "bfloat16"}, TypeError, "'autocast_dtype' must be None"),
    ({"seed": -1}, ValueError, r"'seed' must be an int >= 0 and < 2\*\*32 \(got -1\)"),
    ({"seed": 2**32}, ValueError, "'seed' must be an int >= 0"),
    ({"seed": "0"}, TypeError, "'seed' must be an int >= 0"),
    ({"scheduler": object()}, TypeError, "'scheduler' must be None or a scheduler"),
])
def test_arguments_are_checked(kwargs, exc, message):
    model = mlp()
    optimizer = sgd(model)
    with pytest.raises(exc, match=message if "\\" in message else re.escape(message)):
        find_lr(model, optimizer, F.cross_entropy, classification(), **kwargs)
    assert optimizer.param_groups[0]["lr"] == 0.1 and "initial_lr" not in optimizer.param_groups[0]


@pytest.mark.parametrize(("args", "exc", "message"), [
    ((torch.nn.Linear(2, 1).parameters,), TypeError, "'model' must be a torch.nn.Module"),
    ((None, "sgd"), TypeError, "'optimizer' must be a torch.optim.Optimizer"),
    ((None, None, "mse"), TypeError, "'loss_fn' must be callable"),
    ((None, None, None, "data"), TypeError, "'data' must be an iterable of (inputs, targets)"),
    ((None, None, None, 5), TypeError, "'data' must be an iterable"),
])
def test_objects_are_checked(args, exc, message):
    model = mlp()
    defaults = [model, sgd(model), F.cross_entropy, classification()]
    given = [a if a is not None else d for a, d in zip(args, defaults)] + defaults[len(args):]
    with pytest.raises(exc, match=re.escape(message)):
        find_lr(*given)


def test_a_scheduler_of_another_optimizer_is_refused():
    model = mlp()
    other = torch.optim.SGD(mlp().parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(other, step_size=1)
    with pytest.raises(ValueError, match="'scheduler' must drive the optimizer given"):
        find_lr(model, sgd(model), F.cross_entropy, classification(), scheduler=scheduler)


def test_bad_batches_and_losses_are_reported_and_restored():
    model = mlp()
    optimizer = sgd(model)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(TypeError, match="'data' must yield \\(inputs, targets\\) pairs"):
        find_lr(model, optimizer, F.cross_entropy, [torch.zeros(4, 8)] * 3, num_iter=5)
    with pytest.raises(ValueError, match="'loss_fn' must return a one-element tensor"):
        find_lr(model, optimizer, lambda out, y: out.sum(1), classification(), num_iter=5)
    with pytest.raises(TypeError, match="'loss_fn' must return a tensor"):
        find_lr(model, optimizer, lambda out, y: 1.0, classification(), num_iter=5)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert optimizer.param_groups[0]["lr"] == 0.1 and optimizer.state == {}
