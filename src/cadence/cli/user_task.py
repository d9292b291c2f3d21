"""Your own model and data for ``cadence find-lr --build MODULE:FUNCTION``.

``MODULE`` is a module to import (``mypkg.lr_setup``; the current folder is searched first, as
``python -m`` does) or a Python file (``train.py``, ``path/to/setup.py``); ``FUNCTION`` names a
function in it (``make``, or ``Setup.build`` for an attribute of an attribute). It is called
with no arguments, after every random generator is seeded with ``--seed``, and returns what
:func:`cadence.tools.find_lr.find_lr` takes, in its order:

- ``(model, optimizer, loss_fn, data)``: a ``torch.nn.Module``; the ``torch.optim.Optimizer``
  you train it with (its type and settings, momentum or betas, are part of what the test
  measures; its lr is replaced by the sweep's); ``loss_fn(model(inputs), targets)`` returning
  a one-element tensor; and ``data``, an iterable of ``(inputs, targets)`` batches that can be
  iterated again (a ``DataLoader`` or a list: the sweep goes through it as often as it needs);
- or a dict with those four keys, and optionally more of ``find_lr``'s keyword arguments that
  the command line does not set: ``accumulation_steps``, ``autocast_dtype``, ``smoothing``,
  ``diverge``, ``scheduler``.

Put the model and the batches on the device you want the test to run on. Nothing is trained
for good: ``find_lr`` puts the model and the optimizer back as they were.

>>> parse("mypkg.lr_setup:make"), parse("tools/setup.py:Setup.build")
(('mypkg.lr_setup', 'make'), ('tools/setup.py', 'Setup.build'))
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from cadence.config.registry import suggest
from cadence.validation import InvalidType, InvalidValue

OPTION = "--build"
FORM = "MODULE:FUNCTION (a module or a .py file, then a function in it)"
ORDER = ("model", "optimizer", "loss_fn", "data")
WHAT = {"model": "a model", "optimizer": "an optimizer", "loss_fn": "a loss_fn", "data": "data"}
EXTRA = ("accumulation_steps", "autocast_dtype", "smoothing", "diverge", "scheduler")


@dataclass
class UserTask:
    """What the function returned: the four things ``find_lr`` takes, and its ``options``."""

    name: str
    model: Any
    optimizer: Any
    loss_fn: Callable[[Any, Any], Any]
    data: Iterable[Any]
    options: dict[str, Any] = field(default_factory=dict)


def parse(text: str) -> tuple[str, str]:
    """``(module, function)`` from ``MODULE:FUNCTION``, or an error naming ``--build``."""
    module, colon, function = text.rpartition(":") if isinstance(text, str) else ("", "", "")
    names = function.split(".")
    if not (colon and module.strip() and all(n.isidentifier() for n in names)):
        raise InvalidValue(f"{OPTION} must be {FORM}, such as mypkg.lr_setup:make or "
                           f"train.py:make (got {text!r})")
    return module.strip(), function


def _import(module: str, text: str) -> ModuleType:
    """The module ``module`` names: a .py file, or a module found from the current folder."""
    if module.endswith(".py"):
        path = Path(module)
        if not path.is_file():
            raise InvalidValue(f"{OPTION} {text!r}: there is no file {module!r}")
        spec = importlib.util.spec_from_file_location(f"_cadence_build_{path.stem}", path)
        if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
            raise InvalidValue(f"{OPTION} {text!r}: {module!r} cannot be imported")
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)  # an error in the user's code keeps its traceback
        return loaded
    if not all(part.isidentifier() for part in module.split(".")):
        raise InvalidValue(f"{OPTION} {text!r}: {module!r} is neither a module name (dotted "
                           "names) nor a .py file")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # as python -m does
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        parts = module.split(".")
        if exc.name not in {".".join(parts[:i]) for i in range(1, len(parts) + 1)}:
            raise  # a module the user's module imports: their code, with its traceback
        raise InvalidValue(f"{OPTION} {text!r}: cannot import {module!r} ({exc}; run cadence "
                           "from the folder that holds it, or give the .py file)") from None


def load(text: str) -> Callable[[], Any]:
    """The function ``MODULE:FUNCTION`` names, imported; errors name ``--build``."""
    module, function = parse(text)
    found: Any = _import(module, text)
    where = module
    for name in function.split("."):
        if not hasattr(found, name):
            names = [n for n in dir(found) if not n.startswith("_")]
            raise InvalidValue(f"{OPTION} {text!r}: {where!r} has no attribute {name!r}"
                               f"{suggest(name, names)}")
        found, where = getattr(found, name), f"{where}.{name}"
    if not callable(found):
        raise InvalidType(f"{OPTION} {text!r}: {where!r} must be a function that returns "
                          f"(model, optimizer, loss_fn, data) (got {found!r})")
    return found


def build(text: str, seed: int | None = None) -> UserTask:
    """Import the function ``text`` names, call it (after seeding every generator with
    ``seed``) and check what it returned (see the module's documentation)."""
    function = load(text)
    if seed is not None:
        from cadence.tools.snapshot import seed_everything

        seed_everything(seed)
    return check(function(), text)


def check(returned: Any, text: str) -> UserTask:
    """A :class:`UserTask` from what the function returned, or an error naming ``--build``
    and what is wrong."""
    import torch

    call = f"{OPTION} {text!r}: {parse(text)[1]}()"
    if isinstance(returned, Mapping):
        missing = [k for k in ORDER if k not in returned]
        unknown = [k for k in returned if k not in ORDER + EXTRA]
        if missing or unknown:
            what = (f"lacks {', '.join(map(repr, missing))}" if missing else
                    f"has {', '.join(map(repr, unknown))}, which find_lr does not take here")
            raise InvalidValue(f"{call} returned a dict that {what}: its keys must be "
                               f"{', '.join(ORDER)} and, optionally, {', '.join(EXTRA)}")
        parts = [returned[k] for k in ORDER]
        options = {k: returned[k] for k in EXTRA if k in returned}
    elif isinstance(returned, (tuple, list)) and len(returned) == len(ORDER):
        parts, options = list(returned), {}
    else:
        got = (f"a {type(returned).__name__} of {len(returned)}"
               if isinstance(returned, (tuple, list)) else repr(returned))
        raise InvalidType(f"{call} must return (model, optimizer, loss_fn, data) or a dict with "
                          f"those keys (got {got})")
    model, optimizer, loss_fn, data = parts
    rules: list[tuple[str, bool, str]] = [
        ("model", isinstance(model, torch.nn.Module), "a torch.nn.Module"),
        ("optimizer", isinstance(optimizer, torch.optim.Optimizer),
         "a torch.optim.Optimizer (the one you train with)"),
        ("loss_fn", callable(loss_fn), "callable as loss_fn(model(inputs), targets)"),
        ("data", isinstance(data, Iterable) and not isinstance(data, (str, bytes)),
         "an iterable of (inputs, targets) batches, such as a DataLoader"),
    ]
    for name, ok, rule in rules:
        if not ok:
            value = parts[ORDER.index(name)]
            raise InvalidType(f"{call} returned {WHAT[name]} that is not {rule} (got "
                              f"{_short(value)})")
    if iter(data) is data:
        raise InvalidValue(f"{call} returned data that is an iterator: it runs out, and the "
                           "sweep goes through the data again when it does; return a list or "
                           "a DataLoader")
    return UserTask(text, model, optimizer, loss_fn, data, options)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def run(task: UserTask, **sweep: Any) -> Any:
    """:func:`cadence.tools.find_lr.find_lr` on ``task`` with the command line's ``sweep``
    settings; a mistake it finds in what the function returned (batches that are not pairs, a
    loss that is not one number) names ``--build``."""
    from cadence.tools.find_lr import find_lr

    try:
        return find_lr(task.model, task.optimizer, task.loss_fn, task.data, **sweep,
                       **task.options)
    except (InvalidValue, InvalidType) as exc:
        raise type(exc)(f"{OPTION} {task.name!r}: {exc}") from None
