"""Bind schedules to a torch optimizer: any hyperparameter, exact resume, plateau control,
batch-size scaling.

The binding core is small named parts: :mod:`~cadence.scheduler.slots` (where a value lives in
a param group), :mod:`~cadence.scheduler.track` (the schedule and base of every group for one
hyperparameter), :mod:`~cadence.scheduler.plan` (the writes into the groups),
:mod:`~cadence.scheduler.binder` (tracks bound to an optimizer, with the modifiers
:mod:`~cadence.scheduler.batch` and :mod:`~cadence.scheduler.plateau`).
:class:`Scheduler` drives a binder with cadence's own rules: time on a
:mod:`~cadence.scheduler.clock` (optimizer updates by default; calls, samples or tokens),
strict state loading (:mod:`~cadence.scheduler.state`), and moves the values outside the
optimizer it is given with them (:mod:`~cadence.scheduler.targets`,
:mod:`~cadence.scheduler.target_set`).
"""

from cadence.scheduler.advice import LooksLikeRates
from cadence.scheduler.clock import Clock
from cadence.scheduler.ema import EMAUpdate
from cadence.scheduler.plateau import ReduceOnPlateau
from cadence.scheduler.plateau_scheduler import PlateauScheduler
from cadence.scheduler.scheduler import Scheduler
from cadence.scheduler.targets import Attribute, Item, Modules, Target, TensorValue
from cadence.scheduler.track import ABSOLUTE, RELATIVE, Span, Track

__all__ = [
    "ABSOLUTE", "RELATIVE", "Attribute", "Clock", "EMAUpdate", "Item", "LooksLikeRates", "Modules",
    "PlateauScheduler",
    "ReduceOnPlateau", "Scheduler", "Span", "Target", "TensorValue", "Track",
]
