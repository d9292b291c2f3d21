"""Warmup-stable-decay (WSD), the "trapezoidal" schedule of recent language-model training."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from cadence.config.registry import register
from cadence.schedules.anneal import Constant, Cosine, Linear, OneMinusSqrt
from cadence.schedules.base import Composed, Schedule, set_field
from cadence.schedules.combinators import Reverse, join
from cadence.validation import InvalidValue, check_choice, check_non_negative, check_number

SHAPES = ("linear", "cosine", "1-sqrt")
LENGTHS = ("warmup_steps", "stable_steps", "decay_steps", "total_steps")


def phase(shape: str, start: float, end: float, steps: float, rising: bool = False) -> Schedule:
    """One phase of WSD (and of a cool-down branched from any schedule): ``shape`` (one of
    ``SHAPES``) from ``start`` to ``end`` over ``steps``; a rising ``"1-sqrt"`` is
    ``1 - sqrt(1 - p)``, a falling one ``1 - sqrt(p)``."""
    if shape == "linear":
        return Linear(start=start, end=end, steps=steps)
    if shape == "cosine":
        return Cosine(start=start, end=end, steps=steps)
    if rising:  # 1 - sqrt(1 - p): the 1-sqrt decay played backwards
        return Reverse(OneMinusSqrt(start=end, end=start, steps=steps), steps=steps)
    return OneMinusSqrt(start=start, end=end, steps=steps)


@register("wsd")
@dataclass(frozen=True, kw_only=True)
class WSD(Composed):
    """Warm up from ``start`` to ``peak``, hold ``peak``, decay to ``end`` (the minimum ratio
    when ``peak`` is 1), then hold ``end`` (from ``total_steps`` on, even with no decay phase,
    as transformers' ``get_wsd_schedule`` does).

    Give three of ``warmup_steps``, ``stable_steps``, ``decay_steps`` and ``total_steps``; the
    fourth is inferred (all four must add up). The warm-up shape is ``"linear"``, ``"cosine"``
    or ``"1-sqrt"`` (``1 - sqrt(1 - p)``); the decay shape ``"linear"``, ``"cosine"`` or
    ``"1-sqrt"`` (``1 - sqrt(p)``).

    >>> s = WSD(warmup_steps=2, decay_steps=4, total_steps=10, decay="linear", end=0.1)
    >>> s([0, 1, 2, 5, 6, 8, 10, 50]).round(6).tolist()
    [0.0, 0.5, 1.0, 1.0, 1.0, 0.55, 0.1, 0.1]
    """

    warmup_steps: int | float | None = None
    stable_steps: int | float | None = None
    decay_steps: int | float | None = None
    total_steps: int | float | None = None
    peak: float = 1.0
    start: float = 0.0
    end: float = 0.0
    warmup: str = "linear"
    decay: str = "cosine"

    def __post_init__(self) -> None:
        given = {n: getattr(self, n) for n in LENGTHS if getattr(self, n) is not None}
        for name, value in given.items():
            check_non_negative(name, value)
        if len(given) < 3:
            raise InvalidValue(
                "WSD needs three of 'warmup_steps', 'stable_steps', 'decay_steps', "
                f"'total_steps' (got {', '.join(map(repr, given)) or 'none'})"
            )
        set_field(self, "peak", check_number("peak", self.peak))
        set_field(self, "start", check_number("start", self.start))
        set_field(self, "end", check_number("end", self.end))
        set_field(self, "warmup", check_choice("warmup", self.warmup, SHAPES))
        set_field(self, "decay", check_choice("decay", self.decay, SHAPES))
        w, s, d, total = self.lengths()
        if min(w, s, d) < 0 or abs(w + s + d - total) > 1e-9 * max(total, 1.0):
            raise InvalidValue(
                f"'total_steps' must equal warmup_steps + stable_steps + decay_steps "
                f"(got total_steps={total!r} with {w!r} + {s!r} + {d!r})"
            )
        if total <= 0:
            raise InvalidValue(f"'total_steps' must be a positive number (got {total!r})")
        phases = [(n, length) for n, length in zip(LENGTHS, (w, s, d)) if length > 0]
        ends = list(itertools.accumulate(length for _, length in phases))
        for (name, length), start, end in zip(phases[1:], ends, ends[1:]):
            if end <= start and length < 1 and name in given:  # 1e-300 steps after step 2
                raise InvalidValue(
                    f"{name!r} must be 0 or long enough for a float to tell its phase's end from "
                    f"its start, step {start:g} (got {given[name]!r}: the phases end at steps "
                    f"{ends})")
        if not math.isfinite(total) or any(b <= a for a, b in itertools.pairwise(ends)):
            longest = max(given, key=lambda n: given[n])
            raise InvalidValue(
                f"{longest!r} must be small enough for a float to keep the phases apart "
                f"(got {given[longest]!r}: the phases end at steps {ends})")
        pieces: list[Schedule] = []
        marks: list[float] = []
        if w > 0:
            pieces.append(phase(self.warmup, self.start, self.peak, w, rising=True))
            marks.append(w)
        if s > 0:
            pieces.append(Constant(self.peak))
            marks.append(w + s)
        if d > 0:
            pieces.append(phase(self.decay, self.peak, self.end, d, rising=False))
            marks.append(w + s + d)
        pieces.append(Constant(self.end))
        set_field(self, "_built", join(pieces, marks))

    def lengths(self) -> tuple[float, float, float, float]:
        """``(warmup_steps, stable_steps, decay_steps, total_steps)`` with the missing one
        inferred."""
        w, s, d, total = (getattr(self, n) for n in LENGTHS)
        if total is None:
            total = w + s + d
        elif w is None:
            w = total - s - d
        elif s is None:
            s = total - w - d
        elif d is None:
            d = total - w - s
        return w, s, d, total
