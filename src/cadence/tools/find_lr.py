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

import math
import os
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import torch

from cadence.scheduler.binder import Binder
from cadence.scheduler.slots import as_float
from cadence.scheduler.track import ABSOLUTE, Track
from cadence.schedules import Geometric, Linear, Schedule
from cadence.tools.snapshot import TrainingSnapshot, scheduler_hooks_paused, seed_everything
from cadence.validation import (
    InvalidType,
    InvalidValue,
    check_choice,
    check_int,
    check_number,
    check_positive,
    check_range,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RULES = ("steepest", "valley", "minimum")
MODES = ("exp", "linear")
MIN_POINTS = 10  # fewer finite points than this and no rule suggests anything
RULE_NOTES = {"minimum": " (a tenth of the lowest point's lr)"}  # in the plot's legend
# The rule whose suggestion trained best where it was measured (bench/bench_find_lr.py,
# docs/find-lr.md), and why, in one line.
RECOMMENDED = "valley"
RECOMMENDATION = ("Measured on two tasks, constant and one-cycle runs, it trained best in 3 of "
                  "the 4 settings and second in the fourth; steepest stalled at chance on one "
                  "task (docs/find-lr.md).")
AUTOCAST_DTYPES = (torch.bfloat16, torch.float16)
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


@dataclass(frozen=True)
class Suggestion:
    """The lr a rule suggests, ``lr``, and the smoothed loss there, ``loss``.

    ``index`` is the point of the sweep the rule picked, for every rule: ``lr`` is
    ``lrs[index]`` and ``loss`` the smoothed loss there (``LRFinderResult.smoothed``), which
    is where the plot puts its dot. The ``"minimum"`` rule picks the recorded point
    nearest a tenth of the lowest point's lr.

    >>> bool(Suggestion("valley", 1e-3, 0.5, 42))
    True
    """

    rule: str
    lr: float
    loss: float
    index: int

    def __bool__(self) -> Literal[True]:  # with NoSuggestion's, lets `if s:` narrow the type
        return True


@dataclass(frozen=True)
class NoSuggestion:
    """A rule that has nothing to suggest, and why. It is falsy.

    >>> none = NoSuggestion("valley", "the curve has 3 points; at least 10 are needed")
    >>> bool(none), none.reason
    (False, 'the curve has 3 points; at least 10 are needed')
    """

    rule: str
    reason: str

    def __bool__(self) -> Literal[False]:
        return False


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
        from matplotlib.figure import Figure

        target = None if path is None else Path(path)
        if target is not None and target.suffix.lower() not in PLOT_SUFFIXES:
            raise InvalidValue(f"'path' must end in one of {', '.join(PLOT_SUFFIXES)} "
                               f"(got {str(path)!r})")
        lrs = np.asarray(self.lrs, dtype=np.float64)
        raw = _finite_or_nan(self.losses)
        smooth = _finite_or_nan(self.smoothed)
        fig = Figure(figsize=(7, 4.5), layout="constrained")
        ax = fig.add_subplot()
        ax.plot(lrs, raw, color="C0", alpha=0.3, linewidth=1, label="loss")
        ax.plot(lrs, smooth, color="C0", linewidth=2, label="smoothed loss")
        low = lowest(self.smoothed)
        if low is not None:
            ax.plot([lrs[low]], [smooth[low]], "x", color="black", markersize=9,
                    markeredgewidth=2, gid="lowest", label=f"lowest point: {lrs[low]:.2e}")
        for k, (rule, s) in enumerate(self.suggestions.items()):
            if isinstance(s, Suggestion):
                ax.plot([s.lr], [s.loss], "o", color=f"C{k + 1}", markersize=8, gid=rule,
                        label=f"{rule}{RULE_NOTES.get(rule, '')}: {s.lr:.2e}")
        ax.set_xscale("log")
        ax.set(xlabel="learning rate", ylabel="loss", title="LR range test")
        _set_ylim(ax, raw, smooth)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="best")
        if target is None:
            return fig
        fig.savefig(target)
        return target


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
    _check_objects(model, optimizer, loss_fn, data, scheduler)
    start_lr = check_positive("start_lr", start_lr)
    end_lr = check_positive("end_lr", end_lr)
    if end_lr <= start_lr:
        raise InvalidValue(f"'end_lr' must be a number > start_lr={start_lr:g} (got {end_lr!r})")
    num_iter = check_int("num_iter", num_iter, 2)
    shape = {"exp": Geometric, "linear": Linear}[check_choice("mode", mode, MODES)]
    run = _Run(
        num_iter=num_iter,
        smoothing=check_range("smoothing", smoothing, 0.0, 1.0, high_open=True),
        diverge=_check_above_one("diverge", diverge),
        accumulation_steps=check_int("accumulation_steps", accumulation_steps, 1),
        autocast_dtype=_check_autocast_dtype(autocast_dtype),
    )
    if seed is not None:
        check_int("seed", seed, 0, high=2**32)

    snapshot = TrainingSnapshot(model, optimizer, scheduler)
    batches = _batches(data)
    try:
        with scheduler_hooks_paused(optimizer):
            _sweep(model, optimizer, loss_fn, batches, run,
                   shape(start=start_lr, end=end_lr, steps=num_iter - 1), seed)
    finally:
        batches.close()
        snapshot.restore()
    return LRFinderResult(run.lrs, run.losses, run.smoothed, run.stopped_early, run.reason,
                          suggest(run.lrs, run.smoothed))


