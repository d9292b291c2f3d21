"""transformers' schedules as pure descriptions: a factory's arguments (same names) in, the
``lr_lambda`` it builds out, as a cadence schedule of the step (a factor of the base lr).

No optimizer is needed; the factories in :mod:`cadence.compat.transformers` check what depends
on one (``lr_end`` and ``min_lr`` against its lr) and wrap these in a
:class:`~cadence.compat.lr_scheduler.LambdaLR`. Each warm-up is ``warm_up(w, ...)``, a linear
rise ``t / w``; past ``num_training_steps`` the value holds where transformers' cosines swing
back up.

>>> shape = cosine(num_warmup_steps=10, num_training_steps=110)
>>> [round(shape(t), 6) for t in (0, 5, 10, 60, 110, 500)]
[0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
"""

from __future__ import annotations

import itertools
import math

from cadence.schedules import (
    WSD,
    Constant,
    Cosine,
    CosineRestarts,
    CosineWave,
    InverseSqrt,
    Linear,
    Offset,
    Polynomial,
    Scale,
    Schedule,
    Shift,
    join,
)
from cadence.validation import (
    InvalidValue,
    check_non_negative,
    check_non_negative_steps,
    check_positive,
)


# -- the pieces ---------------------------------------------------------------------------------
def warm_up(warmup: float, main: Schedule) -> Schedule:
    """``t / max(1, warmup)`` for ``t < warmup``, then ``main`` in local time."""
    if warmup == 0:
        return main
    return join([Linear(start=0.0, end=warmup / max(1.0, warmup), steps=warmup), main], [warmup])


def cosine_wave(cycles: float, steps: float, low: float = 0.0) -> Schedule:
    """``low + (1 - low) * (1 + cos(2 pi cycles p)) / 2`` for ``p = u / steps`` in [0, 1],
    held after: transformers' cosine with ``num_cycles`` waves (half a wave by default)."""
    if cycles == 0.5:
        return Cosine(start=1.0, end=low, steps=steps)
    if cycles == 0:
        return Constant(1.0)
    if not 0 < steps / (2 * cycles) < math.inf:
        raise InvalidValue(f"'num_cycles' must be a number of waves whose length over {steps} "
                           f"steps is a positive finite number (got {cycles!r})")
    wave: Schedule = CosineWave(start=1.0, end=0.0, steps=steps / (2 * cycles))
    if low:
        wave = Shift(Scale(wave, 1.0 - low), low)
    return join([wave, Constant(wave(steps))], [steps])


def warmup_steps(value: object) -> float:
    """``num_warmup_steps``, checked: a number of steps >= 0."""
    return check_non_negative_steps("num_warmup_steps", value)


def decay_steps(warmup: float, total: object) -> float:
    """transformers divides by ``max(1, num_training_steps - num_warmup_steps)``."""
    return max(1, check_non_negative_steps("num_training_steps", total) - warmup)


# -- one per factory ----------------------------------------------------------------------------
def constant_with_warmup(num_warmup_steps: int) -> Schedule:
    """Linear warm-up from 0, then 1."""
    return warm_up(warmup_steps(num_warmup_steps), Constant(1.0))


def linear(num_warmup_steps: int, num_training_steps: int) -> Schedule:
    """Linear warm-up from 0, then ``(total - t) / max(1, total - w)``, down to 0 at
    ``num_training_steps``."""
    w = warmup_steps(num_warmup_steps)
    total = check_non_negative_steps("num_training_steps", num_training_steps)
    # (total - t) / max(1, total - w): from 1 at w, or from total - w when that is below 1
    decay: Schedule = (Linear(start=(total - w) / max(1.0, total - w), end=0.0, steps=total - w)
                       if total > w else Constant(0.0))
    return warm_up(w, decay)


def cosine(num_warmup_steps: int, num_training_steps: int, num_cycles: float = 0.5) -> Schedule:
    """Linear warm-up from 0, then ``num_cycles`` cosine waves (half a wave: down to 0)."""
    w = warmup_steps(num_warmup_steps)
    cycles = check_non_negative("num_cycles", num_cycles)
    return warm_up(w, cosine_wave(cycles, decay_steps(w, num_training_steps)))


def cosine_with_hard_restarts(num_warmup_steps: int, num_training_steps: int,
                              num_cycles: int = 1) -> Schedule:
    """Linear warm-up, then ``num_cycles`` cosine decays to 0 that restart at 1, then 0."""
    w = warmup_steps(num_warmup_steps)
    steps = decay_steps(w, num_training_steps)
    cycles = check_positive("num_cycles", num_cycles)
    if not 0 < steps / cycles < math.inf:
        raise InvalidValue(f"'num_cycles' must be a number of cycles whose length over {steps} "
                           f"steps is a positive finite number (got {cycles!r})")
    restarts = join([CosineRestarts(period=steps / cycles), Constant(0.0)], [steps])
    return warm_up(w, restarts)


def polynomial_decay(num_warmup_steps: int, num_training_steps: int, end: float,
                     power: float = 1.0) -> Schedule:
    """Linear warm-up, then ``end + (1 - end) * (1 - u / (total - w)) ** power``: from 1 down
    to ``end`` (``lr_end`` over the optimizer's lr), held after."""
    w = warmup_steps(num_warmup_steps)
    total = check_non_negative_steps("num_training_steps", num_training_steps)
    if total <= w:
        raise InvalidValue(f"'num_training_steps' must be > 'num_warmup_steps' ({w}) for a "
                           f"polynomial decay (got {total})")
    decay = Polynomial(start=1.0, end=end, steps=total - w, power=check_positive("power", power))
    return warm_up(w, decay)


