"""HyperparameterLog: the values each optimizer update uses, in memory, CSV and TensorBoard."""

from __future__ import annotations

import csv
import re
import sys
import types

import pytest
import torch

import cadence as cd
from cadence.schedules import Cosine, Linear, Warmup
from cadence.tools.record import HyperparameterLog


def sgd_two_groups() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.SGD([{"params": [model.weight]}, {"params": [model.bias], "lr": 0.01}],
                          lr=0.1, momentum=0.9)
    return model, opt


def train(model: torch.nn.Module, opt: torch.optim.Optimizer, updates: int,
          sched: cd.Scheduler | None = None) -> None:
    x = torch.ones(4, 3)
    for _ in range(updates):
        model(x).square().sum().backward()
        opt.step()
        opt.zero_grad()
        if sched is not None:
            sched.step()


class FakeWriter:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float, int]] = []

    def add_scalar(self, tag: str, value: float, global_step: int) -> None:
        self.calls.append((tag, value, global_step))


def test_logged_lr_is_the_one_the_scheduler_wrote_before_each_update():
    model, opt = sgd_two_groups()
    sched = cd.Scheduler(opt, lr=Warmup(Cosine(steps=10), steps=5))
    with HyperparameterLog(opt) as log:
        train(model, opt, 12, sched)
    assert log.columns == ["update", "lr/0", "lr/1", "momentum/0", "momentum/1",
                           "weight_decay/0", "weight_decay/1"]
    assert [row["update"] for row in log.rows] == list(range(12))
    for k, row in enumerate(log.rows):
        expected = sched.value_at(k)["lr"]
        assert [row["lr/0"], row["lr/1"]] == expected
        assert (row["momentum/0"], row["momentum/1"]) == (0.9, 0.9)
        assert (row["weight_decay/0"], row["weight_decay/1"]) == (0.0, 0.0)
    assert log.rows[0]["lr/0"] == 0.0 and log.rows[5]["lr/0"] == pytest.approx(0.1)


def test_csv_holds_the_rows(tmp_path):
    path = tmp_path / "hp.csv"
    model, opt = sgd_two_groups()
    sched = cd.Scheduler(opt, lr=Warmup(Cosine(steps=10), steps=5))
    log = HyperparameterLog(opt, names=("lr", "momentum"), csv=path)
    train(model, opt, 7, sched)
    with open(path, newline="") as f:  # flushed per row: readable before close
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["update", "lr/0", "lr/1", "momentum/0", "momentum/1"]
        parsed = [{k: (int(v) if k == "update" else float(v)) for k, v in r.items()} for r in reader]
    assert parsed == log.rows and len(parsed) == 7
    log.close()
    assert path.read_text().splitlines()[0] == "update,lr/0,lr/1,momentum/0,momentum/1"


def test_a_group_added_later_adds_columns_and_rewrites_the_csv(tmp_path):
    path = tmp_path / "hp.csv"
    model, opt = sgd_two_groups()
    extra = torch.nn.Parameter(torch.ones(2))
    with HyperparameterLog(opt, names=("lr",), csv=path) as log:
        train(model, opt, 2)
        opt.add_param_group({"params": [extra], "lr": 0.5})
        train(model, opt, 1)
    assert log.columns == ["update", "lr/0", "lr/1", "lr/2"]
    assert log.rows[2] == {"update": 2, "lr/0": 0.1, "lr/1": 0.01, "lr/2": 0.5}
    with open(path, newline="") as f:
        got = list(csv.reader(f))
    assert got == [["update", "lr/0", "lr/1", "lr/2"], ["0", "0.1", "0.01", ""],
                   ["1", "0.1", "0.01", ""], ["2", "0.1", "0.01", "0.5"]]


