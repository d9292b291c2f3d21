"""Shared fixtures."""

from __future__ import annotations

import pytest
from schedule_examples import EXAMPLES


@pytest.fixture(params=EXAMPLES, ids=[e[0] for e in EXAMPLES])
def example(request: pytest.FixtureRequest) -> tuple[str, object, bool]:
    """(id, schedule, bitwise) for one example of every schedule type."""
    return request.param
