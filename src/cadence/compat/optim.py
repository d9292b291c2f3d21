"""``torch.optim`` with cadence's schedulers: one import to switch.

``import torch.optim as optim`` (or the same import from a PyTorch-compatible framework whose
``optim`` module also carries the schedulers, such as Genesis) becomes
``import cadence.compat.optim as optim``: the optimizers are PyTorch's own, ``optim.lr_scheduler``
and the scheduler classes at the top level are cadence's drop-ins, and the Hugging Face style
factories (``optim.get_cosine_schedule_with_warmup``, as such frameworks offer) are here too.
"""

from __future__ import annotations

from torch.optim import (
    ASGD,
    LBFGS,
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    NAdam,
    Optimizer,
    RAdam,
    RMSprop,
    Rprop,
    SparseAdam,
)

from cadence.compat import lr_scheduler
from cadence.compat.lr_scheduler import (
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
)
from cadence.compat.transformers import (
    get_constant_schedule,
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_cosine_with_hard_restarts_schedule_with_warmup,
    get_inverse_sqrt_schedule,
    get_linear_schedule_with_warmup,
    get_polynomial_decay_schedule_with_warmup,
    get_scheduler,
    get_wsd_schedule,
)

__all__ = [
    "ASGD", "LBFGS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax",
    "ChainedScheduler", "ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
    "CyclicLR", "ExponentialLR", "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR",
    "MultiplicativeLR", "NAdam", "OneCycleLR", "Optimizer", "PolynomialLR", "RAdam", "RMSprop",
    "ReduceLROnPlateau", "Rprop", "SequentialLR", "SparseAdam", "StepLR",
    "get_constant_schedule", "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup", "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_inverse_sqrt_schedule", "get_linear_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup", "get_scheduler", "get_wsd_schedule",
    "lr_scheduler",
]
