"""The figure of a forecast (:mod:`cadence.tools.forecast`): what the fit saw, and what it
predicts.

:func:`plot_forecast` draws four panels, in two columns that share their x axis: on the left
the fitted runs (their measured losses as dots, the fitted law's curve through them, and below
their lrs), on the right the candidates (each one's predicted loss curve with its band, the
area law's prediction as a dotted line, and below their lrs). Every kind of thing drawn has a
legend entry. The loss axes are zoomed on the part of the runs after their first tenth: the
first updates' losses, many times higher, would flatten the differences that matter.

>>> import numpy as np
>>> from cadence.schedules import Constant, Cosine
>>> from cadence.tools.forecast import Run, fit
>>> law = lambda lrs: 2.0 + 1.5 * np.cumsum(lrs) ** -0.4   # a made-up task
>>> runs = [Run.from_schedule(name, s, total=400, peak=0.1, steps=np.arange(9, 400, 10),
...                           losses=law(0.1 * s(np.arange(400)))[9::10])
...         for name, s in (("constant", Constant(1.0)), ("cosine", Cosine(steps=400)))]
>>> fig = plot_forecast(fit(runs, "area"), runs, ["cosine", "wsd"])
>>> [ax.get_title() for ax in fig.axes][:2]
['fitted runs: measured and fitted loss', 'candidates: predicted loss (area law)']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cadence.tools.forecast import Forecast, Run, lrs_of
from cadence.validation import InvalidValue

FORMATS = (".png", ".svg", ".pdf")
POINTS = 160  # where each curve is evaluated: plenty for a smooth line
LR_POINTS = 20_000  # the lr curves: every update up to this many, else this many
BAND = "band"  # the gid of every band, and the start of its one legend entry
BAND_LABEL = "band: 5th to 95th percentile\nof the fit's relative residuals"
BASELINE = "area law"  # the gid of every baseline curve, and the start of its legend entry
BASELINE_LABEL = "area law (dotted, same colour):\nthe baseline"
HORIZON = "longest fitted run"
HORIZON_LABEL = "longest fitted run (to its\nright: extrapolated)"
SHOWN_FROM = 0.1  # the loss axes show the curves from this share of the run on


def _grid(size: int, points: int) -> np.ndarray:
    """About ``points`` updates from 0 to ``size - 1``, the first and the last included."""
    return np.unique(np.rint(np.linspace(0, size - 1, min(points, size))).astype(np.int64))


def _lr_line(lrs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every update's lr, or up to :data:`LR_POINTS` of them for a long run."""
    x = np.arange(lrs.size) if lrs.size <= LR_POINTS else _grid(lrs.size, LR_POINTS)
    return x, lrs[x]


def _limits(curves: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float] | None:
    """The loss axis's limits: the curves' values from :data:`SHOWN_FROM` of their run on."""
    shown = [y[x >= SHOWN_FROM * x[-1]] for x, y in curves if x.size]
    values = np.concatenate(shown) if shown else np.array([])
    values = values[np.isfinite(values)]
    if not values.size:
        return None
    low, high = float(values.min()), float(values.max())
    pad = 0.06 * (high - low) or 0.02 * abs(high) or 1.0
    return low - pad, high + pad


def _named(candidates: Mapping[str, Any] | Sequence[Any]) -> dict[str, Any]:
    if isinstance(candidates, Mapping):
        return dict(candidates)
    return {spec if isinstance(spec, str) else f"candidate {i + 1}": spec
            for i, spec in enumerate(candidates)}


