"""cadence in Stable-Baselines3 (cadence.integrations.sb3, examples/ppo_cartpole.py): the real
PPO on CartPole-v1, on CPU."""

from __future__ import annotations

import math
import pickle
import subprocess
import sys

import cloudpickle
import numpy as np
import pytest
import torch
from example_runner import example, run_example
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.callbacks import BaseCallback

from cadence.integrations.sb3 import ProgressSchedule, progress
from cadence.schedules import Constant, Cosine, Linear, join

recipes = example("ppo_cartpole")
TOTAL, N_STEPS, BASE_LR = 4096, 512, 3e-4  # the example's defaults


def lr_by_hand(t: float, total: int, warmup: int) -> float:
    """The example's lr, written out: a linear warm-up, then a half cosine to 0, then 0."""
    if t < warmup:
        return BASE_LR * t / warmup
    done = min(t - warmup, total - warmup) / (total - warmup)
    return BASE_LR * (1 + math.cos(math.pi * done)) / 2


def clip_by_hand(t: float, total: int) -> float:
    return 0.2 * (1 - min(t, total) / total)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)


@pytest.fixture(scope="module")
def run():
    return recipes.train(TOTAL)


# -- the real run ----------------------------------------------------------------------------------
def test_each_ppo_update_uses_the_schedules_at_its_timestep(run):
    model, updates = run
    assert len(updates) == TOTAL // N_STEPS  # one record per call of train()
    assert [u.timesteps for u in updates] == [N_STEPS * (i + 1) for i in range(len(updates))]
    warmup = TOTAL // 4
    for u in updates:
        expected = lr_by_hand(u.timesteps, TOTAL, warmup)
        assert all(close(lr, expected) for lr in u.lrs), (u, expected)
        assert u.logged_lr == u.lrs[0]  # SB3's log holds what it wrote into the optimizer
        assert close(u.clip_range, clip_by_hand(u.timesteps, TOTAL)), u
    assert updates[1].lrs[0] == BASE_LR  # the peak, at the end of the warm-up
    assert updates[-1].lrs[0] == 0.0 and updates[-1].clip_range == 0.0  # t == total
    assert model.num_timesteps == TOTAL


def test_a_last_rollout_past_total_timesteps_holds_the_end_values():
    # 1000 is not a multiple of 512: SB3's last update is at 1024, progress_remaining -0.024
    model, updates = recipes.train(1000)
    assert [u.timesteps for u in updates] == [512, 1024]
    assert model._current_progress_remaining < 0
    first, last = updates
    assert close(first.lrs[0], lr_by_hand(512, 1000, 250))
    assert close(first.clip_range, clip_by_hand(512, 1000))
    assert last.lrs == [0.0] and last.clip_range == 0.0


# -- pickling, save and load -----------------------------------------------------------------------
GRID = [1, 1.0, 0.75, 1 - 100 / TOTAL, 1 - 1000 / TOTAL, 0.5, 0.1, 0.0, -0.024]


def values(callable_) -> list[float]:
    return [callable_(p) for p in GRID]


@pytest.mark.parametrize("module", [pickle, cloudpickle], ids=["pickle", "cloudpickle"])
def test_the_callable_pickles(module):
    schedule = progress(recipes.lr_schedule(TOTAL, 1024), total_steps=TOTAL, scale=BASE_LR)
    copy = module.loads(module.dumps(schedule))
    assert copy == schedule and copy is not schedule and hash(copy) == hash(schedule)
    assert repr(copy) == repr(schedule)
    assert values(copy) == values(schedule)


def test_a_saved_model_keeps_its_schedules(run, tmp_path):
    model, updates = run
    model.save(tmp_path / "ppo.zip")
    loaded = PPO.load(tmp_path / "ppo.zip", device="cpu")
    assert isinstance(loaded.learning_rate, ProgressSchedule)
    assert loaded.learning_rate == model.learning_rate
    assert values(loaded.lr_schedule) == values(model.lr_schedule)
    assert values(loaded.clip_range) == values(model.clip_range)
    # the optimizer's state holds the lr of the last update
    assert [g["lr"] for g in loaded.policy.optimizer.param_groups] == updates[-1].lrs


