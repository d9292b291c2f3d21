"""A Scheduler's time: what it counts, how the run's units relate, and batch-size scaling.

A :class:`Clock` counts optimizer ``"updates"`` (the default: real updates, one skipped by
``GradScaler`` does not count), ``step()`` ``"calls"``, or the ``"samples"`` or ``"tokens"`` the
loop feeds (``step(samples=n)``, ``step(tokens=n)``). A schedule is a function of the clock's
position; lengths written with a unit (``"2e9tok"``, ``"1e6sp"``, ``"3ep"``, ``"500up"``,
``"0.8dur"``) are converted into the clock's unit once, before training
(:meth:`Clock.length`, :meth:`Clock.resolve`), through what the clock knows of the run: its
batch size (a number, or a :class:`~cadence.schedules.units.BatchRamp`), the tokens in a
sample, an epoch's length and the run's total. A conversion the run does not define is refused
in one line naming the value.

Batch scaling lives here too: with ``scaling`` (``"linear"``, ``"sqrt"``, ``"blend"``) and
``base_batch_size``, the hyperparameters in ``scaled`` (the lr by default) are multiplied by
the factor of the batch size at each position: the clock's own (fixed or ramped), or the one
``step(batch_size=...)`` gives.

>>> from cadence.schedules.units import BatchRamp
>>> clock = Clock("samples", batch_size=BatchRamp(start=8, end=16, increment=8, over="160sp"),
...               total="100up")
>>> clock.length("10up"), clock.length("0.2dur"), clock.batch_at(159), clock.batch_at(160)
(80.0, 288.0, 8.0, 16.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cadence.scheduler.batch import MODES, batch_factor, check_settings
from cadence.schedules.units import CLOCK_UNITS, BatchRamp, Duration, Timeline, is_length
from cadence.validation import InvalidType, InvalidValue, check_choice, check_positive

UNITS = ("updates", "calls", "samples", "tokens")
COUNTS = ("updates", "calls")  # what ``count``, the shorthand, takes
FED = ("samples", "tokens")  # the clocks the loop feeds


@dataclass(frozen=True)
class Clock:
    """What a :class:`~cadence.Scheduler` counts (``unit``) and how the run's units relate.

    ``batch_size``: samples per update (a number or a ``BatchRamp``); ``tokens_per_sample``:
    when fixed; ``epoch``: an epoch's length (``"50000sp"``); ``total``: the run's length, what
    ``"dur"`` lengths are fractions of. ``scaling``/``base_batch_size``/``scaled``: batch-size
    scaling of the hyperparameters in ``scaled`` (see the module).

    >>> clock = Clock("tokens", batch_size=512, tokens_per_sample=2048, total="1e12tok")
    >>> clock.length("1000up"), clock.length("0.1dur")
    (1048576000.0, 100000000000.0)
    """

    unit: str = "updates"
    batch_size: float | BatchRamp | None = None
    tokens_per_sample: float | None = None
    epoch: str | None = None
    total: str | None = None
    scaling: str | None = None
    base_batch_size: float | None = None
    scaled: tuple[str, ...] = ("lr",)
    _timeline: Timeline = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_choice("unit", self.unit, UNITS)
        if self.scaling is not None:
            check_choice("scaling", self.scaling, MODES)
            if self.base_batch_size is None:
                raise InvalidValue("'base_batch_size' must be given with 'scaling' (got None)")
            check_positive("base_batch_size", self.base_batch_size)
        elif self.base_batch_size is not None:
            check_positive("base_batch_size", self.base_batch_size)
        if isinstance(self.scaled, str) or not isinstance(self.scaled, Iterable):
            raise InvalidType(f"'scaled' must be a list of hyperparameter names (got "
                              f"{self.scaled!r})")
        object.__setattr__(self, "scaled", tuple(self.scaled))
        timeline = Timeline("updates" if self.unit == "calls" else self.unit,
                            self.batch_size, self.tokens_per_sample, self.epoch, self.total)
        object.__setattr__(self, "_timeline", timeline)
        ramp = self.batch_size
        if isinstance(ramp, BatchRamp) and self.unit == "tokens" and \
                Duration.parse("over", ramp.over).unit != "tok" and self.tokens_per_sample is None:
            raise InvalidValue(f"a tokens clock with a batch ramp over {ramp.over!r} needs "
                               "tokens_per_sample, or the ramp's 'over' in tokens")

    @property
    def fed(self) -> bool:
        """Whether the loop feeds this clock (samples, tokens)."""
        return self.unit in FED

    # -- lengths -----------------------------------------------------------------------------
    def length(self, value: object, name: str = "length") -> float:
        """``value`` in this clock's unit: a number is one already; a string with a unit is
        converted (``"calls"`` converts as updates). A length is the position it reaches from
        the start of the run (``"10up"``: what the first 10 updates consume); ``"A..B"`` is the
        span between two positions, e.g. the last 20 of 100 updates, ``"80up..100up"`` (under a
        batch ramp, not what the first 20 consume).

        >>> Clock("tokens", batch_size=512, tokens_per_sample=2048).length("10up")
        10485760.0
        >>> ramp = BatchRamp(start=8, end=16, increment=8, over="160sp")
        >>> Clock("samples", batch_size=ramp).length("80up..100up")
        320.0
        """
        if isinstance(value, str) and ".." in value:  # the span between two positions
            start, _, end = value.partition("..")
            where = f"{name} {value!r}" if name != "length" else repr(value)
            return self.length(end.strip(), f"the end of {where}") - \
                self.length(start.strip(), f"the start of {where}")
        return self._timeline.length(value, name)

    def resolve(self, config: Any, where: str = "config") -> Any:
        """``config`` (a schedule's config, nested dicts and lists) with every length written
        with a unit converted into this clock's unit; the rest as it is.

        >>> Clock("samples", batch_size=32).resolve({"type": "cosine", "steps": "100up"})
        {'type': 'cosine', 'steps': 3200.0}
        """
        if isinstance(config, Mapping):
            return {k: self.resolve(v, f"{where}[{k!r}]") for k, v in config.items()}
        if isinstance(config, (list, tuple)):
            return type(config)(self.resolve(v, f"{where}[{i}]") for i, v in enumerate(config))
        if isinstance(config, str) and all(is_length(p) for p in config.split("..", 1)):
            return self.length(config, where)
        return config

    # -- the batch size ----------------------------------------------------------------------
    def batch_at(self, position: float) -> float | None:
        """The batch size of the update made at ``position`` (in this clock's unit): the fixed
        batch size, or the ramp's after what was consumed before it; None without one."""
        ramp = self.batch_size
        if not isinstance(ramp, BatchRamp):
            return None if ramp is None else float(ramp)
        over = Duration.parse("over", ramp.over)
        own = CLOCK_UNITS["updates" if self.unit == "calls" else self.unit]
        at = position if over.unit == own else \
            self._timeline.convert(position, own, over.unit, name=f"the position {position:g}")
        return float(ramp.batch_at(at))

    def convert(self, positions: Any, unit: str) -> Any:
        """``positions`` (on this clock, a number or an array) in ``unit`` (``"updates"``,
        ``"samples"`` or ``"tokens"``): to draw a schedule on another axis. Refused, naming
        what is missing, where the run does not define it.

        >>> ramp = BatchRamp(start=8, end=16, increment=8, over="160sp")
        >>> Clock("samples", batch_size=ramp).convert([0, 160, 320], "updates").tolist()
        [0.0, 20.0, 30.0]
        """
        target = check_choice("unit", "updates" if unit == "calls" else unit,
                              tuple(CLOCK_UNITS))
        own = CLOCK_UNITS["updates" if self.unit == "calls" else self.unit]
        import numpy as np

        return self._timeline.convert(np.asarray(positions, dtype=np.float64), own,
                                      CLOCK_UNITS[target], name=f"the {self.unit} axis")

    def stages(self) -> list[tuple[float, float]]:
        """Where a batch ramp changes the batch size: ``(position, new batch size)`` on this
        clock for each stage after the first: the first update of the stage (what was consumed
        before it), or, on a tokens clock whose samples vary in length, the threshold the ramp
        sets (none without a ramp).

        >>> ramp = BatchRamp(start=8, end=32, increment=8, over="240sp")
        >>> Clock("updates", batch_size=ramp).stages()  # 10 x 8, 5 x 16, then 4 x 24 > 240
        [(10.0, 16.0), (15.0, 24.0), (19.0, 32.0)]
        """
        ramp = self.batch_size
        if not isinstance(ramp, BatchRamp):
            return []
        over = Duration.parse("over", ramp.over)
        if self.unit == "tokens" and self.tokens_per_sample is None:  # over is in tokens
            count = (ramp.end - ramp.start) // ramp.increment
            return [(k * over.amount / count, float(ramp.start + k * ramp.increment))
                    for k in range(1, count + 1)]
        table = ramp.stages(self.tokens_per_sample)[1:]
        column = {"updates": 0, "calls": 0}.get(self.unit, 1)
        scale = self.tokens_per_sample if self.unit == "tokens" else 1.0
        return [(float(row[column]) * (scale or 1.0), float(row[2])) for row in table]

    def factor(self, position: float, batch_size: float | None = None) -> float:
        """The batch-scaling factor at ``position``: of ``batch_size`` if given, else of the
        clock's batch size there (1 without scaling or a batch size)."""
        if self.scaling is None or (batch_size is None and self.batch_size is None):
            return 1.0
        size = batch_size if batch_size is not None else self.batch_at(position)
        return batch_factor(self.scaling, size, float(self.base_batch_size))  # type: ignore[arg-type]

    def run(self) -> dict[str, Any] | None:
        """The settings a state's layout keeps beyond the unit and batch scaling (None when
        there are none: states saved without them load as before)."""
        config = self.to_config()
        run = {k: config[k] for k in ("batch_size", "tokens_per_sample", "epoch", "total")}
        return run if any(v is not None for v in run.values()) else None

    # -- config --------------------------------------------------------------------------------
    def to_config(self) -> dict[str, Any]:
        """The clock as plain data (what a state's layout keeps); :meth:`from_config` reads it.

        >>> Clock.from_config(Clock("tokens", tokens_per_sample=2048).to_config()).unit
        'tokens'
        """
        ramp = self.batch_size
        return {"unit": self.unit,
                "batch_size": ramp.to_config() if isinstance(ramp, BatchRamp) else ramp,
                "tokens_per_sample": self.tokens_per_sample, "epoch": self.epoch,
                "total": self.total, "scaling": self.scaling,
                "base_batch_size": self.base_batch_size, "scaled": list(self.scaled)}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Clock:
        if not isinstance(config, Mapping):
            raise InvalidType(f"'clock' must be a unit ({', '.join(UNITS)}) or a mapping of "
                              f"Clock's arguments (got {config!r})")
        known = ("unit", "batch_size", "tokens_per_sample", "epoch", "total", "scaling",
                 "base_batch_size", "scaled")
        for key in config:
            if key not in known:
                raise InvalidValue(f"unknown key {key!r} in 'clock' (known: {', '.join(known)})")
        args = dict(config)
        ramp = args.get("batch_size")
        if isinstance(ramp, Mapping):
            settings = {k: v for k, v in ramp.items() if k != "type"}
            if ramp.get("type", "batch_ramp") != "batch_ramp":
                raise InvalidValue(f"'clock' 'batch_size' must be a number or a batch_ramp "
                                   f"(got {ramp!r})")
            args["batch_size"] = BatchRamp(**settings)
        if "scaled" in args:
            args["scaled"] = tuple(args["scaled"])
        return cls(**args)


class Time(NamedTuple):
    """Where a Scheduler is: the clock's ``position`` (the step its values are for), the
    ``step()`` ``calls`` so far, and the ``batch_size`` the last ``step(batch_size=...)`` gave
    (None: the clock's own). A value: a Scheduler moves by writing the values of a new Time
    and then taking it, so a refused value leaves it where it was.

    >>> Time(3).at(4), Time(3).called(batch_size=64)
    (Time(position=4, calls=0, batch_size=None), Time(position=3, calls=1, batch_size=64))
    """

    position: float
    calls: int = 0
    batch_size: float | None = None

    def at(self, position: float) -> Time:
        return Time(position, self.calls, self.batch_size)

    def called(self, *, batch_size: float | None, by: float = 0) -> Time:
        """After one more ``step()`` call, moved on by ``by``. (A tuple: made on every update,
        it costs less than a frozen dataclass.)"""
        return Time(self.position + by, self.calls + 1, batch_size)


def clock_of(clock: object, count: object, mode: object, base: object,
             scaled: tuple[str, ...]) -> Clock:
    """A Scheduler's clock: ``clock``, or the one its shorthands (``count``,
    ``batch_size_mode``, ``base_batch_size``, ``batch_scaled``) describe; not both.

    >>> clock_of(None, "calls", "sqrt", 64, ("lr",)).scaling
    'sqrt'
    """
    if clock is None:
        scaling, base_size = check_settings(mode, base)
        return Clock(check_choice("count", "updates" if count is None else count, COUNTS),
                     scaling=scaling, base_batch_size=base_size if scaling else None,
                     scaled=scaled)
    shorthands = {"count": count, "batch_size_mode": mode, "base_batch_size": base,
                  "batch_scaled": None if scaled == ("lr",) else list(scaled)}
    given = {name: value for name, value in shorthands.items() if value is not None}
    if given:
        name, value = next(iter(given.items()))
        raise InvalidValue(f"give the clock's settings in 'clock' only: {', '.join(given)} "
                           f"is a shorthand for them (got clock={clock!r} and "
                           f"{name}={value!r})")
    return as_clock(clock)


def as_clock(clock: object) -> Clock:
    """``clock``: a :class:`Clock`, a unit name, or a mapping of its arguments."""
    if isinstance(clock, Clock):
        return clock
    if isinstance(clock, str):
        return Clock(check_choice("clock", clock, UNITS))
    return Clock.from_config(clock)  # type: ignore[arg-type]


def check_amount(name: str, value: object) -> int:
    """An amount fed to a clock: an int >= 0."""
    try:
        if isinstance(value, bool):
            raise TypeError
        amount = int(value.__index__())  # type: ignore[attr-defined]  # an int, an int tensor
    except (AttributeError, TypeError, RuntimeError):
        raise InvalidType(f"{name!r} must be an int >= 0, the {name} of this update on this "
                          f"rank (got {value!r})") from None
    if amount < 0:
        raise InvalidValue(f"{name!r} must be an int >= 0 (got {amount})")
    return amount


__all__ = ["COUNTS", "FED", "UNITS", "Clock", "Time", "as_clock", "check_amount", "clock_of"]