def plot_forecast(model: Forecast, runs: Sequence[Run],
                  candidates: Mapping[str, Any] | Sequence[Any], *,
                  baseline: Forecast | None = None, total: int | None = None,
                  peak: float | None = None, title: str | None = None,
                  path: str | Path | None = None) -> Figure:
    """Draw ``model`` fitted to ``runs``, and its predictions for ``candidates`` (name:
    lrs, schedule, preset or config; or a list of presets and configs, named as given) over
    ``total`` updates at ``peak`` (by default the fitted runs' longest length and peak, as
    :meth:`Forecast.predict` does), each beside ``baseline``'s (the area law fitted to the same
    runs; none drawn if it is not given or ``model`` is the area law itself). The candidates'
    legend gives each one's predicted final loss, lowest first.

    Returns the figure; with ``path`` (``.png``, ``.svg`` or ``.pdf``) it is also written there.
    It needs matplotlib (``pip install 'cadence[plot]'``).

    >>> import numpy as np, tempfile
    >>> from cadence.schedules import Constant
    >>> from cadence.tools.forecast import Run, fit
    >>> lrs = np.full(300, 0.1)
    >>> run = Run("constant", lrs, np.arange(9, 300, 10), 2 + np.cumsum(lrs)[9::10] ** -0.5)
    >>> fig = plot_forecast(fit([run], "area"), [run], {"cosine": "cosine"},
    ...                     path=tempfile.mkdtemp() + "/forecast.png")
    >>> fig.axes[1].get_legend().get_texts()[0].get_text()
    'cosine: 2.258'
    """
    if path is not None and Path(path).suffix.lower() not in FORMATS:
        raise InvalidValue(f"'path' must end in .png, .svg or .pdf (got {str(path)!r})")
    named = _named(candidates)
    if not runs or not named:
        raise InvalidValue(f"plot_forecast needs one or more runs and candidates (got "
                           f"{len(runs)} run(s), {len(named)} candidate(s))")
    if model.law == "area":
        baseline = None  # the model is the baseline
    size = int(total or model.horizon)
    top = model.peak if peak is None else float(peak)

    fig = Figure(figsize=(15, 7.5), layout="constrained")
    (fitted_ax, cand_ax), (fitted_lr, cand_lr) = fig.subplots(
        2, 2, sharex="col", height_ratios=(3, 1.2))
    colours: dict[str, str] = {}  # one colour a name: a run and a candidate of one name alike
    for name in [*(r.name for r in runs), *named]:
        colours.setdefault(name, f"C{len(colours) % 10}")
    drawn: list[tuple[np.ndarray, np.ndarray]] = []

    # the fitted runs: measured dots, the fitted curve through them, their lrs
    for run in runs:
        c = colours[run.name]
        every = max(1, run.steps.size // 300)  # a dot per measured loss, up to about 300
        fitted_ax.plot(run.steps[::every], run.losses[::every], "o", color=c, markersize=2.5,
                       alpha=0.55, label=f"{run.name}: measured")
        x = _grid(run.lrs.size, POINTS)
        x = x[np.cumsum(run.lrs)[x] > 0]
        curve = model.predict(run.lrs, x).loss
        fitted_ax.plot(x, curve, color=c, linewidth=1.6, label=f"{run.name}: fitted")
        fitted_lr.plot(*_lr_line(run.lrs), color=c, linewidth=1.2, label=run.name)
        drawn += [(run.steps.astype(np.float64), run.losses), (x.astype(np.float64), curve)]
    limits = _limits(drawn)
    if limits:
        fitted_ax.set_ylim(*limits)
    fitted_ax.set(title="fitted runs: measured and fitted loss", ylabel="loss")
    fitted_ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))

    # the candidates: predicted curve and band, the baseline's curve, their lrs
    finals: list[tuple[float, str, Any]] = []
    drawn = []
    for name, spec in named.items():
        c = colours[name]
        lrs = lrs_of(spec, size, top)
        x = _grid(lrs.size, POINTS)
        x = x[np.cumsum(lrs)[x] > 0]
        p = model.predict(lrs, x)
        line = cand_ax.plot(x, p.loss, color=c, linewidth=1.8, label=name)[0]
        cand_ax.fill_between(x, p.low, p.high, color=c, alpha=0.18, linewidth=0, gid=BAND)
        if baseline is not None:
            base = baseline.predict(lrs, x).loss
            cand_ax.plot(x, base, color=c, linewidth=1.0, linestyle=":", gid=BASELINE)
            drawn.append((x.astype(np.float64), base))
        cand_lr.plot(*_lr_line(lrs), color=c, linewidth=1.2, label=name)
        finals.append((p.final, name, line))
        drawn += [(x.astype(np.float64), p.low), (x.astype(np.float64), p.high)]
    finals.sort(key=lambda f: f[0])
    handles: list[Any] = []
    texts: list[str] = []
    for final, name, line in finals:
        line.set_label(f"{name}: {final:.4g}")
        handles.append(line)
        texts.append(line.get_label())
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles.append(Patch(color="0.5", alpha=0.35))
    texts.append(BAND_LABEL)
    if baseline is not None:
        handles.append(Line2D([], [], color="0.3", linestyle=":", linewidth=1.0))
        texts.append(BASELINE_LABEL)
    if size > model.horizon:
        for ax in (cand_ax, cand_lr):
            ax.axvline(model.horizon, color="0.35", linestyle="--", linewidth=0.9, gid=HORIZON)
        handles.append(Line2D([], [], color="0.35", linestyle="--", linewidth=0.9))
        texts.append(HORIZON_LABEL)
    limits = _limits(drawn)
    if limits:
        cand_ax.set_ylim(*limits)
    cand_ax.set(title=f"candidates: predicted loss ({model.law} law)",
                ylabel="predicted loss")
    cand_ax.legend(handles, texts, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
                   title="predicted final loss,\nlowest first", title_fontsize="small",
                   alignment="left")

    for ax in (fitted_lr, cand_lr):
        ax.set(title="their lrs", xlabel="update", ylabel="lr")
    for ax in fig.axes:
        ax.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(path)
    return fig


__all__ = ["plot_forecast"]
