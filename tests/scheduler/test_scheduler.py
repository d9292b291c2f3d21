"""cadence.Scheduler: binding schedules to param groups."""

from __future__ import annotations

import copy
import math
import pickle
import re

import numpy as np
import pytest
import torch

from cadence import Scheduler
from cadence.schedules import Constant, Cosine, Lambda, Linear, Step, Warmup, join


def sgd(lrs=(0.1, 0.2, 0.3), names=None, **kwargs):
    groups = []
    for i, lr in enumerate(lrs):
        group = {"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr}
        if names and names[i]:
            group["name"] = names[i]
        groups.append(group)
    kwargs.setdefault("momentum", 0.9)
    return torch.optim.SGD(groups, **kwargs)


def adam(lrs=(0.01, 0.02), **kwargs):
    return torch.optim.Adam(
        [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs], **kwargs)


def lrs(opt):
    return [g["lr"] for g in opt.param_groups]


WARM = Warmup(Cosine(start=1.0, end=0.1, steps=90), steps=10, start=0.1)


def test_is_a_torch_lr_scheduler():
    opt = sgd()
    sched = Scheduler(opt, lr=WARM)
    assert isinstance(sched, torch.optim.lr_scheduler.LRScheduler)
    assert sched.optimizer is opt


def test_construction_writes_step_zero_and_step_advances():
    opt = sgd()
    sched = Scheduler(opt, lr=WARM, count="calls")
    assert lrs(opt) == [b * WARM(0) for b in (0.1, 0.2, 0.3)]
    for t in range(1, 120):
        sched.step()
        assert lrs(opt) == [b * WARM(t) for b in (0.1, 0.2, 0.3)]
        assert sched.last_epoch == t
    assert sched.base_lrs == [0.1, 0.2, 0.3]


def test_absolute_values():
    opt = sgd(weight_decay=1e-4)
    wd = Linear(start=1e-2, end=1e-3, steps=10)
    sched = Scheduler(opt, lr=WARM, weight_decay=wd, absolute={"weight_decay"}, count="calls")
    for t in range(15):
        assert [g["weight_decay"] for g in opt.param_groups] == [wd(t)] * 3
        assert lrs(opt) == [b * WARM(t) for b in (0.1, 0.2, 0.3)]
        sched.step()
    everything = Scheduler(sgd(), lr=Constant(0.5), absolute=True)
    assert lrs(everything.optimizer) == [0.5, 0.5, 0.5]


def test_momentum_on_sgd_and_on_adam_betas():
    opt = sgd()
    Scheduler(opt, momentum=Constant(0.5))
    assert [g["momentum"] for g in opt.param_groups] == [0.45] * 3
    opt = adam(betas=(0.9, 0.999))
    sched = Scheduler(opt, momentum=Linear(start=1.0, end=0.5, steps=4), count="calls")
    sched.step()
    assert [g["betas"] for g in opt.param_groups] == [(0.9 * 0.875, 0.999)] * 2
    opt = adam(betas=(0.9, 0.98))
    Scheduler(opt, beta1=Constant(0.5), beta2=Constant(0.5))
    assert opt.param_groups[0]["betas"] == (0.45, 0.49)


def test_any_key_of_a_group_can_be_scheduled():
    opt = adam()
    sched = Scheduler(opt, eps=Step(every=2, gamma=10.0), count="calls")
    sched.step()
    sched.step()
    assert [g["eps"] for g in opt.param_groups] == [pytest.approx(1e-7)] * 2


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"dampening": Constant(1.0)}, ValueError, "'dampening' is not a hyperparameter of param group 0 (it has: lr, betas, eps"),
        ({"params": Constant(1.0)}, ValueError, "'params' is not a hyperparameter"),
        ({}, ValueError, "Scheduler needs at least one hyperparameter to schedule"),
        ({"lr": "cosine"}, TypeError, "'lr' must be a Schedule, a number, or a mapping"),
        ({"lr": {1.5: Constant(1.0)}}, TypeError, "'lr' selectors must be group indices (int or tuple of ints), group names (str) or predicates (callable) (got 1.5)"),
        ({"lr": {5: Constant(1.0)}}, ValueError, "'lr' selects param group 5 but the optimizer has 1 group(s)"),
        ({"lr": {"head": Constant(1.0)}}, ValueError, "'lr' selects the group named 'head' but no param group has that 'name'"),
        ({"lr": {}}, ValueError, "'lr' must map at least one group selector"),
        ({"lr": WARM, "absolute": ["wd"]}, ValueError, "'absolute' names 'wd', which is not scheduled"),
        ({"lr": WARM, "count": "epochs"}, ValueError, "'count' must be one of 'updates', 'calls' (got 'epochs')"),
        ({"lr": WARM, "batch_size_mode": "cubic"}, ValueError, "'batch_size_mode' must be one of 'linear', 'sqrt', 'blend' (got 'cubic')"),
        ({"lr": WARM, "batch_size_mode": "sqrt"}, ValueError, "'base_batch_size' must be given with 'batch_size_mode'"),
        ({"lr": WARM, "batch_size_mode": "sqrt", "base_batch_size": 0}, ValueError, "'base_batch_size' must be a positive number (got 0)"),
        ({"lr": WARM, "plateau": "yes"}, TypeError, "'plateau' must be a ReduceOnPlateau"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
    with pytest.raises(error, match=re.escape(message)):
        Scheduler(opt, **kwargs)


def test_not_an_optimizer():
    with pytest.raises(TypeError, match=r"'optimizer' must be a torch\.optim\.Optimizer"):
        Scheduler(object(), lr=WARM)


def test_groups_by_index_name_and_predicate_and_the_rest_left_alone():
    opt = sgd(lrs=(0.1, 0.2, 0.3, 0.4), names=["backbone", "head", None, None])
    opt.param_groups[2]["weight_decay"] = 0.5
    fast, slow, frozen = Constant(2.0), Constant(0.5), Constant(0.0)
    sched = Scheduler(opt, lr={"head": fast, "backbone": slow,
                               (lambda g: g["weight_decay"] == 0.5): frozen}, count="calls")
    assert lrs(opt) == [0.05, 0.4, 0.0, 0.4]  # group 3 is selected by nobody: untouched
    sched.step()
    assert lrs(opt) == [0.05, 0.4, 0.0, 0.4]
    by_index = Scheduler(sgd(), lr={2: Constant(0.5)})
    assert lrs(by_index.optimizer) == [0.1, 0.2, 0.15]
    assert by_index.value_at(0)["lr"] == [None, None, 0.15]


def test_a_group_selected_twice_is_an_error():
    with pytest.raises(ValueError, match="param group 0 is selected twice for 'lr': 0 and 'a'"):
        Scheduler(sgd(names=["a", "b", "c"]), lr={0: WARM, "a": WARM})


def test_added_groups_get_their_own_base_and_follow_the_rule():
    opt = sgd(lrs=(0.1,), names=["body"])
    sched = Scheduler(opt, lr={"body": WARM, (lambda g: g.get("name") == "late"): Constant(0.5)},
                      weight_decay=Constant(1.0), count="calls")
    for _ in range(3):
        sched.step()
    opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.7,
                         "name": "late"})
    opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.9,
                         "name": "other"})
    assert sched.get_last_lr() == [0.1 * WARM(3), 0.7, 0.9]  # seen at the next call
    sched.step()
    assert lrs(opt) == [0.1 * WARM(4), 0.35, 0.9]
    assert sched.value_at(10)["lr"] == [0.1 * WARM(10), 0.35, None]
    assert sched.base_lrs == [0.1, 0.7, 0.9]
    state = sched.state_dict()
    assert state["bases"]["lr"] == [0.1, 0.7, None]
    # the state goes back into an optimizer built with the late groups
    opt2 = sgd(lrs=(0.1,), names=["body"])
    opt2.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.7,
                          "name": "late"})
    opt2.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.9,
                          "name": "other"})
    resumed = Scheduler(opt2, lr={"body": WARM,
                                  (lambda g: g.get("name") == "late"): Constant(0.5)},
                        weight_decay=Constant(1.0), count="calls")
    resumed.load_state_dict(state, strict=False)  # predicates are compared by name only
    assert lrs(opt2) == lrs(opt)


