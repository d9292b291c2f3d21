"""The gallery (``docs/hooks/gallery.py``): every curve drawn is the schedule's values, and
every public shape, combinator, preset and drop-in class has a figure.

The data is read back from each figure (the line and the marked dots that matplotlib was
handed) and compared with an independent evaluation of the code printed under the figure:
schedules and presets called one step at a time (the gallery evaluates them on an array), and
every drop-in replaced by its upstream original (PyTorch's, transformers', MMEngine's class, the
d2l book's code written out below), built from the same code text on a real optimizer and
stepped. The table of marked values on each page is checked against the same reference.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[2]


def _load_gallery() -> ModuleType:
    name = "cadence_docs_gallery"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / "hooks" / "gallery.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


gallery = _load_gallery()
ENTRIES = gallery.ENTRIES


def drawn_names(*sections: str) -> set[str]:
    return {n for e in ENTRIES if e.section in sections for n in e.public_names}


# -- one figure for every public name ------------------------------------------------------------


def test_every_shape_and_combinator_has_a_figure():
    import cadence.schedules as schedules

    not_drawn = {"Schedule", "Mark"}  # the base class; a landmark (a step and its kind)
    public = {n for n in schedules.__all__ if callable(getattr(schedules, n))} - not_drawn
    assert public - drawn_names("shapes", "combinators") == set()
    assert drawn_names("shapes", "combinators") <= public
    assert issubclass(schedules.Cosine, schedules.Schedule) and not issubclass(
        schedules.Mark, schedules.Schedule)


def test_every_preset_has_a_figure():
    from cadence.tools.presets import PRESETS

    assert drawn_names("presets") == set(PRESETS)


def _classes(module: ModuleType) -> dict[str, type]:
    return {n: getattr(module, n) for n in module.__all__ if isinstance(getattr(module, n), type)}


def test_every_pytorch_drop_in_has_a_figure():
    import cadence.compat.lr_scheduler as module

    classes = _classes(module)
    base = module.LRScheduler  # the base class (also _LRScheduler): nothing to draw
    drawn = {n for n, c in classes.items() if c is not base}
    assert all(issubclass(c, base) for c in classes.values())
    assert drawn == drawn_names("pytorch")


def test_every_transformers_factory_has_a_figure():
    import cadence.compat.transformers as module

    assert {n for n in module.__all__ if callable(getattr(module, n))} == drawn_names(
        "transformers")


def test_every_mmengine_drop_in_has_a_figure():
    pytest.importorskip("mmengine")
    import cadence.compat.mmengine as module

    classes = _classes(module)
    base = module.ParamScheduler  # the base class of all of them: nothing to draw
    assert all(issubclass(c, base) for c in classes.values())
    assert {n for n, c in classes.items() if c is not base} == drawn_names("mmengine")


def test_every_d2l_scheduler_has_a_figure():
    import cadence.compat.d2l as module

    assert set(_classes(module)) == drawn_names("d2l")


def test_figures_are_small_and_the_slugs_unique():
    assert len({e.slug for e in ENTRIES}) == len(ENTRIES)
    fig = gallery.figure(ENTRIES[0])
    width, height = fig.get_size_inches()
    assert (width, height, fig.dpi) == (4.0, 2.5, 90)
    assert len(gallery.png(fig)) < 60_000


# -- the references: the same code, evaluated another way ----------------------------------------


def _schedule_reference(entry: Any) -> np.ndarray:
    """The schedule called on each step, one float at a time."""
    if entry.section == "presets":
        from cadence.tools import preset

        name = entry.public_names[0]
        schedule = preset(name, 1000)
        assert entry.code == f'preset("{name}", 1000)'
    else:
        import cadence.schedules as schedules

        schedule = eval(entry.code, {n: getattr(schedules, n) for n in schedules.__all__})
    return np.array([float(schedule(t)) for t in range(entry.steps + 1)])


def _upstream_namespace(section: str) -> dict[str, Any]:
    if section == "pytorch":
        module: Any = torch.optim.lr_scheduler
        names = [n for n in dir(module) if not n.startswith("_")]
    elif section == "transformers":
        module = pytest.importorskip("transformers.optimization")
        names = [n for n in dir(module) if n.startswith("get_")]
    elif section == "mmengine":
        module = pytest.importorskip("mmengine.optim.scheduler")
        names = [n for n in dir(module) if not n.startswith("_")]
    else:  # d2l: the book's code, below
        return {n: globals()[f"Book{n}"] for n in ("SquareRootScheduler", "FactorScheduler",
                                                    "MultiFactorScheduler", "CosineScheduler")}
    return {n: getattr(module, n) for n in names}


def _upstream_reference(entry: Any) -> np.ndarray:
    """The entry's code run with upstream's names on a real optimizer, stepped ``entry.steps``
    times: the value after each ``scheduler.step()`` (d2l: the book's scheduler called with
    each update count in turn)."""
    scope = _upstream_namespace(entry.section)
    scope["optimizer"] = optimizer = gallery.make_optimizer()
    exec(entry.code, scope)
    scheduler = scope["scheduler"]
    if entry.section == "d2l":
        return np.array([scheduler(t) for t in range(entry.steps + 1)], dtype=float)
    out = []
    for t in range(entry.steps + 1):
        out.append(_read(optimizer, entry.curve))
        if t == entry.steps:
            break
        optimizer.step()
        if not entry.metric:
            scheduler.step()
        elif entry.section == "mmengine":
            scheduler.step(metrics={"loss": gallery.val_loss(t)})
        else:
            scheduler.step(gallery.val_loss(t))
    return np.array(out, dtype=float)


def _read(optimizer: torch.optim.Optimizer, name: str) -> float:
    value = optimizer.param_groups[0][name]
    return float(value.item() if isinstance(value, torch.Tensor) else value)


def reference(entry: Any) -> np.ndarray:
    if entry.section in ("shapes", "combinators", "presets"):
        return _schedule_reference(entry)
    return _upstream_reference(entry)


# -- the book's d2l schedulers, as printed (the reference for cadence.compat.d2l) ---------------


class BookSquareRootScheduler:
    def __init__(self, lr=0.1):
        self.lr = lr

    def __call__(self, num_update):
        return self.lr * pow(num_update + 1.0, -0.5)


class BookFactorScheduler:
    def __init__(self, factor=1, stop_factor_lr=1e-7, base_lr=0.1):
        self.factor = factor
        self.stop_factor_lr = stop_factor_lr
        self.base_lr = base_lr

    def __call__(self, num_update):
        self.base_lr = max(self.stop_factor_lr, self.base_lr * self.factor)
        return self.base_lr


class BookMultiFactorScheduler:
    """MXNet's ``lr_scheduler.MultiFactorScheduler``, which the book uses."""

    def __init__(self, step, factor=1, base_lr=0.01):
        self.step, self.factor, self.base_lr = list(step), factor, base_lr
        self.cur_step_ind, self.count = 0, 0

    def __call__(self, num_update):
        while self.cur_step_ind <= len(self.step) - 1:
            if num_update > self.step[self.cur_step_ind]:
                self.count = self.step[self.cur_step_ind]
                self.cur_step_ind += 1
                self.base_lr *= self.factor
            else:
                return self.base_lr
        return self.base_lr


