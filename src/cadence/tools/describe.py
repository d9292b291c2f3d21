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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from cadence.schedules import Schedule
from cadence.schedules.branch import Branched, lineage
from cadence.tools.curves import Curve, curves, load
from cadence.tools.summary import JUMP_OF_MEDIAN as JUMP_OF_MEDIAN
from cadence.tools.summary import JUMP_OF_NEIGHBOURS as JUMP_OF_NEIGHBOURS
from cadence.tools.summary import JUMP_OF_RANGE as JUMP_OF_RANGE
from cadence.tools.summary import PROBE as PROBE
from cadence.tools.summary import STILL_THERE as STILL_THERE
from cadence.tools.summary import TOLERANCE as TOLERANCE
from cadence.tools.summary import CurveSummary, keep_discontinuities, summarize
from cadence.tools.summary import Jump as Jump
from cadence.tools.text import fmt_list, fmt_number, fmt_step, natural_width, need_rich, render_text
from cadence.tools.warning_rules import LARGE_JUMP as LARGE_JUMP
from cadence.tools.warning_rules import LATE_SHARE as LATE_SHARE
from cadence.tools.warning_rules import LONG_FACTOR as LONG_FACTOR
from cadence.tools.warning_rules import SHORT_TAIL as SHORT_TAIL
from cadence.tools.warning_rules import STEPPED_TAIL as STEPPED_TAIL
from cadence.tools.warning_rules import lr_advice, training_warnings, value_warnings
from cadence.validation import InvalidType, InvalidValue, check_optional, check_positive_int

if TYPE_CHECKING:
    from rich.console import Group
    from rich.table import Table

MAX_STEPS = 10_000_000  # a summary holds every step in memory: about 1 GB and 3 s at the limit


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
    retimed: list[str] = field(default_factory=list)  # each re-timed schedule's plan and switches

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
        for line in self.retimed:
            parts += [rich.text.Text(""), rich.text.Text(line)]
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
    warnings: list[str] = lr_advice(source, found)
    with np.errstate(all="ignore"):  # values that overflow to inf are summarized as they are
        summaries = [summarize(c) for c in found]
        keep_discontinuities(source, found, summaries)
        for curve, summary in zip(found, summaries):
            warnings += value_warnings(curve, summary, total)
        if total is not None:
            warnings += training_warnings(source, summaries, total)
    return Description(summaries, warnings, total, clock_line(found), retimings(source, found))


def retimings(source: Any, found: list[Curve]) -> list[str]:
    """One line per re-timed schedule of ``source``: the plan it started from and each switch
    since (:mod:`cadence.schedules.branch`), oldest first.

    >>> from cadence.schedules import Cooldown, Constant
    >>> [line] = retimings(Cooldown(Constant(1.0), at=60, steps=40, end=0.1), [])
    >>> for part in line.split("; then "):
    ...     print(part)
    lr: planned as Constant(value=1.0)
    a linear cool-down branched at step 60, to 0.1 over 40 steps
    """
    if isinstance(source, Schedule):
        named = [("lr" if not found else found[0].hyperparameter, source)]
    else:
        named = [(name, s) for name in (*source.hyperparameters, *source.targets)
                 for s in dict.fromkeys(source.schedules(name)) if s is not None]
    out = []
    for name, schedule in named:
        chain = list(lineage(schedule))
        if len(chain) > 1:
            switches = "; then ".join(b.explain() for b in reversed(chain[:-1])
                                      if isinstance(b, Branched))
            out.append(f"{name}: planned as {chain[-1]!r}; then {switches}")
    return out


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
