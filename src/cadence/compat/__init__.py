"""Drop-in replacements that keep upstream names, built on cadence's schedules and Scheduler:
PyTorch's ``lr_scheduler``, transformers' factories, MMEngine's param schedulers, d2l's schedulers,
seed 000's all-in-one ``LRScheduler``, and :func:`build` for configs."""

from cadence.compat.all_in_one import LRScheduler
from cadence.compat.build import build

__all__ = ["LRScheduler", "build"]
