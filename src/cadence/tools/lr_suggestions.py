"""What the LR range test suggests: three rules that read an lr off a smoothed loss curve
(:func:`suggest`), each giving a :class:`Suggestion` or, when it has nothing to suggest, a
:class:`NoSuggestion` that says why. Numpy only: a recorded curve is read without torch.

>>> lrs = [10.0 ** (k / 4 - 5) for k in range(20)]
>>> curve = [2.0 - 0.1 * k if k < 15 else 0.5 + k for k in range(20)]
>>> {rule: round(s.lr, 6) for rule, s in suggest(lrs, curve).items()}
{'steepest': 3.2e-05, 'valley': 0.000562, 'minimum': 0.003162}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

RULES = ("steepest", "valley", "minimum")
MIN_POINTS = 10  # fewer finite points than this and no rule suggests anything


@dataclass(frozen=True)
class Suggestion:
    """The lr a rule suggests, ``lr``, and the smoothed loss there, ``loss``.

    ``index`` is the point of the sweep the rule picked, for every rule: ``lr`` is
    ``lrs[index]`` and ``loss`` the smoothed loss there (``LRFinderResult.smoothed``), which
    is where the plot puts its dot. The ``"minimum"`` rule picks the recorded point
    nearest a tenth of the lowest point's lr.

    >>> bool(Suggestion("valley", 1e-3, 0.5, 42))
    True
    """

    rule: str
    lr: float
    loss: float
    index: int

    def __bool__(self) -> Literal[True]:  # with NoSuggestion's, lets `if s:` narrow the type
        return True


@dataclass(frozen=True)
class NoSuggestion:
    """A rule that has nothing to suggest, and why. It is falsy.

    >>> none = NoSuggestion("valley", "the curve has 3 points; at least 10 are needed")
    >>> bool(none), none.reason
    (False, 'the curve has 3 points; at least 10 are needed')
    """

    rule: str
    reason: str

    def __bool__(self) -> Literal[False]:
        return False


def suggest(lrs: list[float], smoothed: list[float]) -> dict[str, Suggestion | NoSuggestion]:
    """The three suggestions for a smoothed loss curve. Each one's ``lr`` is ``lrs[index]``
    and its ``loss`` ``smoothed[index]``: one point of the sweep.

    The curve is cut before its first non-finite point; with ``m`` points left (at least
    ``MIN_POINTS``), the rules look at points ``m // 10`` to ``m - min(5, m // 10)`` (exclusive),
    fastai's window for a full sweep of 50 or more updates (the first tenth, noisy while the
    average warms up, and the last five, where the loss explodes):

    - ``"steepest"``: the point where ``np.gradient(smoothed, log10(lr))`` is most negative.
    - ``"valley"``: fastai's rule as its code computes it: the longest strictly decreasing
      subsequence of the smoothed losses, of length ``L >= 2`` ending at point ``e`` (the
      first such end), gives ``s = e - L`` and the point ``s + L // 3 + L // 6``, which is
      about halfway from ``s`` to ``e`` (not the two thirds it is often described as). Where
      that is ``-1`` (a valley of two points at the very start) fastai takes the last point;
      here it is clamped to the first.
    - ``"minimum"``: a tenth of the lr at the lowest smoothed loss (:func:`lowest`), taken
      as the recorded point nearest to it in ``log10(lr)`` (the first point if the tenth lies
      below the sweep).

    A rule whose curve never decreases has no suggestion.

    >>> lrs = [10.0 ** (k / 4 - 5) for k in range(20)]
    >>> curve = [2.0 - 0.1 * k if k < 15 else 0.5 + k for k in range(20)]
    >>> lowest(curve), suggest(lrs, curve)["minimum"].index  # 4 points make a factor of 10
    (14, 10)
    """
    y = np.asarray(smoothed, dtype=np.float64)
    bad = ~np.isfinite(y)
    m = int(np.argmax(bad)) if bad.any() else len(y)
    why = None
    if m == 0 and len(y):
        why = "the loss is not finite before the sweep could start"
    elif m < MIN_POINTS:
        finite = " finite" if m < len(y) else ""
        why = f"the curve has {m}{finite} points; at least {MIN_POINTS} are needed"
    if why is not None:
        return {rule: NoSuggestion(rule, why) for rule in RULES}
    lo, hi = m // 10, m - min(5, m // 10)
    x = np.asarray(lrs[lo:hi], dtype=np.float64)
    w = y[lo:hi]
    flat = f"the smoothed loss never decreases between lr={x[0]:.3g} and lr={x[-1]:.3g}"
    out: dict[str, Suggestion | NoSuggestion] = {}

    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.gradient(w, np.log10(x))
    k = int(np.argmin(slope))
    out["steepest"] = (Suggestion("steepest", float(x[k]), float(w[k]), lo + k)
                       if slope[k] < 0 else NoSuggestion("steepest", flat))

    lds = np.ones(len(w), dtype=np.int64)  # longest decreasing subsequence ending at each point
    for i in range(1, len(w)):
        before = lds[:i][w[:i] > w[i]]
        if before.size:
            lds[i] = before.max() + 1
    end = int(np.argmax(lds))
    length = int(lds[end])
    k = max(0, end - length + length // 3 + length // 6)
    out["valley"] = (Suggestion("valley", float(x[k]), float(w[k]), lo + k)
                     if length >= 2 else NoSuggestion("valley", flat))

    logs = np.log10(np.asarray(lrs[:m], dtype=np.float64))
    k = int(np.argmin(np.abs(logs - (logs[lo + int(np.argmin(w))] - 1.0))))
    out["minimum"] = Suggestion("minimum", float(lrs[k]), float(y[k]), k)
    return out


def lowest(curve: list[float]) -> int | None:
    """The index of the lowest point of ``curve`` that the rules look at (see :func:`suggest`:
    its finite part, less the first tenth and the last points); None for fewer than
    ``MIN_POINTS`` finite points.

    >>> lowest([3.0, 2.0, 1.0, 2.0] + [5.0] * 8)  # the first point is outside the window
    2
    """
    y = np.asarray(curve, dtype=np.float64)
    bad = ~np.isfinite(y)
    m = int(np.argmax(bad)) if bad.any() else len(y)
    if m < MIN_POINTS:
        return None
    lo, hi = m // 10, m - min(5, m // 10)
    return lo + int(np.argmin(y[lo:hi]))
