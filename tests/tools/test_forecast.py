"""cadence.tools.forecast and forecast_laws: each law against its definition written out with
plain loops, the gradients against finite differences, the fit against curves of known
parameters, the saved model, the runs read from CSV and the bad inputs.

The slow replication on the multi-power law paper's published curves is in
test_forecast_replication.py."""

from __future__ import annotations

import csv
import json
import math
import tracemalloc

import numpy as np
import pytest
import torch

import cadence as cd
from cadence.schedules import Constant, Cosine, Linear, join
from cadence.tools import HyperparameterLog
from cadence.tools.forecast import FORMAT, Forecast, Run, fit, lrs_of, rank
from cadence.tools.forecast_laws import ANNEALING, AREA, LAWS, MULTI_POWER, prepare
from cadence.validation import InvalidType, InvalidValue

# -- each law against its definition, written out --------------------------------------------
# a warm-up from 0 (5 updates), a plateau (6), a linear decay to 0.1 (6) and a low tail (3)
LRS = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
       0.85, 0.7, 0.55, 0.4, 0.25, 0.1, 0.1, 0.1, 0.1]
STEPS = [1, 3, 4, 7, 10, 11, 13, 16, 17, 19]


def naive_s1(lrs, s):
    """S1(s) = eta_0 + ... + eta_s: the area up to and including update s."""
    total = 0.0
    for t in range(s + 1):
        total += lrs[t]
    return total


def drop(lrs, i, rises):
    """eta_{i-1} - eta_i where the lr falls; a rise counts only with ``rises`` (negative)."""
    d = lrs[i - 1] - lrs[i]
    return d if rises or d > 0 else 0.0


def naive_s2(lrs, s, decay=0.999, rises=True):
    """S2(s) = m_1 + ... + m_s, m_i = decay * m_{i-1} + drop_i, m_0 = 0."""
    m, total = 0.0, 0.0
    for i in range(1, s + 1):
        m = decay * m + drop(lrs, i, rises)
        total += m
    return total


def naive_ld(lrs, s, C, beta, gamma, rises=True):
    """LD(s) = sum_{k=1..s} -drop_k * (1 - (1 + C eta_k^-gamma (S1(s) - S1(k-1)))^-beta)."""
    total = 0.0
    for k in range(1, s + 1):
        area = naive_s1(lrs, s) - naive_s1(lrs, k - 1)
        total += -drop(lrs, k, rises) * (1 - (1 + C * lrs[k] ** -gamma * area) ** -beta)
    return total


def naive(law, params, lrs, steps, rises=True):
    out = []
    for s in steps:
        if law == "area":
            L0, A, alpha = params
            out.append(L0 + A * naive_s1(lrs, s) ** -alpha)
        elif law == "annealing":
            L0, A, alpha, C = params
            out.append(L0 + A * naive_s1(lrs, s) ** -alpha - C * naive_s2(lrs, s, rises=rises))
        else:
            L0, A, alpha, B, C, beta, gamma = params
            out.append(L0 + A * naive_s1(lrs, s) ** -alpha
                       + B * naive_ld(lrs, s, C, beta, gamma, rises=rises))
    return np.array(out)


POINTS = {  # a few parameter points of each law
    "area": [[2.0, 1.5, 0.4], [3.1, 0.52, 0.9]],
    "annealing": [[2.0, 1.5, 0.4, 0.05], [3.1, 0.52, 0.9, -0.01]],
    "multi-power": [[2.0, 1.5, 0.4, 0.3, 1.0, 0.5, 0.6], [3.04, 0.52, 0.51, 0.9, 2.07, 0.58, 0.64],
                    [2.5, 0.8, 0.3, 0.1, 0.2, 1.7, 1.3]],
}
CASES = [(law, p) for law, points in POINTS.items() for p in points]


