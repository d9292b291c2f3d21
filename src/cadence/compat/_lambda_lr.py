"""The PyTorch drop-ins driven by a user's function, ``LambdaLR`` and ``MultiplicativeLR``;
import them from :mod:`cadence.compat.lr_scheduler` (a private module, as
:mod:`cadence.compat._lr_scheduler` says why). Their state is PyTorch's, with a cadence schedule
given as the function saved as its config and rebuilt from it on load.

>>> import torch
>>> from cadence.schedules import Cosine
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> sched = LambdaLR(opt, lr_lambda=Cosine(steps=100))
>>> sched.state_dict()["lr_lambdas"]
[{'type': 'cosine', 'start': 1.0, 'end': 0.0, 'steps': 100}]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.optim import lr_scheduler as T

from cadence.compat import legacy
from cadence.compat import torch_shapes as shapes
from cadence.compat._torch_base import LRScheduler, write_lrs
from cadence.compat._torch_checks import check_epoch
from cadence.scheduler.plan import group_values
from cadence.scheduler.slots import as_float
from cadence.schedules import Multiplicative, Schedule
from cadence.validation import InvalidType


def _lambda_state(fn: Callable[..., Any]) -> Any:
    """How a lambda is saved: PyTorch's rule (a plain function as None, a callable object as
    its ``__dict__``), and a cadence schedule as its config (so the state stays plain data)."""
    if isinstance(fn, Schedule):
        try:
            return fn.to_config()
        except TypeError:  # a Lambda around a plain function
            return None
    return None if isinstance(fn, type(_lambda_state)) else fn.__dict__.copy()


class _UserFunctionLR(LRScheduler):
    """The state of :class:`LambdaLR` and :class:`MultiplicativeLR`: PyTorch's, with a cadence
    schedule saved as its config and rebuilt from it on load (the saved settings win)."""

    lr_lambdas: list[Callable[[int], float]]

    def _setting_values(self) -> dict[str, Any]:
        # a copy: a function replaced in the list (``sched.lr_lambdas[0] = f``, which PyTorch
        # reads at the next step) changes the settings, and the closed form is made again
        return {"lr_lambdas": list(self.lr_lambdas)}

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [_lambda_state(fn) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        from cadence.config.io import from_config
        from cadence.config.registry import registered

        if legacy.load(self, state_dict):  # a state of cadence 0.1.0, converted
            return
        saved = state_dict.get("lr_lambdas", []) if isinstance(state_dict, dict) else []
        if not isinstance(saved, list) or len(saved) > len(self.lr_lambdas) or not all(
                c is None or isinstance(c, dict) for c in saved):
            raise InvalidType(f"state_dict['lr_lambdas'] must be a list of None or dicts (a "
                              f"function's attributes, a schedule's config), at most one per "
                              f"param group ({len(self.lr_lambdas)}) (got {saved!r})")
        rebuilt = {i: from_config(c) for i, c in enumerate(saved)
                   if isinstance(c, dict) and c.get("type") in registered()
                   and i < len(self.lr_lambdas) and isinstance(self.lr_lambdas[i], Schedule)}
        others = [None if i in rebuilt else c for i, c in enumerate(saved)]
        super().load_state_dict({**state_dict, "lr_lambdas": others})
        # a new list, not the old one changed: the closed form's cache key holds the old one
        self.lr_lambdas = [rebuilt.get(i, fn) for i, fn in enumerate(self.lr_lambdas)]


class LambdaLR(_UserFunctionLR, T.LambdaLR):
    """``lr = base * lr_lambda(epoch)``. A cadence :class:`~cadence.schedules.Schedule` is a
    valid ``lr_lambda`` (and then the state holds its config).

    PyTorch's arguments (``optimizer``, ``lr_lambda``: one function or one per group,
    ``last_epoch``); the values are PyTorch's.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import LambdaLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = LambdaLR(opt, lr_lambda=lambda epoch: 0.9 ** epoch)
    >>> for _ in range(3):
    ...     opt.step(); sched.step()
    ...
    >>> sched.last_epoch, [round(lr, 6) for lr in sched.get_last_lr()]
    (3, [0.0729])
    >>> sched.value_at([0, 1, 10])["lr"][:, 0].round(6).tolist()  # the closed form, at any step
    [0.1, 0.09, 0.034868]
    >>> from cadence.schedules import Cosine
    >>> sched = LambdaLR(opt, lr_lambda=Cosine(steps=100))  # a schedule: saved as its config
    >>> sched.state_dict()['lr_lambdas']
    [{'type': 'cosine', 'start': 1.0, 'end': 0.0, 'steps': 100}]
    """

    describe = staticmethod(shapes.lambda_lr)
    chainable = False

    def __init__(self, optimizer: torch.optim.Optimizer,
                 lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1, verbose: bool | str = "deprecated") -> None:
        self._start(optimizer, last_epoch, verbose)
        for fn in lr_lambda if isinstance(lr_lambda, (list, tuple)) else [lr_lambda]:
            if not callable(fn):
                raise InvalidType(f"'lr_lambda' must be a callable or a list of them (got {fn!r})")
        T.LambdaLR.__init__(self, optimizer, lr_lambda, last_epoch)


class MultiplicativeLR(_UserFunctionLR, T.MultiplicativeLR):
    """``lr = base * lr_lambda(1) * ... * lr_lambda(epoch)``.

    PyTorch's arguments (``optimizer``, ``lr_lambda``, ``last_epoch``), in closed form: the
    product is computed from the step, not multiplied into the current lr.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import MultiplicativeLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = MultiplicativeLR(opt, lr_lambda=lambda epoch: 0.9)
    >>> for _ in range(3):
    ...     opt.step(); sched.step()
    ...
    >>> sched.last_epoch, [round(lr, 6) for lr in sched.get_last_lr()]
    (3, [0.0729])
    >>> sched.value_at([0, 1, 10])["lr"][:, 0].round(6).tolist()  # the closed form, at any step
    [0.1, 0.09, 0.034868]
    """

    describe = staticmethod(shapes.multiplicative_lr)

    def __init__(self, optimizer: torch.optim.Optimizer,
                 lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1, verbose: bool | str = "deprecated") -> None:
        self._start(optimizer, last_epoch, verbose)
        T.MultiplicativeLR.__init__(self, optimizer, lr_lambda, last_epoch)

    def _update_lr(self, epoch: float | None = None, initial: bool = False) -> None:
        """At an explicit epoch (``step(epoch)``, or SequentialLR starting it at its
        milestone), PyTorch's MultiplicativeLR, which has no closed form, multiplies each
        group's lr by ``lr_lambda(epoch)``: so does this one."""
        if epoch is None or self._custom:
            super()._update_lr(epoch, initial)
            return
        self.last_epoch = check_epoch(epoch)  # type: ignore[assignment]
        groups = self.optimizer.param_groups
        factors = [Multiplicative(fn).factor_at(self.last_epoch) for fn in self.lr_lambdas]
        write_lrs(groups, [as_float(g["lr"]) * f for g, f in zip(groups, factors)])
        self._last_lr = group_values(groups, "lr")
