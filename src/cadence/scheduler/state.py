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

from cadence.validation import InvalidType, InvalidValue

OLD_FORMATS = {"cadence.Scheduler/1": "step"}  # format -> its key for the step count
KEYS = ("steps", "batch_size", "bases", "plateau_state", "layout")


def _bad(path: object, rule: str, value: object, exc: type[Exception] = InvalidValue) -> Exception:
    """``path`` is a key, or a tuple of keys into nested entries."""
    keys = path if isinstance(path, tuple) else (path,)
    where = "".join(f"[{k!r}]" for k in keys)
    return exc(f"state_dict{where} must be {rule} (got {value!r})")


def is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_step(key: object, value: object) -> int:
    """A saved step count: an int >= 0."""
    if not is_int(value):
        raise _bad(key, "an int >= 0", value, InvalidType)
    if int(value) < 0:  # type: ignore[call-overload]
        raise _bad(key, "an int >= 0", value)
    return int(value)  # type: ignore[call-overload]


def check_base(key: object, value: object) -> float:
    """A saved base value: a finite number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _bad(key, "a finite number", value, InvalidType)
    if not math.isfinite(float(value)):
        raise _bad(key, "a finite number", value)
    return float(value)


def read_state(state: object, expected: str) -> dict[str, Any]:
    """The checked contents of a ``cadence.Scheduler`` state (older formats included)."""
    if not isinstance(state, Mapping):
        raise InvalidType("'state_dict' must come from cadence.Scheduler.state_dict() "
                          f"(got a {type(state).__name__})")
    fmt = state.get("format")
    step_key = OLD_FORMATS.get(fmt, "steps") if isinstance(fmt, str) else "steps"
    if fmt != expected and fmt not in OLD_FORMATS:
        raise InvalidValue(
            "'state_dict' must come from cadence.Scheduler.state_dict() "
            f"(got keys {sorted(map(str, state))})")
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
    for key in ("plateau_state", "layout"):
        if key in state:
            out[key] = state[key]
    return out


def differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What differs between the layout a state was saved with and the current one."""
    if not isinstance(saved, Mapping) or set(saved) != set(current) \
            or "hyperparameters" not in current:
        return [] if saved == current else [f"{saved!r} != {current!r}"]
    out = []
    old, new = saved["hyperparameters"], current["hyperparameters"]
    if set(old) != set(new):
        out.append(f"it schedules {sorted(old)}, this scheduler {sorted(new)}")
    for name in sorted(set(old) & set(new)):
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
    return out
