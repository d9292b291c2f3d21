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

from cadence.validation import InvalidType, InvalidValue, float_or_none, shown

OLD_FORMATS = {"cadence.Scheduler/1": "step"}  # format -> its key for the step count
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
    missing = [k for k in (step_key, "batch_size", "bases") if k not in state]
    if missing:
        raise InvalidValue(f"'state_dict' lacks {missing} (a cadence.Scheduler state has "
                           f"{list(KEYS)})")
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


def differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What differs between the layout a state was saved with and the current one."""
    if not isinstance(saved, Mapping) or set(saved) - {"targets"} != set(current) - {"targets"} \
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
    for key in ("batch_size_mode", "base_batch_size", "batch_scaled", "plateau", "count"):
        if saved.get(key) != current.get(key):
            out.append(f"{key} {saved.get(key)!r} != {current.get(key)!r}")
    return out + _target_differences(saved.get("targets", {}), current.get("targets", {}))


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
