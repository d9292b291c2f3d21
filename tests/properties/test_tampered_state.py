"""Every scheduler class of the public surface, resumed from a tampered state.

For each class that has ``load_state_dict`` (found from the constructors that
:mod:`properties.surface` discovers: ``cadence.Scheduler``, ``PlateauScheduler``, the all-in-one
``WarmRestartScheduler``, the plateau controller, every drop-in in ``cadence.compat``), a real
state is taken after a few steps, one entry of it (at any depth) is deleted or replaced with a
wrong value, and the state is loaded into a fresh instance.

cadence's own classes keep cadence's rule: the load either refuses with a ``ValueError`` or
``TypeError`` whose message names a key on the tampered path, and then nothing has changed, or
it loads and the next steps give finite values.

The drop-ins keep their upstream's state rule, on purpose: PyTorch's and MMEngine's
``load_state_dict`` is ``self.__dict__.update(state)`` (the saved settings win, a missing key
keeps the current value), and cadence checks only what upstream's own values cannot survive
(the step and the base values). So for a drop-in, three outcomes are right: the load refuses,
naming the key; or the load (or the first steps after it, when the closed form is rebuilt from
the loaded settings) raises a ``ValueError``/``TypeError`` naming the key; or, for the classes
listed in ``UPSTREAM_PARITY`` only (a decision per class, with its reason), it does exactly what
upstream's class does given the same state: the same kind of failure at the same stage. Values
that leave float64 after a load are right for any drop-in whose upstream class gives non-finite
values with the same state (a loaded ``gamma`` of 1e308 overflows the lr after two drops there
too). Any other failure (a raw ``KeyError`` or ``AttributeError``, values that go NaN where
upstream's do not) is a defect.
"""

from __future__ import annotations

import copy
import inspect
import math
import warnings
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from properties.surface import (
    BAD_SCALARS,
    CONSTRUCTORS,
    Entry,
    NotFinite,
    baseline,
    call,
    check_result,
    describe_value,
    examples,
    make_optimizer,
    names_argument,
    step_once,
)

from cadence.compat.mmengine_base import mm
from cadence.scheduler.plateau import ReduceOnPlateau
from cadence.scheduler.scheduler import Scheduler

UPSTREAM_MODULES = ("torch.", "mmengine.")
# The drop-ins allowed the third outcome (exactly upstream's behaviour with the same state, a
# failure of the same kind at the same stage included), decided class by class; every other
# drop-in must refuse a state it cannot use, naming the key, or work.
UPSTREAM_PARITY = {
    "cadence.compat._plateau.ReduceLROnPlateau":
        "PyTorch's ReduceLROnPlateau state (mode, threshold, best, counters) is taken as "
        "PyTorch takes it; checking it belongs in src/cadence/compat/plateau.py, which another "
        "change owns: until then it must fail exactly where PyTorch's class fails",
}
Path = tuple[Any, ...]


def build(entry: Entry) -> Any:
    return call(entry, baseline(entry, make_optimizer()))


def advance(obj: Any, steps: int = 3) -> None:
    """A few training steps (a plateau controller is fed metrics, as its scheduler would)."""
    for _ in range(steps):
        if isinstance(obj, ReduceOnPlateau):
            obj.observe(1.0)
        else:
            step_once(obj)


def upstream_class(cls: type) -> type | None:
    """The upstream class a drop-in is an instance of (the same name in PyTorch or MMEngine);
    None for cadence's own classes."""
    return next((k for k in cls.__mro__[1:] if k.__module__.startswith(UPSTREAM_MODULES)
                 and k.__name__ == cls.__name__), None)


def _classes() -> list[tuple[type, Entry]]:
    """One constructor per scheduler class with ``load_state_dict``: the class itself where it
    is a constructor, else the first factory that builds it."""
    found: dict[type, Entry] = {}
    for entry in CONSTRUCTORS:
        made = build(entry)
        cls = type(made)
        if not hasattr(made, "load_state_dict") or not hasattr(made, "state_dict"):
            continue
        if cls not in found or entry.obj is cls:
            found[cls] = entry
    return sorted(found.items(), key=lambda item: item[1].id)


CLASSES = _classes()
IDS = [f"{cls.__module__}.{cls.__qualname__}" for cls, _ in CLASSES]


def saved_state(entry: Entry) -> dict[str, Any]:
    obj = build(entry)
    advance(obj)
    return obj.state_dict()


def paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every key (and list index) in ``value``, at any depth, outermost first."""
    out: list[Path] = []
    items = (value.items() if isinstance(value, Mapping) else
             enumerate(value) if isinstance(value, (list, tuple)) else ())
    for key, item in items:
        out.append((*prefix, key))
        out += paths(item, (*prefix, key))
    return out


class _Delete:
    """The tampering that deletes the entry."""

    def __repr__(self) -> str:
        return "DELETE"


DELETE = _Delete()


def tampered(state: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    """A deep copy of ``state`` with the entry at ``path`` deleted or replaced by ``value``."""
    out = copy.deepcopy(state)
    parent: Any = out
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, tuple):  # rebuild the tuple (an MMEngine restart_weights)
        items = list(parent)
        if value is DELETE:
            del items[path[-1]]
        else:
            items[path[-1]] = value
        grand: Any = out
        for key in path[:-2]:
            grand = grand[key]
        grand[path[-2]] = tuple(items)
    elif value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


def shown(path: Path, value: Any) -> str:
    where = "".join(f"[{k!r}]" for k in path)
    return f"state{where} {'deleted' if value is DELETE else '= ' + describe_value(value)}"


def run(obj: Any, state: dict[str, Any]) -> tuple[str, Exception | None]:
    """Load ``state`` into ``obj`` and take a few steps: the stage that failed (``load``,
    ``step`` or ``values`` for a non-finite value) and its exception, or ``("ok", None)``."""
    try:
        obj.load_state_dict(state)
    except Exception as exc:
        return "load", exc
    try:
        check_result(obj, type(obj).__name__)
    except NotFinite as exc:
        return "values", exc
    except Exception as exc:
        return "step", exc
    return "ok", None


def names_a_key(exc: BaseException, path: Path, value: Any = None) -> bool:
    """A ValueError/TypeError that names a key on the tampered path, or, for a mapping put
    there, one of its keys (the entry inside it that is wrong)."""
    keys = [k for k in path if isinstance(k, str)]
    if isinstance(value, Mapping):
        keys += [str(k) for k in value]
    return isinstance(exc, (ValueError, TypeError)) and any(
        names_argument(str(exc), key) for key in keys)


def upstream_outcome(entry: Entry, cls: type, state: dict[str, Any]) -> tuple[str, type | None]:
    """What upstream's class does with ``state`` (built with the same arguments)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        accepted = inspect.signature(cls).parameters
        anything = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
        try:
            theirs = cls(**{k: v for k, v in baseline(entry, make_optimizer()).items()
                            if anything or k in accepted})
        except Exception:  # an abstract base (PyTorch's LRScheduler): nothing to compare with
            return "unbuilt", None
        advance(theirs)
        stage, exc = run(theirs, copy.deepcopy(state))
    return stage, None if exc is None else type(exc)


def problem(cls: type, entry: Entry, state: dict[str, Any], path: Path, value: Any) -> str | None:
    """None if loading the tampered state into a fresh ``cls`` behaves (see the module)."""
    bad = tampered(state, path, value)
    fresh = build(entry)
    before = None if upstream_class(cls) else fresh.state_dict()
    stage, exc = run(fresh, copy.deepcopy(bad))
    what = f"{cls.__name__}.load_state_dict({shown(path, value)})"
    if stage == "ok":
        return None
    upstream = upstream_class(cls)
    if upstream is None:  # cadence's own class: refused at load, by key, changing nothing
        if stage == "load" and names_a_key(exc, path, value):  # type: ignore[arg-type]
            after = fresh.state_dict()
            if _same(after, before):
                return None
            return f"{what} was refused but changed the state: {before} -> {after}"
        return f"{what}: {stage} failed with {type(exc).__name__}: {exc}"
    if stage in ("load", "step") and names_a_key(exc, path, value):  # type: ignore[arg-type]
        return None
    listed = f"{cls.__module__}.{cls.__qualname__}" in UPSTREAM_PARITY
    if (listed or stage == "values") and upstream_outcome(entry, upstream, bad) == (
            stage, type(exc)):
        # exactly upstream's behaviour with this state: for a listed class, or, for any
        # drop-in, values that leave float64 where upstream's do too (a loaded gamma of 1e308
        # is a valid setting whose lr overflows after two drops, in PyTorch's class as well)
        return None
    return f"{what}: {stage} failed with {type(exc).__name__}: {exc}"


def _same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


# -- the classes themselves --------------------------------------------------------------------
def test_every_kind_of_scheduler_is_resumed() -> None:
    classes = {cls for cls, _ in CLASSES}
    names = {cls.__name__ for cls in classes}
    assert Scheduler in classes and ReduceOnPlateau in classes
    assert {"PlateauScheduler", "WarmRestartScheduler", "SequentialLR", "ChainedScheduler",
            "LambdaLR", "OneCycleLR", "ReduceLROnPlateau", "CosineRestartLR",
            "ReduceOnPlateauMomentum"} <= names
    assert any(issubclass(cls, mm.param_scheduler._ParamScheduler) for cls in classes)
    assert len(classes) >= 45


def test_upstream_parity_names_real_drop_ins() -> None:
    names = {f"{cls.__module__}.{cls.__qualname__}" for cls, _ in CLASSES if upstream_class(cls)}
    assert sorted(set(UPSTREAM_PARITY) - names) == []


@pytest.mark.parametrize(("cls", "entry"), CLASSES, ids=IDS)
def test_an_untouched_state_resumes(cls: type, entry: Entry) -> None:
    state = saved_state(entry)
    stage, exc = run(build(entry), copy.deepcopy(state))
    assert stage == "ok", f"{cls.__name__}: {stage} failed with {exc!r}"


# -- tampering -----------------------------------------------------------------------------------
FIXED = [DELETE, None, "x", math.nan, math.inf, -1, 10**400, True, [], {"x": [None]}]


@pytest.mark.parametrize(("cls", "entry"), CLASSES, ids=IDS)
def test_each_top_level_entry_tampered(cls: type, entry: Entry) -> None:
    state = saved_state(entry)
    found = [p for key in state for value in FIXED
             if (p := problem(cls, entry, state, (key,), value)) is not None]
    assert not found, "\n".join(found)


junk = st.one_of(
    st.just(DELETE), st.sampled_from(BAD_SCALARS), st.floats(), st.integers(-(2**70), 2**70),
    st.text(max_size=3),
    st.recursive(st.sampled_from([None, -1, math.nan, "x", 10**400]),
                 lambda inner: st.lists(inner, max_size=2)
                 | st.dictionaries(st.sampled_from(["x", "lr", "type", "steps"]), inner,
                                   max_size=2), max_leaves=3),
)


@pytest.mark.parametrize(("cls", "entry"), CLASSES, ids=IDS)
@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_entry_tampered(cls: type, entry: Entry, data: st.DataObject) -> None:
    state = saved_state(entry)
    path = data.draw(st.sampled_from(paths(state)), label="path")
    value = data.draw(junk, label="value")
    found = problem(cls, entry, state, path, value)
    assert found is None, found
