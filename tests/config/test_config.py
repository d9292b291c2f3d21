"""Configs: dicts, JSON and YAML files, the registry and its error messages."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pytest

import cadence
from cadence.config import lookup, register, registered, unregister
from cadence.schedules import Constant, Cosine, CosineRestarts, Lambda, Linear, Schedule, join
from cadence.validation import InvalidInput, InvalidType, InvalidValue


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
        ({"type": "cosine", "steps": 0}, ValueError, "'steps' must be a positive number"),
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


# -- files: every mistake names the file ------------------------------------------------------------
def laughs(levels: int, width: int = 9) -> str:
    """A YAML "billion laughs": ``width ** levels`` strings once its aliases are expanded."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [6, 9, 12])
def test_a_yaml_alias_bomb_is_refused_at_once(levels, tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(laughs(levels))
    assert path.stat().st_size < 700
    began = time.perf_counter()
    with pytest.raises(InvalidValue, match=r"bomb\.yaml': aliases and anchors \(\*name, &name\) "
                                           r"are not allowed in a config \(line 1, column 5\)"):
        cadence.read_config(path)
    with pytest.raises(InvalidValue, match="aliases and anchors"):
        cadence.load_config(path)
    assert time.perf_counter() - began < 2


def test_a_single_alias_is_refused_too(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("type: cosine\nsteps: &n 10\nend: *n\n")
    with pytest.raises(InvalidValue, match=r"'.*a\.yaml': aliases and anchors .* \(line 2"):
        cadence.read_config(path)


def test_duplicate_keys_are_refused_with_the_key_and_its_lines(tmp_path):
    (tmp_path / "d.yaml").write_text("type: cosine\nschedule:\n  steps: 5\n  end: 0\n  steps: 6\n")
    with pytest.raises(InvalidValue, match=r"d\.yaml': the key 'steps' appears twice in one "
                                           r"mapping \(first at line 3\).*\(line 5, column 3\)"):
        cadence.read_config(tmp_path / "d.yaml")
    (tmp_path / "d.json").write_text('{"type": "cosine", "steps": 5, "steps": 6}')
    with pytest.raises(InvalidValue, match=r"d\.json' has the key 'steps' twice"):
        cadence.load_config(tmp_path / "d.json")
    (tmp_path / "ok.yaml").write_text("a: {steps: 1}\nb: {steps: 2}\n")  # same key, two mappings
    assert cadence.read_config(tmp_path / "ok.yaml") == {"a": {"steps": 1}, "b": {"steps": 2}}


@pytest.mark.parametrize(("text", "message"), [
    ("type: cosine\nsteps:\n\t- 5\n", r"does not parse: found character .* \(YAML indents "
                                      r"with spaces, not tabs\) \(line 3, column 1\)"),
    ("type: cosine\nsteps: [1, 2\n", r"does not parse: .*expected ',' or '\]'"),
    ("type: !!python/object/apply:os.system ['true']\n",
     r"could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply"),
    ("hello\n", r"must hold a config \(a mapping with a 'type' key\) or a list of them \(got "
                r"the str 'hello'\)"),
    ("", r"c\.yaml' is empty"),
    ("[" * 150 + "]" * 150, r"nesting deeper than 100 levels"),
])
def test_bad_yaml_is_refused_with_the_file_named(text, message, tmp_path):
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(InvalidValue if text != "hello\n" else InvalidType, match=message):
        cadence.read_config(tmp_path / "c.yaml")


@pytest.mark.parametrize(("text", "message"), [
    ('{"type": "cosine",\n "steps": }', r"c\.json' does not parse: Expecting value \(line 2, "
                                       r"column 11\)"),
    ('{"type": "cosine", "steps": NaN}', r"c\.json' holds NaN"),
    ("[" * 150 + "]" * 150, r"c\.json' nests deeper than 100 levels"),
    ("[" * 100_000, r"c\.json' nests deeper than 100 levels"),  # Python's recursion limit
    ('{"steps": ' + "9" * 5000 + "}", r"does not parse: Exceeds the limit"),
    ("5", r"\(got the int 5\)"),
])
def test_bad_json_is_refused_with_the_file_named(text, message, tmp_path):
    (tmp_path / "c.json").write_text(text)
    with pytest.raises(InvalidInput, match=message):
        cadence.read_config(tmp_path / "c.json")


def test_unreadable_files_are_invalid_values_that_name_them(tmp_path):
    (tmp_path / "dir.yaml").mkdir()
    (tmp_path / "bin.json").write_bytes(b"\xff\x00")
    for name, message in [("missing.yaml", "no such file: '.*missing.yaml'"),
                          ("dir.yaml", "dir.yaml' is a folder, not a config file"),
                          ("bin.json", r"bin.json' is not UTF-8 text \(invalid start byte")]:
        with pytest.raises(InvalidValue, match=message):
            cadence.load_config(tmp_path / name)
    with pytest.raises(InvalidValue, match=r"cannot write '.*nowhere/x.json'"):
        cadence.dump_config(Constant(1.0), tmp_path / "nowhere" / "x.json")


def test_a_mistake_in_a_files_config_names_the_file(tmp_path):
    (tmp_path / "k.yaml").write_text("type: cosine\nstep: 10\n")
    with pytest.raises(InvalidValue, match=r"^'.*k\.yaml': unknown key 'step' for config type "
                                           r"'cosine'; did you mean 'steps'"):
        cadence.load_config(tmp_path / "k.yaml")
    (tmp_path / "l.yaml").write_text("- type: cosine\n  steps: 5\n")
    with pytest.raises(InvalidType, match=r"^'.*l\.yaml': a config must be a dict"):
        cadence.load_config(tmp_path / "l.yaml")
    (tmp_path / "m.yaml").write_text("- 1\n")
    with pytest.raises(InvalidType, match=r"^'.*m\.yaml' holds a list, which must be of configs "
                                          r"\(mappings with a 'type' key\) \(got 1 at index 0\)"):
        cadence.read_config(tmp_path / "m.yaml")


def test_a_deep_config_in_memory_is_refused_before_building():
    deep: dict = {"type": "constant", "value": 1.0}
    for _ in range(200):
        deep = {"type": "scale", "schedule": deep, "factor": 1.0}
    with pytest.raises(InvalidValue, match="nests deeper than 100 levels"):
        cadence.from_config(deep)
    shallow: dict = {"type": "constant", "value": 1.0}
    for _ in range(30):
        shallow = {"type": "scale", "schedule": shallow, "factor": 2.0}
    assert cadence.from_config(shallow)(0) == 2.0**30


def test_mistakes_are_one_error_type():
    assert issubclass(InvalidValue, ValueError) and issubclass(InvalidValue, InvalidInput)
    assert issubclass(InvalidType, TypeError) and issubclass(InvalidType, InvalidInput)
