"""Drop-in replacements that keep upstream names, built on cadence's schedules and Scheduler."""

from cadence.compat.all_in_one import LRScheduler

__all__ = ["LRScheduler"]
