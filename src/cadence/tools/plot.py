"""Plots of schedules and schedulers (matplotlib, no display needed).

``plot`` draws one panel per hyperparameter and param group (lr, momentum, weight decay...),
overlays several schedules with a legend, marks restarts, milestones and phase ends with dotted
lines, and can use a log scale or epochs on the x axis. Schedulers are read through their closed
form, so no optimizer changes.

>>> from cadence.schedules import Cosine, Warmup
>>> fig = plot([Warmup(Cosine(steps=90), steps=10), "one-cycle"], steps=100)
>>> [ax.get_title() for ax in fig.axes], len(fig.axes[0].get_lines()) >= 2
(['lr'], True)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from cadence.compat.mmengine_shapes import TYPES
from cadence.tools.curves import Curve, curves
from cadence.validation import InvalidValue, check_positive, check_positive_int

FORMATS = (".png", ".svg", ".pdf")
MARK_STYLE = {"restart": ("tab:red", ":"), "milestone": ("tab:purple", "--"),
              "phase": ("tab:gray", ":")}


def _specs(spec: Any) -> list[Any]:
    """Several things to draw, or one (a list of MMEngine configs is one scheduler)."""
    mmengine_list = isinstance(spec, list) and bool(spec) and all(
        isinstance(c, dict) and c.get("type") in TYPES for c in spec)
    if isinstance(spec, (list, tuple)) and not mmengine_list:
        return list(spec)
    return [spec]


def panels(all_curves: Sequence[Curve]) -> dict[tuple[str, int | None], list[Curve]]:
    """Curves grouped by (hyperparameter, param group), in order of first appearance."""
    out: dict[tuple[str, int | None], list[Curve]] = {}
    for curve in all_curves:
        key = (curve.hyperparameter, curve.group if curve.group else None)
        out.setdefault(key, []).append(curve)
    return out


def plot(spec: Any, steps: int = 1000, *, steps_per_epoch: float | None = None,
         log: bool = False, labels: Sequence[str] | None = None, title: str | None = None,
         marks: bool = True, path: str | Path | None = None) -> Figure:
    """Draw one or several schedules, schedulers, configs or presets over ``steps`` steps.

    Returns the figure; with ``path`` (``.png``, ``.svg`` or ``.pdf``) it is also written there.
    ``steps_per_epoch`` puts epochs on the x axis; ``log`` a log scale on y.
    """
    n = check_positive_int("steps", steps)
    per_epoch = None if steps_per_epoch is None else check_positive("steps_per_epoch",
                                                                    steps_per_epoch)
    if path is not None and Path(path).suffix.lower() not in FORMATS:
        raise InvalidValue(f"'path' must end in .png, .svg or .pdf (got {str(path)!r})")
    specs = _specs(spec)
    if labels is not None and len(labels) != len(specs):
        raise InvalidValue(f"'labels' must have one entry per schedule ({len(specs)}) "
                           f"(got {len(labels)})")
    all_curves: list[Curve] = []
    for i, item in enumerate(specs):
        all_curves += curves(item, n, label=None if labels is None else labels[i])
    grouped = panels(all_curves)
    fig = Figure(figsize=(9, 2.6 + 2.4 * len(grouped)), layout="constrained")
    axes = fig.subplots(len(grouped), 1, sharex=True, squeeze=False)[:, 0]
    colours = [f"C{i}" for i in range(10)]
    labels_seen: dict[str, str] = {}
    for ax, ((name, group), members) in zip(axes, grouped.items()):
        for curve in members:
            colour = labels_seen.setdefault(curve.label, colours[len(labels_seen) % 10])
            x = curve.steps / per_epoch if per_epoch else curve.steps
            ax.plot(x, curve.values, color=colour, label=curve.label, linewidth=1.6)
            if marks:
                for mark in curve.marks:
                    style, dash = MARK_STYLE[mark.kind]
                    at = mark.step / per_epoch if per_epoch else mark.step
                    ax.axvline(at, color=style, linestyle=dash, linewidth=0.8, alpha=0.6)
        ax.set_title(name if group is None else f"{name} (group {group})")
        ax.set_ylabel(name)
        if log:
            ax.set_yscale("log", nonpositive="mask")
        ax.grid(True, alpha=0.3)
        if len(members) > 1:
            ax.legend(loc="best", fontsize="small")
    axes[-1].set_xlabel("epoch" if per_epoch else "step")
    if title:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(path)
    return fig