@pytest.mark.parametrize("rises", [False, True])
@pytest.mark.parametrize(("law", "params"), CASES)
def test_each_law_is_its_definition(law, params, rises):
    got = LAWS[law].predict(params, prepare(np.array(LRS), np.array(STEPS), rises=rises))
    want = naive(law, params, LRS, STEPS, rises=rises)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_the_terms_each_law_reads_are_the_sums_written_out():
    run = prepare(np.array(LRS), np.array(STEPS), rises=True)
    np.testing.assert_allclose(run.s1, [naive_s1(LRS, s) for s in STEPS], rtol=1e-14)
    np.testing.assert_allclose(run.s2, [naive_s2(LRS, s, rises=True) for s in STEPS],
                               rtol=1e-12, atol=1e-15)
    assert prepare(np.array(LRS), np.array(STEPS), rises=False).s2[2] == 0  # only falls count
    # by hand: S1(4) = 0 + .2 + .4 + .6 + .8 = 2.0; the lr only rose up to update 4, by 0.2
    # each time: m_i = .999 m_{i-1} - 0.2, a negative annealing area
    assert run.s1[2] == pytest.approx(2.0, rel=1e-15)
    m = [0.0]
    for _ in range(4):
        m.append(0.999 * m[-1] - 0.2)
    assert run.s2[2] == pytest.approx(sum(m[1:]), rel=1e-14)


def test_the_multi_power_law_with_a_constant_lr_is_the_area_law():
    lrs = np.r_[0.0, np.full(30, 0.7)]  # one change, at update 1 only
    steps = np.array([5, 12, 30])
    params = [2.0, 1.5, 0.4, 0.3, 1.0, 0.5, 0.6]
    # the only change is eta_1 - eta_0 = 0.7: its term by hand
    want = [2.0 + 1.5 * (0.7 * s) ** -0.4
            + 0.3 * 0.7 * (1 - (1 + 1.0 * 0.7 ** -0.6 * (0.7 * s)) ** -0.5) for s in steps]
    got = MULTI_POWER.predict(params, prepare(lrs, steps, rises=True))
    np.testing.assert_allclose(got, want, rtol=1e-13)
    # with rises=False the rise is no drop: the multi-power law is the area law
    np.testing.assert_allclose(MULTI_POWER.predict(params, prepare(lrs, steps, rises=False)),
                               [2.0 + 1.5 * (0.7 * s) ** -0.4 for s in steps], rtol=1e-13)
    flat = prepare(np.full(31, 0.7), steps)  # no change at all: the loss drop is 0
    np.testing.assert_allclose(MULTI_POWER.predict(params, flat),
                               [2.0 + 1.5 * (0.7 * (s + 1)) ** -0.4 for s in steps], rtol=1e-13)


@pytest.mark.parametrize("lrs", [
    # a decay to exactly 0 at update 14, then 0: no lr since then, so no further loss drop
    [0.0, 0.5, 1.0, 1.0, 1.0, 1.0, 0.9, 0.7, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.0, 0.0, 0.0],
    # a dip to 0 at update 9, then a rise: the drop to 0 is whole once some lr is used again
    [0.0, 0.5, 1.0, 1.0, 1.0, 0.8, 0.6, 0.4, 0.2, 0.0, 0.0, 0.5, 1.0, 1.0, 0.5, 0.5, 0.5],
], ids=["zero tail", "zero dip"])
def test_the_multi_power_law_stays_finite_where_the_lr_reaches_zero(lrs):
    steps = [3, 8, 9, 10, 13, 14, 16]
    params = [2.0, 1.5, 0.4, 0.3, 1.0, 0.5, 1.5]
    L0, A, alpha, B, C, beta, gamma = params
    want = []
    for s in steps:
        drop = 0.0
        for k in range(1, s + 1):
            area = naive_s1(lrs, s) - naive_s1(lrs, k - 1)
            if area == 0:  # no update with an lr since k: nothing dropped yet
                g = 0.0
            elif lrs[k] == 0:  # eta_k**-gamma is infinite: the whole drop
                g = 1.0
            else:
                g = 1 - (1 + C * lrs[k] ** -gamma * area) ** -beta
            drop += (lrs[k] - lrs[k - 1]) * g
        want.append(L0 + A * naive_s1(lrs, s) ** -alpha + B * drop)
    run = prepare(np.array(lrs), np.array(steps), rises=True)
    pred, grad = MULTI_POWER.predict_with_gradient(params, run)
    np.testing.assert_allclose(pred, want, rtol=1e-12)
    assert np.all(np.isfinite(grad))