def suggest(lrs: list[float], smoothed: list[float]) -> dict[str, Suggestion | NoSuggestion]:
    """The three suggestions for a smoothed loss curve. Each one's ``lr`` is ``lrs[index]``
    and its ``loss`` ``smoothed[index]``: one point of the sweep.

    The curve is cut before its first non-finite point; with ``m`` points left (at least
    ``MIN_POINTS``), the rules look at points ``m // 10`` to ``m - min(5, m // 10)`` (exclusive),
    fastai's window for a full sweep of 50 or more updates (the first tenth, noisy while the
    average warms up, and the last five, where the loss explodes):

    - ``"steepest"``: the point where ``np.gradient(smoothed, log10(lr))`` is most negative.
    - ``"valley"``: fastai's rule as its code computes it: the longest strictly decreasing
      subsequence of the smoothed losses, of length ``L >= 2`` ending at point ``e`` (the
      first such end), gives ``s = e - L`` and the point ``s + L // 3 + L // 6``, which is
      about halfway from ``s`` to ``e`` (not the two thirds it is often described as). Where
      that is ``-1`` (a valley of two points at the very start) fastai takes the last point;
      here it is clamped to the first.
    - ``"minimum"``: a tenth of the lr at the lowest smoothed loss (:func:`lowest`), taken
      as the recorded point nearest to it in ``log10(lr)`` (the first point if the tenth lies
      below the sweep).

    A rule whose curve never decreases has no suggestion.

    >>> lrs = [10.0 ** (k / 4 - 5) for k in range(20)]
    >>> curve = [2.0 - 0.1 * k if k < 15 else 0.5 + k for k in range(20)]
    >>> lowest(curve), suggest(lrs, curve)["minimum"].index  # 4 points make a factor of 10
    (14, 10)
    """
    y = np.asarray(smoothed, dtype=np.float64)
    bad = ~np.isfinite(y)
    m = int(np.argmax(bad)) if bad.any() else len(y)
    why = None
    if m == 0 and len(y):
        why = "the loss is not finite before the sweep could start"
    elif m < MIN_POINTS:
        finite = " finite" if m < len(y) else ""
        why = f"the curve has {m}{finite} points; at least {MIN_POINTS} are needed"
    if why is not None:
        return {rule: NoSuggestion(rule, why) for rule in RULES}
    lo, hi = m // 10, m - min(5, m // 10)
    x = np.asarray(lrs[lo:hi], dtype=np.float64)
    w = y[lo:hi]
    flat = f"the smoothed loss never decreases between lr={x[0]:.3g} and lr={x[-1]:.3g}"
    out: dict[str, Suggestion | NoSuggestion] = {}

    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.gradient(w, np.log10(x))
    k = int(np.argmin(slope))
    out["steepest"] = (Suggestion("steepest", float(x[k]), float(w[k]), lo + k)
                       if slope[k] < 0 else NoSuggestion("steepest", flat))

    lds = np.ones(len(w), dtype=np.int64)  # longest decreasing subsequence ending at each point
    for i in range(1, len(w)):
        before = lds[:i][w[:i] > w[i]]
        if before.size:
            lds[i] = before.max() + 1
    end = int(np.argmax(lds))
    length = int(lds[end])
    k = max(0, end - length + length // 3 + length // 6)
    out["valley"] = (Suggestion("valley", float(x[k]), float(w[k]), lo + k)
                     if length >= 2 else NoSuggestion("valley", flat))

    logs = np.log10(np.asarray(lrs[:m], dtype=np.float64))
    k = int(np.argmin(np.abs(logs - (logs[lo + int(np.argmin(w))] - 1.0))))
    out["minimum"] = Suggestion("minimum", float(lrs[k]), float(y[k]), k)
    return out


def lowest(curve: list[float]) -> int | None:
    """The index of the lowest point of ``curve`` that the rules look at (see :func:`suggest`:
    its finite part, less the first tenth and the last points); None for fewer than
    ``MIN_POINTS`` finite points.

    >>> lowest([3.0, 2.0, 1.0, 2.0] + [5.0] * 8)  # the first point is outside the window
    2
    """
    y = np.asarray(curve, dtype=np.float64)
    bad = ~np.isfinite(y)
    m = int(np.argmax(bad)) if bad.any() else len(y)
    if m < MIN_POINTS:
        return None
    lo, hi = m // 10, m - min(5, m // 10)
    return lo + int(np.argmin(y[lo:hi]))


# -- the sweep -------------------------------------------------------------------------------
@dataclass
class _Run:
    """The settings of one sweep and what it recorded."""

    num_iter: int
    smoothing: float
    diverge: float
    accumulation_steps: int
    autocast_dtype: torch.dtype | None
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    smoothed: list[float] = field(default_factory=list)
    stopped_early: bool = False
    reason: str = ""
    avg: float = 0.0
    best: float = math.inf

    def __post_init__(self) -> None:
        self.reason = f"ran all {self.num_iter} updates; the loss did not explode"

    def record(self, i: int, lr: float, loss: float) -> bool:
        """Record update ``i``; True when the sweep stops there."""
        s = self.smoothing
        self.avg = s * self.avg + (1 - s) * loss
        smooth = self.avg / (1 - s ** (i + 1))
        self.lrs.append(lr)
        self.losses.append(loss)
        self.smoothed.append(smooth)
        where = f"at update {i + 1} of {self.num_iter} (lr={lr:.3g})"
        if not math.isfinite(smooth):
            self.reason = f"the loss is not finite (loss={loss!r}, smoothed={smooth!r}) {where}"
        else:
            best = self.best = min(self.best, smooth)
            limit = self.diverge * best if best >= 0 else best - (self.diverge - 1) * best
            if smooth <= limit:
                return False
            self.reason = (f"the smoothed loss {smooth:.4g} exceeded {self.diverge:g} x the "
                           f"best {best:.4g} {where}")
        self.stopped_early = True
        return True


def _sweep(model: torch.nn.Module, optimizer: torch.optim.Optimizer,
           loss_fn: Callable[[Any, Any], torch.Tensor], batches: Iterator[Any], run: _Run,
           lrs: Schedule, seed: int | None) -> None:
    """The sweep itself: ``lrs`` (absolute) written into every group before each update,
    until the run stops or ``num_iter`` updates are done. The binding core writes them: the
    schedulers on the optimizer are paused (and put back afterwards), so the sweep is not a
    second scheduler beside them."""
    if seed is not None:
        seed_everything(seed)
    model.train()
    optimizer.zero_grad()
    groups = optimizer.param_groups
    sweep = Binder(optimizer, [Track.shared("lr", lrs, [1.0] * len(groups), ABSOLUTE)])
    for i in range(run.num_iter):
        sweep.write_at(float(i))
        lr = as_float(groups[0]["lr"])
        if run.record(i, lr, _update(model, optimizer, loss_fn, batches, run)):
            break


def _update(model: torch.nn.Module, optimizer: torch.optim.Optimizer,
            loss_fn: Callable[[Any, Any], torch.Tensor], batches: Iterator[Any],
            run: _Run) -> float:
    """One optimizer update over the run's micro-batches; returns their mean loss."""
    steps, total = run.accumulation_steps, 0.0
    for _ in range(steps):
        inputs, targets = _pair(next(batches))
        with _autocast(model, run.autocast_dtype):
            loss = loss_fn(model(inputs), targets)
        if not isinstance(loss, torch.Tensor):
            raise InvalidType(f"'loss_fn' must return a tensor (got {loss!r})")
        if loss.numel() != 1:
            raise InvalidValue(f"'loss_fn' must return a one-element tensor "
                               f"(got shape {tuple(loss.shape)})")
        scaled = loss / steps
        scaled.backward()
        total += float(scaled.detach().float())
    optimizer.step()
    optimizer.zero_grad()
    return total


def _batches(data: Iterable[Any]) -> Generator[Any, None, None]:
    """The batches of ``data``, iterated again each time it runs out."""
    while True:
        count = 0
        for batch in data:
            count += 1
            yield batch
        if count == 0:
            raise InvalidValue(f"'data' must yield (inputs, targets) batches; it ran out and "
                               f"cannot be iterated again (got {data!r}): pass a list or a "
                               f"DataLoader rather than an iterator")


def _pair(batch: Any) -> tuple[Any, Any]:
    try:
        inputs, targets = batch
    except (TypeError, ValueError):
        raise InvalidType(f"'data' must yield (inputs, targets) pairs (got a "
                          f"{type(batch).__name__})") from None
    return inputs, targets


def _autocast(model: torch.nn.Module, dtype: torch.dtype | None) -> AbstractContextManager[Any]:
    if dtype is None:
        return nullcontext()
    device = next((p.device.type for p in model.parameters()), "cpu")
    return torch.autocast(device, dtype=dtype)


# -- checks and plotting helpers -------------------------------------------------------------
def _check_objects(model: object, optimizer: object, loss_fn: object, data: object,
                   scheduler: object) -> None:
    if not isinstance(model, torch.nn.Module):
        raise InvalidType(f"'model' must be a torch.nn.Module (got {model!r})")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise InvalidType(f"'optimizer' must be a torch.optim.Optimizer (got {optimizer!r})")
    if not callable(loss_fn):
        raise InvalidType(f"'loss_fn' must be callable (got {loss_fn!r})")
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise InvalidType(f"'data' must be an iterable of (inputs, targets) batches (got {data!r})")
    if scheduler is None:
        return
    if not (callable(getattr(scheduler, "state_dict", None))
            and callable(getattr(scheduler, "load_state_dict", None))):
        raise InvalidType(f"'scheduler' must be None or a scheduler with state_dict and "
                          f"load_state_dict (got {scheduler!r})")
    if getattr(scheduler, "optimizer", optimizer) is not optimizer:
        raise InvalidValue(f"'scheduler' must drive the optimizer given (got {scheduler!r}, "
                           f"which drives another)")


def _check_above_one(name: str, value: object) -> float:
    number = check_number(name, value, "a number > 1")
    if number <= 1:
        raise InvalidValue(f"{name!r} must be a number > 1 (got {value!r})")
    return number


def _check_autocast_dtype(value: object) -> torch.dtype | None:
    if value is None or value in AUTOCAST_DTYPES:
        return value
    exc = InvalidValue if isinstance(value, torch.dtype) else InvalidType
    raise exc(f"'autocast_dtype' must be None, torch.bfloat16 or torch.float16 (got {value!r})")


def _finite_or_nan(values: list[float]) -> np.ndarray:
    out = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(out), out, np.nan)


def _set_ylim(ax: Any, raw: np.ndarray, smooth: np.ndarray) -> None:
    """Bottom at the lowest loss; top where the default divergence rule would stop (four
    times the best smoothed loss, or the first one if higher), so an explosion does not squash
    the curve."""
    finite = smooth[np.isfinite(smooth)]
    if not finite.size or finite.min() <= 0:
        return
    low = float(min(finite.min(), np.min(raw, initial=np.inf, where=np.isfinite(raw))))
    high = float(min(finite.max(), max(finite[0], 4 * finite.min())))
    if high > low:
        pad = 0.05 * (high - low)
        ax.set_ylim(low - pad, high + pad)
