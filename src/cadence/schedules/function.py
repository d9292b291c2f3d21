"""A user's own function of the step, as a schedule: directly, or as a running product."""

from __future__ import annotations

import math
import pickle
import threading
from collections.abc import Callable, Sequence
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
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            raise InvalidType(f"the function {self._name()} must return a finite number "
                              f"(got {value!r} at step {step!r})") from None
        if not math.isfinite(number):
            raise InvalidValue(f"the function {self._name()} must return a finite number "
                               f"(got {value!r} at step {step!r})")
        return number

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
        step = int(t) if t.is_integer() else t
        return self._number(self.fn(step), step)

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

    The value at step ``t`` needs ``t`` calls of ``fn``. To make stepping through ``t`` cost one
    call per step, a :class:`RunningProduct` beside the schedule remembers the product every
    4,096 steps and at the last step asked for: bounded memory, safe when threads share the
    schedule, and never pickled or compared (the schedule's value is ``fn`` alone). Steps
    beyond ``MAX_STEPS`` (10 million) are refused rather than computed. Like :class:`Lambda` it
    has no config form.

    >>> Multiplicative(lambda step: 0.5 if step % 2 == 0 else 1.0)([0, 1, 2, 3, 4]).tolist()
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    fn: Callable[[int], float]

    def _running(self) -> RunningProduct:
        running = self.__dict__.get("_running_product")
        if running is None:  # setdefault is atomic: racing threads end up sharing one
            running = self.__dict__.setdefault("_running_product",
                                               RunningProduct(self.factor_at))
        return running

    def factor_at(self, step: int) -> float:
        """The function's factor at ``step``, ``fn(step)``: a finite number, or an error
        naming the function and the step.

        >>> Multiplicative(lambda step: 0.5 if step % 2 == 0 else 1.0).factor_at(2)
        0.5
        """
        return self._number(self.fn(step), step)

    def _check_step(self, last: int) -> None:
        if last > MAX_STEPS:
            raise InvalidValue(
                f"'step' must be <= {MAX_STEPS:,} for {type(self).__name__}, which calls its "
                f"function at every step up to it (got {last:,})"
            )

    def _eval(self, t: Any, xp: Any) -> Any:
        if not xp.is_array:
            self._check_step(int(t))
            return self._running().at(int(t))
        if t.size == 0:
            return np.empty(t.shape)
        whole = t.astype(np.int64)
        steps, where = np.unique(whole, return_inverse=True)
        self._check_step(int(steps[-1]))
        return np.asarray(self._running().walk(steps.tolist()))[where].reshape(t.shape)


class RunningProduct:
    """``factor(1) * ... * factor(step)``, always multiplied in that order (so every path to a
    step gives the same float), from the nearest of: checkpoints every ``BLOCK`` steps, or the
    last step asked for. Checkpoints are only appended, under a lock, and the last step is
    replaced as one tuple, so threads sharing it never see a half-made product."""

    BLOCK = 4096

    def __init__(self, factor: Callable[[int], float]) -> None:
        self._factor = factor
        self._lock = threading.Lock()
        self._checkpoints = [1.0]  # the product up to step k * BLOCK
        self._last = (0, 1.0)

    def at(self, step: int) -> float:
        start, product = self._from(step, *self._last)
        product = self._multiply(start, product, step)
        self._last = (step, product)
        return product

    def walk(self, steps: Sequence[int]) -> list[float]:
        """The products at ``steps`` (ascending), in one pass."""
        out = []
        start, product = self._last
        for step in steps:
            start, product = self._from(step, start, product)
            product = self._multiply(start, product, step)
            start = step
            out.append(product)
        self._last = (start, product)
        return out

    def _from(self, step: int, start: int, product: float) -> tuple[int, float]:
        """Where to multiply on from: the last step if it is at most a block behind."""
        if start <= step < start + self.BLOCK:
            return start, product
        block = step // self.BLOCK
        return block * self.BLOCK, self._checkpoint(block)

    def _checkpoint(self, block: int) -> float:
        checkpoints = self._checkpoints
        if block >= len(checkpoints):
            with self._lock:
                while len(checkpoints) <= block:
                    start = (len(checkpoints) - 1) * self.BLOCK
                    checkpoints.append(
                        self._multiply(start, checkpoints[-1], start + self.BLOCK))
        return checkpoints[block]

    def _multiply(self, start: int, product: float, step: int) -> float:
        factor = self._factor
        for k in range(start + 1, step + 1):
            product *= factor(k)
        return product
