"""cadence.compat.lr_scheduler against PyTorch's torch.optim.lr_scheduler, step by step."""

from __future__ import annotations

import inspect
import io
import math
import pickle
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim import lr_scheduler as T

from cadence.compat import lr_scheduler as C
from cadence.schedules import Cosine, Warmup


def optimizer(adam=False, tensor=True):
    """Two param groups, the second with a (float64) tensor lr."""
    p1, p2 = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))
    lr2 = torch.tensor(0.05, dtype=torch.float64) if tensor else 0.05
    groups = [{"params": [p1], "lr": 0.1}, {"params": [p2], "lr": lr2}]
    if adam:
        return torch.optim.Adam(groups, foreach=False)
    return torch.optim.SGD(groups, momentum=0.9, foreach=False)


def trace(module, make, steps, adam=False, tensor=True):
    """lr of both groups and group 0's momentum (betas[0] on Adam) before each update."""
    opt = optimizer(adam, tensor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's own deprecation chatter
        sched = make(module, opt)
        out = []
        for _ in range(steps):
            g = opt.param_groups
            momentum = g[0]["momentum"] if "momentum" in g[0] else g[0]["betas"][0]
            out.append([float(g[0]["lr"]), float(g[1]["lr"]), float(momentum)])
            opt.step()
            sched.step()
    return np.array(out), sched, opt


# (make, horizon): every run goes 3x past the schedule's horizon
CASES = {
    "StepLR": (lambda m, o: m.StepLR(o, 7, 0.5), 20),
    "StepLR-default": (lambda m, o: m.StepLR(o, step_size=3), 10),
    "MultiStepLR": (lambda m, o: m.MultiStepLR(o, [5, 5, 20], 0.3), 20),
    "MultiStepLR-unsorted": (lambda m, o: m.MultiStepLR(o, milestones=[12, 0, 4]), 12),
    "ConstantLR": (lambda m, o: m.ConstantLR(o, 0.25, 8), 8),
    "ConstantLR-default": (lambda m, o: m.ConstantLR(o), 5),
    "LinearLR": (lambda m, o: m.LinearLR(o, 0.1, 0.9, 12), 12),
    "LinearLR-default": (lambda m, o: m.LinearLR(o), 5),
    "ExponentialLR": (lambda m, o: m.ExponentialLR(o, 0.93), 20),
    "PolynomialLR": (lambda m, o: m.PolynomialLR(o, 20, 2.0), 20),
    "PolynomialLR-default": (lambda m, o: m.PolynomialLR(o), 5),
    "CosineAnnealingLR": (lambda m, o: m.CosineAnnealingLR(o, 17, 0.001), 17),
    "CosineAnnealingLR-zero": (lambda m, o: m.CosineAnnealingLR(o, T_max=10), 10),
    "CosineAnnealingWarmRestarts": (lambda m, o: m.CosineAnnealingWarmRestarts(o, 5, 2, 0.002), 35),
    "CosineAnnealingWarmRestarts-1": (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=6), 18),
    "LambdaLR": (lambda m, o: m.LambdaLR(o, [lambda e: 0.95**e, lambda e: 1 / (e + 1)]), 20),
    "MultiplicativeLR": (lambda m, o: m.MultiplicativeLR(o, lambda e: 0.9 if e % 3 else 1.1), 20),
    "CyclicLR": (lambda m, o: m.CyclicLR(o, 0.01, [0.1, 0.2], 5, 3, "triangular2"), 24),
    "CyclicLR-exp": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, 4, mode="exp_range", gamma=0.98), 24),
    "CyclicLR-scale_fn": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, 4, scale_fn=lambda x: 1 / x), 24),
    "CyclicLR-iterations": (lambda m, o: m.CyclicLR(o, [0.01, 0.02], 0.1, 3, scale_mode="iterations",
                                                      scale_fn=lambda x: 0.99**x), 24),
    "OneCycleLR": (lambda m, o: m.OneCycleLR(o, [0.5, 1.0], total_steps=50), 50),
    "OneCycleLR-3phase": (lambda m, o: m.OneCycleLR(o, 1.0, epochs=5, steps_per_epoch=9,
                                                    three_phase=True, anneal_strategy="linear"), 45),
    "OneCycleLR-no-momentum": (lambda m, o: m.OneCycleLR(o, 0.3, total_steps=30, pct_start=0.5,
                                                         cycle_momentum=False), 30),
    "SequentialLR": (lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.1, total_iters=5), m.CosineAnnealingWarmRestarts(o, 7)], [5]), 20),
    "SequentialLR-3": (lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, 0.5, 3), m.ExponentialLR(o, 0.9), m.StepLR(o, 2)], [4, 9]), 15),
    "SequentialLR-milestone-0": (lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, 0.5, 2), m.ExponentialLR(o, 0.9)], [0]), 10),
    "ChainedScheduler": (lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, 0.5, 4), m.ExponentialLR(o, 0.9)]), 10),
    "ChainedScheduler-optimizer": (lambda m, o: m.ChainedScheduler(
        [m.MultiStepLR(o, [3, 6]), m.LinearLR(o, 0.5, total_iters=4)], optimizer=o), 8),
}
OPTIMIZERS = [(False, True), (True, True), (False, False)]
# OneCycleLR's horizon is its total_steps, past which PyTorch raises (we hold: tested apart)
BOUNDED = {"OneCycleLR", "OneCycleLR-3phase", "OneCycleLR-no-momentum"}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize(("adam", "tensor"), OPTIMIZERS, ids=["sgd+tensor", "adam+tensor", "sgd"])
def test_same_values_as_pytorch(case, adam, tensor):
    make, horizon = CASES[case]
    steps = horizon if case in BOUNDED else 3 * horizon
    theirs, _, _ = trace(T, make, steps, adam, tensor)
    ours, _, opt = trace(C, make, steps, adam, tensor)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-15)
    if tensor:
        assert isinstance(opt.param_groups[1]["lr"], torch.Tensor)


