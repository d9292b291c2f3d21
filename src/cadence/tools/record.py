"""Record the hyperparameters every optimizer update actually uses.

:class:`HyperparameterLog` registers an optimizer step pre-hook, so it reads each param group
just before the update runs: the values that update uses, whoever wrote them (a
:class:`cadence.Scheduler`, a PyTorch scheduler, your own code). One row per update, kept in
memory and optionally written to a CSV file and to TensorBoard.

>>> import torch
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
>>> with HyperparameterLog(opt) as log:
...     opt.step()
...     opt.param_groups[0]["lr"] = 0.05
...     opt.step()
>>> log.columns
['update', 'lr/0', 'momentum/0', 'weight_decay/0']
>>> [(row["update"], row["lr/0"]) for row in log.rows]
[(0, 0.1), (1, 0.05)]
"""

from __future__ import annotations

import csv as csvlib
import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import torch

from cadence.scheduler.slots import NOT_SCHEDULABLE, Slot, as_float, resolve
from cadence.scheduler.targets import Target, as_targets
from cadence.validation import InvalidType, InvalidValue, MissingPackage

DEFAULT_NAMES = ("lr", "momentum", "weight_decay")
Row = dict[str, Any]


def _is_number(value: object) -> bool:
    if isinstance(value, torch.Tensor):
        return value.numel() == 1
    return isinstance(value, numbers.Real)


def _check_names(names: object) -> tuple[str, ...]:
    rule = "a non-empty sequence of distinct hyperparameter names"
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise InvalidType(f"'names' must be {rule} (got {names!r})")
    items = tuple(names)
    if not items or not all(isinstance(n, str) and n for n in items):
        raise InvalidType(f"'names' must be {rule} (got {names!r})")
    if len(set(items)) != len(items):
        raise InvalidValue(f"'names' must be {rule} (got {names!r})")
    for name in items:
        if name in NOT_SCHEDULABLE:
            raise InvalidValue(f"'names' must be {rule} (got {names!r}: {name!r} is not one)")
    return items


def _summary_writer(path: str | os.PathLike[str]) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:
        raise MissingPackage(
            "HyperparameterLog(tensorboard=<path>) needs the 'tensorboard' package "
            "(pip install tensorboard); or pass a writer with add_scalar(tag, value, "
            "global_step)") from exc
    return SummaryWriter(log_dir=os.fspath(path))


