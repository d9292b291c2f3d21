"""States that cadence 0.1.0's drop-ins saved, loaded into the current drop-ins, or refused with
an error that names their format.

Release 0.1.0 built every drop-in on ``cadence.Scheduler``, so their states had its format,
``cadence.Scheduler/1``: the step, each group's base values, a plateau controller's counters and
a layout (the class and its arguments for PyTorch's drop-ins, transformers' factories included;
the schedules' configs for MMEngine's). The current drop-ins are upstream's classes, and their
state is upstream's. :func:`load` turns an old state into that state and loads it through the
class's own ``load_state_dict``:

- PyTorch's: the step is ``last_epoch`` (a SequentialLR's or ChainedScheduler's children get
  theirs) and the saved arguments become the class's attributes: they win, as in upstream's
  rule (a OneCycleLR's, which live in the param groups, must be the groups' own).
- MMEngine's: the layout holds only the schedules, so the scheduler must be built with the
  arguments that give them; the step counts every ``step()``.

The groups then hold the values of the saved step (and ``initial_<name>`` the saved bases), as
release 0.1.0 wrote them when it loaded a state, so the state alone resumes a fresh optimizer.
What cannot be continued exactly is refused before anything changes.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from torch.optim import lr_scheduler as T

from cadence.config.io import fingerprint, from_config
from cadence.scheduler.plan import Writes, group_values
from cadence.scheduler.plateau import reduce_once
from cadence.scheduler.state import RELEASES, read_state
from cadence.schedules import (
    Schedule,
)
from cadence.validation import InvalidType, InvalidValue

FORMAT = "cadence.Scheduler/1"
SAVED_BY = f"'state_dict' was saved by cadence {RELEASES[FORMAT]} (format {FORMAT!r})"
State = dict[str, Any]


def refused(detail: str) -> InvalidValue:
    """The error for a state of 0.1.0 that cannot be continued exactly."""
    return InvalidValue(f"{SAVED_BY} {detail}; nothing was loaded")


def load(scheduler: Any, state: object) -> bool:
    """Load ``state`` into the drop-in ``scheduler`` if cadence 0.1.0 saved it (True); False for
    any other state, which the class's own rule loads. A ``format`` no release of the drop-ins
    wrote is refused."""
    if not isinstance(state, Mapping) or "format" not in state:
        return False
    if state["format"] != FORMAT:
        raise InvalidValue(f"'state_dict' must be a {type(scheduler).__name__} state, or one "
                           f"saved by cadence {RELEASES[FORMAT]} (format {FORMAT!r}) (got the "
                           f"format {state['format']!r})")
    converted, name, bases = _convert(scheduler, state)
    groups = scheduler.optimizer.param_groups
    kept = [dict(g) for g in groups]
    before = scheduler.__dict__.copy()
    scheduler.load_state_dict(converted)  # the class's rule and checks (it undoes a failure)
    try:
        for group, base in zip(groups, bases):
            group[f"initial_{name}"] = base
        _write(scheduler)
    except BaseException:
        for group, old in zip(groups, kept):
            group.clear()
            group.update(old)
        scheduler.__dict__.update(before)
        raise
    return True


def _convert(scheduler: Any, state: Mapping[str, Any]) -> tuple[State, str, list[float]]:
    """The current state for ``state``, the hyperparameter and its saved bases."""
    try:
        saved = read_state(state, FORMAT)
    except (InvalidValue, InvalidType) as exc:
        raise type(exc)(f"{SAVED_BY} and cannot be read: {exc}") from exc
    layout = saved.get("layout")
    if not isinstance(layout, Mapping):
        raise refused("without its 'layout'")
    if isinstance(scheduler, T.LRScheduler):
        kind, settings = layout.get("class"), layout.get("settings")
        if not isinstance(kind, str) or not isinstance(settings, Mapping):
            raise refused(f"with the layout {layout!r}, which is not a PyTorch drop-in's (its "
                           "'class' and 'settings')")
        bases = saved_bases(saved, "lr", scheduler.optimizer.param_groups)
        return (_torch(scheduler, kind, settings, saved["steps"], bases,
                       saved.get("plateau_state")), "lr", bases)
    from cadence.compat.legacy_mmengine import convert  # MMEngine's drop-ins need MMEngine

    return convert(scheduler, layout, saved)


def saved_bases(saved: Mapping[str, Any], name: str, groups: Sequence[Any]) -> list[float]:
    row = saved["bases"].get(name)
    if not isinstance(row, list) or len(row) != len(groups) or None in row:
        raise refused(f"with the bases {row!r} for {name!r}, not one per param group "
                       f"({len(groups)})")
    return list(row)


# -- PyTorch's drop-ins -----------------------------------------------------------------------
def _torch(s: Any, kind: str, settings: Mapping[str, Any], step: int, bases: list[float],
           plateau: Mapping[str, Any] | None) -> State:
    """The current state of ``s`` (a class named ``kind``, built with ``settings``) at
    ``step``."""
    if kind != type(s).__name__:
        raise refused(f"for a {kind}, not a {type(s).__name__}")
    state = dict(s.state_dict())
    try:
        if isinstance(s, T.ReduceLROnPlateau):
            return _plateau(s, state, settings, step, bases, plateau)
        state.update(last_epoch=step, base_lrs=list(bases))  # _last_lr: written after the load
        if step >= 0:
            state["_step_count"] = step + 1
        if getattr(s, "_custom", False):  # a get_lr of the user's: the counters only, as 0.1.0
            return state
        convert = next((c for upstream, c in _TORCH if isinstance(s, upstream)), None)
        if convert is not None:
            convert(s, state, settings, step, bases)
    except InvalidValue:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise refused(f"with the settings {dict(settings)!r}, which a {kind} cannot take "
                       f"({type(exc).__name__}: {exc})") from exc
    return state


def _attributes(*names: str) -> Callable[..., None]:
    def convert(s: Any, state: State, settings: Mapping[str, Any], *_: Any) -> None:
        state.update({n: settings[n] for n in names})
    return convert


def _multistep(s: Any, state: State, settings: Mapping[str, Any], *_: Any) -> None:
    state.update(milestones=Counter(settings["milestones"]), gamma=settings["gamma"])


def _lambdas(s: Any, state: State, settings: Mapping[str, Any], *_: Any) -> None:
    """A function is kept (its name was saved); a schedule the scheduler does not hold is
    rebuilt from its saved config."""
    saved = settings["lr_lambda"]
    if not isinstance(saved, list) or len(saved) != len(s.lr_lambdas):
        raise refused(f"with lr_lambda {saved!r}, not one per param group ({len(s.lr_lambdas)})")
    out: list[Any] = []
    for i, (old, fn) in enumerate(zip(saved, s.lr_lambdas)):
        if old == fingerprint(fn):
            out.append(None)
        elif isinstance(fn, Schedule) and isinstance(old, Mapping) and _rebuilds(old):
            out.append(dict(old))
        else:
            raise refused(f"with lr_lambda[{i}] {old!r}, which is not this "
                           f"{type(s).__name__}'s ({fingerprint(fn)!r}) and cannot be rebuilt")
    state["lr_lambdas"] = out


def _rebuilds(config: Mapping[str, Any]) -> bool:
    try:
        from_config(dict(config))
    except (KeyError, TypeError, ValueError):
        return False
    return True


def _warm_restarts(s: Any, state: State, settings: Mapping[str, Any], step: int,
                   *_: Any) -> None:
    length, mult = settings["T_0"], settings["T_mult"]
    state.update(T_0=length, T_mult=mult, eta_min=settings["eta_min"])
    current = step % length if mult == 1 else step
    while current >= length:
        current -= length
        length *= mult
    state.update(T_cur=current, T_i=length)


def _cyclic(s: Any, state: State, settings: Mapping[str, Any], *_: Any) -> None:
    up, down = float(settings["step_size_up"]), float(settings["step_size_down"])
    state.update(max_lrs=list(settings["max_lr"]), total_size=up + down,
                 step_ratio=up / (up + down), mode=settings["mode"], gamma=settings["gamma"],
                 cycle_momentum=settings["cycle_momentum"])
    if state.get("_scale_fn_custom") is not None:  # else the mode decides it
        state["scale_mode"] = settings["scale_mode"]
    if settings["cycle_momentum"]:
        state.update(base_momentums=list(settings["base_momentum"]),
                     max_momentums=list(settings["max_momentum"]),
                     use_beta1="betas" in s.optimizer.defaults)


def _one_cycle(s: Any, state: State, settings: Mapping[str, Any], *_: Any) -> None:
    """The phases are the scheduler's; the bounds live in the groups, which must hold the
    saved ones."""
    total, pct = settings["total_steps"], settings["pct_start"]
    up = {"start_lr": "initial_lr", "end_lr": "max_lr", "start_momentum": "max_momentum",
          "end_momentum": "base_momentum"}
    down = {"start_lr": "max_lr", "end_lr": "initial_lr" if settings["three_phase"] else
            "min_lr", "start_momentum": "base_momentum", "end_momentum": "max_momentum"}
    phases = [{"end_step": float(pct * total) - 1, **up}]
    if settings["three_phase"]:
        phases += [{"end_step": float(2 * pct * total) - 2, **down},
                   {"end_step": total - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                    "start_momentum": "max_momentum", "end_momentum": "max_momentum"}]
    else:
        phases.append({"end_step": total - 1, **down})
    state.update(total_steps=total, _schedule_phases=phases,
                 _anneal_func_type=settings["anneal_strategy"],
                 cycle_momentum=settings["cycle_momentum"])
    groups = s.optimizer.param_groups
    wanted: dict[str, list[Any]] = {"max_lr": list(settings["max_lr"])}
    wanted["initial_lr"] = [peak / settings["div_factor"] for peak in wanted["max_lr"]]
    wanted["min_lr"] = [low / settings["final_div_factor"] for low in wanted["initial_lr"]]
    if settings["cycle_momentum"]:
        wanted.update(max_momentum=list(settings["max_momentum"]),
                      base_momentum=list(settings["base_momentum"]))
    for key, values in wanted.items():
        held = [g.get(key) for g in groups]
        if held != values:
            raise refused(f"with the groups' {key} {values}, and this OneCycleLR's groups hold "
                           f"{held}: build it with the arguments it was saved with")


def _children(s: Any, settings: Mapping[str, Any]) -> list[tuple[Any, str, Mapping[str, Any]]]:
    saved = settings["schedulers"]
    if not isinstance(saved, list) or len(saved) != len(s._schedulers):
        raise refused(f"with the schedulers {saved!r}, and this {type(s).__name__} holds "
                       f"{len(s._schedulers)}")
    out = []
    for child, (kind, child_settings) in zip(s._schedulers, saved):
        if isinstance(child, T.ReduceLROnPlateau):
            raise refused(f"as one {type(s).__name__} with one plateau controller, which the "
                           f"current {type(s).__name__} (PyTorch's) cannot continue exactly")
        out.append((child, kind, child_settings))
    return out


def _sequential(s: Any, state: State, settings: Mapping[str, Any], step: int,
                bases: list[float]) -> None:
    """Each child at its own step: those done stopped before the next began, the active one
    counts from its milestone, the later ones have not started (-1)."""
    marks = list(settings["milestones"])
    children = _children(s, settings)
    active = bisect_right(marks, step)
    starts = [0, *marks]
    states = []
    for i, (child, kind, child_settings) in enumerate(children):
        local = step - starts[i] if i == active else (
            marks[i] - starts[i] - 1 if i < active else -1)
        states.append(_torch(child, kind, child_settings, local, bases, None))
    state.update(_milestones=marks, last_epoch=step, _schedulers=states)


def _chained(s: Any, state: State, settings: Mapping[str, Any], step: int,
             bases: list[float]) -> None:
    state["_schedulers"] = [_torch(child, kind, child_settings, step, bases, None)
                            for child, kind, child_settings in _children(s, settings)]


_TORCH: list[tuple[type, Callable[..., None]]] = [
    (T.LambdaLR, _lambdas), (T.MultiplicativeLR, _lambdas),
    (T.StepLR, _attributes("step_size", "gamma")), (T.MultiStepLR, _multistep),
    (T.ConstantLR, _attributes("factor", "total_iters")),
    (T.LinearLR, _attributes("start_factor", "end_factor", "total_iters")),
    (T.ExponentialLR, _attributes("gamma")), (T.PolynomialLR, _attributes("total_iters", "power")),
    (T.CosineAnnealingLR, _attributes("T_max", "eta_min")),
    (T.CosineAnnealingWarmRestarts, _warm_restarts), (T.CyclicLR, _cyclic),
    (T.OneCycleLR, _one_cycle), (T.SequentialLR, _sequential), (T.ChainedScheduler, _chained),
]


def _plateau(s: Any, state: State, settings: Mapping[str, Any], step: int, bases: list[float],
             counters: Mapping[str, Any] | None) -> State:
    """PyTorch's attributes from the controller's settings and counters; the lrs are the bases
    after its reductions."""
    fixed = {"min_scale": 0.0, "start_step": 0, "nan": "bad", "applies_to": ["lr"]}
    if any(settings.get(k) != v for k, v in fixed.items()):
        raise refused(f"with the plateau settings {dict(settings)!r}, which a "
                       f"ReduceLROnPlateau cannot take (it has {fixed})")
    floors = settings["min_value"]
    floors = list(floors) if isinstance(floors, list) else [floors] * len(bases)
    state.update({k: settings[k] for k in ("mode", "factor", "patience", "threshold",
                                            "threshold_mode", "cooldown", "eps")})
    counters = counters or {"best": None, "bad_reports": 0, "cooldown_left": 0,
                            "reductions": 0}
    worst = -math.inf if settings["mode"] == "max" else math.inf
    best = worst if counters["best"] is None else float(counters["best"])
    lrs = [reduced(b, counters["reductions"], settings["factor"], low, settings["eps"])
           for b, low in zip(bases, floors)]
    state.update(min_lrs=floors, last_epoch=step, best=best,
                 num_bad_epochs=counters["bad_reports"],
                 cooldown_counter=counters["cooldown_left"], _last_lr=lrs)
    return state


def reduced(value: float, reductions: int, factor: float, floor: float, eps: float) -> float:
    for _ in range(reductions):
        new = reduce_once(value, factor, floor, eps)
        if new == value:  # the later reductions change nothing either
            break
        value = new
    return value


# -- the values of the saved step -------------------------------------------------------------
def _write(s: Any) -> None:
    """Write the values of the loaded step into the groups, as release 0.1.0 did on load."""
    groups = s.optimizer.param_groups
    if isinstance(s, T.LRScheduler):
        values = _torch_values(s)
        if values is not None:
            _put(groups, values)
        s._last_lr = group_values(groups, "lr")
        return
    name = s.param_name
    if s.family is None:
        values = {name: list(s._last_value)}
    elif s.last_step < 0:  # before its window: the bases
        values = {name: list(s.base_values)}
    else:
        runtime = s._now()
        values = {name: runtime.values(float(s.last_step))[name]}
    _put(groups, values)
    s._last_value = Writes(name, groups, range(len(groups))).read()


def _torch_values(s: Any) -> dict[str, list[Any]] | None:
    """What a PyTorch drop-in holds at its step: its closed form (the active child's, in a
    SequentialLR), a ReduceLROnPlateau's reduced lrs; None for a get_lr of the user's."""
    kind = type(s)  # not isinstance: ``s`` keeps cadence's attributes for the type checker
    if issubclass(kind, T.ReduceLROnPlateau):
        return {"lr": list(s._last_lr)}
    if issubclass(kind, T.SequentialLR):
        return _torch_values(s._schedulers[bisect_right(s._milestones, s.last_epoch)])
    if issubclass(kind, T.ChainedScheduler):
        return {"lr": list(s.value_at(float(s.current_step))["lr"])}
    if getattr(s, "_custom", True) or not hasattr(s, "_now"):  # not a closed form of cadence's
        return None
    runtime = s._now()
    t = s._position() if issubclass(kind, T.CosineAnnealingWarmRestarts) else s.last_epoch
    values: dict[str, list[Any]] = runtime.values(float(t))
    return values


def _put(groups: Sequence[dict[str, Any]], values: Mapping[str, Sequence[Any]]) -> None:
    for name, row in values.items():
        members = [i for i, v in enumerate(row) if v is not None]
        Writes(name, groups, members).write([row[i] for i in members])
