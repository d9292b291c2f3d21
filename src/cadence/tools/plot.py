"""Plots of schedules and schedulers (matplotlib, no display needed).

``plot`` draws one panel per hyperparameter and param group (lr, momentum, weight decay...),
overlays several schedules with a legend, marks restarts, milestones and phase ends with dotted
lines, and can use a log scale or epochs on the x axis. Schedulers are read through their closed
form, so no optimizer changes. Each y axis says what its values are (:func:`value_kind`):
factors of a group's base value (a schedule, a preset) or absolute values (a scheduler's).

>>> from cadence.schedules import Cosine, Warmup
>>> fig = plot([Warmup(Cosine(steps=90), steps=10), "one-cycle"], steps=100)
>>> [ax.get_title() for ax in fig.axes], fig.axes[0].get_ylabel()
(['lr'], 'lr (factor of the base lr)')
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cadence.config.registry import registered
from cadence.schedules import Mark, Schedule
from cadence.tools.curves import (
    Curve,
    build_on_stand_in,
    curves,
    is_scheduler,
    parse,
    unit_of,
)
from cadence.validation import InvalidValue, check_choice, check_positive, check_positive_int

FORMATS = (".png", ".svg", ".pdf")
MARK_STYLE = {"restart": ("tab:red", ":"), "milestone": ("tab:purple", "--"),
              "phase": ("tab:gray", ":"), "stage": ("tab:green", "-."),
              "branch": ("tab:orange", "-.")}
MARK_LABELS = {"restart": "restart", "milestone": "milestone (a drop)", "phase": "phase end",
               "stage": "batch size changes", "branch": "re-timed here"}
PLANNED = "as first planned"  # the legend entry of a re-timed curve's original
AXES = ("updates", "samples", "tokens")  # what a clock's positions can be drawn against
FACTOR, ABSOLUTE, ON_BASE_ONE = "factor", "absolute", "on a base of 1"


def value_kind(spec: Any, hyperparameter: str, steps: int) -> str:
    """What ``spec``'s values for ``hyperparameter`` are: :data:`FACTOR`, factors of each
    group's base value (a schedule, a preset or a schedule config, which a scheduler binds
    relative to the base by default); :data:`ABSOLUTE`, the values a group gets (a scheduler
    on its optimizer, or a scheduler config whose values do not depend on the base, such as
    ``torch.OneCycleLR``'s ``max_lr``); or :data:`ON_BASE_ONE`, a scheduler config's values
    for a base of 1 that are neither (a floor such as ``eta_min``). A scheduler config is
    previewed on a stand-in whose values are 1; built again on one whose values are 2, its
    values double (factors), stay (absolute) or neither. Only that needs torch.

    >>> value_kind({"type": "torch.StepLR", "step_size": 3}, "lr", 10)
    'factor'
    >>> value_kind({"type": "torch.OneCycleLR", "max_lr": 0.1, "total_steps": 10}, "lr", 10)
    'absolute'
    """
    value = parse(spec)
    if isinstance(value, (Schedule, str)):
        return FACTOR
    if is_scheduler(value):
        return ABSOLUTE
    if isinstance(value, dict) and value.get("type") in registered():
        return FACTOR
    grid = np.arange(steps)
    try:
        ones = build_on_stand_in(value).value_at(grid)[hyperparameter]
        twos = build_on_stand_in(value, value=2.0).value_at(grid)[hyperparameter]
    except (KeyError, TypeError, ValueError):
        return ON_BASE_ONE
    if np.allclose(twos, 2 * ones, rtol=1e-9, atol=0, equal_nan=True):
        return FACTOR
    if np.allclose(twos, ones, rtol=1e-9, atol=0, equal_nan=True):
        return ABSOLUTE
    return ON_BASE_ONE


def axis_label(name: str, kind: str) -> str:
    """The y label of a panel of ``name`` whose values are of ``kind``.

    >>> axis_label("lr", FACTOR), axis_label("momentum", ABSOLUTE)
    ('lr (factor of the base lr)', 'momentum (absolute)')
    """
    if kind == FACTOR:
        return f"{name} (factor of the base {name})"
    if kind == ON_BASE_ONE:
        return f"{name} (on a base {name} of 1)"
    return f"{name} (absolute)"


def _specs(spec: Any) -> list[Any]:
    """Several things to draw, or one (a list of MMEngine configs is one scheduler)."""
    if isinstance(spec, (list, tuple)) and not _mmengine_list(spec):
        return list(spec)
    return [spec]


def _mmengine_list(spec: Any) -> bool:
    """A non-empty list of MMEngine scheduler configs (their names are looked up only then:
    they come with torch)."""
    if not (isinstance(spec, list) and spec and all(isinstance(c, dict) for c in spec)):
        return False
    from cadence.compat.mmengine_shapes import TYPES

    return all(c.get("type") in TYPES for c in spec)


def _x(curve: Curve, steps: Any, axis: str | None, per_epoch: float | None) -> Any:
    """Where ``steps`` (on the curve's clock) are drawn: in epochs, on ``axis``, or as they
    are."""
    if per_epoch is not None:
        return steps / per_epoch
    clock = curve.clock
    if axis is None or (clock is None and axis == "updates"):
        return steps  # optimizer steps are updates
    if clock is None:
        raise InvalidValue(f"'axis' {axis!r} needs a scheduler on a clock that converts to it "
                           f"({curve.label!r} counts optimizer steps; build it with "
                           "clock=cadence.Clock(...))")
    return clock.convert(steps, axis)


def panels(all_curves: Sequence[Curve]) -> dict[tuple[str, int | None], list[Curve]]:
    """Curves grouped by (hyperparameter, param group), in order of first appearance."""
    out: dict[tuple[str, int | None], list[Curve]] = {}
    for curve in all_curves:
        key = (curve.hyperparameter, curve.group if curve.group else None)
        out.setdefault(key, []).append(curve)
    return out


def plot(spec: Any, steps: int = 1000, *, steps_per_epoch: float | None = None,
         log: bool = False, labels: Sequence[str] | None = None, title: str | None = None,
         marks: bool = True, path: str | Path | None = None, axis: str | None = None) -> Figure:
    """Draw one or several schedules, schedulers, configs or presets over ``steps`` steps.

    Returns the figure; with ``path`` (``.png``, ``.svg`` or ``.pdf``) it is also written there.
    ``steps_per_epoch`` puts epochs on the x axis; ``log`` a log scale on y. A scheduler on a
    clock (:class:`cadence.Clock`) is drawn in its unit (samples, tokens), with the stages of
    its batch ramp marked; ``axis`` (``"updates"``, ``"samples"``, ``"tokens"``) draws it
    against another, converted exactly through what the clock knows (refused where it cannot).

    It needs matplotlib (``pip install 'cadence[plot]'``).

    >>> import tempfile
    >>> from cadence.schedules import Cosine, Warmup
    >>> from cadence.tools import plot
    >>> fig = plot([Warmup(Cosine(steps=900), steps=100), "one-cycle"], 1000,
    ...            labels=["warmup-cosine", "one-cycle"], path=tempfile.mkdtemp() + "/lr.png")
    >>> [line.get_label() for line in fig.axes[0].lines][:2]
    ['warmup-cosine', 'phase end']
    """
    n = check_positive_int("steps", steps)
    per_epoch = None if steps_per_epoch is None else check_positive("steps_per_epoch",
                                                                    steps_per_epoch)
    if axis is not None:
        check_choice("axis", axis, AXES)
        if per_epoch is not None:
            raise InvalidValue(f"'axis' and 'steps_per_epoch' are two x axes: give one (got "
                               f"axis={axis!r}, steps_per_epoch={steps_per_epoch!r})")
    if path is not None and Path(path).suffix.lower() not in FORMATS:
        raise InvalidValue(f"'path' must end in .png, .svg or .pdf (got {str(path)!r})")
    specs = _specs(spec)
    if labels is not None and len(labels) != len(specs):
        raise InvalidValue(f"'labels' must have one entry per schedule ({len(specs)}) "
                           f"(got {len(labels)})")
    all_curves: list[Curve] = []
    kinds: dict[int, str] = {}  # id(curve) -> what its values are
    for i, item in enumerate(specs):
        found = curves(item, n, label=None if labels is None else labels[i])
        for name in {c.hyperparameter for c in found}:
            kind = value_kind(item, name, n)
            kinds.update((id(c), kind) for c in found if c.hyperparameter == name)
        all_curves += found
    grouped = panels(all_curves)
    fig = Figure(figsize=(9, 2.6 + 2.4 * len(grouped)), layout="constrained")
    axes = fig.subplots(len(grouped), 1, sharex=True, squeeze=False)[:, 0]
    colours = [f"C{i}" for i in range(10)]
    labels_seen: dict[str, str] = {}
    for ax, ((name, group), members) in zip(axes, grouped.items()):
        panel_kinds = {kinds[id(c)] for c in members}
        marked: set[str] = set()  # the kinds of mark drawn in this panel: one legend entry each
        for curve in members:
            colour = labels_seen.setdefault(curve.label, colours[len(labels_seen) % 10])
            x = _x(curve, curve.steps, axis, per_epoch)
            label = curve.label if len(panel_kinds) == 1 else f"{curve.label} [{kinds[id(curve)]}]"
            ax.plot(x, curve.values, color=colour, label=label, linewidth=1.6)
            if curve.original is not None:  # the plan it was re-timed from, after the switch
                switched = min((m.step for m in curve.marks if m.kind == "branch"), default=0.0)
                after = curve.steps >= switched
                ax.plot(x[after], curve.original[after], color=colour, linestyle="--",
                        linewidth=1.0, alpha=0.6,
                        label=f"{label} ({PLANNED})")
            if marks:
                stages = [] if curve.clock is None else \
                    [Mark(at, "stage") for at, _ in curve.clock.stages() if at <= n - 1]
                for mark in [*curve.marks, *stages]:
                    style, dash = MARK_STYLE[mark.kind]
                    at = float(_x(curve, mark.step, axis, per_epoch))
                    first = mark.kind not in marked
                    marked.add(mark.kind)
                    ax.axvline(at, color=style, linestyle=dash, linewidth=0.8, alpha=0.6,
                               gid=MARK_LABELS[mark.kind],
                               label=MARK_LABELS[mark.kind] if first else "_nolegend_")
        place = members[0].place  # a target's place, when its places differ
        ax.set_title(f"{name} ({place})" if place else
                     name if group is None else f"{name} (group {group})")
        if len(panel_kinds) == 1:
            ax.set_ylabel(axis_label(name, next(iter(panel_kinds))))
        else:  # each legend entry says what its values are
            ax.set_ylabel(f"{name} ({' or '.join(sorted(panel_kinds))}: see the legend)")
        if log:
            ax.set_yscale("log", nonpositive="mask")
        ax.grid(True, alpha=0.3)
        handles, names = ax.get_legend_handles_labels()  # every curve, then each kind of mark
        order = sorted(range(len(names)), key=lambda i: names[i] in MARK_LABELS.values())
        ax.legend([handles[i] for i in order], [names[i] for i in order], loc="best",
                  fontsize="small")
    axes[-1].set_xlabel("epoch" if per_epoch else axis or unit_of(all_curves))
    if title:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(path)
    return fig
