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
    # the run the lr's schedule sizes (1000 steps): a target that reaches further does not
    # stretch the view past it; with an lr that does not size a run, the targets do
    assert horizon(CONFIG) == 1000
    assert horizon({**CONFIG, "dropout": {"type": "linear", "steps": 5000}}) == 1000
    assert horizon({**CONFIG, "lr": {"type": "constant", "value": 1.0},
                    "dropout": {"type": "linear", "steps": 5000}}) == 5000


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


# -- a value outside the optimizer that the config forgot to declare --------------------------
FORGOT = {key: value for key, value in CONFIG.items() if key not in ("targets", "dropout")}
FORGOT["absolute"] = ["kl_weight", "ema_decay"]


def test_a_config_that_forgets_targets_is_told_how_to_declare_them():
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError) as caught:
        cadence.build(FORGOT, opt)
    message = str(caught.value)
    assert message.startswith("the config schedules 'kl_weight', which is not a hyperparameter "
                              "of param group 0 (it has: lr, betas, eps, weight_decay")
    assert "declare it in the config's targets: 'targets: [kl_weight]'" in message
    assert ("cadence.build(config, optimizer, targets={'kl_weight': cadence.Attribute(obj, "
            "'kl_weight')})") in message
    # a config that declares some targets is told to add the one it forgot to its list
    with pytest.raises(ValueError, match=r"'targets: \[ema_decay, kl_weight\]'"):
        cadence.build({**FORGOT, "targets": ["ema_decay"]}, opt,
                      targets={"ema_decay": cadence.EMAUpdate()})


def test_the_scheduler_says_how_to_make_a_value_a_target():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError) as caught:
        cadence.Scheduler(opt, kl_weight=Linear(start=0.0, end=1.0, steps=10))
    assert str(caught.value) == (
        "'kl_weight' is not a hyperparameter of param group 0 (it has: lr, momentum, dampening, "
        "weight_decay, nesterov, maximize, foreach, differentiable, fused): to schedule a value "
        "outside the optimizer (a loss weight, an EMA decay), say where it lives: "
        "cadence.Scheduler(optimizer, kl_weight=..., targets={'kl_weight': "
        "cadence.Attribute(obj, 'kl_weight')})")


@pytest.mark.parametrize("command", ["describe", "plot", "preview"])
def test_a_preview_of_a_config_that_forgets_targets_does_not_blame_a_stand_in(tmp_path, command):
    path = tmp_path / "vae.yaml"
    path.write_text(yaml.safe_dump(FORGOT, sort_keys=False), encoding="utf-8")
    extra = ["-o", str(tmp_path / "vae.png")] if command == "plot" else []
    done = subprocess.run([sys.executable, "-m", "cadence", command, str(path), *extra],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"cadence {command}: error: {str(path)!r}: 'kl_weight' is not an "
                           "optimizer hyperparameter (a preview knows lr, momentum, "
                           "weight_decay, betas, eps, and beta1 and beta2 for the betas)")
    assert "declare it in the config's targets: 'targets: [kl_weight]'" in line
    assert "param group" not in line  # the stand-in is nobody's param group


def test_a_preview_draws_the_hyperparameters_of_the_adam_family():
    config = {"type": "scheduler", "lr": {"type": "cosine", "steps": 10},
              "beta2": {"type": "linear", "start": 1.0, "end": 0.5, "steps": 10},
              "eps": {"type": "constant", "value": 2.0}}
    found = {c.hyperparameter: c.values for c in curves(config, 11)}
    np.testing.assert_allclose(found["beta2"], 1.0 - 0.5 * np.minimum(np.arange(11), 10) / 10)
    np.testing.assert_allclose(found["eps"], 2.0)