def inverse_sqrt(num_warmup_steps: int, timescale: int | None = None) -> Schedule:
    """Linear warm-up, then ``1 / sqrt((t + timescale - warmup) / timescale)``."""
    w = warmup_steps(num_warmup_steps)
    scale = (w or 10_000) if timescale is None else check_positive("timescale", timescale)
    return warm_up(w, InverseSqrt(start=1.0, timescale=scale))


def cosine_with_min_lr(num_warmup_steps: int, num_training_steps: int, num_cycles: float,
                       rate: float) -> Schedule:
    """Linear warm-up, then cosine waves between 1 and ``rate`` (``min_lr_rate``)."""
    w = warmup_steps(num_warmup_steps)
    wave = cosine_wave(check_non_negative("num_cycles", num_cycles),
                       decay_steps(w, num_training_steps), low=rate)
    return warm_up(w, wave)


def cosine_warmup_with_min_lr(num_warmup_steps: int, num_training_steps: int,
                              num_cycles: float, rate: float,
                              warmup_lr_rate: float | None = None) -> Schedule:
    """For ``t < warmup``, ``(t + 1) / max(1, warmup)`` (or ``warmup_lr_rate + (1 -
    warmup_lr_rate) * t / max(1, warmup - 1)``); from ``warmup`` on, the cosine waves down to
    ``rate`` one step ahead (progress ``(t - warmup + 1) / max(1, total - warmup)``)."""
    w = warmup_steps(num_warmup_steps)
    total = check_non_negative_steps("num_training_steps", num_training_steps)
    decay = cosine_wave(check_non_negative("num_cycles", num_cycles), max(1, total - w), rate)
    ahead = Offset(decay, steps=1)
    if w == 0:
        return ahead
    if warmup_lr_rate is None:  # (t + 1) / m
        m = max(1.0, w)
        start, end = 1.0 / m, (w + 1.0) / m
    else:  # r + (1 - r) * t / m
        r, m = check_non_negative("warmup_lr_rate", warmup_lr_rate), max(1.0, w - 1.0)
        start, end = r, r * (1.0 - w / m) + w / m  # r + (1 - r) * w / m, without overflow
    return join([Linear(start=start, end=end, steps=w), ahead], [w])


def wsd(num_warmup_steps: int, num_decay_steps: int, num_training_steps: int | None = None,
        num_stable_steps: int | None = None, warmup_type: str = "linear",
        decay_type: str = "cosine", min_lr_ratio: float = 0,
        num_cycles: float = 0.5) -> Schedule:
    """Warm up from ``min_lr_ratio`` to 1, hold, decay back to it (cadence's :class:`WSD`;
    a cosine decay of other than half a wave is its own wave)."""
    if num_training_steps is None and num_stable_steps is None:
        raise InvalidValue("Either num_training_steps or num_stable_steps must be specified.")
    for name, kind in (("warmup_type", warmup_type), ("decay_type", decay_type)):
        if kind not in ("linear", "cosine", "1-sqrt"):
            raise InvalidValue(f"Unknown {name.split('_')[0]} type: {kind}, expected 'linear', "
                               f"'cosine' or '1-sqrt' (for {name!r})")
    w = warmup_steps(num_warmup_steps)
    d = check_non_negative_steps("num_decay_steps", num_decay_steps)
    ratio = check_non_negative("min_lr_ratio", min_lr_ratio)
    if num_stable_steps is None:
        assert num_training_steps is not None
        s = check_non_negative_steps("num_training_steps", num_training_steps) - w - d
        if s < 0:
            raise InvalidValue(f"'num_training_steps' ({num_training_steps}) must be >= "
                               f"num_warmup_steps + num_decay_steps ({w + d})")
    else:
        s = check_non_negative_steps("num_stable_steps", num_stable_steps)
        if num_training_steps is not None and num_training_steps != w + s + d:
            raise InvalidValue(f"'num_training_steps' ({num_training_steps}) must equal "
                               f"num_warmup_steps + num_stable_steps + num_decay_steps "
                               f"({w + s + d}) when both are given")
    lengths = [x for x in (w, s, d) if x > 0]
    ends = list(itertools.accumulate(lengths))
    if not math.isfinite(w + s + d) or any(b <= a for a, b in itertools.pairwise(ends)):
        given = "num_stable_steps" if num_training_steps is None else "num_training_steps"
        if d > 0 and w + s + d == w + s and w + s < 2**52:  # a decay too short to count
            given = "num_decay_steps"
        raise InvalidValue(f"{given!r} must be small enough for a float to keep the warm-up, "
                           f"stable and decay phases apart (got {w + s + d!r} steps for phases of "
                           f"{w!r}, {s!r} and {d!r})")
    cycles = check_non_negative("num_cycles", num_cycles)
    if decay_type != "cosine" or cycles == 0.5 or d == 0:
        return WSD(warmup_steps=w, stable_steps=s, decay_steps=d, start=ratio, end=ratio,
                   warmup=warmup_type, decay=decay_type)
    # cosine decay with other than half a wave: WSD's warm-up and hold, then the wave
    pieces: list[Schedule] = [cosine_wave(cycles, d, low=ratio), Constant(ratio)]
    marks = [w + s, w + s + d]
    if w + s:
        pieces.insert(0, WSD(warmup_steps=w, stable_steps=s, decay_steps=0, start=ratio,
                             end=1.0, warmup=warmup_type))
    else:
        marks = marks[1:]
    return join(pieces, marks)
