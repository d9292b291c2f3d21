"""A config's text turned into data: strict JSON parsing, a strict YAML loader, and the bound
on how deep a config may nest. :func:`cadence.config.io.parse_yaml` parses YAML with
:func:`strict_loader`.

>>> parse_json('{"type": "cosine", "steps": 100}')
{'type': 'cosine', 'steps': 100}
>>> parse_json('{"steps": 1, "steps": 2}')  # doctest: +ELLIPSIS
Traceback (most recent call last):
cadence.validation.InvalidValue: inline JSON has the key 'steps' twice in one mapping: ...
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache, partial
from typing import Any

from cadence.validation import InvalidInput, InvalidValue, MissingPackage

# How deep a config may nest (dicts and lists): real ones nest a few levels; a cap keeps a
# hostile file from exhausting Python's recursion limit in the parser or in from_config.
MAX_NESTING = 100


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


def yaml_message(exc: Any, source: str, text: str = "") -> str:
    """The one-line message of a YAML error in ``text`` (from ``source``): what is wrong and
    where, with a hint where a tab is to blame."""
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
def strict_loader(accelerated: bool = True) -> type:
    """A safe YAML loader refusing aliases, anchors, duplicate keys and deep nesting (built on
    first use, so that importing cadence does not import PyYAML).

    With ``accelerated`` and a PyYAML built with libyaml, its C parser (``yaml.CParser``, what
    ``yaml.CSafeLoader`` parses with) turns the text into events: a 7 MB config loads three to
    four times faster than with the pure-Python scanner and parser (``bench/bench_cli.py``).
    The composer (where aliases, anchors and nesting are checked) and the constructor
    (duplicate keys) are PyYAML's Python ones in both cases, so every check and its message
    stay the same; only a syntax error is worded by the parser that found it.
    """
    need_yaml()  # PyYAML is installed (or a MissingPackage says how to install it)
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


def need_yaml() -> Any:
    """PyYAML, or a MissingPackage that says how to install it."""
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML is in the yaml, cli and dev extras
        raise MissingPackage("YAML configs need PyYAML: pip install 'cadence[yaml]'") from None
    return yaml
