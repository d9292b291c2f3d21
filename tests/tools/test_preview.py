"""Terminal previews: braille plot and sparkline."""

from __future__ import annotations

import numpy as np
import pytest

from cadence.schedules import Constant, Cosine, Exponential, Linear
from cadence.tools import preview, sparkline
from cadence.tools.preview import BLOCKS
from cadence.validation import InvalidValue

BRAILLE = range(0x2800, 0x2900)


def plot_rows(text):
    return [line.split("┤", 1)[1] for line in text.splitlines() if "┤" in line]


def test_preview_has_the_asked_size_and_labels():
    text = preview(Linear(start=0.5, end=2.0, steps=100), steps=101, width=30, height=8,
                   title="ramp")
    lines = text.splitlines()
    assert lines[0] == "ramp"
    rows = plot_rows(text)
    assert len(rows) == 8 and all(len(r) == 30 for r in rows)
    assert all(ord(ch) in BRAILLE for r in rows for ch in r)
    assert rows[0] != chr(0x2800) * 30  # something drawn on the top row
    assert lines[1].lstrip().startswith("2 ┤")
    assert lines[8].lstrip().startswith("0.5 ┤")
    assert lines[-1].strip().startswith("0") and lines[-1].strip().endswith("100")


def test_preview_draws_a_rise_from_bottom_left_to_top_right():
    rows = plot_rows(preview(Linear(start=0.0, end=1.0, steps=99), steps=100, width=10,
                             height=4))
    blank = chr(0x2800)
    assert rows[-1][0] != blank and rows[0][0] == blank
    assert rows[0][-1] != blank and rows[-1][-1] == blank


def test_log_scale_labels_span_decades():
    text = preview(Exponential(rate=0.5), steps=21, log=True, height=5)
    assert "(log scale)" in text
    assert "1 ┤" in text and "9.537e-07 ┤" in text


def test_flat_schedule_is_drawn_in_the_middle():
    rows = plot_rows(preview(Constant(0.3), steps=10, width=5, height=3))
    assert set(rows[0]) == {chr(0x2800)} and set(rows[2]) == {chr(0x2800)}
    assert set(rows[1]) != {chr(0x2800)}


def test_sparkline():
    line = sparkline(Cosine(start=1.0, end=0.0, steps=99), steps=100, width=20)
    assert len(line) == 20 and set(line) <= set(BLOCKS)
    assert line[0] == BLOCKS[-1] and line[-1] == BLOCKS[0]
    assert list(line) == sorted(line, reverse=True)
    assert len(sparkline(Constant(1.0), steps=3, width=50)) == 3


@pytest.mark.parametrize("kwargs", [{"steps": 0}, {"steps": 10, "width": 0},
                                    {"steps": 10, "height": -1}])
def test_bad_sizes_are_refused(kwargs):
    with pytest.raises(ValueError, match="must be a positive int"):
        preview(Constant(1.0), **kwargs)


def test_the_x_axis_is_in_epochs_with_steps_per_epoch():
    text = preview(Cosine(steps=1000), steps=1000, width=40, height=3, steps_per_epoch=100)
    axis = text.splitlines()[-1].split()
    assert axis == ["0", "epoch", "9.99"]
    assert preview(Cosine(steps=1000), steps=1000, width=40, height=3).splitlines()[-1].split() \
        == ["0", "step", "999"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"width": 1001}, r"'width' must be a positive int up to 1000 \(got 1001\)"),
    ({"height": 10**6}, r"'height' must be a positive int up to 500 \(got 1000000\)"),
    ({"steps_per_epoch": 0}, r"'steps_per_epoch' must be a positive number \(got 0\)"),
])
def test_sizes_that_would_not_fit_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        preview(Constant(1.0), steps=10, **kwargs)
    if "width" in kwargs:
        with pytest.raises(ValueError, match=message):
            sparkline(Constant(1.0), steps=10, **kwargs)


# -- values up to the float range --------------------------------------------------------------
EXTREME = [
    (Linear(start=1e308, end=-1e308, steps=99), False, "1e+308", "-1e+308"),
    (Linear(start=-1.7976931348623157e308, end=1.7976931348623157e308, steps=99), False,
     "1.798e+308", "-1.798e+308"),
    (Constant(1.7976931348623157e308), True, "1.798e+308", "1.798e+308"),
]


@pytest.mark.parametrize(("schedule", "log", "high", "low"), EXTREME)
def test_values_up_to_the_float_range_are_drawn(schedule, log, high, low):
    text = preview(schedule, steps=100, width=20, height=5, log=log)
    rows = plot_rows(text)
    assert len(rows) == 5 and all(len(r) == 20 for r in rows)
    assert text.splitlines()[0].strip().startswith(f"{high} ┤")
    assert text.splitlines()[4].strip().startswith(f"{low} ┤")
    if isinstance(schedule, Linear) and not log:  # from one corner to the other
        first, last = (0, -1) if schedule.start > schedule.end else (-1, 0)
        assert rows[first][0] != chr(0x2800) and rows[last][-1] != chr(0x2800)
    assert len(sparkline(schedule, steps=100, width=20)) == 20


def infinite_from(step):
    return lambda t: np.where(np.asarray(t) >= step, np.inf, 1.0)


@pytest.mark.parametrize(("schedule", "value", "first"), [
    (infinite_from(50), "inf", 50),
    (lambda t: np.full(np.shape(t), np.nan), "nan", 0),
    (lambda t: np.where(np.asarray(t) > 0, -np.inf, 1.0), "-inf", 0.01),
])
def test_values_that_are_not_finite_are_refused(schedule, value, first):
    for draw in (preview, sparkline):
        with pytest.raises(InvalidValue, match=rf"^the schedule is {value} at step ([\d.]+): a "
                                               r"preview draws finite values only$") as caught:
            draw(schedule, steps=100)
        step = float(str(caught.value).split(" at step ")[1].split(":")[0])
        assert first <= step < first + 2  # the first step sampled where it is not finite


@pytest.mark.parametrize("schedule", [Constant(0.0), Constant(-2.0),
                                      Linear(start=0.0, end=-1e308, steps=10)])
def test_a_log_scale_with_no_positive_value_is_refused(schedule):
    with pytest.raises(InvalidValue, match=r"a log scale needs a value above 0 \(every value is "
                                           r"at or below 0, the highest -?\d"):
        preview(schedule, steps=10, log=True)
