"""The all-in-one warm-restart scheduler, :class:`WarmRestartScheduler`: warm-up, cosine
annealing with warm restarts, a decay per restart, a range relative to each group's base lr,
batch-size scaling and a custom factor, in one class. It is the hand-written ``LRScheduler``
class many training scripts carry, with the same parameters, defaults,
attributes and methods, built on :class:`cadence.Scheduler` and the schedule algebra;
``cadence.LRScheduler`` is the same class, under the name that code uses.

Its contract is that class's formula, quirks included. With ``k`` the number of ``step()`` calls
(``global_step``), ``W = warmup_steps``, and each group's base lr ``base``::

    warm(k)    = max(warmup_scale_min, k / W) for k <= W, else 1
                 (the cosine warm-up has 0.5 * (1 - cos(pi k / W)) for k / W)
    restart(k) = 1 for k <= W, else cos_half of cosine annealing with warm restarts
                 (T_0, T_mult) in local time k - W, times gamma ** cycle
    lr_scale   = batch(batch_size) * warm(k) * restart(k) * custom_lambda(k)
    lr         = base * (eta_scal_min + (eta_scal_max - eta_scal_min) * lr_scale)

So the warm-up starts at ``eta_scal_min + (eta_scal_max - eta_scal_min) * warmup_scale_min`` of
the base (0.29 with the defaults), and batch scaling can lift the lr above ``eta_scal_max``.

Differences from the original, on purpose: construction writes the step-0 values (it left the
base lr in place until the first ``step()``); ``plot`` changes nothing and can write a file;
the state carries the base lrs, so resuming works in any order; every argument is validated;
a batch size must be positive (it silently used 1 for 0 or less); ``warmup_steps=0`` means
no warm-up (it divided by zero).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cadence.compat.all_in_one_shapes import lr_scale
from cadence.config.encoding import fingerprint
from cadence.scheduler.batch import MODES, batch_factor, check_batch_size
from cadence.scheduler.param_groups import summarize_param_groups
from cadence.scheduler.scheduler import Scheduler
from cadence.scheduler.track import Span
from cadence.schedules import (
    CosineRestarts,
    Schedule,
)
from cadence.schedules.branch import Branched
from cadence.schedules.ops import SCALAR
from cadence.schedules.restarts import check_period_mult
from cadence.validation import (
    InvalidType,
    InvalidValue,
    check_choice,
    check_non_negative,
    check_non_negative_int,
    check_positive,
    check_positive_int,
    check_range,
)


class WarmRestartScheduler(Scheduler):
    """Warm-up, cosine annealing with warm restarts, a decay per restart, a range relative to
    each group's base lr, batch-size scaling and a custom factor (see the module docstring for
    the formula). ``cadence.LRScheduler`` is this class.

    Attributes ``global_step``, ``T_i``, ``T_cur``, ``cycle`` and ``lr_scale`` are read from the
    closed form at the current step.

    >>> import torch
    >>> import cadence
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> sched = cadence.WarmRestartScheduler(opt, warmup_steps=10, T_0=20, T_mult=2, gamma=0.9)
    >>> round(opt.param_groups[0]["lr"], 6)  # step 0: 0.2 + 1.8 * 0.05 of the base lr
    0.029
    >>> for _ in range(10):
    ...     opt.step(); sched.step()
    ...
    >>> round(opt.param_groups[0]["lr"], 6), sched.global_step  # the top: 2x the base lr
    (0.2, 10)
    >>> sched.value_at([30, 50, 90])["lr"][:, 0].round(6).tolist()  # restarts at 30 and 70
    [0.182, 0.101, 0.144448]
    >>> cadence.LRScheduler is cadence.WarmRestartScheduler
    True
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        warmup_steps: int = 100,
        warmup_scale_min: float = 0.05,
        warmup_type: str = "linear",
        T_0: int = 200,
        T_mult: int = 2,
        eta_scal_min: float = 0.2,
        eta_scal_max: float = 2.0,
        gamma: float = 0.97,
        base_batch_size: int = 64,
        batch_size_mode: str = "sqrt",
        custom_lambda: Callable[[int], float] | None = None,
    ) -> None:
        self.warmup_steps = check_non_negative_int("warmup_steps", warmup_steps)
        self.warmup_scale_min = check_range("warmup_scale_min", warmup_scale_min, 0.0, 1.0)
        self.warmup_type = check_choice("warmup_type", warmup_type, ("linear", "cosine"))
        self.T_0 = check_positive_int("T_0", T_0)
        self.T_mult = check_positive_int("T_mult", T_mult)
        check_period_mult("T_mult", self.T_mult)
        self.eta_scal_min = check_non_negative("eta_scal_min", eta_scal_min)
        self.eta_scal_max = check_non_negative("eta_scal_max", eta_scal_max)
        if self.eta_scal_max < self.eta_scal_min:
            raise InvalidValue(f"'eta_scal_max' must be >= 'eta_scal_min' ({self.eta_scal_min!r}) "
                               f"(got {eta_scal_max!r})")
        self.gamma = check_positive("gamma", gamma)
        self.base_batch_size = check_positive_int("base_batch_size", base_batch_size)
        self.batch_size_mode = check_choice("batch_size_mode", batch_size_mode, MODES)
        if custom_lambda is not None and not callable(custom_lambda):
            raise InvalidType(f"'custom_lambda' must be callable or None (got {custom_lambda!r})")
        self.custom_lambda = custom_lambda
        self._restarts = CosineRestarts(period=self.T_0, period_mult=self.T_mult,
                                        decay=self.gamma)
        super().__init__(
            optimizer, lr=self._core(), spans={"lr": Span.between(eta_scal_min, eta_scal_max)},
            batch_size_mode=self.batch_size_mode, base_batch_size=self.base_batch_size,
            count="calls",
        )

    @property
    def _core_schedule(self) -> Schedule:
        schedule = self.schedules("lr")[0]
        assert schedule is not None
        return schedule

    def _core(self) -> Schedule:
        """``warm * restart * custom``: the seed's ``lr_scale`` without the batch factor."""
        return lr_scale(self.warmup_steps, self.warmup_scale_min, self.warmup_type, self.T_0,
                        self.T_mult, self.gamma, self.custom_lambda)

    def _layout(self) -> dict[str, Any]:
        """The seed's settings identify the schedule. ``custom_lambda`` is left out, as the seed
        prescribes: functions are not saved, and a resumed run sets its own again."""
        names = ("warmup_steps", "warmup_scale_min", "warmup_type", "T_0", "T_mult",
                 "eta_scal_min", "eta_scal_max", "gamma", "base_batch_size", "batch_size_mode")
        layout: dict[str, Any] = {"LRScheduler": {n: getattr(self, n) for n in names}}
        schedule = self._core_schedule
        if isinstance(schedule, Branched):  # re-timed (anneal, extend, switch): kept in the state
            layout["hyperparameters"] = {"lr": {"schedules": [fingerprint(schedule)],
                                                "groups": [0] * len(self.optimizer.param_groups)}}
        return layout

    def step(self, batch_size: float | None = None) -> None:  # type: ignore[override]
        """The seed's ``step(batch_size)``: the next step, with the lr scaled for
        ``batch_size`` (none when omitted). Its clock counts calls: nothing to feed."""
        super().step(batch_size=batch_size)

    # -- the seed's attributes, from the closed form -------------------------------------------
    @property
    def global_step(self) -> int:
        return self.current_step

    def _cycle(self) -> tuple[int, int, int]:
        local = self.current_step - self.warmup_steps
        if self.warmup_steps > 0 and local <= 0:
            return 0, self.T_0, 0
        i, start, _ = self._restarts.locate(float(local), SCALAR)
        return int(i), self.T_0 * self.T_mult ** int(i), int(local - start)

    @property
    def cycle(self) -> int:
        """Restarts so far."""
        return self._cycle()[0]

    @property
    def T_i(self) -> int:
        """Length of the current cosine cycle."""
        return self._cycle()[1]

    @property
    def T_cur(self) -> int:
        """Steps into the current cosine cycle."""
        return self._cycle()[2]

    @property
    def lr_scale(self) -> float:
        """The seed's product of factors at the current step (before the eta range)."""
        return self.batch_factor * self._core_schedule(self.current_step)

    @property
    def eta_min_lrs(self) -> list[float]:
        return [b * self.eta_scal_min for b in self.base_lrs]

    @property
    def eta_max_lrs(self) -> list[float]:
        return [b * self.eta_scal_max for b in self.base_lrs]

    # -- preview and inspection ----------------------------------------------------------------
    def plot(self, max_steps: int, batch_size: float | None = None,
             path: str | Path | None = None) -> Any:
        """The lr of every group, and ``lr_scale``, over the next ``max_steps`` calls of
        ``step(batch_size)``, as a matplotlib figure. Nothing changes in the optimizer or the
        scheduler. With ``path`` the figure is written there (PNG, SVG, PDF...) and closed, and
        the path is returned; without, the figure is returned."""
        from matplotlib.figure import Figure

        check_positive_int("max_steps", max_steps)
        now = self.current_step
        steps = np.arange(now + 1, now + 1 + max_steps)
        lrs = self.value_at(steps, batch_size)["lr"]
        bs = None if batch_size is None else check_batch_size(batch_size)
        scale = batch_factor(self.batch_size_mode, bs, self.base_batch_size)
        scale = scale * self._core_schedule(steps)

        fig = Figure(figsize=(10, 8), layout="constrained")
        top, bottom = fig.subplots(2, 1)
        for i in range(lrs.shape[1]):
            top.plot(steps, lrs[:, i], label=f"Group {i}")
        top.set(title="Learning Rate per Param Group", xlabel="Steps", ylabel="Learning Rate")
        top.legend()
        bottom.plot(steps, scale, label="lr_scale", color="purple")
        bottom.set(title="Global LR Scale Multiplier", xlabel="Steps", ylabel="LR Scale")
        bottom.legend()
        if path is None:
            return fig
        fig.savefig(path)
        return Path(path)

    @staticmethod
    def visualize_optimizer_param_groups(model: torch.nn.Module,
                                         optimizer: torch.optim.Optimizer) -> None:
        """Print each param group's lr, eps and weight decay, and its parameters by name and
        shape (and the model's parameters that are in no group)."""
        groups, missing = summarize_param_groups(model, optimizer)
        for g in groups:
            title = f"Param Group {g.index}" + (f" ({g.name})" if g.name else "")
            print(f"\n{title}:")
            for key in ("lr", "eps", "weight_decay"):
                print(f"  {key}: {g.hyperparameters.get(key, 'N/A')}")
            print("  Parameters:")
            for name, shape in g.params:
                print(f"     - {name or '(not in the model)':30} | shape: {shape}")
        if missing:
            print("\nParameters in no group:")
            for name, shape in missing:
                print(f"     - {name:30} | shape: {shape}")


LRScheduler = WarmRestartScheduler  # the hand-written class's name, in the scripts it replaces
