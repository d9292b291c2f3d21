"""States that cadence 0.1.0's MMEngine drop-ins saved (format ``cadence.Scheduler/1``), in the
current drop-ins' terms (:mod:`cadence.compat.legacy` loads them). Their layout holds only the
schedules, so the scheduler must be built with the arguments that give them: release 0.1.0's
schedules for its arguments (:func:`old_windows`) are compared with the saved ones."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

from cadence.compat.legacy import State, reduced, refused, saved_bases
from cadence.config.io import fingerprint
from cadence.schedules import (
    Constant,
    Cosine,
    Exponential,
    Linear,
    MultiStep,
    OneCycle,
    Polynomial,
    Repeat,
    Schedule,
    Step,
    join,
)

_INF = int(1e9)  # MMEngine's end of time


def convert(s: Any, layout: Mapping[str, Any],
            saved: Mapping[str, Any]) -> tuple[State, str, list[float]]:
    """The state of ``s`` at the saved step, if its arguments give the saved schedules; its
    hyperparameter and bases."""
    name, step = s.param_name, saved["steps"]
    entry = layout.get("hyperparameters", {}).get(name) if isinstance(
        layout.get("hyperparameters"), Mapping) else None
    if not isinstance(entry, Mapping) or len(layout["hyperparameters"]) != 1 or \
            layout.get("count") != "calls":
        raise refused(f"with the layout {dict(layout)!r}, which is not that of an MMEngine "
                       f"drop-in on {name!r}")
    bases = saved_bases(saved, name, s.optimizer.param_groups)
    state = dict(s.state_dict())
    if s.family is None:
        return _plateau(s, state, layout.get("plateau"), saved.get("plateau_state"), step,
                           bases), name, bases
    groups = entry.get("groups")
    schedules = entry.get("schedules")
    try:
        old = [schedules[k] for k in groups]  # type: ignore[index, union-attr]
    except (IndexError, KeyError, TypeError) as exc:
        raise refused(f"with the layout {dict(entry)!r} for {name!r}") from exc
    mine = [fingerprint(w) for w in _old_windows(s, bases)]
    if entry.get("absolute") is not False or not _close(old, mine):
        raise refused(f"with the schedules {old}, which this {type(s).__name__}'s arguments do "
                       f"not give ({mine}): build it with the arguments it was saved with")
    active = max(0, min(step, s.end - 1) - s.begin + 1)
    state.update(last_step=active - 1, _global_step=step, base_values=list(bases))
    return state, name, bases


def _plateau(s: Any, state: State, config: Any, counters: Mapping[str, Any] | None,
                step: int, bases: list[float]) -> State:
    """MMEngine's counters from the controller's, if its settings are this scheduler's."""
    mine = {"mode": "min" if s.rule == "less" else "max", "factor": s.factor,
            "patience": s.patience, "threshold": s.threshold,
            "threshold_mode": s.threshold_rule, "cooldown": s.cooldown,
            "min_scale": 0.0, "min_value": list(s.min_values), "eps": s.eps, "start_step": 0,
            "nan": "bad", "applies_to": [s.param_name]}
    if not isinstance(config, Mapping) or any(config.get(k) != v for k, v in mine.items()):
        raise refused(f"with the plateau settings {config!r}, and this {type(s).__name__} has "
                       f"{mine}: build it with the arguments it was saved with")
    counters = counters or {"best": None, "bad_reports": 0, "cooldown_left": 0,
                            "reductions": 0}
    best = s.rule_worse if counters["best"] is None else float(counters["best"])
    values = [reduced(b, counters["reductions"], s.factor, low, s.eps)
              for b, low in zip(bases, s.min_values)]
    state.update(last_step=step - 1, best=best, num_bad_epochs=counters["bad_reports"],
                 cooldown_counter=counters["cooldown_left"], _last_value=values)
    return state


def _old_windows(s: Any, bases: list[float]) -> list[Schedule]:
    """The schedules release 0.1.0 built for ``s``'s arguments: each group's factor in local
    time, active in ``[begin, end)`` (1 before, its last value after)."""
    args, begin, end = s._setting_values(), s.begin, s.end
    out = []
    for base in bases:
        shape = _old_shape(s.family, args, base, end - begin - 1)
        pieces: list[Schedule] = []
        marks = []
        if begin > 0:
            pieces.append(Constant(1.0))
            marks.append(begin)
        pieces.append(shape)
        if end < _INF:
            pieces.append(Constant(shape(end - 1 - begin)))
            marks.append(end)
        out.append(join(pieces, marks) if marks else shape)
    return out


def _old_shape(family: str, a: Mapping[str, Any], base: float, last: int) -> Schedule:
    """Release 0.1.0's factor of ``base`` for MMEngine's ``family`` with arguments ``a``."""
    def floor(eta_min: Any, ratio: Any = None) -> float:
        return float(ratio) if ratio is not None else (eta_min or 0.0) / base if base else 0.0

    if family == "Step":
        return Step(every=a["step_size"], gamma=a["gamma"])
    if family == "MultiStep":
        return MultiStep(milestones=sorted(Counter(a["milestones"]).elements()), gamma=a["gamma"])
    if family == "Constant":
        return join([Constant(a["factor"]), Constant(1.0)], [last]) if last > 0 else \
            Constant(a["factor"])
    if family == "Exponential":
        return Exponential(rate=a["gamma"])
    if family == "CosineAnnealing":
        low, steps = floor(a["eta_min"], a["eta_min_ratio"]), a["T_max"]
        return Repeat(join([Cosine(start=1.0, end=low, steps=steps),
                            Cosine(start=low, end=1.0, steps=steps)], [steps]), period=2 * steps)
    if family == "Linear":
        return Linear(start=a["start_factor"], end=a["end_factor"], steps=last) if last > 0 \
            else Constant(a["start_factor"])
    if family == "Poly":
        return Polynomial(start=1.0, end=floor(a["eta_min"]), steps=last, power=a["power"]) \
            if last > 0 else Constant(1.0)
    if family == "OneCycle":
        return OneCycle(total_steps=a["total_steps"], start=1.0, peak=a["div_factor"],
                        end=1.0 / a["final_div_factor"], pct_start=a["pct_start"],
                        anneal=a["anneal_strategy"], three_phase=a["three_phase"])
    low = floor(a["eta_min"], a["eta_min_ratio"])  # CosineRestart
    cycles: list[Schedule] = [Cosine(start=w, end=low, steps=p)
                              for w, p in zip(a["restart_weights"], a["periods"])]
    marks = [sum(a["periods"][: i + 1]) for i in range(len(a["periods"]))]
    cycles.append(Constant(cycles[-1](a["periods"][-1] - 1)))
    return join(cycles, marks)


def _close(a: Any, b: Any) -> bool:
    """The same configs, numbers equal to 12 digits (values computed again may differ in the
    last bits)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b)):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
    return bool(a == b)
