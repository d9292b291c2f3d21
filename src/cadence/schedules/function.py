"""A user's own function of the step, as a schedule."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cadence.config.registry import register
from cadence.schedules.base import Schedule


@register("lambda")
@dataclass(frozen=True)
class Lambda(Schedule):
    """Wrap ``fn(step) -> number``. ``fn`` receives an int when the step is whole.

    A Lambda is not serialisable: :meth:`to_config` raises, and it pickles only if ``fn`` does
    (a module-level function does, a ``lambda`` does not). Arrays are evaluated one element at
    a time. For a config-friendly shape, register a :class:`Schedule` subclass instead.

    >>> Lambda(lambda step: 0.95 ** (step // 10))(25)
    0.9025
    """

    fn: Callable[[Any], float]

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise TypeError(f"'fn' must be callable (got {self.fn!r})")

    def _call(self, t: float) -> float:
        value = self.fn(int(t) if t.is_integer() else t)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"the function {self._name()} must return a number (got {value!r} at step {t!r})"
            ) from None

    def _name(self) -> str:
        return getattr(self.fn, "__qualname__", repr(self.fn))

    def _eval(self, t: Any, xp: Any) -> Any:
        if not xp.is_array:
            return self._call(t)
        out = np.fromiter((self._call(float(x)) for x in t.flat), dtype=np.float64, count=t.size)
        return out.reshape(t.shape)

    def __reduce__(self) -> tuple[Any, ...]:
        try:
            pickle.dumps(self.fn)
        except Exception as exc:
            raise pickle.PicklingError(
                f"Lambda({self._name()}) cannot be pickled: its function {self._name()!r} is not "
                f"importable by name ({exc}); use a module-level function"
            ) from None
        return (Lambda, (self.fn,))

    def __deepcopy__(self, memo: dict[int, Any]) -> Lambda:
        return self  # immutable; copying never needs to pickle the function

    def to_config(self) -> dict[str, Any]:
        raise TypeError(
            f"Lambda({self._name()}) wraps a Python function and has no config form; "
            "register a Schedule subclass (cadence.config.register) to make it serialisable"
        )
