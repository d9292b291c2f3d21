"""Schedulers that chain on one optimizer, as PyTorch's and MMEngine's do.

Several chained schedulers may drive the same hyperparameter of the same optimizer: each group's
value is then its base run through every scheduler in the order they were built (a relative
scheduler multiplies, an absolute one sets, a plateau controller reduces), exactly like stepping
PyTorch's chainable schedulers one after the other. Membership is weak: a scheduler that is
garbage-collected leaves the chain.
"""

from __future__ import annotations

import weakref
from typing import Any

_CHAINS: weakref.WeakKeyDictionary[Any, dict[str, list[weakref.ref[Any]]]] = (
    weakref.WeakKeyDictionary()
)


def join(optimizer: Any, name: str, scheduler: Any) -> None:
    """Add ``scheduler`` to the chain of ``optimizer``'s hyperparameter ``name``."""
    members = _CHAINS.setdefault(optimizer, {}).setdefault(name, [])
    if not any(ref() is scheduler for ref in members):
        members.append(weakref.ref(scheduler))


def leave(optimizer: Any, scheduler: Any) -> None:
    """Take ``scheduler`` out of every chain of ``optimizer``."""
    for members in _CHAINS.get(optimizer, {}).values():
        members[:] = [ref for ref in members if ref() is not None and ref() is not scheduler]


def members(optimizer: Any, name: str) -> list[Any]:
    """The live schedulers chained on ``name``, in the order they joined."""
    refs = _CHAINS.get(optimizer, {}).get(name, [])
    alive = [ref() for ref in refs]
    return [s for s in alive if s is not None]
