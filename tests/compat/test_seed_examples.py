"""The code examples of seeds 001 and 002, run with only the import changed.

(Seed 003's examples are in test_mmengine.py, seed 004's in test_d2l.py, seed 000's script in
test_all_in_one.py.) Where PyTorch itself can still run an example, its lrs are the reference.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from cadence.schedules import Cosine, CosineRestarts, Exponential, Noam, Polynomial, Step


def model():
    return torch.nn.Linear(3, 1)


def train(scheduler_module, build, epochs, step_metric=None):
    """Seed 001's loop: train, validate, scheduler.step() once per epoch."""
    torch.manual_seed(0)
    net = model()
    optim = torch.optim
    optimizer = optim.SGD(net.parameters(), lr=0.1)
    scheduler = build(scheduler_module, optimizer)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's own deprecations, when it is the reference
        for epoch in range(epochs):
            optimizer.zero_grad()
            net(torch.ones(1, 3)).sum().backward()
            optimizer.step()
            if step_metric is None:
                scheduler.step()
            else:
                scheduler.step(step_metric(epoch))
            lrs.append(scheduler.get_last_lr()[0])
    return lrs


def lr_scheduler_modules():
    import torch.optim.lr_scheduler as torch_lr_scheduler

    import cadence.compat.lr_scheduler as lr_scheduler  # the one changed import

    return torch_lr_scheduler, lr_scheduler


SEED_001 = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=30, gamma=0.1),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[50, 80], gamma=0.1),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.95),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=100, eta_min=0),
    "LambdaLR-linear": lambda m, o: m.LambdaLR(o, lr_lambda=lambda epoch: 1.0 - epoch / 100),
}


@pytest.mark.parametrize("name", sorted(SEED_001))
def test_seed_001_builtin_examples(name):
    theirs, ours = lr_scheduler_modules()
    np.testing.assert_allclose(train(ours, SEED_001[name], 100),
                               train(theirs, SEED_001[name], 100), rtol=1e-9, atol=1e-15)


def test_seed_001_reduce_on_plateau_and_one_cycle():
    theirs, ours = lr_scheduler_modules()
    val_loss = [1.0 / (1 + e) if e < 20 else 0.05 for e in range(100)]

    def plateau(m, o):
        return m.ReduceLROnPlateau(o, mode="min", factor=0.1, patience=10)

    assert train(ours, plateau, 100, val_loss.__getitem__) == train(
        theirs, plateau, 100, val_loss.__getitem__)

    def one_cycle(m, o):  # stepped per batch: 10 epochs of 12 batches
        return m.OneCycleLR(o, max_lr=0.1, steps_per_epoch=12, epochs=10)

    np.testing.assert_allclose(train(ours, one_cycle, 119), train(theirs, one_cycle, 119),
                               rtol=1e-9)


def cosine_annealing_with_warm_restart(epoch, T_0=10, T_mult=2, eta_min=0):
    """Seed 001's SGDR lambda, as written."""
    T_cur = epoch
    T_i = T_0
    while T_cur >= T_i:
        T_cur -= T_i
        T_i *= T_mult
    return eta_min + 0.5 * (1 - eta_min) * (1 + math.cos(math.pi * T_cur / T_i))


def test_seed_001_sgdr_lambda_equals_cosine_restarts():
    theirs, ours = lr_scheduler_modules()

    def build(m, o):
        return m.LambdaLR(o, lr_lambda=lambda e: cosine_annealing_with_warm_restart(e, T_0=10))

    via_lambda = train(ours, build, 150)
    np.testing.assert_allclose(via_lambda, train(theirs, build, 150), rtol=1e-12)
    restarts = CosineRestarts(period=10, period_mult=2)
    np.testing.assert_allclose(via_lambda, 0.1 * restarts(np.arange(1, 151)), rtol=1e-12)


