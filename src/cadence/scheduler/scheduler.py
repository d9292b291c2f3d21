"""``cadence.Scheduler``: bind schedules to any hyperparameter of a torch optimizer.

The value written into a param group at step ``t`` is, for a relative hyperparameter (the
default), ``base * schedule(t) * batch * plateau`` and, for an absolute one,
``schedule(t) * batch * plateau``, where ``base`` is the group's value when the scheduler first
saw it, ``batch`` the batch-size factor (lr only, unless asked) and ``plateau`` the multiplier of
a reduce-on-plateau controller. Everything is a closed form of ``t``: resuming is exact.
"""

from __future__ import annotations

import weakref
from collections.abc import Collection, Iterable
from typing import Any

import numpy as np
import torch
from torch.optim.lr_scheduler import LRScheduler as TorchLRScheduler

from cadence.config.io import fingerprint
from cadence.scheduler import chain
from cadence.scheduler.batch import batch_factor, check_batch_size, check_mode
from cadence.scheduler.plateau import ReduceOnPlateau
from cadence.scheduler.selection import Binding
from cadence.scheduler.slots import Slot, as_float, resolve
from cadence.schedules.base import Schedule
from cadence.schedules.ops import SCALAR
from cadence.validation import check_choice, check_non_negative_int, check_positive

STATE_FORMAT = "cadence.Scheduler/1"
COUNTS = ("updates", "calls")
_FOREACH_MIN = 8  # from this many tensors on, one foreach call beats fill_ per tensor


