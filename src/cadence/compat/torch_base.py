"""The base of the PyTorch drop-ins: ``LRScheduler`` on top of :class:`cadence.Scheduler`.

A built-in drop-in describes its lr (and, for the cyclic ones, momentum) as one cadence schedule
per param group, built from the groups' base lrs by :meth:`LRScheduler._lr_schedules`; the
machinery of :class:`~cadence.scheduler.Scheduler` does the rest. A user's subclass that
overrides ``get_lr``, the way PyTorch's documentation teaches, runs its own code instead: each
step writes what its ``get_lr`` returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from cadence.scheduler.scheduler import STATE_FORMAT, Scheduler
from cadence.scheduler.slots import Slot, as_float
from cadence.schedules import Constant, Cosine, Repeat, Scale, Schedule, join

_LR = Slot("lr")


@dataclass
class GroupSchedules:
    """One schedule per param group for one hyperparameter; ``absolute`` schedules give the
    value itself, relative ones a factor of the group's base."""

    schedules: Sequence[Schedule]
    absolute: bool

    def spec(self) -> tuple[object, bool]:
        """What ``Scheduler(lr=...)`` takes: one schedule if all groups share it, else a
        mapping from tuples of group indices to schedules."""
        distinct: list[tuple[Schedule, list[int]]] = []
        for index, schedule in enumerate(self.schedules):
            for known, members in distinct:
                if known == schedule:
                    members.append(index)
                    break
            else:
                distinct.append((schedule, [index]))
        if len(distinct) == 1:
            return distinct[0][0], self.absolute
        return {tuple(members): schedule for schedule, members in distinct}, self.absolute

    def absolute_values(self, bases: list[float]) -> list[Schedule]:
        if self.absolute:
            return list(self.schedules)
        return [Scale(s, b) for s, b in zip(self.schedules, bases)]

    def factors(self, bases: list[float]) -> list[Schedule]:
        """Relative factors (absolute schedules divided by the base; 0 stays 0)."""
        if not self.absolute:
            return list(self.schedules)
        return [Scale(s, 1.0 / b) if b else Constant(0.0) for s, b in zip(self.schedules, bases)]


def set_lr(group: dict[str, Any], value: Any) -> None:
    """Write a group's lr, in place when it is a tensor."""
    _LR.write(group, as_float(value))


def cosine_annealing(high: float, low: float, steps: int) -> Schedule:
    """PyTorch's (and MMEngine's) cosine annealing: a half cosine from ``high`` to ``low`` over
    ``steps``, back up over the next ``steps``, and so on."""
    down_up = join([Cosine(start=high, end=low, steps=steps),
                    Cosine(start=low, end=high, steps=steps)], [steps])
    return Repeat(down_up, period=2 * steps)


def set_one_cycle_bases(optimizer: torch.optim.Optimizer, peaks: list[float],
                        div_factor: float, final_div_factor: float) -> None:
    """What a one-cycle scheduler writes into each group when it starts (PyTorch and MMEngine):
    ``initial_lr`` (``peak / div_factor``), ``max_lr`` and ``min_lr``."""
    for peak, group in zip(peaks, optimizer.param_groups):
        group["initial_lr"] = peak / div_factor
        group["max_lr"] = peak
        group["min_lr"] = group["initial_lr"] / final_div_factor


def per_group(name: str, value: object, optimizer: torch.optim.Optimizer) -> list[Any]:
    """A value given once or once per param group (PyTorch's lists), as one per group."""
    groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(
                f"{name!r} must have one entry per param group ({groups}) (got {len(value)})"
            )
        return list(value)
    return [value] * groups