def test_float32_tensor_lrs_agree_to_float32_rounding():
    def make(m, o):
        return m.CosineAnnealingLR(o, 20)

    def run(module):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=torch.tensor(0.1))
        sched = make(module, opt)
        out = []
        for _ in range(60):
            out.append(opt.param_groups[0]["lr"].item())
            opt.step()
            sched.step()
        return out

    np.testing.assert_allclose(run(C), run(T), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", [n for n in C.__all__ if inspect.isclass(getattr(C, n))])
def test_same_signatures_and_defaults(name):
    if name == "_LRScheduler":
        assert C._LRScheduler is C.LRScheduler
        return
    theirs = inspect.signature(getattr(T, name)).parameters
    ours = inspect.signature(getattr(C, name)).parameters
    assert list(ours)[: len(theirs)] == list(theirs)
    for key, param in theirs.items():
        assert ours[key].default == param.default, key
    assert set(ours) - set(theirs) <= {"verbose"}


def test_every_public_pytorch_class_is_here():
    assert set(T.__all__) <= set(C.__all__)


@pytest.mark.parametrize("case", sorted(CASES))
def test_attributes_state_and_resume(case):
    make, horizon = CASES[case]
    horizon -= case in BOUNDED  # PyTorch extrapolates OneCycleLR at its last step; we hold
    _, sched_t, _ = trace(T, make, horizon)
    _, sched, opt = trace(C, make, horizon)
    assert isinstance(sched, type(sched_t)) and isinstance(sched, C.LRScheduler)
    for name in ("last_epoch", "base_lrs", "_step_count"):  # the ones PyTorch's class has
        if hasattr(sched_t, name):
            np.testing.assert_allclose(np.array(getattr(sched, name), dtype=float),
                                       np.array(getattr(sched_t, name), dtype=float), rtol=1e-12)
    assert set(vars(sched_t)) <= set(vars(sched)) | {"optimizer"}
    np.testing.assert_allclose([float(v) for v in sched.get_last_lr()],
                               [float(v) for v in sched_t.get_last_lr()], rtol=1e-9)
    buffer = io.BytesIO()
    torch.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, buffer)
    expected = []
    for _ in range(horizon):
        opt.step()
        sched.step()
        expected.append([float(g["lr"]) for g in opt.param_groups])
    for optimizer_first in (True, False):
        buffer.seek(0)
        saved = torch.load(buffer, weights_only=True)
        opt2 = optimizer()
        again = make(C, opt2)
        if optimizer_first:
            opt2.load_state_dict(saved["opt"])
        again.load_state_dict(saved["sched"])
        if not optimizer_first:
            opt2.load_state_dict(saved["opt"])
        resumed = []
        for _ in range(horizon):
            opt2.step()
            again.step()
            resumed.append([float(g["lr"]) for g in opt2.param_groups])
        assert resumed == expected


def warnings_of(module, make, optimizer_first):
    """The messages of the warnings that building and stepping twice give, in order."""
    opt = optimizer()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sched = make(module, opt)
        for _ in range(2):
            if optimizer_first:
                opt.step()
            sched.step()
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("optimizer_first", [True, False])
def test_the_same_warnings_as_pytorch(case, optimizer_first):
    make, _ = CASES[case]
    assert warnings_of(C, make, optimizer_first) == warnings_of(T, make, optimizer_first)


