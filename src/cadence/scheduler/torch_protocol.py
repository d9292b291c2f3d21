"""What code written for PyTorch's schedulers reads and calls on a ``cadence.Scheduler``.

Trainers and PyTorch's own containers use a scheduler through the names of PyTorch's base
class: ``get_last_lr()`` (loggers, transformers' Trainer), ``base_lrs``, ``get_lr()``,
``last_epoch`` (read, and assigned by ``SequentialLR``), ``_last_lr``, ``_step_count`` and
``_update_lr(epoch)`` (``SequentialLR`` starting a child at its milestone). This mixin gives a
``Scheduler`` those names, in terms of its own time (``_time``), values (``value_at``) and
groups; nothing else of the Scheduler is PyTorch-specific.
"""

from __future__ import annotations

from typing import Any

import torch

from cadence.scheduler.plan import group_values
from cadence.scheduler.slots import as_float
from cadence.validation import check_non_negative_int


class TorchProtocol:
    """PyTorch's scheduler protocol on a ``cadence.Scheduler`` (see the module)."""

    optimizer: torch.optim.Optimizer
    _time: Any
    _used: float | None
    _hook: Any
    _count: str
    _handed_over: bool

    def get_last_lr(self) -> list[Any]:
        """The lr of every param group, as PyTorch's schedulers give it: after ``step()`` (and
        after construction) the lr of the next update, read from the groups (tensors are
        copied); between an optimizer update and the ``step()`` that follows it, the lr that
        update used (transformers' Trainer logs it from there)."""
        groups = self.optimizer.param_groups
        if self._used is None or "lr" not in self.hyperparameters:  # type: ignore[attr-defined]
            return group_values(groups, "lr")
        used = self.value_at(self._used, self._time.batch_size)["lr"]  # type: ignore[attr-defined]
        return [g["lr"].new_tensor(v) if isinstance(g["lr"], torch.Tensor) and v is not None
                else (v if v is not None else g["lr"]) for g, v in zip(groups, used)]

    @property
    def _last_lr(self) -> list[Any]:  # read by code written for PyTorch's base
        return self.get_last_lr()

    def get_lr(self) -> list[Any]:
        """The lrs for the current step (for code written against PyTorch's base class)."""
        time = self._time
        lrs = self.value_at(time.position, time.batch_size).get("lr")  # type: ignore[attr-defined]
        current = self.get_last_lr()
        return current if lrs is None else [c if v is None else v for v, c in zip(lrs, current)]

    @property
    def base_lrs(self) -> list[float]:
        """Each group's base lr (its current lr where lr is not scheduled)."""
        if "lr" in self.hyperparameters:  # type: ignore[attr-defined]
            bases = self.bases("lr")  # type: ignore[attr-defined]
        else:
            bases = []
        out = []
        for i, group in enumerate(self.optimizer.param_groups):
            base = bases[i] if i < len(bases) else None
            out.append(as_float(group["lr"]) if base is None else base)
        return out

    @property
    def _step_count(self) -> int:
        """``step()`` calls so far, plus one (PyTorch's count, which construction starts)."""
        return int(self._time.calls) + 1

    @_step_count.setter
    def _step_count(self, count: int) -> None:
        self._time = self._time._replace(calls=count - 1)

    @property
    def last_epoch(self) -> Any:
        """The clock's position (optimizer updates taken, by default); assigning it moves the
        schedule there."""
        return self._time.position

    @last_epoch.setter
    def last_epoch(self, step: int) -> None:
        if step == -1 and self._time.position == 0:  # PyTorch's SequentialLR undoing a child's
            self._count_calls()                      # first step: it steps the child from now
            self._time = self._time.at(-1)
            return
        self._move_to(check_non_negative_int("last_epoch", step))  # type: ignore[attr-defined]

    def _update_lr(self, epoch: int | None = None) -> None:
        """PyTorch's SequentialLR starts a child at its milestone with ``_update_lr(0)``."""
        self.last_epoch = self._time.position + 1 if epoch is None else epoch

    def _count_calls(self) -> None:
        """Count ``step()`` calls from now on: a child of PyTorch's SequentialLR is stepped by
        the container only while it is the active one (its optimizer hook would write it on
        every update, over the active child's values)."""
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        self._count = "calls"
        self._handed_over = True


__all__: list[str] = []  # TorchProtocol is a part of Scheduler
