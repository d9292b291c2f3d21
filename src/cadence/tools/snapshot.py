"""The state of a training run, saved and put back exactly.

:class:`TrainingSnapshot` copies the model's parameters, buffers, gradients and modes, the
optimizer's param groups and state, a scheduler's state and the random generators (python,
numpy, torch, CUDA); :meth:`TrainingSnapshot.restore` writes them back into the same objects, so
every tensor, param group and state dict keeps its identity. The LR range test runs inside one.

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
from typing import Any

import numpy as np
import torch

_MISSING = object()


class TrainingSnapshot:
    """Copies of everything the sweep changes; :meth:`restore` writes them back in place, so
    every tensor, param group and state dict keeps its identity."""

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                 scheduler: Any) -> None:
        self.optimizer, self.scheduler = optimizer, scheduler
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
        self.scheduler_state = None if scheduler is None else copy.deepcopy(scheduler.state_dict())
        self.rng = _rng_state()

    def restore(self) -> None:
        with torch.no_grad():
            for tensor, saved in self.tensors:
                tensor.copy_(saved)
        for tensor, grad, saved_grad in self.grads:
            tensor.grad = _put_back(grad, saved_grad)
        for module, training in self.training:
            module.training = training
        if self.scheduler is not None:
            self.scheduler.load_state_dict(self.scheduler_state)
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
