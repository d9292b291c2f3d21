"""cadence with accelerate (examples/accelerate_example.py): one process in this one, two
under torchrun, on CPU."""

from __future__ import annotations

import warnings

import pytest
from example_runner import example, run_example, torchrun_example

pytest.importorskip("accelerate")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning",
                                        "ignore::FutureWarning")
recipes = example("accelerate_example")
BASE = 0.05


def lrs(result):
    return [lr for _, lr in result["lrs"]]


def test_one_process_follows_the_schedule_sized_for_one_process():
    schedule = recipes.lr_schedule()
    assert lrs(recipes.fit("cadence")) == [BASE * schedule(t) for t in range(recipes.STEPS)]
    assert lrs(recipes.fit("drop-in")) == pytest.approx(lrs(recipes.fit("torch")), rel=1e-12)


def test_accumulation_steps_like_pytorchs():
    ours, theirs = recipes.fit("cadence", accumulate=2), recipes.fit("torch-lambda", accumulate=2)
    assert len(ours["lrs"]) == recipes.STEPS // 2
    assert lrs(ours) == pytest.approx(lrs(theirs), rel=1e-12)


def two_processes(recipe, tmp_path):
    """Each rank's record of a torchrun run with two processes (gloo)."""
    return torchrun_example("accelerate_example", "--recipe", recipe,
                            record=tmp_path / f"{recipe}.json")


def test_two_processes_end_where_pytorchs_scheduler_ends(tmp_path):
    ours, theirs = two_processes("cadence", tmp_path), two_processes("torch-lambda", tmp_path)
    assert ours[0]["processes"] == 2
    assert ours[0]["lrs"] == ours[1]["lrs"]  # the same lr on every rank
    assert len(ours[0]["lrs"]) == recipes.STEPS // 2  # each rank sees half the batches
    assert lrs(ours[0]) == pytest.approx(lrs(theirs[0]), rel=1e-12)
    schedule = recipes.lr_schedule()  # two steps of the schedule per update
    assert lrs(ours[0]) == [BASE * schedule(2 * t) for t in range(recipes.STEPS // 2)]


def test_a_scheduler_counting_updates_under_two_processes_says_what_it_does(tmp_path):
    """Ported from PyTorch's as is, with the default count='updates': accelerate calls it twice
    per update, it moves once, and it says so (at its first step) rather than end late in
    silence."""
    ranks = two_processes("cadence-updates", tmp_path)
    schedule = recipes.lr_schedule()
    assert lrs(ranks[0]) == [BASE * schedule(t) for t in range(recipes.STEPS // 2)]
    [warned] = ranks[0]["warnings"]
    assert warned.startswith("accelerate calls Scheduler.step() 2 times after each optimizer "
                             "update (2 processes, split_batches=False)")
    assert "count='calls'" in warned
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        recipes.fit("cadence-updates")
    assert not [w for w in caught if "accelerate calls" in str(w.message)]  # one process


def test_a_mid_epoch_state_resumes_in_a_fresh_process(tmp_path):
    uninterrupted = recipes.fit("cadence")
    stop = 10  # of 16 updates per epoch
    run_example("accelerate_example", "--recipe", "cadence", "--stop-at", str(stop),
                "--save-dir", str(tmp_path / "state"), record=tmp_path / "first.json")
    resumed = run_example("accelerate_example", "--recipe", "cadence", "--resume",
                          str(tmp_path / "state"), record=tmp_path / "resumed.json")
    assert [tuple(x) for x in resumed["lrs"]] == [tuple(x) for x in uninterrupted["lrs"]
                                                  if x[0] >= stop]