# -- the gradients ---------------------------------------------------------------------------
@pytest.mark.parametrize(("law", "params"), CASES)
def test_the_gradient_is_the_central_difference(law, params):
    model = LAWS[law]
    run = prepare(np.array(LRS), np.array(STEPS))
    pred, grad = model.predict_with_gradient(params, run)
    np.testing.assert_array_equal(pred, model.predict(params, run))
    assert grad.shape == (len(model.parameters), len(STEPS))
    for i, value in enumerate(params):
        h = 1e-6 * max(1.0, abs(value))
        up, down = list(params), list(params)
        up[i], down[i] = value + h, value - h
        difference = (model.predict(up, run) - model.predict(down, run)) / (2 * h)
        np.testing.assert_allclose(grad[i], difference, rtol=1e-6, atol=1e-8,
                                   err_msg=f"{law}: d/d{model.parameters[i]}")


# -- the fit ---------------------------------------------------------------------------------
N, W, PEAK = 400, 20, 0.1  # updates, warm-up, peak lr (lrs in absolute units)


def shape(rest):
    """A linear warm-up from 0 to 1 over W updates, then ``rest`` in its own time."""
    return join([Linear(start=0.0, end=1.0, steps=W), rest], [W])


SHAPES = {
    "constant": shape(Constant(1.0)),
    "cosine": shape(Cosine(start=1.0, end=0.1, steps=N - W)),
    "two-stage": shape(join([Constant(1.0), Constant(0.3)], [200 - W])),
    "wsd": shape(join([Constant(1.0), Linear(start=1.0, end=0.05, steps=100)], [N - 100 - W])),
}
FITTED = ("constant", "cosine", "two-stage")  # "wsd" is held out
MEASURED = np.arange(W, N, 4)
TRUE = {"area": [2.0, 3.0, 0.5], "annealing": [2.0, 3.0, 0.5, 5e-4],
        "multi-power": [2.0, 3.0, 0.5, 0.4, 1.0, 0.5, 0.6]}


def law_curve(law, name, steps):
    """The loss the law gives with TRUE parameters, written from the lrs: every update's lr is
    PEAK * shape(t), and the law reads them over the peak."""
    lrs = PEAK * SHAPES[name](np.arange(N))
    return LAWS[law].predict(TRUE[law], prepare(lrs / PEAK, np.asarray(steps)))


def runs_of(law):
    return [Run(name, PEAK * SHAPES[name](np.arange(N)), MEASURED, law_curve(law, name, MEASURED))
            for name in FITTED]


@pytest.fixture(scope="module")
def fits():
    return {law: fit(runs_of(law), law) for law in TRUE}


@pytest.mark.parametrize("law", ["area", "annealing"])
def test_fit_recovers_the_parameters_of_a_noise_free_curve(fits, law):
    model = fits[law]
    assert model.law == law and list(model.params) == list(LAWS[law].parameters)
    np.testing.assert_allclose(list(model.params.values()), TRUE[law], rtol=1e-4)
    assert model.lr_scale == PEAK and model.peak == PEAK and model.horizon == N


def test_fit_of_the_multi_power_law_predicts_a_held_out_curve(fits):
    model = fits["multi-power"]
    after = np.arange(W, N)  # S1 is 0 at update 0: the power term is not defined there
    want = law_curve("multi-power", "wsd", after)
    got = model.predict(SHAPES["wsd"], after)
    np.testing.assert_allclose(got.loss, want, rtol=1e-4)
    # the held-out cool-down is not predicted by the area law: the difference is there to find
    area = fits["area"].predict(SHAPES["wsd"], after).loss
    assert np.max(np.abs(area / want - 1)) > 1e-2


def test_fit_is_deterministic(fits):
    again = fit(runs_of("annealing"), "annealing")
    assert again.params == fits["annealing"].params
    assert again == fits["annealing"]  # the residuals and band too (fit_seconds is not compared)


def test_residuals_and_band_are_the_fitted_runs_relative_errors(fits):
    model = fits["multi-power"]
    runs = runs_of("multi-power")
    ratios = []
    for run in runs:
        predicted = LAWS["multi-power"].predict(list(model.params.values()),
                                                 prepare(run.lrs / PEAK, run.steps))
        error = np.abs(run.losses - predicted) / run.losses
        assert model.residuals[run.name]["mean"] == pytest.approx(error.mean(), rel=1e-9)
        assert model.residuals[run.name]["max"] == pytest.approx(error.max(), rel=1e-9)
        assert model.errors(run) == (pytest.approx(error.mean(), rel=1e-9),
                                     pytest.approx(error.max(), rel=1e-9))
        ratios.append(run.losses / predicted - 1)
    every = np.concatenate(ratios)
    assert model.band == (pytest.approx(np.percentile(every, 5), rel=1e-9),
                          pytest.approx(np.percentile(every, 95), rel=1e-9))


