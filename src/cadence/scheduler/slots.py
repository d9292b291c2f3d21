"""Where a hyperparameter lives in a param group, and how to read and write it.

Most hyperparameters are a key of the group (``lr``, ``weight_decay``, ``momentum`` on SGD).
``momentum`` addresses ``betas[0]`` on Adam-family optimizers, which have no ``momentum`` key;
``beta1`` and ``beta2`` address the betas directly. A value that is a tensor is updated in place
(``fill_``), keeping its dtype, device and identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from cadence.validation import InvalidValue

BETA_ALIASES = {"beta1": 0, "beta2": 1}
NOT_SCHEDULABLE = ("params",)


@dataclass(frozen=True)
class Slot:
    """A hyperparameter's place in a group: ``group[key]``, or ``group[key][index]``."""

    key: str
    index: int | None = None

    def read(self, group: dict[str, Any]) -> Any:
        value = group[self.key]
        return value if self.index is None else value[self.index]

    def write(self, group: dict[str, Any], value: float) -> None:
        """Write one value, in place for tensors."""
        current = self.read(group)
        if isinstance(current, torch.Tensor):
            with torch.no_grad():
                current.fill_(value)
        else:
            self.replace(group, value)

    def replace(self, group: dict[str, Any], value: Any) -> None:
        """Put ``value`` (a new object) where the hyperparameter is."""
        if self.index is None:
            group[self.key] = value
        else:
            items = list(group[self.key])
            items[self.index] = value
            group[self.key] = tuple(items)


def resolve(name: str, group: dict[str, Any], index: int) -> Slot:
    """The slot of hyperparameter ``name`` in ``group`` (number ``index``), or a clear error."""
    if name in NOT_SCHEDULABLE:
        raise InvalidValue(f"{name!r} is not a hyperparameter and cannot be scheduled")
    if name in group:
        return Slot(name)
    if name == "momentum" and "betas" in group:
        return Slot("betas", 0)
    if name in BETA_ALIASES and "betas" in group:
        return Slot("betas", BETA_ALIASES[name])
    raise NotAHyperparameter.of(name, index, [k for k in group if k not in NOT_SCHEDULABLE])


class NotAHyperparameter(InvalidValue):
    """``name`` is not a hyperparameter of param group ``index``, whose keys are ``keys``. What
    schedules the name rewords it for its caller (:meth:`reworded`): a Scheduler says how to
    make it a target, a config how to declare it, a preview does not call its stand-in
    optimizer the user's.

    >>> str(NotAHyperparameter.of("kl_weight", 0, ["lr", "momentum"]))
    "'kl_weight' is not a hyperparameter of param group 0 (it has: lr, momentum)"
    """

    name: str = ""
    index: int = 0
    keys: tuple[str, ...] = ()

    @classmethod
    def of(cls, name: str, index: int, keys: list[str],
           message: str | None = None) -> NotAHyperparameter:
        """The error for ``name`` in group ``index``; ``message`` says it (by default, which
        group lacks it and the keys it has)."""
        exc = cls(message or f"{name!r} is not a hyperparameter of param group {index} "
                             f"(it has: {', '.join(keys)})")
        exc.name, exc.index, exc.keys = name, index, tuple(keys)
        return exc

    def reworded(self, message: str) -> NotAHyperparameter:
        """The same mistake, said as ``message``."""
        return self.of(self.name, self.index, list(self.keys), message)


def as_float(value: Any) -> float:
    """A hyperparameter's value as a Python float (tensors are read with ``item``)."""
    if isinstance(value, torch.Tensor):
        return float(value.item())
    return float(value)


def read_groups(name: str, groups: Sequence[dict[str, Any]]) -> list[float | None]:
    """What every group holds for the hyperparameter ``name``, as a float (None for a group
    without it): what a scheduler's ``current_values()`` reports.

    >>> read_groups("momentum", [{"lr": 0.1, "betas": (0.9, 0.999)}, {"lr": 0.1}])
    [0.9, None]
    """
    out: list[float | None] = []
    for i, group in enumerate(groups):
        try:
            out.append(as_float(resolve(name, group, i).read(group)))
        except ValueError:
            out.append(None)
    return out
