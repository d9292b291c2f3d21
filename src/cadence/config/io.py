"""Objects to and from configs: JSON-safe dicts with a ``type`` key, in memory or on disk.

A config is a dict whose ``type`` names a registered class and whose other keys are that class's
constructor arguments; a nested dict with a ``type`` key is built first. Lists stay lists.

>>> from cadence.schedules import Cosine
>>> cfg = to_config(Cosine(start=1.0, end=0.1, steps=100))
>>> cfg
{'type': 'cosine', 'start': 1.0, 'end': 0.1, 'steps': 100}
>>> from_config(cfg) == Cosine(start=1.0, end=0.1, steps=100)
True
"""

from __future__ import annotations

import inspect
import json
import os
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cadence.config.encoding import dataclass_config as dataclass_config
from cadence.config.encoding import encode as encode
from cadence.config.encoding import fingerprint as fingerprint
from cadence.config.parsing import MAX_NESTING as MAX_NESTING
from cadence.config.parsing import check_nesting, need_yaml, strict_loader, yaml_message
from cadence.config.parsing import parse_json as parse_json
from cadence.config.registry import lookup, suggest
from cadence.validation import InvalidInput, InvalidType, InvalidValue

JSON_SUFFIXES = (".json",)
YAML_SUFFIXES = (".yaml", ".yml")


def to_config(obj: Any) -> dict[str, Any]:
    """The config of ``obj`` (anything with a ``to_config`` method).

    >>> from cadence.schedules import Cosine
    >>> to_config(Cosine(start=1.0, end=0.1, steps=100))
    {'type': 'cosine', 'start': 1.0, 'end': 0.1, 'steps': 100}
    """
    if not hasattr(obj, "to_config"):
        raise InvalidType(f"{obj!r} has no config form (it has no to_config method)")
    cfg: dict[str, Any] = obj.to_config()
    return cfg


