"""Which param groups a schedule applies to.

A hyperparameter is given either one schedule (every group follows it) or a mapping from
selectors to schedules. A selector is a group index (``int``), a tuple of indices, a group name
(``str``, matched against the group's ``"name"`` key) or a predicate ``f(group) -> bool``. Groups
that no selector picks are left alone; a group picked by two selectors is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cadence.schedules import Constant, Schedule
from cadence.validation import is_real

Selector = int | str | tuple[int, ...] | Callable[[dict[str, Any]], bool]


def _as_schedule(name: str, value: object) -> Schedule:
    if isinstance(value, Schedule):
        return value
    if is_real(value):
        return Constant(float(value))  # type: ignore[arg-type]
    raise TypeError(
        f"{name!r} must be a Schedule, a number, or a mapping from group selectors (index, "
        f"name or predicate) to schedules (got {value!r})"
    )


def _describe(selector: Selector) -> str:
    if callable(selector) and not isinstance(selector, (int, str)):
        return getattr(selector, "__qualname__", repr(selector))
    return repr(selector)


@dataclass(frozen=True)
class Binding:
    """The schedules of one hyperparameter and the selectors that route groups to them
    (``selectors`` is None when one schedule serves every group)."""

    name: str
    schedules: tuple[Schedule, ...]
    selectors: tuple[Selector, ...] | None

    @classmethod
    def parse(cls, name: str, spec: object) -> Binding:
        if isinstance(spec, Mapping):
            if not spec:
                raise ValueError(f"{name!r} must map at least one group selector (got {{}})")
            for selector in spec:
                indices = selector if isinstance(selector, tuple) else (selector,)
                if not indices or any(isinstance(i, bool) for i in indices) or not (
                    all(isinstance(i, int) for i in indices)
                    or isinstance(selector, str) or callable(selector)
                ):
                    raise TypeError(
                        f"{name!r} selectors must be group indices (int or tuple of ints), group "
                        f"names (str) or predicates (callable) (got {selector!r})"
                    )
                if any(isinstance(i, int) and i < 0 for i in indices):
                    raise ValueError(f"{name!r} group index must be >= 0 (got {selector!r})")
            schedules = tuple(_as_schedule(f"{name}[{k!r}]", v) for k, v in spec.items())
            return cls(name, schedules, tuple(spec))
        return cls(name, (_as_schedule(name, spec),), None)

    def assign(self, group: dict[str, Any], index: int) -> int | None:
        """Index of the schedule that group ``index`` follows, or None."""
        if self.selectors is None:
            return 0
        hits = [k for k, s in enumerate(self.selectors) if _matches(s, group, index)]
        if len(hits) > 1:
            picked = " and ".join(_describe(self.selectors[k]) for k in hits)
            raise ValueError(f"param group {index} is selected twice for {self.name!r}: {picked}")
        return hits[0] if hits else None

    def check_covers(self, groups: list[dict[str, Any]]) -> None:
        """Index and name selectors must pick a group that exists (catches typos)."""
        for selector in self.selectors or ():
            indices = selector if isinstance(selector, tuple) else (selector,)
            for index in indices:
                if isinstance(index, int) and index >= len(groups):
                    raise ValueError(
                        f"{self.name!r} selects param group {index} but the optimizer has "
                        f"{len(groups)} group(s)"
                    )
            if isinstance(selector, str) and not any(g.get("name") == selector for g in groups):
                names = [g["name"] for g in groups if "name" in g]
                raise ValueError(
                    f"{self.name!r} selects the group named {selector!r} but no param group has "
                    f"that 'name' (names: {names})"
                )


def _matches(selector: Selector, group: dict[str, Any], index: int) -> bool:
    if isinstance(selector, int):
        return selector == index
    if isinstance(selector, tuple):
        return index in selector
    if isinstance(selector, str):
        return bool(group.get("name") == selector)
    return bool(selector(group))