def test_writer_receives_each_value():
    model, opt = sgd_two_groups()
    sched = cd.Scheduler(opt, lr=Warmup(Cosine(steps=10), steps=5))
    writer = FakeWriter()
    with HyperparameterLog(opt, names=("lr", "momentum"), tensorboard=writer) as log:
        train(model, opt, 3, sched)
    expected = []
    for k in range(3):
        lrs = sched.value_at(k)["lr"]
        expected += [("lr/group0", lrs[0], k), ("lr/group1", lrs[1], k),
                     ("momentum/group0", 0.9, k), ("momentum/group1", 0.9, k)]
    assert writer.calls == expected
    assert len(log.rows) == 3


def test_adam_betas_are_logged_as_momentum_and_tensor_lrs_as_floats():
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.Adam([p], lr=torch.tensor(0.01), betas=(0.85, 0.99), weight_decay=0.1)
    with HyperparameterLog(opt) as log:
        opt.step()
    (row,) = log.rows
    assert log.columns == ["update", "lr/0", "momentum/0", "weight_decay/0"]
    assert row == {"update": 0, "lr/0": pytest.approx(0.01), "momentum/0": 0.85,
                   "weight_decay/0": 0.1}
    assert type(row["lr/0"]) is float
    with HyperparameterLog(opt, names=("beta2", "eps")) as log:
        opt.step()
    assert log.rows == [{"update": 0, "beta2/0": 0.99, "eps/0": 1e-8}]


def test_default_names_skip_what_the_optimizer_lacks():
    opt = torch.optim.Adagrad([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with HyperparameterLog(opt) as log:
        opt.step()
    assert log.columns == ["update", "lr/0", "weight_decay/0"]


def test_close_removes_the_hook(tmp_path):
    model, opt = sgd_two_groups()
    log = HyperparameterLog(opt, csv=tmp_path / "hp.csv")
    train(model, opt, 2)
    assert not log.closed
    log.close()
    log.close()  # twice is fine
    train(model, opt, 3)
    assert len(log.rows) == 2 and log.closed
    assert not opt._optimizer_step_pre_hooks
    assert "updates=2, closed" in repr(log)


def test_tensorboard_path_writes_event_files(tmp_path):
    pytest.importorskip("tensorboard")
    pytest.importorskip("torch.utils.tensorboard")
    model, opt = sgd_two_groups()
    with HyperparameterLog(opt, tensorboard=tmp_path / "runs") as log:
        train(model, opt, 2)
    assert len(log.rows) == 2
    assert list((tmp_path / "runs").glob("events.out.tfevents.*"))


def test_tensorboard_path_uses_a_summary_writer_made_and_closed_here(tmp_path, monkeypatch):
    made = []

    class SummaryWriter(FakeWriter):
        def __init__(self, log_dir: str) -> None:
            super().__init__()
            self.log_dir, self.closed = log_dir, False
            made.append(self)

        def close(self) -> None:
            self.closed = True

    module = types.ModuleType("torch.utils.tensorboard")
    module.SummaryWriter = SummaryWriter  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", module)
    model, opt = sgd_two_groups()
    with HyperparameterLog(opt, names=("lr",), tensorboard=tmp_path / "runs"):
        train(model, opt, 1)
    (writer,) = made
    assert writer.log_dir == str(tmp_path / "runs") and writer.closed
    assert writer.calls == [("lr/group0", 0.1, 0), ("lr/group1", 0.01, 0)]


def test_tensorboard_path_without_tensorboard_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # the import fails
    _, opt = sgd_two_groups()
    with pytest.raises(ImportError, match=r"needs the 'tensorboard' package \(pip install tensorboard\)"):
        HyperparameterLog(opt, tensorboard=str(tmp_path))
    assert not opt._optimizer_step_pre_hooks


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"names": "lr"}, TypeError, "'names' must be a non-empty sequence of distinct hyperparameter names (got 'lr')"),
        ({"names": ()}, TypeError, "'names' must be a non-empty sequence"),
        ({"names": ("lr", 1)}, TypeError, "'names' must be a non-empty sequence"),
        ({"names": ("lr", "lr")}, ValueError, "distinct hyperparameter names (got ('lr', 'lr'))"),
        ({"names": ("params",)}, ValueError, "'params' is not one"),
        ({"names": ("lr", "betas1")}, ValueError, "'betas1' is in no group; they have: dampening"),
        ({"names": ("foreach",)}, ValueError, "'foreach' of param group 0 is None"),
        ({"csv": 3}, TypeError, "'csv' must be a file path (got 3)"),
        ({"tensorboard": 3}, TypeError, "'tensorboard' must be a directory path or a writer"),
    ],
)
def test_argument_errors(kwargs, error, message):
    _, opt = sgd_two_groups()
    with pytest.raises(error, match=re.escape(message)):
        HyperparameterLog(opt, **kwargs)
    assert not opt._optimizer_step_pre_hooks


