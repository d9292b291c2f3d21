"""No package of cadence reads another's private names.

An AST scan of ``src/cadence``: in each module, every attribute access ``x._name`` (read, write
or delete; also ``getattr(x, "_name")``, ``hasattr``, ``setattr``) and every
``from cadence.a.b import _name`` whose ``_name`` (one leading underscore, not a dunder) is
defined in a different top-level part of cadence (``cadence.schedules``, ``cadence.scheduler``,
``cadence.compat``, ``cadence.tools``, ``cadence.config``, ``cadence.cli``,
``cadence.integrations``; a module at the top, ``cadence.validation``, is a part of its own) is
a failure. ``self._x``, ``cls._x`` and ``super()._x`` are a class's own business. Names that
cadence does not define (torch's ``_last_lr``, MMEngine's ``_get_value``) are upstream's and out
of scope here; those cadence's own classes define too (to take part in PyTorch's protocol) are
in :data:`UPSTREAM`, with why. Reads still to be fixed by the owners of their files are in
:data:`PENDING`.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import cadence

SOURCE = Path(cadence.__file__).resolve().parent

# Names of PyTorch's scheduler protocol that cadence's own classes in more than one part define,
# so that PyTorch's code (SequentialLR, trainers, loggers) works on them: upstream's names, read
# as upstream reads them, wherever. Each must be one of PyTorch's (a test checks).
UPSTREAM = {
    "_update_lr",  # SequentialLR starts a child at its milestone with child._update_lr(0)
    "_last_lr",  # what PyTorch's get_last_lr() returns; loggers and state dicts read it
    "_step_count",  # PyTorch's call-order check and its state dict
}

# Reads that the owners of other files are removing (the lead's queue): each with the public
# name it moves to. Not to grow.
PENDING: set[tuple[str, str]] = set()  # none left


def part_of(module: str) -> str:
    """``cadence.compat.chaining`` -> ``cadence.compat``; ``cadence.validation`` stays."""
    pieces = module.split(".")
    return ".".join(pieces[:2])


def module_name(path: Path) -> str:
    rel = path.relative_to(SOURCE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def modules() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text(encoding="utf-8"), str(p))
            for p in sorted(SOURCE.rglob("*.py"))}


def _own(node: ast.expr) -> bool:
    """``self``, ``cls`` or ``super()``: the class's own attributes."""
    if isinstance(node, ast.Name):
        return node.id in ("self", "cls")
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "super")


_NAMED = ("getattr", "hasattr", "setattr", "delattr")


def _named_attribute(node: ast.Call) -> tuple[ast.expr, str] | None:
    """``getattr(x, "_n", ...)`` and its kin, ``object.__setattr__(x, "_n", v)``,
    ``set_field(x, "_n", v)``: (x, "_n")."""
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(
        func, ast.Attribute) else None
    if name not in (*_NAMED, "__setattr__", "set_field") or len(node.args) < 2:
        return None
    first, second = node.args[0], node.args[1]
    if isinstance(second, ast.Constant) and isinstance(second.value, str):
        return first, second.value
    return None


def _members(cls: ast.ClassDef) -> set[str]:
    """The private names a class defines: its methods, class attributes and ``__slots__``,
    and what its methods set on ``self``/``cls``."""
    found: set[str] = set()
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            found.update(names)
            if "__slots__" in names and node.value is not None:
                found.update(c.value for c in ast.walk(node.value)
                             if isinstance(c, ast.Constant) and isinstance(c.value, str))
    for node in ast.walk(cls):
        found.update(_set_on_own(node))
    return {n for n in found if is_private(n)}


def _set_on_own(node: ast.AST) -> list[str]:
    """What ``node`` sets on ``self``/``cls``: ``self._x = ...`` (also annotated or
    augmented), ``setattr(self, "_x", ...)``, ``object.__setattr__(self, "_x", ...)``."""
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [sub.attr for t in targets for sub in ast.walk(t)
                if isinstance(sub, ast.Attribute) and _own(sub.value)]
    if isinstance(node, ast.Call) and (found := _named_attribute(node)) and _own(found[0]):
        return [found[1]]
    return []


