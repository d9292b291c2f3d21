"""cadence in transformers' Trainer (examples/transformers_example.py), on CPU."""

from __future__ import annotations

import pytest
import torch
from example_runner import example, run_example

pytest.importorskip("transformers")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning",
                                        "ignore::FutureWarning")
recipes = example("transformers_example")
BASE = 0.05  # the example's optimizer lr


@pytest.mark.parametrize("accumulate", [1, 2])
def test_each_update_uses_the_schedule_at_its_step(tmp_path, accumulate):
    record = recipes.fit("warmup-cosine", str(tmp_path), max_steps=24, accumulate=accumulate)
    schedule = recipes.lr_schedule()
    assert [step for step, _ in record.lrs] == list(range(24))
    assert [lr for _, lr in record.lrs] == [BASE * schedule(t) for t in range(24)]


@pytest.mark.parametrize("recipe", ["warmup-cosine", "drop-in"])
def test_the_logged_learning_rate_is_the_one_each_update_used(tmp_path, recipe):
    """The Trainer reads get_last_lr() between optimizer.step() and the scheduler's step()
    and logs it for that update: a Scheduler that counts updates has moved on by then."""
    record = recipes.fit(recipe, str(tmp_path), max_steps=16, logging_steps=1)
    used = dict(record.lrs)  # update k (0-based) makes global step k + 1
    assert [step for step, _ in record.logged] == list(range(1, 17))
    assert [lr for _, lr in record.logged] == [used[step - 1] for step, _ in record.logged]


def test_a_plateau_scheduler_is_fed_the_evaluation_metric(tmp_path):
    record = recipes.fit("plateau", str(tmp_path))
    reference = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(reference, patience=0, factor=0.5,
                                                         threshold=0.5)
    factors = [1.0]
    for loss in record.eval_losses:  # the Trainer evaluates every 8 updates
        plateau.step(loss)
        factors.append(reference.param_groups[0]["lr"])
    expected = [BASE * min(1.0, t / recipes.WARMUP) * factors[t // 8]
                for t in range(recipes.TOTAL)]
    assert [lr for _, lr in record.lrs] == pytest.approx(expected, rel=1e-12)
    assert 0 < min(factors) < 1.0


def test_the_factory_drop_in_gives_transformers_lrs(tmp_path):
    from transformers.optimization import get_cosine_schedule_with_warmup

    record = recipes.fit("drop-in", str(tmp_path))
    reference = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE)
    theirs = get_cosine_schedule_with_warmup(reference, recipes.WARMUP, recipes.TOTAL)
    expected = []
    for _ in range(recipes.TOTAL):
        expected.append(reference.param_groups[0]["lr"])
        reference.step()
        theirs.step()
    assert [lr for _, lr in record.lrs] == pytest.approx(expected, rel=1e-12, abs=1e-18)


@pytest.mark.parametrize("recipe", ["warmup-cosine", "plateau", "drop-in"])
def test_a_mid_epoch_checkpoint_resumes_in_a_fresh_process(tmp_path, recipe):
    uninterrupted = recipes.fit(recipe, str(tmp_path / "whole"))
    stop = 20  # the Trainer saves checkpoint-20, mid-epoch (8 updates per epoch)
    out = tmp_path / "run"
    run_example("transformers_example", "--recipe", recipe, "--output-dir", str(out),
                "--save-steps", str(stop), "--max-steps", str(stop),
                record=tmp_path / "first.json")
    resumed = run_example("transformers_example", "--recipe", recipe, "--output-dir", str(out),
                          "--resume", str(out / f"checkpoint-{stop}"),
                          record=tmp_path / "resumed.json")
    assert [step for step, _ in resumed["lrs"]] == list(range(stop, recipes.TOTAL))
    assert [lr for _, lr in resumed["lrs"]] == [lr for step, lr in uninterrupted.lrs
                                                if step >= stop]
