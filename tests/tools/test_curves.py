"""Curves of any spec, the horizon a view shows by default, and the lazy tools package."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from dataclasses import dataclass

import pytest
import torch

import cadence
import cadence.tools
from cadence.config import register, unregister
from cadence.schedules import (
    WSD,
    Constant,
    Cosine,
    CosineRestarts,
    CosineWave,
    Cyclic,
    Exponential,
    InverseSqrt,
    Linear,
    MultiStep,
    Noam,
    Offset,
    OneCycle,
    Quantize,
    Repeat,
    Reverse,
    Schedule,
    Step,
    Stretch,
    Warmup,
    join,
)
from cadence.tools.curves import DEFAULT_STEPS, MAX_STEPS, curves, horizon, load
from cadence.validation import InvalidInput, InvalidType, InvalidValue


@pytest.mark.parametrize(("schedule", "steps"), [
    (Cosine(steps=500), 500),
    (Linear(start=0.0, end=1.0, steps=37), 37),
    (Warmup(Cosine(steps=900), steps=100), 1000),
    (Warmup(Cosine(steps=900), steps=100, mode="overlay"), 900),
    (join([Linear(steps=100), Cosine(steps=300)], [100]), 400),
    (join([Linear(steps=100), Constant(0.5)], [100]), 125),  # holds after its last boundary
    (join([Linear(steps=4000), Exponential(rate=0.99)], [4000]), 5000),
    (OneCycle(total_steps=2345), 2345),
    (WSD(warmup_steps=10, stable_steps=100, decay_steps=50), 160),
    (MultiStep(milestones=[40, 80]), 100),  # a bit past the last milestone
    (CosineRestarts(period=10, period_mult=2, cycles=3), 70),
    (CosineRestarts(period=10, cycles=4), 40),
    (Stretch(Cosine(steps=100), factor=2.5), 250),
    (Offset(Linear(steps=100), steps=30), 70),
    (Reverse(Cosine(steps=60), steps=40), 40),
    (Quantize(Cosine(steps=100), every=10), 125),
    (2.0 * Cosine(steps=300) + 0.1, 300),
    (Cosine(steps=300) * Linear(steps=200), 300),
    (Cosine(steps=300) + Linear(steps=350), 350),
    (Cyclic(start=0.1, peak=1.0, up_steps=2000), 5000),  # one cycle and a bit, at least 1000
])
def test_a_schedule_is_shown_over_its_own_length(schedule, steps):
    assert horizon(schedule) == steps


@pytest.mark.parametrize("schedule", [
    Constant(1.0), Exponential(rate=0.99), InverseSqrt(timescale=10.0), Step(every=30),
    Noam(d_model=512, warmup_steps=100), CosineWave(steps=300), CosineRestarts(period=100),
    Repeat(Cosine(steps=50), period=50), Cosine(steps=300) * Exponential(rate=0.999),
])
def test_a_schedule_with_no_end_is_shown_over_1000_steps(schedule):
    assert horizon(schedule) == DEFAULT_STEPS == 1000


@pytest.mark.parametrize("name", ["cosine", "one-cycle", "multistep", "constant", "warm-restarts"])
def test_a_preset_is_shown_over_the_size_it_is_built_for(name):
    assert horizon(name) == 1000


def test_configs_files_and_schedulers_have_horizons(tmp_path):
    (tmp_path / "s.yaml").write_text("type: cosine\nsteps: 640\n")
    (tmp_path / "s.json").write_text(json.dumps({"type": "one_cycle", "total_steps": 90}))
    assert horizon(str(tmp_path / "s.yaml")) == 640
    assert horizon(tmp_path / "s.json") == 90
    assert horizon({"type": "multistep", "milestones": [400]}) == 500
    assert horizon('{"type": "torch.OneCycleLR", "max_lr": 1, "total_steps": 700}') == 700
    assert horizon({"type": "scheduler", "lr": {"type": "cosine", "steps": 300},
                    "momentum": {"type": "linear", "steps": 450}}) == 450
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    assert horizon(cadence.Scheduler(optimizer, lr=Cosine(steps=250))) == 250


def test_every_built_in_schedule_type_has_a_horizon_rule():
    from cadence.config import lookup, registered
    from cadence.schedules.extents import _EXTENTS

    assert {lookup(name) for name in registered()} <= set(_EXTENTS)


def test_every_example_schedule_has_a_horizon_it_can_show(example):
    _, schedule, _ = example
    assert 1 <= horizon(schedule) <= MAX_STEPS


def test_a_users_schedule_type_reaches_its_steps_field():
    @register("test_curves_ramp")
    @dataclass(frozen=True)
    class Ramp(Schedule):
        steps: int

        def _eval(self, t, xp):
            return xp.minimum(t / self.steps, 1.0)

    try:
        assert horizon(Ramp(300)) == 300
    finally:
        unregister("test_curves_ramp")


def test_curves_refuse_more_steps_than_they_can_hold():
    with pytest.raises(InvalidValue, match=r"'steps' must be at most 10,000,000 steps to show "
                                           r"\(got 10,000,001\)"):
        curves(Cosine(steps=10), MAX_STEPS + 1)


def test_a_list_of_configs_must_hold_mappings():
    with pytest.raises(InvalidType, match=r"must hold mappings with a 'type' key \(got 3 at "
                                          r"index 1\)"):
        load([{"type": "LinearLR"}, 3])
    with pytest.raises(InvalidValue, match="at least one config"):
        load("[]")


def test_a_mistake_in_a_file_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("type: cosine\nstep: 10\n")
    with pytest.raises(InvalidValue, match=r"^'.*bad\.yaml': unknown key 'step'"):
        load(str(path))
    with pytest.raises(InvalidInput, match=r"bad\.yaml"):
        curves(path, 10)


def test_unknown_types_are_refused_with_the_nearest_name_and_no_torch():
    code = ("import sys\n"
            "from cadence.tools.curves import load\n"
            "try:\n"
            "    load({'type': 'cosin', 'steps': 10})\n"
            "except ValueError as e:\n"
            "    assert \"did you mean 'cosine'\" in str(e), e\n"
            "load('{\"type\": \"cosine\", \"steps\": 10}'); load('warmup-cosine')\n"
            "assert 'torch' not in sys.modules\n"
            "load({'type': 'torch.StepLR', 'step_size': 3})\n"
            "assert 'torch' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


def test_the_scheduler_types_are_those_build_takes_beyond_schedules():
    from cadence.compat.configs import known_types
    from cadence.config import registered
    from cadence.tools.curves import BOUND_FAMILIES, BOUND_TYPES, needs_optimizer

    beyond = set(known_types()) - set(registered())
    assert {t for t in beyond if "." not in t} == set(BOUND_TYPES)
    assert {t.split(".")[0] + "." for t in beyond if "." in t} == set(BOUND_FAMILIES)
    assert all(needs_optimizer({"type": t}) for t in beyond)
    assert not any(needs_optimizer({"type": t}) for t in registered())


# -- the package ------------------------------------------------------------------------------
def test_the_package_loads_its_names_on_first_use():
    for name in cadence.tools.__all__:
        assert getattr(cadence.tools, name) is not None
    assert set(cadence.tools.__all__) <= set(dir(cadence.tools))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        cadence.tools.nope  # noqa: B018


def test_a_function_named_like_its_module_stays_the_function():
    code = ("import types\n"
            "import cadence.tools.preview, cadence.tools.plot, cadence.tools.describe\n"
            "from cadence.tools import describe, plot, preview\n"
            "assert all(isinstance(f, types.FunctionType) for f in (describe, plot, preview))\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
    from cadence.tools import curves as function

    assert isinstance(function, types.FunctionType)
