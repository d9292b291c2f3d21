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

import weakref
from collections.abc import Callable, Hashable, Mapping, MutableMapping, Sequence
from typing import Any

import torch

from cadence.scheduler.modules_target import Modules
from cadence.scheduler.places import (
    MISSING,
    UNBOUNDED,
    PlaceFailed,
    Target,
    check_bounds,
    dropout_bounds,
    fill,
    held_value,
    is_int,
    name_of,
    nothing,
    number,
    place_key,
    put,
    read_only,
    tensor_key,
)
from cadence.validation import InvalidType, InvalidValue, shown

__all__ = ["UNBOUNDED", "Attribute", "Item", "Modules", "PlaceFailed", "Target", "TensorValue",
           "as_target", "as_targets"]


class Attribute(Target):
    """``obj.<name>``: set to each value; read again at each write, so a tensor attribute (a
    module's buffer) is filled in place in whatever tensor it holds now, keeping its dtype, and
    an int attribute is written ``round(value)``. ``nn.Dropout``'s ``p`` is bounded to [0, 1]
    unless ``bounds`` says. A read-only property is refused here.

    >>> import torch
    >>> import cadence
    >>> from cadence.schedules import Linear
    >>> class VAELoss:
    ...     kl_weight = 0.0
    ...
    >>> loss_fn = VAELoss()
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> sched = cadence.Scheduler(opt, kl_weight=Linear(start=0.0, end=1.0, steps=4),
    ...                           targets={"kl_weight": cadence.Attribute(loss_fn, "kl_weight")},
    ...                           absolute=["kl_weight"])
    >>> for _ in range(2):
    ...     opt.step(); sched.step()
    ...
    >>> loss_fn.kl_weight
    0.5
    """

    def __init__(self, obj: object, name: str, *, bounds: tuple[float, float] | None = None
                 ) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidType(f"'name' must be an attribute name (got {shown(name)})")
        if not hasattr(obj, name):
            raise InvalidValue(f"'name': {name_of(obj)} has no attribute {name!r}")
        why = read_only(obj, name)
        if why is not None:
            raise InvalidValue(f"'name': {name_of(obj)}.{name} {why}, so it cannot be "
                               "scheduled")
        self.obj, self.name = obj, name
        self.read()  # it holds a number
        self._int = is_int(getattr(obj, name))
        self.bounds = check_bounds(bounds) if bounds is not None else dropout_bounds([obj], name)

    def places(self) -> list[str]:
        return [f"{name_of(self.obj)}.{self.name}"]

    def read(self) -> list[float]:
        where = f"attribute {self.name!r} of {name_of(self.obj)}"
        held = getattr(self.obj, self.name, MISSING)
        if held is MISSING:
            raise InvalidValue(f"{where} is gone (deleted?): there is nothing to read")
        return [number(where, held)]

    def keys(self) -> list[Hashable]:
        return [place_key("attribute", self.obj, self.name, getattr(self.obj, self.name, None))]

    def int_places(self) -> tuple[int, ...]:
        return (0,) if self._int else ()

    def swap(self, values: Sequence[float]) -> list[Any]:
        obj, name = self.obj, self.name
        value = round(values[0]) if self._int else values[0]
        try:
            current = getattr(obj, name)
            if isinstance(current, torch.Tensor):
                before = held_value(current)
                fill(current, value)
            else:
                setattr(obj, name, value)
                before = current
        except Exception as error:
            raise PlaceFailed(0) from error
        return [before]

    def put_back(self, before: list[Any]) -> None:
        current = getattr(self.obj, self.name)
        if isinstance(current, torch.Tensor):
            put(current, before[0])
        else:
            setattr(self.obj, self.name, before[0])

    def __repr__(self) -> str:
        return f"Attribute({name_of(self.obj)}, {self.name!r})"


class Item(Target):
    """``mapping[key]``: replaced by each value (a tensor entry is filled in place, an int
    entry takes ``round(value)``).

    The schedule is a factor of the entry's value at construction unless ``absolute`` names it.

    >>> import torch
    >>> import cadence
    >>> from cadence.schedules import Cosine
    >>> weights = {"aux": 0.4}
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> sched = cadence.Scheduler(opt, lr=Cosine(steps=10), aux=Cosine(steps=10),
    ...                           targets={"aux": cadence.Item(weights, "aux")})
    >>> for _ in range(5):
    ...     opt.step(); sched.step()
    ...
    >>> round(weights["aux"], 6), round(opt.param_groups[0]["lr"], 6)  # 0.5 of each base
    (0.2, 0.05)
    """

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
        self._int = is_int(mapping[key])
        self.bounds = check_bounds(bounds)

    def places(self) -> list[str]:
        return [f"[{self.key!r}]"]

    def read(self) -> list[float]:
        held = self.mapping.get(self.key, MISSING)
        if held is MISSING:
            raise InvalidValue(f"entry {self.key!r} is gone from the mapping (its keys: "
                               f"{list(self.mapping)[:20]})")
        return [number(f"entry {self.key!r}", held)]

    def keys(self) -> list[Hashable]:
        return [place_key("item", self.mapping, self.key, self.mapping.get(self.key))]

    def int_places(self) -> tuple[int, ...]:
        return (0,) if self._int else ()

    def swap(self, values: Sequence[float]) -> list[Any]:
        mapping, key = self.mapping, self.key
        value = round(values[0]) if self._int else values[0]
        try:
            current = mapping[key]
            if isinstance(current, torch.Tensor):
                before = held_value(current)
                fill(current, value)
            else:
                mapping[key] = value
                before = current
        except Exception as error:
            raise PlaceFailed(0) from error
        return [before]

    def put_back(self, before: list[Any]) -> None:
        current = self.mapping.get(self.key)
        if isinstance(current, torch.Tensor):
            put(current, before[0])
        else:
            self.mapping[self.key] = before[0]

    def __repr__(self) -> str:
        return f"Item({name_of(self.mapping)}, {self.key!r})"


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
        number("'tensor'", tensor)
        self._ref: Callable[[], torch.Tensor | None] = weakref.ref(tensor)
        self._shown = f"{tensor.dtype}, {tensor.device}"
        self.bounds = check_bounds(bounds)

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
        return [("gone", id(self)) if tensor is None else tensor_key(tensor)]

    def swap(self, values: Sequence[float]) -> list[Any]:
        try:
            tensor = self.tensor
            before = held_value(tensor)
            fill(tensor, values[0])
        except Exception as error:
            raise PlaceFailed(0) from error
        return [before]

    def put_back(self, before: list[Any]) -> None:
        put(self.tensor, before[0])

    def __getstate__(self) -> dict[str, Any]:  # a copy holds the copied tensor, weakly too
        return {**self.__dict__, "_ref": self._ref()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        tensor = state.pop("_ref")
        self.__dict__.update(state)
        self._ref = nothing if tensor is None else weakref.ref(tensor)

    def __repr__(self) -> str:
        return f"TensorValue({self._shown})"


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
