"""Configs: dicts, JSON and YAML files, the registry and its error messages."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

import cadence
from cadence.config import lookup, register, registered, unregister
from cadence.schedules import Constant, Cosine, CosineRestarts, Lambda, Linear, Schedule, join


def test_nested_config_round_trip():
    s = join([Linear(start=0.05, end=1.0, steps=100), CosineRestarts(period=200, period_mult=2)],
             boundaries=[100])
    cfg = cadence.to_config(s)
    assert cfg["type"] == "join"
    assert cfg["schedules"][1] == {"type": "cosine_restarts", "period": 200, "period_mult": 2.0,
                                   "decay": 1.0, "low": 0.0, "high": 1.0, "cycles": None}
    assert cadence.from_config(cfg) == s


def test_load_json_and_yaml_files(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(
        {"type": "warmup", "steps": 10, "schedule": {"type": "cosine", "steps": 90}}))
    (tmp_path / "b.yaml").write_text(
        "type: warmup\nsteps: 10\nschedule:\n  type: cosine\n  steps: 90\n  end: 0.1\n")
    a = cadence.load_config(tmp_path / "a.json")
    b = cadence.load_config(str(tmp_path / "b.yaml"))
    assert a(10) == 1.0 and a(100) == 0.0
    assert b(100) == pytest.approx(0.1)
    assert cadence.read_config(tmp_path / "b.yaml")["schedule"]["end"] == 0.1


def test_ints_in_files_become_the_same_schedule():
    assert cadence.from_config({"type": "cosine", "start": 1, "end": 0, "steps": 10}) == Cosine(
        start=1.0, end=0.0, steps=10)


@pytest.mark.parametrize(
    ("cfg", "error", "message"),
    [
        ({"type": "cosin", "steps": 10}, ValueError, "unknown config type 'cosin'; did you mean 'cosine'"),
        ({"type": "cosine", "step": 10}, ValueError, "unknown key 'step' for config type 'cosine'; did you mean 'steps'"),
        ({"type": "cosine"}, ValueError, "config type 'cosine' needs the key 'steps'"),
        ({"steps": 10}, ValueError, "must have a 'type' key"),
        ([1, 2], TypeError, "must be a dict with a 'type' key"),
        ({"type": 3}, TypeError, "config 'type' must be a str"),
        ({"type": "cosine", "steps": 0}, ValueError, "'steps' must be a positive int"),
        ({"type": "join", "schedules": [{"type": "constant", "valu": 1}], "boundaries": []},
         ValueError, "unknown key 'valu' for config type 'constant'; did you mean 'value'"),
    ],
)
def test_bad_configs_are_refused_with_the_nearest_name(cfg, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(")):
        cadence.from_config(cfg)


def test_unknown_type_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"known types: .*cosine_restarts"):
        lookup("no-such-thing")


def test_bad_file_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"'path' must end in .json, .yaml or .yml"):
        cadence.load_config(tmp_path / "x.txt")
    with pytest.raises(ValueError, match=r"'path' must end in"):
        cadence.dump_config(Constant(1.0), tmp_path / "x.toml")


def test_lambda_has_no_config_form():
    with pytest.raises(TypeError, match=r"Lambda\(.*\) wraps a Python function"):
        cadence.to_config(join([Lambda(abs), Constant(1.0)], [5]))


def test_users_register_their_own_types():
    @register("test_half_life")
    @dataclass(frozen=True)
    class HalfLife(Schedule):
        half_life: float

        def _eval(self, t, xp):
            return xp.power(0.5, t / self.half_life)

    try:
        s = HalfLife(10.0)
        assert "test_half_life" in registered()
        assert s.to_config() == {"type": "test_half_life", "half_life": 10.0}
        rebuilt = cadence.from_config({"type": "join", "boundaries": [5], "schedules": [
            {"type": "constant", "value": 1.0}, {"type": "test_half_life", "half_life": 10.0}]})
        assert rebuilt(15) == 0.5
        with pytest.raises(ValueError, match="already registered"):
            register("test_half_life")(Constant)
    finally:
        unregister("test_half_life")
    assert "test_half_life" not in registered()


def test_non_finite_numbers_cannot_be_written():
    from cadence.config.io import encode

    with pytest.raises(ValueError, match="non-finite"):
        encode(float("inf"))
    with pytest.raises(TypeError, match="cannot be written to a config"):
        encode(object())
