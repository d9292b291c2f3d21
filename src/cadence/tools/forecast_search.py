"""The schedule a fitted law (:mod:`cadence.tools.forecast`) predicts to end lowest, among the
monotone piecewise-linear ones: after an optional linear warm-up, ``pieces`` straight pieces of
equal length, each knot at most the one before, from the peak down to no lower than ``floor``
(a factor of the peak). It is returned as an ordinary schedule (a ``join`` of ``Linear``
pieces): printable, written to a config, run by ``cadence.Scheduler``.

The search minimises the predicted final loss with scipy's L-BFGS-B over the ratios between
consecutive knots (each in ``[0, 1]``, so every candidate is monotone), from the constant
schedule. Like every forecast, its answer is the law's opinion: a law that cannot follow the
runs it was fitted to will not find a better schedule for them.

>>> import numpy as np
>>> from cadence.tools.forecast import Forecast
>>> model = Forecast("annealing", {"L0": 2.0, "A": 1.0, "alpha": 0.5, "C": 0.002}, 1.0, {},
...                  (0.0, 0.0), 1000, 1.0)
>>> best = best_schedule(model, pieces=4)
>>> values = best(np.arange(0, 1001, 250)).round(3).tolist()
>>> values == sorted(values, reverse=True), values[0]
(True, 1.0)
"""

from __future__ import annotations

import itertools

import numpy as np

from cadence.schedules import Constant, Linear, Schedule, join
from cadence.tools.forecast import Forecast, one_thread
from cadence.tools.forecast_runs import check_total
from cadence.validation import (
    InvalidValue,
    MissingPackage,
    check_non_negative_int,
    check_positive_int,
    check_range,
)

MAX_PEAK = 1e6  # a peak lr past this is a mistake (the command line's --peak-lr has the bound)


def _schedule(knots: np.ndarray, total: int, warmup: int) -> Schedule:
    """A warm-up to 1 over ``warmup`` updates, then straight pieces through ``knots`` (the
    first is 1) over the rest, equally long, then the last knot."""
    pieces: list[Schedule] = [Linear(start=0.0, end=1.0, steps=warmup)] if warmup else []
    length = (total - warmup) / (knots.size - 1)
    pieces += [Linear(start=float(a), end=float(b), steps=length)
               for a, b in itertools.pairwise(knots)]
    pieces.append(Constant(float(knots[-1])))
    starts = [warmup + length * i for i in range(knots.size)]
    return join(pieces, starts if warmup else starts[1:])


def best_schedule(model: Forecast, *, total: int | None = None, peak: float | None = None,
                  warmup: int = 0, pieces: int = 8, floor: float = 0.0) -> Schedule:
    """The monotone piecewise-linear schedule (a factor of ``peak``, by default the fitted
    runs' peak lr) over ``total`` updates (by default the longest fitted run) with the lowest
    final loss ``model`` predicts: see the module.

    >>> from cadence.tools.forecast import Forecast
    >>> area = Forecast("area", {"L0": 2.0, "A": 1.0, "alpha": 0.5}, 1.0, {}, (0.0, 0.0),
    ...                 500, 1.0)
    >>> best_schedule(area, pieces=2)([0, 250, 499]).tolist()  # decaying never pays here
    [1.0, 1.0, 1.0]
    """
    try:
        from scipy.optimize import minimize
    except ImportError:
        raise MissingPackage("searching for a schedule needs the 'scipy' package: "
                             "pip install 'cadence[forecast]'") from None
    if not isinstance(model, Forecast):
        raise InvalidValue(f"'model' must be a fitted Forecast (got {model!r})")
    length = check_total(model.horizon if total is None else total)
    height = model.peak if peak is None else check_range("peak", peak, 0.0, MAX_PEAK,
                                                          low_open=True)
    check_non_negative_int("warmup", warmup)
    count = check_positive_int("pieces", pieces)
    floor = check_range("floor", floor, 0.0, 1.0)
    if warmup >= length:
        raise InvalidValue(f"'warmup' must be below 'total' ({length}) (got {warmup})")
    if warmup + count > length:
        raise InvalidValue(f"'pieces' must leave at least one update to each piece after the "
                           f"warm-up of {warmup}, in 'total' {length} updates (got {count})")
    last = [length - 1]

    def knots(ratios: np.ndarray) -> np.ndarray:
        return np.r_[1.0, floor + (1.0 - floor) * np.cumprod(ratios)]

    def final(ratios: np.ndarray) -> float:
        schedule = _schedule(knots(ratios), length, warmup)
        return model.predict(height * schedule(np.arange(length)), last).final

    with one_thread():
        result = minimize(final, np.ones(count), method="L-BFGS-B",
                          bounds=[(0.0, 1.0)] * count, options={"maxiter": 500})
    best = np.asarray(result.x)
    if final(best) > final(np.ones(count)):  # the search went nowhere: the constant is best
        best = np.ones(count)
    return _schedule(knots(best), length, warmup)


__all__ = ["best_schedule"]
