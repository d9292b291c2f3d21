"""Lengths with units, and their conversion in one run (cadence.schedules.units).

The reference for a batch ramp is a loop that plays Megatron's rule update by update: the batch
of an update is ``start + increment * floor(consumed / L)`` (``L = over / stages``), capped at
``end``, from the samples consumed before it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cadence.schedules.units import BatchRamp, Duration, Timeline, is_length
from cadence.validation import InvalidType, InvalidValue


def played(start: int, end: int, increment: int, over: float, unit: str, updates: int,
           ) -> list[tuple[int, int]]:
    """(batch, samples consumed before it) of each update, by the rule, one update at a time."""
    stages = (end - start) // increment
    length = over / stages if stages else math.inf
    consumed, out = 0, []
    for u in range(updates):
        where = consumed if unit == "sp" else u
        batch = end if stages == 0 else min(end, start + increment * math.floor(where / length))
        out.append((batch, consumed))
        consumed += batch
    return out


ramps = st.builds(
    lambda start, stages, increment, over, unit: (start, start + stages * increment, increment,
                                                   over, unit),
    st.integers(1, 64), st.integers(0, 6), st.integers(1, 32), st.integers(1, 2000),
    st.sampled_from(["sp", "up"]))


@given(ramps)
def test_a_ramp_gives_the_batch_and_the_samples_of_every_update(ramp):
    start, end, increment, over, unit = ramp
    run = Timeline("samples", batch_size=BatchRamp(start, end, increment, f"{over}{unit}"))
    expected = played(start, end, increment, over, unit, 400)
    updates = np.arange(400)
    samples = run.convert(updates, "up", "sp")
    assert samples.tolist() == [float(consumed) for _, consumed in expected]
    assert [run.batch_at(s) for s in samples] == [float(b) for b, _ in expected]
    assert run.convert(samples, "sp", "up").tolist() == updates.tolist()  # and back


@pytest.mark.parametrize(("unit", "length", "expected"), [
    # one run: 512 samples of 2048 tokens per update, 1000 updates an epoch, 1e5 updates in all
    ("updates", "500up", 500.0),
    ("updates", "1024sp", 2.0),
    ("updates", "2097152tok", 2.0),          # 2048 * 512 * 2
    ("updates", "3ep", 3000.0),
    ("updates", "0.25dur", 25_000.0),
    ("samples", "500up", 500 * 512.0),
    ("samples", "2ep", 2 * 1000 * 512.0),
    ("tokens", "1e6sp", 1e6 * 2048),
    ("tokens", "0.8dur", 0.8 * 1e5 * 512 * 2048),
    ("tokens", 12345, 12345.0),              # a number is in the clock's unit already
])
def test_a_length_in_any_unit_is_measured_on_the_clock(unit, length, expected):
    run = Timeline(unit, batch_size=512, tokens_per_sample=2048, epoch="1000up", total="1e5up")
    assert run.length(length) == expected


def test_a_fraction_is_of_the_run_measured_on_the_clock():
    # 20 updates of 8, then 16: 100 updates are 1440 samples, and 0.8 of the run is 1152 of them
    run = Timeline("samples", batch_size=BatchRamp(8, 16, 8, "160sp"), total="100up")
    assert run.length("1dur") == 20 * 8 + 80 * 16
    assert run.length("0.8dur") == 0.8 * 1440


@pytest.mark.parametrize(("run", "length", "message"), [
    (Timeline("tokens"), "500up", "warmup '500up' cannot be converted to tokens: the samples in "
     "an update are not fixed"),
    (Timeline("tokens", batch_size=8), "500up", "warmup '500up' cannot be converted to tokens: "
     "the tokens in a sample are not fixed (give tokens_per_sample)"),
    (Timeline("updates"), "0.1dur", "warmup '0.1dur' is a fraction of the run, and the run's "
     "total is not given"),
    (Timeline("updates"), "3ep", "warmup '3ep' is in epochs, and an epoch's length is not given"),
    (Timeline("updates", epoch="100sp"), "3ep", "warmup '3ep' cannot be converted to updates: "
     "the samples in an update are not fixed"),
])
def test_a_conversion_the_run_does_not_define_is_refused_in_one_line(run, length, message):
    with pytest.raises(InvalidValue) as caught:
        run.length(length, "warmup")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("text", ["5", "1e6", "xup", "-3up", "3 epochs", "nanup", "1e999tok", ""])
def test_a_length_that_is_not_one_is_refused(text):
    assert not is_length(text)
    with pytest.raises(InvalidValue, match=rf"^'warmup' must be a length such as .* \(got {text!r}\)"):
        Duration.parse("warmup", text)


def test_lengths_parse_to_their_amount_and_unit():
    assert Duration.parse("w", "2e9tok") == Duration(2e9, "tok")
    assert Duration.parse("w", " 1_000 up ") == Duration(1000.0, "up")
    assert Duration.parse("w", ".5dur") == Duration(0.5, "dur")
    with pytest.raises(InvalidType):
        Duration.parse("w", 3)


@pytest.mark.parametrize(("args", "message"), [
    ((0, 16, 8, "160sp"), "'start' must be a positive int (got 0)"),
    ((16, 8, 8, "160sp"), "'end' must be an int >= 'start' (16) (got 8)"),
    ((8, 20, 8, "160sp"), "'increment' must divide end - start (12) (got 8)"),
    ((8, 16, 8, "3ep"), "'over' must be a positive length in updates, samples or tokens "
     "(got '3ep')"),
    ((8, 16, 8, "0sp"), "'over' must be a positive length"),
])
def test_a_bad_ramp_is_refused_by_name(args, message):
    with pytest.raises(InvalidValue, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        BatchRamp(*args)


def test_a_ramp_over_tokens_needs_the_tokens_in_a_sample():
    with pytest.raises(InvalidValue, match="'over' .* is in tokens: give tokens_per_sample"):
        Timeline("tokens", batch_size=BatchRamp(8, 16, 8, "1e4tok"))
    run = Timeline("tokens", batch_size=BatchRamp(8, 16, 8, "1280tok"), tokens_per_sample=8)
    assert run.convert(np.arange(25), "up", "sp").tolist() == [
        float(c) for _, c in played(8, 16, 8, 160, "sp", 25)]