# -- the saved model -------------------------------------------------------------------------
def test_json_round_trip(fits, tmp_path):
    for model in fits.values():
        data = json.loads(json.dumps(model.to_json()))
        assert data["format"] == FORMAT == "cadence.Forecast/1"
        back = Forecast.from_json(data)
        assert back == model and back.fit_seconds == model.fit_seconds
        path = tmp_path / f"{model.law}.json"
        model.save(path)
        assert Forecast.load(path) == model
        assert Forecast.load(path).predict(SHAPES["wsd"]).loss.tolist() == \
            model.predict(SHAPES["wsd"]).loss.tolist()


def test_save_refuses_to_overwrite(fits, tmp_path):
    path = tmp_path / "model.json"
    path.write_text("keep me")
    with pytest.raises(InvalidValue, match=r"exists: pass overwrite=True") as info:
        fits["area"].save(path)
    assert str(path) in str(info.value) and path.read_text() == "keep me"
    fits["area"].save(path, overwrite=True)
    assert Forecast.load(path) == fits["area"]


def test_from_json_refuses_another_format_by_name(fits):
    data = fits["area"].to_json()
    with pytest.raises(InvalidValue, match=r"'cadence\.Forecast/1' \(got 'cadence\.Forecast/0'\)"):
        Forecast.from_json({**data, "format": "cadence.Forecast/0"})
    with pytest.raises(InvalidValue, match=r"\(got None\)"):
        Forecast.from_json({k: v for k, v in data.items() if k != "format"})
    with pytest.raises(InvalidValue, match=r"\(got 'list'\)"):
        Forecast.from_json([data])
    with pytest.raises(InvalidValue, match=r"'law'.*'cubic'"):
        Forecast.from_json({**data, "law": "cubic"})
    with pytest.raises(InvalidValue, match=r"law 'area' has the parameters \['L0', 'A', 'alpha'\]"):
        Forecast.from_json({**data, "params": {"L0": 2.0, "A": 3.0}})


# -- predictions and the ranking -------------------------------------------------------------
def test_notes_say_where_a_prediction_reaches_past_the_fit(fits):
    model = fits["multi-power"]
    assert model.predict(SHAPES["wsd"]).notes == ()  # the fitted length and peak
    assert model.predict(0.5 * PEAK * SHAPES["wsd"](np.arange(N))).notes == ()
    longer = model.predict(SHAPES["constant"], total=2 * N)
    assert longer.notes == (f"{2 * N} updates, longer than any fitted run ({N}): extrapolated",)
    assert longer.steps.tolist() == list(range(2 * N))
    higher = model.predict(SHAPES["constant"], peak=2 * PEAK)  # its warm-up rises higher too
    assert higher.notes == (
        "its lr rises by 0.2 in all (a warm-up, a restart), more than any fitted run's (0.1): "
        "the law's terms for rises are extrapolated",
        "a peak lr of 0.2, above any fitted run's (0.1): extrapolated")
    both = model.predict(2 * PEAK * SHAPES["constant"](np.arange(N + 1)))
    assert len(both.notes) == 3


def test_the_band_holds_the_prediction(fits):
    for model in fits.values():
        low, high = model.band
        assert low <= 0 <= high
        for name in SHAPES:
            p = model.predict(SHAPES[name], MEASURED)
            assert np.all(p.low <= p.loss) and np.all(p.loss <= p.high)
            np.testing.assert_allclose(p.low, p.loss * (1 + low), rtol=1e-15)
            np.testing.assert_allclose(p.high, p.loss * (1 + high), rtol=1e-15)
            assert p.final == p.loss[-1]


