"""Targets in configs, plots and descriptions: a config that schedules several of them is built,
drawn and described, from Python and from the command line."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml

import cadence
from cadence.schedules import Constant, Cosine, EMAWarmup, Linear, Warmup
from cadence.tools.curves import curves, horizon
from cadence.tools.describe import describe
from cadence.tools.plot import plot

CONFIG = {
    "type": "scheduler",
    "lr": {"type": "warmup", "steps": 100, "schedule": {"type": "cosine", "steps": 900}},
    "kl_weight": {"type": "linear", "start": 0.0, "end": 1.0, "steps": 300},
    "dropout": {"type": "linear", "start": 1.0, "end": 0.0, "steps": 1000},
    "ema_decay": {"type": "ema_warmup", "end": 0.99, "power": 0.75},
    "targets": ["kl_weight", "dropout", "ema_decay"],
    "absolute": ["kl_weight", "ema_decay"],
}
SCHEDULES = {"lr": Warmup(Cosine(steps=900), steps=100),
             "kl_weight": Linear(start=0.0, end=1.0, steps=300),
             "dropout": Linear(start=1.0, end=0.0, steps=1000),
             "ema_decay": EMAWarmup(end=0.99, power=0.75)}


class Loss:
    kl_weight = 0.0


def test_a_config_with_targets_builds_the_scheduler_code_would():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss, update = Loss(), cadence.EMAUpdate()
    places = {"kl_weight": cadence.Attribute(loss, "kl_weight"),
              "dropout": cadence.Modules(model, "p", type=torch.nn.Dropout), "ema_decay": update}
    sched = cadence.build(CONFIG, opt, targets=places)
    assert sched.targets == ("kl_weight", "dropout", "ema_decay")
    steps = np.arange(0, 1200, 7)
    values = sched.value_at(steps)
    np.testing.assert_array_equal(values["kl_weight"][:, 0], np.minimum(steps, 300) / 300)
    np.testing.assert_allclose(values["dropout"][:, 0], 0.3 * (1 - np.minimum(steps, 1000) / 1000),
                               rtol=1e-14, atol=1e-17)
    np.testing.assert_allclose(values["ema_decay"][:, 0],
                               np.minimum(0.99, 1 - (1 + steps) ** -0.75), rtol=1e-14)
    for _ in range(50):
        opt.step()
    assert loss.kl_weight == 50 / 300 and update.decay == pytest.approx(1 - 51 ** -0.75)
    assert model[1].p == pytest.approx(0.3 * 0.95)


@pytest.mark.parametrize("config, targets, message", [
    (CONFIG, None, "the config declares the target 'kl_weight': pass where it lives"),
    (CONFIG, {"kl_weight": 1, "dropout": 2, "ema_decay": 3, "extra": 4},
     "'targets' names 'extra', which the config does not declare"),
    ({**CONFIG, "targets": ["kl_weight", "missing"]}, None,
     "declares the target 'missing' and gives it no schedule"),
    ({**CONFIG, "targets": "kl_weight"}, None, "'targets' must be a list of names"),
    ({"type": "cosine", "steps": 10}, {"kl_weight": 1}, "'targets' are for a config of type 'scheduler'"),
])
def test_config_mistakes_about_targets_are_named(config, targets, message):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises((ValueError, TypeError), match=message):
        cadence.build(config, opt, targets=targets)


def test_a_config_with_targets_is_previewed_plotted_and_described_without_its_objects():
    found = curves(CONFIG, 1000)
    assert [c.hyperparameter for c in found] == ["lr", "kl_weight", "dropout", "ema_decay"]
    for curve in found:  # factors of a base of 1, or the absolute values
        expected = SCHEDULES[curve.hyperparameter](curve.steps)
        np.testing.assert_allclose(curve.values, expected, rtol=1e-14, atol=1e-17)
    figure = plot(CONFIG, steps=1000)
    assert [ax.get_title() for ax in figure.axes] == ["lr", "kl_weight", "dropout", "ema_decay"]
    labels = [ax.get_ylabel() for ax in figure.axes]
    assert labels == ["lr (factor of the base lr)", "kl_weight (absolute)",
                      "dropout (factor of the base dropout)", "ema_decay (absolute)"]
    text = describe(CONFIG, 1000).text(width=200)
    for name in ("lr", "kl_weight", "dropout", "ema_decay"):
        assert f": {name}" in text
    # the horizon covers the target whose schedule reaches furthest (ema_decay's end at 463)
    assert horizon(CONFIG) == 1000
    assert horizon({**CONFIG, "dropout": {"type": "linear", "steps": 5000}}) == 5000


def test_a_live_scheduler_shows_one_curve_per_target_or_one_per_place():
    model = torch.nn.Sequential(*(torch.nn.Dropout(p) for p in (0.2, 0.2, 0.2, 0.5, 0.3)))
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    same = cadence.Modules(model, "p", name="[01]")  # two places, one base: one curve
    every = cadence.Modules(model, "p", name="[234]")  # three bases: a curve each
    sched = cadence.Scheduler(opt, lr=Constant(1.0), same=Linear(start=1.0, end=0.0, steps=10),
                              every=Linear(start=1.0, end=0.5, steps=10),
                              targets={"same": same, "every": every})
    found = curves(sched, 20)
    assert [(c.hyperparameter, c.place) for c in found] == [
        ("lr", None), ("same", None), ("every", "2.p"), ("every", "3.p"), ("every", "4.p")]
    figure = plot(sched, steps=20)
    assert [ax.get_title() for ax in figure.axes] == [
        "lr", "same", "every (2.p)", "every (3.p)", "every (4.p)"]


def test_cadence_plot_draws_a_config_file_that_schedules_several_targets(tmp_path):
    path = tmp_path / "training.yaml"
    path.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    png = tmp_path / "training.png"
    done = subprocess.run([sys.executable, "-m", "cadence", "plot", str(path), "-o", str(png)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    done = subprocess.run([sys.executable, "-m", "cadence", "describe", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "training: kl_weight" in done.stdout and "training: ema_decay" in done.stdout
