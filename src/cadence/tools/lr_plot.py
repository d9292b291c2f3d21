"""The LR range test's figure, which :meth:`cadence.tools.find_lr.LRFinderResult.plot` draws:
the loss and the smoothed loss against the lr on a log axis, with the suggestions and the lowest
point marked. Matplotlib is imported when a figure is drawn.

>>> from cadence.tools.find_lr import LRFinderResult
>>> result = LRFinderResult([1e-3, 1e-2, 1e-1], [1.0, 0.8, 2.0], [1.0, 0.9, 1.3], True, "", {})
>>> plot_result(result).axes[0].get_xlabel()
'learning rate'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cadence.tools.lr_suggestions import Suggestion, lowest
from cadence.validation import InvalidValue

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from cadence.tools.find_lr import LRFinderResult

RULE_NOTES = {"minimum": " (a tenth of the lowest point's lr)"}  # in the plot's legend
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def plot_result(result: LRFinderResult, path: str | os.PathLike[str] | None = None
                ) -> Figure | Path:
    """The figure of ``result`` (see :meth:`cadence.tools.find_lr.LRFinderResult.plot`), or
    with ``path`` written there, and the path."""
    from matplotlib.figure import Figure

    target = None if path is None else Path(path)
    if target is not None and target.suffix.lower() not in PLOT_SUFFIXES:
        raise InvalidValue(f"'path' must end in one of {', '.join(PLOT_SUFFIXES)} "
                           f"(got {str(path)!r})")
    lrs = np.asarray(result.lrs, dtype=np.float64)
    raw = _finite_or_nan(result.losses)
    smooth = _finite_or_nan(result.smoothed)
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(lrs, raw, color="C0", alpha=0.3, linewidth=1, label="loss")
    ax.plot(lrs, smooth, color="C0", linewidth=2, label="smoothed loss")
    low = lowest(result.smoothed)
    if low is not None:
        ax.plot([lrs[low]], [smooth[low]], "x", color="black", markersize=9,
                markeredgewidth=2, gid="lowest", label=f"lowest point: {lrs[low]:.2e}")
    for k, (rule, s) in enumerate(result.suggestions.items()):
        if isinstance(s, Suggestion):
            ax.plot([s.lr], [s.loss], "o", color=f"C{k + 1}", markersize=8, gid=rule,
                    label=f"{rule}{RULE_NOTES.get(rule, '')}: {s.lr:.2e}")
    ax.set_xscale("log")
    ax.set(xlabel="learning rate", ylabel="loss", title="LR range test")
    _set_ylim(ax, raw, smooth)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best")
    if target is None:
        return fig
    fig.savefig(target)
    return target


def _finite_or_nan(values: list[float]) -> np.ndarray:
    out = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(out), out, np.nan)


def _set_ylim(ax: Any, raw: np.ndarray, smooth: np.ndarray) -> None:
    """Bottom at the lowest loss; top where the default divergence rule would stop (four
    times the best smoothed loss, or the first one if higher), so an explosion does not squash
    the curve."""
    finite = smooth[np.isfinite(smooth)]
    if not finite.size or finite.min() <= 0:
        return
    low = float(min(finite.min(), np.min(raw, initial=np.inf, where=np.isfinite(raw))))
    high = float(min(finite.max(), max(finite[0], 4 * finite.min())))
    if high > low:
        pad = 0.05 * (high - low)
        ax.set_ylim(low - pad, high + pad)
