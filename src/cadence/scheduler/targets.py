"""Targets: where a scheduled value lives outside the optimizer's param groups.

A target is one or more places that each hold a number:

- :class:`Attribute` ``(obj, name)``: an attribute of any object (a loss's KL weight, an EMA
  helper's decay, a clipping norm, a module's buffer), read again at each write, so it follows
  the object (a module's ``.to()``, ``.double()`` or ``.half()`` gives it a new buffer);
- :class:`Item` ``(mapping, key)``: an entry of a dict (a table of loss weights);
- :class:`TensorValue` ``(tensor)``: a one-element floating tensor, filled in place, so a
  compiled function that reads it does not recompile when the value moves. It holds the tensor
  weakly: a tensor nobody else holds is read by nobody, and writing it is refused;
- :class:`Modules` ``(model, attribute, type=..., name=...)``: that attribute of every submodule
  of the given type or name (every ``nn.Dropout``'s ``p``, every ``DropPath``'s
  ``drop_prob``): one schedule for all, each relative to its own base. It follows the model: a
  module replaced or removed is noticed and the modules are found again.

An attribute or entry that holds a tensor is filled in place too (keeping its dtype); one that
holds an int keeps holding an int (``round(value)``, ties to even). A target may carry
``bounds=(low, high)``: a value outside them is refused at the step that gives it, before
anything is written. A dropout probability (``p`` of PyTorch's dropout modules) is bounded to
[0, 1] by default.

Each target gives one identity key per place (:meth:`Target.keys`): two targets that write the
same place give equal keys, which is how a second writer of a place is found.

>>> class Loss:
...     kl_weight = 0.0
>>> loss = Loss()
>>> target = Attribute(loss, "kl_weight")
>>> target.read(), target.places()
([0.0], ['Loss.kl_weight'])
>>> target.write([0.25]); loss.kl_weight
0.25
>>> target.keys() == Attribute(loss, "kl_weight").keys()
True
"""

from __future__ import annotations

import contextlib
import fnmatch
import math
import numbers
import weakref
from collections.abc import Callable, Hashable, Mapping, MutableMapping, Sequence
from operator import itemgetter
from typing import Any

import torch

from cadence.validation import InvalidType, InvalidValue, is_real, shown

DROPOUTS = (torch.nn.Dropout, torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.Dropout3d,
            torch.nn.AlphaDropout, torch.nn.FeatureAlphaDropout)
UNBOUNDED = (-math.inf, math.inf)
__all__ = ["Attribute", "Item", "Modules", "Target", "TensorValue", "as_target", "as_targets"]
_MISSING = object()
_NUMBERS = (float, int)  # the classes a plain place holds, written without a setter
_GROUPED = 4  # a parent with this many found children is checked with one itemgetter
# containers whose del puts a new _modules dict in place (numbering their modules again)
_RENUMBERED = (torch.nn.Sequential, torch.nn.ModuleList)


class PlaceFailed(Exception):
    """Writing place ``place`` of a target raised (the cause is chained); the places of that
    target written before it were put back. :class:`~cadence.scheduler.target_set.TargetSet`
    turns it into an ``InvalidValue`` naming the target and the place."""

    def __init__(self, place: int | None) -> None:
        super().__init__(place)
        self.place = place


