"""One writer per place: which scheduler writes each hyperparameter of each param group and
each target.

A *place* is where one value lives: a param group's hyperparameter (``lr`` of the group whose
``params`` list is this one, ``betas[0]``, ...), an object's attribute, a dict's entry, a
tensor, an EMA update. A scheduler that writes places says which (:meth:`Writer.claims`) and
whether it shares them: a ``cadence.Scheduler`` writes its values outright and shares with no
one; the drop-ins chain on what the groups hold, as upstream's do, so they share with each
other. Two writers on one place, one of them not sharing, is refused: the last one to write
would win without a word.

A place written twice by one writer (two names for one place) is refused when it is built.
Two writers on one place are checked when the second is built (or picks up a param group
added later) and refused before the optimizer's next update, unless by then one of them is
gone (a scheduler built again in the place of one nobody holds any more) or handed over (a
child of a container: ``SequentialLR([Scheduler(opt, ...), Scheduler(opt, ...)])`` builds both
children before the container hands the groups from one to the other): :meth:`Writer.shares`.

>>> import torch, cadence
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> first = cadence.Scheduler(opt, lr=0.5)
>>> second = cadence.Scheduler(opt, lr=0.2)
>>> opt.step()  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
cadence.validation.InvalidValue: param group 0's 'lr' is written by two schedulers: ...
>>> first.close()
>>> opt.step()
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Hashable, Iterable
from typing import Any, Protocol

import torch

from cadence.validation import InvalidValue

Place = Hashable
_LIVE: weakref.WeakSet[Any] = weakref.WeakSet()  # every live writer


class Writer(Protocol):
    """What a scheduler tells about the places it writes."""

    optimizer: torch.optim.Optimizer

    def claims(self) -> list[tuple[Place, str]]:  # pragma: no cover - a protocol
        """Each place it writes now, with a name for messages."""

    def shares(self) -> bool:  # pragma: no cover - a protocol
        """True when it chains on what the places hold (a drop-in), or was handed over."""


def group_place(optimizer: torch.optim.Optimizer, group: dict[str, Any], key: str,
                index: int | None = None) -> Place:
    """The place of ``group[key]`` (or ``group[key][index]``) of ``optimizer``: the group by
    its ``params`` list, which stays with it when the optimizer's state is loaded and when
    other groups are added or removed."""
    return ("group", id(unwrapped(optimizer)), id(group["params"]), key, index)


def unwrapped(optimizer: Any) -> Any:
    """The torch optimizer inside a wrapper (MMEngine's ``OptimWrapper``, accelerate's)."""
    while not isinstance(optimizer, torch.optim.Optimizer) and hasattr(optimizer, "optimizer"):
        optimizer = optimizer.optimizer
    return optimizer


def _clashes(writer: Any, places: list[tuple[Place, str]],
             others: list[Any] | None = None) -> list[tuple[Any, str]]:
    """The other live writers that write one of ``places`` where one of the two does not
    share, with the first such place's name."""
    found = []
    for other in _rivals(writer) if others is None else others:
        theirs = {place for place, _ in other.claims()}
        common = [name for place, name in places if place in theirs]
        if common:
            found.append((other, common[0]))
    return found


def _rivals(writer: Any) -> list[Any]:
    """The live writers that could write one of ``writer``'s places: not both sharing, and on
    the same optimizer, unless both write targets (which may be shared across optimizers)."""
    mine, targets = unwrapped(writer.optimizer), bool(getattr(writer, "targets", ()))
    return [other for other in list(_LIVE) if other is not writer
            and not (writer.shares() and other.shares())
            and (unwrapped(other.optimizer) is mine
                 or (targets and bool(getattr(other, "targets", ()))))]


def _message(writer: Any, clashes: list[tuple[Any, str]]) -> str:
    other, place = clashes[0]
    return (f"{place} is written by two schedulers: {_shown(other)} and {_shown(writer)}. One "
            "writer per place: schedule both in one Scheduler (join the schedules, or select "
            "groups), hand one over to the other in a SequentialLR, or close the first one "
            "(scheduler.close(), or del it) before building the second")


def _shown(writer: Any) -> str:
    text = repr(writer)
    return text if len(text) <= 120 else text[:117] + "..."


def claim(writer: Any) -> None:
    """Record ``writer`` and check its places (``writer.claims()``): a place it names twice
    (two names for one place) is refused at once; one that another writer writes too is
    checked again before the optimizer's next update (:func:`watch`), since the other one
    may be gone by then (a scheduler built again in its place) or handed over (a container's
    child). A writer that shares (a drop-in) is checked only where a rival is live."""
    rivals = _rivals(writer)
    if writer.shares() and not rivals:
        _LIVE.add(writer)
        return
    places = writer.claims()
    seen: dict[Place, str] = {}
    for place, name in places:
        if place in seen:
            raise InvalidValue(f"{name} and {seen[place]} are one place, written twice by "
                               f"{_shown(writer)}: one writer per place")
        seen[place] = name
    _LIVE.add(writer)
    if rivals and _clashes(writer, places, rivals):
        watch(writer)


def release(writer: Any) -> None:
    """``writer`` writes nothing from now on."""
    _LIVE.discard(writer)


def conflicts(writer: Any) -> str | None:
    """The message for a place ``writer`` shares with another writer, if any."""
    if writer not in _LIVE:
        return None
    clashes = _clashes(writer, writer.claims())
    if clashes:
        gc.collect()
        clashes = _clashes(writer, writer.claims())
    return _message(writer, clashes) if clashes else None


class _Watch:
    """An optimizer step pre-hook that refuses the update while ``writer`` still shares a
    place with another writer; once it does not, it does nothing (torch runs the hooks from
    its own table: none is removed while it runs)."""

    def __init__(self, writer: Any) -> None:
        self.ref = weakref.ref(writer)
        self.settled = False

    def __call__(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        if self.settled:
            return
        writer = self.ref()
        found = None if writer is None else conflicts(writer)
        if found is not None:
            raise InvalidValue(found)
        self.settled = True


def watch(writer: Any) -> None:
    """Check ``writer``'s places again before the next update of its optimizer."""
    unwrapped(writer.optimizer).register_step_pre_hook(_Watch(writer))


def live(optimizer: torch.optim.Optimizer | None = None) -> Iterable[Any]:
    """The live writers (of ``optimizer``, if given)."""
    return [w for w in list(_LIVE)
            if optimizer is None or unwrapped(w.optimizer) is unwrapped(optimizer)]
