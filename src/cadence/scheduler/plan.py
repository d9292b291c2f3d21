"""The plan of writes: where each value of one hyperparameter goes in the param groups.

A :class:`Writes` is prepared once per layout of the groups (the optimizer's list of group
dicts) and then reads and writes a whole list of values at a time. Each value goes where the
group holds it (:mod:`cadence.scheduler.slots`): a float key is assigned; a tensor is updated in
place, keeping its dtype, device and identity (a one-element CPU tensor through a numpy view of
its storage, 15x faster than ``fill_``; several other tensors in one foreach call); ``betas``
entries rebuild the tuple.

The step's common case, one schedule over float values in every group, is
:meth:`Writes.write_scaled`: each group's ``low + span * f`` for the schedule's value ``f``,
made by numpy for many groups at once (bit for bit Python's) and written in one C loop.
"""

from __future__ import annotations

import array
import operator
import sys
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from typing import Any

import numpy as np
import torch

from cadence.scheduler.slots import Slot, resolve

_VIEWABLE = {torch.float32: np.float32, torch.float64: np.float64, torch.float16: np.float16}
_FOREACH_MIN = 8  # from this many tensors on, one foreach call beats fill_ per tensor
# from this many groups on, numpy and a C loop write ``low + span * f`` faster than a loop
_ROWS_MIN, _ROWS_MIN_FLOORED = 256, 64
_HUGE = sys.float_info.max / 4
_multiply, _add = np.multiply, np.add
_consume: Callable[[Iterable[Any]], None] = deque(maxlen=0).extend  # runs an iterator out


class Writes:
    """Where hyperparameter ``name`` lives in the groups ``indices`` of ``groups``; values are
    given and returned in that order."""

    __slots__ = ("_ends", "_rows", "complete", "exact", "floats", "groups", "indices", "items",
                 "name", "plain", "tensors", "views")

    def __init__(self, name: str, groups: Sequence[dict[str, Any]],
                 indices: Sequence[int]) -> None:
        self.name = name
        self.indices = list(indices)
        self.floats: list[tuple[int, dict[str, Any], str]] = []
        self.views: list[tuple[int, np.ndarray, Any, torch.Tensor]] = []
        self.tensors: list[tuple[int, torch.Tensor]] = []
        self.items: list[tuple[int, dict[str, Any], Slot]] = []
        for position, index in enumerate(self.indices):
            group = groups[index]
            if type(group.get(name)) is float:  # the common case, without a Slot
                self.floats.append((position, group, name))
                continue
            slot = resolve(name, group, index)
            current = slot.read(group)
            if isinstance(current, torch.Tensor) and _shared(group, slot, current):
                current = current.detach().clone()  # written in place, it would change the other
                slot.replace(group, current)
            if isinstance(current, torch.Tensor):
                dtype = _VIEWABLE.get(current.dtype)
                if (dtype is not None and current.device.type == "cpu"
                        and not current.requires_grad and current.numel() == 1):
                    self.views.append((position, current.detach().numpy(), dtype, current))
                else:
                    self.tensors.append((position, current))
            elif slot.index is None:
                self.floats.append((position, group, slot.key))
            else:
                self.items.append((position, group, slot))
        self.plain = len(self.floats) == len(self.indices)  # float keys only
        self.complete = self.indices == list(range(len(groups)))  # every group, in order
        self.exact = not self.views and not self.tensors  # holds exactly what is written
        # float values in every group: read and written through the optimizer's own list, so
        # a group dict replaced in it later is the one written
        self.groups = groups if self.complete and self.plain else [
            group for _, group, _ in self.floats]
        self._ends: Any = None  # the track's ends that _rows were made from
        self._rows: _Rows | None = None

    def __len__(self) -> int:
        return len(self.indices)

    def read(self) -> list[float]:
        """What each group holds now, as numbers (tensors read as floats)."""
        if self.plain:
            key = self.name
            return [group[key] for group in self.groups]
        out = [0.0] * len(self.indices)
        for position, group, key in self.floats:
            out[position] = float(group[key])
        for position, view, _, _ in self.views:
            out[position] = float(view.reshape(-1)[0])
        for position, tensor in self.tensors:
            out[position] = float(tensor.item())
        for position, group, slot in self.items:
            out[position] = float(slot.read(group))
        return out

    def held(self, values: Sequence[float]) -> list[float]:
        """``values`` as the groups would hold them once written (rounded to a tensor's dtype),
        so they compare exactly with :meth:`read`."""
        if self.exact:
            return list(values)
        out = list(values)
        for position, _, dtype, _ in self.views:
            out[position] = float(dtype(out[position]))
        for position, tensor in self.tensors:
            out[position] = float(torch.tensor(out[position], dtype=tensor.dtype).item())
        return out

    def write_all(self, values: Sequence[float]) -> None:
        """Write one value into every group (none is None)."""
        if self.plain:
            key = self.name
            for group, value in zip(self.groups, values):
                group[key] = value
        else:
            self.write(values)

    def write_scaled(self, f: float, track: Any) -> None:
        """Write ``low + span * f`` into each group, with the track's ends: float values only
        (``exact``), every group (``complete``).

        A few groups: a loop, one multiplication (and one addition with a floor) per group.
        Many groups: numpy makes every value at once in a buffer (the same IEEE double
        operations, so the same bits) and the groups are written from it in one C loop;
        the arrays are made once per set of ends (``track.ends()``, new when the bases change).
        """
        key, groups = self.name, self.groups
        ends = track._ends or track.ends()
        if ends is not self._ends:
            self._ends, self._rows = ends, _Rows.of(ends, track.floored)
        rows = self._rows
        if rows is not None and -rows.bound <= f <= rows.bound:  # no value can overflow
            try:
                _multiply(rows.spans, f, out=rows.out)
                if rows.lows is not None:
                    _add(rows.lows, rows.out, out=rows.out)
            except FloatingPointError:  # np.seterr(under="raise"): Python's loop makes them
                pass
            else:
                _consume(map(operator.setitem, groups, repeat(key), rows.values))
                return
        lows, spans = ends
        if len(groups) == 1:
            groups[0][key] = lows[0] + spans[0] * f if track.floored else spans[0] * f
        elif track.floored:
            for group, low, span in zip(groups, lows, spans):
                group[key] = low + span * f
        else:
            for group, span in zip(groups, spans):
                group[key] = span * f

    def write(self, values: Sequence[Any]) -> None:
        """Write one value per group (a None leaves that group alone)."""
        if self.plain:
            key = self.name
            for group, value in zip(self.groups, values):
                if value is not None:
                    group[key] = value
            return
        for position, group, key in self.floats:
            if values[position] is not None:
                group[key] = values[position]
        for position, view, _, _ in self.views:
            if values[position] is not None:
                view[...] = values[position]
        if self.tensors:
            _fill([(t, values[p]) for p, t in self.tensors if values[p] is not None])
        for position, group, slot in self.items:
            if values[position] is not None:
                slot.write(group, values[position])