def test_optimizer_must_be_an_optimizer():
    with pytest.raises(TypeError, match=r"'optimizer' must be a torch.optim.Optimizer \(got 'sgd'\)"):
        HyperparameterLog("sgd")  # type: ignore[arg-type]


def test_targets_are_logged_with_the_values_each_update_uses(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Dropout(0.2), torch.nn.Dropout(0.4))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    weights = {"kl": 0.0}
    places = {"kl": cd.Item(weights, "kl"), "dropout": cd.Modules(model, "p", type=torch.nn.Dropout)}
    sched = cd.Scheduler(opt, kl=Linear(start=0.0, end=1.0, steps=4), absolute=["kl"],
                         dropout=Linear(start=1.0, end=0.5, steps=4), targets=places)
    writer = FakeWriter()
    path = tmp_path / "log.csv"
    with HyperparameterLog(opt, names=("lr",), csv=path, tensorboard=writer, targets=places) as log:
        for _ in range(6):
            model(torch.ones(2, 3)).sum().backward()
            opt.step()
            opt.zero_grad()
    assert sched.current_step == 6
    assert log.columns == ["update", "lr/0", "kl", "dropout/1.p", "dropout/2.p"]
    for k, row in enumerate(log.rows):  # read before update k: the values at step k
        factor = 1 - 0.5 * min(k, 4) / 4
        assert row["kl"] == min(k, 4) / 4
        assert (row["dropout/1.p"], row["dropout/2.p"]) == pytest.approx((0.2 * factor, 0.4 * factor))
    assert ("kl", 0.5, 2) in writer.calls and ("dropout/2.p", pytest.approx(0.3), 2) in writer.calls
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [float(r["kl"]) for r in rows] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]


def test_a_module_put_in_the_place_of_another_is_recorded_in_its_column(tmp_path):
    """A Modules target follows the model: after ``model[2]`` is replaced, its column holds
    what the new module uses, and a dropout added at a new place gets a column of its own."""
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Dropout(0.2), torch.nn.Dropout(0.4))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    places = {"dropout": cd.Modules(model, "p", type=torch.nn.Dropout)}
    sched = cd.Scheduler(opt, dropout=Linear(start=1.0, end=0.5, steps=4), targets=places)
    path = tmp_path / "log.csv"
    with HyperparameterLog(opt, names=("lr",), csv=path, targets=places) as log:
        for k in range(6):
            if k == 3:
                model[2] = torch.nn.Dropout(0.8)  # a new module in the same place
                model.append(torch.nn.Dropout(0.1))  # and one at a new place
            opt.step()
    assert sched.current_step == 6
    assert log.columns == ["update", "lr/0", "dropout/1.p", "dropout/2.p", "dropout/3.p"]
    new = [row["dropout/2.p"] for row in log.rows[3:]]
    assert new[0] == 0.8 and new[1:] == pytest.approx([0.8 * (1 - 0.5 * min(k, 4) / 4)
                                                      for k in (4, 5)])
    assert [row.get("dropout/3.p") for row in log.rows] == [None] * 3 + [0.1, 0.05, 0.05]
    with open(path, newline="", encoding="utf-8") as file:
        header = next(csv.reader(file))
    assert header == log.columns
