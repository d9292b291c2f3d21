"""The recipes of docs/recipes.md (examples/ema_warmup.py, kl_annealing.py, dropout_schedule.py):
each value a training step used, against a closed form written out here; the EMA against one
computed by hand from the recorded weights; a resumed run against an uninterrupted one, bit for
bit; the config form against the code; and each script's --help."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from example_runner import EXAMPLES, example

from cadence import cli
from cadence.schedules import Constant, Linear
from cadence.tools.plot import plot

ema_recipe = example("ema_warmup")
kl_recipe = example("kl_annealing")
dropout_recipe = example("dropout_schedule")


def cosine(start: float, end: float, t: float, n: float) -> float:
    return end + (start - end) * (1 + math.cos(math.pi * min(t, n) / n)) / 2


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=0.0)


# -- EMA decay warm-up -----------------------------------------------------------------------
N, SAVE_AT, END = 60, 23, 0.9  # END is reached at step (1 - 0.9) ** (-1 / 0.75) - 1 = 20.5


def decay_by_hand(k: float) -> float:
    """EMAWarmup(end=END, gamma, power) at step k, written out."""
    gamma, power = ema_recipe.GAMMA, ema_recipe.POWER
    return min(END, 1 - (1 + k / gamma) ** -power)


def ema_lr_by_hand(t: int) -> float:
    """The example's lr sized for N updates: linear warm-up over 40, then a cosine to 1%."""
    warmup = ema_recipe.WARMUP
    if t < warmup:
        return ema_recipe.BASE_LR * t / warmup
    return ema_recipe.BASE_LR * cosine(1.0, 0.01, t - warmup, N - warmup)


def ema_by_hand(weights: list[dict[str, torch.Tensor]], decays: list[float]
                ) -> dict[str, torch.Tensor]:
    """e_1 = w_1 (AveragedModel's first update copies), e_k = d_k e_(k-1) + (1 - d_k) w_k, in
    float64, for every floating tensor of the state (parameters and BatchNorm's statistics)."""
    average: dict[str, torch.Tensor] = {}
    for k, (w, d) in enumerate(zip(weights, decays), start=1):
        for name, value in w.items():
            if not value.is_floating_point():
                continue
            average[name] = (value.double() if k == 1
                             else d * average[name] + (1 - d) * value.double())
    return average


@pytest.fixture(scope="module")
def ema_run():
    return ema_recipe.train(N, total=N, end=END)


def test_each_ema_update_averages_with_the_warmed_up_decay(ema_run):
    assert len(ema_run.decays) == len(ema_run.weights) == N
    for k, decay in enumerate(ema_run.decays, start=1):  # the k-th update_parameters
        assert close(decay, decay_by_hand(k), rel=1e-15), (k, decay)
    assert ema_run.decays[0] == pytest.approx(1 - 2**-0.75)  # rising...
    assert ema_run.decays[19] < END and ema_run.decays[20:] == [END] * (N - 20)  # ...then held
    for t, lr in enumerate(ema_run.lrs):
        assert close(lr, ema_lr_by_hand(t)) or lr == ema_lr_by_hand(t) == 0.0, (t, lr)
    assert int(ema_run.training.ema.n_averaged) == N


