"""The state of a training run, saved and put back exactly.

:class:`TrainingSnapshot` copies the model's parameters, buffers, gradients and modes, the
optimizer's param groups and state, the state of every scheduler on the optimizer (the one
given, and those its step hooks drive: :func:`hooked_schedulers`) and the random generators
(python, numpy, torch, CUDA); :meth:`TrainingSnapshot.restore` writes them back into the same
objects, so every tensor, param group and state dict keeps its identity.
:func:`scheduler_hooks_paused` keeps the schedulers' step hooks from running meanwhile. The LR
range test runs inside both.

>>> import torch
>>> model = torch.nn.Linear(2, 1)
>>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
>>> snapshot, before = TrainingSnapshot(model, opt, None), model.weight.detach().clone()
>>> model(torch.ones(1, 2)).sum().backward(); opt.step()
>>> snapshot.restore(); torch.equal(model.weight, before)
True
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch.optim.lr_scheduler import LRScheduler as TorchLRScheduler

from cadence.scheduler.scheduler import UpdateCounter

_MISSING = object()
# where torch keeps an optimizer's own step hooks (it has no public API to list them)
HOOK_TABLES = ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks")


class TrainingSnapshot:
    """Copies of everything the sweep changes; :meth:`restore` writes them back in place, so
    every tensor, param group and state dict keeps its identity."""

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                 scheduler: Any) -> None:
        self.optimizer = optimizer
        schedulers = [] if scheduler is None else [scheduler]
        schedulers += [s for s in hooked_schedulers(optimizer) if s is not scheduler]
        self.schedulers = [(s, copy.deepcopy(s.state_dict())) for s in schedulers]
        grouped = [p for group in optimizer.param_groups for p in group["params"]]
        tensors = {id(t): t for t in [*model.parameters(), *grouped, *model.buffers()]}
        self.tensors = [(t, t.detach().clone()) for t in tensors.values()]
        self.grads = [(t, t.grad, None if t.grad is None else t.grad.detach().clone())
                      for t in tensors.values() if t.requires_grad]
        self.training = [(m, m.training) for m in model.modules()]
        self.groups = [(g, {k: (v, _copy(v)) for k, v in g.items() if k != "params"})
                       for g in optimizer.param_groups]
        self.state = [(p, entry, {k: (v, _copy(v)) for k, v in entry.items()})
                      for p, entry in optimizer.state.items()]
        self.opt_called = vars(optimizer).get("_opt_called", _MISSING)
        self.rng = _rng_state()

    def restore(self) -> None:
        with torch.no_grad():
            for tensor, saved in self.tensors:
                tensor.copy_(saved)
        for tensor, grad, saved_grad in self.grads:
            tensor.grad = _put_back(grad, saved_grad)
        for module, training in self.training:
            module.training = training
        for scheduler, saved in self.schedulers:
            scheduler.load_state_dict(copy.deepcopy(saved))
        for group, saved in self.groups:
            _put_back_dict(group, saved, keep=("params",))
        state = self.optimizer.state
        kept = {id(p) for p, _, _ in self.state}
        for p in [p for p in state if id(p) not in kept]:
            del state[p]
        for p, entry, saved in self.state:
            _put_back_dict(entry, saved)
            state[p] = entry
        # set by the step wrapper of torch's schedulers; it decides one of their warnings
        if self.opt_called is _MISSING:
            vars(self.optimizer).pop("_opt_called", None)
        else:
            vars(self.optimizer)["_opt_called"] = self.opt_called
        _set_rng_state(self.rng)


# -- the schedulers on an optimizer ------------------------------------------------------------
def _hook_owner(hook: Any) -> tuple[bool, Any]:
    """Whether ``hook`` belongs to a scheduler, and the scheduler (None once collected): a
    :class:`cadence.Scheduler`'s update counter, or a method of a PyTorch scheduler."""
    if isinstance(hook, UpdateCounter):
        return True, hook.ref()
    owner = getattr(hook, "__self__", None)
    if isinstance(owner, TorchLRScheduler):  # ReduceLROnPlateau is one too
        return True, owner
    return False, None


def _hook_tables(optimizer: torch.optim.Optimizer) -> list[dict[int, Any]]:
    tables = (getattr(optimizer, name, None) for name in HOOK_TABLES)
    return [t for t in tables if isinstance(t, dict)]