def test_rank_orders_by_predicted_final_loss_beside_the_baseline(fits):
    model, baseline = fits["multi-power"], fits["area"]
    candidates = {name: SHAPES[name] for name in ("constant", "wsd", "cosine", "two-stage")}
    ranked = rank(model, candidates, baseline=baseline)
    # each final loss from the law written out at the last update
    final = {name: naive("multi-power", list(model.params.values()),
                         list(s(np.arange(N))), [N - 1])[0] for name, s in candidates.items()}
    base = {name: naive("area", list(baseline.params.values()),
                        list(s(np.arange(N))), [N - 1])[0] for name, s in candidates.items()}
    assert [r.name for r in ranked] == sorted(final, key=final.get)
    assert ranked[-1].name == "constant"  # never annealed: the highest final loss
    for r in ranked:
        assert r.final == pytest.approx(final[r.name], rel=1e-9)
        assert r.baseline == pytest.approx(base[r.name], rel=1e-9)
        assert r.low <= r.final <= r.high and r.notes == ()
    assert all(r.baseline is None for r in rank(model, candidates))


def long_model(updates):
    """A multi-power model as fitted to runs of ``updates`` updates at PEAK."""
    return Forecast("multi-power", dict(zip(MULTI_POWER.parameters, TRUE["multi-power"])),
                    PEAK, {}, (-1e-3, 1e-3), updates, PEAK)


def peak_traced_bytes(call):
    """The most memory ``call()`` held at once, as tracemalloc sees NumPy's arrays."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_rank_holds_no_more_than_the_final_update_needs():
    model = long_model(2000)
    candidates = {"cosine": "cosine", "wsd": "wsd"}
    ranked = []
    assert peak_traced_bytes(lambda: ranked.extend(rank(model, candidates))) < 16e6
    for r in ranked:  # the final loss is the one of the whole curve
        assert r.final == pytest.approx(model.predict(r.name, [1999]).final, rel=1e-12)


def test_predict_of_a_whole_long_curve_holds_a_bounded_memory():
    model = long_model(2000)
    lrs = PEAK * Cosine(start=1.0, end=0.1, steps=2000)(np.arange(2000))
    curves = []
    assert peak_traced_bytes(lambda: curves.append(model.predict(lrs))) < 64e6
    some = [0, 1, 999, 1000, 1999]
    want = naive("multi-power", TRUE["multi-power"], list(lrs / PEAK), some)
    np.testing.assert_allclose(curves[0].loss[some], want, rtol=1e-12)


# -- runs and their CSVs ---------------------------------------------------------------------
def logged_run(tmp_path, updates=30):
    """A tiny SGD run under a warm-up and a cosine, its lrs recorded by HyperparameterLog."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    schedule = join([Linear(start=0.0, end=1.0, steps=5), Cosine(start=1.0, end=0.1,
                                                                 steps=updates - 5)], [5])
    sched = cd.Scheduler(opt, lr=schedule)
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    losses = []
    path = tmp_path / "hp.csv"
    with HyperparameterLog(opt, csv=path):
        for _ in range(updates):
            loss = (model(x) - y).square().mean()
            loss.backward()
            opt.step()
            opt.zero_grad()
            sched.step()
            losses.append((model(x) - y).square().mean().item())  # the loss after the update
    return path, schedule, losses