def test_a_model_saved_by_another_process_loads_here(tmp_path):
    path = tmp_path / "ppo.zip"
    record = run_example("ppo_cartpole", "--total-timesteps", "1024", "--save", str(path),
                         record=tmp_path / "updates.json")
    assert [u["timesteps"] for u in record] == [512, 1024]
    loaded = PPO.load(path, device="cpu")
    assert loaded.learning_rate == progress(recipes.lr_schedule(1024, 256), total_steps=1024,
                                            scale=BASE_LR)
    assert loaded.clip_range.value_schedule == progress(Linear(start=0.2, end=0.0, steps=1024),
                                                        total_steps=1024)
    assert [loaded.lr_schedule(1 - u["timesteps"] / 1024) for u in record] == \
        [u["lrs"][0] for u in record]


def test_importing_the_adapter_does_not_import_sb3():
    code = ("import sys, cadence.integrations.sb3; "
            "print(sorted(m for m in ('stable_baselines3', 'gymnasium') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[]"


# -- bad arguments ---------------------------------------------------------------------------------
class Opaque:
    def __repr__(self) -> str:
        return "Opaque()"


BAD_ARGUMENTS = [
    ("schedule", None, TypeError), ("schedule", "cosine", TypeError),
    ("schedule", lambda p: p, TypeError), ("schedule", Opaque(), TypeError),
    ("schedule", math.nan, ValueError), ("schedule", math.inf, ValueError),
    ("schedule", True, TypeError),
    ("total_steps", 0, ValueError), ("total_steps", -1, ValueError),
    ("total_steps", 0.0, ValueError), ("total_steps", math.nan, ValueError),
    ("total_steps", math.inf, ValueError), ("total_steps", 10**400, ValueError),
    ("total_steps", True, TypeError), ("total_steps", "4096", TypeError),
    ("total_steps", None, TypeError), ("total_steps", [4096], TypeError),
    ("scale", math.nan, ValueError), ("scale", math.inf, ValueError),
    ("scale", -math.inf, ValueError), ("scale", "3e-4", TypeError),
    ("scale", None, TypeError), ("scale", False, TypeError),
]


@pytest.mark.parametrize("build", [ProgressSchedule, progress], ids=["class", "function"])
@pytest.mark.parametrize(("name", "value", "error"), BAD_ARGUMENTS,
                         ids=[f"{n}={v!r}"[:40] for n, v, _ in BAD_ARGUMENTS])
def test_bad_arguments_are_refused_by_name(build, name, value, error):
    arguments = {"schedule": Cosine(steps=10), "total_steps": 10, "scale": 1.0, name: value}
    schedule = arguments.pop("schedule")
    with pytest.raises(error, match=rf"^'{name}' must be .* \(got .+\)$"):
        build(schedule, **arguments)


# the wrong values of tests/properties (which leaves this class out: it is not a function of a
# step): each is refused by name, or works and gives finite values
WRONG_VALUES = [
    None, True, False, 0, -1, -0.5, 0.0, math.nan, math.inf, -math.inf, 10**400, -(10**400),
    2**64, -(2**64), 1e308, "x", "", Opaque(), [], {}, (), [None], [math.nan], [-1],
    torch.tensor(math.nan), np.float64(math.inf), np.int64(-1), lambda p: p,
]


@pytest.mark.parametrize("name", ["schedule", "total_steps", "scale"])
def test_each_wrong_value_is_refused_by_name_or_works(name):
    for value in WRONG_VALUES:
        arguments = {"schedule": Cosine(steps=10), "total_steps": 10, "scale": 1.0, name: value}
        try:
            schedule = ProgressSchedule(**arguments)
        except (ValueError, TypeError) as exc:
            assert str(exc).startswith(f"'{name}' must be "), (value, exc)
            continue
        for p in (1, 0.5, 0.0, -0.024):
            assert math.isfinite(schedule(p)), (name, value, p)


def test_a_number_is_a_constant_and_fields_are_normalised():
    schedule = ProgressSchedule(0.2, total_steps=np.int64(100), scale=np.float64(2.0))
    assert schedule == ProgressSchedule(Constant(0.2), 100, 2.0)
    assert type(schedule.total_steps) is int and type(schedule.scale) is float
    assert schedule(0.5) == 0.4


def test_a_value_that_is_not_finite_is_refused():
    schedule = ProgressSchedule(Constant(10.0), total_steps=10, scale=1e308)
    with pytest.raises(ValueError, match=r"^'schedule' must give a finite value \(got inf at "):
        schedule(0.5)


# -- progress_remaining ----------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "error"), [
    (1.5, ValueError), (1 + 1e-9, ValueError), (math.nan, ValueError), (math.inf, ValueError),
    (-math.inf, ValueError), (-1e308, ValueError), ("0.5", TypeError), (None, TypeError),
    (True, TypeError), (np.array([0.5]), TypeError),
])
def test_a_progress_remaining_out_of_range_is_refused(value, error):
    schedule = progress(Cosine(steps=10), total_steps=10)
    with pytest.raises(error, match=r"^'progress_remaining' must be a finite number <= 1 \(got "):
        schedule(value)


