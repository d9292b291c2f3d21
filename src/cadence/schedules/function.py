"""A user's own function of the step, as a schedule: directly, or as a running product."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cadence.config.registry import register
from cadence.schedules.base import Schedule
from cadence.validation import InvalidType, InvalidValue

MAX_STEPS = 10_000_000


class _UserFunction(Schedule):
    """A schedule around a user's function: validated, named in errors, never in a config."""

    fn: Callable[[Any], float]

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise InvalidType(f"'fn' must be callable (got {self.fn!r})")

    def _name(self) -> str:
        return getattr(self.fn, "__qualname__", repr(self.fn))

    def _number(self, value: object, step: float) -> float:
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InvalidType(
                f"the function {self._name()} must return a number (got {value!r} at step {step!r})"
            ) from None

    def __reduce__(self) -> tuple[Any, ...]:
        try:
            pickle.dumps(self.fn)
        except Exception as exc:
            raise pickle.PicklingError(
                f"{type(self).__name__}({self._name()}) cannot be pickled: its function "
                f"{self._name()!r} is not importable by name ({exc}); use a module-level function"
            ) from None
        return (type(self), (self.fn,))

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return self  # immutable; copying never needs to pickle the function

    def to_config(self) -> dict[str, Any]:
        raise InvalidType(
            f"{type(self).__name__}({self._name()}) wraps a Python function and has no config "
            "form; register a Schedule subclass (cadence.config.register) to make it serialisable"
        )


@register("lambda")
@dataclass(frozen=True)
class Lambda(_UserFunction):
    """Wrap ``fn(step) -> number``. ``fn`` receives an int when the step is whole.

    A Lambda is not serialisable: :meth:`to_config` raises, and it pickles only if ``fn`` does
    (a module-level function does, a ``lambda`` does not). Arrays are evaluated one element at
    a time. For a config-friendly shape, register a :class:`Schedule` subclass instead.

    >>> Lambda(lambda step: 0.95 ** (step // 10))(25)
    0.9025
    """

    fn: Callable[[Any], float]

    def _call(self, t: float) -> float:
        return self._number(self.fn(int(t) if t.is_integer() else t), t)

    def _eval(self, t: Any, xp: Any) -> Any:
        if not xp.is_array:
            return self._call(t)
        out = np.fromiter((self._call(float(x)) for x in t.flat), dtype=np.float64, count=t.size)
        return out.reshape(t.shape)


@register("multiplicative")
@dataclass(frozen=True)
class Multiplicative(_UserFunction):
    """The running product of a user's factor: ``fn(1) * fn(2) * ... * fn(floor(t))`` (1 at
    step 0), PyTorch's ``MultiplicativeLR`` in closed form. ``fn`` receives ints.

    Products already computed are kept, so stepping through ``t`` costs one call of ``fn`` per
    new step; steps beyond ``MAX_STEPS`` (10 million) are refused rather than computed. Like
    :class:`Lambda` it has no config form.

    >>> Multiplicative(lambda step: 0.5 if step % 2 == 0 else 1.0)([0, 1, 2, 3, 4]).tolist()
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    fn: Callable[[int], float]

    def _products(self, last: int) -> list[float]:
        """The prefix products up to step ``last`` (kept between calls)."""
        if last > MAX_STEPS:
            raise InvalidValue(
                f"'step' must be <= {MAX_STEPS:,} for {type(self).__name__}, which calls its "
                f"function at every step up to it (got {last:,})"
            )
        products: list[float] = self.__dict__.setdefault("_prefix", [1.0])
        while len(products) <= last:
            step = len(products)
            products.append(products[-1] * self._number(self.fn(step), step))
        return products

    def _eval(self, t: Any, xp: Any) -> Any:
        if not xp.is_array:
            return self._products(int(t))[int(t)]
        if t.size == 0:
            return np.empty(t.shape)
        whole = t.astype(np.int64)
        return np.asarray(self._products(int(whole.max())))[whole]
