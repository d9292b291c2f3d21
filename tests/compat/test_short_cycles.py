"""One-cycle schedules of any length and ``pct_start``, as PyTorch's and MMEngine's run them.

Upstream takes any ``pct_start`` in [0, 1] and any ``total_steps``: a phase that ends before
step 0 (``total_steps=3`` with the default 0.3, or ``total_steps=10, pct_start=0.05``) is
skipped and the next starts part-way. The drop-ins follow every such cycle, step by step, and
refuse only what upstream cannot compute (a phase of no length that a step falls in). One step
past the end, where upstream divides by zero or extrapolates, the last value holds.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as T

from cadence.compat import lr_scheduler as C
from cadence.compat import mmengine as CM
from cadence.compat.mmengine_base import mm  # MMEngine's schedulers, without its warning

GRID = list(itertools.product([1, 2, 3, 4, 5, 7, 10, 13], [0.0, 0.05, 0.1, 0.25, 0.3, 0.5, 0.6, 1.0],
                              [False, True], ["cos", "linear"]))
MAX_LR = 0.01


def run(make, total):
    """The lr and momentum before each of the cycle's updates, or the failure's type."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    try:
        sched = make(opt)
    except Exception as exc:
        return type(exc)
    out = []
    for _ in range(total):
        out.append([opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]])
        opt.step()
        if len(out) < total:  # the step past the last: upstream's may fail there
            sched.step()
    return np.array(out)


def differs(family, total, pct, three_phase, anneal):
    """What differs between upstream's cycle and the drop-in's (None: nothing)."""
    kwargs = dict(total_steps=total, pct_start=pct, three_phase=three_phase,
                  anneal_strategy=anneal)
    if family == "torch":
        theirs, ours = T.OneCycleLR, C.OneCycleLR
        kwargs["max_lr"] = MAX_LR
    else:
        theirs, ours = mm.OneCycleLR, CM.OneCycleLR
        kwargs["eta_max"] = MAX_LR
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = run(lambda o: theirs(o, **kwargs), total)
        got = run(lambda o: ours(o, **kwargs), total)
    if isinstance(expected, type):  # upstream cannot compute this cycle: refused, by name
        ok = isinstance(got, type) and issubclass(got, ValueError)
        return None if ok else f"{kwargs}: upstream fails, the drop-in gives {got}"
    if isinstance(got, type):
        return f"{kwargs}: refused a cycle upstream runs"
    # upstream's own formula loses a few ulp of max_lr to cancellation near the ends
    if not np.allclose(got, expected, rtol=1e-12, atol=1e-12 * MAX_LR):
        return f"{kwargs}: {got.tolist()} != {expected.tolist()}"
    return None


@pytest.mark.parametrize("family", ["torch", "mmengine"])
def test_every_cycle_runs_as_upstreams_does(family):
    found = [d for args in GRID if (d := differs(family, *args)) is not None]
    assert not found, "\n".join(found)


def test_the_reported_short_cycles_run():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    C.OneCycleLR(opt, max_lr=0.01, total_steps=3)
    C.OneCycleLR(opt, max_lr=0.01, total_steps=10, pct_start=0.05)
