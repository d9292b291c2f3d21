"""The two evaluation back ends every formula is written against.

A shape's formula is written once, as ``_eval(t, xp)``, in terms of the operations below. With
``xp = SCALAR`` it runs on one Python float through :mod:`math` (fast: about a microsecond for a
composite schedule); with ``xp = ARRAY`` it runs on a float64 array through numpy, with no loop
over elements. The scalar back end follows IEEE results where :mod:`math` would raise
(``exp`` of a large number is ``inf``, ``log(0)`` is ``-inf``), as numpy does, so both back ends
take the same branches. ``cos``, ``sin``, ``sqrt`` and whole-number powers (``int_power``) give
bit-equal results in both; numpy's vectorised ``exp``, ``log`` and ``pow`` of other arguments may
differ from the C library's in the last bit.

>>> SCALAR.where(2.0 > 1.0, 3.0, 4.0), float(ARRAY.where(np.array(2.0) > 1.0, 3.0, 4.0))
(3.0, 3.0)
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

TABLE_LIMIT = 4096


class _Scalar:
    """Operations on Python floats."""

    is_array = False
    pi = math.pi
    cos = staticmethod(math.cos)
    sin = staticmethod(math.sin)
    sqrt = staticmethod(math.sqrt)
    fmod = staticmethod(math.fmod)

    @staticmethod
    def floor(x: float) -> float:
        return float(math.floor(x)) if math.isfinite(x) else x  # inf and NaN as numpy keeps them

    @staticmethod
    def where(cond: bool, a: float, b: float) -> float:
        return a if cond else b

    @staticmethod
    def minimum(a: float, b: float) -> float:
        return a if a < b else b

    @staticmethod
    def maximum(a: float, b: float) -> float:
        return a if a > b else b

    @staticmethod
    def full(t: float, value: float) -> float:
        return value

    @staticmethod
    def power(a: float, b: float) -> float:
        try:
            return float(a**b)
        except ZeroDivisionError:  # 0.0 ** negative
            return math.inf
        except OverflowError:
            return math.inf

    int_power = power

    @staticmethod
    def exp(x: float) -> float:
        try:
            return math.exp(x)
        except OverflowError:
            return math.inf

    @staticmethod
    def expm1(x: float) -> float:
        try:
            return math.expm1(x)
        except OverflowError:
            return math.inf

    @staticmethod
    def log(x: float) -> float:
        return math.log(x) if x > 0.0 else -math.inf

    @staticmethod
    def log1p(x: float) -> float:
        return math.log1p(x) if x > -1.0 else -math.inf

    @staticmethod
    def count_le(edges: Sequence[float], x: float) -> float:
        """How many of the sorted ``edges`` are <= x."""
        return float(bisect.bisect_right(edges, x))


class _Array:
    """The same operations on float64 numpy arrays."""

    is_array = True
    pi = math.pi
    cos = staticmethod(np.cos)
    sin = staticmethod(np.sin)
    sqrt = staticmethod(np.sqrt)
    fmod = staticmethod(np.fmod)
    floor = staticmethod(np.floor)
    where = staticmethod(np.where)
    minimum = staticmethod(np.minimum)
    maximum = staticmethod(np.maximum)
    power = staticmethod(np.power)
    exp = staticmethod(np.exp)
    expm1 = staticmethod(np.expm1)
    log = staticmethod(np.log)
    log1p = staticmethod(np.log1p)

    @staticmethod
    def full(t: np.ndarray, value: float) -> np.ndarray:
        return np.full(np.shape(t), value, dtype=np.float64)

    @staticmethod
    def int_power(base: float, k: np.ndarray) -> np.ndarray:
        """``base ** k`` for whole-number ``k``, bit-equal to the scalar back end: the few
        distinct powers are computed by the C library and looked up."""
        if np.ndim(k) == 0:
            return _Scalar.power(base, float(k))  # type: ignore[return-value]
        if k.size == 0:
            return np.empty(k.shape)
        low, high = float(k.min()), float(k.max())
        if high - low <= TABLE_LIMIT:
            table = np.array([_Scalar.power(base, low + j) for j in range(int(high - low) + 1)])
            return table[(k - low).astype(np.intp)]
        exponents, index = np.unique(k, return_inverse=True)
        if exponents.size <= TABLE_LIMIT:
            return np.array([_Scalar.power(base, float(e)) for e in exponents])[index]
        return np.power(base, k)  # many distinct powers: may differ in the last bit

    @staticmethod
    def count_le(edges: Sequence[float], x: np.ndarray) -> Any:
        return np.searchsorted(np.asarray(edges, dtype=np.float64), x, side="right").astype(
            np.float64
        )


SCALAR: Any = _Scalar()
ARRAY: Any = _Array()
