"""What loading a drop-in's state does to the values in the param groups.

Upstream's schedulers never write on load: the optimizer's own state holds the values. That is
right when the optimizer's state is loaded after the scheduler was built, and wrong in the two
other orders users write: the optimizer's state loaded first, then the scheduler built (its
first step moves the loaded values one step on: ``ConstantLR`` saved at step 3 resumes at
``factor**2`` of the base), or the scheduler's state alone into a fresh optimizer (the values
of step 0). A drop-in therefore notes when it is built which groups it wrote and how far it had
stepped (:class:`Built`); a state loaded while the optimizer still has those groups and nothing
has stepped since finds the groups holding only what the constructions wrote, and the values of
the loaded step replace them: the closed form of the loaded settings and step where the class
has one, else the values the state saved (:func:`restore`). After ``optimizer.load_state_dict``
(new group dicts) or once training has stepped, the groups hold real values and are left
alone.

Several drop-ins on one optimizer restore in the order they are loaded, so the one stepped last
(a container: ``SequentialLR``, ``ChainedScheduler``, after its children) sets the values.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cadence.scheduler.plan import Writes
from cadence.scheduler.slots import as_float


@dataclass(frozen=True, eq=False)
class Built:
    """The groups a drop-in was built on (the dicts themselves: compared by identity) and its
    step counter then."""

    groups: tuple[dict[str, Any], ...]
    counter: Any

    def untouched(self, groups: Sequence[dict[str, Any]], counter: Any) -> bool:
        """True when ``groups`` are still those dicts and ``counter`` has not moved."""
        return (counter == self.counter and len(groups) == len(self.groups)
                and all(map(operator.is_, groups, self.groups)))


def built(scheduler: Any) -> Built:
    """The mark a drop-in leaves when it is built (``scheduler._counter()`` its step counter)."""
    return Built(tuple(scheduler.optimizer.param_groups), scheduler._counter())


def untouched(scheduler: Any) -> bool:
    """Whether nothing has written ``scheduler``'s groups since it was built but constructions."""
    mark: Built | None = getattr(scheduler, "_built", None)
    return mark is not None and mark.untouched(scheduler.optimizer.param_groups,
                                               scheduler._counter())


def restore(groups: Sequence[dict[str, Any]], name: str, saved: object) -> bool:
    """Write ``saved`` (a loaded state's last values of hyperparameter ``name``, one per group)
    into ``groups``, if it is one finite number >= 0 per group. Returns whether it did."""
    if not (isinstance(saved, (list, tuple)) and len(saved) == len(groups)):
        return False
    values = [as_float(v) for v in saved]
    if not all(math.isfinite(v) and v >= 0 for v in values):
        return False
    Writes(name, groups, range(len(groups))).write(values)
    return True
