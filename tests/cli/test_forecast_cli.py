"""``cadence forecast``, on runs this file writes from made-up laws whose parameters it knows.

The runs follow a law exactly (the annealing law, the area law, or the multi-power law), so the
law fitted to them finds its parameters again and the ranking of the candidates is the law's
own, computed here from the law's formula (numpy, not the library's code, for the annealing
and the area law). Every command runs in this process through ``cadence.cli.main``.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import numpy as np
import pytest
from figures import kinds_without_a_legend_entry

from cadence.cli import main
from cadence.tools.presets import preset

forecast_module = import_module("cadence.tools.forecast")

N, PEAK = 400, 3e-4
ANNEALING = {"L0": 2.0, "A": 1.5, "alpha": 0.4, "C": 0.002}
AREA = {"L0": 2.0, "A": 1.5, "alpha": 0.4}
FITTED = ("constant", "cosine", "step")
CANDIDATES = ["cosine", "wsd", "one-cycle", "linear", "constant"]
LINEAR_HALF = {"type": "linear", "start": 1.0, "end": 0.5, "steps": N}  # a config file's


def factors(spec, total=N):
    """A preset's or a config's factor at every update (cadence's schedules, not the forecast)."""
    from cadence.config import from_config

    schedule = from_config(spec) if isinstance(spec, dict) else preset(spec, total)
    return np.asarray(schedule(np.arange(total)), dtype=np.float64)


def annealing_law(lrs, params=ANNEALING, decay=0.999):
    """Tissue et al.'s law at every update, from its formula: L0 + A S1^-alpha - C S2, with
    the lrs over the peak."""
    eta = np.asarray(lrs) / PEAK
    s1 = np.maximum(np.cumsum(eta), 1e-300)  # an lr of 0 at update 0: as the library floors it
    m, momentum = 0.0, np.zeros_like(eta)
    for i in range(1, eta.size):
        m = decay * m + (eta[i - 1] - eta[i])
        momentum[i] = m
    s2 = np.cumsum(momentum)
    return params["L0"] + params["A"] * s1 ** -params["alpha"] - params.get("C", 0.0) * s2


def area_law(lrs):
    return annealing_law(lrs, AREA)


def write_run(path, lrs, losses, every=10, lr_column="lr"):
    """A run's CSV: update, lr, loss (the loss after every ``every``-th update, else empty)."""
    with open(path, "w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(["update", lr_column, "loss"])
        for t, (lr, loss) in enumerate(zip(lrs, losses)):
            out.writerow([t, repr(float(lr)), repr(float(loss)) if t % every == every - 1 else ""])


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """Three runs that follow the annealing law, and a config file, in a temporary folder."""
    monkeypatch.chdir(tmp_path)
    for name in FITTED:
        lrs = PEAK * factors(name)
        write_run(f"{name}.csv", lrs, annealing_law(lrs))
    Path("half.json").write_text(json.dumps(LINEAR_HALF))
    return [f"{name}.csv" for name in FITTED]


def table_rows(out):
    """The ranking's rows: (rank, candidate, final, band, area law), in order."""
    rows = []
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 5 and cells[0].isdigit():
            rows.append(cells)
        if line.startswith("┏") and rows:
            break  # the second table
    return rows


def law_order(law, specs, total=N, peak=PEAK):
    finals = {spec: law(peak * factors(json.loads(Path(spec).read_text()) if spec.endswith(
        ".json") else spec, total))[-1] for spec in specs}
    return sorted(finals, key=finals.get), finals


# -- the ranking -----------------------------------------------------------------------------
def test_the_table_ranks_the_candidates_as_the_law_does(runs, capsys):
    candidates = [*CANDIDATES, "half.json"]
    assert main(["forecast", *runs, "--law", "annealing", "--candidates", *candidates]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    rows = table_rows(out)
    expected, finals = law_order(annealing_law, candidates)
    assert [r[1] for r in rows] == expected
    assert [r[0] for r in rows] == [str(i) for i in range(1, len(candidates) + 1)]
    for _, name, final, band, area in rows:
        assert float(final) == pytest.approx(finals[name], abs=1e-4)
        low, high = (float(x) for x in band.split(" - "))
        assert low <= float(final) <= high
        assert float(area) > 0  # the area law's prediction, beside it
    # the fit found the law again: no error at the measured losses, and its parameters
    assert "annealing law: L0=2, A=1.5, alpha=0.4, C=0.002" in out
    for name in FITTED:
        run_row = next(line for line in out.splitlines() if line.startswith(f"│ {name} "))
        assert "0.000%" in run_row


def test_the_area_law_ranks_by_the_area_under_the_lrs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name in ("constant", "cosine"):
        lrs = PEAK * factors(name)
        write_run(f"{name}.csv", lrs, area_law(lrs))
    assert main(["forecast", "constant.csv", "cosine.csv", "--law", "area",
                 "--candidates", *CANDIDATES]) == 0
    out = capsys.readouterr().out
    rows = table_rows(out)
    expected, finals = law_order(area_law, CANDIDATES)
    assert [r[1] for r in rows] == expected
    assert [r[4] for r in rows] == ["-"] * len(CANDIDATES)  # the area law is its own baseline
    for _, name, final, _, _ in rows:
        assert float(final) == pytest.approx(finals[name], abs=1e-4)


def test_a_longer_run_at_a_higher_peak_is_an_extrapolation_and_says_so(runs, capsys):
    assert main(["forecast", *runs, "--law", "annealing", "--candidates", "cosine", "wsd",
                 "--steps", "800", "--peak-lr", "6e-4"]) == 0
    out = capsys.readouterr().out
    rows = table_rows(out)
    expected, _ = law_order(annealing_law, ["cosine", "wsd"], total=800, peak=6e-4)
    assert [r[1] for r in rows] == expected
    assert "after 800 updates at peak lr 0.0006" in out
    notes = [line for line in out.splitlines() if line.startswith("note (")]
    assert notes == [f"note ({', '.join(expected)}): 800 updates, longer than any fitted run "
                     "(400): extrapolated",
                     f"note ({', '.join(expected)}): a peak lr of 0.0006, above any fitted "
                     "run's (0.0003): extrapolated",
                     "note (wsd): its lr rises by 0.0006 in all (a warm-up, a restart), more "
                     "than any fitted run's (0): the law's terms for rises are extrapolated"]


def test_the_lrs_can_come_from_hyperparameter_logs(runs, capsys):
    """A loss CSV and the CSV HyperparameterLog wrote (update, lr/0, momentum/0) give the
    same forecast as one CSV with both."""
    for name in ("constant", "cosine"):
        lrs = PEAK * factors(name)
        losses = annealing_law(lrs)
        with open(f"{name}-hp.csv", "w", newline="") as file:
            out = csv.writer(file)
            out.writerow(["update", "lr/0", "momentum/0", "weight_decay/0"])
            out.writerows([t, repr(float(lr)), 0.9, 0.1] for t, lr in enumerate(lrs))
        with open(f"{name}-loss.csv", "w", newline="") as file:
            out = csv.writer(file)
            out.writerow(["step", "loss"])
            out.writerows([t, repr(float(losses[t]))] for t in range(9, N, 10))
    argv = ["--law", "annealing", "--candidates", *CANDIDATES]
    assert main(["forecast", "constant.csv", "cosine.csv", *argv]) == 0
    together = table_rows(capsys.readouterr().out)
    assert main(["forecast", "constant-loss.csv", "cosine-loss.csv", "--lrs",
                 "constant-hp.csv", "cosine-hp.csv", *argv]) == 0
    assert table_rows(capsys.readouterr().out) == together


def test_the_multi_power_law(tmp_path, monkeypatch, capsys):
    """Short runs (300 updates) that follow the multi-power law: the fit finds it again."""
    from cadence.tools.forecast_laws import MULTI_POWER, prepare

    truth = [2.0, 1.5, 0.4, 0.3, 2.0, 0.5, 0.5]

    def law(lrs):
        return MULTI_POWER.predict(truth, prepare(lrs / PEAK, np.arange(lrs.size)))

    monkeypatch.chdir(tmp_path)
    for name in FITTED:
        lrs = PEAK * factors(name, 300)
        write_run(f"{name}.csv", lrs, law(lrs))
    assert main(["forecast", *(f"{n}.csv" for n in FITTED), "--candidates", *CANDIDATES]) == 0
    out = capsys.readouterr().out
    rows = table_rows(out)
    expected, finals = law_order(law, CANDIDATES, total=300)
    assert [r[1] for r in rows] == expected
    for _, name, final, _, _ in rows:
        assert float(final) == pytest.approx(finals[name], abs=1e-3)
    assert "multi-power law fitted to 3 run(s)" in out


# -- the files it writes -------------------------------------------------------------------
def test_the_plot_and_its_legend(runs, capsys):
    assert main(["forecast", *runs, "--law", "area", "--candidates", *CANDIDATES,
                 "--steps", "600", "--out", "forecast.png"]) == 0
    assert "wrote forecast.png" in capsys.readouterr().out
    assert Path("forecast.png").read_bytes()[:4] == b"\x89PNG"

    from cadence.tools.forecast import Run, fit
    from cadence.tools.forecast_plot import BAND, BASELINE, HORIZON, plot_forecast

    fitted = [Run.from_csv(path) for path in runs]
    model = fit(fitted, "annealing")
    fig = plot_forecast(model, fitted, CANDIDATES, baseline=fit(fitted, "area"), total=600)
    assert kinds_without_a_legend_entry(fig) == []
    gids = {a.get_gid() for ax in fig.axes for a in [*ax.get_lines(), *ax.collections]}
    assert {BAND, BASELINE, HORIZON} <= gids
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    expected, _ = law_order(annealing_law, CANDIDATES, total=600)
    assert [text.split(":")[0] for text in legend[:len(CANDIDATES)]] == expected


def test_save_writes_what_forecast_load_reads(runs, capsys):
    from cadence.tools.forecast import Forecast, Run, fit

    assert main(["forecast", *runs, "--law", "annealing", "--candidates", "cosine",
                 "--save", "model.json"]) == 0
    assert "wrote model.json" in capsys.readouterr().out
    loaded = Forecast.load("model.json")
    direct = fit([Run.from_csv(path) for path in runs], "annealing")
    assert loaded.law == "annealing"
    assert loaded.params == pytest.approx(direct.params, rel=1e-12)
    assert loaded.params == pytest.approx(ANNEALING, abs=1e-6)
    assert loaded == direct  # every field but the fit's time
    assert json.loads(Path("model.json").read_text())["format"] == "cadence.Forecast/1"


@pytest.mark.parametrize("option", ["--out", "--save"])
def test_an_existing_file_is_refused_before_the_fit_unless_force(option, runs, monkeypatch,
                                                                  capsys):
    name = "forecast.png" if option == "--out" else "model.json"
    Path(name).write_text("the user's own file")

    def fail(*args, **kwargs):
        pytest.fail("the fit ran before the output was checked")

    real_fit = forecast_module.fit
    monkeypatch.setattr(forecast_module, "fit", fail)
    argv = ["forecast", *runs, "--law", "area", "--candidates", "cosine", option, name]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err == (f"cadence forecast: error: {option} {name!r} exists: pass --force to "
                   f"overwrite it, or choose another {option}\n")
    assert out == "" and Path(name).read_text() == "the user's own file"

    monkeypatch.setattr(forecast_module, "fit", real_fit)
    assert main([*argv, "--force"]) == 0
    assert f"wrote {name}" in capsys.readouterr().out
    assert Path(name).read_text(errors="replace") != "the user's own file"
    assert sorted(p.name for p in Path(".").iterdir() if p.name.startswith(".")) == []


# -- mistakes ------------------------------------------------------------------------------
BAD = [
    (["missing.csv", "--candidates", "cosine"], "RUN: no such file: 'missing.csv'"),
    (["folder", "--candidates", "cosine"], "RUN 'folder' is a folder, not a CSV file"),
    (["noloss.csv", "--candidates", "cosine"],
     "RUN noloss.csv: no 'loss' column (it has ['lr', 'update'])"),
    (["nolr.csv", "--candidates", "cosine"], "RUN nolr.csv: no 'lr' or 'lr/0' column"),
    (["words.csv", "--candidates", "cosine"], "RUN words.csv: column 'loss' must hold numbers"),
    (["empty.csv", "--candidates", "cosine"], "RUN 'empty.csv': run 'empty': 'steps' and 'losses' must be"),
    (["constant.csv", "--lrs", "missing.csv", "--candidates", "cosine"],
     "--lrs: no such file: 'missing.csv'"),
    (["constant.csv", "--lrs", "noloss.csv", "nolr.csv", "--candidates", "cosine"],
     "--lrs names 2 file(s) for 1 RUN(s): give one per RUN, in the same order"),
    (["constant.csv", "--lrs", "nolr.csv", "--candidates", "cosine"],
     "--lrs nolr.csv: no 'lr' or 'lr/0' column"),
    (["constant.csv", "--law", "power", "--candidates", "cosine"],
     "argument --law: invalid choice: 'power' (choose from"),
    (["constant.csv"], "the following arguments are required: --candidates"),
    (["constant.csv", "--candidates", "cosin"],
     "--candidates: unknown preset 'cosin'; did you mean 'cosine'"),
    (["constant.csv", "--candidates", "cosine", "cosine"], "--candidates names 'cosine' twice"),
    (["constant.csv", "--candidates", "nothere.yaml"], "--candidates: no such file: 'nothere.yaml'"),
    (["constant.csv", "--candidates", '{"type": "linear", "start": 1, "end": -1, "steps": 400}'],
     "its lrs must be finite, >= 0 and not all 0"),
    (["constant.csv", "--candidates", "cosine", "--steps", "10"],
     "--steps must be an int from 20 to 10,000,000 (got 10)"),
    (["constant.csv", "--candidates", "cosine", "--peak-lr", "0"],
     "--peak-lr must be a positive number up to 1,000,000 (got 0)"),
    (["constant.csv", "--candidates", "cosine", "--out", "f.jpg"],
     "--out must end in .png, .svg or .pdf (got 'f.jpg')"),
    (["constant.csv", "--candidates", "cosine", "--out", "nowhere/f.png"],
     "--out 'nowhere/f.png': the folder 'nowhere' does not exist"),
    (["constant.csv", "--candidates", "cosine", "--save", "model.yaml"],
     "--save must end in .json (got 'model.yaml')"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a)[:50] for a, _ in BAD])
def test_a_mistake_is_one_line_and_status_2(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    lrs = PEAK * factors("constant")
    write_run("constant.csv", lrs, annealing_law(lrs))
    Path("noloss.csv").write_text("update,lr\n0,0.1\n1,0.1\n")
    Path("nolr.csv").write_text("update,loss\n0,3.0\n1,2.9\n")
    Path("words.csv").write_text("update,lr,loss\n0,0.1,high\n")
    Path("empty.csv").write_text("update,lr,loss\n0,0.1,\n1,0.1,\n")
    Path("folder").mkdir()
    status = main(["forecast", *argv])
    out, err = capsys.readouterr()
    assert status == 2, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("cadence forecast: error: "), err
    assert message in err, err
    assert out == ""


def test_the_laws_offered_are_the_librarys():
    from cadence.cli.forecast import LAWS
    from cadence.tools.forecast_laws import LAWS as LIBRARY

    assert set(LAWS) == set(LIBRARY)


def test_help_has_an_example(capsys):
    assert main(["forecast", "--help"]) == 0
    out = capsys.readouterr().out
    assert "example:" in out and "cadence forecast " in out
    for option in ("--candidates", "--law", "--steps", "--peak-lr", "--lrs", "--out", "--save",
                   "--force"):
        assert option in out


def test_without_out_it_imports_no_torch_nor_matplotlib(runs):
    code = ("import sys\nfrom cadence.cli import main\n"
            "status = main(sys.argv[1:])\n"
            "print(sorted(m for m in ('torch', 'matplotlib', 'sklearn') if m in sys.modules))\n"
            "raise SystemExit(status)\n")
    done = subprocess.run([sys.executable, "-c", code, "forecast", *runs, "--law", "area",
                           "--candidates", "cosine"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_two_runs_of_one_name_are_told_apart(runs, capsys):
    Path("other").mkdir()
    Path("other/cosine.csv").write_bytes(Path("cosine.csv").read_bytes())
    assert main(["forecast", "cosine.csv", "other/cosine.csv", "--law", "area",
                 "--candidates", "cosine"]) == 0
    out = capsys.readouterr().out
    assert "│ cosine.csv " in out and "│ other/cosine.csv " in out


def test_the_fit_shows_a_spinner(runs, monkeypatch, capsys):
    from rich.console import Console

    shown = []
    status = Console.status

    def recorded(self, message, **kwargs):
        shown.append((str(message), self.stderr))
        return status(self, message, **kwargs)

    monkeypatch.setattr(Console, "status", recorded)
    assert main(["forecast", *runs, "--law", "annealing", "--candidates", "cosine"]) == 0
    assert shown == [("fitting the annealing law to 3 run(s), and the area law, the baseline ...",
                      True)]
    assert capsys.readouterr().err == ""  # not a terminal: no spinner in the logs
