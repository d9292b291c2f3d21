"""A changing lr (and betas) does not make a compiled optimizer step recompile."""

from __future__ import annotations

import pytest
import torch
import torch._dynamo
from torch._dynamo.utils import counters

from cadence import Scheduler
from cadence.schedules import Cosine, Linear, Warmup

STEPS = 50
# torch's own tracing code trips a DeprecationWarning of its own inside dynamo
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")


def train(tensors: bool, compiled: bool):
    torch.manual_seed(0)
    param = torch.nn.Parameter(torch.randn(16))
    if tensors:
        opt = torch.optim.Adam([param], lr=torch.tensor(0.01),
                               betas=(torch.tensor(0.9), torch.tensor(0.999)), foreach=False)
    else:
        opt = torch.optim.Adam([param], lr=0.01, foreach=False)
    sched = Scheduler(opt, lr=Warmup(Cosine(steps=STEPS), steps=5),
                      momentum=Linear(start=1.0, end=0.95, steps=STEPS))
    step = torch.compile(opt.step, backend="eager") if compiled else opt.step
    grads = torch.randn(STEPS, 16, generator=torch.Generator().manual_seed(1))
    seen = []
    for g in grads:
        param.grad = g.clone()
        step()
        sched.step()
        seen.append(float(opt.param_groups[0]["lr"]))
    return param.detach().clone(), seen


@pytest.fixture
def dynamo():
    torch._dynamo.reset()
    counters.clear()
    yield counters
    torch._dynamo.reset()


@pytest.mark.parametrize("automatic_dynamic", [True, False])
def test_tensor_lr_and_betas_compile_at_most_twice(dynamo, automatic_dynamic):
    with torch._dynamo.config.patch(automatic_dynamic_shapes=automatic_dynamic):
        compiled, lrs = train(tensors=True, compiled=True)
    assert dynamo["stats"]["unique_graphs"] <= 2
    assert len(set(lrs)) > 40  # the lr really moved
    eager, _ = train(tensors=True, compiled=False)
    torch.testing.assert_close(compiled, eager)  # and the compiled step used every value


def test_float_lr_recompiles(dynamo):
    """The control: with plain floats, and dynamo specialising on them, the same loop compiles
    again at every new lr (up to dynamo's cache limit); tensors were immune above."""
    with torch._dynamo.config.patch(automatic_dynamic_shapes=False):
        train(tensors=False, compiled=True)
    assert dynamo["stats"]["unique_graphs"] > 2
