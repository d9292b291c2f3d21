"""Drop-in replacements for ``torch.optim.lr_scheduler`` (PyTorch 2.13), on cadence's schedules.

Change ``from torch.optim import lr_scheduler`` to ``from cadence.compat import lr_scheduler``:
each class is a subclass of PyTorch's class of the same name (``isinstance`` checks hold) with
PyTorch's signature, defaults, attributes, state and chaining rules, and its values are the
closed form of a cadence schedule (:mod:`cadence.compat.torch_shapes`): exact at any step,
after any resume, and previewable (``value_at``). PyTorch's own test suite passes against them;
the deliberate differences are in ``docs/compat.md``.

The classes are defined in private modules and named here: code that looks PyTorch's classes
up by their short name (LightningCLI's ``--lr_scheduler=StepLR``) keeps finding PyTorch's own
once cadence is imported, and ``cadence.compat.lr_scheduler.StepLR`` names cadence's.

>>> import torch
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> sched = StepLR(opt, step_size=2, gamma=0.5)
>>> for _ in range(3):
...     opt.step(); sched.step()
>>> sched.get_last_lr(), sched.last_epoch, isinstance(sched, torch.optim.lr_scheduler.StepLR)
([0.05], 3, True)

``EPOCH_DEPRECATION_WARNING`` is PyTorch's own message, warned (as PyTorch does) when
``step(epoch)`` is given an epoch:

>>> EPOCH_DEPRECATION_WARNING is torch.optim.lr_scheduler.EPOCH_DEPRECATION_WARNING
True
"""

from __future__ import annotations

from cadence.compat._lr_scheduler import (
    EPOCH_DEPRECATION_WARNING,
    ChainedScheduler,
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiplicativeLR,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
    _LRScheduler,
)

__all__ = [
    "EPOCH_DEPRECATION_WARNING",
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    "_LRScheduler",
]
