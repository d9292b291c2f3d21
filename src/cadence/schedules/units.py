"""Training time in units: updates, samples, tokens, epochs and fractions of the run.

A length is a number in the clock's own unit or a string with its unit: ``"500up"`` (optimizer
updates), ``"1e6sp"`` (samples), ``"2e9tok"`` (tokens), ``"3ep"`` (epochs) or ``"0.8dur"`` (a
fraction of the run's total). A :class:`Timeline` says how the units relate in one run (the
batch size, or a :class:`BatchRamp` of it; the tokens in a sample; an epoch's length; the total)
and converts a length into the clock's unit once, before training, so schedules only ever see
plain numbers. A conversion the run does not define is refused, in one line that names the
value and what is missing.

>>> run = Timeline("samples", batch_size=BatchRamp(start=8, end=16, increment=8, over="160sp"),
...                total="100up")
>>> run.length("10up"), run.length("100up"), run.length("0.8dur")  # 20 updates of 8, 80 of 16
(80.0, 1440.0, 1152.0)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cadence.validation import (
    InvalidType,
    InvalidValue,
    check_choice,
    check_positive,
    check_positive_int,
    is_real,
)

UNITS = {"up": "updates", "sp": "samples", "tok": "tokens", "ep": "epochs", "dur": "duration"}
CLOCK_UNITS = {"updates": "up", "samples": "sp", "tokens": "tok"}
_LENGTH = re.compile(r"\s*([0-9][0-9_]*\.?[0-9_]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)"
                     r"\s*(up|sp|tok|ep|dur)\s*")
_RULE = "a length such as '500up', '1e6sp', '2e9tok', '3ep' or '0.8dur'"


@dataclass(frozen=True)
class Duration:
    """An amount of training time in one unit (``unit`` is a key of ``UNITS``).

    >>> Duration.parse("warmup", "2e9tok")
    Duration(amount=2000000000.0, unit='tok')
    """

    amount: float
    unit: str

    @staticmethod
    def parse(name: str, value: object) -> Duration:
        """``value`` (a string with its unit, or a Duration) as a Duration; anything else is
        refused naming ``name``."""
        if isinstance(value, Duration):
            return value
        if not isinstance(value, str):
            raise InvalidType(f"{name!r} must be {_RULE} (got {value!r})")
        match = _LENGTH.fullmatch(value)
        amount = float(match.group(1).replace("_", "")) if match else math.nan
        if match is None or not math.isfinite(amount):
            raise InvalidValue(f"{name!r} must be {_RULE} (got {value!r})")
        return Duration(amount, match.group(2))

    def __str__(self) -> str:
        return f"{self.amount:g}{self.unit}"


def is_length(value: object) -> bool:
    """Whether ``value`` is a string written as a length with a unit (``"3ep"``)."""
    try:
        Duration.parse("length", value)
    except (InvalidType, InvalidValue):
        return False
    return True


@dataclass(frozen=True)
class BatchRamp:
    """A batch size that grows from ``start`` to ``end`` in steps of ``increment``, spread
    evenly over the first ``over`` of the run (in samples, updates or tokens), as Megatron's
    ``--rampup-batch-size`` does: with ``n = (end - start) / increment`` stages of length
    ``L = over / n``, the batch at position ``p`` (in ``over``'s unit) is
    ``start + increment * floor(p / L)``, and ``end`` once ``p >= over``.

    >>> ramp = BatchRamp(start=8, end=16, increment=8, over="160sp")
    >>> ramp.stages(None)   # (update, sample, batch size) where each stage starts
    [(0, 0, 8), (20, 160.0, 16)]
    """

    start: int
    end: int
    increment: int
    over: str

    def __post_init__(self) -> None:
        for name in ("start", "end", "increment"):
            check_positive_int(name, getattr(self, name))
        if self.end < self.start:
            raise InvalidValue(f"'end' must be an int >= 'start' ({self.start}) "
                               f"(got {self.end!r})")
        if (self.end - self.start) % self.increment:
            raise InvalidValue(f"'increment' must divide end - start ({self.end - self.start}) "
                               f"(got {self.increment!r})")
        over = Duration.parse("over", self.over)
        if over.unit not in ("up", "sp", "tok") or over.amount <= 0:
            raise InvalidValue(f"'over' must be a positive length in updates, samples or tokens "
                               f"(got {self.over!r})")

    def batch_at(self, amount: float) -> int:
        """The batch size of an update made once ``amount`` (in ``over``'s unit) has been
        consumed: ``start + increment * floor(amount / L)``, ``end`` from ``over`` on.

        >>> BatchRamp(start=8, end=16, increment=8, over="160sp").batch_at(159)
        8
        """
        over = Duration.parse("over", self.over)
        count = (self.end - self.start) // self.increment
        stage = count if count == 0 or amount >= over.amount else \
            min(count, math.floor(amount / (over.amount / count)))
        return self.start + self.increment * stage

    def to_config(self) -> dict[str, Any]:
        return {"type": "batch_ramp", "start": self.start, "end": self.end,
                "increment": self.increment, "over": self.over}

    def stages(self, tokens_per_sample: float | None) -> list[tuple[int, float, int]]:
        """Where each batch size starts: ``(update, samples consumed, batch size)``. The batch
        of an update is decided by what was consumed before it; ``tokens_per_sample`` converts
        an ``over`` given in tokens."""
        over = Duration.parse("over", self.over)
        count = (self.end - self.start) // self.increment
        amount = over.amount
        if over.unit == "tok":
            if tokens_per_sample is None:
                raise InvalidValue(f"the batch ramp's 'over' ({self.over!r}) is in tokens: give "
                                   "tokens_per_sample")
            amount /= tokens_per_sample
        out: list[tuple[int, float, int]] = [(0, 0, self.start)]
        update, consumed = 0, 0.0
        for k in range(1, count + 1):
            batch = out[-1][2]
            if over.unit == "up":  # the first update at or past the stage's start
                later = max(update, math.ceil(k * amount / count))
            else:  # the updates it takes to consume past the stage's start
                later = update + max(0, math.ceil((k * amount / count - consumed) / batch))
            consumed += (later - update) * batch
            update = later
            out.append((update, consumed, self.start + k * self.increment))
        return out


@dataclass(frozen=True)
class Timeline:
    """How the units of one run relate, and the conversion of a length into ``unit``.

    ``batch_size``: samples per update, a number or a :class:`BatchRamp`; ``tokens_per_sample``:
    tokens in one sample (when fixed); ``epoch``: one epoch's length (``"50000sp"``); ``total``:
    the run's length, what ``"dur"`` is a fraction of. Updates and samples convert through the
    batch size, samples and tokens through ``tokens_per_sample``.
    """

    unit: str = "updates"
    batch_size: float | BatchRamp | None = None
    tokens_per_sample: float | None = None
    epoch: str | None = None
    total: str | None = None
    _stages: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_choice("unit", self.unit, tuple(CLOCK_UNITS))
        if self.batch_size is not None and not isinstance(self.batch_size, BatchRamp):
            check_positive("batch_size", self.batch_size)
        if self.tokens_per_sample is not None:
            check_positive("tokens_per_sample", self.tokens_per_sample)
        for name in ("epoch", "total"):
            value = getattr(self, name)
            if value is not None:
                length = Duration.parse(name, value)
                if length.unit in ("dur", "ep" if name == "epoch" else "dur") or length.amount <= 0:
                    raise InvalidValue(f"{name!r} must be a positive length in updates, samples "
                                       f"or tokens{'' if name == 'epoch' else ' or epochs'} "
                                       f"(got {value!r})")
        ramp = self.batch_size
        stages = ramp.stages(self.tokens_per_sample) if isinstance(ramp, BatchRamp) else None
        object.__setattr__(self, "_stages", stages)

    def length(self, value: object, name: str = "length") -> float:
        """``value`` in the clock's unit: a number is one already; a string is converted.

        >>> Timeline("tokens", tokens_per_sample=2048, batch_size=512).length("10up")
        10485760.0
        """
        if is_real(value) and not isinstance(value, bool):
            return float(value)  # type: ignore[arg-type]
        length = Duration.parse(name, value)
        label = repr(value) if name == "length" else f"{name} {value!r}"
        if length.unit == "dur":  # a fraction of the run, measured on the clock
            if self.total is None:
                raise InvalidValue(f"{label} is a fraction of the run, and the run's total is "
                                   "not given (total='1e12tok', '100000up', ...)")
            return length.amount * self.length(self.total, "total")
        if length.unit == "ep":
            if self.epoch is None:
                raise InvalidValue(f"{label} is in epochs, and an epoch's length is not given "
                                   "(epoch='50000sp', '1000up', ...)")
            epoch = Duration.parse("epoch", self.epoch)
            length = Duration(length.amount * epoch.amount, epoch.unit)
        return float(self.convert(length.amount, length.unit, CLOCK_UNITS[self.unit],
                                  name=label))

    def convert(self, amount: Any, source: str, target: str, *, name: str = "a length") -> Any:
        """``amount`` (a number or an array) of ``source`` units (``"up"``, ``"sp"``,
        ``"tok"``) in ``target`` units."""
        if source == target:
            return amount
        need = f"{name} cannot be converted to {UNITS[target]}"
        if source == "tok":
            amount, source = self._tokens(amount, need, per=-1), "sp"
        samples = amount if source == "sp" else self._batches(amount, "up", need)
        if target == "tok":
            return self._tokens(samples, need, per=1)
        return samples if target == "sp" else self._batches(samples, "sp", need)

    def _tokens(self, amount: Any, need: str, *, per: int) -> Any:
        if self.tokens_per_sample is None:
            raise InvalidValue(f"{need}: the tokens in a sample are not fixed (give "
                               "tokens_per_sample)")
        return amount * self.tokens_per_sample if per > 0 else amount / self.tokens_per_sample

    def _batches(self, amount: Any, source: str, need: str) -> Any:
        """Updates -> samples (``source="up"``) or samples -> updates, through the batch size
        or the ramp's stages."""
        if self.batch_size is None:
            raise InvalidValue(f"{need}: the samples in an update are not fixed (give "
                               "batch_size or a BatchRamp)")
        if not isinstance(self.batch_size, BatchRamp):
            size = float(self.batch_size)
            return amount * size if source == "up" else amount / size
        stages = np.asarray(self._stages, dtype=np.float64)  # update, sample, batch
        values = np.asarray(amount, dtype=np.float64)
        k = np.searchsorted(stages[:, 0 if source == "up" else 1], values, side="right") - 1
        update, sample, batch = (stages[np.clip(k, 0, None), i] for i in range(3))
        out = sample + (values - update) * batch if source == "up" else \
            update + (values - sample) / batch
        return float(out) if out.ndim == 0 else out

    def batch_at(self, samples: float) -> float | None:
        """The batch size after ``samples`` consumed (None when no batch size is given)."""
        ramp = self.batch_size
        if isinstance(ramp, BatchRamp):
            unit = Duration.parse("over", ramp.over).unit
            return float(ramp.batch_at(self.convert(samples, "sp", unit, name="samples")))
        return None if ramp is None else float(ramp)
