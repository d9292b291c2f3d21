"""The strict YAML loader on PyYAML's C parser (libyaml) and on its pure-Python one: the same
checks and messages on both, the same data, the C one where PyYAML has it; and config files that
are not regular files (a named pipe, a device, a socket) refused before they are opened.
"""

from __future__ import annotations

import os
import signal
import socket
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

import cadence
from cadence.cli import main
from cadence.config import io
from cadence.validation import InvalidValue

HAS_LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))
LOADERS = [pytest.param(True, id="libyaml", marks=pytest.mark.skipif(
    not HAS_LIBYAML, reason="PyYAML built without libyaml")), pytest.param(False, id="pure")]


@pytest.fixture(params=LOADERS)
def loader(request, monkeypatch):
    """parse_yaml on the C parser (libyaml) or on the pure-Python one."""
    accelerated, original = request.param, io._strict_loader
    monkeypatch.setattr(io, "_strict_loader", lambda: original(accelerated))
    return accelerated


@pytest.mark.skipif(not HAS_LIBYAML, reason="PyYAML built without libyaml")
def test_the_c_parser_is_used_where_pyyaml_has_it(monkeypatch):
    from yaml.cyaml import CParser

    assert CParser in io._strict_loader().__mro__

    def pure_scanner_used(*args, **kwargs):
        raise AssertionError("the pure-Python scanner ran")

    monkeypatch.setattr(yaml.scanner.Scanner, "fetch_more_tokens", pure_scanner_used)
    assert io.parse_yaml("type: cosine\nsteps: 10\n") == {"type": "cosine", "steps": 10}


REFUSED = [
    ("type: cosine\nsteps: &n 10\nend: *n\n",
     "'c.yaml': aliases and anchors (*name, &name) are not allowed in a config (line 2, column 8)"),
    ("type: cosine\nsteps: &unused 10\n", "aliases and anchors (*name, &name) are not allowed"),
    ("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", "aliases and anchors (*name, &name) are not "
                                                    "allowed in a config (line 1, column 4)"),
    ("type: cosine\nschedule:\n  steps: 5\n  end: 0\n  steps: 6\n",
     "'c.yaml': the key 'steps' appears twice in one mapping (first at line 3): a config names "
     "each key once (line 5, column 3)"),
    ("{1: a, 1.0: b}\n", "the key 1.0 appears twice in one mapping (first at line 1)"),
    ("<<: {a: 1}\na: 2\nb: 3\nb: 4\n", "the key 'b' appears twice in one mapping (first at line 3)"),
    ("[" * 101 + "]" * 101, "'c.yaml': nesting deeper than 100 levels of lists and mappings is "
                            "not allowed in a config (line 1, column 101)"),
    ("- " * 150 + "x\n", "nesting deeper than 100 levels"),
    ("type: !!python/object/apply:os.system ['true']\n",
     "could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply"),
    ("? [a, b]\n: 1\n", "'c.yaml' does not parse: found unhashable key"),
    ("type: cosine\nsteps:\n\t- 5\n", "found character that cannot start any token (YAML indents "
                                      "with spaces, not tabs) (line 3, column 1)"),
]


@pytest.mark.parametrize(("text", "message"), REFUSED, ids=[t[:30] for t, _ in REFUSED])
def test_every_check_holds_on_both_parsers(text, message, loader, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(InvalidValue) as caught:
        cadence.read_config(path)
    got = str(caught.value).replace("character '\\t' that", "character that")  # pure's wording
    assert got.startswith(f"'{path}'") and message.replace("'c.yaml'", "") in got


ACCEPTED = [
    "type: warmup\nsteps: 100\nschedule:\n  type: cosine\n  start: 1.0\n  end: 1.0e-2\n"
    "  steps: 900\n",
    "- type: LinearLR\n  start_factor: 0.1\n  by_epoch: false\n  end: 500\n"
    "- {type: CosineAnnealingLR, T_max: 9500, begin: 500, end: 10000, eta_min: 1e-06}\n",
    "type: multistep\r\nmilestones: [30, 60, 90]\r\ngamma: 0.1\r\n",
    "<<: {type: cosine, steps: 5}\nsteps: 10\n",  # a merge key overrides, as YAML says
    "type: linear\nstart: 0x10\nend: 1_000\nsteps: .inf\nflag: yes\nname: 'a # b'\n",
]


@pytest.mark.parametrize("text", ACCEPTED, ids=[t[:24] for t in ACCEPTED])
def test_both_parsers_give_the_same_data(text, tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    seen, original = [], io._strict_loader
    for accelerated in (True, False) if HAS_LIBYAML else (False,):
        monkeypatch.setattr(io, "_strict_loader", lambda a=accelerated: original(a))
        seen.append(cadence.read_config(path))
    assert seen[0] == yaml.safe_load(text.replace("\r\n", "\n"))
    assert all(data == seen[0] for data in seen)


# -- a file that is not a regular file --------------------------------------------------------
class Hung(Exception):
    """Reading the path did not return."""


@contextmanager
def deadline(seconds: int):
    """Raise Hung if the block takes longer (a read from a named pipe waits for ever)."""
    def hung(signum, frame):
        raise Hung(f"still reading after {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def make(kind: str, path: Path) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "link to a fifo":
        os.mkfifo(path.with_name("pipe"))
        path.symlink_to(path.with_name("pipe"))
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.close()
    elif kind == "device":
        path.symlink_to("/dev/null")


NOT_FILES = [("fifo", "x.yaml", "a named pipe (FIFO)"), ("fifo", "x.json", "a named pipe (FIFO)"),
             ("link to a fifo", "x.yml", "a named pipe (FIFO)"),
             ("socket", "x.yaml", "a socket"), ("device", "x.json", "a character device")]


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not hasattr(signal, "SIGALRM"),
                    reason="needs named pipes and SIGALRM")
@pytest.mark.parametrize(("kind", "name", "what"), NOT_FILES,
                         ids=[f"{k} {n}" for k, n, _ in NOT_FILES])
def test_a_spec_that_is_not_a_regular_file_is_refused_at_once(kind, name, what, tmp_path,
                                                              monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    make(kind, tmp_path / name)
    with deadline(10):
        with pytest.raises(InvalidValue, match=f"^'{name}' is {what.replace('(', '.').replace(')', '.')}, not a config file$"):
            cadence.read_config(name)
        assert main(["preview", name]) == 2
    assert capsys.readouterr().err == f"cadence preview: error: '{name}' is {what}, not a " \
                                      "config file\n"
