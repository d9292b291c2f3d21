"""What once failed with the drop-ins, each side by side with the real upstream class: PyTorch's
scheduler, transformers' factory or MMEngine's scheduler, run on the same optimizer setup."""

from __future__ import annotations

import io
import math
import re
import warnings

import numpy as np
import pytest
import torch
from stepping import lrs_per_step
from torch.optim import lr_scheduler as T

from cadence import Scheduler
from cadence.compat import _torch_base as torch_base
from cadence.compat import lr_scheduler as C
from cadence.schedules import Cosine, CosineWave


def sgd(lr=0.05, groups=2, momentum=0.9, tensor=False):
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))],
               "lr": torch.tensor(lr * (i + 1)) if tensor else lr * (i + 1)}
              for i in range(groups)]
    return torch.optim.SGD(params, lr=lr, momentum=momentum)


def lrs(opt):
    return [float(g["lr"]) for g in opt.param_groups]


def side_by_side(run):
    """``run(module)`` with PyTorch's classes and with the drop-ins (warnings as PyTorch's)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run(T), run(C)


def stepped(make, steps=20, **optimizer):
    def run(module):
        opt = sgd(**optimizer)
        sched = make(module, opt)
        out = []
        for _ in range(steps):
            out.append([*lrs(opt), float(opt.param_groups[0]["momentum"])])
            opt.step()
            sched.step()
        return np.array(out)
    return run


# -- floats, tensors and fractional epochs that PyTorch takes -----------------------------------
def test_warm_restarts_take_fractional_epochs_within_an_epoch():
    def run(module):
        opt = sgd()
        sched = module.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.001)
        sched.step(0.0)
        out, iters = [], 5
        for epoch in range(7):
            for i in range(iters):
                opt.step()
                sched.step(epoch + i / iters)  # PyTorch's documented idiom
                out.append([*lrs(opt), sched.T_cur, sched.T_i, sched.last_epoch])
        return np.array(out, dtype=float)

    theirs, ours = side_by_side(run)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("make", [
    lambda m, o: m.StepLR(o, step_size=2.0),
    lambda m, o: m.CosineAnnealingLR(o, T_max=10.0, eta_min=0.001),
    lambda m, o: m.LinearLR(o, start_factor=0.2, total_iters=5.0),
    lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=5.0),
    lambda m, o: m.PolynomialLR(o, total_iters=5.0, power=2.0),
    lambda m, o: m.MultiStepLR(o, [3.0, 7.0]),
    lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=4.0),
], ids=["StepLR", "CosineAnnealingLR", "LinearLR", "ConstantLR", "PolynomialLR", "MultiStepLR",
        "CyclicLR"])
def test_float_settings_are_taken(make):
    theirs, ours = side_by_side(stepped(make))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda m, o: m.CyclicLR(o, base_lr=torch.tensor(0.01), max_lr=torch.tensor(0.1),
                            step_size_up=3, base_momentum=torch.tensor(0.8),
                            max_momentum=torch.tensor(0.9)),
    lambda m, o: m.OneCycleLR(o, max_lr=torch.tensor(0.5), total_steps=20,
                              base_momentum=torch.tensor(0.85), max_momentum=torch.tensor(0.95)),
], ids=["CyclicLR", "OneCycleLR"])
def test_tensor_settings_are_taken(make):
    # (tensor lrs in the groups: with float ones PyTorch's CyclicLR puts base_lr's own tensor
    # into the group and then moves it in place, so its base drifts; the drop-in's does not)
    theirs, ours = side_by_side(stepped(make, steps=19, tensor=True))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)  # PyTorch computes in float32 there


def test_transformers_takes_float_step_counts():
    hf = pytest.importorskip("transformers.optimization")
    from cadence.compat import transformers as H

    def run(get):
        opt = sgd()
        sched = get(opt, 10.0, 100.0)
        out = []
        for _ in range(110):
            out.append(lrs(opt))
            opt.step()
            sched.step()
        return np.array(out)

    np.testing.assert_allclose(run(H.get_cosine_schedule_with_warmup),
                               run(hf.get_cosine_schedule_with_warmup)[:101].tolist()
                               + [[0.0, 0.0]] * 9,  # past the end transformers swings back up
                               rtol=1e-12, atol=1e-15)


# -- ReduceLROnPlateau after add_param_group ----------------------------------------------------
@pytest.mark.parametrize("min_lr", [0.0, [1e-5, 1e-4]])
def test_plateau_after_a_group_is_added(min_lr):
    def run(module):
        opt = sgd()
        sched = module.ReduceLROnPlateau(opt, patience=1, factor=0.5, min_lr=min_lr)
        out = []
        for epoch, metric in enumerate([1.0, 1.0, 1.0, 0.5, 0.6, 0.7, 0.8, 0.9]):
            if epoch == 2:
                opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.3})
                if isinstance(min_lr, list):
                    sched.min_lrs.append(1e-6)
            opt.step()
            sched.step(metric)
            out.append(lrs(opt)[:3] if epoch >= 2 else [*lrs(opt), 0.3])
        return out

    theirs, ours = side_by_side(run)
    assert ours == theirs


# -- chaining: through the values in the groups, in the order schedulers are stepped -----------
def test_chaining_does_not_depend_on_construction_order():
    def run(module):
        opt = sgd()
        warm = module.LinearLR(opt, start_factor=0.4, total_iters=4)
        cosine = module.CosineAnnealingLR(opt, T_max=10, eta_min=1e-4)
        out = []
        for _ in range(12):
            out.append(lrs(opt))
            opt.step()
            warm.step()
            cosine.step()
        return np.array(out)

    theirs, ours = side_by_side(run)
    assert ours[0].tolist() == pytest.approx([0.02, 0.04])  # 0.05 * 0.4, not the base
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_a_scheduler_that_is_no_longer_stepped_stops_acting():
    def run(module):
        opt = sgd()
        first = module.ExponentialLR(opt, gamma=0.9)
        for _ in range(9):
            opt.step()
            first.step()
        later = module.ExponentialLR(opt, gamma=0.9, last_epoch=4)  # a resumed run
        out = [lrs(opt)]
        for _ in range(5):
            opt.step()
            later.step()
            out.append(lrs(opt))
        return np.array(out)

    theirs, ours = side_by_side(run)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


# -- upstream's classes and attributes ----------------------------------------------------------
def drop_ins(opt):
    return {
        "StepLR": C.StepLR(opt, 3), "MultiStepLR": C.MultiStepLR(opt, [2]),
        "ConstantLR": C.ConstantLR(opt), "LinearLR": C.LinearLR(opt),
        "ExponentialLR": C.ExponentialLR(opt, 0.9), "PolynomialLR": C.PolynomialLR(opt),
        "CosineAnnealingLR": C.CosineAnnealingLR(opt, 10),
        "CosineAnnealingWarmRestarts": C.CosineAnnealingWarmRestarts(opt, 5),
        "LambdaLR": C.LambdaLR(opt, lambda e: 1.0),
        "MultiplicativeLR": C.MultiplicativeLR(opt, lambda e: 1.0),
        "CyclicLR": C.CyclicLR(opt, 0.01, 0.1), "OneCycleLR": C.OneCycleLR(opt, 0.1, 10),
        "ReduceLROnPlateau": C.ReduceLROnPlateau(opt),
        "SequentialLR": C.SequentialLR(opt, [C.ConstantLR(opt), C.ExponentialLR(opt, 0.9)], [3]),
        "ChainedScheduler": C.ChainedScheduler([C.ConstantLR(opt), C.ExponentialLR(opt, 0.9)]),
    }


def test_every_drop_in_is_an_instance_of_pytorchs_class_with_its_attributes():
    made = drop_ins(sgd())
    for name, sched in made.items():
        upstream = getattr(T, name)
        assert isinstance(sched, upstream) and isinstance(sched, T.LRScheduler), name
    opt = sgd()
    upstream = {"StepLR": T.StepLR(opt, 3), "OneCycleLR": T.OneCycleLR(opt, 0.1, 10),
                "ReduceLROnPlateau": T.ReduceLROnPlateau(opt)}
    for name, sched in upstream.items():
        assert set(vars(sched)) - {"optimizer"} <= set(vars(made[name])), name
    # what Lightning and transformers' Trainer test to feed a plateau its metric
    assert isinstance(made["ReduceLROnPlateau"], torch.optim.lr_scheduler.ReduceLROnPlateau)


def test_one_cycle_counts_its_steps_as_pytorch_does():
    """accelerate steps a scheduler with ``total_steps`` while ``_step_count <= total_steps``."""
    def run(module):
        opt = sgd()
        sched = module.OneCycleLR(opt, max_lr=0.1, total_steps=12)
        counts = []
        for _ in range(20):
            opt.step()
            if sched._step_count <= sched.total_steps:
                sched.step()
            counts.append((sched._step_count, sched.last_epoch, lrs(opt)[0]))
        return counts

    theirs, ours = side_by_side(run)
    assert [c[:2] for c in ours] == [c[:2] for c in theirs]
    # up to its last step; at step total_steps PyTorch extrapolates past its minimum (the
    # drop-in holds it, docs/compat.md)
    np.testing.assert_allclose([c[2] for c in ours][:11], [c[2] for c in theirs][:11],
                               rtol=1e-12)


# -- states: PyTorch's rule (the saved settings win), impossible values refused ---------------
def saved(sched):
    buffer = io.BytesIO()
    torch.save(sched.state_dict(), buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


@pytest.mark.parametrize("make", [
    lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.2, total_iters=4), m.ExponentialLR(o, 0.9)],
                                milestones=[4]),
    lambda m, o: m.ChainedScheduler([m.ConstantLR(o, 0.5, 3), m.ExponentialLR(o, 0.9)]),
    lambda m, o: m.ReduceLROnPlateau(o, patience=0, factor=0.5),
], ids=["SequentialLR", "ChainedScheduler", "ReduceLROnPlateau"])
def test_pytorch_states_load_into_the_drop_ins(make):
    def advance(sched, opt, steps, start=0):
        out = []
        for k in range(start, start + steps):
            opt.step()
            if isinstance(sched, T.ReduceLROnPlateau):
                sched.step(1.0 + (k % 3))
            else:
                sched.step()
            out.append(lrs(opt))
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = sgd()
        theirs = make(T, opt)
        advance(theirs, opt, 6)
        state, opt_state = saved(theirs), opt.state_dict()
        expected = advance(theirs, opt, 6, start=6)
        opt2 = sgd()
        ours = make(C, opt2)
        opt2.load_state_dict(opt_state)
        ours.load_state_dict(state)
        np.testing.assert_allclose(advance(ours, opt2, 6, start=6), expected, rtol=1e-12)


def test_the_saved_settings_win_as_in_pytorch():
    def run(module):
        opt = sgd()
        source = T.StepLR(opt, step_size=2, gamma=0.5)
        for _ in range(3):
            opt.step()
            source.step()
        target = module.StepLR(sgd(), step_size=2, gamma=0.1)
        target.load_state_dict(source.state_dict())
        target.optimizer.load_state_dict(opt.state_dict())
        target.optimizer.step()
        target.step()
        return target.gamma, lrs(target.optimizer)

    theirs, ours = side_by_side(run)
    assert ours == theirs == (0.5, [0.0125, 0.025])


@pytest.mark.parametrize(("key", "value", "message"), [
    ("last_epoch", -3, "state_dict['last_epoch'] must be a finite number >= -1 (got -3)"),
    ("last_epoch", math.nan, "state_dict['last_epoch'] must be a finite number >= -1 (got nan)"),
    ("base_lrs", [math.inf, 0.1], "state_dict['base_lrs'][0] must be a finite number (got inf)"),
])
def test_impossible_states_are_refused(key, value, message):
    opt = sgd()
    sched = C.StepLR(opt, 3)
    state = {**T.StepLR(sgd(), 3).state_dict(), key: value}
    before = (sched.last_epoch, list(sched.base_lrs), lrs(opt))
    with pytest.raises(ValueError, match=re.escape(message)):
        sched.load_state_dict(state)
    assert (sched.last_epoch, list(sched.base_lrs), lrs(opt)) == before


def test_a_drop_in_state_loads_into_pytorchs_own_class():
    opt = sgd()
    ours = C.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        opt.step()
        ours.step()
    theirs = T.StepLR(sgd(), step_size=3, gamma=0.9)
    theirs.load_state_dict(saved(ours))
    theirs.optimizer.load_state_dict(opt.state_dict())
    assert callable(theirs.step) and theirs.gamma == 0.5
    for _ in range(4):
        opt.step()
        ours.step()
        theirs.optimizer.step()
        theirs.step()
        assert lrs(theirs.optimizer) == pytest.approx(lrs(opt), rel=1e-12)


def test_a_cadence_state_cannot_break_a_pytorch_scheduler():
    native = Scheduler(sgd(), lr=Cosine(steps=10)).state_dict()
    victim = T.StepLR(sgd(), step_size=2)
    assert not set(native) & set(dir(victim))  # no key names one of its attributes
    victim.load_state_dict(native)
    victim.optimizer.step()
    victim.step()
    assert victim.last_epoch == 1


# -- scale -----------------------------------------------------------------------------------
def test_a_thousand_groups_share_one_schedule_and_no_equality_scan(monkeypatch):
    compared = []
    original = CosineWave.__eq__
    monkeypatch.setattr(CosineWave, "__eq__",
                        lambda a, b: compared.append(1) or original(a, b))
    opt = sgd(groups=1000)
    sched = C.CosineAnnealingLR(opt, T_max=100, eta_min=1e-5)
    opt.step()
    sched.step()
    [track] = sched._tracks()
    assert len(track.parts()) == 1 and compared == []
    assert lrs(opt)[999] == pytest.approx(1e-5 + (50.0 - 1e-5) * (1 + math.cos(math.pi / 100)) / 2)


def test_index_selectors_are_looked_up_not_tested_against_every_group():
    opt = sgd(groups=1000)
    calls = []

    def predicate(group):
        calls.append(1)
        return False

    spec = {(i,): Cosine(steps=10) for i in range(0, 1000, 2)} | {predicate: Cosine(steps=5)}
    sched = Scheduler(opt, lr=spec)
    assert len(calls) == 1000  # the one predicate, once per group; index selectors no call
    assert sched.schedules("lr")[1] is None and sched.schedules("lr")[2] == Cosine(steps=10)


def test_state_checks_name_the_key():
    with pytest.raises(ValueError, match=r"state_dict\['last_step'\] must be a finite number"):
        torch_base.check_torch_state({"last_step": -2}, "last_step")


# -- chaining cases the differential tests found (tests/differential) --------------------------
def _chain_lrs(module, build, steps, lr=1.0):
    return [row[0] for row in lrs_per_step(module, build, steps, lr=lr)]


def _exponential_then_cosine(m, opt):
    return [m.ExponentialLR(opt, gamma=0.5), m.CosineAnnealingLR(opt, T_max=3, eta_min=0.1)]


def _lambda_then_polynomial(m, opt):
    return [m.LambdaLR(opt, _halving), m.PolynomialLR(opt, total_iters=2)]


def _restarts_then_linear(m, opt):
    return [m.CosineAnnealingWarmRestarts(opt, T_0=3), m.LinearLR(opt, 1.0, 0.0, total_iters=2)]


def _exponential_underflowing(m, opt):
    # from lr 1e300 the closed form gamma**t underflows at t = 4, the lr itself not before 7
    return [m.ExponentialLR(opt, gamma=1e-100), m.ConstantLR(opt, factor=0.5, total_iters=5)]


def _halving(epoch):
    return 0.5 ** epoch


@pytest.mark.parametrize("build, lr", [(_exponential_then_cosine, 1.0),
                                       (_lambda_then_polynomial, 1.0),
                                       (_restarts_then_linear, 1.0),
                                       (_exponential_underflowing, 1e300)])
def test_chained_values_past_a_minimum_or_at_zero_move_as_pytorchs(build, lr):
    """A chained cosine one step past its minimum adds PyTorch's rise; a decay that reached 0
    (or a product that underflowed to 0) keeps multiplying what the group holds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyTorch's chaining notices, both sides
        theirs = _chain_lrs(T, build, 8, lr)
        ours = _chain_lrs(C, build, 8, lr)
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-300)