def _number(where: str, value: object) -> float:
    """The number a place holds: a real number, or a one-element floating tensor."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or not value.is_floating_point():
            raise InvalidType(f"{where} must hold a number or a one-element floating tensor "
                              f"to be scheduled (got a {value.dtype} tensor of shape "
                              f"{tuple(value.shape)})")
        return float(value.item())
    if not is_real(value) or isinstance(value, bool):
        raise InvalidType(f"{where} must hold a number or a one-element floating tensor to be "
                          f"scheduled (got {shown(value)})")
    return float(value)  # type: ignore[arg-type]


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _fill(tensor: torch.Tensor, value: float) -> None:
    if tensor.requires_grad:  # a parameter: no_grad costs 3 us, so only where needed
        with torch.no_grad():
            tensor.fill_(value)
    else:
        tensor.fill_(value)


def _held(tensor: torch.Tensor) -> Any:
    """What a tensor holds, to put back: a float on the CPU, a copy elsewhere (no sync)."""
    return tensor.item() if tensor.is_cpu else tensor.detach().clone()


def _put(tensor: torch.Tensor, before: Any) -> None:
    if isinstance(before, torch.Tensor):
        with torch.no_grad():
            tensor.copy_(before)
    else:
        _fill(tensor, before)


def _tensor_key(tensor: torch.Tensor) -> Hashable:
    """The memory a one-element tensor's value lives in: a view or ``detach()`` of a tensor
    shares it, so every way to reach one value gives one key."""
    try:
        return ("tensor", str(tensor.device), tensor.data_ptr())
    except RuntimeError:  # a tensor subclass without storage of its own
        return ("tensor", id(tensor))


def _key(kind: str, owner: object, name: object, held: object) -> Hashable:
    return _tensor_key(held) if isinstance(held, torch.Tensor) else (kind, id(owner), name)


def _read_only(obj: object, name: str) -> str | None:
    """Why ``obj.<name>`` cannot be assigned, where its class says so, or None."""
    descriptor = getattr(type(obj), name, None)
    if isinstance(descriptor, property) and descriptor.fset is None:
        return "is a read-only property (it has no setter)"
    params = getattr(type(obj), "__dataclass_params__", None)
    if params is not None and params.frozen:
        return "is a field of a frozen dataclass"
    if isinstance(obj, tuple):
        return "is a field of a tuple"
    return None


def _nothing() -> None:
    """The weak reference of a tensor that was gone when pickled."""
    return None


def _check_bounds(bounds: object) -> tuple[float, float]:
    if bounds is None:
        return UNBOUNDED
    if isinstance(bounds, (str, bytes)) or not isinstance(bounds, Sequence) or len(bounds) != 2:
        raise InvalidType(f"'bounds' must be None or a pair (low, high) (got {shown(bounds)})")
    if not all(is_real(b) and not isinstance(b, bool) for b in bounds):
        raise InvalidType(f"'bounds' must be a pair of numbers (low, high) (got {shown(bounds)})")
    low, high = float(bounds[0]), float(bounds[1])
    if math.isnan(low) or math.isnan(high) or low > high:
        raise InvalidValue(f"'bounds' must be a pair (low, high) with low <= high "
                           f"(got {shown(bounds)})")
    return low, high


def _name_of(obj: object) -> str:
    return type(obj).__name__


class Target:
    """Places holding a number each, written together. Subclasses say where: they give
    :meth:`places`, :meth:`read`, :meth:`keys` and either :meth:`write` or the pair
    :meth:`swap` / :meth:`put_back` (what a :class:`TargetSet` calls, to undo a failed step).

    ``generation`` counts the times :meth:`refresh` found new places; whoever keeps something
    per place (a base) compares it with the generation that data is for.
    """

    bounds: tuple[float, float] = UNBOUNDED
    absolute_only = False  # True where a factor of the current value means nothing (a decay)
    generation = 0

    def places(self) -> list[str]:
        """A name for each place, for messages and plots."""
        raise NotImplementedError

    def read(self) -> list[float]:
        """What each place holds now."""
        raise NotImplementedError

    def keys(self) -> list[Hashable]:
        """One identity key per place: two targets that write the same place give equal keys
        (``("attribute", id(obj), name)``, ``("item", id(mapping), key)``, and for a place that
        holds a tensor the memory of its value, ``("tensor", device, data_ptr)``, whichever way
        it is reached). Keys are ids: they hold while the target holds its objects (and a
        tensor place's key changes when the place is given a new tensor). A target of its own
        class has keys of its own (``("target", id(self), index)``)."""
        return [("target", id(self), i) for i in range(len(self.places()))]

    def refresh(self) -> bool:
        """Find the places again if the objects they live in moved; True when the places
        changed (and :attr:`generation` moved on). Targets with fixed places: False."""
        return False

    def place_ids(self) -> list[int]:
        """A number per place that stays with it through :meth:`refresh` (a place found again
        keeps its number, a new place gets one never used before)."""
        return list(range(len(self.places())))

    def int_places(self) -> tuple[int, ...]:
        """The places that held an int when found: they are written ``round(value)`` (nearest,
        ties to even, as Python's ``round``), so they keep holding ints."""
        return ()

    def write(self, values: Sequence[float]) -> None:
        """Write one value into each place (tensors in place), all or none: a place that
        refuses its value leaves every place as it was and raises ``InvalidValue``."""
        try:
            self.swap(values)
        except PlaceFailed as failed:
            places = self.places()
            place = "" if failed.place is None else f" {places[failed.place]}"
            cause = failed.__cause__
            raise InvalidValue(f"{self!r}: writing{place} failed ({_name_of(cause)}: {cause}); "
                               "nothing was written") from cause

    def swap(self, values: Sequence[float]) -> list[Any]:
        """Write one value into each place and return what they held before, for
        :meth:`put_back`. A place whose write raises: the places written before it are put
        back and :class:`PlaceFailed` is raised from the cause."""
        if type(self).write is Target.write:
            raise NotImplementedError(f"{_name_of(self)} must define write() or swap()")
        before = self.read()
        try:
            self.write(values)
        except Exception as error:
            with contextlib.suppress(Exception):  # the first failure is the one to report
                self.write(before)
            raise PlaceFailed(None) from error
        return before

    def put_back(self, before: list[Any]) -> None:
        """Put back what :meth:`swap` returned (as far as the places take it)."""
        self.write(before)

    def check(self, values: Sequence[float]) -> int | None:
        """The index of the first value outside the bounds (or not finite), or None."""
        low, high = self.bounds
        if len(values) > 2 and math.isfinite(sum(values)) and low <= min(values) and max(
                values) <= high:
            return None  # the common case, in three passes of C
        for i, value in enumerate(values):
            if not (math.isfinite(value) and low <= value <= high):
                return i
        return None

    def rule(self) -> str:
        """The rule :meth:`check` applies, in words."""
        low, high = self.bounds
        if (low, high) == UNBOUNDED:
            return "a finite number"
        if high == math.inf:
            return f"a finite number >= {low:g}"
        if low == -math.inf:
            return f"a finite number <= {high:g}"
        return f"a number in [{low:g}, {high:g}]"


class Attribute(Target):
    """``obj.<name>``: set to each value; read again at each write, so a tensor attribute (a
    module's buffer) is filled in place in whatever tensor it holds now, keeping its dtype, and
    an int attribute is written ``round(value)``. ``nn.Dropout``'s ``p`` is bounded to [0, 1]
    unless ``bounds`` says. A read-only property is refused here."""

    def __init__(self, obj: object, name: str, *, bounds: tuple[float, float] | None = None
                 ) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidType(f"'name' must be an attribute name (got {shown(name)})")
        if not hasattr(obj, name):
            raise InvalidValue(f"'name': {_name_of(obj)} has no attribute {name!r}")
        why = _read_only(obj, name)
        if why is not None:
            raise InvalidValue(f"'name': {_name_of(obj)}.{name} {why}, so it cannot be "
                               "scheduled")
        self.obj, self.name = obj, name
        self.read()  # it holds a number
        self._int = _is_int(getattr(obj, name))
        self.bounds = _check_bounds(bounds) if bounds is not None else _dropout_bounds([obj], name)

    def places(self) -> list[str]:
        return [f"{_name_of(self.obj)}.{self.name}"]

    def read(self) -> list[float]:
        where = f"attribute {self.name!r} of {_name_of(self.obj)}"
        held = getattr(self.obj, self.name, _MISSING)
        if held is _MISSING:
            raise InvalidValue(f"{where} is gone (deleted?): there is nothing to read")
        return [_number(where, held)]

    def keys(self) -> list[Hashable]:
        return [_key("attribute", self.obj, self.name, getattr(self.obj, self.name, None))]

    def int_places(self) -> tuple[int, ...]:
        return (0,) if self._int else ()

    def swap(self, values: Sequence[float]) -> list[Any]:
        obj, name = self.obj, self.name
        value = round(values[0]) if self._int else values[0]
        try:
            current = getattr(obj, name)
            if isinstance(current, torch.Tensor):
                before = _held(current)
                _fill(current, value)
            else:
                setattr(obj, name, value)
                before = current
        except Exception as error:
            raise PlaceFailed(0) from error
        return [before]

    def put_back(self, before: list[Any]) -> None:
        current = getattr(self.obj, self.name)
        if isinstance(current, torch.Tensor):
            _put(current, before[0])
        else:
            setattr(self.obj, self.name, before[0])

    def __repr__(self) -> str:
        return f"Attribute({_name_of(self.obj)}, {self.name!r})"


class Item(Target):
    """``mapping[key]``: replaced by each value (a tensor entry is filled in place, an int
    entry takes ``round(value)``)."""

    def __init__(self, mapping: MutableMapping[Any, Any], key: object, *,
                 bounds: tuple[float, float] | None = None) -> None:
        if not isinstance(mapping, MutableMapping):
            raise InvalidType(f"'mapping' must be a mutable mapping such as a dict "
                              f"(got {shown(mapping)})")
        if key not in mapping:
            raise InvalidValue(f"'key' {shown(key)} is not in the mapping (its keys: "
                               f"{list(mapping)[:20]})")
        self.mapping, self.key = mapping, key
        self.read()  # it holds a number
        self._int = _is_int(mapping[key])
        self.bounds = _check_bounds(bounds)

    def places(self) -> list[str]:
        return [f"[{self.key!r}]"]

    def read(self) -> list[float]:
        held = self.mapping.get(self.key, _MISSING)
        if held is _MISSING:
            raise InvalidValue(f"entry {self.key!r} is gone from the mapping (its keys: "
                               f"{list(self.mapping)[:20]})")
        return [_number(f"entry {self.key!r}", held)]

    def keys(self) -> list[Hashable]:
        return [_key("item", self.mapping, self.key, self.mapping.get(self.key))]

    def int_places(self) -> tuple[int, ...]:
        return (0,) if self._int else ()

    def swap(self, values: Sequence[float]) -> list[Any]:
        mapping, key = self.mapping, self.key
        value = round(values[0]) if self._int else values[0]
        try:
            current = mapping[key]
            if isinstance(current, torch.Tensor):
                before = _held(current)
                _fill(current, value)
            else:
                mapping[key] = value
                before = current
        except Exception as error:
            raise PlaceFailed(0) from error
        return [before]

    def put_back(self, before: list[Any]) -> None:
        current = self.mapping.get(self.key)
        if isinstance(current, torch.Tensor):
            _put(current, before[0])
        else:
            self.mapping[self.key] = before[0]

    def __repr__(self) -> str:
        return f"Item({_name_of(self.mapping)}, {self.key!r})"


class TensorValue(Target):
    """A one-element floating tensor (a loss weight), filled in place: its identity, dtype and
    device stay, so graphs and compiled code that read it see each new value.

    It holds the tensor weakly. A module's ``.to()``, ``.double()`` or ``.half()`` puts new
    tensors in place of its buffers; the old one, held by nobody, is read by nobody, and
    writing or reading it then raises ``InvalidValue`` (an old tensor you still hold yourself
    is written on, unread). For a buffer, schedule ``Attribute(module, "name")``: it follows
    the module.

    >>> weight = torch.tensor(1.0)
    >>> target = TensorValue(weight)
    >>> target.write([0.5]); weight
    tensor(0.5000)
    """

    def __init__(self, tensor: torch.Tensor, *, bounds: tuple[float, float] | None = None
                 ) -> None:
        if not isinstance(tensor, torch.Tensor):
            raise InvalidType(f"'tensor' must be a torch.Tensor (got {shown(tensor)})")
        _number("'tensor'", tensor)
        self._ref: Callable[[], torch.Tensor | None] = weakref.ref(tensor)
        self._shown = f"{tensor.dtype}, {tensor.device}"
        self.bounds = _check_bounds(bounds)

    @property
    def tensor(self) -> torch.Tensor:
        """The tensor (``InvalidValue`` when nothing holds it any more)."""
        tensor = self._ref()
        if tensor is None:
            raise InvalidValue(
                f"the tensor of {self!r} is gone: nothing holds it any more, so nothing reads "
                "it (a module's .to(), .double(), .half() or .cuda() puts new tensors in place "
                "of its buffers). Schedule the module's attribute instead: "
                "Attribute(module, 'temperature') follows the module")
        return tensor

    def places(self) -> list[str]:
        return ["tensor"]

    def read(self) -> list[float]:
        return [float(self.tensor.item())]

    def keys(self) -> list[Hashable]:
        tensor = self._ref()  # a tensor gone is a place nobody can write: it clashes with none
        return [("gone", id(self)) if tensor is None else _tensor_key(tensor)]

    def swap(self, values: Sequence[float]) -> list[Any]:
        try:
            tensor = self.tensor
            before = _held(tensor)
            _fill(tensor, values[0])
        except Exception as error:
            raise PlaceFailed(0) from error
        return [before]

    def put_back(self, before: list[Any]) -> None:
        _put(self.tensor, before[0])

    def __getstate__(self) -> dict[str, Any]:  # a copy holds the copied tensor, weakly too
        return {**self.__dict__, "_ref": self._ref()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        tensor = state.pop("_ref")
        self.__dict__.update(state)
        self._ref = _nothing if tensor is None else weakref.ref(tensor)

    def __repr__(self) -> str:
        return f"TensorValue({self._shown})"


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
        self.bounds = (_check_bounds(bounds) if bounds is not None
                       else _dropout_bounds(self._modules, attribute))

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
            raise InvalidValue(f"Modules found no module of {_name_of(model)} with "
                               f"{self.picked}{having} (its modules: {_listed(model)})")
        for qualified, module in found:
            where = f"module {qualified or '<model>'!r} ({_name_of(module)})"
            if not hasattr(module, attribute):
                raise InvalidValue(f"'attribute': {where} has no attribute {attribute!r}")
            why = _read_only(module, attribute)
            if why is not None:
                raise InvalidValue(f"'attribute': {attribute!r} of {where} {why}, so it "
                                   "cannot be scheduled")
            _number(f"attribute {attribute!r} of module {qualified or '<model>'!r}",
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
                           if _is_int(getattr(m, attribute)))
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
        return [_key("attribute", m, name, getattr(m, name, None)) for m in self._modules]

    def read(self) -> list[float]:
        self.refresh()
        return [_number(f"attribute {self.attribute!r} of module {q or '<model>'!r}",
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
                    current = plain.get(name, _MISSING)
                    if current.__class__ in _NUMBERS:
                        plain[name] = value
                        before.append(current)
                        continue
                current = getattr(module, name)
                if isinstance(current, torch.Tensor):
                    held = _held(current)
                    _fill(current, value)
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
                    _put(current, value)
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
        return (f"Modules({_name_of(self.model)}, {self.attribute!r}, {self.picked}: "
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
    names = [f"{q or '<model>'} ({_name_of(m)})" for q, m in model.named_modules()]
    more = f", ... {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _dropout_bounds(objects: Sequence[object], attribute: str) -> tuple[float, float]:
    """[0, 1] for the probability ``p`` of PyTorch's dropout modules, else unbounded."""
    if attribute == "p" and objects and all(isinstance(o, DROPOUTS) for o in objects):
        return (0.0, 1.0)
    return UNBOUNDED


def as_target(name: str, value: object) -> Target:
    """``value`` as a target: a :class:`Target` as is, a tensor as a :class:`TensorValue`."""
    if isinstance(value, Target):
        return value
    if isinstance(value, torch.Tensor):
        return TensorValue(value)
    raise InvalidType(f"'targets[{name!r}]' must be a target (Attribute(obj, name), Item(dict, "
                      f"key), Modules(model, attribute, type=...)) or a one-element tensor "
                      f"(got {shown(value)})")


def as_targets(targets: object) -> dict[str, Target]:
    """The ``targets`` argument: a mapping from names to targets."""
    if targets is None:
        return {}
    if not isinstance(targets, Mapping):
        raise InvalidType(f"'targets' must be a dict from names to targets (got "
                          f"{shown(targets)})")
    out = {}
    for name, value in targets.items():
        if not isinstance(name, str) or not name:
            raise InvalidType(f"'targets' keys must be names (got {shown(name)})")
        out[name] = as_target(name, value)
    return out