@settings(max_examples=200, deadline=None)
@given(metrics=st.lists(st.one_of(st.floats(0, 10), st.just(math.nan)), min_size=1, max_size=40),
       mode=st.sampled_from(["min", "max"]), factor=st.sampled_from([0.1, 0.5]),
       patience=st.integers(0, 3), cooldown=st.integers(0, 2),
       threshold_mode=st.sampled_from(["rel", "abs"]),
       min_lr=st.sampled_from([0, [1e-3, 0.0], 0.02]), eps=st.sampled_from([1e-8, 0.0, 1e-3]))
def test_reduce_lr_on_plateau_is_pytorchs(metrics, mode, factor, patience, cooldown,
                                          threshold_mode, min_lr, eps):
    kwargs = dict(mode=mode, factor=factor, patience=patience, cooldown=cooldown,
                  threshold_mode=threshold_mode, min_lr=min_lr, eps=eps)

    def run(module):
        opt = optimizer(tensor=False)
        opt.param_groups[1]["lr"] = 1e-7
        sched = module.ReduceLROnPlateau(opt, **kwargs)
        out = []
        for m in metrics:
            opt.step()
            sched.step(m)
            out.append([g["lr"] for g in opt.param_groups])
        return out, sched

    (theirs, t), (ours, o) = run(T), run(C)
    assert ours == theirs  # bit for bit
    assert (o.best == t.best or (math.isnan(t.best) and math.isnan(o.best)))
    assert (o.num_bad_epochs, o.cooldown_counter, o.last_epoch) == (
        t.num_bad_epochs, t.cooldown_counter, t.last_epoch)


def test_plateau_inside_sequential_and_chained():
    """PyTorch refuses these; here the plateau controls the lr once its turn comes."""
    opt = optimizer(tensor=False)
    warm = C.LinearLR(opt, start_factor=0.1, total_iters=4)
    plateau = C.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    seq = C.SequentialLR(opt, [warm, plateau], milestones=[4])
    lrs = []
    for metric in [9, 9, 9, 9, 1.0, 2.0, 3.0, 0.5, 0.6]:
        opt.step()
        seq.step(metric)
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[:3] == pytest.approx([0.1 * (0.1 + 0.9 * k / 4) for k in (1, 2, 3)])
    assert lrs[3:] == pytest.approx([0.1, 0.1, 0.05, 0.025, 0.025, 0.0125])
    opt = optimizer(tensor=False)
    chained = C.ChainedScheduler([C.ExponentialLR(opt, 0.9),
                                  C.ReduceLROnPlateau(opt, patience=0, factor=0.5)])
    for t, metric in enumerate([1.0, 2.0, 0.5], start=1):
        opt.step()
        chained.step(metric)
        assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.9**t * 0.5 ** (t >= 2))


def test_independent_schedulers_chain_like_pytorch():
    """PyTorch's documented pattern: several schedulers stepped back to back."""
    def run(module):
        opt = optimizer(tensor=False)
        s1 = module.ExponentialLR(opt, gamma=0.9)
        s2 = module.MultiStepLR(opt, milestones=[3, 8], gamma=0.1)
        out = []
        for _ in range(12):
            out.append([g["lr"] for g in opt.param_groups])
            opt.step()
            s1.step()
            s2.step()
        return np.array(out)

    np.testing.assert_allclose(run(C), run(T), rtol=1e-12)


def test_one_cycle_holds_past_total_steps():
    opt = optimizer(tensor=False)
    sched = C.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    for _ in range(9):
        opt.step()
        sched.step()
    last = opt.param_groups[0]["lr"]
    for _ in range(5):
        opt.step()
        sched.step()  # PyTorch raises "Tried to step 11 times"
    assert opt.param_groups[0]["lr"] == last == pytest.approx(1.0 / 25 / 1e4)


def test_zero_total_iters_means_no_phase():
    opt = optimizer(tensor=False)
    C.ConstantLR(opt, factor=0.5, total_iters=0)
    assert opt.param_groups[0]["lr"] == 0.1  # PyTorch keeps 0.05 forever
    opt = optimizer(tensor=False)
    C.LinearLR(opt, start_factor=0.5, end_factor=0.8, total_iters=0)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.08)


def test_step_with_an_epoch_is_exact():
    opt = optimizer(tensor=False)
    sched = C.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)
    sched.step(9)  # PyTorch's CosineAnnealingWarmRestarts takes epochs without a warning
    assert sched.last_epoch == 9
    other = optimizer(tensor=False)
    ref = C.CosineAnnealingWarmRestarts(other, T_0=4, T_mult=2)
    for _ in range(9):
        other.step()
        ref.step()
    assert sched.get_last_lr() == ref.get_last_lr()
    assert (sched.T_cur, sched.T_i) == (5, 8)


