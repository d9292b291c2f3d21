"""The decay of an exponential moving average of the weights, warmed up from 0.

An average that starts with decay 0.9999 remembers the random initial weights for thousands of
steps; the usual cure (timm's ``ModelEmaV3``, Karras et al.'s EDM, ema-pytorch) is a decay
that rises from 0 as ``1 - (1 + t / gamma) ** -power``, capped at the target decay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cadence.config.registry import register
from cadence.schedules.base import Mark, Schedule, set_field, tidy
from cadence.schedules.ops import SCALAR
from cadence.validation import check_positive, check_range


@register("ema_warmup")
@dataclass(frozen=True, kw_only=True)
class EMAWarmup(Schedule):
    """``min(end, 1 - (1 + t / gamma) ** -power)``: 0 at step 0, rising towards 1 and held at
    ``end`` from the step it reaches it (:meth:`reaches`). ``power=2/3`` suits averages over
    long runs (about a million steps), ``power=3/4`` shorter ones.

    >>> s = EMAWarmup(end=0.999, gamma=1.0, power=0.75)
    >>> float(s(0)), round(float(s(15)), 6), float(s(10**6))
    (0.0, 0.875, 0.999)
    """

    end: float = 0.9999
    gamma: float = 1.0
    power: float = 2 / 3

    def __post_init__(self) -> None:
        set_field(self, "end", check_range("end", self.end, 0.0, 1.0, high_open=True))
        set_field(self, "gamma", check_positive("gamma", self.gamma))
        set_field(self, "power", check_positive("power", self.power))

    def _eval(self, t: Any, xp: Any) -> Any:
        return xp.minimum(self.end, 1.0 - (1.0 + t / self.gamma) ** -self.power)

    def reaches(self) -> float:
        """The step from which the decay is ``end``: ``gamma * ((1 - end) ** (-1 / power) -
        1)``."""
        # (1 - end) ** (-1 / power) overflows for a tiny power: the decay reaches ``end`` only
        # beyond the last float (inf, and no landmark)
        return self.gamma * (SCALAR.power(1.0 - self.end, -1.0 / self.power) - 1.0)

    def marks(self, horizon: float) -> list[Mark]:
        return tidy([Mark(self.reaches(), "phase")], horizon)