class _Rows:
    """A track's ends as arrays, and the buffer one step's values are made in: numpy computes
    ``span * f`` (and ``low +`` it, with a floor) for every group, IEEE double operations as
    Python's own, into ``out``, a view of the ``array.array`` ``values`` whose iteration
    yields each value as a Python float. For ``|f| <= bound`` no value overflows, so numpy
    has nothing to warn of where Python is silent."""

    __slots__ = ("bound", "lows", "out", "spans", "values")

    def __init__(self, lows: np.ndarray | None, spans: np.ndarray, bound: float) -> None:
        self.lows, self.spans, self.bound = lows, spans, bound
        self.values = array.array("d", bytes(8 * len(spans)))
        self.out = np.frombuffer(self.values, dtype=np.float64)  # a view of ``values``

    def __reduce__(self) -> tuple[Any, ...]:  # a copy gets its own buffer, and its view of it
        return (_Rows, (self.lows, self.spans, self.bound))

    @classmethod
    def of(cls, ends: tuple[list[float], list[float]], floored: bool) -> _Rows | None:
        """The rows for ``ends``, or None where a loop is as fast (few groups) or an end is
        not finite."""
        lows, spans = ends
        if len(spans) < (_ROWS_MIN_FLOORED if floored else _ROWS_MIN):
            return None
        low, span = np.array(lows, dtype=np.float64), np.array(spans, dtype=np.float64)
        top = float(max(np.abs(low).max(), np.abs(span).max()))
        if not np.isfinite(top):
            return None
        # |low + span * f| <= top + top * bound <= top + _HUGE: finite
        bound = min(_HUGE / top, sys.float_info.max) if top else sys.float_info.max
        return cls(low if floored else None, span, bound)


def _shared(group: dict[str, Any], slot: Slot, tensor: torch.Tensor) -> bool:
    """True when another key of the group holds the same tensor object (PyTorch's CyclicLR and
    OneCycleLR put ``max_momentum`` itself into ``momentum``)."""
    return any(value is tensor for key, value in group.items()
               if key != slot.key and key != "params")


def _fill(pairs: list[tuple[torch.Tensor, float]]) -> None:
    """Tensors off the CPU (or needing autograd's bookkeeping): one foreach call for many."""
    with torch.no_grad():
        if len(pairs) >= _FOREACH_MIN:
            items = [tensor for tensor, _ in pairs]
            torch._foreach_zero_(items)
            torch._foreach_add_(items, [value for _, value in pairs])
        else:
            for tensor, value in pairs:
                tensor.fill_(value)


def group_values(groups: Sequence[dict[str, Any]], key: str) -> list[Any]:
    """What every group holds for ``key``, as it holds it (tensors cloned, so the list never
    aliases the groups): PyTorch's ``get_last_lr()``."""
    return [g[key].clone() if isinstance(g[key], torch.Tensor) else g[key] for g in groups]


def layout_changed(groups: list[dict[str, Any]], known: list[dict[str, Any]]) -> bool:
    """True when the optimizer's groups are not the ones a plan was made for (groups added,
    or replaced by ``optimizer.load_state_dict``)."""
    return len(groups) != len(known) or not all(map(operator.is_, groups, known))


__all__ = ["Writes", "group_values", "layout_changed"]
