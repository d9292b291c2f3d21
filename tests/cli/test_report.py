"""The experiment's report: what its figures and text say, checked on runs written out by hand
(the statistics computed here with the standard library)."""

from __future__ import annotations

import statistics
from itertools import pairwise

import numpy as np
import pytest
from figures import kinds_without_a_legend_entry
from matplotlib.colors import to_hex

from cadence.cli import report
from cadence.cli.experiment import BASE_LR, Run

SEEDS = 3
ONE_CYCLE_CONFIG = '{"type": "torch.OneCycleLR", "max_lr": 0.1, "total_steps": 8}'


def made_up_runs(names=("constant", "cosine"), seeds=SEEDS, epochs=4, steps_per_epoch=2):
    """Runs with distinct, irregular numbers per schedule, seed and epoch."""
    runs = []
    for i, name in enumerate(names):
        for seed in range(seeds):
            rows = []
            for e in range(epochs):
                wobble = ((7 * seed + 3 * e + i) % 5) / 50
                rows.append({"epoch": e + 1, "train_loss": 2.0 / (e + 1 + i) + wobble,
                             "train_acc": 0.5 + 0.1 * e - wobble / 2,
                             "test_acc": 0.45 + 0.1 * e - wobble / 3 + 0.01 * i})
            lrs = [BASE_LR * (1.0 - k / (epochs * steps_per_epoch) * i)
                   for k in range(epochs * steps_per_epoch)]
            runs.append(Run(name, seed, rows, lrs, seconds=1.0 + seed))
    return runs


def band_ys(collection):
    """For each x of a fill_between's polygons, the set of its y values."""
    ys: dict[float, set[float]] = {}
    for path in collection.get_paths():
        for x, y in path.vertices:
            ys.setdefault(round(float(x), 9), set()).add(round(float(y), 12))
    return ys


def test_every_panel_has_a_ylabel_and_the_figure_one_legend():
    runs = made_up_runs()
    fig = report.training_figure(runs)
    assert [ax.get_title() for ax in fig.axes] == ["train loss", "train accuracy",
                                                   "test accuracy"]
    assert all(ax.get_ylabel().strip() for ax in fig.axes)
    assert all(ax.get_legend() is None for ax in fig.axes)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["constant", "cosine",
                                                          report.BAND_LABEL]
    assert kinds_without_a_legend_entry(fig) == []
    assert [ax.get_yscale() for ax in fig.axes] == ["log", "linear", "linear"]


@pytest.mark.parametrize("key", report.COLUMNS)
def test_lines_are_the_mean_and_bands_the_lowest_to_the_highest_seed(key):
    runs = made_up_runs()
    fig = report.training_figure(runs)
    ax = fig.axes[report.COLUMNS.index(key)]
    lines = {line.get_label(): line for line in ax.get_lines()}
    bands = {c.get_gid(): c for c in ax.collections}
    assert set(lines) == set(bands) == {"constant", "cosine"}
    for name in ("constant", "cosine"):
        per_seed = [[e[key] for e in r.epochs] for r in runs if r.schedule == name]
        means = [statistics.mean(col) for col in zip(*per_seed)]
        np.testing.assert_allclose(lines[name].get_ydata(), means, rtol=1e-12)
        ys = band_ys(bands[name])
        for epoch, column in zip(range(1, 5), zip(*per_seed)):
            assert ys[float(epoch)] == {round(min(column), 12), round(max(column), 12)}
            assert min(column) < max(column)  # the band has a width: the check above can fail


def scattered_runs(losses_per_seed):
    """One schedule whose seeds end at the given train losses (a spread larger than the mean
    makes mean - std negative)."""
    runs = made_up_runs(names=("warm-restarts",), seeds=len(losses_per_seed))
    for run, loss in zip(runs, losses_per_seed):
        run.epochs[-1]["train_loss"] = loss
    return runs


@pytest.mark.parametrize("losses", [[0.001, 0.002, 1.0], [1e-6, 0.5, 0.6, 3.0], [0.0, 0.1, 0.2]])
def test_a_band_on_a_log_axis_has_a_positive_lower_edge(losses):
    fig = report.training_figure(scattered_runs(losses))
    for ax in fig.axes:
        if ax.get_yscale() != "log":
            continue
        for band in ax.collections:
            drawn_ys = [y for ys in band_ys(band).values() for y in ys]
            assert drawn_ys and all(y > 0 for y in drawn_ys)
    mean, std = statistics.mean(losses), statistics.stdev(losses)
    assert mean - std <= 0  # what a mean ± std band would have drawn at the last epoch
    (band,) = fig.axes[0].collections
    last = band_ys(band).get(4.0, set())
    # the lowest and highest seed where the lowest can be drawn; a gap where it is 0
    assert last == ({round(min(losses), 12), round(max(losses), 12)} if min(losses) > 0 else set())