class LRScheduler(Scheduler):
    """PyTorch's ``torch.optim.lr_scheduler.LRScheduler``, as the base of the drop-ins.

    ``last_epoch=-1`` starts a schedule (recording each group's lr as ``initial_lr`` unless it
    has one); ``last_epoch=N`` resumes it at step ``N + 1`` from the groups' ``initial_lr``.
    ``verbose=True`` prints every lr it writes (PyTorch removed the argument; seed code still
    passes it). Drop-ins on one optimizer chain as PyTorch's do.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"'optimizer' must be a torch.optim.Optimizer (got {optimizer!r})")
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < -1:
            raise ValueError(f"'last_epoch' must be an int >= -1 (got {last_epoch!r})")
        self.verbose = verbose is True
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                lr = group["lr"]
                group.setdefault("initial_lr", lr.clone() if isinstance(lr, torch.Tensor) else lr)
            elif "initial_lr" not in group:
                raise KeyError(
                    f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                    f"with last_epoch={last_epoch}; load the optimizer's state first"
                )
        self._custom = type(self).get_lr is not LRScheduler.get_lr
        specs: dict[str, Any] = self._specs(
            optimizer, [as_float(g["initial_lr"]) for g in optimizer.param_groups])
        absolute = {name for name, (_, is_absolute) in specs.items() if is_absolute}
        super().__init__(
            optimizer, absolute=absolute, count="calls", chain=not self._custom,
            start_step=last_epoch + 1, plateau=self._plateau_controller(),
            **{name: spec for name, (spec, _) in specs.items()},
        )

    # -- what a drop-in schedules ------------------------------------------------------------
    def _lr_schedules(self, bases: list[float]) -> GroupSchedules:
        """The lr of every param group, from their base lrs (built-in drop-ins)."""
        return GroupSchedules([Constant(1.0)] * len(bases), absolute=False)

    def _momentum_schedules(self) -> GroupSchedules | None:
        """The momentum (or beta1) of every group, for the drop-ins that cycle it."""
        return None

    def _plateau_controller(self) -> Any:
        return None

    def _specs(self, optimizer: torch.optim.Optimizer,
               bases: list[float]) -> dict[str, tuple[object, bool]]:
        specs = {"lr": self._lr_schedules(bases).spec() if not self._custom
                 else (Constant(1.0), False)}
        momentum = None if self._custom else self._momentum_schedules()
        if momentum is not None:
            specs["momentum"] = momentum.spec()
        return specs

    def _settings(self) -> dict[str, Any]:
        """The constructor's arguments that define the schedule (compared on load)."""
        return {}

    def _rebind(self) -> None:
        """Rebuild every group's schedule from the current bases (after a load)."""
        if self._custom:
            return
        bases = self.base_lrs
        for name, (spec, _) in self._specs(self.optimizer, bases).items():
            self._replace_binding(name, spec)
        self._write()

    # -- PyTorch's API -----------------------------------------------------------------------
    def get_lr(self) -> list[Any]:
        """The lrs for the current step (subclasses may override it, the PyTorch way)."""
        return super().get_lr()

    def step(self, epoch: int | None = None) -> None:  # type: ignore[override]
        """Advance one step, or go to ``epoch`` exactly (every drop-in has a closed form, so
        PyTorch's deprecated ``step(epoch)`` is exact here and does not warn)."""
        if epoch is None:
            super().step()
        else:
            self.last_epoch = epoch

    def _write(self) -> None:
        if self._custom:
            self._sync_groups()
            for group, value in zip(self.optimizer.param_groups, self.get_lr()):
                if isinstance(group["lr"], torch.Tensor) or isinstance(value, torch.Tensor):
                    set_lr(group, value)
                else:
                    group["lr"] = value
        else:
            super()._write()
        if self.verbose:
            for i, group in enumerate(self.optimizer.param_groups):
                print(f"Adjusting learning rate of group {i} to {as_float(group['lr']):.4e}.")

    def _layout(self) -> dict[str, Any]:
        return {"class": type(self).__name__, "settings": self._settings()}

    def load_state_dict(self, state_dict: dict[str, Any], *, strict: bool = True) -> None:
        """Restore a state from :meth:`state_dict`, or from PyTorch's own scheduler of the same
        kind (its ``last_epoch`` and ``base_lrs``), and write its values."""
        if isinstance(state_dict, dict) and state_dict.get("format") != STATE_FORMAT \
                and "last_epoch" in state_dict and "base_lrs" in state_dict:
            state_dict = self._from_torch_state(state_dict)
        if self._custom and isinstance(state_dict, dict) and "step" in state_dict:
            # like PyTorch, a get_lr subclass restores its counters; the lrs come from the
            # optimizer's own state
            self._t = int(state_dict["step"])
            self._pending = 0
            return
        super().load_state_dict(state_dict, strict=strict)
        self._rebind()

    def _from_torch_state(self, torch_state: dict[str, Any]) -> dict[str, Any]:
        state = self.state_dict()
        state["step"] = int(torch_state["last_epoch"])
        bases = [as_float(b) for b in torch_state["base_lrs"]]
        state["bases"] = {**state["bases"], "lr": bases}
        return state

