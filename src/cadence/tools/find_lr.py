"""The LR range test: raise the lr over a short run and read a good one off the loss curve.

Smith's test (2015, "Cyclical Learning Rates for Training Neural Networks"), run as fastai's
``lr_find`` and pytorch-lr-finder run it: for ``num_iter`` updates the lr of every param group
goes from ``start_lr`` to ``end_lr``, the loss of every update is recorded and smoothed, and the
run stops once the smoothed loss explodes. The sweep is a schedule like any other,
``Geometric(start=start_lr, end=end_lr, steps=num_iter - 1)`` (``lr_i = start * (end /
start) ** (i / (num_iter - 1))``) or ``Linear(...)``, written into every group by the binding
core while the schedulers on the optimizer wait. Afterwards the model, the optimizer, every
scheduler on the optimizer (given or not) and the random number generators are put back
exactly as they were.

>>> import torch
>>> g = torch.Generator().manual_seed(0)
>>> x = torch.randn(256, 4, generator=g)
>>> y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
>>> batches = [(x[i:i + 32], y[i:i + 32]) for i in range(0, 256, 32)]
>>> model = torch.nn.Linear(4, 1)
>>> optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
>>> result = find_lr(model, optimizer, torch.nn.functional.mse_loss, batches,
...                  start_lr=1e-4, end_lr=10.0, num_iter=60)
>>> result.stopped_early, optimizer.param_groups[0]["lr"]
(True, 0.1)
>>> 1e-4 <= result.suggestion("valley").lr <= 10.0
True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import torch

from cadence.schedules import Geometric, Linear
from cadence.tools.lr_plot import PLOT_SUFFIXES as PLOT_SUFFIXES
from cadence.tools.lr_plot import RULE_NOTES as RULE_NOTES
from cadence.tools.lr_plot import plot_result
from cadence.tools.lr_suggestions import MIN_POINTS as MIN_POINTS
from cadence.tools.lr_suggestions import RULES, NoSuggestion, Suggestion, suggest
from cadence.tools.lr_suggestions import lowest as lowest
from cadence.tools.lr_sweep import AUTOCAST_DTYPES as AUTOCAST_DTYPES
from cadence.tools.lr_sweep import (
    Run,
    check_above_one,
    check_autocast_dtype,
    check_objects,
    repeating,
    sweep,
)
from cadence.tools.snapshot import TrainingSnapshot, scheduler_hooks_paused
from cadence.validation import InvalidValue, check_choice, check_int, check_positive, check_range

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MODES = ("exp", "linear")
# The rule whose suggestion trained best where it was measured (bench/bench_find_lr.py,
# docs/find-lr.md), and why, in one line.
RECOMMENDED = "valley"
RECOMMENDATION = ("Measured on two tasks, constant and one-cycle runs, it trained best in 3 of "
                  "the 4 settings and second in the fourth; steepest stalled at chance on one "
                  "task (docs/find-lr.md).")


@dataclass(frozen=True, repr=False)
class LRFinderResult:
    """What :func:`find_lr` saw: the lr and loss of every update, and the suggested lrs.

    ``losses`` are the raw losses (the mean over the micro-batches of an update), ``smoothed``
    their bias-corrected moving average, which the stop rule and the suggestions read (it
    trails the losses: with ``smoothing=0.98`` its weights centre about 49 points back, which
    moves every suggestion to a larger lr than the losses alone would; fastai's ``valley`` is
    tuned on such a curve, and trained best on it where it was measured: docs/find-lr.md);
    ``reason`` says why the sweep ended.

    >>> r = LRFinderResult([1e-3], [1.0], [1.0], False, "done", {})
    >>> r
    LRFinderResult(points=1, stopped_early=False)
    """

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    stopped_early: bool
    reason: str
    suggestions: dict[str, Suggestion | NoSuggestion]

    def suggestion(self, rule: str = "valley") -> Suggestion | NoSuggestion:
        """The suggestion of ``rule`` (``"steepest"``, ``"valley"`` or ``"minimum"``).

        >>> LRFinderResult([], [], [], False, "", {}).suggestion("best")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        cadence.validation.InvalidValue: 'rule' must be one of 'steepest', ... (got 'best')
        """
        return self.suggestions[check_choice("rule", rule, RULES)]

    def __repr__(self) -> str:
        picks = "".join(f", {rule}={s.lr:.3g}" if isinstance(s, Suggestion) else f", {rule}=None"
                        for rule, s in self.suggestions.items())
        return (f"{type(self).__name__}(points={len(self.lrs)}, "
                f"stopped_early={self.stopped_early}{picks})")

    @overload
    def plot(self, path: None = None) -> Figure: ...

    @overload
    def plot(self, path: str | os.PathLike[str]) -> Path: ...

    def plot(self, path: str | os.PathLike[str] | None = None) -> Figure | Path:
        """The loss (raw, light) and the smoothed loss the rules read against the lr on a log
        axis, with a dot at each suggestion's ``(lr, loss)`` on that curve and a cross at its
        lowest point (the ``"minimum"`` rule takes a tenth of its lr); every kind
        of mark has a legend entry. Returns the matplotlib figure or, with ``path`` (``.png``,
        ``.svg`` or ``.pdf``), writes it there and returns the path.

        >>> r = LRFinderResult([1e-3, 1e-2, 1e-1], [1.0, 0.8, 2.0], [1.0, 0.9, 1.3], True,
        ...                    "exploded", {})
        >>> r.plot().axes[0].get_xscale()
        'log'
        """
        return plot_result(self, path)


def find_lr(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    data: Iterable[Any],
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iter: int = 100,
    mode: str = "exp",
    smoothing: float = 0.98,
    diverge: float = 4.0,
    accumulation_steps: int = 1,
    autocast_dtype: torch.dtype | None = None,
    scheduler: Any = None,
    seed: int | None = None,
) -> LRFinderResult:
    """Run the LR range test on ``model`` and put everything back afterwards.

    Update ``i`` (of ``num_iter``) trains with ``lr_i = start_lr * (end_lr / start_lr) **
    (i / (num_iter - 1))`` in every param group (``mode="exp"``; ``"linear"`` interpolates
    linearly): ``accumulation_steps`` micro-batches from ``data`` (an iterable of ``(inputs,
    targets)``, iterated again when it runs out), each ``loss_fn(model(inputs), targets) /
    accumulation_steps`` backpropagated (under ``torch.autocast`` on the model's device with
    ``autocast_dtype``), then ``optimizer.step()`` and ``optimizer.zero_grad()``. The model is
    in training mode. The loss is smoothed with a bias-corrected moving average,
    ``avg_i = s * avg_(i-1) + (1 - s) * loss_i`` and ``smoothed_i = avg_i / (1 - s ** (i + 1))``
    with ``s = smoothing``, and the sweep stops after the update whose smoothed loss is not
    finite or exceeds ``diverge`` times the best so far (for a negative best: lies more than
    ``(diverge - 1) * |best|`` above it).

    Then the model's parameters, gradients, buffers and training flags, the optimizer's param
    groups and state, the state of every scheduler on ``optimizer`` and the ``random``, numpy,
    torch and (initialized) CUDA generators are restored in place, also when an exception stops
    the sweep. ``seed`` seeds them all first, for a repeatable sweep. See :func:`suggest` for
    the rules.

    Every scheduler on ``optimizer`` comes back as it was, passed or not: the step hooks that
    belong to schedulers (a ``cadence.Scheduler`` counting updates, ``PlateauScheduler``
    included; a PyTorch scheduler's method) are paused during the sweep, so those schedulers
    neither count its updates nor write their values, and their states are saved and loaded
    back (:mod:`cadence.tools.snapshot`). Schedulers that move only when their ``step()`` is
    called (PyTorch's, the ``cadence.compat`` drop-ins, the ``WarmRestartScheduler``,
    ``count="calls"``) are not moved by the sweep, and the lrs it writes are restored. Pass
    ``scheduler`` for one that your own hooks or ``loss_fn`` step: its state is loaded back
    too. Other step hooks run as usual.

    >>> import torch
    >>> model = torch.nn.Linear(2, 1)
    >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    >>> batch = (torch.ones(8, 2), torch.zeros(8, 1))
    >>> result = find_lr(model, optimizer, torch.nn.functional.mse_loss, [batch],
    ...                  start_lr=0.01, end_lr=0.04, num_iter=3, mode="linear")
    >>> result.lrs, result.stopped_early, optimizer.state == {}
    ([0.01, 0.025, 0.04], False, True)
    >>> result.suggestion("steepest").reason
    'the curve has 3 points; at least 10 are needed'
    """
    check_objects(model, optimizer, loss_fn, data, scheduler)
    start_lr = check_positive("start_lr", start_lr)
    end_lr = check_positive("end_lr", end_lr)
    if end_lr <= start_lr:
        raise InvalidValue(f"'end_lr' must be a number > start_lr={start_lr:g} (got {end_lr!r})")
    num_iter = check_int("num_iter", num_iter, 2)
    shape = {"exp": Geometric, "linear": Linear}[check_choice("mode", mode, MODES)]
    run = Run(
        num_iter=num_iter,
        smoothing=check_range("smoothing", smoothing, 0.0, 1.0, high_open=True),
        diverge=check_above_one("diverge", diverge),
        accumulation_steps=check_int("accumulation_steps", accumulation_steps, 1),
        autocast_dtype=check_autocast_dtype(autocast_dtype),
    )
    if seed is not None:
        check_int("seed", seed, 0, high=2**32)

    snapshot = TrainingSnapshot(model, optimizer, scheduler)
    batches = repeating(data)
    try:
        with scheduler_hooks_paused(optimizer):
            sweep(model, optimizer, loss_fn, batches, run,
                  shape(start=start_lr, end=end_lr, steps=num_iter - 1), seed)
    finally:
        batches.close()
        snapshot.restore()
    return LRFinderResult(run.lrs, run.losses, run.smoothed, run.stopped_early, run.reason,
                          suggest(run.lrs, run.smoothed))