def test_seed_001_custom_schedulers_run_with_the_import_switched():
    """The seed's two subclasses, verbatim but for the import. PyTorch 2.13 itself can no longer
    run them: its base class lost the `verbose` argument they pass."""
    from cadence.compat.lr_scheduler import _LRScheduler

    class MyExponentialLR(_LRScheduler):
        def __init__(self, optimizer, gamma, last_epoch=-1, verbose=False):
            self.gamma = gamma
            super().__init__(optimizer, last_epoch, verbose)

        def get_lr(self):
            if self.last_epoch == -1:
                return [group['lr'] for group in self.optimizer.param_groups]
            return [base_lr * (self.gamma ** self.last_epoch)
                    for base_lr in self.base_lrs]

    class WarmupCosineLR(_LRScheduler):
        def __init__(self, optimizer, warmup_epochs, max_epochs, eta_min=0, last_epoch=-1,
                     verbose=False):
            self.warmup_epochs = warmup_epochs
            self.max_epochs = max_epochs
            self.eta_min = eta_min
            super().__init__(optimizer, last_epoch, verbose)

        def get_lr(self):
            if self.last_epoch < self.warmup_epochs:
                return [base_lr * (self.last_epoch / self.warmup_epochs)
                        for base_lr in self.base_lrs]
            current_epoch = self.last_epoch - self.warmup_epochs
            total_cosine_epochs = self.max_epochs - self.warmup_epochs
            return [self.eta_min + (base_lr - self.eta_min) *
                    (1 + math.cos(math.pi * current_epoch / total_cosine_epochs)) / 2
                    for base_lr in self.base_lrs]

    with pytest.raises(TypeError):
        class TorchExponential(torch.optim.lr_scheduler.LRScheduler):
            def __init__(self, optimizer):
                super().__init__(optimizer, -1, False)  # what the seed does

            def get_lr(self):
                return [0.1]

        TorchExponential(torch.optim.SGD(model().parameters(), lr=0.1))

    exp = train(None, lambda m, o: MyExponentialLR(o, gamma=0.95), 50)
    theirs, _ = lr_scheduler_modules()
    np.testing.assert_allclose(exp, train(theirs, lambda m, o: m.ExponentialLR(o, 0.95), 50),
                               rtol=1e-12)
    warm = train(None, lambda m, o: WarmupCosineLR(o, warmup_epochs=5, max_epochs=100,
                                                  eta_min=1e-5), 100)
    expected = [0.1 * e / 5 if e < 5 else
                1e-5 + (0.1 - 1e-5) * (1 + math.cos(math.pi * (e - 5) / 95)) / 2
                for e in range(1, 101)]
    np.testing.assert_allclose(warm, expected, rtol=1e-12)
    opt = torch.optim.SGD(model().parameters(), lr=0.1)
    sched = WarmupCosineLR(opt, warmup_epochs=5, max_epochs=100)
    assert sched.get_last_lr() == [0.0] and sched.base_lrs == [0.1]


# -- seed 002 (Genesis) -----------------------------------------------------------------------
def test_seed_002_examples_with_the_import_switched(capsys, tmp_path):
    import cadence.compat.optim as optim  # was: import genesis.optim as optim

    net = torch.nn.Linear(10, 1)  # genesis.nn -> torch.nn: the model is not the scheduler's
    optimizer = optim.Adam(net.parameters(), lr=0.001)

    def lr_lambda(epoch):
        return 0.95 ** (epoch // 10)

    scheduler = optim.LambdaLR(optimizer, lr_lambda=lr_lambda)
    lrs = []
    for _epoch in range(100):
        optimizer.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    assert lrs == pytest.approx([0.001 * 0.95 ** (e // 10) for e in range(1, 101)], rel=1e-12)

    num_epochs, steps_per_epoch = 3, 20
    total_steps = num_epochs * steps_per_epoch
    optimizer = optim.AdamW(net.parameters(), lr=5e-4)
    scheduler = optim.get_cosine_schedule_with_warmup(
        optimizer, num_warmup_steps=total_steps // 10, num_training_steps=total_steps)
    for _ in range(total_steps):
        optimizer.step()
        scheduler.step()
    assert scheduler.get_last_lr()[0] == 0.0

    checkpoint = {"model_state_dict": net.state_dict(),
                  "optimizer_state_dict": optimizer.state_dict(),
                  "scheduler_state_dict": scheduler.state_dict()}
    torch.save(checkpoint, tmp_path / "checkpoint.pth")
    checkpoint = torch.load(tmp_path / "checkpoint.pth")
    scheduler.load_state_dict(checkpoint["scheduler_state_dict"])

    verbose = optim.LambdaLR(optim.SGD(net.parameters(), lr=0.1), lambda e: 0.5**e, verbose=True)
    with pytest.warns(UserWarning, match=r"before `optimizer.step\(\)`"):  # as PyTorch warns
        verbose.step()
    assert "Adjusting learning rate of group 0 to 5.0000e-02." in capsys.readouterr().out


def test_seed_002_patterns_each_in_one_line():
    t = np.arange(300)
    exponential = Exponential(rate=0.95)
    step = Step(every=30, gamma=0.5)
    polynomial = Polynomial(start=1.0, end=0.0, steps=100, power=0.9)
    restart = CosineRestarts(period=50)
    transformer = Noam(d_model=512, warmup_steps=4000)
    np.testing.assert_allclose(exponential(t), [0.95**e for e in t], rtol=1e-12)
    np.testing.assert_allclose(step(t), [0.5 ** (e // 30) for e in t], rtol=1e-15)
    np.testing.assert_allclose(polynomial(t[:101]), [(1 - e / 100) ** 0.9 for e in t[:101]],
                               rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(
        restart(t), [0.5 * (1 + math.cos(math.pi * (e % 50) / 50)) for e in t], rtol=1e-12)
    noam = [0 if s == 0 else min(s**-0.5, s * 4000**-1.5) * 512**-0.5 for s in range(20000)]
    np.testing.assert_allclose(transformer(np.arange(20000)), noam, rtol=1e-12)
    assert Cosine(start=1.0, end=0.0, steps=100)(100) == 0.0  # migration: CosineAnnealingLR(T_max=100)
