"""Reading a saved ``cadence.Scheduler`` state: every value checked before anything changes,
and the differences between the schedule it was saved with and the current one.

A bad value is refused with its key, the rule and the value, e.g.
``state_dict['steps'] must be an int >= 0 (got -3)``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from cadence.scheduler.track import ABSOLUTE, RELATIVE
from cadence.validation import InvalidType, InvalidValue, float_or_none, shown

OLD_FORMATS = {"cadence.Scheduler/1": "step"}  # format -> its key for the step count
RELEASES = {"cadence.Scheduler/1": "0.1.0"}  # format -> the last release that wrote it
KEYS = ("steps", "batch_size", "bases", "plateau_state", "layout")


def _bad(path: object, rule: str, value: object, exc: type[Exception] = InvalidValue) -> Exception:
    """``path`` is a key, or a tuple of keys into nested entries."""
    keys = path if isinstance(path, tuple) else (path,)
    where = "".join(f"[{k!r}]" for k in keys)
    return exc(f"state_dict{where} must be {rule} (got {shown(value)})")


def is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_step(key: object, value: object) -> int:
    """A saved step count: an int >= 0 that a float can hold (steps become floats)."""
    if not is_int(value):
        raise _bad(key, "an int >= 0", value, InvalidType)
    if int(value) < 0:  # type: ignore[call-overload]
        raise _bad(key, "an int >= 0", value)
    if float_or_none(int(value)) is None:  # type: ignore[call-overload]
        raise _bad(key, "an int >= 0 that a float can hold", value)
    return int(value)  # type: ignore[call-overload]


def check_base(key: object, value: object) -> float:
    """A saved base value: a finite number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _bad(key, "a finite number", value, InvalidType)
    number = float_or_none(value)
    if number is None or not math.isfinite(number):
        raise _bad(key, "a finite number", value)
    return number


def read_state(state: object, expected: str) -> dict[str, Any]:
    """The checked contents of a ``cadence.Scheduler`` state (older formats included)."""
    if not isinstance(state, Mapping):
        raise InvalidType("'state_dict' must come from cadence.Scheduler.state_dict() "
                          f"(got a {type(state).__name__})")
    fmt = state.get("format")
    step_key = OLD_FORMATS.get(fmt, "steps") if isinstance(fmt, str) else "steps"
    if fmt != expected and not (isinstance(fmt, str) and fmt in OLD_FORMATS):
        found = (f"its 'format' is {shown(fmt)}" if "format" in state else
                 f"it has no 'format' (its keys: {sorted(map(str, state))})")
        raise InvalidValue(f"'state_dict' must come from cadence.Scheduler.state_dict(), whose "
                           f"'format' is {expected!r} ({found})")
    required = (step_key, "batch_size", "bases", *(("layout",) if fmt == expected else ()))
    missing = [k for k in required if k not in state]
    if missing:
        raise InvalidValue(f"'state_dict' lacks {missing} (a cadence.Scheduler state has "
                           f"{list(KEYS)})")
    unknown = sorted(str(k) for k in state if k not in ("format", step_key, *KEYS))
    if unknown:
        raise InvalidValue(f"'state_dict' has keys no cadence.Scheduler state has: {unknown} "
                           f"(its keys are {['format', *KEYS]}): it was not written by "
                           "Scheduler.state_dict()")
    out: dict[str, Any] = {"steps": check_step(step_key, state[step_key])}
    size = state["batch_size"]
    if size is not None:
        size = check_base("batch_size", size)
        if size <= 0:
            raise _bad("batch_size", "None or a positive number", state["batch_size"])
    out["batch_size"] = size
    bases = state["bases"]
    if not isinstance(bases, Mapping):
        raise _bad("bases", "a dict of lists of bases", bases, InvalidType)
    out["bases"] = {}
    for name, row in bases.items():
        if not isinstance(row, list):
            raise _bad(("bases", name), "a list of bases", row, InvalidType)
        out["bases"][name] = [None if b is None else check_base(("bases", name, i), b)
                              for i, b in enumerate(row)]
    plateau = state.get("plateau_state")
    if plateau is not None:
        check_plateau_state(plateau)
        out["plateau_state"] = plateau
    if "layout" in state:
        if not isinstance(state["layout"], Mapping):
            raise _bad("layout", "a dict (what the scheduler's state_dict() wrote)",
                       state["layout"], InvalidType)
        out["layout"] = state["layout"]
        if fmt in RELEASES:  # for the messages of differences()
            out["layout"] = {**state["layout"], "format": fmt}
    return out


PLATEAU_KEYS = ("best", "bad_reports", "cooldown_left", "reductions")


def check_plateau_state(state: object) -> None:
    """A plateau controller's saved counters: ``best`` a finite number or None, the others ints
    >= 0 (checked here, with the scheduler's state, before anything is loaded)."""
    path = "plateau_state"
    if not isinstance(state, Mapping):
        raise _bad(path, f"None or a dict with the keys {list(PLATEAU_KEYS)}", state, InvalidType)
    missing = [k for k in PLATEAU_KEYS if k not in state]
    if missing:
        raise InvalidValue(f"state_dict[{path!r}] lacks {missing} (it has "
                           f"{sorted(map(str, state))})")
    best = state["best"]
    if best is not None and not (isinstance(best, float) and math.isinf(best)):
        check_base((path, "best"), best)
    for key in PLATEAU_KEYS[1:]:
        check_step((path, key), state[key])


