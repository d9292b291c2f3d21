"""Put back what a failed construction or load changed in the optimizer's param groups.

A scheduler computes and checks every value before it writes any, so a refused value changes
nothing; but building one or loading a state also records bases (``initial_<name>`` keys),
and a place can refuse a write after others took theirs. :func:`restoring` keeps what every
group held (its keys, and the value of each tensor in it, which writes fill in place) and puts
it back if the block raises.

>>> import torch
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> try:
...     with restoring(opt):
...         opt.param_groups[0]["lr"] = 0.5
...         opt.param_groups[0]["initial_lr"] = 0.5
...         raise ValueError("refused")
... except ValueError:
...     pass
>>> opt.param_groups[0]["lr"], "initial_lr" in opt.param_groups[0]
(0.1, False)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def restoring(optimizer: torch.optim.Optimizer) -> Iterator[None]:
    """Inside, changes to ``optimizer``'s param groups are undone if the block raises."""
    groups = list(optimizer.param_groups)
    kept = [dict(group) for group in groups]
    tensors = [(value, value.detach().clone()) for group in kept
               for key, value in group.items()
               if key != "params" and isinstance(value, torch.Tensor)]
    try:
        yield
    except BaseException:
        with torch.no_grad():
            for tensor, value in tensors:
                tensor.copy_(value)
        for group, before in zip(groups, kept):
            group.clear()
            group.update(before)
        optimizer.param_groups[:] = groups
        raise