def test_float_noise_at_the_ends_and_past_the_end_are_accepted():
    cosine = Cosine(steps=1000)
    schedule = progress(cosine, total_steps=1000)
    assert schedule.step_at(1 + 1e-13) == 0.0 and schedule(1 + 1e-13) == 1.0
    assert schedule.step_at(np.float64(0.25)) == 750.0 and schedule(0) == 0.0
    assert schedule.step_at(1 - 1200 / 1000) == 1200.0 and schedule(-0.2) == cosine(1200) == 0.0
    # a fraction-of-training schedule: t = 1 - p, nothing rounded
    fraction = progress(cosine, total_steps=1)
    assert fraction.step_at(1 + 1e-13) == 0.0
    assert fraction.step_at(1e-13) == 1 - 1e-13 and fraction.step_at(0.3) == 1 - 0.3


# -- the step SB3 means ----------------------------------------------------------------------------
def sb3_progress_remaining(num_timesteps: int, total_timesteps: int) -> float:
    """BaseAlgorithm._update_current_progress_remaining, as SB3 2.x computes it."""
    return 1.0 - float(num_timesteps) / float(total_timesteps)


@pytest.mark.parametrize("total", [1000, 4096, 12345])
def test_each_timestep_gives_the_schedule_at_exactly_that_timestep(total):
    schedule = recipes.lr_schedule(total, total // 4)
    adapter = progress(schedule, total_steps=total)
    scaled = progress(schedule, total_steps=total, scale=BASE_LR)
    steps = range(0, total + total // 5 + 1)  # and past the end, as SB3's last rollout may go
    ps = [sb3_progress_remaining(k, total) for k in steps]
    assert [adapter.step_at(p) for p in ps] == [float(k) for k in steps]
    assert [adapter(p) for p in ps] == [schedule(k) for k in steps]
    assert [scaled(p) for p in ps] == [BASE_LR * schedule(k) for k in steps]
    noisy = sum((1 - p) * total != k for p, k in zip(ps, steps))
    assert noisy > 0 if total != 4096 else noisy == 0  # a power of 2 has no noise


def test_sb3_computes_progress_remaining_as_this_test_does():
    model = PPO.__new__(PPO)
    for k in (0, 1, 100, 999, 1000, 1024):
        model._update_current_progress_remaining(k, 1000)
        assert model._current_progress_remaining == sb3_progress_remaining(k, 1000)


def test_an_unrounded_float_total_steps():
    schedule = progress(Linear(start=0.0, end=1.0, steps=1000), total_steps=1000.0)
    assert schedule.step_at(sb3_progress_remaining(100, 1000)) == 99.99999999999997


class ExplorationRates(BaseCallback):
    """The exploration rate DQN acts with at each timestep (SB3 updates it after the step)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, float]] = []

    def _on_step(self) -> bool:
        self.seen.append((self.model.num_timesteps, self.model.exploration_rate))
        return True


def test_dqns_exploration_rate_follows_a_schedule_in_timesteps():
    # DQN's epsilon is no constructor argument: its exploration_schedule attribute is replaced
    torch.set_num_threads(1)
    total = 600
    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=100, buffer_size=1000, seed=0,
                device="cpu")
    model.exploration_schedule = progress(
        join([Cosine(start=1.0, end=0.05, steps=300), Constant(0.05)], boundaries=[300]),
        total_steps=total)
    rates = ExplorationRates()
    model.learn(total, callback=rates)
    assert [n for n, _ in rates.seen] == list(range(1, total + 1))
    for n, rate in rates.seen[1:]:  # the n-th action uses the rate at n - 1 timesteps done
        t = n - 1
        expected = 0.05 + 0.95 * (1 + math.cos(math.pi * t / 300)) / 2 if t < 300 else 0.05
        assert rate == pytest.approx(expected, rel=1e-12, abs=1e-15), n

