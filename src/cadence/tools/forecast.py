"""Forecast the loss under candidate schedules from one or a few logged runs.

The loss of a run depends on its schedule mainly through sums of the lrs it used: a law of
those sums (:mod:`cadence.tools.forecast_laws`), fitted to a few runs, predicts the loss curve
of another schedule. :func:`fit` fits one to :class:`Run` s (the loss measured after some
updates, and the lr of every update: cadence's schedules give it exactly, and
``HyperparameterLog``'s CSV records it), with scipy's L-BFGS-B from fixed starting points (the
fit is deterministic), and returns a :class:`Forecast`: a frozen value with its parameters and
fit residuals, saved and loaded as JSON. ``forecast.predict(lrs)`` gives a :class:`Prediction`
with a band from the residuals, and notes where it reaches past what the fit saw (a longer
run, a higher peak); :func:`rank` orders candidates by their predicted final loss.

>>> import numpy as np
>>> from cadence.schedules import Cosine, Constant
>>> law = lambda lrs: 2.0 + 1.5 * np.cumsum(lrs) ** -0.4   # a made-up task
>>> runs = [Run.from_schedule(name, s, total=400, peak=0.1, steps=np.arange(9, 400, 10),
...                           losses=law(0.1 * s(np.arange(400)))[9::10])
...         for name, s in (("constant", Constant(1.0)), ("cosine", Cosine(steps=400)))]
>>> model = fit(runs, "area")
>>> round(model.params["alpha"], 3), model.law
(0.4, 'area')
>>> p = model.predict(0.1 * Cosine(steps=400)(np.arange(400)))
>>> bool(abs(p.final - law(0.1 * Cosine(steps=400)(np.arange(400)))[-1]) < 1e-6)
True
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cadence.tools.forecast_laws import ANNEALING, AREA, LAWS, MULTI_POWER, Law, Prepared, prepare
from cadence.tools.forecast_runs import Run as Run
from cadence.tools.forecast_runs import lrs_of as lrs_of
from cadence.validation import (
    InvalidType,
    InvalidValue,
    MissingPackage,
    check_choice,
    check_positive,
)

FORMAT = "cadence.Forecast/1"
DELTA = 1e-3  # the Huber loss's threshold on log residuals (the multi-power law's authors')
CHUNK = 1 << 19  # the law's terms Forecast.predict evaluates at once (a few MB each)
SCALE = 1e-6  # the objective is divided by it: L-BFGS-B's tolerances suit values near 1


# -- the fit -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prediction:
    """A predicted loss curve: ``loss`` after each of ``steps``, within ``[low, high]`` (the
    fitted runs' 5th to 95th percentile of relative residuals), and ``notes`` where the
    prediction reaches past what the fit saw.

    >>> p = Prediction(np.array([0, 9]), np.array([3.0, 2.5]), np.array([2.9, 2.4]),
    ...                np.array([3.1, 2.6]))
    >>> p.final
    2.5
    """

    steps: np.ndarray
    loss: np.ndarray
    low: np.ndarray
    high: np.ndarray
    notes: tuple[str, ...] = ()

    @property
    def final(self) -> float:
        """The predicted loss after the last update."""
        return float(self.loss[-1])


@dataclass(frozen=True)
class Forecast:
    """A law fitted to runs: ``law`` (``"multi-power"``, ``"annealing"`` or ``"area"``), its
    ``params``, the lr it divides the lrs by (``lr_scale``: the fitted runs' peak), each
    fitted run's mean and largest relative error (``residuals``), the band of relative
    residuals, and the reach of the fit (the longest run, the highest lr, the most the lr rose
    in a run). ``rises``: whether the laws count a rise of the lr as a negative drop
    (:func:`~cadence.tools.forecast_laws.prepare`).

    >>> model = Forecast("area", {"L0": 2.0, "A": 1.0, "alpha": 0.5}, lr_scale=1.0,
    ...                  residuals={}, band=(-0.01, 0.01), horizon=100, peak=1.0)
    >>> p = model.predict("constant", steps=[3, 99])
    >>> p.loss.tolist(), p.notes
    ([2.5, 2.1], ())
    >>> model.predict("constant", [199], total=200).notes
    ('200 updates, longer than any fitted run (100): extrapolated',)
    """

    law: str
    params: dict[str, float]
    lr_scale: float
    residuals: dict[str, dict[str, float]]
    band: tuple[float, float]
    horizon: int
    peak: float
    rises: bool = True
    rise: float = 0.0
    fit_seconds: float = field(default=0.0, compare=False)

    def _law(self) -> Law:
        return LAWS[self.law]

    def predict(self, lrs: Any, steps: Sequence[int] | np.ndarray | None = None, *,
                total: int | None = None, peak: float | None = None) -> Prediction:
        """The loss after each of ``steps`` (by default every update) of a run with ``lrs``
        (an array, one lr per update; or a schedule, a preset or a config over ``total``
        updates at ``peak``, by default the fitted runs' length and peak)."""
        values = lrs_of(lrs, total or self.horizon, self.peak if peak is None else peak)
        at = np.arange(values.size) if steps is None else np.asarray(steps, dtype=np.int64)
        scaled, params = values / self.lr_scale, list(self.params.values())
        # the law's [measured update, lr change] terms, a chunk of rows at a time: the whole
        # curve of a long run would need (updates x changes) of them at once
        rows = max(1, CHUNK // max(1, int(np.count_nonzero(np.diff(scaled)))))
        with one_thread():
            loss = np.concatenate([self._law().predict(params, prepare(scaled, at[i:i + rows],
                                                                      rises=self.rises))
                                   for i in range(0, max(at.size, 1), rows)])
        notes = []
        if values.size > self.horizon:
            notes.append(f"{values.size} updates, longer than any fitted run "
                         f"({self.horizon}): extrapolated")
        rise = _rise(values / self.lr_scale)
        if self.rises and rise > self.rise * (1 + 1e-9) + 1e-12:
            notes.append(f"its lr rises by {rise * self.lr_scale:.3g} in all (a warm-up, a "
                         f"restart), more than any fitted run's ({self.rise * self.lr_scale:.3g})"
                         ": the law's terms for rises are extrapolated")
        if loss.size and loss.min() <= 0:
            notes.append(f"a loss of {float(loss.min()):.3g} at or below 0: the law is outside "
                         "where it holds (its drop terms add up past the loss)")
        if values.max() > self.peak * (1 + 1e-9):
            notes.append(f"a peak lr of {values.max():.3g}, above any fitted run's "
                         f"({self.peak:.3g}): extrapolated")
        return Prediction(at, loss, loss * (1 + self.band[0]), loss * (1 + self.band[1]),
                          tuple(notes))

    def errors(self, run: Run) -> tuple[float, float]:
        """The mean and the largest relative error of the prediction of ``run``'s losses."""
        predicted = self.predict(run.lrs, run.steps).loss
        error = np.abs(run.losses - predicted) / run.losses
        return float(error.mean()), float(error.max())

    # -- as JSON -------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The fitted model as plain data (``Forecast.from_json`` reads it back)."""
        return {"format": FORMAT, "law": self.law, "params": self.params,
                "lr_scale": self.lr_scale, "residuals": self.residuals,
                "band": list(self.band), "horizon": self.horizon, "peak": self.peak,
                "rises": self.rises, "rise": self.rise, "fit_seconds": self.fit_seconds}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Forecast:
        """A model from :meth:`to_json`; another format is refused by name."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            got = data.get("format") if isinstance(data, Mapping) else type(data).__name__
            raise InvalidValue(f"not a fitted forecast of format {FORMAT!r} (got {got!r})")
        law = check_choice("law", data["law"], tuple(LAWS))
        params = {k: float(v) for k, v in data["params"].items()}
        if list(params) != list(LAWS[law].parameters):
            raise InvalidValue(f"law {law!r} has the parameters {list(LAWS[law].parameters)} "
                               f"(got {list(params)})")
        return cls(law, params, float(data["lr_scale"]),
                   {k: dict(v) for k, v in data["residuals"].items()},
                   (float(data["band"][0]), float(data["band"][1])), int(data["horizon"]),
                   float(data["peak"]), bool(data["rises"]), float(data["rise"]),
                   float(data.get("fit_seconds", 0.0)))

    def save(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Write the model as JSON to ``path`` (an existing file only with ``overwrite``)."""
        target = Path(path)
        if target.exists() and not overwrite:
            raise InvalidValue(f"{str(target)!r} exists: pass overwrite=True to replace it")
        target.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Forecast:
        """A model :meth:`save` wrote."""
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    def __str__(self) -> str:
        params = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        errors = ", ".join(f"{name} {r['mean']:.3%} (worst {r['max']:.3%})"
                           for name, r in self.residuals.items())
        return f"{self.law} law: {params}; fitted runs' mean relative error: {errors}"


def fit(runs: Iterable[Run], law: str = "multi-power", *, delta: float = DELTA,
        rises: bool = True) -> Forecast:
    """Fit ``law`` to ``runs``: the Huber loss (threshold ``delta``) of the log residuals,
    summed over every measured loss, minimised by L-BFGS-B with the law's gradient. The
    area law starts from a grid of fixed points; the others start from the area law's fit.

    ``rises=True`` (the default) counts a rise of the lr (a warm-up) as a negative drop, as
    the multi-power law's published code does: on its 25M curves that predicts the held-out
    runs better (docs/forecast.md), and a candidate whose lr rises more than the fitted runs'
    did is noted as extrapolated. ``rises=False`` counts only falls, as the papers' text
    does.

    >>> lrs = np.full(300, 0.1)  # the law sees them over the peak: 1, and S1 = 1, 2, 3...
    >>> run = Run("constant", lrs, np.arange(9, 300, 10), 2 + np.arange(10, 301, 10) ** -0.5)
    >>> model = fit([run], "area")
    >>> {k: round(v, 3) for k, v in model.params.items()}
    {'L0': 2.0, 'A': 1.0, 'alpha': 0.5}
    """
    import time

    try:
        from scipy.optimize import minimize
    except ImportError:
        raise MissingPackage("fitting a forecast needs the 'scipy' package: "
                             "pip install 'cadence[forecast]'") from None

    chosen = check_choice("law", law, tuple(LAWS))
    items = list(runs)
    if not items or not all(isinstance(r, Run) for r in items):
        raise InvalidValue(f"'runs' must be one or more Run (got {items!r})")
    delta = check_positive("delta", delta)
    start = time.perf_counter()
    scale = max(float(r.lrs.max()) for r in items)
    if scale <= 0:
        raise InvalidValue("'runs' must have some lr above 0")
    if not isinstance(rises, bool):
        raise InvalidType(f"'rises' must be a bool (got {rises!r})")
    data = [(prepare(r.lrs / scale, r.steps, rises=rises), r.losses) for r in items]

    def fitted(model: Law, x0: Sequence[float]) -> np.ndarray:
        result = minimize(_objective, np.asarray(x0, dtype=np.float64), args=(model, data, delta),
                          jac=True, method="L-BFGS-B", bounds=model.bounds,
                          options={"maxiter": 5000})
        return np.asarray(result.x)

    with one_thread():  # BLAS's sums in one order: the same fit on every machine
        area = min((fitted(AREA, x0) for x0 in _area_starts(data)),
                   key=lambda x: _objective(x, AREA, data, delta)[0])
        lowest = min(float(losses.min()) for _, losses in data)
        if chosen == "area":
            best = area
        elif chosen == "annealing":
            best = fitted(ANNEALING, [*area, 0.0])
        else:  # a first drop sized to the losses: one too large predicts losses below 0
            best = fitted(MULTI_POWER, [*area, min(0.3, 0.1 * lowest), 1.0, 0.5, 0.5])
        nested = [*area, 0.0, *([1.0, 0.5, 0.5] if chosen == "multi-power" else [])]
        model = LAWS[chosen]
        if chosen != "area" and _objective(best, model, data, delta)[0] > \
                _objective(np.asarray(nested), model, data, delta)[0]:
            best = np.asarray(nested)  # the law holds the area law, whose fit was better
    params = dict(zip(model.parameters, (float(v) for v in best)))
    relative, residuals = [], {}
    for run, (prepared, losses) in zip(items, data):
        predicted = model.predict(best, prepared)
        ratio = losses / predicted - 1
        relative.append(ratio)
        error = np.abs(ratio * predicted / losses)
        residuals[run.name] = {"mean": float(error.mean()), "max": float(error.max())}
    every = np.concatenate(relative)
    band = (min(float(np.percentile(every, 5)), 0.0), max(float(np.percentile(every, 95)), 0.0))
    return Forecast(chosen, params, scale, residuals, band, max(r.lrs.size for r in items),
                    scale, rises, max(_rise(r.lrs / scale) for r in items),
                    time.perf_counter() - start)


def _rise(lrs: np.ndarray) -> float:
    """How much ``lrs`` rises in all (the sum of its increases)."""
    return float(np.maximum(np.diff(lrs), 0.0).sum())


def one_thread() -> Any:
    """Run BLAS on one thread (``threadpoolctl``): a multi-threaded matrix product sums in an
    order that depends on the machine, and so would the fit; one thread is also faster for
    these small products (scipy/scipy#22438)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scipy's users (scikit-learn)
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(1, "blas")


def _area_starts(data: list[tuple[Prepared, np.ndarray]]) -> list[list[float]]:
    """Starting points of the area law: ``log(loss - L0) ~ log(A) - alpha log(S1)`` by least
    squares, for a few floors ``L0`` below the lowest loss."""
    lowest = min(float(losses.min()) for _, losses in data)
    s1 = np.concatenate([run.s1 for run, _ in data])
    losses = np.concatenate([losses for _, losses in data])
    starts = []
    for share in (0.0, 0.5, 0.8, 0.9, 0.95, 0.99):
        floor = lowest * share
        x, y = np.log(np.maximum(s1, 1e-12)), np.log(losses - floor + 1e-3 * lowest)
        slope, intercept = np.polyfit(x, y, 1) if np.ptp(x) > 0 else (0.0, float(y.mean()))
        starts.append([floor, float(np.exp(intercept)), float(min(max(-slope, 0.0), 5.0))])
    return starts


def _objective(x: np.ndarray, law: Law, data: list[tuple[Prepared, np.ndarray]],
               delta: float) -> tuple[float, np.ndarray]:
    """The summed Huber loss of the log residuals, and its gradient, over ``SCALE``."""
    total, gradient = 0.0, np.zeros(len(x))
    for run, losses in data:
        predicted, grad = law.predict_with_gradient(x, run)
        predicted = np.maximum(predicted, 1e-12)  # a floor: log of a negative prediction
        r = np.log(losses) - np.log(predicted)
        small = np.abs(r) <= delta
        total += float(np.where(small, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta)).sum())
        gradient += grad @ (-np.clip(r, -delta, delta) / predicted)
    return total / SCALE, gradient / SCALE


@dataclass(frozen=True)
class Ranked:
    """One candidate of :func:`rank`: its predicted final loss with the band, the baseline's,
    and the notes of the prediction.

    >>> Ranked("cosine", 2.5, 2.45, 2.55, None, ()).final
    2.5
    """

    name: str
    final: float
    low: float
    high: float
    baseline: float | None
    notes: tuple[str, ...]


def rank(model: Forecast, candidates: Mapping[str, Any], *, baseline: Forecast | None = None,
         total: int | None = None, peak: float | None = None) -> list[Ranked]:
    """The candidates (name: lrs, schedule, preset or config) by predicted final loss, lowest
    first, each beside the ``baseline``'s prediction (the area law fitted to the same runs).

    >>> model = Forecast("area", {"L0": 2.0, "A": 1.0, "alpha": 0.5}, 1.0, {}, (-0.01, 0.01),
    ...                  100, 1.0)
    >>> [(r.name, round(r.final, 4)) for r in rank(model, {"cosine": "cosine",
    ...                                                    "constant": "constant"})]
    [('constant', 2.1), ('cosine', 2.1407)]
    """
    out = []
    for name, spec in candidates.items():
        lrs = lrs_of(spec, total or model.horizon, model.peak if peak is None else peak)
        last = [lrs.size - 1]  # only the final loss: not the whole curve
        p = model.predict(lrs, last)
        base = None if baseline is None else baseline.predict(lrs, last).final
        out.append(Ranked(name, p.final, float(p.low[-1]), float(p.high[-1]), base, p.notes))
    return sorted(out, key=lambda r: r.final)


__all__ = ["FORMAT", "Forecast", "Prediction", "Ranked", "Run", "fit", "lrs_of", "rank"]
