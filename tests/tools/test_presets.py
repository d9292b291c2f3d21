"""Presets: every name builds, is sized to the steps, and starts where it should."""

from __future__ import annotations

import numpy as np
import pytest

from cadence.compat.all_in_one_shapes import lr_scale
from cadence.tools.presets import PRESETS, preset

REQUIRED = {"constant", "step", "multistep", "cosine", "warmup-cosine", "cosine-restarts",
            "one-cycle", "wsd", "noam", "warm-restarts"}


def test_the_required_presets_exist():
    assert set(PRESETS) >= REQUIRED


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_a_finite_schedule(name):
    values = preset(name, 2000)(np.arange(2000))
    assert np.all(np.isfinite(values)) and values.max() > 0


def test_sizes_and_shapes():
    assert preset("cosine", 500)(500) == 0.0
    assert preset("warmup-cosine", 1000)(0) == 0.0 and preset("warmup-cosine", 1000)(50) == 1.0
    assert preset("noam", 1000)(100) == pytest.approx(1.0)
    assert preset("one-cycle", 1000)(299) == pytest.approx(1.0)
    # warm-up 104, then cycles of 128, 256 and 512 steps: 104 + 7 * 128 = 1000
    sized = lr_scale(warmup_steps=104, T_0=128, T_mult=2)
    assert preset("warm-restarts", 1000)(150) == pytest.approx(0.2 + 1.8 * sized(150))
    with pytest.raises(ValueError, match="'steps' must be at least 20"):
        preset("cosine", 5)


@pytest.mark.parametrize("steps", [20, 100, 999, 1000, 4321, 45000])
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_no_preset_restarts_or_drops_in_the_last_five_percent(name, steps):
    late = [m for m in preset(name, steps).marks(float(steps))
            if m.kind in ("restart", "milestone") and 0.95 * steps <= m.step < steps]
    assert late == []


@pytest.mark.parametrize("steps", [100, 1000, 4321, 45000])
def test_sized_cycles_end_with_the_training(steps):
    restarts = preset("cosine-restarts", steps)
    t = np.arange(steps)
    values = restarts(t)
    # three cycles, n/7, 2n/7 and 4n/7 long: exactly two restarts, the values fall to the end
    assert np.count_nonzero(np.diff(values) > 0) == 2
    assert values[-1] == values[-100:].min() and values[-1] < 0.01
    step = preset("step", steps)(t)
    assert sorted(set(np.round(step, 12))) == [0.01, 0.1, 1.0]  # two drops, not a third
    warm = preset("warm-restarts", steps)(t)
    assert np.count_nonzero(np.diff(warm) > 1e-9 * warm.max()) > 0  # it warms up and restarts
    assert warm[-1] == pytest.approx(warm[-50:].min())
