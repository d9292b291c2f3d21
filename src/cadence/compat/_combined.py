"""PyTorch's ``SequentialLR`` and ``ChainedScheduler`` as drop-ins: PyTorch's classes and their
rules (each child steps itself; SequentialLR starts a child at its milestone from the child's
closed form at 0), with cadence's read API (their closed form is the ``join`` or the product of
the children's) and one addition: a ``ReduceLROnPlateau`` child, which PyTorch refuses, takes
the metric given to ``step(metrics)``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

import torch
from torch.optim import lr_scheduler as T

from cadence.compat import legacy, resume
from cadence.compat._torch_base import LRScheduler, check_last_epoch, check_optimizer, write_lrs
from cadence.compat.torch_shapes import absolute_values
from cadence.scheduler import writers
from cadence.scheduler.plan import group_values
from cadence.scheduler.track import ABSOLUTE, RELATIVE, Track
from cadence.schedules import Constant, Scale, Schedule, join, product
from cadence.validation import InvalidType, InvalidValue, check_non_negative, check_sequence


def _check_children(kind: str, schedulers: Sequence[Any],
                    optimizer: torch.optim.Optimizer) -> list[Any]:
    """PyTorch's checks on the children (a plateau child is allowed here), in its words, with
    the argument named."""
    items = list(check_sequence("schedulers", schedulers, "a list of schedulers"))
    if not items:
        raise InvalidValue(f"{kind} expects at least one scheduler, but got no scheduler "
                           f"('schedulers' is {schedulers!r}).")
    for i, s in enumerate(items):
        if not hasattr(s, "optimizer"):
            raise InvalidType(f"{kind} at index {i} should have `optimizer` as its attribute "
                              f"('schedulers'[{i}] is {s!r}).")
        if s.optimizer is not optimizer:
            raise InvalidValue(
                f"{kind} expects all schedulers to belong to the same optimizer, but got "
                f"scheduler {type(s).__name__} at index {i} has {s.optimizer}, which is "
                f"different from {type(optimizer).__name__}.")
    return items


def _is_plateau(scheduler: Any) -> bool:
    return isinstance(scheduler, T.ReduceLROnPlateau)


def _lr_track(scheduler: Any) -> Track | None:
    tracks = scheduler._tracks() if isinstance(scheduler, LRScheduler) else []
    return next((t for t in tracks if t.name == "lr"), None)


def _check_children_state(scheduler: Any, state: object) -> None:
    """A container's state holds one state (a dict) per child, under ``_schedulers``, which
    PyTorch's ``load_state_dict`` hands to each child (which checks its own)."""
    if not isinstance(state, dict):
        raise InvalidType(f"'state_dict' must be a dict (got {type(state).__name__})")
    children = state.get("_schedulers", [])
    if not isinstance(children, list) or len(children) != len(scheduler._schedulers) or not all(
            isinstance(c, dict) for c in children):
        count = len(scheduler._schedulers)
        raise InvalidType(f"state_dict['_schedulers'] must be a list of {count} scheduler "
                          f"states (dicts), one per child (got {children!r})")
    if "_milestones" in state:  # SequentialLR's
        marks = state["_milestones"]
        wanted = len(scheduler._schedulers) - 1
        if not isinstance(marks, list) or len(marks) != wanted:
            raise InvalidType(f"state_dict['_milestones'] must be a list of {wanted} epochs, one "
                              f"fewer than the schedulers (got {marks!r})")
        numbers = [check_non_negative("_milestones", m) for m in marks]
        if numbers != sorted(numbers):
            raise InvalidValue(f"state_dict['_milestones'] must be non-decreasing (got {marks!r})")


def _children_values(self: Any) -> list[Any]:
    """A container's loaded state: each child checks its own (PyTorch's load_state_dict hands
    each its part), and the container's read API must work."""
    return list(self.value_at(max(float(self.current_step), 0.0)).get("lr", []))