def test_saved_bases_wait_for_groups_not_added_yet():
    opt = sgd(lrs=(0.1, 0.2))
    sched = Scheduler(opt, lr=WARM, count="calls")
    opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.3})
    sched.step()
    state = sched.state_dict()
    fresh = sgd(lrs=(0.1, 0.2))
    again = Scheduler(fresh, lr=WARM, count="calls")
    again.load_state_dict(state)
    fresh.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 123.0})
    again.step()
    sched.step()
    assert lrs(fresh) == lrs(opt)  # the late group took its saved base, not 123


def test_base_is_not_taken_from_a_loaded_optimizer():
    opt = sgd()
    sched = Scheduler(opt, lr=WARM, count="calls")
    for _ in range(30):
        sched.step()
    saved = opt.state_dict()
    assert saved["param_groups"][0]["initial_lr"] == 0.1
    fresh = sgd(lrs=(5.0, 5.0, 5.0))
    fresh.load_state_dict(saved)  # lr is now the scheduled value at step 30
    rebuilt = Scheduler(fresh, lr=WARM)
    assert rebuilt.base_lrs == [0.1, 0.2, 0.3]
    assert lrs(fresh) == [b * WARM(0) for b in (0.1, 0.2, 0.3)]


def test_reading_has_no_side_effects():
    opt = sgd()
    sched = Scheduler(opt, lr=WARM, momentum=Constant(0.5), count="calls")
    for _ in range(5):
        sched.step()
    def snapshot():
        return [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]

    before = snapshot()
    for _ in range(3):
        assert sched.get_last_lr() == lrs(opt)
        assert sched.current_values() == {
            "lr": lrs(opt), "momentum": [g["momentum"] for g in opt.param_groups]}
        assert sched.value_at(50)["lr"] == [b * WARM(50) for b in (0.1, 0.2, 0.3)]
        grid = sched.value_at(np.arange(100))["lr"]
        assert grid.shape == (100, 3)
        np.testing.assert_allclose(grid[:, 1], 0.2 * WARM(np.arange(100)), rtol=1e-15)
        assert sched.get_lr() == lrs(opt)
    assert snapshot() == before
    assert sched.last_epoch == 5


