"""Bind schedules to a torch optimizer: any hyperparameter, exact resume, plateau control,
batch-size scaling."""

from cadence.scheduler.plateau import ReduceOnPlateau
from cadence.scheduler.scheduler import Scheduler

__all__ = ["ReduceOnPlateau", "Scheduler"]