def test_the_figure_says_what_the_bands_are():
    title = report.training_figure(made_up_runs()).get_suptitle()
    assert f"mean over {SEEDS} seeds" in title
    assert "from the lowest to the highest seed" in title
    one = report.training_figure(made_up_runs(seeds=1))
    assert "one seed" in one.get_suptitle()
    assert report.BAND_LABEL not in [t.get_text() for t in one.legends[0].get_texts()]
    for c in one.axes[2].collections:  # a band of no width
        assert all(len(ys) == 1 for ys in band_ys(c).values())


def test_the_lines_end_at_the_tables_mean_and_the_bands_hold_every_seed():
    runs = made_up_runs()
    fig = report.training_figure(runs)
    for row in report.rows(runs):
        name, cells = row[0], dict(zip(report.COLUMNS, row[1:4]))
        for key, cell in cells.items():
            mean, _ = (float(v) for v in cell.split(" ± "))
            ax = fig.axes[report.COLUMNS.index(key)]
            (line,) = [line for line in ax.get_lines() if line.get_label() == name]
            assert line.get_ydata()[-1] == pytest.approx(mean, abs=5e-5)
            (band,) = [c for c in ax.collections if c.get_gid() == name]
            low, high = sorted(band_ys(band)[4.0])  # the last epoch: the table's
            finals = [r.final(key) for r in runs if r.schedule == name]
            assert low == pytest.approx(min(finals)) and high == pytest.approx(max(finals))


def test_the_lr_figure_says_absolute_and_factor_of_the_base_lr():
    runs = made_up_runs()
    fig = report.lr_figure(runs, steps_per_epoch=2)
    ax = fig.axes[0]
    assert "absolute" in ax.get_ylabel()
    (factor_axis,) = ax.child_axes
    assert factor_axis.get_ylabel() == f"factor of the base lr {BASE_LR}"
    assert f"base lr {BASE_LR}" in ax.get_title()
    # the right axis reads lr / base lr
    fig.draw_without_rendering()
    np.testing.assert_allclose(factor_axis.get_ylim(), np.array(ax.get_ylim()) / BASE_LR,
                               rtol=1e-12)
    lines = {line.get_label(): line for line in ax.get_lines()}
    for name in ("constant", "cosine"):
        first = next(r for r in runs if r.schedule == name)
        assert list(lines[name].get_ydata()) == first.lrs


def style(line):
    return (to_hex(line.get_color()), line.get_linestyle(), tuple(line._dash_pattern[1] or ()))


@pytest.mark.parametrize("count", [1, 2, 8, 12, 30])
def test_every_schedule_stays_visible_where_curves_coincide(count):
    # every schedule follows the same lrs: each must still be told apart, and show
    names = tuple(f"s{i}" for i in range(count))
    runs = made_up_runs(names=names, seeds=2)
    for run in runs:
        run.lrs = [BASE_LR] * len(run.lrs)
    for fig in (report.lr_figure(runs, steps_per_epoch=2), report.training_figure(runs)):
        ax = fig.axes[0]
        lines = [line for line in ax.get_lines() if line.get_label() in names]
        assert [line.get_label() for line in lines] == list(names)  # in drawing order
        assert len({style(line) for line in lines}) == count  # no two alike
        widths = [line.get_linewidth() for line in lines]
        assert all(a > b for a, b in pairwise(widths))  # each thinner than those beneath
        assert all(line.get_linestyle() != "-" for line in lines[1:])  # with gaps to see through
        legend = ax.get_legend() or fig.legends[0]
        assert set(names) <= {t.get_text() for t in legend.get_texts()}
        assert kinds_without_a_legend_entry(fig) == []


def test_report_text_says_what_the_values_bands_and_repeats_are():
    text = report.report_text(made_up_runs(), epochs=4, seeds=SEEDS, world_size=1,
                              seconds=12.0, cpu_seconds=20.0)
    flat = " ".join(text.split())
    assert ("Each schedule's values are factors that multiply the base lr 0.02 (SGD, momentum "
            "0.9, batch 64)") in flat
    assert "mean ± sample standard deviation over seeds" in flat  # the table's
    assert "the shaded bands reach from the lowest to the highest seed" in flat
    assert "which a log axis draws as a plunge to the bottom" in flat
    assert "torch.set_num_threads(1)" in flat
    assert "same machine and PyTorch build gives the same numbers" in flat
    assert "Another CPU, PyTorch build or thread count" in flat
    assert "12 s of wall time" in flat and "20 s of CPU time" in flat
    assert "![learning rates](lr.png)" in text and "| constant |" in text
    assert all(len(line) <= 100 for line in text.splitlines() if not line.startswith("|"))


def test_a_scheduler_config_is_not_called_a_factor():
    runs = made_up_runs(names=("cosine", ONE_CYCLE_CONFIG))
    note = report.lr_note(runs)
    assert note.startswith("The values of cosine are factors that multiply the base lr 0.02")
    assert f"{ONE_CYCLE_CONFIG}: scheduler config(s) whose lrs do not scale" in note
