"""The schedule a fitted law predicts to end lowest: better, by the law, than every usual shape
of the same length, peak and warm-up, and monotone."""

from __future__ import annotations

import numpy as np
import pytest

from cadence.schedules import WSD, Constant, Cosine, Join, Linear, join
from cadence.tools.forecast import Forecast, lrs_of
from cadence.tools.forecast_search import best_schedule
from cadence.validation import InvalidInput

TOTAL, PEAK, WARMUP = 600, 0.1, 30
# the annealing law with a drop that pays: decaying helps, but too early costs area
ANNEALING = Forecast("annealing", {"L0": 2.0, "A": 1.0, "alpha": 0.5, "C": 0.002}, PEAK, {},
                     (0.0, 0.0), TOTAL, PEAK)
MULTI_POWER = Forecast("multi-power", {"L0": 2.0, "A": 1.0, "alpha": 0.5, "B": 0.3, "C": 1.0,
                                       "beta": 0.5, "gamma": 0.5}, PEAK, {}, (0.0, 0.0), TOTAL,
                       PEAK)


def warmed(schedule):
    return join([Linear(start=0.0, end=1.0, steps=WARMUP), schedule], [WARMUP])


SHAPES = {
    "constant": warmed(Constant(1.0)),
    "cosine": warmed(Cosine(steps=TOTAL - WARMUP)),
    "linear": warmed(Linear(start=1.0, end=0.0, steps=TOTAL - WARMUP)),
    "wsd": WSD(warmup_steps=WARMUP, decay_steps=120, total_steps=TOTAL, decay="linear"),
    "wsd-1-sqrt": WSD(warmup_steps=WARMUP, decay_steps=120, total_steps=TOTAL, decay="1-sqrt"),
}


def final(model, schedule):
    return model.predict(lrs_of(schedule, TOTAL, PEAK), [TOTAL - 1]).final


@pytest.mark.parametrize("model", [ANNEALING, MULTI_POWER], ids=["annealing", "multi-power"])
def test_the_best_schedule_beats_every_usual_shape_by_the_law(model):
    best = best_schedule(model, warmup=WARMUP, pieces=6)
    assert isinstance(best, Join)
    values = best(np.arange(TOTAL + 1))
    assert values[0] == 0.0 and values[WARMUP] == 1.0
    assert np.all(np.diff(values[WARMUP:]) <= 1e-12)  # monotone after the warm-up
    assert values.min() >= 0.0
    mine = final(model, best)
    for name, shape in SHAPES.items():
        assert mine <= final(model, shape) + 1e-12, name
    assert mine < final(model, SHAPES["constant"]) - 1e-4  # decaying pays under these laws


def test_a_law_where_decaying_never_pays_keeps_the_constant():
    area = Forecast("area", {"L0": 2.0, "A": 1.0, "alpha": 0.5}, PEAK, {}, (0.0, 0.0), TOTAL,
                    PEAK)
    best = best_schedule(area, pieces=4)
    np.testing.assert_array_equal(best(np.arange(TOTAL)), np.ones(TOTAL))


def test_the_floor_is_kept():
    best = best_schedule(ANNEALING, pieces=4, floor=0.25)
    assert best(np.arange(TOTAL + 1)).min() >= 0.25 - 1e-12


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"pieces": 0}, r"'pieces' must be a positive int \(got 0\)"),
    ({"floor": 1.5}, r"'floor' must be"),
    ({"warmup": -1}, r"'warmup' must be an int >= 0 \(got -1\)"),
    ({"total": 5, "pieces": 8}, r"'pieces' must leave at least one update to each piece"),
    ({"peak": 0.0}, r"'peak' must be"),
])
def test_mistakes_are_named(kwargs, match):
    with pytest.raises(InvalidInput, match=match):
        best_schedule(ANNEALING, **kwargs)