def hooked_schedulers(optimizer: torch.optim.Optimizer) -> list[Any]:
    """The schedulers that ``optimizer``'s step hooks drive, in the hooks' order: every
    :class:`cadence.Scheduler` counting updates (``count="updates"``, the default) and any
    PyTorch scheduler that registered one of its methods as a hook. Schedulers that only move
    when their ``step()`` is called need no hook and are not listed.

    >>> import cadence
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> sched = cadence.Scheduler(opt, lr=0.5)
    >>> hooked_schedulers(opt) == [sched]
    True
    """
    found: list[Any] = []
    for table in _hook_tables(optimizer):
        for hook in table.values():
            owned, scheduler = _hook_owner(hook)
            if owned and scheduler is not None and all(scheduler is not f for f in found):
                found.append(scheduler)
    return found


@contextmanager
def scheduler_hooks_paused(optimizer: torch.optim.Optimizer) -> Iterator[None]:
    """Inside, ``optimizer.step()`` runs none of the step hooks (pre or post) that belong to a
    scheduler (see :func:`hooked_schedulers`); every other hook still runs. On the way out
    they are put back in their places, so they run in the same order as before.

    Why pause rather than restore afterwards: a :class:`cadence.Scheduler` counts the real
    updates through its hook and writes every hyperparameter it schedules (momentum, weight
    decay) after each one, so a run inside would both move its clock and change the
    optimizer's settings under the run. Paused, it neither moves nor writes. PyTorch has no
    public API to list an optimizer's hooks, hence the tables in :data:`HOOK_TABLES`; an
    optimizer without them (another PyTorch) has nothing paused.

    >>> import cadence
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> sched = cadence.Scheduler(opt, lr=cadence.schedules.Linear(start=1, end=0, steps=10))
    >>> with scheduler_hooks_paused(opt):
    ...     opt.step()
    >>> sched.current_step, opt.step(), sched.current_step
    (0, None, 1)
    """
    paused = []
    for table in _hook_tables(optimizer):
        before = list(table.items())
        mine = {key for key, hook in before if _hook_owner(hook)[0]}
        for key in mine:
            del table[key]
        paused.append((table, before, mine))
    try:
        yield
    finally:
        for table, before, mine in paused:
            _put_hooks_back(table, before, mine)


def _put_hooks_back(table: dict[int, Any], before: list[tuple[int, Any]],
                    paused: set[int]) -> None:
    """The paused hooks in their old places; hooks removed meanwhile stay removed, hooks added
    meanwhile come last. A paused counter whose scheduler was collected is dropped."""
    now = dict(table)
    table.clear()
    for key, hook in before:
        if key in paused:
            if not (isinstance(hook, UpdateCounter) and hook.ref() is None):
                table[key] = hook
        elif key in now:
            table[key] = now.pop(key)
    table.update(now)


# -- copies --------------------------------------------------------------------------------------
def _copy(value: Any) -> Any:
    return value.detach().clone() if isinstance(value, torch.Tensor) else copy.deepcopy(value)


def _put_back(original: Any, saved: Any) -> Any:
    """The original object with the saved value: tensors (also inside tuples) in place."""
    if isinstance(original, torch.Tensor) and isinstance(saved, torch.Tensor):
        with torch.no_grad():
            original.copy_(saved)
        return original
    if isinstance(original, tuple) and any(isinstance(v, torch.Tensor) for v in original):
        for o, s in zip(original, saved):
            _put_back(o, s)
        return original
    return saved


def _put_back_dict(target: dict[Any, Any], saved: dict[Any, tuple[Any, Any]],
                   keep: tuple[str, ...] = ()) -> None:
    for key in [k for k in target if k not in saved and k not in keep]:
        del target[key]
    for key, (original, value) in saved.items():
        target[key] = _put_back(original, value)


def _rng_state() -> tuple[Any, ...]:
    cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    return (random.getstate(), np.random.get_state(), torch.get_rng_state(),
            torch.cuda.get_rng_state_all() if cuda else None)


def _set_rng_state(state: tuple[Any, ...]) -> None:
    python, numpy, cpu, cuda = state
    random.setstate(python)
    np.random.set_state(numpy)
    torch.set_rng_state(cpu)
    if cuda is not None:
        torch.cuda.set_rng_state_all(cuda)


def seed_everything(seed: int) -> None:
    """Seed python's, numpy's and torch's generators (CUDA's only if it is initialized)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.default_generator.manual_seed(seed)
    # only an initialized CUDA: seeding an uninitialized one queues a seed that would outlive
    # the restore
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.manual_seed_all(seed)
