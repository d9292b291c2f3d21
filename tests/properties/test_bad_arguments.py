"""Every constructor of the public surface, fed wrong values one argument at a time.

The constructors are found by walking the package (:mod:`properties.surface`), so a new class
is covered without anyone listing it. For each argument of each one, with the others valid, a
wrong value (wrong type, zero, negative, NaN, +-inf, ints too large for a float, bools, strings,
None, empty or junk containers) must either work, and then the result produces only finite
values, or raise a ``ValueError``/``TypeError`` whose message names the argument (when built,
or at a step that would write a value that is not finite). Anything else
(an ``OverflowError``, a ``ZeroDivisionError``, an ``AttributeError`` or ``KeyError`` from deep
inside, a value accepted that turns into NaN or inf, an error that names something else) is a
defect.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from properties.surface import (
    BAD_SCALARS,
    BAD_VALUES,
    BY_KEY,
    CONSTRUCTORS,
    EXAMPLES,
    OTHERS,
    Entry,
    NoRule,
    NotFinite,
    baseline,
    call,
    check_result,
    describe_value,
    examples,
    generic_arguments,
    make_optimizer,
    names_argument,
    parameters,
)

import cadence.compat.d2l
import cadence.compat.lr_scheduler
import cadence.compat.mmengine
import cadence.compat.transformers
import cadence.schedules
import cadence.tools
from cadence.schedules import Schedule

IDS = [e.id for e in CONSTRUCTORS]
WITH_PARAMETERS = [e for e in CONSTRUCTORS if parameters(e.obj)]


def outcome(entry: Entry, name: str, value: Any) -> str | None:
    """None if ``entry`` called with ``name=value`` (the rest valid) works and gives finite
    values, or refuses with a ValueError/TypeError naming ``name``; else what went wrong."""
    arguments = baseline(entry, make_optimizer())
    arguments[name] = value
    shown = f"{entry.id}({name}={describe_value(value)})"
    try:
        result = call(entry, arguments)
    except (ValueError, TypeError) as exc:
        if names_argument(str(exc), name, value, entry.key):
            return None
        return f"{shown} raised {type(exc).__name__} without naming {name!r}: {exc}"
    except Exception as exc:
        return f"{shown} raised {type(exc).__name__}: {exc}"
    try:
        check_result(result, shown)
    except NotFinite as exc:
        return f"{shown} was accepted, but {exc}"
    except (ValueError, TypeError) as exc:  # a step that would write inf, refused: by name
        if names_argument(str(exc), name, value, entry.key):
            return None
        return f"{shown} was accepted, then raised {type(exc).__name__}: {exc}"
    except Exception as exc:
        return f"{shown} was accepted, then raised {type(exc).__name__}: {exc}"
    return None


# -- the surface itself ------------------------------------------------------------------------
def test_discovery_finds_every_kind_of_constructor() -> None:
    found = {e.obj for e in CONSTRUCTORS}
    schedules = {getattr(cadence.schedules, n) for n in cadence.schedules.__all__}
    expected = {s for s in schedules if isinstance(s, type) and issubclass(s, Schedule)
                and s is not Schedule} | {cadence.schedules.join, cadence.schedules.product}
    assert expected <= found
    for module in (cadence.compat.lr_scheduler, cadence.compat.mmengine,
                   cadence.compat.transformers):
        built = {getattr(module, n) for n in module.__all__ if callable(getattr(module, n))
                 and getattr(module, n).__module__.startswith("cadence")}
        assert built - found <= {cadence.compat.mmengine.ParamScheduler}, module.__name__
    for name in ("Scheduler", "PlateauScheduler", "WarmRestartScheduler", "ReduceOnPlateau",
                 "from_config", "load_config", "build"):
        assert getattr(cadence, name) in found, name
    assert cadence.compat.d2l.CosineScheduler in found  # a schedule-like callable
    assert cadence.tools.preset in found and cadence.tools.plot not in found
    assert len(CONSTRUCTORS) >= 100


def test_examples_name_discovered_callables() -> None:
    known = {e.key for e in CONSTRUCTORS} | {e.key for e in OTHERS}
    assert sorted(set(EXAMPLES) - known) == []


@pytest.mark.parametrize("entry", CONSTRUCTORS, ids=IDS)
def test_every_constructor_has_a_valid_baseline(entry: Entry) -> None:
    try:
        arguments = baseline(entry, make_optimizer())
    except NoRule as exc:
        pytest.fail(f"{entry.id} ({entry.key}): {exc}; add a valid example for it to "
                    "EXAMPLES in tests/properties/surface.py")
    try:
        check_result(call(entry, arguments), f"{entry.id}(baseline)")
    except Exception as exc:
        pytest.fail(f"{entry.id} ({entry.key}): the baseline call {arguments} fails with "
                    f"{type(exc).__name__}: {exc}; give it a valid example in EXAMPLES")


@pytest.mark.parametrize("entry", [BY_KEY[k] for k in EXAMPLES if k in BY_KEY],
                         ids=[BY_KEY[k].id for k in EXAMPLES if k in BY_KEY])
def test_examples_are_needed(entry: Entry) -> None:
    """An entry of EXAMPLES whose callable the generic rules already build is dead weight."""
    try:
        arguments = generic_arguments(entry, make_optimizer())
        check_result(call(entry, arguments), entry.id)
    except Exception:
        return
    pytest.fail(f"the generic rules build {entry.id}: remove its entry from EXAMPLES")


# -- wrong values ------------------------------------------------------------------------------
# Defects this suite found whose fix belongs in a file another change owns. Each is a strict
# xfail: it fails the suite as soon as the fix lands, so the entry is removed with it.
KNOWN_DEFECTS: dict[tuple[str, str], str] = {
}
CASES = [pytest.param(e, p.name, id=f"{e.id}-{p.name}", marks=[pytest.mark.xfail(
             reason=KNOWN_DEFECTS[(e.key, p.name)], strict=True)]
             if (e.key, p.name) in KNOWN_DEFECTS else [])
         for e in CONSTRUCTORS for p in parameters(e.obj)]


def test_known_defects_name_real_arguments() -> None:
    real = {(e.key, p.name) for e in CONSTRUCTORS for p in parameters(e.obj)}
    assert sorted(set(KNOWN_DEFECTS) - real) == []


@pytest.mark.parametrize(("entry", "name"), CASES)
def test_each_wrong_value_is_refused_by_name_or_works(entry: Entry, name: str) -> None:
    problems = [p for v in BAD_VALUES if (p := outcome(entry, name, v)) is not None]
    assert not problems, "\n".join(problems)


junk = st.recursive(
    st.sampled_from(BAD_SCALARS) | st.floats() | st.integers(-(2**80), 2**80)
    | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                max_size=2),
    max_leaves=4,
)


@pytest.mark.parametrize("entry", WITH_PARAMETERS, ids=[e.id for e in WITH_PARAMETERS])
@settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_wrong_values_are_refused_by_name_or_work(entry: Entry, data: st.DataObject) -> None:
    names = [p.name for p in parameters(entry.obj) if (entry.key, p.name) not in KNOWN_DEFECTS]
    if not names:
        return
    name = data.draw(st.sampled_from(names), label="argument")
    value = data.draw(junk, label="value")
    problem = outcome(entry, name, value)
    assert problem is None, problem


def test_keyword_only_and_positional_parameters_are_both_reached() -> None:
    kinds = {p.kind for e in CONSTRUCTORS for p in parameters(e.obj)}
    assert inspect.Parameter.KEYWORD_ONLY in kinds
    assert inspect.Parameter.POSITIONAL_OR_KEYWORD in kinds
