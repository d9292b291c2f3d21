"""Warm-up over any schedule, as a combinator."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass

from cadence.config.registry import register
from cadence.schedules.anneal import Cosine, Geometric, Linear
from cadence.schedules.base import Composed, Schedule, set_field
from cadence.schedules.combinators import Product, Scale, join
from cadence.schedules.operands import check_schedule
from cadence.validation import check_choice, check_range, check_steps

RISES = {"linear": Linear, "cosine": Cosine, "exponential": Geometric}
MODES = ("prefix", "overlay")


@register("warmup")
@dataclass(frozen=True)
class Warmup(Composed):
    """Warm up into ``schedule`` over ``steps``, rising from the factor ``start`` to 1.

    The rise is ``"linear"``, ``"cosine"`` (half cosine) or ``"exponential"`` (geometric, needs
    ``start > 0``). With ``mode="prefix"`` the warm-up comes first and ``schedule`` starts after
    it, in its own time: ``rise(t) * schedule(0)`` for ``t < steps``, ``schedule(t - steps)``
    after. With ``mode="overlay"`` the rise multiplies ``schedule`` in global time:
    ``rise(t) * schedule(t)``, with ``rise = 1`` from ``steps`` on.

    >>> from cadence.schedules import Cosine
    >>> s = Warmup(Cosine(start=1.0, end=0.0, steps=10), steps=5)
    >>> s([0, 1, 5, 10, 15]).round(12).tolist()
    [0.0, 0.2, 1.0, 0.5, 0.0]
    """

    schedule: Schedule
    _: KW_ONLY
    steps: int | float
    start: float = 0.0
    shape: str = "linear"
    mode: str = "prefix"

    def __post_init__(self) -> None:
        set_field(self, "schedule", check_schedule("schedule", self.schedule))
        set_field(self, "steps", check_steps("steps", self.steps))
        set_field(self, "shape", check_choice("shape", self.shape, tuple(RISES)))
        low_open = self.shape == "exponential"
        set_field(self, "start", check_range("start", self.start, 0.0, 1.0, low_open=low_open))
        set_field(self, "mode", check_choice("mode", self.mode, MODES))
        rise = RISES[self.shape](start=self.start, end=1.0, steps=self.steps)
        if self.mode == "overlay":
            built: Schedule = Product((rise, self.schedule))
        else:
            built = join([Scale(rise, self.schedule(0)), self.schedule], [self.steps])
        set_field(self, "_built", built)