def misfit(got: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> float:
    """The largest |got - expected| / (1e-6 |expected| + 1e-6 max |expected|) over every
    tensor: at most 1 is a match to float32's rounding over N updates."""
    worst = 0.0
    for name, value in expected.items():
        allowed = 1e-6 * value.abs() + 1e-6 * value.abs().max()
        worst = max(worst, ((got[name].double() - value).abs() / allowed).max().item())
    return worst


def test_the_ema_is_the_average_of_the_recorded_weights(ema_run):
    expected = ema_by_hand(ema_run.weights, [decay_by_hand(k) for k in range(1, N + 1)])
    got = ema_run.training.ema.module.state_dict()
    assert set(expected) == {k for k, v in got.items() if v.is_floating_point()}
    assert misfit(got, expected) <= 1.0
    # the check tells decays apart: one step late, or fixed from the start, is another average
    late = ema_by_hand(ema_run.weights, [decay_by_hand(k - 1) for k in range(1, N + 1)])
    fixed = ema_by_hand(ema_run.weights, [END] * N)
    assert misfit(late, expected) > 10 and misfit(fixed, expected) > 10
    # and the model itself is not its average
    assert misfit(ema_run.weights[-1], expected) > 100


def state_equal(a: object, b: object) -> bool:
    """Nested state dicts equal, tensors bit for bit."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return (isinstance(b, dict) and a.keys() == b.keys()
                and all(state_equal(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)):
        return (isinstance(b, (list, tuple)) and len(a) == len(b)
                and all(state_equal(x, y) for x, y in zip(a, b)))
    return a == b


@pytest.mark.parametrize("order", ["scheduler last", "scheduler first"])
def test_a_resumed_run_is_bit_identical_to_an_uninterrupted_one(order, ema_run, tmp_path):
    first = ema_recipe.train(SAVE_AT, total=N, end=END)
    torch.save(ema_recipe.checkpoint(first.training), tmp_path / "checkpoint.pt")

    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)  # plain data
    fresh = ema_recipe.build(N, END, seed=1)  # other initial weights: the load must replace them
    loads = [lambda: fresh.model.load_state_dict(saved["model"]),
             lambda: fresh.optimizer.load_state_dict(saved["optimizer"]),
             lambda: fresh.ema.load_state_dict(saved["ema"]),
             lambda: fresh.scheduler.load_state_dict(saved["scheduler"])]
    for load in loads if order == "scheduler last" else reversed(loads):
        load()
    assert fresh.scheduler.current_step == SAVE_AT
    assert fresh.update.decay == ema_run.decays[SAVE_AT - 1]
    rest = ema_recipe.train(N, training=fresh)

    assert rest.lrs == ema_run.lrs[SAVE_AT:] and rest.decays == ema_run.decays[SAVE_AT:]
    assert all(state_equal(a, b) for a, b in zip(rest.weights, ema_run.weights[SAVE_AT:]))
    straight = ema_run.training
    assert state_equal(fresh.ema.state_dict(), straight.ema.state_dict())
    assert state_equal(fresh.model.state_dict(), straight.model.state_dict())
    assert state_equal(fresh.optimizer.state_dict(), straight.optimizer.state_dict())
    assert fresh.scheduler.state_dict() == straight.scheduler.state_dict()


def test_the_script_saves_and_resumes(tmp_path, capsys):
    ema_recipe.main(["--steps", "80"])
    straight = capsys.readouterr().out.splitlines()
    ema_recipe.main(["--steps", "40", "--save", str(tmp_path / "ema.pt")])
    ema_recipe.main(["--steps", "80", "--resume", str(tmp_path / "ema.pt")])
    resumed = capsys.readouterr().out.splitlines()
    assert straight[0].startswith("update   40: lr ") and "ema decay 0.9" in straight[0]
    assert resumed == straight  # the same lr, decay and held-out losses, every digit


# -- KL annealing ----------------------------------------------------------------------------
def kl_by_hand(kind: str, t: int) -> float:
    if kind == "linear":  # 0 -> 1 over 100 updates, then 1
        return min(t, 100) / 100
    return min(1.0, (t % 50) / 25)  # 4 cycles of 50: up over the first 25, then 1


def kl_lr_by_hand(t: int) -> float:
    """A linear warm-up over 20, then a cosine from 1 to 0.1 over 180: factors of 3e-3."""
    return 3e-3 * (t / 20 if t < 20 else cosine(1.0, 0.1, t - 20, 180))


@pytest.fixture(scope="module", params=["linear", "cyclical", "config"])
def kl_run(request):
    return request.param, kl_recipe.train(200, request.param)


def test_the_kl_weight_in_each_loss_is_the_closed_form(kl_run):
    kind, steps = kl_run
    assert [s.step for s in steps] == list(range(200))
    for s in steps:
        expected = kl_by_hand("cyclical" if kind == "config" else kind, s.step)
        assert close(s.kl_weight, expected, rel=1e-15) or s.kl_weight == expected == 0.0, s
        # the weight the loss was computed with
        assert s.total == pytest.approx(s.reconstruction + s.kl_weight * s.kl, rel=1e-6)
        assert close(s.lr, kl_lr_by_hand(s.step)) or s.lr == kl_lr_by_hand(s.step) == 0.0, s


def test_the_config_builds_the_scheduler_the_code_builds():
    def built(kind: str):
        loss_fn = kl_recipe.ELBOLoss()
        optimizer = torch.optim.AdamW(kl_recipe.VAE().parameters(), lr=kl_recipe.BASE_LR)
        return optimizer, loss_fn, kl_recipe.scheduler(optimizer, loss_fn, kind)

    (_, _, code), (opt, loss_fn, config) = built("cyclical"), built("config")
    grid = np.arange(1000)
    a, b = code.value_at(grid), config.value_at(grid)
    assert a.keys() == b.keys() == {"lr", "kl_weight"}
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert config.targets == ("kl_weight",) and config.places("kl_weight") == ["ELBOLoss.kl_weight"]
    for _ in range(60):
        opt.step()
    config.load_state_dict(code.state_dict())  # strict: a different schedule would be refused
    assert config.current_step == 0 and loss_fn.kl_weight == 0.0
    assert opt.param_groups[0]["lr"] == 0.0


def test_a_run_from_the_config_is_the_run_from_the_code():
    assert kl_recipe.train(120, "config") == kl_recipe.train(120, "cyclical")


def test_plot_draws_one_panel_per_scheduled_name(tmp_path):
    fig = plot(kl_recipe.config(), steps=200)
    assert [ax.get_title() for ax in fig.axes] == ["lr", "kl_weight"]
    assert [ax.get_ylabel() for ax in fig.axes] == ["lr (factor of the base lr)",
                                                    "kl_weight (absolute)"]
    curve = fig.axes[1].get_lines()[0].get_ydata()  # drawn first, before the marks
    assert curve.tolist() == [kl_by_hand("cyclical", t) for t in range(200)]


def test_the_cli_draws_and_describes_the_config_the_script_writes(tmp_path, capsys):
    path, png = tmp_path / "kl.yaml", tmp_path / "kl.png"
    kl_recipe.main(["--write-config", str(path)])
    assert f"cadence plot {path} -o kl.png --steps 200" in capsys.readouterr().out
    assert path.read_text() == kl_recipe.CONFIG
    # the commands of the example's docstring, run in this process (the CLI's own tests run
    # it in subprocesses)
    assert cli.main(["plot", str(path), "-o", str(png), "--steps", "200"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli.main(["describe", str(path), "--steps", "200"]) == 0
    table = capsys.readouterr().out
    assert "kl: lr " in table and "kl: kl_weight " in table  # a row for each scheduled name


def test_the_script_records_what_each_update_used(tmp_path):
    kl_recipe.main(["--schedule", "linear", "--steps", "30", "--record", str(tmp_path / "r.json")])
    record = json.loads((tmp_path / "r.json").read_text())
    assert [s["kl_weight"] for s in record] == [kl_by_hand("linear", t) for t in range(30)]


# -- dropout schedule ------------------------------------------------------------------------
def dropout_factor(kind: str, t: int) -> float:
    if kind == "rise":  # 0 -> the built value over 100 updates
        return min(t, 100) / 100
    if kind == "early":  # the built value for 50 updates, then none
        return 1.0 if t < 50 else 0.0
    return 0.0 if t < 100 else 1.0  # late: none for 100 updates, then the built value


def built_dropouts() -> tuple[list[float], list[float]]:
    """Every nn.Dropout's p and every DropPath's drop_prob, as the model is built."""
    net = dropout_recipe.Net()
    return ([m.p for m in net.modules() if isinstance(m, torch.nn.Dropout)],
            [m.drop_prob for m in net.modules() if isinstance(m, dropout_recipe.DropPath)])


def test_the_model_has_the_dropouts_the_recipe_describes():
    ps, drop_probs = built_dropouts()
    assert ps == [0.2, 0.2, 0.2, 0.5]  # one per block, then the head's
    assert drop_probs == pytest.approx([0.1, 0.2, 0.3], rel=1e-15)  # growing with depth


@pytest.mark.parametrize("kind", ["rise", "early", "late"])
def test_every_dropout_is_its_built_value_times_the_schedule(kind):
    ps, drop_probs = built_dropouts()
    _, steps = dropout_recipe.train(130, kind)
    assert [s.step for s in steps] == list(range(130))
    for s in steps:
        f = dropout_factor(kind, s.step)
        assert s.ps == pytest.approx([b * f for b in ps], rel=1e-15, abs=0), s
        assert s.drop_probs == pytest.approx([b * f for b in drop_probs], rel=1e-15, abs=0), s


def test_at_the_start_of_the_rise_training_mode_drops_nothing():
    torch.manual_seed(0)
    model = dropout_recipe.Net()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = dropout_recipe.scheduler(model, optimizer, Linear(start=0.0, end=1.0, steps=100))
    x = torch.randn(64, 16)
    with torch.no_grad():
        assert torch.equal(model.train()(x), model.eval()(x))  # p = drop_prob = 0
        for _ in range(100):
            optimizer.step()  # no gradients: nothing changes but the schedule's step
        assert sched.current_step == 100
        assert not torch.equal(model.train()(x), model.eval()(x))  # the built values now


def test_a_p_above_1_is_refused_and_nothing_moves():
    model = dropout_recipe.Net()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    # the head's 0.5 times 1 + 0.2 t: 1.0 at step 5, 1.1 at step 6
    sched = dropout_recipe.scheduler(model, optimizer, Linear(start=1.0, end=3.0, steps=10))
    for _ in range(5):
        optimizer.step()
    before = [m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    assert before[-1] == 1.0
    with pytest.raises(ValueError, match=r"^'dropout' must be a number in \[0, 1\] \(got 1\.\d+ "
                                         r"for head\.0\.p at step 6"):
        optimizer.step()
    assert [m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)] == before
    assert sched.current_step == 5


def test_a_drop_prob_above_1_is_refused_by_its_bounds():
    model = dropout_recipe.Net()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    with pytest.raises(ValueError, match=r"^'drop_path' must be a number in \[0, 1\] \(got 1\.2"
                                         r".* for blocks\.2\.drop_path\.drop_prob at step 0"):
        dropout_recipe.scheduler(model, optimizer, Constant(1.0), drop_path=Constant(4.0))
    assert built_dropouts()[1] == [m.drop_prob for m in model.modules()
                                   if isinstance(m, dropout_recipe.DropPath)]


def test_the_dropout_script_prints_the_values(capsys):
    dropout_recipe.main(["--schedule", "late", "--steps", "120"])
    out = capsys.readouterr().out.splitlines()
    assert "p 0.000 0.000 0.000 0.000" in out[0] and "p 0.200 0.200 0.200 0.500" in out[5]
    assert out[-1].startswith("held-out mse: ")


# -- the scripts -----------------------------------------------------------------------------
RECIPES = {"ema_warmup": ema_recipe, "kl_annealing": kl_recipe,
           "dropout_schedule": dropout_recipe}
OPTIONS = {
    "ema_warmup": ["--steps", "--end", "--save", "--resume"],
    "kl_annealing": ["--schedule", "{cyclical,linear,config}", "--steps", "--write-config",
                     "--record"],
    "dropout_schedule": ["--schedule", "{rise,early,late}", "--steps"],
}


def test_every_recipe_has_a_useful_help():
    # the three at once: each spends most of its time importing torch
    running = {name: subprocess.Popen([sys.executable, str(EXAMPLES / f"{name}.py"), "--help"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for name in OPTIONS}
    for name, process in running.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"{name} --help failed:\n{err}"
        assert out.startswith(f"usage: {name}.py "), out
        summary = RECIPES[name].__doc__.split("\n\n")[0]
        assert " ".join(summary.split()) in " ".join(out.split()), name
        for option in OPTIONS[name]:
            assert option in out, (name, option)
        assert "(default: " in out, name
