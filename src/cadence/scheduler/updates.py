"""What moves a ``cadence.Scheduler`` that counts optimizer updates (``count="updates"``).

An optimizer step post-hook (:class:`UpdateCounter`) moves the scheduler after each real
update. Two things are not training updates and do not count:

- an update skipped by ``GradScaler`` (the optimizer's ``step`` is not called, so no hook runs);
- the update ``torch.distributed.checkpoint`` makes to create the optimizer's state before it
  loads or saves one (``get_state_dict``/``set_state_dict`` on an optimizer with no state): it
  sets every lr to 0, steps on zero gradients and puts the lrs back (:func:`state_creation`).

Trainers call ``step()`` at their own pace, which does not move such a scheduler: right for a
schedule written in updates, whoever calls ``step()`` how often. Two trainers' paces are
worth a word, because a schedule ported from PyTorch's was written for them
(:func:`check_caller` warns at the first call): accelerate under N processes calls a
scheduler's ``step()`` N times after each update (so that a PyTorch schedule written for one
process ends on time; one that counts updates would end N times later), and Lightning's
``"frequency": k`` steps a scheduler every k intervals (which then changes nothing).
"""

from __future__ import annotations

import sys
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import torch

_CHECKPOINT_CODE = "torch/distributed/checkpoint/"


class UpdateCounter:
    """Optimizer step post-hook: each real update moves the scheduler to the next step and
    writes its values, without keeping the scheduler alive. ``ref()`` is the scheduler (None
    once collected): tools that must tell a scheduler's hook from others look for this type.

    A compiled ``optimizer.step`` runs the hook as it is, not traced (``torch.compiler.disable``:
    while dynamo traces the step, or runs what follows a graph break in it); an eager one
    calls it without that wrapper, whose cost (a few microseconds) every update would pay."""

    def __init__(self, scheduler: Any) -> None:
        self.ref = weakref.ref(scheduler)

    def __call__(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        if _is_compiling() or _dynamo_callback() is not None:
            _untraced(self, optimizer)
            return
        scheduler = self.ref()
        if scheduler is not None and not state_creation(optimizer):
            scheduler._advance()


def _callback_unknown() -> object:
    return True  # a torch that does not tell: the hook always runs disabled


_is_compiling = torch.compiler.is_compiling
try:  # what dynamo runs new frames through (None but while a compiled function runs)
    from torch._C._dynamo import eval_frame as _eval_frame

    _dynamo_callback: Callable[[], object] = _eval_frame.get_eval_frame_callback
except (ImportError, AttributeError):  # pragma: no cover
    _dynamo_callback = _callback_unknown


@torch.compiler.disable
def _untraced(counter: UpdateCounter, optimizer: Any) -> None:
    scheduler = counter.ref()
    if scheduler is not None and not state_creation(optimizer):
        scheduler._advance()


def state_creation(optimizer: Any) -> bool:
    """True while ``torch.distributed.checkpoint`` steps ``optimizer`` to create its state:
    every lr is 0 then (the cheap test, made first), and the step comes from that package."""
    for group in optimizer.param_groups:
        if group.get("lr", 0.0) != 0:
            return False
    frame: Any = sys._getframe(1)
    for _ in range(12):  # the hook, torch's step wrappers, then DCP's own function
        if frame is None:
            return False
        if _CHECKPOINT_CODE in frame.f_code.co_filename.replace("\\", "/"):
            return True
        frame = frame.f_back
    return False


def check_caller(scheduler: Any) -> None:
    """At the first ``step()`` of a scheduler that counts updates: warn where the trainer that
    calls it expects the calls to move the schedule (see the module's docstring). Looks at the
    callers' frames for accelerate's ``AcceleratedScheduler`` and Lightning's scheduler config
    holding this scheduler; anything else is left alone."""
    frame: Any = sys._getframe(2)
    for _ in range(8):
        if frame is None:
            return
        caller = frame.f_locals.get("self")
        if type(caller).__name__ == "AcceleratedScheduler" and \
                getattr(caller, "scheduler", None) is scheduler:
            _accelerate(scheduler, caller)
            return
        config = frame.f_locals.get("config")
        if getattr(config, "scheduler", None) is scheduler and hasattr(config, "frequency"):
            _lightning(scheduler, config)
            return
        frame = frame.f_back


def _accelerate(scheduler: Any, wrapper: Any) -> None:
    """accelerate steps a PyTorch scheduler once per process after each update."""
    from accelerate.state import AcceleratorState

    processes = AcceleratorState().num_processes
    if processes > 1 and wrapper.step_with_optimizer and not wrapper.split_batches:
        warnings.warn(
            f"accelerate calls {type(scheduler).__name__}.step() {processes} times after each "
            f"optimizer update ({processes} processes, split_batches=False), so that a "
            "PyTorch scheduler's lengths, written for one process, end on time. This "
            "scheduler counts optimizer updates (count='updates') and moves once per update: "
            "a schedule whose lengths were written for one process would end "
            f"{processes} times later. Write its lengths in updates of this run, or pass "
            "count='calls' to move on every call, as PyTorch's schedulers do",
            UserWarning, stacklevel=4)


def _lightning(scheduler: Any, config: Any) -> None:
    """Lightning steps a scheduler every ``frequency`` intervals (for a plateau scheduler the
    frequency says when the monitored metric is fed: it matters, no word)."""
    if config.frequency != 1 and not getattr(config, "reduce_on_plateau", False):
        warnings.warn(
            f"Lightning steps {type(scheduler).__name__} every {config.frequency} "
            f"{config.interval}s ('frequency': {config.frequency}). This scheduler counts "
            "optimizer updates (count='updates'): its schedule follows the updates, whatever "
            "the interval and frequency, so the frequency changes nothing. Write its lengths "
            "in updates, or pass count='calls' to move once per call, as PyTorch's "
            "schedulers do", UserWarning, stacklevel=4)
