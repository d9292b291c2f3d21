"""Which param groups a schedule applies to.

A hyperparameter is given either one schedule (every group follows it) or a mapping from
selectors to schedules. A selector is a group index (``int``), a tuple of indices, a group name
(``str``, matched against the group's ``"name"`` key) or a predicate ``f(group) -> bool``. Groups
that no selector picks are left alone; a group picked by two selectors is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cadence.schedules import Constant, Schedule
from cadence.validation import (
    InvalidType,
    InvalidValue,
    check_number,
    check_sequence,
    is_real,
)

Selector = int | str | tuple[int, ...] | Callable[[dict[str, Any]], bool]


def as_schedule(name: str, value: object, selectors: bool = True) -> Schedule:
    """``value`` as a schedule: a Schedule as is, a number as the constant schedule of it."""
    if isinstance(value, Schedule):
        return value
    if is_real(value):  # a number is the constant schedule of it, checked under its own name
        return Constant(check_number(name, value))
    if not selectors:
        raise InvalidType(f"{name!r} must be a Schedule or a number (got {value!r})")
    raise InvalidType(
        f"{name!r} must be a Schedule, a number, or a mapping from group selectors (index, "
        f"name or predicate) to schedules (got {value!r})"
    )


def _describe(selector: Selector) -> str:
    if callable(selector) and not isinstance(selector, (int, str)):
        return getattr(selector, "__qualname__", repr(selector))
    return repr(selector)


@dataclass(frozen=True)
class Selection:
    """The schedules of one hyperparameter and the selectors that route groups to them
    (``selectors`` is None when one schedule serves every group)."""

    name: str
    schedules: tuple[Schedule, ...]
    selectors: tuple[Selector, ...] | None

    @classmethod
    def parse(cls, name: str, spec: object) -> Selection:
        if isinstance(spec, Mapping):
            if not spec:
                raise InvalidValue(f"{name!r} must map at least one group selector (got {{}})")
            for selector in spec:
                indices = selector if isinstance(selector, tuple) else (selector,)
                if not indices or any(isinstance(i, bool) for i in indices) or not (
                    all(isinstance(i, int) for i in indices)
                    or isinstance(selector, str) or callable(selector)
                ):
                    raise InvalidType(
                        f"{name!r} selectors must be group indices (int or tuple of ints), group "
                        f"names (str) or predicates (callable) (got {selector!r})"
                    )
                if any(isinstance(i, int) and i < 0 for i in indices):
                    raise InvalidValue(f"{name!r} group index must be >= 0 (got {selector!r})")
            schedules = tuple(as_schedule(f"{name}[{k!r}]", v) for k, v in spec.items())
            return cls(name, schedules, tuple(spec))
        return cls(name, (as_schedule(name, spec),), None)

    def route(self, groups: Sequence[dict[str, Any]], start: int = 0) -> list[int | None]:
        """The index of the schedule that each of ``groups[start:]`` follows (None: none).
        Index and name selectors are looked up, not tested against every group."""
        count = len(groups) - start
        if self.selectors is None:
            return [0] * count
        by_index: dict[int, list[int]] = {}
        by_name: dict[str, list[int]] = {}
        predicates: list[tuple[int, Callable[[dict[str, Any]], bool]]] = []
        for k, selector in enumerate(self.selectors):
            if isinstance(selector, int):
                by_index.setdefault(selector, []).append(k)
            elif isinstance(selector, tuple):
                for i in selector:
                    by_index.setdefault(i, []).append(k)
            elif isinstance(selector, str):
                by_name.setdefault(selector, []).append(k)
            else:
                predicates.append((k, selector))
        out: list[int | None] = []
        for index in range(start, len(groups)):
            group = groups[index]
            hits = list(by_index.get(index, ()))
            name = group.get("name")
            if isinstance(name, str):
                hits += by_name.get(name, ())
            hits += [k for k, predicate in predicates if predicate(group)]
            if len(hits) > 1:
                picked = " and ".join(_describe(self.selectors[k]) for k in sorted(hits))
                raise InvalidValue(
                    f"param group {index} is selected twice for {self.name!r}: {picked}")
            out.append(hits[0] if hits else None)
        return out

    def check_covers(self, groups: Sequence[dict[str, Any]]) -> None:
        """Index and name selectors must pick a group that exists (catches typos)."""
        names = {g["name"] for g in groups if isinstance(g.get("name"), str)}
        for selector in self.selectors or ():
            indices = selector if isinstance(selector, tuple) else (selector,)
            for index in indices:
                if isinstance(index, int) and index >= len(groups):
                    raise InvalidValue(
                        f"{self.name!r} selects param group {index} but the optimizer has "
                        f"{len(groups)} group(s)"
                    )
            if isinstance(selector, str) and selector not in names:
                listed = [g["name"] for g in groups if "name" in g]
                raise InvalidValue(
                    f"{self.name!r} selects the group named {selector!r} but no param group has "
                    f"that 'name' (names: {listed})"
                )


def routes(selection: Selection, track: Any) -> list[int | None]:
    """Which of the selection's schedules each group of ``track`` follows (by identity)."""
    index = {id(s): k for k, s in enumerate(selection.schedules)}
    return [None if s is None else index[id(s)] for s in track.schedules]


def check_names(arg: str, names: object, allowed: set[str] | None) -> list[str]:
    out = list(check_sequence(arg, names, "a collection of hyperparameter names",
                              mapping=True))
    for name in out:
        if not isinstance(name, str):
            raise InvalidType(f"{arg!r} must hold hyperparameter names (got {name!r})")
        if allowed is not None and name not in allowed:
            raise InvalidValue(
                f"{arg!r} names {name!r}, which is not scheduled (scheduled: {sorted(allowed)})"
            )
    return out
