"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings
from schedule_examples import EXAMPLES

# The same examples on every run, so a CI run is reproducible; CADENCE_HYPOTHESIS=explore
# draws fresh ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=1000)
settings.load_profile(os.environ.get("CADENCE_HYPOTHESIS", "ci"))


@pytest.fixture(params=EXAMPLES, ids=[e[0] for e in EXAMPLES])
def example(request: pytest.FixtureRequest) -> tuple[str, object, bool]:
    """(id, schedule, bitwise) for one example of every schedule type."""
    return request.param


# -- the `frameworks` marker (make quick: pytest -m "not frameworks and not slow") ---------------
TESTS = Path(__file__).resolve().parent
# the tests that run a real third-party trainer or launcher (Lightning, transformers' Trainer,
# accelerate, MMEngine's Runner, Stable-Baselines3, torchrun) or the recipes: a folder or file
# under tests/, or one test as "file::name"
FRAMEWORKS = (
    "integrations/",
    "test_recipes.py",
    "cli/test_experiment.py::test_two_processes_keep_the_same_lr_and_rank_0_reports",  # torchrun
    "scheduler/test_clock.py::test_two_ranks_feeding_uneven_tokens_agree_on_the_clock",  # torchrun
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.path)).resolve()
        if not path.is_relative_to(TESTS):
            continue
        where = path.relative_to(TESTS).as_posix()
        test = f"{where}::{item.name.partition('[')[0]}"
        if any(where.startswith(p) if p.endswith("/") else p in (where, test)
               for p in FRAMEWORKS):
            item.add_marker(pytest.mark.frameworks)