def definitions(trees: dict[str, ast.Module]) -> dict[str, set[str]]:
    """Each private member name (a class's methods, class attributes, ``__slots__``, what is
    set on ``self``), with the parts where it originates: not where a subclass of a cadence
    class that defines it already (by a plain name in its bases) defines it again. A
    subclass implementing ``_eval`` implements its base's protocol: the name stays the
    base's part's. (A module's own private functions and globals are checked by where the
    module is: ``writers._table``, ``from cadence.x import _name``.)"""
    members: dict[str, set[str]] = defaultdict(set)
    classes: dict[str, list[tuple[str, list[str], set[str]]]] = defaultdict(list)
    for module, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
                classes[node.name].append((part_of(module), bases, _members(node)))
        for node in tree.body:  # a module's helper taking ``self`` sets its attributes too
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for sub in ast.walk(node):
                    for name in _set_on_own(sub):
                        if is_private(name):
                            members[name].add(part_of(module))

    def inherited(bases: list[str], name: str, seen: set[str]) -> bool:
        for base in bases:
            if base in seen:
                continue
            seen.add(base)
            for _, grand, found in classes.get(base, []):
                if name in found or inherited(grand, name, seen):
                    return True
        return False

    for entries in classes.values():
        for part, bases, found in entries:
            for name in found:
                if not inherited(bases, name, set()):
                    members[name].add(part)
    return members


def _module_aliases(tree: ast.Module) -> dict[str, str]:
    """The names a module binds to cadence's modules: ``import cadence.x as m``,
    ``from cadence.scheduler import writers``."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("cadence"):
                    out[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.startswith("cadence"):
            for alias in node.names:
                out[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return out


def private_reads(trees: dict[str, ast.Module] | None = None) -> list[tuple[str, int, str]]:
    """(module, line, name) of every read of another part's private name."""
    trees = modules() if trees is None else trees
    members = {k: v for k, v in definitions(trees).items() if k not in UPSTREAM}
    found = []

    def foreign(name: str, module: str) -> bool:
        """A member defined in another part, and not in this one (where it is its own)."""
        owners = members.get(name, set())
        return bool(owners) and part_of(module) not in owners

    for module, tree in trees.items():
        aliases = _module_aliases(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and not _own(node.value):
                name = node.attr
                if not is_private(name):
                    continue
                target = aliases.get(node.value.id) if isinstance(node.value, ast.Name) else None
                if target in trees:  # a module's name: ``writers._table``
                    if part_of(target) != part_of(module):
                        found.append((module, node.lineno, name))
                elif foreign(name, module):
                    found.append((module, node.lineno, name))
            elif isinstance(node, ast.Call) and (named := _named_attribute(node)) \
                    and not _own(named[0]) and is_private(named[1]) \
                    and foreign(named[1], module):
                found.append((module, node.lineno, named[1]))
            elif isinstance(node, ast.ImportFrom) and node.module \
                    and node.module.startswith("cadence") and node.level == 0:
                for alias in node.names:
                    if is_private(alias.name) and part_of(node.module) != part_of(module):
                        found.append((module, node.lineno, alias.name))
    return sorted(found)


def test_no_part_reads_another_parts_private_names():
    reads = [r for r in private_reads() if (r[0], r[2]) not in PENDING]
    assert not reads, "private names read across parts of cadence:\n" + "\n".join(
        f"  {module} line {line}: {name}" for module, line, name in reads)


def test_pending_holds_only_reads_that_are_there():
    """An entry whose read is gone (fixed) is taken off the list."""
    there = {(module, name) for module, _, name in private_reads()}
    assert there >= PENDING, sorted(PENDING - there)


def test_upstream_names_are_pytorchs():
    import torch
    from torch.optim import lr_scheduler

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    names = set(dir(lr_scheduler.LRScheduler)) | set(vars(lr_scheduler.StepLR(optimizer, 2)))
    assert names >= UPSTREAM, sorted(UPSTREAM - names)


def test_the_scan_finds_what_it_is_for():
    trees = {
        "cadence.schedules.shape": ast.parse(
            "class Shape:\n    def _eval(self, t):\n        return self._table[t]\n"
            "    def _helper(self):\n        self._table = {}\n"
            "def _module_helper():\n    pass\n"),
        "cadence.compat.mine": ast.parse(
            "from cadence.schedules.shape import _module_helper\n"
            "from cadence.schedules import shape\n"
            "def f(s):\n    return s._eval(0) + getattr(s, '_table') + s._own_thing\n"
            "class Mine(Shape):\n"  # implements Shape's _eval: the name stays Shape's
            "    def _eval(self, t):\n        self._own_thing = 1\n"
            "        return self._table + super()._helper() + shape._module_helper()\n"),
    }
    assert private_reads(trees) == [
        ("cadence.compat.mine", 1, "_module_helper"),
        ("cadence.compat.mine", 4, "_eval"),
        ("cadence.compat.mine", 4, "_table"),
        ("cadence.compat.mine", 8, "_module_helper"),
    ]


if __name__ == "__main__":  # the list, for a report
    for entry in private_reads():
        print(*entry)