class _UpdateCounter:
    """Optimizer step post-hook: counts real updates for a scheduler, without keeping it alive."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.ref = weakref.ref(scheduler)

    def __call__(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        scheduler = self.ref()
        if scheduler is not None:
            scheduler._pending += 1


# Where each schedule's value goes, prepared once per layout of the param groups. Per schedule:
# (name, index k of the schedule, schedule, absolute, batch-scaled, [(group, base)] for float
#  values, [(numpy view, base)] for CPU tensors, [(tensor, base)] for other tensors,
#  [(group, slot, base)] for float betas).
_Plan = list[tuple[str, int, Schedule, bool, bool, list[Any], list[Any], list[Any], list[Any]]]
_VIEWABLE = (torch.float32, torch.float64, torch.float16)


class Scheduler(TorchLRScheduler):
    """Schedule any hyperparameter of ``optimizer``'s param groups.

    Each keyword names a hyperparameter (``lr``, ``momentum``, ``weight_decay``, or any key of a
    param group; ``momentum`` means ``betas[0]`` on Adam-family optimizers, ``beta1``/``beta2``
    the betas) and gives a :class:`~cadence.schedules.Schedule` (or a number), or a mapping from
    group selectors (index, ``name`` key, or predicate) to schedules.

    - Values are relative to each group's base value unless ``absolute`` is True or names it.
      Bases are captured once (from the group's ``initial_<name>`` key if present, which the
      scheduler also writes) and kept in the state.
    - Construction writes the step-0 values; ``step()`` moves to the next optimizer update.
      With ``count="updates"`` (default) time is the number of real ``optimizer.step()`` calls,
      counted by a step hook: a step skipped by ``GradScaler`` or a ``step()`` call between
      accumulation micro-batches does not advance the schedule. ``count="calls"`` advances on
      every ``step()``, as PyTorch's schedulers do.
    - ``batch_size_mode`` (``"linear"``, ``"sqrt"``, ``"blend"``) scales the hyperparameters in
      ``batch_scaled`` (default: lr only) by the batch size passed to ``step(batch_size)``,
      against ``base_batch_size``.
    - ``plateau``: a :class:`ReduceOnPlateau` controller fed by :meth:`report`.
    - ``start_step``: the step to start at (resuming without a saved state).
    - ``chain=True``: several chained schedulers on one optimizer combine like PyTorch's
      chainable schedulers (see :mod:`cadence.scheduler.chain`); without it, compose schedules
      with ``*`` and give one scheduler per hyperparameter.

    A group added with ``optimizer.add_param_group`` later is picked up at the next call: its
    base is its value then (or its ``initial_<name>``), and the same selectors decide its
    schedule.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        *,
        lr: object = None,
        momentum: object = None,
        weight_decay: object = None,
        absolute: bool | Collection[str] = False,
        batch_size_mode: str | None = None,
        base_batch_size: float | None = None,
        batch_scaled: Iterable[str] = ("lr",),
        plateau: ReduceOnPlateau | None = None,
        count: str = "updates",
        chain: bool = False,
        start_step: int = 0,
        **hyperparameters: object,
    ) -> None:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"'optimizer' must be a torch.optim.Optimizer (got {optimizer!r})")
        self.optimizer = optimizer
        specs = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, **hyperparameters}
        self._bindings = {n: Binding.parse(n, s) for n, s in specs.items() if s is not None}
        if not self._bindings:
            raise ValueError("Scheduler needs at least one hyperparameter to schedule, e.g. lr=...")
        names = set(self._bindings)
        if isinstance(absolute, bool):
            self._absolute = set(names) if absolute else set()
        else:
            self._absolute = set(_check_names("absolute", absolute, names))
        self._batch_mode = check_mode(batch_size_mode)
        if self._batch_mode is not None:
            if base_batch_size is None:
                raise ValueError("'base_batch_size' must be given with 'batch_size_mode'")
            self._base_batch = check_positive("base_batch_size", base_batch_size)
        else:
            self._base_batch = 1.0
        self._batch_scaled = set(_check_names("batch_scaled", batch_scaled, None))
        if plateau is not None:
            if not isinstance(plateau, ReduceOnPlateau):
                raise TypeError(f"'plateau' must be a ReduceOnPlateau (got {plateau!r})")
            _check_names("plateau.applies_to", plateau.applies_to, names)
        self._plateau = plateau
        self._count = check_choice("count", count, COUNTS)
        if not isinstance(chain, bool):
            raise TypeError(f"'chain' must be a bool (got {chain!r})")
        self._chain = chain

        self._t = check_non_negative_int("start_step", start_step)
        self._pending = 0
        self._batch_size: float | None = None
        self._batch = 1.0
        self._bases: dict[str, list[float | None]] = {n: [] for n in self._bindings}
        self._assign: dict[str, list[int | None]] = {n: [] for n in self._bindings}
        self._slots: dict[str, list[Slot | None]] = {n: [] for n in self._bindings}
        self._groups: list[dict[str, Any]] | None = None
        self._known = 0
        self._plan: _Plan | None = None
        self._f: dict[str, list[Any]] = {}
        for binding in self._bindings.values():
            binding.check_covers(optimizer.param_groups)
        self._hook = self._register_hook()
        self._join_chains()
        self._write()

    # -- groups ------------------------------------------------------------------------------
    def _register_hook(self) -> Any:
        if self._count != "updates":
            return None
        return self.optimizer.register_step_post_hook(_UpdateCounter(self))

    def _join_chains(self) -> None:
        if self._chain:
            for name in self._bindings:
                chain.join(self.optimizer, name, self)

    def _sync_groups(self) -> None:
        """Pick up replaced (``optimizer.load_state_dict``) or added param groups."""
        groups = self.optimizer.param_groups
        if groups is self._groups and self._plan is not None and len(groups) == self._known:
            return
        self._plan = None  # built anew below, once every group is known
        for name, binding in self._bindings.items():
            assign, bases, slots = self._assign[name], self._bases[name], self._slots[name]
            for i, group in enumerate(groups):
                if i < len(slots):  # a known group: same schedule and base, maybe a new dict
                    if assign[i] is not None:
                        slots[i] = resolve(name, group, i)
                    continue
                k = assign[i] if i < len(assign) else binding.assign(group, i)
                slot = resolve(name, group, i) if k is not None else None
                base = self._capture(name, group, slot, bases[i] if i < len(bases) else None)
                _put(assign, i, k)
                _put(bases, i, base)
                slots.append(slot)
        self._groups = groups
        self._known = len(groups)
        self._plan = self._build_plan()

    def _replace_binding(self, name: str, spec: object) -> None:
        """Give ``name`` new schedules; groups keep their bases and are assigned again."""
        self._bindings[name] = Binding.parse(name, spec)
        self._assign[name] = []
        self._slots[name] = []
        self._plan = None

    def _capture(self, name: str, group: dict[str, Any], slot: Slot | None,
                 saved: float | None) -> float | None:
        if slot is None:
            return None
        key = f"initial_{name}"
        if saved is not None:
            base = saved
        elif key in group:
            base = as_float(group[key])
        else:
            base = as_float(slot.read(group))
        group[key] = base
        return base

    def _build_plan(self) -> _Plan:
        plan: _Plan = []
        groups = self.optimizer.param_groups
        for name, binding in self._bindings.items():
            for k, schedule in enumerate(binding.schedules):
                floats: list[Any] = []
                views: list[Any] = []
                tensors: list[Any] = []
                betas: list[Any] = []
                for i, group in enumerate(groups):
                    if self._assign[name][i] != k:
                        continue
                    slot, base = self._slots[name][i], self._bases[name][i]
                    assert slot is not None
                    current = slot.read(group)
                    if isinstance(current, torch.Tensor):
                        # CPU tensors are written through a numpy view of their storage:
                        # 15x faster than fill_ (in place all the same: identity, dtype kept)
                        if (current.device.type == "cpu" and current.dtype in _VIEWABLE
                                and not current.requires_grad and current.numel() == 1):
                            views.append((current.numpy(), base))
                        else:
                            tensors.append((current, base))
                    elif slot.index is None:
                        floats.append((group, base))
                    else:
                        betas.append((group, slot, base))
                plan.append((name, k, schedule, name in self._absolute,
                             name in self._batch_scaled, floats, views, tensors, betas))
        return plan

    # -- values ------------------------------------------------------------------------------
    def _factor(self, name: str, value: Any) -> Any:
        """The schedule's value turned into the multiplier of ``name``'s base (or, for absolute
        hyperparameters, its value): times the batch factor where it applies. Plateau
        reductions come after, group by group."""
        if name in self._batch_scaled:
            value = value * self._batch
        return value

    def _write(self) -> None:
        groups = self.optimizer.param_groups
        if groups is not self._groups or len(groups) != self._known or self._plan is None:
            self._sync_groups()
        assert self._plan is not None
        t = float(self._t)
        batch = self._batch
        custom = type(self)._factor is not Scheduler._factor
        factors = self._f
        general: set[str] = set()
        for name in self._bindings:
            factors[name] = [None] * len(self._bindings[name].schedules)
            chained = self._chain and len(chain.members(self.optimizer, name)) > 1
            if chained or self._reduced(name):
                general.add(name)
        for name, k, schedule, absolute, scaled, floats, views, tensors, betas in self._plan:
            f = schedule._eval(t, SCALAR)
            if custom:
                f = self._factor(name, f)
            elif scaled:
                f *= batch
            factors[name][k] = f
            if name in general:
                continue
            if absolute:
                for group, _ in floats:
                    group[name] = f
                for view, _ in views:
                    view[...] = f
            else:
                for group, base in floats:
                    group[name] = base * f
                for view, base in views:
                    view[...] = base * f
            if tensors:
                _fill(tensors, f, absolute)
            for group, slot, base in betas:
                slot.write(group, f if absolute else base * f)
        for name in general:
            self._write_through_chain(name)

    def _reduced(self, name: str) -> bool:
        plateau = self._plateau
        return plateau is not None and plateau.reductions > 0 and name in plateau.applies_to

    def _contribute(self, name: str, index: int, value: Any) -> Any:
        """``value`` of group ``index`` after this scheduler: times its factor (relative), its
        factor (absolute), then its plateau reductions; unchanged for groups it does not drive."""
        self._sync_groups()
        assign = self._assign[name]
        k = assign[index] if index < len(assign) else None
        if k is None:
            return value
        f = self._f[name][k]
        value = f if name in self._absolute else value * f
        if self._reduced(name):
            assert self._plateau is not None
            value = self._plateau.apply(value, index)
        return value

    def _write_through_chain(self, name: str) -> None:
        """Each group's base through every chained scheduler on ``name`` (or this one alone)."""
        members = chain.members(self.optimizer, name) if self._chain else [self]
        for index, group in enumerate(self.optimizer.param_groups):
            slot, base = self._slots[name][index], self._bases[name][index]
            if slot is None or base is None:
                continue
            value: Any = base
            for member in members:
                value = member._contribute(name, index, value)
            slot.write(group, value)

    def value_at(self, step: Any, batch_size: float | None = None) -> dict[str, Any]:
        """The values every scheduled hyperparameter takes at ``step``, without changing
        anything: for one step, ``{name: [value per group]}`` (None for groups a hyperparameter
        does not apply to); for an array of steps, ``{name: array (steps, groups)}`` with NaN
        there. The batch factor is the one ``batch_size`` gives (none by default); the plateau
        multiplier is the current one."""
        self._sync_groups()
        saved = self._batch
        self._batch = batch_factor(
            self._batch_mode, None if batch_size is None else check_batch_size(batch_size),
            self._base_batch)
        try:
            return self._values(step)
        finally:
            self._batch = saved

    def _values(self, step: Any) -> dict[str, Any]:
        many = isinstance(step, (np.ndarray, list, tuple))
        out: dict[str, Any] = {}
        for name, binding in self._bindings.items():
            factors = [self._factor(name, s(step)) for s in binding.schedules]
            absolute = name in self._absolute
            row: list[Any] = []
            for index, (k, base) in enumerate(zip(self._assign[name], self._bases[name])):
                if k is None:
                    row.append(np.full(np.shape(factors[0]), np.nan) if many else None)
                    continue
                value = factors[k] if absolute else base * factors[k]
                if self._reduced(name):
                    assert self._plateau is not None
                    value = self._plateau.apply(value, index)
                row.append(value)
            out[name] = np.stack(row, axis=-1) if many else row
        return out

    def current_values(self) -> dict[str, list[float | None]]:
        """What every scheduled hyperparameter holds now, read from the param groups (None
        for groups without it)."""
        self._sync_groups()
        out: dict[str, list[float | None]] = {}
        for name in self._bindings:
            row: list[float | None] = []
            for i, group in enumerate(self.optimizer.param_groups):
                try:
                    row.append(as_float(resolve(name, group, i).read(group)))
                except ValueError:
                    row.append(None)
            out[name] = row
        return out

    def get_last_lr(self) -> list[Any]:
        """The lr of every param group, read from the groups (tensors are copied)."""
        return [g["lr"].clone() if isinstance(g["lr"], torch.Tensor) else g["lr"]
                for g in self.optimizer.param_groups]

    def get_lr(self) -> list[Any]:
        """The lrs for the current step (for code written against PyTorch's base class)."""
        lrs = self.value_at(self._t, self._batch_size).get("lr")
        current = self.get_last_lr()
        return current if lrs is None else [c if v is None else v for v, c in zip(lrs, current)]

    # -- time --------------------------------------------------------------------------------
    def step(self, batch_size: float | None = None) -> None:
        """Move to the next optimizer update and write its values.

        With ``count="updates"`` the schedule advances by the number of ``optimizer.step()``
        calls since the last ``step()`` (none if the update was skipped). ``batch_size`` sets
        the batch factor for this step (none when omitted).
        """
        if self._count == "updates":
            self._t += self._pending
            self._pending = 0
        else:
            self._t += 1
        if batch_size is None:
            self._batch_size, self._batch = None, 1.0
        else:
            self._batch_size = check_batch_size(batch_size)
            self._batch = batch_factor(self._batch_mode, self._batch_size, self._base_batch)
        self._write()

    def report(self, metric: Any) -> bool:
        """Feed the plateau controller one metric (e.g. the validation loss, once per epoch).
        Returns True, and lowers the values at once, when it reduces."""
        if self._plateau is None:
            raise ValueError("report() needs a plateau controller: "
                             "Scheduler(..., plateau=ReduceOnPlateau(...))")
        reduced = self._plateau.observe(metric, step=self._t)
        if reduced:
            self._write()
        return reduced

    @property
    def last_epoch(self) -> int:
        """The current step (optimizer updates taken); assigning it moves the schedule."""
        return self._t

    @last_epoch.setter
    def last_epoch(self, step: int) -> None:
        self._t = check_non_negative_int("last_epoch", step)
        self._pending = 0
        self._write()

    @property
    def base_lrs(self) -> list[float]:  # type: ignore[override]
        """Each group's base lr (its current lr where lr is not scheduled)."""
        self._sync_groups()
        bases = self._bases.get("lr", [])
        out = []
        for i, group in enumerate(self.optimizer.param_groups):
            base = bases[i] if i < len(bases) else None
            out.append(as_float(group["lr"]) if base is None else base)
        return out

    @property
    def hyperparameters(self) -> tuple[str, ...]:
        """The names of the scheduled hyperparameters."""
        return tuple(self._bindings)

    @property
    def plateau(self) -> ReduceOnPlateau | None:
        return self._plateau

    # -- state -------------------------------------------------------------------------------
    def _layout(self) -> dict[str, Any]:
        """Everything that decides the values apart from the step: compared on load."""
        return {
            "hyperparameters": {
                name: {
                    "schedules": [fingerprint(s) for s in binding.schedules],
                    "groups": list(self._assign[name]),
                    "absolute": name in self._absolute,
                }
                for name, binding in self._bindings.items()
            },
            "batch_size_mode": self._batch_mode,
            "base_batch_size": self._base_batch,
            "batch_scaled": sorted(self._batch_scaled),
            "plateau": None if self._plateau is None else self._plateau.config(),
            "count": self._count,
            "chain": self._chain,
        }

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state: only ints, floats, strings, bools, None, lists and dicts, so
        ``torch.load(..., weights_only=True)`` reads it."""
        self._sync_groups()
        return {
            "format": STATE_FORMAT,
            "step": self._t + (self._pending if self._count == "updates" else 0),
            "batch_size": self._batch_size,
            "bases": {name: list(bases) for name, bases in self._bases.items()},
            "plateau_state": None if self._plateau is None else self._plateau.state_dict(),
            "layout": self._layout(),
        }

    def load_state_dict(self, state_dict: dict[str, Any], *, strict: bool = True) -> None:
        """Restore a state from :meth:`state_dict` and write its values into the groups.

        A state saved with a different schedule (or different groups, batch scaling or plateau
        settings) is refused unless ``strict=False``, which keeps this scheduler's schedule and
        continues it from the saved step with the saved bases.
        """
        if not isinstance(state_dict, dict) or state_dict.get("format") != STATE_FORMAT:
            raise ValueError(
                "'state_dict' must come from cadence.Scheduler.state_dict() "
                f"(got keys {sorted(state_dict) if isinstance(state_dict, dict) else state_dict!r})"
            )
        differences = _differences(state_dict["layout"], self._layout())
        if differences and strict:
            raise ValueError(
                "this state was saved with a different schedule: " + "; ".join(differences)
                + f". Pass strict=False to continue this scheduler's schedule from the saved "
                f"step {state_dict['step']}."
            )
        self._sync_groups()
        for name, saved in state_dict["bases"].items():
            if name not in self._bases:
                continue
            bases = self._bases[name]
            for i, base in enumerate(saved):
                if base is None:
                    continue
                if i < len(bases):
                    if bases[i] is not None:
                        bases[i] = float(base)
                        self.optimizer.param_groups[i][f"initial_{name}"] = float(base)
                else:  # a group not added yet: keep its base for when it is
                    _put(bases, i, float(base))
        self._plan = None  # the plan holds the bases
        if self._plateau is not None and state_dict["plateau_state"] is not None:
            self._plateau.load_state_dict(state_dict["plateau_state"])
        self._t = int(state_dict["step"])
        self._pending = 0
        self._batch_size = state_dict["batch_size"]
        self._batch = batch_factor(self._batch_mode, self._batch_size, self._base_batch)
        self._write()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_hook"] = None
        state["_plan"] = None
        state["_groups"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._hook = self._register_hook()
        self._join_chains()

    def __repr__(self) -> str:
        parts = []
        for name, b in self._bindings.items():
            spec = b.schedules[0] if b.selectors is None else dict(zip(b.selectors, b.schedules))
            parts.append(f"{name}={spec!r}")
        optimizer = type(self.optimizer).__name__
        return f"{type(self).__name__}({optimizer}, {', '.join(parts)}, step={self._t})"


def _fill(tensors: list[tuple[torch.Tensor, float]], f: float, absolute: bool) -> None:
    """Tensors off the CPU (or needing autograd's bookkeeping): one foreach call for many."""
    values = [f if absolute else base * f for _, base in tensors]
    items = [tensor for tensor, _ in tensors]
    with torch.no_grad():
        if len(items) >= _FOREACH_MIN:
            torch._foreach_zero_(items)
            torch._foreach_add_(items, values)
        else:
            for tensor, value in zip(items, values):
                tensor.fill_(value)


def _put(items: list[Any], index: int, value: Any) -> None:
    while len(items) <= index:
        items.append(None)
    items[index] = value


def _check_names(arg: str, names: object, allowed: set[str] | None) -> list[str]:
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise TypeError(f"{arg!r} must be a collection of hyperparameter names (got {names!r})")
    out = list(names)
    for name in out:
        if not isinstance(name, str):
            raise TypeError(f"{arg!r} must hold hyperparameter names (got {name!r})")
        if allowed is not None and name not in allowed:
            raise ValueError(
                f"{arg!r} names {name!r}, which is not scheduled (scheduled: {sorted(allowed)})"
            )
    return out


def _differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    if set(saved) != set(current) or "hyperparameters" not in current:
        return [] if saved == current else [f"{saved!r} != {current!r}"]
    out = []
    old, new = saved["hyperparameters"], current["hyperparameters"]
    if set(old) != set(new):
        out.append(f"it schedules {sorted(old)}, this scheduler {sorted(new)}")
    for name in sorted(set(old) & set(new)):
        for key in ("schedules", "absolute"):
            if old[name][key] != new[name][key]:
                out.append(f"{name!r} {key} {old[name][key]!r} != {new[name][key]!r}")
        common = min(len(old[name]["groups"]), len(new[name]["groups"]))
        if old[name]["groups"][:common] != new[name]["groups"][:common]:
            out.append(f"{name!r} group assignment {old[name]['groups']} != "
                       f"{new[name]['groups']}")
    for key in ("batch_size_mode", "base_batch_size", "batch_scaled", "plateau", "count", "chain"):
        if saved[key] != current[key]:
            out.append(f"{key} {saved[key]!r} != {current[key]!r}")
    return out