def write(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(header)
        out.writerows(rows)
    return path


def test_run_from_hyperparameter_logs_csv_and_a_loss_csv(tmp_path):
    hp, schedule, losses = logged_run(tmp_path)
    assert hp.read_text().splitlines()[0] == "update,lr/0,momentum/0,weight_decay/0"
    measured = [(t, f"{losses[t]!r}" if t % 5 == 4 else "") for t in range(30)]
    loss_csv = write(tmp_path / "loss.csv", ["update", "loss"], measured)
    run = Run.from_csv(loss_csv, lrs=hp)
    assert run.name == "loss"
    np.testing.assert_allclose(run.lrs, 0.1 * schedule(np.arange(30)), rtol=1e-15, atol=1e-18)
    assert run.steps.tolist() == [4, 9, 14, 19, 24, 29]
    assert run.losses.tolist() == [losses[t] for t in (4, 9, 14, 19, 24, 29)]
    # the same in one file: a "step" column, the lr and the loss on each row
    with open(hp, newline="") as file:
        logged = [row["lr/0"] for row in csv.DictReader(file)]
    one = write(tmp_path / "one.csv", ["step", "lr", "loss"],
                [(t, logged[t], m) for t, m in measured])
    same = Run.from_csv(one)
    assert same.name == "one"
    assert (same.lrs.tolist(), same.steps.tolist(), same.losses.tolist()) == \
        (run.lrs.tolist(), run.steps.tolist(), run.losses.tolist())


def test_from_csv_names_the_missing_column_and_the_bad_lrs(tmp_path):
    hp, _, _ = logged_run(tmp_path, updates=10)
    no_loss = write(tmp_path / "noloss.csv", ["update", "value"], [(t, 1.0) for t in range(10)])
    with pytest.raises(InvalidValue, match=r"noloss\.csv: no 'loss' column \(it has \['update', "
                                           r"'value'\]\)"):
        Run.from_csv(no_loss, lrs=hp)
    no_lr = write(tmp_path / "nolr.csv", ["update", "loss"], [(t, 1.0) for t in range(10)])
    with pytest.raises(InvalidValue, match=r"nolr\.csv: no 'lr' or 'lr/0' column"):
        Run.from_csv(no_lr)
    gap = write(tmp_path / "gap.csv", ["update", "lr", "loss"],
                [(t, "" if t == 4 else 0.1, 1.0) for t in range(10)])
    with pytest.raises(InvalidValue, match=r"gap\.csv: the lr column must give the lr of every "
                                           r"update from 0 on"):
        Run.from_csv(gap)
    late = write(tmp_path / "late.csv", ["update", "lr", "loss"],
                 [(t, 0.1, 1.0) for t in range(1, 10)])
    with pytest.raises(InvalidValue, match=r"late\.csv: the lr column must give the lr of every"):
        Run.from_csv(late)
    words = write(tmp_path / "words.csv", ["update", "lr", "loss"], [(0, 0.1, "high")])
    with pytest.raises(InvalidValue, match=r"words\.csv: column 'loss' must hold numbers"):
        Run.from_csv(words)
    empty = write(tmp_path / "empty.csv", ["update", "lr", "loss"], [])
    with pytest.raises(InvalidValue, match=r"empty\.csv' has no rows under its header"):
        Run.from_csv(empty)
    with pytest.raises(InvalidValue, match=r"cannot read '.*absent\.csv'"):
        Run.from_csv(tmp_path / "absent.csv")
    beyond = write(tmp_path / "beyond.csv", ["update", "loss"], [(12, 1.0)])  # the lrs stop at 9
    with pytest.raises(InvalidValue, match=r"run 'beyond': 'steps' must be increasing update "
                                           r"indices in 0\.\.9 \(got 12\.\.12\)"):
        Run.from_csv(beyond, lrs=hp)


def test_run_names_each_bad_input():
    lrs = np.full(10, 0.1)
    with pytest.raises(InvalidValue, match=r"run 'r': 'steps' must be increasing update indices "
                                           r"in 0\.\.9 \(got 2\.\.5\)"):
        Run("r", lrs, [5, 2], [2.0, 1.9])
    with pytest.raises(InvalidValue, match=r"run 'r': 'steps' must be increasing"):
        Run("r", lrs, [2, 2], [2.0, 1.9])
    with pytest.raises(InvalidValue, match=r"run 'r': 'losses' must be finite and > 0 \(a law "
                                           r"of the log loss\) \(got min .*-0\.5"):
        Run("r", lrs, [2, 5], [2.0, -0.5])
    with pytest.raises(InvalidValue, match=r"'losses' must be finite and > 0 .*\(got min .*0\.0"):
        Run("r", lrs, [2, 5], [2.0, 0.0])
    with pytest.raises(InvalidValue, match=r"'losses' must be finite"):
        Run("r", lrs, [2, 5], [2.0, math.nan])
    with pytest.raises(InvalidValue, match=r"run 'r': 'steps' and 'losses' must be two lists of "
                                           r"the same length, at least 1 \(got \(2,\) and \(1,\)\)"):
        Run("r", lrs, [2, 5], [2.0])
    with pytest.raises(InvalidValue, match=r"'steps' and 'losses' .* at least 1"):
        Run("r", lrs, [], [])
    with pytest.raises(InvalidValue, match=r"run 'r': 'lrs' must be the lr of every update, "
                                           r"finite and >= 0 \(got 10 values\)"):
        Run("r", np.r_[lrs[:9], -0.1], [2], [2.0])
    with pytest.raises(InvalidValue, match=r"'lrs' must be .* \(got 0 values\)"):
        Run("r", [], [0], [2.0])
    with pytest.raises(InvalidValue, match=r"'steps' must be increasing update indices"):
        Run("r", lrs, [1.0, 2.0], [2.0, 1.9])  # not indices
    run = Run("r", [0.1, 0.2, 0.3], [0, 2], [3.0, 2.0])
    assert run.lrs.dtype == np.float64 and run.steps.dtype == np.int64


def test_run_shows_the_bad_loss_as_a_plain_number():
    with pytest.raises(InvalidValue, match=r"\(got min -0\.5\)$"):
        Run("r", np.full(10, 0.1), [2, 5], [2.0, -0.5])


def test_fit_names_the_unknown_law_and_the_empty_runs():
    runs = [Run("r", np.full(10, 0.1), [2, 5, 9], [2.0, 1.9, 1.8])]
    with pytest.raises(InvalidValue, match=r"'law' must be one of 'multi-power', 'annealing', "
                                           r"'area' \(got 'cubic'\)"):
        fit(runs, "cubic")
    with pytest.raises(InvalidValue, match=r"'runs' must be one or more Run \(got \[\]\)"):
        fit([], "area")
    with pytest.raises(InvalidValue, match=r"'runs' must be one or more Run \(got \[\(1, 2\)\]\)"):
        fit([(1, 2)], "area")
    with pytest.raises(InvalidValue, match=r"'delta'"):
        fit(runs, "area", delta=0.0)
    with pytest.raises(InvalidValue, match=r"'runs' must have some lr above 0"):
        fit([Run("r", np.zeros(10), [2, 5], [2.0, 1.9])], "area")


# -- lrs_of ----------------------------------------------------------------------------------
def test_lrs_of_a_schedule_a_preset_a_config_and_an_array():
    t = np.arange(40)
    half_cosine = [0.5 * (1 + math.cos(math.pi * s / 40)) / 2 for s in range(40)]
    np.testing.assert_allclose(lrs_of(Cosine(steps=40), 40, 0.5), half_cosine, rtol=1e-14,
                               atol=1e-17)
    # the preset "cosine" sized to 40 updates: from 1 to 0 over 40
    np.testing.assert_allclose(lrs_of("cosine", 40, 0.5), half_cosine, rtol=1e-14, atol=1e-17)
    config = {"type": "linear", "start": 1.0, "end": 0.0, "steps": 4}
    np.testing.assert_allclose(lrs_of(config, 6, 2.0), [2.0, 1.5, 1.0, 0.5, 0.0, 0.0], rtol=1e-15)
    assert lrs_of(Cosine(steps=40), 40).tolist() == Cosine(steps=40)(t).tolist()  # peak 1
    given = lrs_of([0.3, 0.2, 0.1], 99, 5.0)  # as is: neither the length nor the peak applies
    assert given.dtype == np.float64 and given.tolist() == [0.3, 0.2, 0.1]
    assert lrs_of(np.array([1, 2]), 5).tolist() == [1.0, 2.0]


def test_lrs_of_refuses_what_is_not_a_schedule():
    with pytest.raises(InvalidValue, match=r"cosinee"):
        lrs_of("cosinee", 40)
    with pytest.raises(InvalidType):
        lrs_of(42, 40)


def test_predict_reads_a_preset_over_the_fitted_length_and_peak(fits):
    model = fits["annealing"]
    p = model.predict("cosine")
    lrs = PEAK * np.array([(1 + math.cos(math.pi * s / N)) / 2 for s in range(N)])
    want = naive("annealing", list(model.params.values()), list(lrs / PEAK), [W, N // 2, N - 1])
    np.testing.assert_allclose(p.loss[[W, N // 2, N - 1]], want, rtol=1e-10)


def test_the_laws_are_registered_by_name():
    assert {name: law.name for name, law in LAWS.items()} == \
        {"multi-power": "multi-power", "annealing": "annealing", "area": "area"}
    assert (AREA.parameters, ANNEALING.parameters, MULTI_POWER.parameters) == \
        (("L0", "A", "alpha"), ("L0", "A", "alpha", "C"),
         ("L0", "A", "alpha", "B", "C", "beta", "gamma"))