def shrink(epoch: int) -> float:
    return 0.9 if epoch % 2 else 0.8


def test_multiplicative_lr_at_an_explicit_epoch_multiplies_as_pytorchs():
    # PyTorch's MultiplicativeLR has no closed form: step(epoch) multiplies the current lr by
    # lr_lambda(epoch), and so does SequentialLR starting it at its milestone
    def run(module):
        opt = sgd(tensor=False)
        sched = module.MultiplicativeLR(opt, shrink)
        out = []
        for epoch in (1, 2, 2, 5, 3):
            opt.step()
            sched.step(epoch)
            out.append(lrs(opt))
        for _ in range(3):
            opt.step()
            sched.step()
            out.append(lrs(opt))
        return out

    theirs, ours = side_by_side(run)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)


@pytest.mark.parametrize("T_0", [1, 7, 12])
@pytest.mark.parametrize("T_mult", [1, 2, 3])
@pytest.mark.parametrize("eta_min", [0.0, 0.001])
def test_warm_restarts_give_pytorchs_floats_on_every_path(T_0, T_mult, eta_min):
    """PyTorch's CosineAnnealingWarmRestarts is a closed form in ``T_cur`` and ``T_i``, and code
    compares its lrs with ``==`` (ignite recomputes them from those attributes): the drop-in's
    are the same floats, stepped or at an explicit epoch."""
    def run(module, by_epoch):
        opt = sgd(lr=0.2, groups=1)
        sched = module.CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult, eta_min=eta_min)
        out = []
        for epoch in range(1, 120):
            opt.step()
            sched.step(epoch) if by_epoch else sched.step()
            recomputed = eta_min + (0.2 - eta_min) * (
                1 + math.cos(math.pi * sched.T_cur / sched.T_i)) / 2
            out.append((opt.param_groups[0]["lr"], recomputed))
        return out

    for by_epoch in (False, True):
        theirs, ours = side_by_side(lambda m, b=by_epoch: run(m, b))
        assert [lr for lr, _ in ours] == [lr for lr, _ in theirs]  # ==, bit for bit
        assert all(lr == recomputed for lr, recomputed in ours)
