"""Bad arguments are refused at construction, naming the argument, the rule and the value."""

from __future__ import annotations

import math
import re

import pytest

from cadence import schedules as S

GOOD_COSINE = S.Cosine(steps=10)

CASES = [
    (S.Constant, {"value": math.nan}, ValueError, "'value' must be a finite number (got nan)"),
    (S.Constant, {"value": "1"}, TypeError, "'value' must be a finite number (got '1')"),
    (S.Linear, {"steps": 0}, ValueError, "'steps' must be a positive number (got 0)"),
    (S.Linear, {"steps": -2.5}, ValueError, "'steps' must be a positive number (got -2.5)"),
    (S.Linear, {"steps": True}, TypeError, "'steps' must be a positive number (got True)"),
    (S.Cosine, {"steps": 10, "end": math.inf}, ValueError, "'end' must be a finite number"),
    (S.Polynomial, {"steps": 10, "power": 0}, ValueError, "'power' must be a positive number (got 0)"),
    (S.Geometric, {"steps": 10, "start": 0.0}, ValueError, "'start' must be a positive number (got 0.0)"),
    (S.Exponential, {"rate": -1}, ValueError, "'rate' must be a positive number (got -1)"),
    (S.Exponential, {"rate": 0.9, "floor": "x"}, TypeError, "'floor' must be a finite number (got 'x')"),
    (S.Step, {"every": 0, "gamma": 0.1}, ValueError, "'every' must be a positive number (got 0)"),
    (S.Step, {"every": 10, "gamma": -1}, ValueError, "'gamma' must be a positive number (got -1)"),
    (S.MultiStep, {"milestones": [30, 10]}, ValueError, "'milestones' must be a non-decreasing sequence of numbers >= 0 (got (30, 10))"),
    (S.MultiStep, {"milestones": [-1]}, ValueError, "'milestones' must be a non-decreasing sequence"),
    (S.MultiStep, {"milestones": 5}, TypeError, "'milestones' must be a sequence of numbers (got 5)"),
    (S.InverseSqrt, {"timescale": 0}, ValueError, "'timescale' must be a positive number (got 0)"),
    (S.Noam, {"d_model": 0, "warmup_steps": 10}, ValueError, "'d_model' must be a positive int (got 0)"),
    (S.CosineRestarts, {"period": 0}, ValueError, "'period' must be a positive number (got 0)"),
    (S.CosineRestarts, {"period": 10, "period_mult": 0.5}, ValueError, "'period_mult' must be a number >= 1 and <= 1,000,000 (got 0.5)"),
    (S.CosineRestarts, {"period": 10, "decay": -0.1}, ValueError, "'decay' must be a number >= 0 (got -0.1)"),
    (S.CosineRestarts, {"period": 10, "cycles": 0}, ValueError, "'cycles' must be a positive int (got 0)"),
    (S.Cyclic, {"start": 0.1, "peak": 1, "up_steps": 10, "mode": "cubic"}, ValueError, "'mode' must be one of 'triangular', 'triangular2', 'exp_range' (got 'cubic')"),
    (S.OneCycle, {"total_steps": 0}, ValueError, "'total_steps' must be a positive int (got 0)"),
    (S.OneCycle, {"total_steps": 100, "pct_start": 1.5}, ValueError, "'pct_start' must be a number in [0, 1] (got 1.5)"),
    (S.OneCycle, {"total_steps": 100, "anneal": "cosine"}, ValueError, "'anneal' must be one of 'cos', 'linear' (got 'cosine')"),
    (S.OneCycle, {"total_steps": 10, "pct_start": 0.1}, ValueError, "'pct_start' * 'total_steps' must leave every phase that a step falls in a positive length"),
    (S.OneCycle, {"total_steps": 100, "three_phase": "yes"}, TypeError, "'three_phase' must be a bool (got 'yes')"),
    (S.WSD, {"warmup_steps": 10, "decay_steps": 5}, ValueError, "WSD needs three of"),
    (S.WSD, {"warmup_steps": 10, "decay_steps": 5, "total_steps": 10}, ValueError, "'total_steps' must equal warmup_steps"),
    (S.WSD, {"warmup_steps": -1, "decay_steps": 5, "total_steps": 10}, ValueError, "'warmup_steps' must be a number >= 0 (got -1)"),
    (S.WSD, {"warmup_steps": 1, "decay_steps": 5, "total_steps": 10, "decay": "exp"}, ValueError, "'decay' must be one of 'linear', 'cosine', '1-sqrt' (got 'exp')"),
    (S.Lambda, {"fn": 3}, TypeError, "'fn' must be callable (got 3)"),
    (S.Join, {"schedules": [GOOD_COSINE, GOOD_COSINE], "boundaries": []}, ValueError, "'boundaries' must hold one number fewer than 'schedules' (1) (got 0)"),
    (S.Join, {"schedules": [GOOD_COSINE, GOOD_COSINE], "boundaries": [0]}, ValueError, "'boundaries' must be a strictly increasing sequence of numbers > 0 (got (0,))"),
    (S.Join, {"schedules": [GOOD_COSINE, 0.5], "boundaries": [3]}, TypeError, "'schedules[1]' must be a Schedule (got 0.5)"),
    (S.Join, {"schedules": [], "boundaries": []}, ValueError, "'schedules' must hold at least 1 schedules (got 0)"),
    (S.Product, {"schedules": GOOD_COSINE}, TypeError, "'schedules' must be a list of schedules"),
    (S.Scale, {"schedule": GOOD_COSINE, "factor": math.nan}, ValueError, "'factor' must be a finite number (got nan)"),
    (S.Clip, {"schedule": GOOD_COSINE, "low": 0.5, "high": 0.1}, ValueError, "'low' must be <= 'high' (0.1) (got 0.5)"),
    (S.Repeat, {"schedule": GOOD_COSINE, "period": 0}, ValueError, "'period' must be a positive number (got 0)"),
    (S.Stretch, {"schedule": GOOD_COSINE, "factor": 0}, ValueError, "'factor' must be a positive number (got 0)"),
    (S.Reverse, {"schedule": "cosine", "steps": 10}, TypeError, "'schedule' must be a Schedule (got 'cosine')"),
    (S.Warmup, {"schedule": GOOD_COSINE, "steps": 5, "start": 1.5}, ValueError, "'start' must be a number in [0, 1] (got 1.5)"),
    (S.Warmup, {"schedule": GOOD_COSINE, "steps": 5, "shape": "exponential"}, ValueError, "'start' must be a number in (0, 1] (got 0.0)"),
    (S.Warmup, {"schedule": GOOD_COSINE, "steps": 5, "mode": "before"}, ValueError, "'mode' must be one of 'prefix', 'overlay' (got 'before')"),
]


@pytest.mark.parametrize(("cls", "kwargs", "error", "message"), CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_bad_arguments_name_argument_rule_and_value(cls, kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        cls(**kwargs)


@pytest.mark.parametrize("shape", [S.Linear, S.Cosine, S.Polynomial, S.OneMinusSqrt, S.Geometric])
def test_a_length_in_steps_has_one_rule_for_ints_and_floats(shape):
    kwargs = {"start": 1.0, "end": 0.5} if shape is S.Geometric else {}
    for bad in (-5, -5.5, 0, 0.0):
        with pytest.raises(ValueError, match=re.escape(
                f"'steps' must be a positive number (got {bad!r})")):
            shape(steps=bad, **kwargs)
    fractional = shape(steps=100.5, **kwargs)
    assert fractional.steps == 100.5 and fractional(100.5) == fractional(1000)  # it ends there
    assert isinstance(shape(steps=100, **kwargs).steps, int)