class BookCosineScheduler:
    """The book's CosineScheduler; as printed, its warm-up reads ``self.base_lr`` before setting
    it, so the warm-up's target is set here (the fix cadence makes, docs/compat.md)."""

    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0):
        self.base_lr_orig = self.base_lr = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.warmup_steps = warmup_steps
        self.warmup_begin_lr = warmup_begin_lr
        self.max_steps = self.max_update - self.warmup_steps

    def get_warmup_lr(self, epoch):
        increase = (self.base_lr_orig - self.warmup_begin_lr) * float(epoch) / float(
            self.warmup_steps)
        return self.warmup_begin_lr + increase

    def __call__(self, epoch):
        if epoch < self.warmup_steps:
            return self.get_warmup_lr(epoch)
        if epoch <= self.max_update:
            self.base_lr = self.final_lr + (self.base_lr_orig - self.final_lr) * (
                1 + math.cos(math.pi * (epoch - self.warmup_steps) / self.max_steps)) / 2
        return self.base_lr


# -- every curve -----------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.slug for e in ENTRIES])
def test_every_curve_is_the_schedules_values(entry):
    if entry.section == "mmengine":
        pytest.importorskip("mmengine")
    expected = reference(entry)
    fig = gallery.figure(entry)
    curve, dots = fig.axes[0].lines
    steps = np.arange(entry.steps + 1)
    np.testing.assert_array_equal(curve.get_xdata(), steps)
    np.testing.assert_allclose(curve.get_ydata(), expected, rtol=1e-9, atol=1e-15)
    marked = [s for s in entry.marked if s <= entry.steps]
    assert len(marked) >= 3
    np.testing.assert_array_equal(dots.get_xdata(), marked)
    np.testing.assert_allclose(dots.get_ydata(), expected[marked], rtol=1e-9, atol=1e-15)
    # the table under the figure lists the same values
    page = gallery.markdown(entry, (steps, np.asarray(curve.get_ydata())), "img.png")
    row = next(line for line in page.splitlines() if line.startswith("| step |"))
    values = page.splitlines()[page.splitlines().index(row) + 2]
    assert row.split("|")[2:-1] == [f" {s} " for s in marked]
    shown = [float(v) for v in values.split("|")[2:-1]]
    np.testing.assert_allclose(shown, expected[marked], rtol=1e-5, atol=1e-15)


def test_the_markdown_shows_the_code_that_was_run():
    entry = next(e for e in ENTRIES if e.title == "StepLR" and e.section == "pytorch")
    data = gallery.values(entry)
    page = gallery.markdown(entry, data, "img/x.png")
    assert "scheduler = StepLR(optimizer, step_size=30, gamma=0.1)" in page
    assert "![StepLR](img/x.png)" in page
    assert "| lr | 0.1 | 0.1 | 0.01 | 0.001 | 0.0001 |" in page
