"""Importing cadence changes nothing for code that keeps PyTorch's schedulers: LightningCLI
resolves ``--lr_scheduler=StepLR`` (a short name, looked up among the subclasses of PyTorch's
``LRScheduler`` by jsonargparse) to PyTorch's class, and the full path to cadence's."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("jsonargparse")
L = pytest.importorskip("lightning")
from lightning.pytorch.cli import LightningCLI  # noqa: E402

import cadence.compat.lr_scheduler as C  # noqa: E402  (imported: what is under test)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning",
                                        "ignore::FutureWarning")


class Model(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)


def scheduler_built(name: str, *extra: str) -> object:
    cli = LightningCLI(Model, run=False, save_config_callback=None,
                       trainer_defaults={"logger": False, "enable_checkpointing": False},
                       args=["--optimizer=SGD", "--optimizer.lr=0.1",
                             f"--lr_scheduler={name}", *extra])
    _, [scheduler] = cli.model.configure_optimizers()
    return scheduler


@pytest.mark.parametrize(("name", "extra"), [
    ("StepLR", ["--lr_scheduler.step_size=2"]),
    ("ExponentialLR", ["--lr_scheduler.gamma=0.9"]),
    ("OneCycleLR", ["--lr_scheduler.max_lr=0.1", "--lr_scheduler.total_steps=10"]),
    ("CosineAnnealingLR", ["--lr_scheduler.T_max=10"]),
])
def test_a_short_name_is_pytorchs_class_and_the_full_path_cadences(name, extra):
    assert hasattr(C, name)  # cadence's drop-in of that name is imported
    theirs = scheduler_built(name, *extra)
    assert type(theirs) is getattr(torch.optim.lr_scheduler, name)
    ours = scheduler_built(f"cadence.compat.lr_scheduler.{name}", *extra)
    assert type(ours) is getattr(C, name)
