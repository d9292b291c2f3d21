"""Targets: where a scheduled value lives outside the optimizer's param groups.

A target is one or more places that each hold a number:

- :class:`Attribute` ``(obj, name)``: an attribute of any object (a loss's KL weight, an EMA
  helper's decay, a clipping norm);
- :class:`Item` ``(mapping, key)``: an entry of a dict (a table of loss weights);
- :class:`TensorValue` ``(tensor)``: a one-element floating tensor or buffer, filled in place,
  so a compiled function that reads it does not recompile when the value moves;
- :class:`Modules` ``(model, attribute, type=..., name=...)``: that attribute of every submodule
  of the given type or name (every ``nn.Dropout``'s ``p``, every ``DropPath``'s
  ``drop_prob``): one schedule for all, each relative to its own base.

An attribute or entry that holds a tensor is filled in place too. A target may carry
``bounds=(low, high)``: a value outside them is refused at the step that gives it, before
anything is written. A dropout probability (``p`` of PyTorch's dropout modules) is bounded to
[0, 1] by default.

>>> class Loss:
...     kl_weight = 0.0
>>> loss = Loss()
>>> target = Attribute(loss, "kl_weight")
>>> target.read(), target.places()
([0.0], ['Loss.kl_weight'])
>>> target.write([0.25]); loss.kl_weight
0.25
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

import torch

from cadence.validation import InvalidType, InvalidValue, is_real, shown

DROPOUTS = (torch.nn.Dropout, torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.Dropout3d,
            torch.nn.AlphaDropout, torch.nn.FeatureAlphaDropout)
UNBOUNDED = (-math.inf, math.inf)
__all__ = ["Attribute", "Item", "Modules", "Target", "TensorValue", "as_target", "as_targets"]


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


def _fill(tensor: torch.Tensor, value: float) -> None:
    with torch.no_grad():
        tensor.fill_(value)


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
    """Places holding a number each, written together. Subclasses say where."""

    bounds: tuple[float, float] = UNBOUNDED
    absolute_only = False  # True where a factor of the current value means nothing (a decay)

    def places(self) -> list[str]:
        """A name for each place, for messages and plots."""
        raise NotImplementedError

    def read(self) -> list[float]:
        """What each place holds now."""
        raise NotImplementedError

    def write(self, values: Sequence[float]) -> None:
        """Write one value into each place (tensors in place)."""
        raise NotImplementedError

    def check(self, values: Sequence[float]) -> int | None:
        """The index of the first value outside the bounds (or not finite), or None."""
        low, high = self.bounds
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
    """``obj.<name>``: set to each value (a tensor attribute, such as a module's buffer, is
    filled in place). ``nn.Dropout``'s ``p`` is bounded to [0, 1] unless ``bounds`` says."""

    def __init__(self, obj: object, name: str, *, bounds: tuple[float, float] | None = None
                 ) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidType(f"'name' must be an attribute name (got {shown(name)})")
        if not hasattr(obj, name):
            raise InvalidValue(f"'name': {_name_of(obj)} has no attribute {name!r}")
        self.obj, self.name = obj, name
        self.read()  # it holds a number
        self.bounds = _check_bounds(bounds) if bounds is not None else _dropout_bounds([obj], name)

    def places(self) -> list[str]:
        return [f"{_name_of(self.obj)}.{self.name}"]

    def read(self) -> list[float]:
        return [_number(f"attribute {self.name!r} of {_name_of(self.obj)}",
                        getattr(self.obj, self.name))]

    def write(self, values: Sequence[float]) -> None:
        current = getattr(self.obj, self.name)
        if isinstance(current, torch.Tensor):
            _fill(current, values[0])
        else:
            setattr(self.obj, self.name, values[0])

    def __repr__(self) -> str:
        return f"Attribute({_name_of(self.obj)}, {self.name!r})"


class Item(Target):
    """``mapping[key]``: replaced by each value (a tensor entry is filled in place)."""

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
        self.bounds = _check_bounds(bounds)

    def places(self) -> list[str]:
        return [f"[{self.key!r}]"]

    def read(self) -> list[float]:
        return [_number(f"entry {self.key!r}", self.mapping[self.key])]

    def write(self, values: Sequence[float]) -> None:
        current = self.mapping[self.key]
        if isinstance(current, torch.Tensor):
            _fill(current, values[0])
        else:
            self.mapping[self.key] = values[0]

    def __repr__(self) -> str:
        return f"Item({_name_of(self.mapping)}, {self.key!r})"