def _decode(value: Any) -> Any:
    if isinstance(value, Mapping) and "type" in value:
        return _build(value)
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def check_keys(type_name: str, cls: type, keys: list[str]) -> None:
    """Refuse keys the class does not take, and required ones that are missing."""
    params = inspect.signature(cls).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    valid = [n for n, p in params.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL]
    for key in keys:
        if key not in valid:
            raise InvalidValue(
                f"unknown key {key!r} for config type {type_name!r}{suggest(key, valid)} "
                f"(valid keys: {', '.join(valid)})"
            )
    missing = [
        n for n, p in params.items()
        if p.default is inspect.Parameter.empty and n not in keys
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    if missing:
        raise InvalidValue(f"config type {type_name!r} needs the key {missing[0]!r}")


def from_config(data: Any) -> Any:
    """Build the object a config describes (nested configs first).

    Unknown types and keys are refused with the nearest valid name, and configs nested deeper
    than ``MAX_NESTING`` levels are refused before anything is built.

    >>> lr = from_config({"type": "warmup", "steps": 10,
    ...                   "schedule": {"type": "cosine", "start": 1.0, "end": 0.0, "steps": 90}})
    >>> lr.schedule, lr(5), round(lr(55), 12)
    (Cosine(start=1.0, end=0.0, steps=90), 0.5, 0.5)
    >>> from_config({"type": "cosine", "step": 90})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    cadence.validation.InvalidValue: unknown key 'step' for config type 'cosine'; did you mean ...
    """
    check_nesting(data, "the config")
    return _build(data)


def _build(data: Any) -> Any:
    if not isinstance(data, Mapping):
        raise InvalidType(f"a config must be a dict with a 'type' key (got {data!r})")
    if "type" not in data:
        raise InvalidValue(f"a config must have a 'type' key (got keys {sorted(data)!r})")
    cls = lookup(data["type"])
    kwargs = {str(k): _decode(v) for k, v in data.items() if k != "type"}
    check_keys(data["type"], cls, list(kwargs))
    return cls(**kwargs)


def config_path(path: object, name: str = "path") -> Path:
    """A config file's path: a str or path ending in .json, .yaml or .yml."""
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidType(f"{name!r} must be the path of a .json, .yaml or .yml file, as a str or "
                          f"os.PathLike (got {path!r})")
    out = Path(path)
    if out.suffix.lower() not in JSON_SUFFIXES + YAML_SUFFIXES:
        raise InvalidValue(f"{name!r} must end in .json, .yaml or .yml (got {str(out)!r})")
    return out


def read_config(path: str | Path) -> Any:
    """The raw data (a dict, or a list of them) of a JSON or YAML file, chosen by the file's
    suffix.

    Every mistake in the file is an :class:`~cadence.validation.InvalidValue` that names it: a
    missing or unreadable file, text that does not parse (with its line and column), a
    duplicate key, a YAML alias or anchor (configs need none, and a few bytes of them can
    expand to gigabytes), nesting deeper than ``MAX_NESTING``, or data that is not a config.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "lr.json"
    >>> _ = path.write_text('{"type": "linear", "start": 0.0, "end": 1.0, "steps": 500}')
    >>> read_config(path)
    {'type': 'linear', 'start': 0.0, 'end': 1.0, 'steps': 500}
    """
    path = config_path(path)
    suffix = path.suffix.lower()
    source = repr(str(path))
    text = _read_text(path)
    data = parse_json(text, source) if suffix in JSON_SUFFIXES else parse_yaml(text, source)
    if data is None:
        raise InvalidValue(f"{source} is empty: it must hold a config (a mapping with a 'type' "
                           "key) or a list of them")
    if not isinstance(data, (dict, list)):
        raise InvalidType(f"{source} must hold a config (a mapping with a 'type' key) or a list "
                          f"of them (got the {type(data).__name__} {_short(data)})")
    for index, item in enumerate(data if isinstance(data, list) else []):
        if not isinstance(item, dict):
            raise InvalidType(f"{source} holds a list, which must be of configs (mappings with "
                              f"a 'type' key) (got {_short(item)} at index {index})")
    return data


def _read_text(path: Path) -> str:
    """The file's text, or an InvalidValue that names the file and what is wrong with it.

    Only a regular file is read: a folder, a named pipe (FIFO), a device or a socket is refused
    before it is opened (reading a FIFO waits for a writer forever, a device such as
    ``/dev/zero`` never ends, and opening either can disturb another process). The file is then
    opened without blocking and checked again, in case another was put in its place.
    """
    name = repr(str(path))
    what = _not_regular(path)
    if what is not None:
        raise InvalidValue(f"{name} is {what}, not a config file")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InvalidValue(f"no such file: {name}") from None
    except OSError as exc:
        raise InvalidValue(f"cannot read {name}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InvalidValue(f"{name} is {_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}"
                               ", not a config file")
        with open(fd, "rb", closefd=False) as file:
            data = file.read()
    except OSError as exc:
        raise InvalidValue(f"cannot read {name}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidValue(f"{name} is not UTF-8 text ({exc.reason} at byte "
                           f"{exc.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it


# What a path that is not a regular file is, by its stat.S_IFMT mode.
_KINDS = {stat.S_IFDIR: "a folder", stat.S_IFIFO: "a named pipe (FIFO)",
          stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket"}


def _not_regular(path: Path) -> str | None:
    """What ``path`` (through links) is if it exists and is not a regular file (``"a named
    pipe (FIFO)"``...); None for a regular file, or if it cannot be seen (opening it says)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# The YAML loader parse_yaml builds: a name of this module, so that a test or a benchmark can
# swap it for the pure-Python parser (``strict_loader(False)``).
_strict_loader = strict_loader


def parse_yaml(text: str, source: str = "inline YAML") -> Any:
    """The data of YAML ``text`` through a safe loader that also refuses aliases and anchors,
    duplicate keys and nesting deeper than ``MAX_NESTING``; ``source`` names it in errors,
    which give the line and column.

    The text is scanned and parsed by PyYAML's C parser (libyaml) where PyYAML was built with
    it, else by its pure-Python one; the checks run on the parser's events and nodes either
    way. libyaml follows the YAML spec where the pure parser is stricter: a tab that separates
    (``key:<tab>value``) is accepted; a tab that indents is refused by both.
    """
    yaml = need_yaml()
    loader = _strict_loader()(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        raise InvalidValue(yaml_message(exc, source, text)) from None
    except yaml.YAMLError as exc:
        raise InvalidValue(f"{source} does not parse: {exc}") from None
    finally:
        loader.dispose()


def load_config(path: str | Path) -> Any:
    """Build the object described by a JSON or YAML config file; every mistake in it is an
    :class:`~cadence.validation.InvalidInput` whose message starts with the file's path.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "lr.yaml"
    >>> _ = path.write_text("type: cosine\\nstart: 1.0\\nend: 0.01\\nsteps: 9500\\n")
    >>> load_config(path)
    Cosine(start=1.0, end=0.01, steps=9500)
    """
    data = read_config(path)
    with naming(repr(str(path))):
        return from_config(data)


@contextmanager
def naming(source: str) -> Iterator[None]:
    """Put ``source: `` in front of an :class:`~cadence.validation.InvalidInput` raised
    inside (unless it names ``source`` already), so that a mistake in a config built from a
    file names the file; the exception keeps its type."""
    try:
        yield
    except InvalidInput as exc:
        message = str(exc)
        if source in message:
            raise
        try:
            renamed = type(exc)(f"{source}: {message}")
        except TypeError:  # a user's subclass with another signature: keep it as it is
            raise exc from None
        raise renamed from None


def dump_config(obj: Any, path: str | Path) -> Path:
    """Write the config of ``obj`` to a JSON or YAML file (by suffix) and return the path.

    >>> import tempfile
    >>> from cadence.schedules import Cosine, Warmup
    >>> lr = Warmup(Cosine(start=1.0, end=0.01, steps=9500), steps=500)
    >>> path = dump_config(lr, tempfile.mkdtemp() + "/lr.yaml")
    >>> print(path.read_text(), end="")
    type: warmup
    schedule:
      type: cosine
      start: 1.0
      end: 0.01
      steps: 9500
    steps: 500
    start: 0.0
    shape: linear
    mode: prefix
    >>> load_config(path) == lr
    True
    """
    path = config_path(path)
    suffix = path.suffix.lower()
    cfg = to_config(obj)
    if suffix in JSON_SUFFIXES:
        text = json.dumps(cfg, indent=2) + "\n"
    else:
        text = need_yaml().safe_dump(cfg, sort_keys=False)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidValue(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    return path
