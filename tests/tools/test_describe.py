"""describe: per-curve summaries, landmarks, jumps and warnings, against numbers worked out by
hand from each shape's formula."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from rich.table import Table

import cadence as cd
from cadence.schedules import (
    Constant,
    Cosine,
    CosineRestarts,
    Exponential,
    Linear,
    MultiStep,
    Repeat,
    Step,
    Warmup,
    join,
)
from cadence.tools.curves import horizon
from cadence.tools.describe import Description, Jump, describe
from cadence.tools.presets import PRESETS
from cadence.tools.text import fmt_list, fmt_number, fmt_step


def row_cells(text: str, name: str) -> list[str]:
    """The cells of the table row whose first cell is ``name`` (cells are 2+ spaces apart)."""
    for line in text.splitlines():
        if line.strip().startswith(name):
            return re.split(r"\s{2,}", line.strip())
    raise AssertionError(f"no row {name!r} in\n{text}")


def warmup_cosine(t: float) -> float:
    return t / 100 if t < 100 else 0.5 * (1 + math.cos(math.pi * min(t - 100, 900) / 900))


def test_warmup_cosine_numbers():
    d = describe(Warmup(Cosine(start=1.0, end=0.0, steps=900), steps=100), 1101)
    (s,) = d.summaries
    assert (s.label, s.hyperparameter, s.group) == ("warmup", "lr", None)
    assert s.start == 0.0
    assert s.peak == pytest.approx(1.0) and s.peak_step == 100
    assert s.warmup_steps == 100
    assert s.end == pytest.approx(0.0, abs=1e-15) and s.minimum == pytest.approx(0.0, abs=1e-15)
    assert s.mean == pytest.approx(sum(warmup_cosine(t) for t in range(1101)) / 1101, rel=1e-12)
    assert s.phases == [100, 1000]
    assert s.restarts == [] and s.milestones == [] and s.jumps == []
    assert s.settles == 1000
    # 0 at step 1000, the end of its own shape: shown over more steps, that is no mistake ...
    assert d.warnings == []
    # ... but a training of 1101 steps would run its last 100 at 0
    trained = describe(Warmup(Cosine(start=1.0, end=0.0, steps=900), steps=100), 1101,
                       training_steps=1101)
    assert trained.warnings == ["warmup: lr: the value reaches 0 at step 1000, before the last "
                                "training step (1100), and stays 0 from there."]


def test_warmup_cosine_ending_on_the_last_step_has_no_warning():
    d = describe(Warmup(Cosine(start=1.0, end=0.0, steps=900), steps=100), 1001,
                 training_steps=1001)
    assert d.warnings == []
    assert d.summaries[0].settles is None  # still changing at the last step


def test_no_warmup_when_the_curve_starts_by_falling_or_is_flat():
    assert describe(Cosine(steps=100), 100).summaries[0].warmup_steps == 0
    assert describe(Constant(0.5), 10).summaries[0].warmup_steps == 0
    # a pure rise that then holds: the rise is the warm-up
    assert describe(Linear(start=0.1, end=1.0, steps=30), 100).summaries[0].warmup_steps == 30


def test_cosine_restarts_restart_steps_follow_the_formula():
    # cycle k starts at period * (mult**k - 1) / (mult - 1)
    d = describe(CosineRestarts(period=10, period_mult=2), 1000)
    (s,) = d.summaries
    expected = [10 * (2**k - 1) for k in range(1, 7)]
    assert s.restarts == expected == [10, 30, 70, 150, 310, 630]
    assert [j.step for j in s.jumps] == expected  # each restart jumps back up ...
    assert all(j.size > 0.9 for j in s.jumps)
    assert d.warnings == []  # ... on purpose: no warning


def test_multistep_milestones_and_their_jumps():
    d = describe(MultiStep(milestones=[30, 60, 80], gamma=0.5), 100)
    (s,) = d.summaries
    assert s.milestones == [30, 60, 80]
    # range 1 - 0.125 = 0.875; drops of 0.5 and 0.25 exceed 25% of it, 0.125 does not
    assert s.jumps == [Jump(30, -0.5), Jump(60, -0.25)]
    assert (s.start, s.end, s.minimum) == (1.0, 0.125, 0.125)
    assert describe(MultiStep(milestones=[30], gamma=0.1), 100).warnings == []  # deliberate drop


def test_join_with_a_jump():
    schedule = join([Linear(start=1.0, end=0.8, steps=50), Constant(0.2)], boundaries=[50])
    d = describe(schedule, 100)
    (s,) = d.summaries
    before = 1.0 - 0.2 * 49 / 50
    assert s.jumps == [Jump(50, pytest.approx(0.2 - before))]
    assert s.phases == [50]
    assert d.warnings == [f"join: lr: the value jumps from {before:.4g} to 0.2 at step 50 (a change "
                          f"of {0.2 - before:+.4g}, more than half the peak 1); check that the "
                          "pieces meet there."]


def test_small_jump_is_listed_without_a_warning():
    schedule = join([Constant(1.0), Constant(0.6)], boundaries=[50])
    d = describe(schedule, 100)
    assert d.summaries[0].jumps == [Jump(50, pytest.approx(-0.4))]
    assert d.warnings == []


def test_smooth_curves_have_no_jumps():
    for schedule in (Cosine(steps=100), Linear(start=0.0, end=1.0, steps=10), Exponential(rate=0.9)):
        assert describe(schedule, 101).summaries[0].jumps == []


def test_linear_reaching_zero_halfway():
    d = describe(Linear(start=1.0, end=0.0, steps=50), 100, training_steps=100)
    assert d.warnings[0] == ("linear: lr: the value reaches 0 at step 50, before the last "
                             "training step (99), and stays 0 from there.")
    assert describe(Linear(start=1.0, end=0.0, steps=50), 100).warnings == []  # its own end
    # reaching 0 before its own shape ends is a mistake however long the view
    early = Linear(start=1.0, end=0.0, steps=50) * Cosine(steps=100)
    assert describe(early, 300).warnings == [
        "product: lr: the value reaches 0 at step 50, before the end of its own shape "
        "(step 100), and stays 0 from there."]
    # reaching 0 exactly on the last step is the intended end
    assert describe(Linear(start=1.0, end=0.0, steps=99), 100).warnings == []
    # a warm-up from 0 does not "reach" 0
    assert describe(Warmup(Constant(1.0), steps=10), 100).warnings == []


def test_schedule_shorter_than_training():
    schedule = Cosine(start=1.0, end=0.1, steps=500)
    (warning,) = describe(schedule, 1000, training_steps=1000).warnings
    assert warning == ("cosine: lr: the schedule is shorter than the training: it settles at step "
                       "500 (at 0.1) but training runs 1000 steps, so the last 500 updates use "
                       "that value.")
    assert describe(schedule, 500, training_steps=500).warnings == []
    assert describe(schedule, 540, training_steps=540).warnings == []  # tail under 10%
    # settling at the peak (warm-up, then constant) is not a mistake
    assert describe(Warmup(Constant(1.0), steps=100), 1000, training_steps=1000).warnings == []


def test_schedule_longer_than_training():
    (warning,) = describe(Cosine(steps=10_000), 1000, training_steps=1000).warnings
    value = 0.5 * (1 + math.cos(math.pi * 1000 / 10_000))
    assert warning == ("cosine: lr: the schedule is longer than the training: its last phase ends "
                       "at step 10000, beyond 1.5x the 1000 training steps, so it would not finish "
                       f"(at step 1000 it is at {value:.4g}; it ends at 0).")
    (warning,) = describe(Linear(start=1.0, end=0.5, steps=2000), 1000,
                          training_steps=1000).warnings
    assert "keeps changing until step 2000, beyond 1.5x the 1000 training steps" in warning
    assert "(at step 1000 it is at 0.75; it ends at 0.5)" in warning
    assert describe(Linear(start=1.0, end=0.5, steps=2000), 1000, training_steps=1400).warnings == []
    (warning,) = describe(MultiStep(milestones=[30, 6000]), 900, training_steps=900).warnings
    assert "its last milestone is at step 6000" in warning
    (warning,) = describe(Warmup(Cosine(steps=100), steps=5000), 1000,
                          training_steps=1000).warnings
    assert "its last phase ends at step 5100" in warning


def test_periodic_and_open_ended_shapes_are_not_judged():
    for schedule in (CosineRestarts(period=100), Exponential(rate=0.999), Constant(1.0)):
        assert describe(schedule, 1000, training_steps=1000).warnings == []


def test_a_restart_or_drop_in_the_last_steps_of_training_is_warned():
    (warning,) = describe(CosineRestarts(period=142, period_mult=2), 1000,
                          training_steps=1000).warnings  # restarts at 142, 426, 994
    assert "restarts at step 994, so the last 6 of the 1000 training steps" in warning
    warnings = describe(Step(every=333, gamma=0.1), 1000, training_steps=1000).warnings
    assert any("drops (a milestone) at step 999, so the last 1 of the 1000" in w
               for w in warnings)
    # a restart at the training's end, or earlier than its last 5%, is fine
    for schedule in (CosineRestarts(period=1000 / 7, period_mult=2),
                     CosineRestarts(period=100), MultiStep(milestones=[500, 940])):
        assert describe(schedule, 1000, training_steps=1000).warnings == []


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_no_preset_is_warned_about_at_its_own_size(name):
    for steps in (100, 1000, 45000):
        assert describe(name, steps, training_steps=steps).warnings == []


def test_a_summary_of_too_many_steps_is_refused_before_any_work():
    with pytest.raises(ValueError, match=r"'steps' must be at most 10,000,000 for a summary "
                                         r"\(got 100,000,000\)"):
        describe(Cosine(steps=10), 100_000_000)
    with pytest.raises(ValueError, match="at most 10,000,000 steps"):
        describe(Cosine(steps=10), np.arange(10_000_001, dtype=np.float64))


def test_scheduler_gives_one_row_per_group_and_hyperparameter():
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD([{"params": [model.weight]}, {"params": [model.bias], "lr": 0.01}],
                          lr=0.1, momentum=0.9)
    sched = cd.Scheduler(opt, lr=Warmup(Cosine(steps=90), steps=10),
                         momentum=Linear(start=1.0, end=0.5, steps=100))
    d = describe(sched, 101)
    names = [s.name for s in d.summaries]
    assert names == ["Scheduler (group 0): lr", "Scheduler (group 1): lr",
                     "Scheduler (group 0): momentum", "Scheduler (group 1): momentum"]
    lr0, lr1, m0, m1 = d.summaries
    assert (lr0.peak, lr0.peak_step, lr0.warmup_steps) == (pytest.approx(0.1), 10, 10)
    assert (lr1.peak, lr1.peak_step) == (pytest.approx(0.01), 10)
    assert (m0.start, m0.end, m1.end) == (pytest.approx(0.9), pytest.approx(0.45),
                                          pytest.approx(0.45))
    assert lr0.phases == [10, 100]
    assert opt.param_groups[0]["lr"] == 0.0  # describing changes nothing
    text = str(d)
    assert row_cells(text, "Scheduler (group 0): lr")[:3] == ["Scheduler (group 0): lr", "0",
                                                              "0.1 @ 10"]
    assert row_cells(text, "Scheduler (group 1): momentum")[1:4] == ["0.9", "0.9 @ 0", "0.45"]


def test_rendered_text_has_the_cells():
    d = describe(Warmup(Cosine(start=1.0, end=0.0, steps=900), steps=100), 1101,
                 training_steps=1101)
    text = str(d)
    assert row_cells(text, "curve") == ["curve", "start", "peak @ step", "end", "min", "mean",
                                        "warm-up", "restarts", "milestones", "jumps"]
    mean = fmt_number(d.summaries[0].mean)
    assert row_cells(text, "warmup: lr") == ["warmup: lr", "0", "1 @ 100", "0", "0", mean, "100",
                                             "-", "-", "-"]
    assert "Warnings:" in text and "reaches 0 at step 1000" in text
    assert "\x1b" not in text  # no colour codes
    table = d.table()
    assert isinstance(table, Table) and len(table.columns) == 10 and table.row_count == 1


def test_long_lists_are_cut():
    d = describe(CosineRestarts(period=10), 200)
    assert d.summaries[0].restarts == list(range(10, 200, 10))
    assert "10, 20, 30, 40, 50, 60, ... (19)" in d.text()
    # a restart after a 10-step cycle: 0.9755 up from the cycle's last value, cos(pi * 9/10)
    size = 1 - 0.5 * (1 + math.cos(math.pi * 9 / 10))
    assert d.summaries[0].jumps == [Jump(t, pytest.approx(size)) for t in range(10, 200, 10)]
    text = d.text(width=400)
    assert ", ".join(f"+{size:.4g}@{t}" for t in range(10, 70, 10)) + ", ... (19)" in text
    assert fmt_list([]) == "-" and fmt_list(["1", "2"]) == "1, 2"


def test_formatting():
    assert [fmt_number(x) for x in (0.0, -0.0, 1.0, 0.123456, 123456.0, 3e-6)] == [
        "0", "0", "1", "0.1235", "1.235e+05", "3e-06"]
    assert fmt_number(-0.25, sign=True) == "-0.25" and fmt_number(0.5, sign=True) == "+0.5"
    assert [fmt_step(x) for x in (10, 10.0, 49.5, np.int64(7))] == ["10", "10", "49.5", "7"]


def test_presets_configs_and_step_arrays():
    d = describe("wsd", 1000)
    assert isinstance(d, Description) and d.summaries[0].label == "wsd"
    d = describe({"type": "linear", "start": 1.0, "end": 0.0, "steps": 10}, [0, 5, 10])
    s = d.summaries[0]
    assert (s.start, s.end, s.mean) == (1.0, 0.0, 0.5)


@pytest.mark.parametrize(
    ("steps", "training_steps", "error", "message"),
    [
        (0, None, ValueError, "'steps' must be a positive int (got 0)"),
        ([], None, ValueError, "'steps' must be a positive int or a non-empty"),
        ([3, 2], None, ValueError, "increasing sequence"),
        ([-1, 2], None, ValueError, "increasing sequence"),
        ("100", None, TypeError, "'steps' must be"),
        (True, None, TypeError, "'steps' must be"),
        (10, 0, ValueError, "'training_steps' must be a positive int (got 0)"),
        (10, 1.5, TypeError, "'training_steps' must be a positive int (got 1.5)"),
    ],
)
def test_argument_errors(steps, training_steps, error, message):
    with pytest.raises(error, match=re.escape(message)):
        describe(Cosine(steps=10), steps, training_steps=training_steps)


def test_overflow_and_a_single_step_do_not_fail():
    (s,) = describe(Exponential(rate=10.0), 400).summaries  # overflows to inf: no numpy warning
    assert s.peak == math.inf and s.start == 1.0
    (s,) = describe(Cosine(steps=10), 1).summaries
    assert (s.start, s.end, s.warmup_steps, s.settles, s.jumps) == (1.0, 1.0, 0, 0, [])


def test_a_repeated_rise_from_zero_is_not_warned_about_but_a_mid_cycle_zero_is():
    # cyclical KL annealing: 0 at every restart, on purpose
    assert describe(Repeat(Linear(start=0.0, end=1.0, steps=25), period=50), 200).warnings == []
    dips = describe(Repeat(Linear(start=1.0, end=0.0, steps=25), period=50), 200).warnings
    assert dips == ["repeat: lr: the value reaches 0 at step 25, before the last step (199)."]


# -- the class of false alarms: a table of configs, findings worked out from their formulas ----
def docs_yaml(page, needle):
    """The YAML block of ``docs/<page>`` that holds ``needle``, parsed."""
    import yaml

    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    (block,) = [b for b in blocks if needle in b]
    return yaml.safe_load(block)


ROOT = Path(__file__).resolve().parents[2]


def test_the_ema_config_of_the_docs_is_judged_per_curve():
    config = docs_yaml("scheduler.md", "ema_decay")
    steps = horizon(config)
    lr = config["lr"]
    assert steps == lr["steps"] + lr["schedule"]["steps"]  # the lr's run, not the EMA's
    d = describe(config, steps)
    assert d.warnings == []
    by_name = {s.hyperparameter: s for s in d.summaries}
    assert by_name["ema_decay"].jumps == []  # a steep but continuous rise
    # viewed over the EMA's own reach: the lr reaches 0 at its own end, which is no mistake
    longer = describe(config, 12_000)
    assert longer.warnings == []
    assert {s.hyperparameter: s.jumps for s in longer.summaries}["ema_decay"] == []


def test_the_cyclical_kl_config_of_the_docs_has_its_own_cycles():
    config = docs_yaml("recipes.md", "type: repeat")
    lr, kl = config["lr"], config["kl_weight"]
    steps = horizon(config)
    assert steps == lr["steps"] + lr["schedule"]["steps"]
    (kl_summary,) = [s for s in describe(config, steps).summaries if s.hyperparameter == "kl_weight"]
    period = kl["period"]
    expected = list(range(period, steps, period))
    assert kl_summary.restarts == expected and len(expected) + 1 == steps // period == 4
    # each restart drops from the cycle's top back to its start: a real jump, on purpose
    top = min(1.0, (period - 1) / kl["schedule"]["steps"])
    assert kl_summary.jumps == [Jump(t, pytest.approx(kl["schedule"]["start"] - top))
                                for t in expected]
    assert f"{len(expected) + 1} cycles: " + ", ".join(map(str, expected)) in str(
        describe(config, steps))


def ema(t, end, power):
    return np.minimum(end, 1 - (1 + np.asarray(t, dtype=float)) ** -power)


# (schedule, steps, jumps expected, restarts expected): worked out from each shape's formula
COMPOSED = [
    ("EMA warm-up", cd.schedules.EMAWarmup(end=0.999, power=0.75), 2000, [], []),
    ("EMA warm-up, steep", cd.schedules.EMAWarmup(end=0.9999, power=1.0), 500, [], []),
    ("one-step warm-up", Warmup(Constant(1.0), steps=1), 50, [], []),
    ("a join that does not meet",
     join([cd.schedules.EMAWarmup(end=0.99), Constant(0.2)], boundaries=[100]), 200, [100], []),
    ("restarts of a rise", Repeat(Linear(start=0.0, end=1.0, steps=25), period=50), 200,
     [50, 100, 150], [50, 100, 150]),
    ("a repeated constant", Repeat(Constant(1.0), period=10), 100, [], []),
    ("a triangle wave", cd.schedules.Cyclic(start=0.1, peak=1.0, up_steps=25), 200, [],
     [50, 100, 150]),
    ("SGDR", CosineRestarts(period=40, period_mult=2), 300, [40, 120, 280], [40, 120, 280]),
    ("a step decay", MultiStep(milestones=[60, 90], gamma=0.1), 120, [60], []),
]


@pytest.mark.parametrize(("name", "schedule", "steps", "jumps", "restarts"), COMPOSED,
                         ids=[c[0] for c in COMPOSED])
def test_jumps_are_discontinuities_and_restarts_are_real(name, schedule, steps, jumps, restarts):
    (s,) = describe(schedule, steps).summaries
    assert [j.step for j in s.jumps] == jumps
    assert s.restarts == restarts
    t = np.arange(steps, dtype=float)
    values = schedule(t)
    for j in s.jumps:  # the size is the step's change
        assert j.size == pytest.approx(values[int(j.step)] - values[int(j.step) - 1])


def test_an_ema_warm_up_is_a_rise_not_a_jump():
    for power in (0.5, 0.75, 2 / 3, 1.0):
        (s,) = describe(cd.schedules.EMAWarmup(end=0.999, power=power), 1000).summaries
        values = ema(np.arange(1000), 0.999, power)
        assert values[1] - values[0] > 0.25 * (values.max() - values.min())  # steep ...
        assert s.jumps == []  # ... but continuous


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_presets_jumps_are_its_restarts_and_milestones(name):
    steps = horizon(name)
    d = describe(name, steps)
    (s,) = d.summaries
    assert d.warnings == []
    assert {j.step for j in s.jumps} <= set(s.restarts) | set(s.milestones)


def test_cadence_describe_on_the_docs_configs_raises_no_false_alarm(tmp_path, capsys):
    import yaml

    from cadence.cli import main

    for page, needle, expected in (("scheduler.md", "ema_decay", None),
                                   ("recipes.md", "type: repeat", "4 cycles: 50, 100, 150")):
        path = tmp_path / f"{needle.split()[-1]}.yaml"
        path.write_text(yaml.safe_dump(docs_yaml(page, needle)), encoding="utf-8")
        assert main(["describe", str(path)]) == 0
        out = capsys.readouterr().out
        assert "Warnings:" not in out and "jumps" in out
        if expected:
            assert expected in out
