"""Shared fixtures."""

from __future__ import annotations

import os

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
