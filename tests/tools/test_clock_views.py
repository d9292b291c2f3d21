"""plot, preview and describe of a scheduler on a clock: its unit, another axis, ramp stages."""

from __future__ import annotations

import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest

from cadence.tools import describe, plot, preview
from cadence.tools.curves import curves, unit_of

# Megatron-Bridge#2609's run: 100 updates, batch 8 -> 16 after 160 samples (20 updates)
CONFIG = {
    "type": "scheduler",
    "clock": {"unit": "samples", "total": "100up",
              "batch_size": {"type": "batch_ramp", "start": 8, "end": 16, "increment": 8,
                             "over": "160sp"}},
    "lr": {"type": "wsd", "warmup_steps": "10up", "decay_steps": "80up..100up",
           "total_steps": "1dur", "decay": "linear"},
}


def updates_at(samples: np.ndarray) -> np.ndarray:
    """The updates that consume ``samples``: 8 each up to 160, then 16 each."""
    return np.where(samples <= 160, samples / 8, 20 + (samples - 160) / 16)


def test_plot_draws_the_clocks_unit_or_another_axis_with_the_ramp_marked():
    fig = plot(CONFIG, 1441)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "samples"
    line = ax.lines[0]
    assert list(line.get_xdata()) == list(range(1441))
    fig = plot(CONFIG, 1441, axis="updates")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "updates"
    x = np.asarray(ax.lines[0].get_xdata())
    assert np.array_equal(x, updates_at(np.arange(1441.0)))
    y = np.asarray(ax.lines[0].get_ydata())
    # on the update axis the warm-up ends at update 10 and the decay runs from 80 to 100
    assert y[np.searchsorted(x, 10)] == 1.0 and y[np.searchsorted(x, 10) - 1] < 1.0
    assert y[np.searchsorted(x, 80)] == 1.0 and y[np.searchsorted(x, 80) + 1] < 1.0
    assert y[-1] == 0.0 and x[-1] == 100
    stages = [line for line in ax.lines if line.get_gid() == "batch size changes"]
    assert [float(np.asarray(line.get_xdata())[0]) for line in stages] == [20.0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "batch size changes" in labels and "phase end" in labels
    plt.close("all")


def test_an_axis_the_clock_cannot_convert_to_is_refused_naming_it():
    with pytest.raises(ValueError, match="cannot be converted to tokens: the tokens in a sample "
                                         "are not fixed"):
        plot(CONFIG, 100, axis="tokens")
    with pytest.raises(ValueError, match="'axis' 'samples' needs a scheduler on a clock"):
        plot("cosine", 100, axis="samples")
    with pytest.raises(ValueError, match="'axis' must be one of"):
        plot(CONFIG, 100, axis="epochs")
    plt.close("all")


def test_preview_and_describe_say_what_the_steps_count():
    found = curves(CONFIG, 1440)
    assert unit_of(found) == "samples" and unit_of(curves("cosine", 100)) == "step"
    text = preview(lambda t: np.interp(t, found[0].steps, found[0].values), 1440, unit="samples")
    assert text.splitlines()[-1].split() == ["0", "samples", "1439"]
    d = describe(CONFIG, 1441)
    assert d.clock == ("Steps are samples consumed (the scheduler's clock); its batch ramp "
                       "changes the batch size to 16 at 160 (update 20).")
    assert d.clock in " ".join(str(d).split())
    assert describe("cosine", 100).clock is None


def test_cadence_plot_axis_on_the_command_line(tmp_path):
    spec = tmp_path / "run.json"
    import json

    spec.write_text(json.dumps(CONFIG))
    out = subprocess.run([sys.executable, "-m", "cadence", "plot", str(spec), "--axis",
                          "updates", "-o", str(tmp_path / "lr.png")], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "lr.png").read_bytes()[:4] == b"\x89PNG"
    out = subprocess.run([sys.executable, "-m", "cadence", "preview", str(spec)],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "samples" in out.stdout.splitlines()[-1]
