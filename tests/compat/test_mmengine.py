"""cadence.compat.mmengine: seed 003's examples against MMEngine's values written out here, and
against the real package where it is installed (the `parity` extra)."""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np
import pytest
import torch

from cadence.compat import mmengine as M

BASE = 0.01  # seed 003: SGD(model.parameters(), lr=0.01, momentum=0.9)


def sgd(weight_decay=1e-4):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE, momentum=0.9,
                           weight_decay=weight_decay)


def run(scheduler, opt, steps, key="lr"):
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0][key])
        opt.step()
        scheduler.step()
    return np.array(out)


def warmup_factor(t, start, end):
    """MMEngine's LinearLR in [0, end): start -> 1 over end - 1 steps, then held."""
    last = end - 1
    return start + (1 - start) * min(t, last) / last


# -- seed 003, example by example ---------------------------------------------------------------
def test_single_multistep_by_epoch():
    opt = sgd()
    sched = M.MultiStepLR(opt, milestones=[8, 11], gamma=0.1)
    expected = [BASE * 0.1 ** ((e >= 8) + (e >= 11)) for e in range(15)]
    np.testing.assert_allclose(run(sched, opt, 15), expected, rtol=1e-12)
    from_config = M.build_schedulers(dict(type="MultiStepLR", by_epoch=True, milestones=[8, 11],
                                          gamma=0.1), sgd())
    np.testing.assert_allclose(from_config.value_at(np.arange(15))["lr"][:, 0], expected,
                               rtol=1e-12)


def test_multistep_by_iteration():
    opt = sgd()
    sched = M.build_schedulers([dict(type="MultiStepLR", by_epoch=False, milestones=[600, 800],
                                     gamma=0.1)], opt)
    values = run(sched, opt, 1000)
    assert values[599] == BASE and values[600] == pytest.approx(BASE * 0.1)
    assert values[799] == pytest.approx(BASE * 0.1) and values[800] == pytest.approx(BASE * 0.01)


@pytest.mark.parametrize("how", ["build_iter_from_epoch", "convert_to_iter_based"])
def test_epoch_config_converted_to_iterations(how):
    length = 25
    opt = sgd()
    if how == "build_iter_from_epoch":
        sched = M.MultiStepLR.build_iter_from_epoch(opt, milestones=[8, 11], gamma=0.1,
                                                    epoch_length=length)
        assert not sched.by_epoch and sched.milestones == Counter({200: 1, 275: 1})
    else:
        sched = M.build_schedulers([dict(type="MultiStepLR", by_epoch=True, milestones=[8, 11],
                                         gamma=0.1, convert_to_iter_based=True)], opt,
                                   epoch_length=length)
    expected = [BASE * 0.1 ** ((t >= 8 * length) + (t >= 11 * length)) for t in range(14 * length)]
    np.testing.assert_allclose(run(sched, opt, 14 * length), expected, rtol=1e-12)