def test_tensor_hyperparameters_are_updated_in_place():
    lr = torch.tensor(0.01, dtype=torch.float64)
    b1, b2 = torch.tensor(0.9), torch.tensor(0.999)
    param = torch.nn.Parameter(torch.zeros(3))
    opt = torch.optim.Adam([param], lr=lr, betas=(b1, b2), foreach=False)
    sched = Scheduler(opt, lr=WARM, momentum=Linear(start=1.0, end=0.9, steps=20), count="calls")
    for t in range(1, 30):
        sched.step()
        group = opt.param_groups[0]
        assert group["lr"] is lr and group["betas"][0] is b1 and group["betas"][1] is b2
        assert lr.dtype == torch.float64 and b1.dtype == torch.float32
        assert lr.item() == 0.01 * WARM(t)
        base = float(np.float32(0.9))  # the base is the tensor's value
        assert b1.item() == np.float32(base * Linear(start=1.0, end=0.9, steps=20)(t))
    assert isinstance(sched.get_last_lr()[0], torch.Tensor)
    assert sched.get_last_lr()[0] is not lr  # a copy


def test_many_tensor_groups_go_through_the_fast_paths():
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))],
               "lr": torch.tensor(0.1 * (i + 1), dtype=torch.float32)} for i in range(20)]
    params.append({"params": [torch.nn.Parameter(torch.zeros(1))],
                   "lr": torch.tensor(0.5, dtype=torch.bfloat16)})
    opt = torch.optim.SGD(params)
    tensors = [g["lr"] for g in opt.param_groups]
    sched = Scheduler(opt, lr=WARM, count="calls")
    for t in range(1, 12):
        sched.step()
        for i, tensor in enumerate(tensors[:-1]):
            assert tensor.item() == np.float32(np.float32(0.1 * (i + 1)).item() * WARM(t))
        assert tensors[-1].item() == pytest.approx(0.5 * WARM(t), rel=1e-2)  # bfloat16
        assert [g["lr"] for g in opt.param_groups] == tensors  # identity


