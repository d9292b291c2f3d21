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

import dataclasses
import inspect
import json
import math
import os
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache, partial
from pathlib import Path
from typing import Any

from cadence.config.registry import lookup, suggest
from cadence.validation import InvalidInput, InvalidType, InvalidValue, MissingPackage

JSON_SUFFIXES = (".json",)
YAML_SUFFIXES = (".yaml", ".yml")
# How deep a config may nest (dicts and lists): real ones nest a few levels; a cap keeps a
# hostile file from exhausting Python's recursion limit in the parser or in from_config.
MAX_NESTING = 100


def encode(value: Any) -> Any:
    """A JSON-safe copy of ``value``: objects with ``to_config`` become configs, tuples lists."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValue(f"a config cannot hold the non-finite number {value!r}")
        return value
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): encode(item) for key, item in value.items()}
    if hasattr(value, "to_config"):
        return value.to_config()
    raise InvalidType(f"{value!r} cannot be written to a config")


def dataclass_config(obj: Any) -> dict[str, Any]:
    """The config of a registered dataclass: its ``type_name`` and every init field."""
    cfg: dict[str, Any] = {"type": type(obj).type_name}
    for field in dataclasses.fields(obj):
        if field.init:
            cfg[field.name] = encode(getattr(obj, field.name))
    return cfg


def fingerprint(value: Any) -> Any:
    """What identifies an object, JSON-safe: its config, with functions written by name.

    Unlike :func:`to_config` it accepts schedules that wrap user functions (``Lambda``), so it
    can tell two schedules apart; it cannot rebuild them.
    """
    type_name = getattr(type(value), "type_name", None)
    if dataclasses.is_dataclass(value) and type_name is not None:
        out: dict[str, Any] = {"type": type_name}
        for field in dataclasses.fields(value):
            if field.init:
                out[field.name] = fingerprint(getattr(value, field.name))
        return out
    if hasattr(value, "to_config"):
        return value.to_config()
    if isinstance(value, (list, tuple)):
        return [fingerprint(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): fingerprint(item) for key, item in value.items()}
    if callable(value) and not isinstance(value, type):
        name = getattr(value, "__qualname__", None) or type(value).__qualname__
        return f"{getattr(value, '__module__', None) or ''}.{name}"
    return encode(value)


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


def check_nesting(data: Any, source: str) -> None:
    """Refuse data whose dicts and lists nest deeper than ``MAX_NESTING`` levels (walked
    without recursion, so any depth is measured safely)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, (Mapping, list, tuple)):
            continue
        if depth > MAX_NESTING:
            raise _too_deep(source)
        items = value.values() if isinstance(value, Mapping) else value
        stack.extend((item, depth + 1) for item in items)


def _too_deep(source: str) -> InvalidValue:
    return InvalidValue(f"{source} nests deeper than {MAX_NESTING} levels of lists and "
                        "mappings, which no config needs")


def parse_json(text: str, source: str = "inline JSON") -> Any:
    """The data of JSON ``text``; ``source`` names it in errors (``"inline JSON"``, or a
    file's quoted path). Duplicate keys, ``NaN``/``Infinity`` and nesting deeper than
    ``MAX_NESTING`` are refused; a syntax error names its line and column."""
    try:
        data = json.loads(text, object_pairs_hook=partial(_unique_keys, source=source),
                          parse_constant=partial(_no_constant, source=source))
    except InvalidInput:
        raise
    except json.JSONDecodeError as exc:
        raise InvalidValue(f"{source} does not parse: {exc.msg} (line {exc.lineno}, column "
                           f"{exc.colno})") from None
    except RecursionError:  # deeper than Python's recursion limit: the scanner gave up
        raise _too_deep(source) from None
    except ValueError as exc:  # e.g. an int of more digits than Python converts
        raise InvalidValue(f"{source} does not parse: {exc}") from None
    check_nesting(data, source)
    return data


