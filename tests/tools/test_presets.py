"""Presets: every name builds, is sized to the steps, and starts where it should."""

from __future__ import annotations

import numpy as np
import pytest

from cadence.compat.all_in_one_shapes import lr_scale
from cadence.tools.presets import PRESETS, preset

REQUIRED = {"constant", "step", "multistep", "cosine", "warmup-cosine", "cosine-restarts",
            "one-cycle", "wsd", "noam", "seed000"}


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
    assert preset("seed000", 1000)(150) == pytest.approx(0.2 + 1.8 * lr_scale()(150))
    with pytest.raises(ValueError, match="'steps' must be at least 20"):
        preset("cosine", 5)