class HyperparameterLog:
    """Record, per optimizer update, the value of each hyperparameter in ``names`` in every
    param group that has it.

    - ``names`` (default ``("lr", "momentum", "weight_decay")``, each where a group has it):
      keys of the param groups; ``momentum`` reads ``betas[0]`` on Adam-family optimizers,
      ``beta1``/``beta2`` the betas. Names given explicitly must be in some group.
    - Row ``k`` (update ``k``, from 0) is ``{"update": k, "<name>/<group>": value, ...}``;
      tensors are read with ``.item()``. ``columns`` lists the keys in order (a group added
      later adds columns).
    - ``csv``: a file path; written with the header ``update,lr/0,lr/1,momentum/0,...`` and
      flushed after every row (rewritten whole if a new group adds columns).
    - ``tensorboard``: a ``SummaryWriter`` or anything with ``add_scalar(tag, value,
      global_step)``, sent ``add_scalar("lr/group0", value, k)`` per value; or a directory,
      for which a ``torch.utils.tensorboard.SummaryWriter`` is made (and closed on
      :meth:`close`).
    - ``targets``: values outside the optimizer to record too, ``{name: target}`` as
      :class:`cadence.Scheduler` takes them; column ``<name>`` (``<name>/<place>`` for a
      target with several places, such as every dropout of a model).

    :meth:`close` (or leaving a ``with`` block) removes the hook and closes the files.

    >>> import torch
    >>> import cadence
    >>> from cadence.schedules import Linear
    >>> from cadence.tools import HyperparameterLog
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = cadence.Scheduler(opt, lr=Linear(start=1.0, end=0.0, steps=4))
    >>> with HyperparameterLog(opt) as log:
    ...     for _ in range(3):
    ...         opt.step(); sched.step()
    ...
    >>> log.columns
    ['update', 'lr/0', 'momentum/0', 'weight_decay/0']
    >>> [round(row["lr/0"], 6) for row in log.rows]  # the lr each update used
    [0.1, 0.075, 0.05]
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        names: Sequence[str] | None = None,
        csv: str | os.PathLike[str] | None = None,
        tensorboard: Any = None,
        targets: Mapping[str, object] | None = None,
    ) -> None:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise InvalidType(f"'optimizer' must be a torch.optim.Optimizer (got {optimizer!r})")
        self.optimizer = optimizer
        self.names = DEFAULT_NAMES if names is None else _check_names(names)
        if names is not None:
            self._check_present()
        if csv is not None and not isinstance(csv, (str, os.PathLike)):
            raise InvalidType(f"'csv' must be a file path (got {csv!r})")
        own_writer = isinstance(tensorboard, (str, os.PathLike))
        if not (tensorboard is None or own_writer or callable(getattr(tensorboard, "add_scalar",
                                                                      None))):
            raise InvalidType("'tensorboard' must be a directory path or a writer with "
                              f"add_scalar(tag, value, global_step) (got {tensorboard!r})")
        self._targets = as_targets(targets)
        self._target_names = list(_target_values(self._targets))
        self.rows: list[Row] = []
        self.columns: list[str] = ["update", *self._slots(), *self._target_names]
        self._writer = _summary_writer(tensorboard) if own_writer else tensorboard
        self._own_writer = own_writer
        self._file: IO[str] | None = None
        self.csv_path = None if csv is None else Path(csv)
        if self.csv_path is not None:
            try:
                self._file = open(self.csv_path, "w", newline="", encoding="utf-8")  # noqa: SIM115
            except OSError:
                self._close_writer()
                raise
            self._rewrite(self._file)
        self._handle: Any = optimizer.register_step_pre_hook(self._record)

    # -- reading the groups ------------------------------------------------------------------
    def _slots(self) -> dict[str, tuple[int, Slot]]:
        """``{"<name>/<group>": (group, slot)}`` for every name in every group that has it."""
        out = {}
        for name in self.names:
            for i, group in enumerate(self.optimizer.param_groups):
                try:
                    out[f"{name}/{i}"] = (i, resolve(name, group, i))
                except ValueError:
                    continue
        return out

    def _check_present(self) -> None:
        slots = self._slots()
        groups = self.optimizer.param_groups
        for name in self.names:
            found = [(i, s) for column, (i, s) in slots.items() if column.rsplit("/", 1)[0] == name]
            if not found:
                keys = sorted({k for g in groups for k in g if k not in NOT_SCHEDULABLE})
                raise InvalidValue(f"'names' must name hyperparameters of the param groups (got "
                                   f"{self.names!r}: {name!r} is in no group; they have: "
                                   f"{', '.join(keys)})")
            for i, slot in found:
                value = slot.read(groups[i])
                if not _is_number(value):
                    raise InvalidValue(f"'names' must name numeric hyperparameters (got "
                                       f"{self.names!r}: {name!r} of param group {i} is "
                                       f"{value!r})")

    def _record(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        update = len(self.rows)
        row: Row = {"update": update}
        slots = self._slots()
        for column, (i, slot) in slots.items():
            value = slot.read(self.optimizer.param_groups[i])
            row[column] = as_float(value) if _is_number(value) else None
        values = _target_values(self._targets)  # the places each target has now
        row.update(values)
        self.rows.append(row)
        self._target_names += [c for c in values if c not in self._target_names]
        new = [c for c in (*slots, *values) if c not in self.columns]
        if new:
            order = {c: k for k, c in enumerate(slots)}
            targets = self._target_names
            known = [c for c in self.columns[1:] if c not in order and c not in targets]
            self.columns = ["update", *known, *sorted(order, key=order.__getitem__), *targets]
        if self._file is not None:
            if new:
                self._rewrite(self._file)
            else:
                csvlib.DictWriter(self._file, self.columns, restval="").writerow(row)
                self._file.flush()
        if self._writer is not None:
            for column in slots:
                if row[column] is not None:
                    name, group = column.rsplit("/", 1)
                    self._writer.add_scalar(f"{name}/group{group}", row[column], update)
            for column in values:
                self._writer.add_scalar(column, row[column], update)

    def _rewrite(self, file: IO[str]) -> None:
        """Write the header and every row again (a group added columns)."""
        file.seek(0)
        file.truncate()
        out = csvlib.DictWriter(file, self.columns, restval="")
        out.writeheader()
        out.writerows(self.rows)
        file.flush()

    # -- closing -----------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._handle is None

    def _close_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        if self._own_writer:
            writer.close()
        elif callable(getattr(writer, "flush", None)):
            writer.flush()

    def close(self) -> None:
        """Stop recording: remove the hook, close the CSV file and a writer made here (a
        writer passed in is flushed, not closed). Closing twice does nothing."""
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
        if self._file is not None:
            self._file.close()
            self._file = None
        self._close_writer()

    def __enter__(self) -> HyperparameterLog:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "recording"
        return f"HyperparameterLog(names={self.names!r}, updates={len(self.rows)}, {state})"


def _target_values(targets: Mapping[str, Target]) -> dict[str, float]:
    """What each target's places hold now, by column: its name, or ``<name>/<place>`` for each
    of its places (a ``Modules`` target's places follow the model: a module put in the place
    of another is recorded in its column, a module in a new place gets a column)."""
    out: dict[str, float] = {}
    for name, target in targets.items():
        values = target.read()  # first: a Modules target finds moved modules again
        places = target.places()
        out.update(zip([name] if len(places) == 1 else [f"{name}/{p}" for p in places], values))
    return out