def test_cosine_by_epoch_and_converted():
    length = 10
    by_epoch = M.build_schedulers([dict(type="CosineAnnealingLR", by_epoch=True, T_max=12)], sgd(),
                                  epoch_length=length)
    per_epoch = [BASE * (1 + math.cos(math.pi * (t // length) / 12)) / 2 for t in range(120)]
    np.testing.assert_allclose(by_epoch.value_at(np.arange(120))["lr"][:, 0], per_epoch,
                               rtol=1e-12, atol=1e-18)
    smooth = M.build_schedulers([dict(type="CosineAnnealingLR", by_epoch=True, T_max=12,
                                      convert_to_iter_based=True)], sgd(), epoch_length=length)
    per_iter = [BASE * (1 + math.cos(math.pi * t / 120)) / 2 for t in range(120)]
    np.testing.assert_allclose(smooth.value_at(np.arange(120))["lr"][:, 0], per_iter,
                               rtol=1e-12, atol=1e-18)


def test_linear_warmup_then_multistep_by_epoch():
    length = 20
    opt = sgd()
    sched = M.build_schedulers([
        dict(type="LinearLR", start_factor=0.001, by_epoch=False, begin=0, end=50),
        dict(type="MultiStepLR", by_epoch=True, milestones=[8, 11], gamma=0.1),
    ], opt, epoch_length=length)
    expected = [BASE * warmup_factor(t, 0.001, 50) * 0.1 ** ((t // length >= 8)
                                                              + (t // length >= 11))
                for t in range(14 * length)]
    np.testing.assert_allclose(run(sched, opt, 14 * length), expected, rtol=1e-12)


def test_linear_then_cosine_in_sequence():
    opt = sgd()
    sched = M.build_schedulers([
        dict(type="LinearLR", start_factor=0.001, by_epoch=False, begin=0, end=100),
        dict(type="CosineAnnealingLR", T_max=800, by_epoch=False, begin=100, end=900),
    ], opt)
    def expected(t):
        if t < 100:
            return BASE * warmup_factor(t, 0.001, 100)
        local = min(t, 899) - 100  # the last active step's value holds after `end`
        return BASE * (1 + math.cos(math.pi * local / 800)) / 2
    # the textbook cosine written here loses digits near its end, so 1e-9 (cadence's is exact)
    np.testing.assert_allclose(run(sched, opt, 1000), [expected(t) for t in range(1000)],
                               rtol=1e-9)


def test_a_gap_keeps_the_value_and_overlaps_multiply():
    opt = sgd()
    sched = M.build_schedulers([
        dict(type="LinearLR", start_factor=0.1, by_epoch=False, begin=0, end=30),
        dict(type="ExponentialLR", gamma=0.95, by_epoch=False, begin=60, end=90),
        dict(type="ConstantLR", factor=0.5, by_epoch=False, begin=70, end=80),
    ], opt)
    def expected(t):
        warm = warmup_factor(t, 0.1, 30)
        decay = 0.95 ** (min(t, 89) - 60) if t >= 60 else 1.0
        constant = 0.5 if 70 <= t < 79 else 1.0  # 1 again at the window's last step
        return BASE * warm * decay * constant
    np.testing.assert_allclose(run(sched, opt, 120), [expected(t) for t in range(120)],
                               rtol=1e-12)


def test_momentum_and_generic_param_schedulers():
    opt = sgd()
    momentum = M.build_schedulers([dict(type="LinearMomentum", start_factor=0.001, by_epoch=False,
                                        begin=0, end=1000)], opt)
    np.testing.assert_allclose(run(momentum, opt, 1200, key="momentum"),
                               [0.9 * warmup_factor(t, 0.001, 1000) for t in range(1200)],
                               rtol=1e-12)
    adam = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=BASE, betas=(0.9, 0.99))
    M.LinearMomentum(adam, start_factor=0.5, by_epoch=False, begin=0, end=10)
    assert adam.param_groups[0]["betas"] == (0.45, 0.99)
    for name in ("lr", "weight_decay"):
        opt = sgd()
        sched = M.build_schedulers([dict(type="LinearParamScheduler", param_name=name,
                                         start_factor=0.001, by_epoch=False, begin=0, end=1000)],
                                   opt)
        base = opt.param_groups[0][f"initial_{name}"]
        np.testing.assert_allclose(run(sched, opt, 1100, key=name),
                                   [base * warmup_factor(t, 0.001, 1000) for t in range(1100)],
                                   rtol=1e-12)


def test_individual_schedulers_chain_on_one_optimizer():
    """Built by hand and stepped one after the other, they multiply, as in MMEngine."""
    opt = sgd()
    warm = M.LinearLR(opt, start_factor=0.1, by_epoch=False, begin=0, end=11)
    step = M.StepLR(opt, step_size=4, gamma=0.5, by_epoch=False)
    values = []
    for _ in range(20):
        values.append(opt.param_groups[0]["lr"])
        opt.step()
        warm.step()
        step.step()
    expected = [BASE * warmup_factor(t, 0.1, 11) * 0.5 ** (t // 4) for t in range(20)]
    np.testing.assert_allclose(values, expected, rtol=1e-12)


def test_reduce_on_plateau_by_metrics():
    opt = sgd()
    sched = M.ReduceOnPlateauLR(opt, monitor="loss", patience=0, factor=0.5)
    for loss in (1.0, 0.5, 0.8, 0.9):
        sched.step()  # an epoch
        sched.step({"loss": loss})
    assert opt.param_groups[0]["lr"] == pytest.approx(BASE * 0.25)
    with pytest.raises(KeyError, match="got key loss is not in dict"):
        sched.step({"acc": 1.0})


@pytest.mark.parametrize(
    ("configs", "kwargs", "message"),
    [([dict(type="MultiStepLr", milestones=[1])], {}, "unknown scheduler type 'MultiStepLr' in configs[0]; did you mean 'MultiStepLR'?"),
     ([dict(type="StepLR", step_size=2, gama=0.5)], {}, "unknown key 'gama' for StepLR in configs[0]; did you mean 'gamma'?"),
     ([dict(type="StepLR", step_size=2, by_epoch=False), dict(type="StepLR", step_size=2)], {},
      "'epoch_length' is needed to combine by-epoch and by-iteration schedulers"),
     ([dict(type="StepLR", step_size=2, convert_to_iter_based=True)], {}, "configs[0] asks for convert_to_iter_based: pass 'epoch_length'"),
     ([dict(type="LinearLR", begin=10, end=5)], {}, "configs[0]: end should be larger than begin, but got begin=10, end=5")],
)
def test_bad_configs(configs, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        M.build_schedulers(configs, sgd(), **kwargs)


# -- the real package -----------------------------------------------------------------------------
PARITY = {
    "multistep-epoch": ([dict(type="MultiStepLR", by_epoch=True, milestones=[8, 11], gamma=0.1)], 14, 5),
    "cosine-convert": ([dict(type="CosineAnnealingLR", by_epoch=True, T_max=12, convert_to_iter_based=True)], 14, 5),
    "warm+multistep": ([dict(type="LinearLR", start_factor=0.001, by_epoch=False, begin=0, end=50),
                        dict(type="MultiStepLR", by_epoch=True, milestones=[8, 11], gamma=0.1)], 14, 20),
    "warm+cosine": ([dict(type="LinearLR", start_factor=0.001, by_epoch=False, begin=0, end=100),
                     dict(type="CosineAnnealingLR", T_max=800, by_epoch=False, begin=100, end=900)], 10, 100),
    "gap": ([dict(type="LinearLR", start_factor=0.1, by_epoch=False, begin=0, end=30),
             dict(type="ExponentialLR", gamma=0.95, by_epoch=False, begin=60, end=90)], 12, 10),
    "overlap": ([dict(type="StepLR", step_size=7, gamma=0.5, by_epoch=False, begin=5, end=60),
                 dict(type="ConstantLR", factor=0.5, by_epoch=False, begin=20, end=40)], 10, 10),
    "poly": ([dict(type="PolyLR", eta_min=0.001, power=2.0, by_epoch=False, begin=10, end=70)], 10, 10),
    "cosine-eta-ratio": ([dict(type="CosineAnnealingLR", eta_min_ratio=0.05, by_epoch=False, begin=5, end=45)], 6, 10),
    "restart": ([dict(type="CosineRestartLR", periods=[10, 20, 15], restart_weights=[1, 0.5, 0.25],
                      eta_min=0.001, by_epoch=False, begin=0, end=100)], 8, 10),
    "one-cycle": ([dict(type="OneCycleLR", eta_max=0.5, total_steps=50, by_epoch=False)], 5, 10),
    "momentum": ([dict(type="CosineAnnealingMomentum", T_max=10, eta_min=0.8, by_epoch=False, begin=0, end=30),
                  dict(type="StepMomentum", step_size=3, gamma=0.9, by_epoch=True)], 6, 10),
    "weight-decay": ([dict(type="LinearParamScheduler", param_name="weight_decay", start_factor=0.001,
                           by_epoch=False, begin=0, end=100)], 3, 50),
}


@pytest.mark.parametrize("case", sorted(PARITY))
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_same_values_as_the_mmengine_package(case, kind):
    registry = pytest.importorskip("mmengine.registry")
    pytest.importorskip("mmengine.optim.scheduler")
    configs, epochs, length = PARITY[case]

    def make():
        groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1},
                  {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.02}]
        if kind == "adam":
            return torch.optim.Adam(groups, weight_decay=1e-4)
        return torch.optim.SGD(groups, momentum=0.9, weight_decay=1e-4)

    def record(opt):
        g = opt.param_groups
        return [g[0]["lr"], g[1]["lr"], g[0]["betas"][0] if kind == "adam" else g[0]["momentum"],
                g[0]["weight_decay"]]

    opt = make()
    theirs_schedulers = []
    for cfg in configs:
        cfg = dict(cfg)
        cls = registry.PARAM_SCHEDULERS.get(cfg.pop("type"))
        if cfg.pop("convert_to_iter_based", False):
            theirs_schedulers.append(cls.build_iter_from_epoch(opt, **cfg, epoch_length=length))
        else:
            theirs_schedulers.append(cls(opt, **cfg))
    theirs = []
    for _ in range(epochs):
        for _ in range(length):
            theirs.append(record(opt))
            opt.step()
            for s in theirs_schedulers:
                if not s.by_epoch:
                    s.step()
        for s in theirs_schedulers:
            if s.by_epoch:
                s.step()
    opt = make()
    ours_scheduler = M.build_schedulers([dict(c) for c in configs], opt, epoch_length=length)
    ours = []
    for _ in range(epochs * length):
        ours.append(record(opt))
        opt.step()
        ours_scheduler.step()
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)


# -- MMEngine's own classes, side by side ----------------------------------------------------------
def mm_module():
    import importlib

    return importlib.import_module("mmengine.optim.scheduler")


def two_groups():
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1},
                            {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.02}],
                           momentum=0.9)


def side_by_side(make, steps=30):
    out = []
    for module in (mm_module(), M):
        opt = two_groups()
        schedulers = make(module, opt)
        values = []
        for _ in range(steps):
            values.append([g["lr"] for g in opt.param_groups])
            opt.step()
            for s in schedulers:
                s.step()
        out.append(np.array(values))
    return out


@pytest.mark.parametrize("make", [
    lambda m, o: [m.LinearLR(o, start_factor=0.1, by_epoch=False, begin=0, end=5),
                  m.OneCycleLR(o, eta_max=0.5, total_steps=20, by_epoch=False, begin=5, end=25)],
    lambda m, o: [m.ExponentialLR(o, gamma=0.9, by_epoch=False, begin=0, end=6),
                  m.CosineRestartLR(o, periods=[5, 10], restart_weights=[1, 0.5], eta_min=0.001,
                                    by_epoch=False, begin=8, end=23)],
    lambda m, o: [m.OneCycleLR(o, eta_max=0.5, total_steps=10, by_epoch=False, begin=0, end=10),
                  m.StepLR(o, step_size=4, gamma=0.5, by_epoch=False, begin=10, end=30)],
], ids=["warmup-then-one-cycle", "exp-then-restarts", "one-cycle-then-step"])
def test_windows_chain_as_in_mmengine(make):
    """Each scheduler acts on what the earlier ones left, none on stale factors of another."""
    theirs, ours = side_by_side(make)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_optim_wrapper_resume_and_bad_optimizers_as_in_mmengine():
    from mmengine.optim import OptimWrapper

    def run(module):
        opt = OptimWrapper(two_groups())
        sched = module.CosineAnnealingLR(opt, T_max=8, eta_min=0.001, by_epoch=False)
        values = []
        for _ in range(12):
            values.append([g["lr"] for g in opt.param_groups])
            opt.step()
            sched.step()
        return values

    np.testing.assert_allclose(run(M), run(mm_module()), rtol=1e-12)
    for module in (mm_module(), M):
        with pytest.raises(KeyError, match="param 'initial_lr' is not specified"):
            module.StepLR(two_groups(), step_size=2, last_step=3)
        with pytest.raises(TypeError, match="should be an Optimizer"):
            module.ReduceOnPlateauLR("not an optimizer")


def test_every_mmengine_drop_in_is_an_instance_of_mmengines_class():
    upstream = mm_module()
    for name in M.__all__:
        ours = getattr(M, name)
        if isinstance(ours, type) and name != "ParamScheduler":
            assert issubclass(ours, getattr(upstream, name)), name
            assert issubclass(ours, M.ParamScheduler), name


# Each MMEngine ParamScheduler type on each hyperparameter: build_schedulers accepts what
# MMEngine's own class accepts and refuses, by name, what it refuses (OneCycle: the lr only).
PARAM_TYPES = {
    "StepParamScheduler": dict(step_size=2), "MultiStepParamScheduler": dict(milestones=[2]),
    "ConstantParamScheduler": dict(), "ExponentialParamScheduler": dict(gamma=0.9),
    "CosineAnnealingParamScheduler": dict(T_max=5), "LinearParamScheduler": dict(),
    "PolyParamScheduler": dict(), "OneCycleParamScheduler": dict(eta_max=0.1, total_steps=10),
    "CosineRestartParamScheduler": dict(periods=[5], eta_min=0.0),
    "ReduceOnPlateauParamScheduler": dict(monitor="loss", by_epoch=True),
}


@pytest.mark.parametrize("name", ["lr", "momentum", "weight_decay"])
@pytest.mark.parametrize("kind", sorted(PARAM_TYPES))
def test_build_schedulers_accepts_each_hyperparameter_where_mmengine_does(kind, name):
    mm = pytest.importorskip("mmengine.optim.scheduler")
    arguments = dict(param_name=name, **{"by_epoch": False, **PARAM_TYPES[kind]})
    try:
        getattr(mm, kind)(sgd(), **arguments)
        upstream = None
    except AssertionError as exc:  # MMEngine's way of refusing an argument
        upstream = exc
    if upstream is None:
        M.build_schedulers([dict(type=kind, **arguments)], sgd())
    else:
        with pytest.raises(ValueError, match=rf"configs\[0\] \({kind}\): 'param_name' must be "):
            M.build_schedulers([dict(type=kind, **arguments)], sgd())
    assert (upstream is not None) == (kind == "OneCycleParamScheduler" and name != "lr")


def test_a_plateau_by_iteration_is_refused_as_mmengine_does_and_alone_by_epoch_it_works():
    mm = pytest.importorskip("mmengine.optim.scheduler")
    config = dict(type="ReduceOnPlateauParamScheduler", param_name="lr", monitor="loss",
                  by_epoch=False)
    with pytest.raises(AssertionError, match="only support by_epoch=True"):
        mm.ReduceOnPlateauParamScheduler(sgd(), **{k: v for k, v in config.items() if k != "type"})
    with pytest.raises(ValueError, match=re.escape("'by_epoch' must be True, as in MMEngine")):
        M.build_schedulers([config], sgd())
    settings = {**config, "by_epoch": True, "patience": 0, "factor": 0.5}
    ours, theirs = sgd(), sgd()
    sched = M.build_schedulers([settings], ours)
    upstream = mm.ReduceOnPlateauParamScheduler(
        theirs, **{k: v for k, v in settings.items() if k != "type"})
    for loss in (1.0, 1.0, 0.5, 0.5, 0.5):
        ours.step(), theirs.step()
        sched.step(loss)
        upstream.step({"loss": loss})
        assert ours.param_groups[0]["lr"] == theirs.param_groups[0]["lr"]
    assert ours.param_groups[0]["lr"] < sgd().param_groups[0]["lr"] / 2  # it did reduce