def _unique_keys(pairs: list[tuple[str, Any]], source: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InvalidValue(f"{source} has the key {key!r} twice in one mapping: a config "
                               "names each key once")
        out[key] = value
    return out


def _no_constant(name: str, source: str) -> Any:
    raise InvalidValue(f"{source} holds {name}, which is not a finite number: configs hold "
                       "finite numbers only")


def parse_yaml(text: str, source: str = "inline YAML") -> Any:
    """The data of YAML ``text`` through a safe loader that also refuses aliases and anchors,
    duplicate keys and nesting deeper than ``MAX_NESTING``; ``source`` names it in errors,
    which give the line and column.

    The text is scanned and parsed by PyYAML's C parser (libyaml) where PyYAML was built with
    it, else by its pure-Python one; the checks run on the parser's events and nodes either
    way. libyaml follows the YAML spec where the pure parser is stricter: a tab that separates
    (``key:<tab>value``) is accepted; a tab that indents is refused by both.
    """
    yaml = _yaml()
    loader = _strict_loader()(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        raise InvalidValue(_yaml_message(exc, source, text)) from None
    except yaml.YAMLError as exc:
        raise InvalidValue(f"{source} does not parse: {exc}") from None
    finally:
        loader.dispose()


def _yaml_message(exc: Any, source: str, text: str = "") -> str:
    problem = exc.problem or exc.context or "invalid YAML"
    mark = exc.problem_mark or exc.context_mark
    if "'\\t'" in problem or (mark is not None and _char_at(text, mark) == "\t"):
        problem += " (YAML indents with spaces, not tabs)"
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    verb = ":" if getattr(exc, "refused", False) else " does not parse:"
    return f"{source}{verb} {problem}{where}"


def _char_at(text: str, mark: Any) -> str:
    """The character of ``text`` at a YAML mark's line and column ("" past the end)."""
    lines = text.split("\n")
    if not 0 <= mark.line < len(lines):
        return ""
    line = lines[mark.line]
    return line[mark.column] if 0 <= mark.column < len(line) else ""


@cache
def _strict_loader(accelerated: bool = True) -> type:
    """A safe YAML loader refusing aliases, anchors, duplicate keys and deep nesting (built on
    first use, so that importing cadence does not import PyYAML).

    With ``accelerated`` and a PyYAML built with libyaml, its C parser (``yaml.CParser``, what
    ``yaml.CSafeLoader`` parses with) turns the text into events: a 7 MB config loads three to
    four times faster than with the pure-Python scanner and parser (``bench/bench_cli.py``).
    The composer (where aliases, anchors and nesting are checked) and the constructor
    (duplicate keys) are PyYAML's Python ones in both cases, so every check and its message
    stay the same; only a syntax error is worded by the parser that found it.
    """
    _yaml()  # PyYAML is installed (or a MissingPackage says how to install it)
    import yaml
    from yaml.composer import Composer
    from yaml.constructor import SafeConstructor
    from yaml.resolver import Resolver

    base: type = yaml.SafeLoader
    if accelerated and getattr(yaml, "__with_libyaml__", False):
        from yaml.cyaml import CParser  # type: ignore[attr-defined]  # not re-exported in stubs

        # The Python composer comes before the C parser in the order of bases, so that its
        # compose_node (checked below) runs rather than the C parser's own composer.
        class Accelerated(Composer, CParser, SafeConstructor, Resolver):
            def __init__(self, stream: str) -> None:
                CParser.__init__(self, stream)
                Composer.__init__(self)
                SafeConstructor.__init__(self)
                Resolver.__init__(self)

        base = Accelerated

    class Refused(yaml.MarkedYAMLError):
        refused = True

    opening = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
    merge = "tag:yaml.org,2002:merge"

    class StrictLoader(base):
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if getattr(event, "anchor", None) is not None:  # an alias, or a node with an anchor
                raise Refused(problem="aliases and anchors (*name, &name) are not allowed in a "
                              "config", problem_mark=event.start_mark)
            if type(event) not in opening:  # a scalar: the most common node, checked fast
                return super().compose_node(parent, index)
            if self.depth >= MAX_NESTING:
                raise Refused(problem=f"nesting deeper than {MAX_NESTING} levels of lists and "
                              "mappings is not allowed in a config",
                              problem_mark=event.start_mark)
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            pairs = len(node.value)
            if any(key.tag == merge for key, _ in node.value):
                _check_unique(self, node)  # before the merge keys are flattened into it
                return super().construct_mapping(node, deep=deep)
            mapping = super().construct_mapping(node, deep=deep)
            if len(mapping) < pairs:  # a key came twice (keys are constructed once, cached)
                _check_unique(self, node)
            return mapping

    def _check_unique(loader: Any, node: Any) -> None:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == merge:
                continue
            key = loader.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:  # an unhashable key: the base class refuses it
                continue
            if first is not key_node:
                raise Refused(problem=f"the key {key!r} appears twice in one mapping (first at "
                              f"line {first.start_mark.line + 1}): a config names each key "
                              "once", problem_mark=key_node.start_mark)

    return StrictLoader


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
        text = _yaml().safe_dump(cfg, sort_keys=False)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidValue(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    return path


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML is in the yaml, cli and dev extras
        raise MissingPackage("YAML configs need PyYAML: pip install 'cadence[yaml]'") from None
    return yaml
