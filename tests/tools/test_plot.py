"""plot: figures checked for content (panels, lines, landmarks, scales, files)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from figures import kinds_without_a_legend_entry

import cadence
from cadence.schedules import (
    Constant,
    Cooldown,
    Cosine,
    CosineRestarts,
    Linear,
    Step,
    Warmup,
    join,
)
from cadence.tools.curves import curves, load
from cadence.tools.plot import MARK_LABELS, MARK_STYLE, plot


def vertical(ax):
    return [line for line in ax.get_lines() if np.ptp(np.asarray(line.get_xdata(), float)) == 0]


def curves_of(ax):
    return [line for line in ax.get_lines() if np.ptp(np.asarray(line.get_xdata(), float)) > 0]


def test_several_schedules_overlaid_with_a_legend_and_landmarks():
    restarts = join([Linear(start=0.0, end=1.0, steps=50), CosineRestarts(period=100)], [50])
    fig = plot([restarts, Step(every=200, gamma=0.5), "one-cycle"], steps=500,
               labels=["restarts", "step", "one-cycle"])
    (ax,) = fig.axes
    assert ax.get_title() == "lr" and ax.get_xlabel() == "step"
    lines = curves_of(ax)
    assert [line.get_label() for line in lines] == ["restarts", "step", "one-cycle"]
    np.testing.assert_allclose(lines[0].get_ydata(), restarts(np.arange(500)))
    assert ax.get_legend() is not None
    marks = sorted(float(line.get_xdata()[0]) for line in vertical(ax))
    for landmark in (50.0, 150.0, 250.0, 200.0, 400.0, 149.0, 499.0):
        assert landmark in marks


def test_each_hyperparameter_and_group_gets_a_panel_and_nothing_changes():
    opt = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1},
                           {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.02}],
                          momentum=0.9, weight_decay=1e-4)
    sched = cadence.Scheduler(opt, lr=Warmup(Cosine(steps=90), steps=10),
                              weight_decay=Linear(start=1.0, end=0.1, steps=100),
                              momentum={0: Cosine(start=1.0, end=0.9, steps=100)})
    for _ in range(3):
        opt.step()
        sched.step()
    before = [dict((k, v) for k, v in g.items() if k != "params") for g in opt.param_groups]
    state = sched.state_dict()
    fig = plot(sched, steps=120)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["lr", "lr (group 1)", "momentum", "weight_decay", "weight_decay (group 1)"]
    np.testing.assert_allclose(curves_of(fig.axes[1])[0].get_ydata(),
                               0.02 * Warmup(Cosine(steps=90), steps=10)(np.arange(120)))
    assert [dict((k, v) for k, v in g.items() if k != "params")
            for g in opt.param_groups] == before
    assert sched.state_dict() == state


def test_epochs_log_scale_and_files(tmp_path):
    fig = plot("cosine-restarts", steps=1000, steps_per_epoch=100, log=True, title="t")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "epoch" and ax.get_yscale() == "log"
    assert curves_of(ax)[0].get_xdata()[-1] == pytest.approx(9.99)
    assert fig.get_suptitle() == "t"
    for suffix, magic in ((".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")):
        path = tmp_path / f"f{suffix}"
        plot("cosine", steps=100, path=path)
        assert path.read_bytes()[:5].startswith(magic)
    with pytest.raises(ValueError, match=r"'path' must end in \.png, \.svg or \.pdf"):
        plot("cosine", path=tmp_path / "f.jpg")


def test_configs_and_mmengine_lists_are_one_scheduler_each():
    mm = [{"type": "LinearLR", "start_factor": 0.1, "by_epoch": False, "begin": 0, "end": 20},
          {"type": "CosineAnnealingLR", "by_epoch": False, "T_max": 80, "begin": 20, "end": 100}]
    fig = plot(mm, steps=100)
    assert len(curves_of(fig.axes[0])) == 1
    fig = plot([{"type": "torch.OneCycleLR", "max_lr": 1.0, "total_steps": 100}], steps=100)
    assert [ax.get_title() for ax in fig.axes] == ["lr", "momentum"]


def test_curves_of_presets_files_and_inline_json(tmp_path):
    (tmp_path / "s.yaml").write_text("type: cosine\nsteps: 50\n")
    (c,) = curves(str(tmp_path / "s.yaml"), 60)
    assert c.label == "s" and c.values[50] == 0.0
    (c,) = curves('{"type": "linear", "start": 1, "end": 0, "steps": 10}', 20)
    assert c.values[5] == 0.5
    with pytest.raises(ValueError, match="unknown preset 'cosin'; did you mean 'cosine'"):
        load("cosin")
    with pytest.raises(ValueError, match="inline JSON does not parse"):
        load("{nope")
    with pytest.raises(ValueError, match="no such file"):
        load("missing.yaml")


def test_y_axes_say_whether_values_are_factors_or_absolute():
    # schedules and presets are factors of a group's base value
    fig = plot([Cosine(steps=100), "one-cycle"], steps=100)
    assert fig.axes[0].get_ylabel() == "lr (factor of the base lr)"
    # a scheduler on an optimizer: the values its groups get, 0.1 x the schedule
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    sched = cadence.Scheduler(opt, lr=Cosine(steps=100), momentum=Linear(start=1.0, end=0.9,
                                                                          steps=100))
    fig = plot(sched, steps=100)
    assert [ax.get_ylabel() for ax in fig.axes] == ["lr (absolute)", "momentum (absolute)"]
    assert curves_of(fig.axes[0])[0].get_ydata()[0] == pytest.approx(0.1)


def test_scheduler_configs_are_labelled_by_how_they_use_the_base():
    # StepLR multiplies the base lr: on the stand-in (base 1) it starts at 1
    step = plot({"type": "torch.StepLR", "step_size": 30, "gamma": 0.5}, steps=100)
    assert step.axes[0].get_ylabel() == "lr (factor of the base lr)"
    assert curves_of(step.axes[0])[0].get_ydata()[0] == pytest.approx(1.0)
    # OneCycleLR's lr peaks at max_lr and its momentum cycles between fixed values, whatever
    # the base
    one_cycle = plot({"type": "torch.OneCycleLR", "max_lr": 0.1, "total_steps": 100},
                     steps=100)
    assert [ax.get_ylabel() for ax in one_cycle.axes] == ["lr (absolute)",
                                                          "momentum (absolute)"]
    assert max(curves_of(one_cycle.axes[0])[0].get_ydata()) == pytest.approx(0.1)
    # a floor (eta_min) is neither: the values are for a base of 1
    floor = plot({"type": "torch.CosineAnnealingLR", "T_max": 100, "eta_min": 0.01},
                 steps=100)
    assert floor.axes[0].get_ylabel() == "lr (on a base lr of 1)"


def test_a_panel_of_factors_and_absolute_values_says_so_per_curve():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = cadence.Scheduler(opt, lr=Cosine(steps=100))
    fig = plot([Cosine(steps=100), sched], steps=100, labels=["shape", "mine"])
    (ax,) = fig.axes
    assert ax.get_ylabel() == "lr (absolute or factor: see the legend)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["shape [factor]",
                                                                  "mine [absolute]"]


# one schedule per kind of mark the plot draws (a test checks that every kind has one)
MARKED = {"restart": CosineRestarts(period=100), "milestone": Step(every=200, gamma=0.5),
          "phase": Warmup(Cosine(steps=400), steps=100),
          "stage": {"type": "scheduler", "lr": {"type": "constant"},  # a batch ramp's stages
                    "clock": {"unit": "samples", "batch_size": {
                        "type": "batch_ramp", "start": 8, "end": 16, "increment": 8,
                        "over": "160sp"}}},
          "branch": Cooldown(Constant(1.0), at=300, steps=100)}


def test_every_kind_of_mark_has_an_example():
    assert set(MARKED) == set(MARK_STYLE) == set(MARK_LABELS)


@pytest.mark.parametrize("kind", sorted(MARKED))
def test_every_kind_of_mark_drawn_has_a_legend_entry(kind):
    for spec in ([MARKED[kind]], [MARKED[kind], "cosine"], list(MARKED.values())):
        fig = plot(spec, steps=500)
        (ax,) = fig.axes
        drawn_kinds = {line.get_gid() for line in vertical(ax)}
        assert MARK_LABELS[kind] in drawn_kinds
        assert kinds_without_a_legend_entry(fig) == []
        texts = [t.get_text() for t in ax.get_legend().get_texts()]
        assert all(texts.count(MARK_LABELS[k]) == 1 for k in MARK_LABELS
                   if MARK_LABELS[k] in drawn_kinds)  # once, however many lines
    fig = plot([MARKED[kind]], steps=500, marks=False)  # nothing marked: the curve's entry
    assert vertical(fig.axes[0]) == [] and kinds_without_a_legend_entry(fig) == []