class TensorValue(Target):
    """A one-element floating tensor (a buffer, a loss weight), filled in place: its identity,
    dtype and device stay, so graphs and compiled code that read it see each new value."""

    def __init__(self, tensor: torch.Tensor, *, bounds: tuple[float, float] | None = None
                 ) -> None:
        if not isinstance(tensor, torch.Tensor):
            raise InvalidType(f"'tensor' must be a torch.Tensor (got {shown(tensor)})")
        _number("'tensor'", tensor)
        self.tensor = tensor
        self.bounds = _check_bounds(bounds)

    def places(self) -> list[str]:
        return ["tensor"]

    def read(self) -> list[float]:
        return [float(self.tensor.item())]

    def write(self, values: Sequence[float]) -> None:
        _fill(self.tensor, values[0])

    def __repr__(self) -> str:
        return f"TensorValue({self.tensor.dtype}, {self.tensor.device})"


class Modules(Target):
    """Attribute ``attribute`` of every submodule of ``model`` (``model`` itself included) that
    is of ``type`` (a class, a tuple of classes, or a class name such as ``"DropPath"``) and
    whose qualified name matches ``name`` (a glob such as ``"encoder.*"``); at least one of the
    two. Without ``type``, the modules that have the attribute are the ones picked. The modules
    are found once, here; each keeps its own base."""

    def __init__(self, model: torch.nn.Module, attribute: str, *, type: object = None,
                 name: str | None = None, bounds: tuple[float, float] | None = None) -> None:
        if not isinstance(model, torch.nn.Module):
            raise InvalidType(f"'model' must be a torch.nn.Module (got {shown(model)})")
        if not isinstance(attribute, str) or not attribute.isidentifier():
            raise InvalidType(f"'attribute' must be an attribute name (got {shown(attribute)})")
        if type is None and name is None:
            raise InvalidValue("Modules needs 'type' or 'name' to pick the modules (got "
                               "neither)")
        matches = _type_test(type)
        if name is not None and not isinstance(name, str):
            raise InvalidType(f"'name' must be a glob of module names such as 'encoder.*' "
                              f"(got {shown(name)})")
        found = [(qualified, module) for qualified, module in model.named_modules()
                 if matches(module) and (name is None or fnmatch.fnmatchcase(qualified, name))
                 and (type is not None or hasattr(module, attribute))]
        picked = " and ".join(f"{k} {shown(v)}" for k, v in (("type", _type_label(type)),
                                                              ("name", name)) if v is not None)
        if not found:
            having = "" if type is not None else f" that has the attribute {attribute!r}"
            raise InvalidValue(f"Modules found no module of {_name_of(model)} with {picked}"
                               f"{having} (its modules: {_listed(model)})")
        for qualified, module in found:
            if not hasattr(module, attribute):
                raise InvalidValue(f"'attribute': module {qualified or '<model>'!r} "
                                   f"({_name_of(module)}) has no attribute {attribute!r}")
        self.model, self.attribute, self.picked = model, attribute, picked
        self.found = found
        self.read()  # each holds a number
        # a plain attribute (in the module's __dict__, no property of that name) is written
        # there directly: what nn.Module.__setattr__ does for it after its checks, 10x faster
        self._plain = [module.__dict__ if attribute in module.__dict__ and not hasattr(
            getattr(module.__class__, attribute, None), "__set__") else None
            for _, module in found]
        self.bounds = (_check_bounds(bounds) if bounds is not None
                       else _dropout_bounds([m for _, m in found], attribute))

    def places(self) -> list[str]:
        return [f"{qualified or '<model>'}.{self.attribute}" for qualified, _ in self.found]

    def read(self) -> list[float]:
        return [_number(f"attribute {self.attribute!r} of module {q or '<model>'!r}",
                        getattr(m, self.attribute)) for q, m in self.found]

    def write(self, values: Sequence[float]) -> None:
        name = self.attribute
        for (_, module), plain, value in zip(self.found, self._plain, values):
            if plain is not None and not isinstance(plain.get(name), torch.Tensor):
                plain[name] = value
                continue
            current = getattr(module, self.attribute)
            if isinstance(current, torch.Tensor):
                _fill(current, value)
            else:
                setattr(module, self.attribute, value)

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
