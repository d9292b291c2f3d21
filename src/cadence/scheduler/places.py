"""A place: where one scheduled number lives outside the optimizer, and :class:`Target`, the
base of every kind of place (:mod:`cadence.scheduler.targets`,
:mod:`cadence.scheduler.modules_target`, :class:`~cadence.scheduler.ema.EMAUpdate`).

What every place shares: it holds a real number, or a one-element floating tensor filled in
place (its dtype kept); an int stays an int; a write can be undone (:meth:`Target.swap` and
:meth:`Target.put_back`); each place has an identity key (:meth:`Target.keys`), the same
whichever way it is reached, which is how a second writer of a place is found; a value outside
the target's ``bounds`` (and any value that is not finite) is refused before it is written.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Hashable, Sequence
from typing import Any

import torch

from cadence.validation import InvalidType, InvalidValue, is_real, shown

DROPOUTS = (torch.nn.Dropout, torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.Dropout3d,
            torch.nn.AlphaDropout, torch.nn.FeatureAlphaDropout)
UNBOUNDED = (-math.inf, math.inf)
MISSING = object()
NUMBERS = (float, int)  # the classes a plain place holds, written without a setter


class PlaceFailed(Exception):
    """Writing place ``place`` of a target raised (the cause is chained); the places of that
    target written before it were put back. :class:`~cadence.scheduler.target_set.TargetSet`
    turns it into an ``InvalidValue`` naming the target and the place."""

    def __init__(self, place: int | None) -> None:
        super().__init__(place)
        self.place = place


def number(where: str, value: object) -> float:
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


def is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def fill(tensor: torch.Tensor, value: float) -> None:
    if tensor.requires_grad:  # a parameter: no_grad costs 3 us, so only where needed
        with torch.no_grad():
            tensor.fill_(value)
    else:
        tensor.fill_(value)


def held_value(tensor: torch.Tensor) -> Any:
    """What a tensor holds, to put back: a float on the CPU, a copy elsewhere (no sync)."""
    return tensor.item() if tensor.is_cpu else tensor.detach().clone()


def put(tensor: torch.Tensor, before: Any) -> None:
    if isinstance(before, torch.Tensor):
        with torch.no_grad():
            tensor.copy_(before)
    else:
        fill(tensor, before)


def tensor_key(tensor: torch.Tensor) -> Hashable:
    """The memory a one-element tensor's value lives in: a view or ``detach()`` of a tensor
    shares it, so every way to reach one value gives one key."""
    try:
        return ("tensor", str(tensor.device), tensor.data_ptr())
    except RuntimeError:  # a tensor subclass without storage of its own
        return ("tensor", id(tensor))


def place_key(kind: str, owner: object, name: object, held: object) -> Hashable:
    return tensor_key(held) if isinstance(held, torch.Tensor) else (kind, id(owner), name)


def read_only(obj: object, name: str) -> str | None:
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


def nothing() -> None:
    """The weak reference of a tensor that was gone when pickled."""
    return None


def check_bounds(bounds: object) -> tuple[float, float]:
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


def name_of(obj: object) -> str:
    return type(obj).__name__


def dropout_bounds(objects: Sequence[object], attribute: str) -> tuple[float, float]:
    """[0, 1] for the probability ``p`` of PyTorch's dropout modules, else unbounded."""
    if attribute == "p" and objects and all(isinstance(o, DROPOUTS) for o in objects):
        return (0.0, 1.0)
    return UNBOUNDED


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
            raise InvalidValue(f"{self!r}: writing{place} failed ({name_of(cause)}: {cause}); "
                               "nothing was written") from cause

    def swap(self, values: Sequence[float]) -> list[Any]:
        """Write one value into each place and return what they held before, for
        :meth:`put_back`. A place whose write raises: the places written before it are put
        back and :class:`PlaceFailed` is raised from the cause."""
        if type(self).write is Target.write:
            raise NotImplementedError(f"{name_of(self)} must define write() or swap()")
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
