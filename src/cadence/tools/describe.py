"""A numeric summary of a schedule, a scheduler, a config or a preset, and warnings about
common mistakes: a schedule that ends before the training does (or long after it), a value that
drops to 0 early, a jump where two pieces meet.

Every curve of :func:`cadence.tools.curves` gets one :class:`CurveSummary`; a
:class:`Description` holds them with the warnings and renders them as a table.

>>> from cadence.schedules import Cosine, Warmup
>>> d = describe(Warmup(Cosine(start=1.0, end=0.0, steps=90), steps=10), 101)
>>> s = d.summaries[0]
>>> s.start, s.peak, s.peak_step, s.warmup_steps, s.end
(0.0, 1.0, 10, 10, 0.0)
>>> d.warnings
[]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from cadence.schedules.base import MAX_MARKS, Mark, Schedule
from cadence.tools.curves import Curve, curves, is_scheduler, load
from cadence.tools.text import fmt_list, fmt_number, fmt_step, natural_width, need_rich, render_text
from cadence.validation import InvalidType, InvalidValue, check_optional, check_positive_int

if TYPE_CHECKING:
    from rich.console import Group
    from rich.table import Table

    from cadence.scheduler.reading import ReadableScheduler

# A step-to-step change is a jump when it exceeds the share of the range and one of the two
# multiples below (see ``describe``).
JUMP_OF_RANGE = 0.25
JUMP_OF_MEDIAN = 20.0
JUMP_OF_NEIGHBOURS = 5.0
# A jump is a discontinuity: looked at again over the last PROBE of the step before it, the
# change is still at least STILL_THERE of its size (a steep but continuous rise, such as an EMA
# warm-up's first step, shrinks with the interval).
PROBE = 1e-3
STILL_THERE = 0.5
# Warnings: a jump over half the peak; a settled tail over 10% of training; landmarks or
# changes past 1.5x the training steps.
LARGE_JUMP = 0.5
SHORT_TAIL = 0.1
STEPPED_TAIL = 0.5  # the tail after a step decay's last milestone is usually deliberate
LONG_FACTOR = 1.5
LATE_SHARE = 0.05  # a restart or milestone in the last 5% of training is rarely meant
MAX_STEPS = 10_000_000  # a summary holds every step in memory: about 1 GB and 3 s at the limit
# Relative size (of the largest |value|) under which a change, or a value, counts as none.
TOLERANCE = 1e-12
_CHECK_SPAN = 3  # horizon checks look at steps 0 .. 3 * training_steps ...
_CHECK_POINTS = 300_001  # ... at most this many of them ...
_FAR = 1000  # ... and at 1000 * training_steps, for far landmarks


class Jump(NamedTuple):
    """A discontinuity: the value changes by ``size`` on arriving at ``step``.

    >>> from cadence.schedules import Step
    >>> from cadence.tools import describe
    >>> describe(Step(every=300, gamma=0.1), 1000).summaries[0].jumps
    [Jump(step=300, size=-0.9)]
    """

    step: int | float
    size: float


@dataclass
class CurveSummary:
    """The numbers that describe one curve over the steps it was evaluated at.

    ``warmup_steps`` is how long the curve rises from its first step to its highest value
    before it first falls (0 if its first change is not a rise); ``settles`` is the step from
    which it no longer changes (``None`` if it still changes at the last step). ``restarts``,
    ``milestones`` and ``phases`` are its landmarks (see :class:`cadence.schedules.Mark`).

    >>> from cadence.schedules import Cosine, Warmup
    >>> from cadence.tools import describe
    >>> [s] = describe(Warmup(Cosine(steps=900), steps=100), 1000).summaries
    >>> s.start, s.peak, s.warmup_steps, s.phases
    (0.0, 1.0, 100, [100])
    """

    label: str
    hyperparameter: str
    group: int | None
    start: float
    peak: float
    peak_step: int | float
    end: float
    minimum: float
    mean: float
    warmup_steps: int | float
    settles: int | float | None
    restarts: list[int | float] = field(default_factory=list)
    milestones: list[int | float] = field(default_factory=list)
    phases: list[int | float] = field(default_factory=list)
    jumps: list[Jump] = field(default_factory=list)

    @property
    def name(self) -> str:
        """``"<label>: <hyperparameter>"``, as the table and the warnings name the curve."""
        return f"{self.label}: {self.hyperparameter}"


@dataclass
class Description:
    """Per-curve summaries and warnings; ``str()`` is the table and the warnings as text.

    >>> from cadence.schedules import Cosine
    >>> from cadence.tools import describe
    >>> d = describe(Cosine(steps=500), 1000, training_steps=1000)
    >>> len(d.summaries), d.training_steps, d.summaries[0].end
    (1, 1000, 0.0)
    >>> any("reaches 0 at step 500" in warning for warning in d.warnings)
    True
    """

    summaries: list[CurveSummary]
    warnings: list[str]
    training_steps: int | None = None
    clock: str | None = None  # what the steps count, for a scheduler on a clock (one line)

    def table(self) -> Table:
        """A ``rich.table.Table``, one row per curve."""
        rich = need_rich("Description.table()")
        table = rich.table.Table(box=rich.box.SIMPLE_HEAD, show_edge=False)
        names = min(max((len(s.name) for s in self.summaries), default=5), 32)
        for heading in ("curve", "start", "peak @ step", "end", "min", "mean", "warm-up",
                        "restarts", "milestones", "jumps"):
            lists = heading in ("restarts", "milestones", "jumps")
            table.add_column(heading, justify="left" if heading == "curve" else "right",
                             no_wrap=not lists, overflow="fold",
                             min_width=names if heading == "curve" else None)
        for s in self.summaries:
            jumps = [f"{fmt_number(j.size, sign=True)}@{fmt_step(j.step)}" for j in s.jumps]
            cells = [s.name, fmt_number(s.start), f"{fmt_number(s.peak)} @ {fmt_step(s.peak_step)}",
                     fmt_number(s.end), fmt_number(s.minimum), fmt_number(s.mean),
                     fmt_step(s.warmup_steps) if s.warmup_steps else "-",
                     (f"{len(s.restarts) + 1} cycles: " if s.restarts else "")
                     + fmt_list([fmt_step(r) for r in s.restarts]),
                     fmt_list([fmt_step(m) for m in s.milestones]), fmt_list(jumps)]
            table.add_row(*(rich.text.Text(c) for c in cells))
        return table

    def __rich__(self) -> Group:
        rich = need_rich("Description")
        parts: list[Any] = [self.table()]
        if self.clock:
            parts += [rich.text.Text(""), rich.text.Text(self.clock)]
        if self.warnings:
            listed = rich.table.Table.grid(padding=(0, 1))
            listed.add_column(no_wrap=True)
            listed.add_column()
            for warning in self.warnings:
                listed.add_row("-", rich.text.Text(warning))
            parts += [rich.text.Text(""), rich.text.Text("Warnings:"), listed]
        return rich.console.Group(*parts)

    def text(self, width: int | None = None) -> str:
        """The table and the warnings as plain text, ``width`` characters wide (by default as
        wide as the table needs, from 80 up to 200)."""
        return render_text(self, natural_width(self.table()) if width is None else width)

    def __str__(self) -> str:
        return self.text()


def describe(spec: Any, steps: Any, *, training_steps: int | None = None) -> Description:
    """Summarize every curve of ``spec`` (see :func:`cadence.tools.curves`) over ``steps`` (an
    int N means steps 0 .. N-1, or an increasing array of steps), and warn about mistakes.

    Rules:

    - a **jump** is a change between consecutive steps larger than 25% of the curve's range
      (max - min) and either larger than 20x the median absolute step-to-step change or larger
      than 5x the changes just before and just after it;
    - a **large jump** warning is a jump larger than half the curve's peak |value| that is not
      at a restart or milestone (those jump on purpose);
    - a **jump** is also a discontinuity: the change is still at least half as large over the
      last thousandth of the step before it (the schedule evaluated at a fractional step), so a
      steep but continuous rise (an EMA warm-up's first steps) is not one;
    - a **restart** or **milestone** is one where the value changes (a restart of a constant
      is none); the table counts the cycles its restarts make;
    - a **zero** warning: the value reaches 0 (within ``1e-12`` of the largest |value|) after
      being non-zero, before the end of its span: the training's last step with
      ``training_steps``, else the end of the curve's own shape (a cosine that ends at 0 at its
      end, viewed over more steps beside a longer curve, is not warned about) or the last step
      shown, for a shape that goes on;
    - with ``training_steps`` T, the curve is also evaluated over steps 0 .. 3T (and at 1000T).
      **Too short**: it settles (stops changing for good) at a step S with T - S > 10% of T
      (50% when S is a step decay's last milestone: a final low stretch is usual there), at a
      value below its peak (a curve that settles at its peak, like warm-up then constant, is
      fine). **Too long**: it
      still changes after 1.5T and either settles after 1.5T, or has a phase end or a (finite)
      milestone after 1.5T with no restart between T and it. Periodic and open-ended shapes
      (restarts, exponential decay) are not judged. **Late landmark**: a restart or a
      milestone in the last 5% of the training (steps 0.95T to T-1): those last updates run at
      the restarted (or dropped) value, which a schedule sized to the training rarely means.

    At most ``MAX_STEPS`` (10,000,000) steps are summarized: more would not fit in memory
    (pass a coarser, increasing array of steps instead).

    >>> from cadence.schedules import Linear
    >>> d = describe(Linear(start=1.0, end=0.0, steps=50), 100, training_steps=100)
    >>> print(d.warnings[0])  # doctest: +NORMALIZE_WHITESPACE
    linear: lr: the value reaches 0 at step 50, before the last training step (99), and stays 0
    from there.
    """
    grid = _check_steps(steps)
    total = check_optional(check_positive_int, "training_steps", training_steps)
    found = curves(spec, grid)
    source = load(spec, int(grid.max()) + 1)  # the very source ``curves`` previewed
    warnings: list[str] = _lr_advice(source, found)
    with np.errstate(all="ignore"):  # values that overflow to inf are summarized as they are
        summaries = [_summarize(c) for c in found]
        _keep_discontinuities(source, found, summaries)
        for curve, summary in zip(found, summaries):
            warnings += _value_warnings(curve, summary, total)
        if total is not None:
            dense = _check_grid(total)
            checked = curves(source, np.append(dense, float(_FAR * total)))
            for summary, curve in zip(summaries, checked):
                warnings += _horizon_warnings(summary, curve, dense.size, total)
                warnings += _late_landmarks(summary, curve, total)
    return Description(summaries, warnings, total, clock_line(found))


def clock_line(found: list[Curve]) -> str | None:
    """What the steps count, for curves of a scheduler on a samples or tokens clock, and where
    its batch ramp changes the batch size (in the clock's unit and in updates where the clock
    converts them).

    >>> clock_line([]) is None
    True
    """
    clocks = [c.clock for c in found if c.clock is not None and c.clock.fed]
    if not clocks:
        return None
    clock = clocks[0]
    line = f"Steps are {clock.unit} consumed (the scheduler's clock)"
    stages = clock.stages()
    if stages:
        try:
            updates = [f" (update {float(u):g})" for u in
                       clock.convert([at for at, _ in stages], "updates")]
        except InvalidValue:
            updates = [""] * len(stages)
        line += "; its batch ramp changes the batch size " + ", ".join(
            f"to {batch:g} at {fmt_step(at)}{u}" for (at, batch), u in zip(stages, updates))
    return line + "."


# -- analysis ------------------------------------------------------------------------------------
def _lr_advice(source: Schedule | ReadableScheduler, found: list[Curve]) -> list[str]:
    """A scheduler's lr schedule that looks like learning rates but is bound as factors of
    the base lrs (:mod:`cadence.scheduler.advice`): a native Scheduler's, whose ``absolute``
    argument the advice names (a drop-in's arguments are upstream's)."""
    if not is_scheduler(source):
        return []
    from cadence.scheduler.advice import rates_as_factors
    from cadence.scheduler.scheduler import Scheduler
    from cadence.scheduler.track import RELATIVE

    if not isinstance(source, Scheduler) or "lr" not in source.hyperparameters \
            or source.span("lr") != RELATIVE:
        return []
    label = next((c.label for c in found if c.hyperparameter == "lr"), "scheduler")
    shared: dict[int, tuple[Schedule, list[float | None]]] = {}
    for schedule, base in zip(source.schedules("lr"), source.bases("lr")):
        if schedule is not None:
            shared.setdefault(id(schedule), (schedule, []))[1].append(base)
    found_advice = (rates_as_factors(schedule, bases) for schedule, bases in shared.values())
    return [f"{label}: {advice}" for advice in found_advice if advice is not None]


def _check_steps(steps: Any) -> np.ndarray:
    if isinstance(steps, (int, np.integer)) and not isinstance(steps, bool):
        count = check_positive_int("steps", int(steps))
        if count > MAX_STEPS:
            raise InvalidValue(f"'steps' must be at most {MAX_STEPS:,} for a summary (got "
                               f"{count:,}): pass an increasing array of fewer steps instead")
        return np.arange(count)
    rule = "a positive int or a non-empty, increasing sequence of steps >= 0"
    if isinstance(steps, (bool, str, bytes)) or not isinstance(steps, (Sequence, np.ndarray)):
        raise InvalidType(f"'steps' must be {rule} (got {steps!r})")
    grid = np.asarray(steps, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)) or grid.min() < 0 \
            or np.any(np.diff(grid) <= 0):
        raise InvalidValue(f"'steps' must be {rule} (got {steps!r})")
    if grid.size > MAX_STEPS:
        raise InvalidValue(f"'steps' must hold at most {MAX_STEPS:,} steps for a summary "
                           f"(got {grid.size:,})")
    return grid


def _check_grid(total: int) -> np.ndarray:
    end = _CHECK_SPAN * total
    if end + 1 <= _CHECK_POINTS:
        return np.arange(end + 1, dtype=np.float64)
    return np.linspace(0.0, float(end), _CHECK_POINTS)


def _as_step(step: Any) -> int | float:
    value = float(step)
    return int(value) if value.is_integer() else value


def _tolerance(values: np.ndarray) -> float:
    scale = float(np.max(np.abs(values))) if values.size else 0.0
    return TOLERANCE * scale if math.isfinite(scale) else 0.0


def _settles(t: np.ndarray, v: np.ndarray, tol: float) -> int | float | None:
    """The first step from which ``v`` stays put; None if it changes at the last step."""
    moving = np.flatnonzero(np.abs(np.diff(v)) > tol)
    if moving.size == 0:
        return _as_step(t[0])
    last = int(moving[-1])
    return None if last == v.size - 2 else _as_step(t[last + 1])


def _summarize(curve: Curve) -> CurveSummary:
    t = np.asarray(curve.steps, dtype=np.float64)
    v = np.asarray(curve.values, dtype=np.float64)
    tol = _tolerance(v)
    d = np.diff(v)
    warmup: int | float = 0
    moving = np.flatnonzero(np.abs(d) > tol)
    if moving.size and d[moving[0]] > 0:
        falls = np.flatnonzero(d < -tol)
        last = int(falls[0]) if falls.size else v.size - 1
        rise = v[: last + 1]
        top = int(np.flatnonzero(rise >= rise.max() - tol)[0])
        warmup = _as_step(t[top] - t[0])
    jumps = []
    span = float(v.max() - v.min()) if v.size else 0.0
    if d.size and span > 0:
        a = np.abs(d)
        padded = np.concatenate(([0.0], a, [0.0]))
        neighbours = np.maximum(padded[:-2], padded[2:])
        sudden = (a > JUMP_OF_MEDIAN * float(np.median(a))) | (a > JUMP_OF_NEIGHBOURS
                                                               * neighbours)
        big = (a > JUMP_OF_RANGE * span) & sudden
        jumps = [Jump(_as_step(t[i + 1]), float(d[i])) for i in np.flatnonzero(big)]
    peak = int(np.argmax(v))
    return CurveSummary(
        curve.label, curve.hyperparameter, curve.group, float(v[0]), float(v[peak]),
        _as_step(t[peak]), float(v[-1]), float(v.min()), float(v.mean()), warmup,
        _settles(t, v, tol), _real(curve.marks, "restart", t, v, tol),
        _real(curve.marks, "milestone", t, v, tol), _kind(curve.marks, "phase"), jumps)


def _kind(marks: list[Mark], kind: str) -> list[int | float]:
    return [_as_step(m.step) for m in marks if m.kind == kind]


def _real(marks: list[Mark], kind: str, t: np.ndarray, v: np.ndarray,
          tol: float) -> list[int | float]:
    """The landmarks of ``kind`` where the value changes: from the step shown before the mark
    to the one at or after it, or on to the next (a restart of a constant, a milestone that
    multiplies by 1, are none)."""
    out = []
    for m in marks:
        i = int(np.searchsorted(t, m.step))
        if m.kind != kind or i >= t.size:
            continue
        around = v[max(0, i - 1):i + 2]
        if around.size > 1 and float(np.max(np.abs(np.diff(around)))) > tol:
            out.append(_as_step(m.step))
    return out


def _keep_discontinuities(source: Schedule | ReadableScheduler, found: list[Curve],
                          summaries: list[CurveSummary]) -> None:
    """Drop the jumps that are steep but continuous changes: each curve is evaluated again
    over the last ``PROBE`` of the interval before each of its jumps (the schedules take
    fractional steps), and a jump stays only if at least ``STILL_THERE`` of it is still
    there. Where no such step is representable (a huge step), the jump stays."""
    probes = {}
    for c, s in zip(found, summaries):
        for jump in s.jumps:
            i = int(np.searchsorted(c.steps, jump.step))
            before, at = float(c.steps[i - 1]), float(c.steps[i])
            probe = at - PROBE * (at - before)
            if before < probe < at:
                probes[at] = probe
    if not probes:
        return
    grid = np.unique(np.fromiter(probes.values(), dtype=np.float64))
    again = curves(source, grid)
    for c, s, near in zip(found, summaries, again):
        kept = []
        for jump in s.jumps:
            i = int(np.searchsorted(c.steps, jump.step))
            at = float(c.steps[i])
            if at in probes:
                left = float(near.values[int(np.searchsorted(grid, probes[at]))])
                if not abs(float(c.values[i]) - left) >= STILL_THERE * abs(jump.size):
                    continue  # continuous: the change shrinks with the interval
            kept.append(jump)
        s.jumps = kept


def _span(curve: Curve, total: int | None) -> tuple[float, str]:
    """The last step a curve is judged to (see :func:`describe`'s zero warning), in words."""
    last = float(curve.steps[-1])
    if total is not None:
        return float(total - 1), f"the last training step ({total - 1})"
    if curve.end is not None and curve.end < last:
        return curve.end, f"the end of its own shape (step {fmt_step(curve.end)})"
    return last, f"the last step ({fmt_step(last)})"


def _value_warnings(curve: Curve, s: CurveSummary, total: int | None = None) -> list[str]:
    t = np.asarray(curve.steps, dtype=np.float64)
    v = np.asarray(curve.values, dtype=np.float64)
    out = []
    tol = _tolerance(v)
    zero = np.abs(v) <= tol
    restarts = [m.step for m in curve.marks if m.kind == "restart"]
    arrivals = [i for i in np.flatnonzero(zero[1:] & ~zero[:-1]) + 1  # a restart at 0 is meant
                if not any(t[i - 1] < m <= t[i] for m in restarts)]
    last, where = _span(curve, total)
    if arrivals and t[arrivals[0]] < last:
        i = int(arrivals[0])
        stays = ", and stays 0 from there" if zero[i:][t[i:] <= last].all() else ""
        out.append(f"{s.name}: the value reaches 0 at step {fmt_step(t[i])}, before "
                   f"{where}{stays}.")
    height = float(np.max(np.abs(v)))
    deliberate = [m.step for m in curve.marks if m.kind in ("restart", "milestone")]
    for jump in s.jumps:
        i = int(np.searchsorted(t, jump.step))
        if abs(jump.size) <= LARGE_JUMP * height or any(t[i - 1] < m <= t[i] for m in deliberate):
            continue
        out.append(f"{s.name}: the value jumps from {fmt_number(v[i - 1])} to "
                   f"{fmt_number(v[i])} at step {fmt_step(jump.step)} (a change of "
                   f"{fmt_number(jump.size, sign=True)}, more than half the peak "
                   f"{fmt_number(height)}); check that the pieces meet there.")
    return out


def _horizon_warnings(s: CurveSummary, curve: Curve, n: int, total: int) -> list[str]:
    t = np.asarray(curve.steps, dtype=np.float64)[:n]
    v = np.asarray(curve.values, dtype=np.float64)
    far, v = float(v[-1]), v[:n]
    tol = _tolerance(v)
    settle = _settles(t, v, tol)
    stepped = settle in [m.step for m in curve.marks if m.kind == "milestone"]
    tail = STEPPED_TAIL if stepped else SHORT_TAIL
    if settle is not None and total - settle > tail * total and abs(far - v[-1]) <= tol:
        i = int(np.searchsorted(t, settle))
        if v[i] < v[: i + 1].max() - tol:
            return [f"{s.name}: the schedule is shorter than the training: it settles at step "
                    f"{fmt_step(settle)} (at {fmt_number(v[i])}) but training runs {total} "
                    f"steps, so the last {fmt_step(total - settle)} updates use that value."]
    limit = LONG_FACTOR * total
    late = t > limit
    changes_late = bool(np.any(np.abs(np.diff(v[late])) > tol)) or abs(far - v[-1]) > tol
    if not changes_late:
        return []
    if settle is not None and settle > limit:
        what, end = f"it keeps changing until step {fmt_step(settle)}", float(v[-1])
    else:
        landmark = _last_landmark(curve.marks, total, _FAR * total)
        if landmark is None:
            return []
        kind = "phase ends" if landmark.kind == "phase" else "milestone is"
        what, end = f"its last {kind} at step {fmt_step(landmark.step)}", far
    now = float(np.interp(total, t, v))
    return [f"{s.name}: the schedule is longer than the training: {what}, beyond 1.5x the "
            f"{total} training steps, so it would not finish (at step {total} it is at "
            f"{fmt_number(now)}; it ends at {fmt_number(end)})."]


def _late_landmarks(s: CurveSummary, curve: Curve, total: int) -> list[str]:
    late = [m for m in curve.marks if m.kind in ("restart", "milestone")
            and (1 - LATE_SHARE) * total <= m.step < total]
    if not late:
        return []
    first = late[0]
    what = "restarts" if first.kind == "restart" else "drops (a milestone)"
    step = math.ceil(first.step)  # the first update that uses the new value
    return [f"{s.name}: the schedule {what} at step {fmt_step(first.step)}, so the last "
            f"{total - step} of the {total} training steps run at the "
            f"{'restarted' if first.kind == 'restart' else 'dropped'} value; size it so that "
            f"its cycles or milestones end with the training."]


def _last_landmark(marks: list[Mark], total: int, horizon: float) -> Mark | None:
    """The last phase end or milestone after 1.5x ``total`` with no restart between ``total``
    and it; milestones only when there are finitely many (not a recurring step decay)."""
    milestones = [m.step for m in marks if m.kind == "milestone"]
    finite = len(milestones) < MAX_MARKS and not any(m > horizon / 2 for m in milestones)
    restarts = [m.step for m in marks if m.kind == "restart" and m.step > total]
    first_restart = min(restarts, default=math.inf)
    found = [m for m in marks if LONG_FACTOR * total < m.step < first_restart
             and (m.kind == "phase" or (m.kind == "milestone" and finite))]
    return found[-1] if found else None
