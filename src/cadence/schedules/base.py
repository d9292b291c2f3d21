"""The :class:`Schedule` base class: a pure function of the training step.

A schedule maps a step ``t >= 0`` (the number of optimizer updates already taken; fractions are
allowed) to a value. It is an immutable value: printable, comparable, picklable, and written to
a config with :meth:`Schedule.to_config`. Called on one step it returns a Python float; called
on a numpy array (or list) of steps it returns a float64 array of the same shape, computed by
the same formula without a Python loop.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from typing import Any, ClassVar, NamedTuple

import numpy as np

from cadence.config.io import dataclass_config
from cadence.schedules.ops import ARRAY, SCALAR
from cadence.validation import InvalidType, InvalidValue, is_real

_INF = math.inf
CHUNK = 1 << 15
MAX_MARKS = 256
# The largest float: a combinator whose inner time overflows (``Stretch(s, factor=1e-300)``
# at step 1e10, ``Offset(s, steps=1e308)`` at step 1e308) evaluates its schedule there, as the
# public call would at the largest step it accepts, rather than at inf (where a periodic shape
# has no value).
LAST_STEP = sys.float_info.max


class Mark(NamedTuple):
    """A landmark of a schedule: where a phase ends (``"phase"``), a cycle restarts
    (``"restart"``) or a step decay drops (``"milestone"``). ``Schedule.marks(horizon)`` lists
    them; plots draw them and ``describe`` names them.

    >>> from cadence.schedules import Linear, Step, join
    >>> lr = join([Linear(start=0.0, end=1.0, steps=100), Step(every=300, gamma=0.1)],
    ...           boundaries=[100])
    >>> lr.marks(800)[:2]
    [Mark(step=100.0, kind='phase'), Mark(step=400.0, kind='milestone')]
    """

    step: float
    kind: str


def tidy(marks: Iterable[Mark], horizon: float) -> list[Mark]:
    """Marks in ``(0, horizon]``, sorted, without repeats, at most ``MAX_MARKS``; a mark at
    an infinite step (a phase that never ends) is left out."""
    kept = sorted({m for m in marks if 0 < m.step <= horizon and m.step < _INF})
    return kept[:MAX_MARKS]


def repeats(horizon: float, every: float) -> int:
    """How many whole periods of ``every`` steps fit in ``horizon``, at most ``MAX_MARKS``:
    the number of marks a periodic shape has there. A period too short for the quotient to
    be a float (``1e6 // 5e-324`` is inf), or an infinite horizon, gives ``MAX_MARKS``.

    >>> repeats(1000.0, 300), repeats(10.0, 5e-324)
    (3, 256)
    """
    count = horizon // every
    return int(count) if count < MAX_MARKS else MAX_MARKS  # NaN and inf fail the test


def _bad_step(step: object) -> Exception:
    if isinstance(step, bool) or not is_real(step):
        return InvalidType(f"'step' must be a finite number >= 0 or an array of them "
                           f"(got {step!r})")
    return InvalidValue(f"'step' must be a finite number >= 0 (got {step!r})")


def as_step_array(step: Any) -> np.ndarray:
    """Steps as a float64 array, refusing negative, NaN, infinite and non-numeric entries."""
    t = np.asarray(step)
    if t.dtype.kind not in "iuf":
        raise InvalidType(
            f"'step' must be a finite number >= 0 or an array of them (got an array of {t.dtype})"
        )
    t = t.astype(np.float64, copy=False)
    if t.size and not (t.min() >= 0 and t.max() < _INF):  # NaN fails both
        bad = ~((t >= 0) & (t < _INF))
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        index = first[0] if len(first) == 1 else first
        raise InvalidValue(
            f"'step' must be finite and >= 0 everywhere (got {float(t[first])!r} at index {index})"
        )
    return t


class Schedule:
    """Base class of every schedule. Subclasses are frozen dataclasses that implement
    ``_eval(t, xp)``: the formula on a float (``xp`` is ``ops.SCALAR``) or on a float64 array
    (``xp`` is ``ops.ARRAY``), for ``t >= 0``.

    Schedules compose with operators: ``a * b`` is their :class:`~cadence.schedules.Product`,
    ``k * a`` and ``a / k`` scale, ``a + c`` and ``a - c`` shift.

    >>> from cadence.schedules import Linear
    >>> s = 2 * Linear(start=0.0, end=1.0, steps=10) + 0.5
    >>> s(5), s([0, 10, 20]).tolist()
    (1.5, [0.5, 2.5, 2.5])
    """

    type_name: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "evaluate" not in cls.__dict__:
            # the formula itself, not a call of it: the binding core evaluates once per step
            setattr(cls, "evaluate", cls._eval)  # noqa: B010

    def _eval(self, t: Any, xp: Any) -> Any:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def evaluate(self, t: Any, xp: Any) -> Any:
        """The formula at ``t``, without the checks and conversions of a call: ``t`` a float
        >= 0 with ``xp = ops.SCALAR``, or a float64 array of them with ``xp = ops.ARRAY``. A
        subclass defines the formula as ``_eval``; this is its public name, for the code that
        evaluates schedules many times a step (the binding core, the drop-ins' chaining).

        >>> from cadence.schedules import Linear
        >>> from cadence.schedules.ops import SCALAR
        >>> Linear(start=1.0, end=0.0, steps=10).evaluate(5.0, SCALAR)
        0.5
        """
        return self._eval(t, xp)

    def __call__(self, step: Any) -> Any:
        """The value at ``step`` (a float), or at every step of an array (a float64 array)."""
        kind = type(step)
        if kind is int or kind is float:
            if 0 <= step < _INF:
                return float(self._eval(float(step), SCALAR))
            raise _bad_step(step)
        if isinstance(step, (np.ndarray, list, tuple)):
            return self._eval_array(as_step_array(step))
        if is_real(step) and not isinstance(step, bool):  # numpy scalars
            return self(float(step))
        raise _bad_step(step)

    def _eval_array(self, t: np.ndarray) -> np.ndarray:
        # Blocks of CHUNK steps keep numpy's temporaries in cache: twice as fast on 10**6 steps.
        flat = t.reshape(-1)
        out = np.empty(flat.size, dtype=np.float64)
        with np.errstate(all="ignore"):  # formulas compute both sides of a where
            for a in range(0, flat.size, CHUNK):
                out[a : a + CHUNK] = self._eval(flat[a : a + CHUNK], ARRAY)
        return out.reshape(t.shape)

    def marks(self, horizon: float) -> list[Mark]:
        """The landmarks in ``(0, horizon]``: phase ends, restarts, milestones (see
        :class:`Mark`). Plots draw them; ``describe`` lists them."""
        return []

    def to_config(self) -> dict[str, Any]:
        """A JSON-safe dict with a ``type`` key; :func:`cadence.from_config` rebuilds it."""
        return dataclass_config(self)

    # -- algebra -------------------------------------------------------------------------------
    def __mul__(self, other: object) -> Schedule:
        from cadence.schedules.combinators import Product, Scale

        if isinstance(other, Schedule):
            left = self.schedules if isinstance(self, Product) else (self,)
            right = other.schedules if isinstance(other, Product) else (other,)
            return Product(left + right)
        if is_real(other):
            return Scale(self, float(other))  # type: ignore[arg-type]
        return NotImplemented

    def __rmul__(self, other: object) -> Schedule:
        return self.__mul__(other)

    def __truediv__(self, other: object) -> Schedule:
        if is_real(other):
            return self.__mul__(1.0 / float(other))  # type: ignore[arg-type]
        return NotImplemented

    def __add__(self, other: object) -> Schedule:
        from cadence.schedules.combinators import Shift, Sum

        if isinstance(other, Schedule):
            left = self.schedules if isinstance(self, Sum) else (self,)
            right = other.schedules if isinstance(other, Sum) else (other,)
            return Sum(left + right)
        if is_real(other):
            return Shift(self, float(other))  # type: ignore[arg-type]
        return NotImplemented

    def __radd__(self, other: object) -> Schedule:
        return self.__add__(other)

    def __neg__(self) -> Schedule:
        return self.__mul__(-1.0)

    def __sub__(self, other: object) -> Schedule:
        if isinstance(other, Schedule):
            return self.__add__(-other)
        if is_real(other):
            return self.__add__(-float(other))  # type: ignore[arg-type]
        return NotImplemented

    def __rsub__(self, other: object) -> Schedule:
        if is_real(other):  # ``1 - schedule``
            return (-self).__add__(other)
        return NotImplemented


class Composed(Schedule):
    """A schedule made of other schedules: ``__post_init__`` builds them into one (usually a
    ``join`` of phases) and keeps it as ``_built``, whose values and landmarks it has."""

    _built: Schedule

    def _eval(self, t: Any, xp: Any) -> Any:
        return self._built._eval(t, xp)

    def marks(self, horizon: float) -> list[Mark]:
        return self._built.marks(horizon)


def set_field(obj: object, name: str, value: object) -> None:
    """Normalise a field of a frozen dataclass in ``__post_init__``."""
    object.__setattr__(obj, name, value)
