"""cadence's schedules as Stable-Baselines3's: functions of ``progress_remaining``.

SB3 takes a callable of ``progress_remaining`` wherever an argument is typed
``float | Schedule``: ``learning_rate`` (every algorithm), PPO's ``clip_range`` and
``clip_range_vf``. ``progress_remaining`` is 1.0 when training starts and 0.0 when it ends; SB3
computes it as ``1 - num_timesteps / total_timesteps``. :class:`ProgressSchedule` turns a
cadence schedule written in environment timesteps (SB3's ``num_timesteps``, summed over the
environments) into such a callable: a small frozen value that prints, compares and pickles, so
``model.save`` (which cloudpickles it) and ``PPO.load`` keep it. This module does not import
SB3. The recipe is in ``docs/integrations.md`` and ``examples/ppo_cartpole.py``.

>>> from cadence.schedules import Linear
>>> from cadence.integrations.sb3 import progress
>>> clip = progress(Linear(start=0.2, end=0.0, steps=1000), total_steps=1000)
>>> clip(1.0), clip(1 - 500 / 1000), clip(0.0)
(0.2, 0.1, 0.0)
>>> p = 1 - 100 / 1000  # SB3's progress_remaining at num_timesteps=100
>>> (1 - p) * 1000, clip.step_at(p)
(99.99999999999997, 100.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cadence.scheduler.selection import as_schedule
from cadence.schedules.base import Schedule, set_field
from cadence.validation import InvalidType, InvalidValue, check_number, check_steps, is_real, shown

# How far (relative to ``total_steps``, or to the step past its end) a step may be from an
# integer and still be taken for that integer. SB3's ``(1 - (1 - k/N)) * N`` is off ``k`` by at
# most 2 ulps of ``N`` (measured for N up to 10**7, every k in [0, 1.2 N]); 1e-12 is ~4500.
SNAP = 1e-12


@dataclass(frozen=True)
class ProgressSchedule:
    """SB3's schedule for ``scale * schedule(t)`` at ``t = (1 - progress_remaining) *
    total_steps``, i.e. at ``t = num_timesteps`` when ``total_steps`` is the
    ``total_timesteps`` SB3 counts to.

    ``schedule`` is a cadence schedule (a number is a :class:`~cadence.schedules.Constant`) in
    environment timesteps. ``total_steps`` is the ``total_timesteps`` of ``model.learn`` (plus
    the timesteps already done when ``learn(..., reset_num_timesteps=False)`` continues a run,
    since SB3 adds them to its total). ``scale`` multiplies the value: the base lr for a
    schedule of factors.

    With an int ``total_steps`` > 1, a step within ``1e-12 * total_steps`` of an integer is that
    integer: SB3's float arithmetic puts ``(1 - progress_remaining) * total_steps`` a few ulps
    off the integer ``num_timesteps`` (99.99999999999997 for 100 of 1000), so the value is the
    schedule's at exactly ``num_timesteps``. With ``total_steps=1`` the schedule is over the
    fraction of training done, ``t = 1 - progress_remaining`` in ``[0, 1]``, and nothing is
    rounded (nor with a float ``total_steps``).

    SB3 calls it with ``progress_remaining=1`` when it builds the optimizer (the lr it starts
    with), then before each update with the timesteps collected so far: PPO's first update uses
    ``t = n_steps * n_envs`` and its last ``t = total_timesteps``, or past it when
    ``total_timesteps`` is not a multiple of ``n_steps * n_envs`` (then ``progress_remaining``
    is below 0, and the value is the schedule's past its end). A ``progress_remaining`` above 1
    (a negative step, beyond float noise) or not finite is refused.

    >>> from cadence.schedules import Cosine, Warmup
    >>> ProgressSchedule(Cosine(steps=300), total_steps=400)
    ProgressSchedule(schedule=Cosine(start=1.0, end=0.0, steps=300), total_steps=400, scale=1.0)
    >>> lr = ProgressSchedule(Warmup(Cosine(steps=300), steps=100), total_steps=400, scale=3e-4)
    >>> [round(lr(1 - t / 400), 12) for t in (0, 50, 100, 250, 400, 512)]
    [0.0, 0.00015, 0.0003, 0.00015, 0.0, 0.0]
    """

    schedule: Schedule
    total_steps: int | float
    scale: float = 1.0

    def __post_init__(self) -> None:
        set_field(self, "schedule", as_schedule("schedule", self.schedule, selectors=False))
        set_field(self, "total_steps", check_steps("total_steps", self.total_steps))
        set_field(self, "scale", check_number("scale", self.scale))

    def step_at(self, progress_remaining: float) -> float:
        """The timestep ``(1 - progress_remaining) * total_steps``, rounded to the integer it
        is within float noise of when ``total_steps`` is an int > 1."""
        rule = "a finite number <= 1"
        if isinstance(progress_remaining, bool) or not is_real(progress_remaining):
            raise InvalidType(f"'progress_remaining' must be {rule} (got "
                              f"{shown(progress_remaining)})")
        p = float(progress_remaining)
        n = self.total_steps
        t = (1.0 - p) * n
        if not (math.isfinite(t) and p <= 1.0 + SNAP):
            why = ", a step too large for a float" if math.isfinite(p) and p < 0 else ""
            raise InvalidValue(f"'progress_remaining' must be {rule} (got "
                               f"{shown(progress_remaining)}{why})")
        if isinstance(n, int) and n > 1:
            k = round(t)
            if abs(t - k) <= SNAP * max(n, abs(t)):
                return float(k)
        return t if t > 0.0 else 0.0

    def __call__(self, progress_remaining: float) -> float:
        """``scale * schedule(step_at(progress_remaining))``, a float."""
        t = self.step_at(progress_remaining)
        value = self.scale * self.schedule(t)
        if not math.isfinite(value):
            raise InvalidValue(f"'schedule' must give a finite value (got {value!r} at step "
                               f"{t:g}, progress_remaining {progress_remaining!r}; scale "
                               f"{self.scale!r}, schedule {self.schedule!r})")
        return float(value)


def progress(schedule: Schedule | float, *, total_steps: int | float,
             scale: float = 1.0) -> ProgressSchedule:
    """``ProgressSchedule(schedule, total_steps, scale)``: ``schedule`` in environment
    timesteps, as SB3's ``learning_rate=``, ``clip_range=`` and the like.

    >>> from cadence.schedules import Linear
    >>> progress(Linear(start=1.0, end=0.0, steps=100), total_steps=100, scale=3e-4)(0.5)
    0.00015
    """
    return ProgressSchedule(as_schedule("schedule", schedule, selectors=False), total_steps, scale)


__all__ = ["ProgressSchedule", "progress"]
