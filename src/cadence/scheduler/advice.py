"""Settings that are allowed but usually a mistake, found before training.

One so far: an lr schedule written as learning rates (the optax and Keras habit,
``Warmup(Cosine(start=3e-4, ...))``) bound as a factor of each group's base lr, cadence's
default. With ``AdamW(lr=3e-4)`` the model then trains at ``3e-4 * 3e-4 = 9e-8`` without a
word. :func:`rates_as_factors` tells: a relative lr schedule whose largest value is small
(below ``SMALL``) or equal to one of the groups' base lrs (below 1).

>>> from cadence.schedules import Cosine
>>> print(rates_as_factors(Cosine(start=3e-4, end=0.0, steps=100), [3e-4]))  # doctest: +ELLIPSIS
'lr' is a factor of each param group's base lr, and its schedule peaks at 0.0003, which looks ...
>>> rates_as_factors(Cosine(start=1.0, end=0.0, steps=100), [3e-4]) is None
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from cadence.schedules.base import MAX_MARKS, Schedule

SMALL = 0.05


class LooksLikeRates(UserWarning):
    """An lr schedule whose values look like learning rates is bound as factors of the base
    lrs (see the module's docstring).

    ``absolute=True`` (the values are lrs) or a schedule of factors (``Cosine(start=1.0, ...)``)
    says which is meant, and silences it.

    >>> import warnings
    >>> import torch
    >>> import cadence
    >>> from cadence.schedules import Cosine
    >>> opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=3e-4)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     sched = cadence.Scheduler(opt, lr=Cosine(start=3e-4, end=0.0, steps=100))
    ...
    >>> [w.category.__name__ for w in caught], opt.param_groups[0]["lr"]  # 3e-4 * 3e-4
    (['LooksLikeRates'], 8.999999999999999e-08)
    """


_FAR = 1e15  # landmarks this far out are looked at too (a run counted in tokens is long)
_GRID = np.array([0.0, *(10.0 ** k for k in range(8))])


def peak(schedule: Schedule) -> float:
    """The largest value ``schedule`` takes at step 0, its landmarks (phase ends, restarts,
    milestones: where a warm-up peaks) and the powers of ten up to 10**7 (an estimate: a
    value between them can be larger). NaN for a schedule with a user's function in it
    (``Lambda``, ``Multiplicative``: one that has no config), which is not called here."""
    try:
        schedule.to_config()
    except TypeError:
        return math.nan
    marks = [m.step for m in schedule.marks(_FAR)][:MAX_MARKS]
    steps = np.concatenate([_GRID, np.asarray(marks, dtype=np.float64)])
    with np.errstate(all="ignore"):
        values = np.asarray(schedule(steps), dtype=np.float64)
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else math.nan


def rates_as_factors(schedule: Schedule, bases: Sequence[float | None]) -> str | None:
    """Why ``schedule``, bound to the lr as a factor of ``bases``, looks like learning rates
    (None when it does not)."""
    top = peak(schedule)
    known = [b for b in bases if b is not None and b > 0]
    if not known or not 0 < top < 1:
        return None
    equal = [b for b in known if math.isclose(top, b, rel_tol=1e-3)]
    if top >= SMALL and not equal:
        return None
    why = (f"the base lr of a group ({equal[0]:g})" if equal else
           f"a learning rate (a factor stays near 1 at its peak, and {SMALL:g} is small)")
    base = max(known)
    result = "" if base == 1.0 else f": the lr would peak at {top * base:g} ({top:g} x {base:g})"
    return (f"'lr' is a factor of each param group's base lr, and its schedule peaks at "
            f"{top:g}, which looks like {why}{result}. Pass absolute=['lr'] to write the "
            "schedule's values as the lr itself, or absolute=False to keep them as factors "
            "(and silence this)")