def test_skipped_updates_do_not_advance_the_schedule():
    """GradScaler skips optimizer.step() when gradients are not finite: the schedule waits."""
    param = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.SGD([param], lr=0.1)
    sched = Scheduler(opt, lr=Linear(start=0.0, end=1.0, steps=10))
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**4)
    pattern = [True, True, False, True, False, False, True]
    for finite in pattern:
        opt.zero_grad()
        loss = (param * (1.0 if finite else math.inf)).sum()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        sched.step()
    assert sched.last_epoch == sum(pattern) == 4
    assert lrs(opt) == [0.1 * 0.4]


def test_gradient_accumulation_peaks_at_micro_batch_400():
    param = torch.nn.Parameter(torch.ones(1))
    opt = torch.optim.SGD([param], lr=1.0)
    warm = Warmup(Constant(1.0), steps=100)
    sched = Scheduler(opt, lr=warm)
    seen = []
    for micro_batch in range(1, 501):
        (param * 1e-6).sum().backward()
        if micro_batch % 4 == 0:
            opt.step()
            opt.zero_grad()
        sched.step()  # called every micro-batch: only real updates count
        seen.append(lrs(opt)[0])
    assert seen.index(1.0) + 1 == 400
    assert max(seen[:399]) < 1.0 and warm(100) == 1.0


def test_calls_count_every_step():
    opt = sgd()
    sched = Scheduler(opt, lr=WARM, count="calls")
    for _ in range(7):
        sched.step()
    assert sched.last_epoch == 7


def test_batch_size_scaling_applies_to_lr_only_by_default():
    opt = sgd(weight_decay=0.1)
    sched = Scheduler(opt, lr=Constant(1.0), weight_decay=Constant(1.0), batch_size_mode="sqrt",
                      base_batch_size=64, count="calls")
    sched.step(batch_size=256)
    assert lrs(opt) == [0.2, 0.4, 0.6]
    assert [g["weight_decay"] for g in opt.param_groups] == [0.1] * 3
    sched.step()  # no batch size: no scaling
    assert lrs(opt) == [0.1, 0.2, 0.3]
    both = Scheduler(sgd(weight_decay=0.1), lr=Constant(1.0), weight_decay=Constant(1.0),
                     batch_size_mode="linear", base_batch_size=32,
                     batch_scaled=("lr", "weight_decay"), count="calls")
    both.step(batch_size=128)
    assert [g["weight_decay"] for g in both.optimizer.param_groups] == [0.4] * 3
    blend = Scheduler(sgd(lrs=(1.0,)), lr=Constant(1.0), batch_size_mode="blend",
                      base_batch_size=16, count="calls")
    blend.step(batch_size=64)
    assert lrs(blend.optimizer) == [0.5 * 4 + 0.5 * 2]
    assert blend.value_at(3, batch_size=16)["lr"] == [1.0]
    with pytest.raises(ValueError, match=r"'batch_size' must be a positive number \(got 0\)"):
        blend.step(batch_size=0)


def test_last_epoch_can_be_set():
    opt = sgd()
    sched = Scheduler(opt, lr=WARM)
    sched.last_epoch = 42
    assert lrs(opt) == [b * WARM(42) for b in (0.1, 0.2, 0.3)]
    with pytest.raises(ValueError, match="'last_epoch' must be an int >= 0"):
        sched.last_epoch = -1


def test_pickle_and_deepcopy_continue_identically():
    opt = sgd()
    sched = Scheduler(opt, lr=WARM, momentum=Constant(0.9))
    for clone in (pickle.loads(pickle.dumps(sched)), copy.deepcopy(sched)):
        assert clone.optimizer is not opt
        for _ in range(5):
            clone.optimizer.step()
            clone.step()
        assert clone.last_epoch == 5  # the copy counts its own optimizer's updates
        assert lrs(clone.optimizer) == [b * WARM(5) for b in (0.1, 0.2, 0.3)]
    assert sched.last_epoch == 0


