"""A cadence.Scheduler state is read strictly: what it lacks or holds beyond its format is
named, and nothing it held is dropped without being asked."""

from __future__ import annotations

import pytest
import torch

from cadence import ReduceOnPlateau, Scheduler
from cadence.schedules import Cosine


def built(plateau=False):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    controller = ReduceOnPlateau(patience=0, factor=0.5, sync=False) if plateau else None
    return opt, Scheduler(opt, lr=Cosine(steps=10), plateau=controller)


def test_an_unknown_key_is_refused_naming_it():
    opt, sched = built()
    opt.step()
    state = {**sched.state_dict(), "stepz": 3}
    _fresh_opt, fresh = built()
    with pytest.raises(ValueError, match=r"'state_dict' has keys no cadence.Scheduler state "
                       r"has: \['stepz'\]"):
        fresh.load_state_dict(state)
    assert fresh.current_step == 0


def test_a_state_without_its_layout_is_refused():
    _opt, sched = built()
    state = sched.state_dict()
    del state["layout"]
    with pytest.raises(ValueError, match=r"'state_dict' lacks \['layout'\]"):
        built()[1].load_state_dict(state)


@pytest.mark.parametrize("strict", [True, False])
def test_a_missing_plateau_state_is_not_dropped_silently(strict):
    opt, sched = built(plateau=True)
    opt.step()
    sched.report(1.0), sched.report(2.0)  # a reduction
    state = sched.state_dict()
    state["plateau_state"] = None
    _opt2, fresh = built(plateau=True)
    if strict:
        with pytest.raises(ValueError, match=r"state_dict\['plateau_state'\] is None, and this "
                           "scheduler has a plateau controller"):
            fresh.load_state_dict(state)
        assert fresh.current_step == 0
    else:
        fresh.load_state_dict(state, strict=False)  # asked: the controller starts afresh
        assert fresh.current_step == 1 and fresh.plateau.reductions == 0