class SequentialLR(LRScheduler, T.SequentialLR):
    """The schedulers one after another, switching at ``milestones``; each starts from its own
    step 0 (its closed form there).

    PyTorch's arguments: ``optimizer``, ``schedulers``, ``milestones``, ``last_epoch=-1``.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> warmup = LinearLR(opt, start_factor=0.1, total_iters=10)
    >>> cosine = CosineAnnealingLR(opt, T_max=90)
    >>> sched = SequentialLR(opt, [warmup, cosine], milestones=[10])
    >>> for _ in range(10):
    ...     opt.step(); sched.step()
    ...
    >>> sched.get_last_lr()
    [0.1]
    >>> sched.value_at([0, 5, 10, 55, 100])["lr"][:, 0].round(6).tolist()
    [0.01, 0.055, 0.1, 0.05, 0.0]
    """

    def __init__(self, optimizer: torch.optim.Optimizer, schedulers: list[Any],
                 milestones: list[int], last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        check_optimizer(optimizer)
        check_last_epoch(last_epoch)
        self._schedulers = _check_children("SequentialLR", schedulers, optimizer)
        milestones = list(check_sequence("milestones", milestones, "a list of epochs"))
        if len(milestones) != len(self._schedulers) - 1:
            raise InvalidValue(
                "Sequential Schedulers expects number of schedulers provided to be one more "
                f"than the number of milestone points, but got number of schedulers "
                f"{len(self._schedulers)} and the number of milestones to be equal to "
                f"{len(milestones)} ('milestones' is {milestones!r})")
        marks = [check_non_negative("milestones", m) for m in milestones]
        if marks != sorted(marks):
            raise InvalidValue(f"'milestones' must be non-decreasing (got {list(milestones)})")
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        groups = optimizer.param_groups
        write_lrs(groups, [g["initial_lr"] for g in groups])  # back to the bases
        self.recursive_undo()  # the children's own first steps do not count
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()
        self._built = resume.built(self)
        writers.claim(self)

    _loaded_values = _children_values

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """PyTorch's rule: the container's own entries, then each child's state in turn."""
        if legacy.load(self, state_dict):  # a state of cadence 0.1.0, converted
            return
        _check_children_state(self, state_dict)
        super().load_state_dict(state_dict)

    def _exact_values(self) -> dict[str, list[Any]] | None:
        """The children's closed forms joined (not with a plateau child: it has none)."""
        if any(_is_plateau(s) or _lr_track(s) is None for s in self._schedulers):
            return None
        return self.value_at(float(self.last_epoch)) if self.last_epoch >= 0 else {}

    def step(self, metrics: Any = None) -> None:
        """Advance one step; ``metrics`` feeds a ReduceLROnPlateau child."""
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        elif _is_plateau(scheduler):
            if metrics is not None:
                scheduler.step(metrics)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def _tracks(self) -> list[Track]:
        """The children's closed forms joined at the milestones (a child whose window is empty
        never runs)."""
        starts = [0, *self._milestones]
        active = [(s, start) for i, (s, start) in enumerate(zip(self._schedulers, starts))
                  if i + 1 >= len(starts) or starts[i + 1] > start]
        parts = [_lr_track(s) for s, _ in active]
        bases = [float(g["initial_lr"]) for g in self.optimizer.param_groups]
        per_group: list[Schedule | None] = []
        for g, base in enumerate(bases):
            pieces = [Constant(base) if p is None else absolute_values(p)[g] for p in parts]
            marks = [start for _, start in active[1:]]
            per_group.append(join(pieces, marks) if marks else pieces[0])  # type: ignore[arg-type]
        return [Track("lr", per_group, bases, ABSOLUTE)]


class ChainedScheduler(LRScheduler, T.ChainedScheduler):
    """The schedulers stepped together, each moving what the previous ones left (PyTorch's
    chaining); their closed forms multiply.

    PyTorch's arguments: ``schedulers``, ``optimizer=None``.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import ChainedScheduler, ConstantLR, ExponentialLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> sched = ChainedScheduler([ConstantLR(opt, factor=0.5, total_iters=2),
    ...                           ExponentialLR(opt, gamma=0.9)])
    >>> lrs = []
    >>> for _ in range(3):
    ...     opt.step(); sched.step(); lrs.append(round(sched.get_last_lr()[0], 6))
    ...
    >>> lrs
    [0.045, 0.081, 0.0729]
    """

    def __init__(self, schedulers: Sequence[Any],
                 optimizer: torch.optim.Optimizer | None = None) -> None:
        items = check_sequence("schedulers", schedulers, "a list of schedulers")
        if len(items) < 1:
            raise InvalidValue("ChainedScheduler expects at least one scheduler to be chained, "
                               f"but got no scheduler ('schedulers' is {schedulers!r}).")
        target: Any = optimizer if optimizer is not None else getattr(items[0], "optimizer", None)
        check_optimizer(target)
        self._schedulers = _check_children("ChainedScheduler", items, target)
        self.optimizer = target
        self._last_lr = group_values(self._schedulers[-1].optimizer.param_groups, "lr")
        self._built = resume.built(self)
        writers.claim(self)

    _loaded_values = _children_values

    def _counter(self) -> Any:
        return tuple(getattr(s, "last_epoch", None) for s in self._schedulers)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """PyTorch's rule: the container's own entries, then each child's state in turn."""
        if legacy.load(self, state_dict):  # a state of cadence 0.1.0, converted
            return
        _check_children_state(self, state_dict)
        super().load_state_dict(state_dict)

    def step(self, metrics: Any = None) -> None:
        """Step every child; ``metrics`` feeds a ReduceLROnPlateau child."""
        for scheduler in self._schedulers:
            if not _is_plateau(scheduler):
                scheduler.step()
            elif metrics is not None:
                scheduler.step(metrics)
        self._last_lr = group_values(self._schedulers[-1].optimizer.param_groups, "lr")

    @property
    def current_step(self) -> Any:
        """The first child's step (PyTorch's ChainedScheduler keeps none of its own)."""
        return getattr(self._schedulers[0], "last_epoch", 0)

    def _tracks(self) -> list[Track]:
        """The product of the children's closed forms, as factors of each group's base."""
        bases = [float(g["initial_lr"]) for g in self.optimizer.param_groups]
        per_group: list[Schedule | None] = []
        parts = [_lr_track(s) for s in self._schedulers]
        for g, base in enumerate(bases):
            factors: list[Schedule] = []
            for part in parts:
                if part is None:
                    continue
                value = absolute_values(part)[g]
                if value is not None:
                    factors.append(Scale(value, 1.0 / base) if base else Constant(0.0))
            per_group.append(product(factors) if factors else Constant(1.0))
        return [Track("lr", per_group, bases, RELATIVE)]