def upgrade_layout(saved: object) -> object:
    """A layout saved by release 0.1.0 (format ``cadence.Scheduler/1``) in the current terms:
    each hyperparameter's ``absolute`` flag gives its span, and its ``chain`` flag goes (the
    current Scheduler has one writer per place: a lone scheduler's values do not depend on it).
    Any other layout as it is."""
    if not isinstance(saved, Mapping) or "chain" not in saved \
            or not isinstance(saved.get("hyperparameters"), Mapping):
        return saved
    hyperparameters = {}
    for name, entry in saved["hyperparameters"].items():
        if isinstance(entry, Mapping) and "span" not in entry and isinstance(
                entry.get("absolute"), bool):
            span = ABSOLUTE if entry["absolute"] else RELATIVE
            entry = {**entry, "span": list(span.__dict__.values())}
        hyperparameters[name] = entry
    return {**{k: v for k, v in saved.items() if k != "chain"}, "hyperparameters": hyperparameters}


def differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What differs between the layout a state was saved with and the current one (a layout
    of release 0.1.0 included, :func:`upgrade_layout`)."""
    if isinstance(saved, Mapping) and saved.get("format") in RELEASES:
        fmt = saved["format"]
        found = differences({k: v for k, v in saved.items() if k != "format"}, current)
        return [f"it was saved by cadence {RELEASES[fmt]} (format {fmt!r})", *found] if found \
            else []
    saved = upgrade_layout(saved)  # type: ignore[assignment]
    optional = {"targets", "param_groups", "clock"}  # keys a layout may lack
    if not isinstance(saved, Mapping) or set(saved) - optional != set(current) - optional \
            or "hyperparameters" not in current:
        return [] if saved == current else [f"the layout {saved!r} != {current!r}"]
    out = []
    old, new = saved["hyperparameters"], current["hyperparameters"]
    if not isinstance(old, Mapping):
        return [f"the layout's 'hyperparameters' {old!r} != {new!r}"]
    if set(old) != set(new):
        out.append(f"its layout: it schedules {sorted(map(str, old))}, this scheduler "
                   f"{sorted(new)}")
    for name in sorted(set(old) & set(new)):
        if not isinstance(old[name], Mapping) or not isinstance(old[name].get("groups"), list):
            out.append(f"the layout of {name!r} {old[name]!r} != {new[name]!r}")
            continue
        for key in ("schedules", "absolute", "span"):
            if old[name].get(key) != new[name].get(key):
                out.append(f"{name!r} {key} {old[name].get(key)!r} != {new[name].get(key)!r}")
        common = min(len(old[name]["groups"]), len(new[name]["groups"]))
        if old[name]["groups"][:common] != new[name]["groups"][:common]:
            out.append(f"{name!r} group assignment {old[name]['groups']} != "
                       f"{new[name]['groups']}")
    for key in ("batch_size_mode", "base_batch_size", "batch_scaled", "plateau", "count",
                "clock"):
        if saved.get(key) != current.get(key):
            out.append(f"{key} {saved.get(key)!r} != {current.get(key)!r}")
    return out + _target_differences(saved.get("targets", {}), current.get("targets", {}))


def describe_groups(groups: Any) -> list[dict[str, Any]]:
    """Who each param group is, as a state keeps it: its ``name`` (None without one) and the
    shapes of its parameters."""
    return [{"name": g["name"] if isinstance(g.get("name"), str) else None,
             "shapes": [list(p.shape) for p in g["params"]]} for g in groups]


def match_groups(saved: object, current: list[dict[str, Any]]) -> list[int | None]:
    """For each current group (:func:`describe_groups`), the saved group it is: the one of the
    same name, else the next one whose parameters have the same shapes; None for a group the
    state does not know (it keeps its own base). Without descriptions (a state saved before
    they were kept), by position."""
    if not isinstance(saved, list) or not all(isinstance(g, Mapping) for g in saved):
        return list(range(len(current)))
    free = list(range(len(saved)))
    out: list[int | None] = [None] * len(current)
    names = {g.get("name"): i for i, g in enumerate(saved) if g.get("name") is not None}
    for i, group in enumerate(current):
        j = names.get(group["name"]) if group["name"] is not None else None
        if j is not None and j in free:
            out[i] = j
            free.remove(j)
    for i, group in enumerate(current):
        if out[i] is None:
            j = next((j for j in free if saved[j].get("shapes") == group["shapes"]
                      and (group["name"] is None or saved[j].get("name") is None)), None)
            if j is not None:
                out[i] = j
                free.remove(j)
    return out


def _target_differences(saved: object, current: Mapping[str, Any]) -> list[str]:
    """What differs between the targets a state was saved with and the current ones."""
    if not isinstance(saved, Mapping):
        return [f"the layout's 'targets' {saved!r} != {current!r}"]
    if set(saved) != set(current):
        return [f"its targets: it schedules {sorted(map(str, saved))}, this scheduler "
                f"{sorted(current)}"]
    out = []
    for name in sorted(current):
        old, new = saved[name], current[name]
        if not isinstance(old, Mapping):
            out.append(f"the layout of target {name!r} {old!r} != {new!r}")
            continue
        for key in ("schedule", "places", "span"):
            if old.get(key) != new.get(key):
                out.append(f"target {name!r} {key} {old.get(key)!r} != {new.get(key)!r}")
    return out
