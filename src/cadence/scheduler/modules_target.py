"""The :class:`Modules` target: an attribute of every submodule of a model picked by type or
name (every dropout's ``p``, every ``DropPath``'s ``drop_prob``), following the model as its
modules are replaced or removed."""

from __future__ import annotations

import contextlib
import fnmatch
from collections.abc import Hashable, Sequence
from operator import itemgetter
from typing import Any

import torch

from cadence.scheduler.places import (
    MISSING,
    NUMBERS,
    PlaceFailed,
    Target,
    check_bounds,
    dropout_bounds,
    fill,
    held_value,
    is_int,
    name_of,
    number,
    place_key,
    put,
    read_only,
)
from cadence.validation import InvalidType, InvalidValue, shown

_GROUPED = 4  # a parent with this many found children is checked with one itemgetter
# containers whose del puts a new _modules dict in place (numbering their modules again)
_RENUMBERED = (torch.nn.Sequential, torch.nn.ModuleList)

__all__ = ["Modules"]


class Modules(Target):
    """Attribute ``attribute`` of every submodule of ``model`` (``model`` itself included) that
    is of ``type`` (a class, a tuple of classes, or a class name such as ``"DropPath"``) and
    whose qualified name matches ``name`` (a glob such as ``"encoder.*"``); at least one of the
    two. Without ``type``, the modules that have the attribute are the ones picked. Each keeps
    its own base; an int attribute takes ``round(value)``, a tensor is filled in place.

    It follows the model. :meth:`refresh` (called by a Scheduler before each step's values, and
    by :meth:`read`, :meth:`places` and :meth:`keys`) checks that every module on the path from
    ``model`` to each found module is still where it was (one dict lookup per edge), and when
    one is not (``model.encoder.drop = nn.Dropout(0.3)``, a parent replaced, a module deleted)
    finds the modules again with the same ``type`` and ``name``: a module found again keeps its
    place id (and so its base), a new one is a new place, a module gone is dropped. :meth:`swap`
    writes the places as last found; :meth:`write` refuses values made before they changed.

    >>> model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.1))
    >>> dropouts = Modules(model, "p", type=torch.nn.Dropout)
    >>> model[1] = torch.nn.Dropout(0.3)
    >>> dropouts.refresh(), dropouts.read()
    (True, [0.3])
    """

    def __init__(self, model: torch.nn.Module, attribute: str, *, type: object = None,
                 name: str | None = None, bounds: tuple[float, float] | None = None) -> None:
        if not isinstance(model, torch.nn.Module):
            raise InvalidType(f"'model' must be a torch.nn.Module (got {shown(model)})")
        if not isinstance(attribute, str) or not attribute.isidentifier():
            raise InvalidType(f"'attribute' must be an attribute name (got {shown(attribute)})")
        if type is None and name is None:
            raise InvalidValue("Modules needs 'type' or 'name' to pick the modules (got "
                               "neither)")
        _type_test(type)
        if name is not None and not isinstance(name, str):
            raise InvalidType(f"'name' must be a glob of module names such as 'encoder.*' "
                              f"(got {shown(name)})")
        self.model, self.attribute, self._kind, self._glob = model, attribute, type, name
        self.picked = " and ".join(f"{k} {shown(v)}" for k, v in (
            ("type", _type_label(type)), ("name", name)) if v is not None)
        self.found: list[tuple[str, torch.nn.Module]] = []
        self._ids: list[int] = []
        self._next_id = 0
        self._take(self._find())
        self.bounds = (check_bounds(bounds) if bounds is not None
                       else dropout_bounds(self._modules, attribute))

    # -- finding -----------------------------------------------------------------------------
    def _find(self) -> list[tuple[str, torch.nn.Module]]:
        """The modules the selectors pick now, each checked to hold a number."""
        model, attribute, kind, glob = self.model, self.attribute, self._kind, self._glob
        matches = _type_test(kind)
        found = [(qualified, module) for qualified, module in model.named_modules()
                 if matches(module) and (glob is None or fnmatch.fnmatchcase(qualified, glob))
                 and (kind is not None or hasattr(module, attribute))]
        if not found:
            having = "" if kind is not None else f" that has the attribute {attribute!r}"
            raise InvalidValue(f"Modules found no module of {name_of(model)} with "
                               f"{self.picked}{having} (its modules: {_listed(model)})")
        for qualified, module in found:
            where = f"module {qualified or '<model>'!r} ({name_of(module)})"
            if not hasattr(module, attribute):
                raise InvalidValue(f"'attribute': {where} has no attribute {attribute!r}")
            why = read_only(module, attribute)
            if why is not None:
                raise InvalidValue(f"'attribute': {attribute!r} of {where} {why}, so it "
                                   "cannot be scheduled")
            number(f"attribute {attribute!r} of module {qualified or '<model>'!r}",
                    getattr(module, attribute))
        return found

    def _take(self, found: list[tuple[str, torch.nn.Module]]) -> None:
        """Hold ``found``: a module found before keeps its place id, a new one gets a new id."""
        before = {id(module): pid for (_, module), pid in zip(self.found, self._ids)}
        ids = []
        for _, module in found:
            pid = before.get(id(module))  # the old modules are alive: their ids are theirs
            if pid is None:
                pid, self._next_id = self._next_id, self._next_id + 1
            ids.append(pid)
        self.found, self._ids = found, ids
        self._cache()

    def _cache(self) -> None:
        """What writes and checks use: the modules, the ``__dict__`` of each whose attribute is
        plain (written there directly: what ``nn.Module.__setattr__`` does for it after its
        checks, 10x faster), the int places, and every edge from the model to a found module."""
        attribute = self.attribute
        self._modules = [module for _, module in self.found]
        self._plain = [module.__dict__ if attribute in module.__dict__ and not hasattr(
            getattr(module.__class__, attribute, None), "__set__") else None
            for module in self._modules]
        self._ints = tuple(i for i, m in enumerate(self._modules)
                           if is_int(getattr(m, attribute)))
        # (dict, key, what it holds): each parent's _modules under its key, and for the
        # containers whose del puts a new _modules dict in place, that dict in their __dict__
        edges: dict[tuple[int, str], tuple[dict[str, Any], str, object]] = {}
        for qualified, _ in self.found:
            parent: Any = self.model
            for part in qualified.split(".") if qualified else ():
                children = parent._modules
                if isinstance(parent, _RENUMBERED):
                    edges[(id(parent.__dict__), "_modules")] = (parent.__dict__, "_modules",
                                                                children)
                edges[(id(children), part)] = (children, part, children[part])
                parent = children[part]
        by_parent: dict[int, list[tuple[dict[str, Any], str, object]]] = {}
        for edge in edges.values():
            by_parent.setdefault(id(edge[0]), []).append(edge)
        self._dicts: list[dict[str, Any]] = []
        self._keys: list[str] = []
        self._children: list[object] = []
        self._groups: list[tuple[Any, dict[str, Any], tuple[object, ...]]] = []
        for group in by_parent.values():
            if len(group) >= _GROUPED:  # one C call for many siblings (24 dropouts in a row)
                self._groups.append((itemgetter(*(key for _, key, _ in group)), group[0][0],
                                     tuple(child for _, _, child in group)))
                continue
            for holder, key, child in group:
                self._dicts.append(holder)
                self._keys.append(key)
                self._children.append(child)

    def refresh(self) -> bool:
        # while nothing moved (every step) this is the whole cost: one lookup per edge, in C
        try:
            moved = list(map(dict.get, self._dicts, self._keys)) != self._children
            if not moved:
                for getter, holder, children in self._groups:
                    if getter(holder) != children:
                        moved = True
                        break
        except KeyError:
            moved = True
        if not moved:
            return False
        try:
            found = self._find()
        except (InvalidType, InvalidValue) as error:
            raise type(error)(f"{self!r}: its modules moved, and finding them again failed: "
                              f"{error}") from error
        changed = found != self.found
        self._take(found)
        if changed:
            self.generation += 1
        return changed

    # -- places --------------------------------------------------------------------------------
    def _follow(self) -> None:
        """Refresh, for names and keys: where finding the modules again fails (the next read
        or step says so) they stay those last found, so a message or check never fails."""
        with contextlib.suppress(InvalidType, InvalidValue):
            self.refresh()

    def places(self) -> list[str]:
        self._follow()
        return [f"{qualified or '<model>'}.{self.attribute}" for qualified, _ in self.found]

    def place_ids(self) -> list[int]:
        return list(self._ids)

    def int_places(self) -> tuple[int, ...]:
        return self._ints

    def keys(self) -> list[Hashable]:
        self._follow()
        name = self.attribute
        return [place_key("attribute", m, name, getattr(m, name, None)) for m in self._modules]

    def read(self) -> list[float]:
        self.refresh()
        return [number(f"attribute {self.attribute!r} of module {q or '<model>'!r}",
                        getattr(m, self.attribute)) for q, m in self.found]

    def write(self, values: Sequence[float]) -> None:
        if self.refresh():
            raise InvalidValue(f"{self!r}: its modules changed, so the values are not for "
                               f"them: take places() again (now {self.places()})")
        if len(values) != len(self.found):
            raise InvalidValue(f"'values' must have one value per place ({len(self.found)}) "
                               f"(got {len(values)})")
        super().write(values)

    def swap(self, values: Sequence[float]) -> list[Any]:
        name, ints = self.attribute, self._ints
        if ints:
            values = [round(v) if i in ints else v for i, v in enumerate(values)]
        before: list[Any] = []  # what each place written held: as long as the places written
        try:
            for module, plain, value in zip(self._modules, self._plain, values):
                if plain is not None:
                    current = plain.get(name, MISSING)
                    if current.__class__ in NUMBERS:
                        plain[name] = value
                        before.append(current)
                        continue
                current = getattr(module, name)
                if isinstance(current, torch.Tensor):
                    held = held_value(current)
                    fill(current, value)
                    before.append(held)
                else:
                    setattr(module, name, value)
                    before.append(current)
        except Exception as error:
            self.put_back(before)
            raise PlaceFailed(len(before)) from error
        return before

    def put_back(self, before: list[Any]) -> None:
        name = self.attribute
        for module, value in zip(self._modules, before):
            try:
                current = getattr(module, name)
                if isinstance(current, torch.Tensor):
                    put(current, value)
                else:
                    setattr(module, name, value)
            except Exception:  # put back what can be: the first failure is the one reported
                continue

    def __getstate__(self) -> dict[str, Any]:  # the caches hold dicts of the modules
        cached = ("_modules", "_plain", "_dicts", "_keys", "_children", "_groups")
        return {k: v for k, v in self.__dict__.items() if k not in cached}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._cache()

    def __repr__(self) -> str:
        return (f"Modules({name_of(self.model)}, {self.attribute!r}, {self.picked}: "
                f"{len(self.found)} found)")


def _type_test(kind: object) -> Any:
    if kind is None:
        return lambda module: True
    if isinstance(kind, str):
        return lambda module: any(c.__name__ == kind for c in type(module).__mro__)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not kinds or not all(isinstance(k, type) for k in kinds):
        raise InvalidType(f"'type' must be a class, a tuple of classes or a class name "
                          f"(got {shown(kind)})")
    return lambda module: isinstance(module, kinds)


def _type_label(kind: object) -> object:
    if isinstance(kind, tuple):
        return "(" + ", ".join(k.__name__ for k in kind) + ")"
    return getattr(kind, "__name__", kind)


def _listed(model: torch.nn.Module, limit: int = 12) -> str:
    names = [f"{q or '<model>'} ({name_of(m)})" for q, m in model.named_modules()]
    more = f", ... {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
