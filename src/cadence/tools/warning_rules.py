"""The warnings :func:`cadence.tools.describe.describe` gives about common mistakes, each
worded with the curve it is about: a value that drops to 0 early, a large jump where two pieces
meet, a schedule shorter or longer than the training, a restart or milestone in the training's
last steps, and an lr schedule bound as factors that looks like learning rates.

>>> from cadence.schedules import Linear
>>> from cadence.tools.curves import curves
>>> from cadence.tools.summary import summarize
>>> [curve] = curves(Linear(start=1.0, end=0.0, steps=50), 100)
>>> value_warnings(curve, summarize(curve), 100)  # doctest: +ELLIPSIS
['linear: lr: the value reaches 0 at step 50, before the last training step (99), and ...']
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from cadence.schedules.base import MAX_MARKS, Mark, Schedule
from cadence.tools.curves import Curve, curves, is_scheduler
from cadence.tools.summary import CurveSummary, settles, tolerance
from cadence.tools.text import fmt_number, fmt_step

if TYPE_CHECKING:
    from cadence.scheduler.reading import ReadableScheduler

# Warnings: a jump over half the peak; a settled tail over 10% of training; landmarks or
# changes past 1.5x the training steps.
LARGE_JUMP = 0.5
SHORT_TAIL = 0.1
STEPPED_TAIL = 0.5  # the tail after a step decay's last milestone is usually deliberate
LONG_FACTOR = 1.5
LATE_SHARE = 0.05  # a restart or milestone in the last 5% of training is rarely meant
_CHECK_SPAN = 3  # horizon checks look at steps 0 .. 3 * training_steps ...
_CHECK_POINTS = 300_001  # ... at most this many of them ...
_FAR = 1000  # ... and at 1000 * training_steps, for far landmarks


def lr_advice(source: Schedule | ReadableScheduler, found: list[Curve]) -> list[str]:
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


def training_warnings(source: Schedule | ReadableScheduler, summaries: list[CurveSummary],
                      total: int) -> list[str]:
    """The warnings against a training of ``total`` steps: every curve of ``source`` (in the
    order of ``summaries``) evaluated again over steps 0 .. 3 * ``total`` (and at 1000 *
    ``total``), too short, too long, or with a landmark in the training's last steps."""
    dense = _check_grid(total)
    checked = curves(source, np.append(dense, float(_FAR * total)))
    out: list[str] = []
    for summary, curve in zip(summaries, checked):
        out += _horizon_warnings(summary, curve, dense.size, total)
        out += _late_landmarks(summary, curve, total)
    return out


def _check_grid(total: int) -> np.ndarray:
    end = _CHECK_SPAN * total
    if end + 1 <= _CHECK_POINTS:
        return np.arange(end + 1, dtype=np.float64)
    return np.linspace(0.0, float(end), _CHECK_POINTS)


def _span(curve: Curve, total: int | None) -> tuple[float, str]:
    """The last step a curve is judged to (see :func:`describe`'s zero warning), in words."""
    last = float(curve.steps[-1])
    if total is not None:
        return float(total - 1), f"the last training step ({total - 1})"
    if curve.end is not None and curve.end < last:
        return curve.end, f"the end of its own shape (step {fmt_step(curve.end)})"
    return last, f"the last step ({fmt_step(last)})"


def value_warnings(curve: Curve, s: CurveSummary, total: int | None = None) -> list[str]:
    """The warnings about ``curve``'s values themselves (summarized as ``s``): a value that
    reaches 0 before the end of its span (:func:`_span`), a large jump not at a landmark."""
    t = np.asarray(curve.steps, dtype=np.float64)
    v = np.asarray(curve.values, dtype=np.float64)
    out = []
    tol = tolerance(v)
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
    deliberate = [m.step for m in curve.marks if m.kind in ("restart", "milestone", "branch")]
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
    tol = tolerance(v)
    settle = settles(t, v, tol)
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