def test_a_lambda_that_cannot_be_pickled_is_named():
    sched = Scheduler(sgd(), lr=Lambda(lambda step: 1.0 / (step + 1)))
    with pytest.raises(pickle.PicklingError, match="<lambda>"):
        pickle.dumps(sched)
    copy.deepcopy(sched)  # copying needs no pickling


def test_repr():
    text = repr(Scheduler(sgd(names=["a", "b", "c"]), lr=join([Constant(1.0), WARM], [5]),
                          momentum={"a": Constant(1.0)}))
    assert text.startswith("Scheduler(SGD, lr=Join(") and "momentum={'a': Constant(" in text


# -- how trainers call a scheduler ---------------------------------------------------------------
def test_the_optimizers_updates_move_the_values_whatever_step_calls_come():
    opt = sgd()
    sched = Scheduler(opt, lr=WARM)
    for t in range(1, 30):
        opt.step()  # no sched.step(): the values already follow the update
        assert lrs(opt) == [b * WARM(t) for b in (0.1, 0.2, 0.3)]
        for _ in range(t % 3):  # a trainer stepping per epoch, per micro-batch, twice...
            sched.step()
        assert sched.last_epoch == t and lrs(opt) == [b * WARM(t) for b in (0.1, 0.2, 0.3)]


def test_step_takes_a_metric_positionally_only_with_a_plateau():
    sched = Scheduler(sgd(), lr=WARM)
    assert not isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau)
    with pytest.raises(TypeError, match=re.escape("step(0.5) feeds a plateau controller")):
        sched.step(0.5)  # seed 000's positional batch size is step(batch_size=...) here
    assert lrs(sched.optimizer) == [b * WARM(0) for b in (0.1, 0.2, 0.3)]


def test_a_scheduler_with_a_plateau_is_pytorchs_reduce_lr_on_plateau_too():
    from cadence import PlateauScheduler, ReduceOnPlateau

    metrics = [5.0, 4.0, 4.5, 4.4, 4.3, 3.0, 3.5, 3.6, 3.7, 3.8]
    ours_opt, theirs_opt = sgd(lrs=(0.1,)), sgd(lrs=(0.1,))
    ours = Scheduler(ours_opt, lr=Constant(1.0),
                     plateau=ReduceOnPlateau(patience=1, factor=0.5, cooldown=1, sync=False))
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, patience=1, factor=0.5,
                                                        cooldown=1)
    assert type(ours) is PlateauScheduler
    assert isinstance(ours, torch.optim.lr_scheduler.ReduceLROnPlateau)
    assert isinstance(ours, torch.optim.lr_scheduler.LRScheduler)
    for value in metrics:
        ours.step(value)
        theirs.step(value)
        assert lrs(ours_opt) == pytest.approx(lrs(theirs_opt), rel=1e-12)
        assert (ours.best, ours.num_bad_epochs, ours.cooldown_counter) == (
            theirs.best, theirs.num_bad_epochs, theirs.cooldown_counter)
    assert lrs(ours_opt)[0] < 0.1  # it reduced
    assert (ours.mode, ours.patience, ours.factor) == ("min", 1, 0.5)


@pytest.mark.parametrize("container", ["torch", "cadence"])
@pytest.mark.parametrize("count", ["updates", "calls"])
def test_inside_sequential_lr_as_pytorchs_schedulers(container, count):
    from cadence.compat import lr_scheduler as compat

    module = torch.optim.lr_scheduler if container == "torch" else compat

    def run(children):
        opt = sgd()
        sched = module.SequentialLR(opt, children(opt), milestones=[5])
        seen = []
        for _ in range(14):  # 5 steps of warm-up, then the 9 of the cosine
            seen.append(lrs(opt))
            opt.step()
            sched.step()
        return seen

    theirs = run(lambda o: [torch.optim.lr_scheduler.LinearLR(o, 0.1, 1.0, total_iters=5),
                            torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=9)])
    ours = run(lambda o: [Scheduler(o, lr=Linear(start=0.1, end=1.0, steps=5), count=count),
                          Scheduler(o, lr=Cosine(steps=9), count=count)])
    assert np.allclose(ours, theirs, rtol=1e-12, atol=0)
