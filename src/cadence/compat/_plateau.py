"""PyTorch's ``ReduceLROnPlateau`` as a drop-in: PyTorch's class, attributes and state, the
decisions of cadence's plateau rule (:func:`cadence.scheduler.plateau.advance`, PyTorch's), and
under ``torch.distributed`` the metric averaged over the ranks first, so every rank keeps the
same lr (``step(metrics)`` is then a collective, :mod:`cadence.scheduler.ranks`).
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch.optim import lr_scheduler as T
from torch.optim.lr_scheduler import EPOCH_DEPRECATION_WARNING

from cadence.compat import resume
from cadence.compat._torch_base import LRScheduler, check_optimizer, real
from cadence.scheduler import writers
from cadence.scheduler.plan import Writes, group_values
from cadence.scheduler.plateau import advance, reduce_once
from cadence.scheduler.ranks import DEFAULT_TIMEOUT, mean_over_ranks
from cadence.scheduler.slots import as_float
from cadence.scheduler.track import Track
from cadence.schedules import Constant
from cadence.validation import (
    InvalidType,
    InvalidValue,
    check_choice,
    check_non_negative,
    check_non_negative_int,
    check_number,
)


class ReduceLROnPlateau(LRScheduler, T.ReduceLROnPlateau):
    """Reduce the lr when a metric stops improving: ``step(metrics)`` once per epoch.

    Its decisions and lrs are PyTorch's; under ``torch.distributed`` the metric is averaged
    over the ranks first, so ``step(metrics)`` is a collective: every rank must call it. A rank
    that has not within ``sync_timeout`` seconds (an attribute, 60 by default; None waits as
    long as the process group does) is named in a
    :class:`~cadence.scheduler.ranks.RankTimeout` on the ranks that did. Inside
    :class:`~cadence.compat.lr_scheduler.SequentialLR` and
    :class:`~cadence.compat.lr_scheduler.ChainedScheduler` (which PyTorch refuses) it takes the
    metric given to their ``step(metrics)``.

    PyTorch's arguments: ``optimizer``, ``mode='min'``, ``factor=0.1``, ``patience=10``,
    ``threshold=1e-4``, ``threshold_mode='rel'``, ``cooldown=0``, ``min_lr=0``, ``eps=1e-8``.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import ReduceLROnPlateau
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> sched = ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2)
    >>> for val_loss in [1.0, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]:
    ...     opt.step(); sched.step(val_loss)
    ...
    >>> sched.get_last_lr(), sched.num_bad_epochs
    ([0.05], 2)
    """

    sync_timeout: float | None = DEFAULT_TIMEOUT  # not an argument: PyTorch's signature

    def __init__(self, optimizer: torch.optim.Optimizer, mode: str = "min",
                 factor: float = 0.1, patience: int = 10, threshold: float = 1e-4,
                 threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: list[float] | float = 0, eps: float = 1e-8) -> None:
        check_optimizer(optimizer)
        factor_value = check_number("factor", real(factor))
        if factor_value >= 1.0:
            raise InvalidValue(f"'factor' must be < 1.0 (got {factor!r})")
        check_choice("mode", mode, ("min", "max"))
        check_choice("threshold_mode", threshold_mode, ("rel", "abs"))
        check_non_negative_int("patience", patience)
        check_non_negative_int("cooldown", cooldown)
        check_non_negative("threshold", real(threshold))
        check_non_negative("eps", real(eps))
        for value in min_lr if isinstance(min_lr, (list, tuple)) else [min_lr]:
            check_non_negative("min_lr", real(value))
        T.ReduceLROnPlateau.__init__(self, optimizer, mode, factor,  # type: ignore[arg-type]
                                     patience, threshold, threshold_mode,  # type: ignore[arg-type]
                                     cooldown, min_lr, eps)
        self._built = resume.built(self)
        writers.claim(self)

    def step(self, metrics: Any = None, epoch: int | None = None) -> None:  # type: ignore[override]
        """Take one epoch's metric (required, as in PyTorch)."""
        if metrics is None:
            raise InvalidType("ReduceLROnPlateau.step() needs the metric: step(metrics)")
        current = mean_over_ranks(float(real(metrics)),  # type: ignore[arg-type]
                                  timeout=self.sync_timeout, call="ReduceLROnPlateau.step()",
                                  hint="The drop-in averages the metric over the ranks, so "
                                  "every rank must call step(metrics); sched.sync_timeout = ... "
                                  "waits longer.")
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        self.best, self.num_bad_epochs, self.cooldown_counter, reduce = advance(
            current, self.best, self.num_bad_epochs, self.cooldown_counter, mode=self.mode,
            threshold=self.threshold, threshold_mode=self.threshold_mode,
            patience=self.patience, cooldown=self.cooldown)
        if reduce:
            self._reduce_lr(epoch)
        self._last_lr = group_values(self.optimizer.param_groups, "lr")

    def _reduce_lr(self, epoch: Any) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the `optimizer` ({len(groups)}) differs "
                    f"from when `ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), "
                    "usually due to a new param group being added to the optimizer. Please "
                    "modify the `min_lrs` field to match the length of the `optimizer` param "
                    "groups.")
            self.min_lrs = [self.default_min_lr] * len(groups)
        writes = Writes("lr", groups, range(len(groups)))
        floors = [as_float(v) for v in self.min_lrs]
        writes.write([reduce_once(v, self.factor, low, self.eps)
                       for v, low in zip(writes.read(), floors)])

    # -- inside SequentialLR / ChainedScheduler ------------------------------------------------
    def _initial_step(self) -> None:
        """First in a SequentialLR: the lrs stay the groups' own."""
        self._last_lr = group_values(self.optimizer.param_groups, "lr")
        self._built = resume.built(self)

    def _update_lr(self, epoch: Any = None, initial: bool = False) -> None:
        """Its turn in a SequentialLR comes: it starts from the groups' base lrs."""
        groups = self.optimizer.param_groups
        Writes("lr", groups, range(len(groups))).write(
            [as_float(g.get("initial_lr", g["lr"])) for g in groups])
        self._last_lr = group_values(groups, "lr")

    def _tracks(self) -> list[Track]:
        """Its closed form: the lrs the groups hold, until the next reduction."""
        lrs = [as_float(g["lr"]) for g in self.optimizer.param_groups]
        return [Track.shared("lr", Constant(1.0), lrs)]
