"""cadence in MMEngine's Runner (examples/mmengine_example.py): the config names cadence's
classes with the scope ``cadence``; the Runner builds, steps, saves and resumes them."""

from __future__ import annotations

import importlib
import sys

import pytest
from example_runner import example, run_example

pytest.importorskip("mmengine")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning",
                                        "ignore::FutureWarning")
recipes = example("mmengine_example")
ITERATIONS = recipes.EPOCHS * recipes.SAMPLES // recipes.BATCH


def values(record):
    return [lr for _, lr, _ in record], [momentum for _, _, momentum in record]


def test_the_runner_gives_the_values_of_mmengines_own_classes(tmp_path):
    ours = recipes.fit("cadence", str(tmp_path / "cadence"))
    theirs = recipes.fit("mmengine", str(tmp_path / "mmengine"))
    assert [step for step, _, _ in ours] == list(range(ITERATIONS))
    assert values(ours)[0] == pytest.approx(values(theirs)[0], rel=1e-12)
    assert values(ours)[1] == values(theirs)[1]
    assert len(set(values(ours)[1])) == 3  # the momentum's two milestones were met


def resumed(tmp_path, scope, checkpoint, *save):
    """A Runner resumed (in a fresh process) from ``checkpoint`` of a first run that saved as
    the options ``save`` say."""
    run_example("mmengine_example", "--scope", scope, "--work-dir", str(tmp_path / "first"),
                *save, record=tmp_path / "first.json")
    checkpoint = tmp_path / "first" / checkpoint
    return run_example("mmengine_example", "--scope", scope, "--resume", str(checkpoint),
                       "--work-dir", str(tmp_path / "resumed"),
                       record=tmp_path / "resumed.json")["lrs"]


def test_resume_at_an_epoch_boundary_continues_bit_for_bit(tmp_path):
    uninterrupted = [tuple(row) for row in recipes.fit("cadence", str(tmp_path / "whole"))]
    rows = resumed(tmp_path, "cadence", "epoch_2.pth", "--checkpoint-every", "1", "--by-epoch")
    assert [tuple(row) for row in rows] == uninterrupted[16:]  # epoch 2 ends at iteration 16


def test_resume_mid_epoch_does_what_mmengines_classes_do(tmp_path):
    # MMEngine's epoch-based loop, resumed mid-epoch, runs the whole epoch's batches again
    # from the saved iteration on: the schedule must follow the Runner's counters the same way
    ours, theirs = (resumed(tmp_path / scope, scope, "iter_12.pth", "--checkpoint-every", "12")
                    for scope in ("cadence", "mmengine"))
    assert ours[0][0] == 12 and len(ours) == ITERATIONS - 12 + 4  # iterations 12 to 15 again
    assert [row[0] for row in ours] == [row[0] for row in theirs]
    assert values(ours)[0] == pytest.approx(values(theirs)[0], rel=1e-12)
    assert values(ours)[1] == values(theirs)[1]


def test_every_drop_in_is_built_by_its_scoped_name():
    from mmengine.registry import PARAM_SCHEDULERS

    from cadence.compat import mmengine as drop_ins

    names = [name for name in drop_ins.__all__
             if isinstance(getattr(drop_ins, name), type) and name != "ParamScheduler"]
    assert "CosineAnnealingLR" in names and "MultiStepMomentum" in names
    for name in names:
        assert PARAM_SCHEDULERS.get(f"cadence.{name}") is getattr(drop_ins, name)
    assert PARAM_SCHEDULERS.get("mmengine.CosineAnnealingLR") is not drop_ins.CosineAnnealingLR


def test_without_mmengine_the_error_names_the_package(monkeypatch):
    for module in [m for m in sys.modules if m.startswith(("mmengine", "cadence.integrations"))]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, "mmengine", None)  # how Python marks a missing package
    with pytest.raises(ImportError, match="needs MMEngine: pip install mmengine-lite"):
        importlib.import_module("cadence.integrations.mmengine")
