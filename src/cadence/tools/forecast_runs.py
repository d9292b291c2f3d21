"""The runs a loss law is fitted to (:mod:`cadence.tools.forecast`): the lr of every update
and the losses measured after some of them, from arrays, a schedule, or CSV files (the one
``HyperparameterLog`` writes, with a loss column or a loss file beside it).

>>> run = Run("constant", np.full(100, 0.1), np.array([9, 49, 99]), np.array([3.0, 2.5, 2.3]))
>>> run.lrs.size, lrs_of("cosine", 100, peak=0.1)[[0, 50]].round(4).tolist()
(100, [0.1, 0.05])
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cadence.schedules import Schedule
from cadence.validation import InvalidType, InvalidValue, check_positive_int

MAX_UPDATES = 100_000_000  # an lr per update, in memory: 800 MB


def check_total(total: object) -> int:
    """A number of updates whose lrs are computed: a positive int up to ``MAX_UPDATES``."""
    count = check_positive_int("total", total)
    if count > MAX_UPDATES:
        raise InvalidValue(f"'total' must be at most {MAX_UPDATES:,} updates, whose lrs are held "
                           f"in memory (got {count:,})")
    return count


@dataclass(frozen=True, eq=False)
class Run:
    """One logged run: ``lrs[t]`` the lr update ``t`` used (every update), and ``losses[i]``
    the loss measured after update ``steps[i]``.

    >>> run = Run("constant", np.full(100, 0.1), np.array([9, 49, 99]), np.array([3.0, 2.5, 2.3]))
    >>> run.lrs.size, run.steps.tolist()
    (100, [9, 49, 99])
    """

    name: str
    lrs: np.ndarray
    steps: np.ndarray
    losses: np.ndarray

    def __post_init__(self) -> None:
        lrs = np.asarray(self.lrs, dtype=np.float64)
        steps = np.asarray(self.steps)
        losses = np.asarray(self.losses, dtype=np.float64)
        if lrs.ndim != 1 or not lrs.size or not np.all(np.isfinite(lrs)) or lrs.min() < 0:
            raise InvalidValue(f"run {self.name!r}: 'lrs' must be the lr of every update, "
                               f"finite and >= 0 (got {lrs.size} values)")
        if steps.ndim != 1 or steps.shape != losses.shape or not steps.size:
            raise InvalidValue(f"run {self.name!r}: 'steps' and 'losses' must be two lists of "
                               f"the same length, at least 1 (got {steps.shape} and "
                               f"{losses.shape})")
        if steps.dtype.kind not in "iu" or steps.min() < 0 or steps.max() >= lrs.size or \
                np.any(np.diff(steps) <= 0):
            raise InvalidValue(f"run {self.name!r}: 'steps' must be increasing update indices "
                               f"in 0..{lrs.size - 1} (got {steps.min()}..{steps.max()})")
        if not np.all(np.isfinite(losses)) or losses.min() <= 0:
            raise InvalidValue(f"run {self.name!r}: 'losses' must be finite and > 0 (a law of "
                               f"the log loss) (got min {float(losses.min())!r})")
        object.__setattr__(self, "lrs", lrs)
        object.__setattr__(self, "steps", steps.astype(np.int64))
        object.__setattr__(self, "losses", losses)

    @classmethod
    def from_schedule(cls, name: str, schedule: Schedule, *, total: int, peak: float,
                      steps: Sequence[int] | np.ndarray, losses: Sequence[float] | np.ndarray
                      ) -> Run:
        """A run that followed ``peak * schedule(t)`` for ``total`` updates."""
        return cls(name, lrs_of(schedule, total, peak), np.asarray(steps), np.asarray(losses))

    @classmethod
    def from_csv(cls, path: str | Path, lrs: str | Path | None = None) -> Run:
        """A run from a CSV with a header: an ``update`` (or ``step``) column, a ``loss``
        column (empty where it was not measured) and an lr column (``lr`` or ``lr/0``, as
        ``HyperparameterLog`` writes it) on every row; or, with ``lrs``, the lrs from that
        CSV (``HyperparameterLog``'s) and the losses from ``path``."""
        table = _read_csv(path)
        name = Path(path).stem
        source = table if lrs is None else _read_csv(lrs)
        updates, values = _column(source, ("update", "step"), lrs or path), \
            _column(source, ("lr", "lr/0"), lrs or path)
        known = ~np.isnan(values)
        if not known.any() or updates[known][0] != 0 or np.any(np.diff(updates[known]) != 1):
            raise InvalidValue(f"{lrs or path}: the lr column must give the lr of every update "
                               "from 0 on (HyperparameterLog's CSV does)")
        measured = _column(table, ("loss",), path)
        at = _column(table, ("update", "step"), path)
        kept = ~np.isnan(measured)
        return cls(name, values[known], at[kept].astype(np.int64), measured[kept])


def _read_csv(path: str | Path) -> dict[str, list[str]]:
    try:
        with open(path, newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
    except OSError as exc:
        raise InvalidValue(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    if not rows:
        raise InvalidValue(f"{str(path)!r} has no rows under its header")
    return {key: [row[key] for row in rows] for key in rows[0]}


def _column(table: Mapping[str, list[str]], names: tuple[str, ...], path: object) -> np.ndarray:
    for name in names:
        if name in table:
            try:
                return np.array([float(v) if v.strip() else math.nan for v in table[name]])
            except ValueError:
                raise InvalidValue(f"{path}: column {name!r} must hold numbers") from None
    raise InvalidValue(f"{path}: no {' or '.join(repr(n) for n in names)} column (it has "
                       f"{sorted(table)})")


def lrs_of(schedule: Any, total: int, peak: float = 1.0) -> np.ndarray:
    """The lr of each of ``total`` updates under ``schedule``: ``peak`` times a schedule's
    factor (a Schedule, a preset's name or a schedule's config), or an array of lrs as is.

    >>> lrs_of("cosine", 100, peak=0.1)[[0, 50]].round(4).tolist()
    [0.1, 0.05]
    """
    if isinstance(schedule, (np.ndarray, list, tuple)):
        return np.asarray(schedule, dtype=np.float64)
    total = check_total(total)
    if not isinstance(schedule, Schedule):
        from cadence.tools.curves import load

        schedule = load(schedule, total)
        if not isinstance(schedule, Schedule):
            raise InvalidType(f"a candidate must be a schedule, a preset or a schedule's config "
                              f"(got {type(schedule).__name__})")
    return peak * schedule(np.arange(total))


__all__ = ["Run", "lrs_of"]