def test_pytorch_states_load_into_the_drop_ins():
    opt = optimizer(tensor=False)
    theirs = T.StepLR(opt, step_size=3, gamma=0.5)
    for _ in range(7):
        opt.step()
        theirs.step()
    ours = C.StepLR(optimizer(tensor=False), step_size=3, gamma=0.5)
    ours.load_state_dict(theirs.state_dict())
    assert ours.last_epoch == 7 and ours.get_last_lr() == theirs.get_last_lr()


def test_a_schedule_is_a_lambda_and_its_state_is_plain():
    opt = optimizer(tensor=False)
    warm = Warmup(Cosine(start=1.0, end=0.0, steps=90), steps=10)
    sched = C.LambdaLR(opt, warm)
    for _ in range(20):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == 0.1 * warm(20)
    state = sched.state_dict()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True) == state
    pickle.dumps(sched)


def test_lambda_lr_verbose_prints_each_update(capsys):
    opt = optimizer(tensor=False)
    sched = C.LambdaLR(opt, lambda e: 0.5**e, verbose=True)
    opt.step()
    sched.step()
    out = capsys.readouterr().out.splitlines()
    assert out == ["Adjusting learning rate of group 0 to 1.0000e-01.",
                   "Adjusting learning rate of group 1 to 5.0000e-02.",
                   "Adjusting learning rate of group 0 to 5.0000e-02.",
                   "Adjusting learning rate of group 1 to 2.5000e-02."]


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [(lambda o: C.StepLR(o, step_size=0), ValueError, "'step_size' must be a positive number (got 0)"),
     (lambda o: C.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "'T_0' must be a positive int (got 0)"),
     (lambda o: C.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=1.5), TypeError, "'T_mult' must be a positive int (got 1.5)"),
     (lambda o: C.LinearLR(o, start_factor=0), ValueError, "'start_factor' must be a number in (0, 1]"),
     (lambda o: C.CyclicLR(o, 0.1, 1.0, mode="cubic"), ValueError, "'mode' must be one of 'triangular', 'triangular2', 'exp_range' (got 'cubic')"),
     (lambda o: C.CyclicLR(o, [0.1], 1.0), ValueError, "'base_lr' must have one entry per param group (2) (got 1)"),
     (lambda o: C.OneCycleLR(o, 1.0), ValueError, "OneCycleLR needs 'total_steps', or 'epochs' and 'steps_per_epoch'"),
     (lambda o: C.ReduceLROnPlateau(o, factor=1.0), ValueError, "'factor' must be < 1.0 (got 1.0)"),
     (lambda o: C.SequentialLR(o, [C.StepLR(o, 2)], [3]), ValueError, "expects number of schedulers provided to be one more than the number of milestone points, but got number of schedulers 1 and the number of milestones to be equal to 1"),
     (lambda o: C.LambdaLR(o, 3), TypeError, "'lr_lambda' must be a callable or a list of them (got 3)"),
     (lambda o: C.StepLR(object(), 3), TypeError, "'optimizer' must be a torch.optim.Optimizer")],
)
def test_bad_arguments_are_named(make, error, message):
    import re

    with pytest.raises(error, match=re.escape(message)):
        make(optimizer(tensor=False))


def test_resuming_with_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups"):
        C.StepLR(optimizer(tensor=False), 3, last_epoch=5)


def resumed_with_last_epoch(module, last_epoch):
    """The step and lr of a StepLR built with ``last_epoch`` on groups whose lr was restored
    (as an optimizer's saved state restores it)."""
    opt = optimizer(tensor=False)
    for group in opt.param_groups:
        group["initial_lr"] = group["lr"]
        group["lr"] = group["lr"] * 0.5
    sched = module.StepLR(opt, 3, gamma=0.5, last_epoch=last_epoch)
    return sched.last_epoch, opt.param_groups[0]["lr"]


def test_resuming_with_last_epoch_keeps_the_restored_lr():
    assert resumed_with_last_epoch(C, 3) == resumed_with_last_epoch(T, 3) == (4, 0.05)
    # at a decay step PyTorch's StepLR decays the restored lr once more (pytorch#102261, fixed
    # there for ExponentialLR and others); the drop-in keeps it
    assert resumed_with_last_epoch(T, 5) == (6, 0.025)
    assert resumed_with_last_epoch(C, 5) == (6, 0.05)
