"""mkdocs hook: the gallery, one figure per shape, combinator, preset and drop-in, drawn from the
library at build time.

Each :class:`Entry` holds the code that makes a schedule, as the reader sees it. The build runs
that code, evaluates the result over the entry's steps (:func:`values`) and plots exactly those
arrays (:func:`figure`): the schedules and presets by calling them on every step, the
PyTorch and transformers drop-ins through their closed form (``value_at``, no stepping), the
MMEngine ones through their pure description (``build_schedulers`` of
:mod:`cadence.compat.mmengine_shapes`, no MMEngine needed), d2l's by calling them. A scheduler
driven by a metric (reduce on plateau) has no closed form: it is stepped on a real optimizer and
fed the metric :func:`val_loss` (PyTorch's and transformers' the drop-in itself, MMEngine's its
pure description). The build needs cadence, torch and matplotlib, nothing else.

The figures (PNG) and each section's entries are written into the build only
(``on_files``, ``on_page_markdown``), never into the repository. ``tests/docs/test_gallery.py``
reads the data back from every figure and compares it with an independent evaluation (the
upstream classes stepped on a real optimizer), and checks that every public shape, combinator,
preset and drop-in class has an entry.
"""

from __future__ import annotations

import io
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# -- what the gallery holds ---------------------------------------------------------------------

SECTIONS = {
    "shapes": "Shapes",
    "combinators": "Combinators",
    "presets": "Presets",
    "pytorch": "PyTorch drop-ins",
    "transformers": "transformers drop-ins",
    "mmengine": "MMEngine drop-ins",
    "d2l": "d2l drop-ins",
}
# the optimizer every drop-in is built on (its groups' values are the bases)
OPTIMIZER = "torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-4)"
LR, MOMENTUM, WEIGHT_DECAY = 0.1, 0.9, 1e-4


@dataclass(frozen=True)
class Entry:
    """One figure: the code that makes a schedule, evaluated at steps ``0 .. steps``."""

    section: str
    code: str  # run as shown; a drop-in's code assigns ``scheduler``
    steps: int = 100
    names: tuple[str, ...] = ()  # the public names it draws (default: the first name in code)
    curve: str = "lr"  # the hyperparameter drawn (drop-ins)
    metric: bool = False  # stepped with val_loss (reduce on plateau)
    marks: tuple[int, ...] = ()  # the steps marked and tabled (default: five, evenly spaced)
    note: str = ""

    @property
    def name(self) -> str:
        return self.names[0] if self.names else first_name(self.code)

    @property
    def public_names(self) -> tuple[str, ...]:
        return self.names or (self.name,)

    @property
    def slug(self) -> str:
        base = re.sub(r"[^a-z0-9]+", "-", f"{self.section}-{self.title}".lower()).strip("-")
        return base

    @property
    def title(self) -> str:
        if self.section == "presets":
            return self.code.split('"')[1]
        return " / ".join(dict.fromkeys(self.public_names))

    @property
    def marked(self) -> tuple[int, ...]:
        if self.marks:
            return self.marks
        return tuple(sorted({round(self.steps * k / 4) for k in range(5)}))


def first_name(code: str) -> str:
    """The name the code calls to make its result (``scheduler = StepLR(...)`` -> ``StepLR``)."""
    match = (re.search(r"^scheduler = ([A-Za-z_][A-Za-z0-9_]*)\(", code, re.MULTILINE)
             or re.search(r"([A-Za-z_][A-Za-z0-9_]*)\(", code))
    if match is None:
        raise ValueError(f"no call in the gallery code {code!r}")
    return match.group(1)


def _entries(section: str, *items: str | tuple[str, dict[str, Any]]) -> list[Entry]:
    out = []
    for item in items:
        code, options = (item, {}) if isinstance(item, str) else item
        out.append(Entry(section, code, **options))
    return out


SHAPES = _entries(
    "shapes",
    "Constant(0.5)",
    "Linear(start=1.0, end=0.1, steps=100)",
    "Cosine(start=1.0, end=0.0, steps=100)",
    "Polynomial(start=1.0, end=0.0, steps=100, power=2.0)",
    "OneMinusSqrt(start=1.0, end=0.0, steps=100)",
    "Geometric(start=1.0, end=0.01, steps=100)",
    ("CosineWave(start=1.0, end=0.0, steps=50)", {"steps": 150}),
    "Exponential(rate=0.97, floor=0.1)",
    "Step(every=30, gamma=0.5)",
    "MultiStep(milestones=[50, 75], gamma=0.1)",
    "InverseSqrt(timescale=10)",
    ("Noam(d_model=512, warmup_steps=20)", {"steps": 200}),
    ("CosineRestarts(period=20, period_mult=2, decay=0.8, low=0.1)",
     {"steps": 140, "marks": (0, 10, 20, 60, 140)}),
    "Cyclic(start=0.1, peak=1.0, up_steps=10, mode='triangular2')",
    "OneCycle(total_steps=100)",
    "WSD(warmup_steps=10, decay_steps=30, total_steps=100)",
    ("EMAWarmup(end=0.99)", {"steps": 1000}),
    "Lambda(lambda t: 1 / (1 + 0.05 * t))",
    "Multiplicative(lambda t: 0.97)",
)
COMBINATORS = _entries(
    "combinators",
    ("join([Linear(start=0.0, end=1.0, steps=20), Cosine(start=1.0, end=0.1, steps=80)],\n"
     "     boundaries=[20])", {"names": ("join", "Join")}),
    ("product([Cosine(steps=100), Step(every=25, gamma=0.8)])", {"names": ("product", "Product")}),
    ("Sum((Cosine(start=0.9, end=0.0, steps=100), CosineWave(start=0.1, end=0.0, steps=10)))",
     {"names": ("Sum",)}),
    "Scale(Cosine(steps=100), factor=0.5)",
    "Shift(Cosine(steps=100), offset=0.1)",
    "Clip(CosineWave(start=1.0, end=0.0, steps=25), low=0.2, high=0.8)",
    "Warmup(Cosine(steps=90), steps=10)",
    "Repeat(Linear(start=1.0, end=0.0, steps=25), period=25)",
    "Stretch(Cosine(steps=50), factor=2.0)",
    "Reverse(Cosine(steps=100), steps=100)",
    "Offset(Cosine(steps=100), steps=20)",
    "Quantize(Cosine(steps=100), every=10)",
    ("Cooldown(join([Linear(start=0.0, end=1.0, steps=10), Constant(1.0)], boundaries=[10]),\n"
     "         at=60, steps=30, shape='1-sqrt')", {"steps": 100}),
    ("Extend(Cosine(steps=60), at=30, new_total=100, policy='rescale')", {"steps": 100}),
    ("Switch(Cosine(steps=100), at=40, then=Linear(start=1.0, end=0.0, steps=100))",
     {"steps": 100}),
)
PRESETS = _entries("presets", *[
    (f'preset("{name}", 1000)', {"steps": 999, "names": (name,)}) for name in (
        "constant", "linear", "step", "multistep", "exponential", "polynomial", "inverse-sqrt",
        "cosine", "warmup-cosine", "cosine-restarts", "cyclic", "one-cycle", "wsd", "noam",
        "warm-restarts")])

S = "scheduler = "
PYTORCH = _entries(
    "pytorch",
    S + "LambdaLR(optimizer, lr_lambda=lambda epoch: 0.95 ** epoch)",
    S + "MultiplicativeLR(optimizer, lr_lambda=lambda epoch: 0.95)",
    S + "StepLR(optimizer, step_size=30, gamma=0.1)",
    S + "MultiStepLR(optimizer, milestones=[30, 80], gamma=0.1)",
    S + "ConstantLR(optimizer, factor=0.5, total_iters=40)",
    S + "LinearLR(optimizer, start_factor=0.25, end_factor=1.0, total_iters=40)",
    S + "ExponentialLR(optimizer, gamma=0.97)",
    S + "PolynomialLR(optimizer, total_iters=80, power=2.0)",
    S + "CosineAnnealingLR(optimizer, T_max=40, eta_min=0.01)",
    (S + "CosineAnnealingWarmRestarts(optimizer, T_0=10, T_mult=2, eta_min=0.001)",
     {"marks": (0, 10, 30, 70, 100)}),
    S + "CyclicLR(optimizer, base_lr=0.01, max_lr=0.1, step_size_up=10, mode='triangular2')",
    (S + "OneCycleLR(optimizer, max_lr=0.1, total_steps=100)",
     {"steps": 99, "note": "Drawn over the 100 steps it is sized for, 0 to 99. PyTorch's "
                           "class raises at the 101st `step()`; cadence's holds the last value."}),
    ("warmup = LinearLR(optimizer, start_factor=0.1, total_iters=10)\n"
     "cosine = CosineAnnealingLR(optimizer, T_max=90)\n"
     "scheduler = SequentialLR(optimizer, [warmup, cosine], milestones=[10])", {}),
    ("scheduler = ChainedScheduler([ConstantLR(optimizer, factor=0.5, total_iters=20),\n"
     "                              ExponentialLR(optimizer, gamma=0.98)])", {}),
    (S + "ReduceLROnPlateau(optimizer, mode='min', factor=0.5, patience=5)", {"metric": True}),
)
W = "num_warmup_steps=10, num_training_steps=100"
TRANSFORMERS = _transformers = _entries(
    "transformers",
    S + "get_constant_schedule(optimizer)",
    S + "get_constant_schedule_with_warmup(optimizer, num_warmup_steps=10)",
    S + f"get_linear_schedule_with_warmup(optimizer, {W})",
    S + f"get_cosine_schedule_with_warmup(optimizer, {W})",
    S + f"get_cosine_with_hard_restarts_schedule_with_warmup(\n    optimizer, {W}, num_cycles=3)",
    S + f"get_cosine_with_min_lr_schedule_with_warmup(\n    optimizer, {W}, min_lr_rate=0.1)",
    S + f"get_cosine_with_min_lr_schedule_with_warmup_lr_rate(\n    optimizer, {W}, "
        "min_lr_rate=0.1, warmup_lr_rate=0.2)",
    S + f"get_polynomial_decay_schedule_with_warmup(\n    optimizer, {W}, lr_end=0.01, power=2.0)",
    S + "get_inverse_sqrt_schedule(optimizer, num_warmup_steps=10)",
    S + "get_wsd_schedule(optimizer, num_warmup_steps=10, num_decay_steps=30,\n"
        "                             num_training_steps=100)",
    S + f"get_scheduler('cosine_with_min_lr', optimizer, {W},\n"
        "                          scheduler_specific_kwargs={'min_lr': 0.01})",
    (S + "get_reduce_on_plateau_schedule(optimizer, factor=0.5, patience=5)", {"metric": True}),
)
# a run of num_training_steps=100 updates uses the values of steps 0 .. 99 (past them,
# transformers' cosines swing back up where cadence's hold: docs/compat.md)
TRANSFORMERS = [Entry(e.section, e.code, steps=99, metric=e.metric) for e in _transformers]


def _mmengine() -> list[Entry]:
    m, wd = "curve", "weight_decay"
    families: list[tuple[str, str, dict[str, Any]]] = [
        # class, its arguments after optimizer, options
        ("StepLR", "step_size=30, gamma=0.1", {}),
        ("StepMomentum", "step_size=30, gamma=0.5", {m: "momentum"}),
        ("StepParamScheduler", "param_name='weight_decay', step_size=30, gamma=0.5", {m: wd}),
        ("MultiStepLR", "milestones=[30, 80], gamma=0.1", {}),
        ("MultiStepMomentum", "milestones=[30, 80], gamma=0.5", {m: "momentum"}),
        ("MultiStepParamScheduler", "param_name='weight_decay', milestones=[30, 80], gamma=0.5",
         {m: wd}),
        ("ConstantLR", "factor=0.5, end=40", {}),
        ("ConstantMomentum", "factor=0.5, end=40", {m: "momentum"}),
        ("ConstantParamScheduler", "param_name='weight_decay', factor=0.5, end=40", {m: wd}),
        ("ExponentialLR", "gamma=0.97", {}),
        ("ExponentialMomentum", "gamma=0.998", {m: "momentum"}),
        ("ExponentialParamScheduler", "param_name='weight_decay', gamma=0.97", {m: wd}),
        ("CosineAnnealingLR", "T_max=100, eta_min=0.001", {}),
        ("CosineAnnealingMomentum", "T_max=100, eta_min=0.85", {m: "momentum"}),
        ("CosineAnnealingParamScheduler", "param_name='weight_decay', T_max=100, eta_min_ratio=0.1",
         {m: wd}),
        ("LinearLR", "start_factor=0.1, end=20", {}),
        ("LinearMomentum", "start_factor=1.0, end_factor=0.9, end=50", {m: "momentum"}),
        ("LinearParamScheduler", "param_name='weight_decay', start_factor=0.1, end=50", {m: wd}),
        ("PolyLR", "eta_min=0.001, power=2.0, end=80", {}),
        ("PolyMomentum", "eta_min=0.8, power=1.0, end=80", {m: "momentum"}),
        ("PolyParamScheduler", "param_name='weight_decay', eta_min=0.0, power=2.0, end=80",
         {m: wd}),
        ("OneCycleLR", "eta_max=0.1, total_steps=100", {"steps": 99}),
        ("OneCycleParamScheduler", "param_name='lr', eta_max=0.1, total_steps=100,\n"
         "                                   anneal_strategy='linear', three_phase=True",
         {"steps": 99}),  # MMEngine's OneCycle takes param_name='lr' only
        ("CosineRestartLR", "periods=[20, 30, 50], restart_weights=[1, 0.8, 0.5], eta_min=0.001",
         {"marks": (0, 10, 20, 50, 100)}),
        ("CosineRestartMomentum", "periods=[50, 50], restart_weights=[1, 1], eta_min=0.85",
         {m: "momentum"}),
        ("CosineRestartParamScheduler", "param_name='weight_decay', periods=[50, 50],\n"
         "                                        restart_weights=[1, 0.5], eta_min=0.0",
         {m: wd}),
        ("ReduceOnPlateauLR", "monitor='loss', factor=0.5, patience=5", {"metric": True}),
        ("ReduceOnPlateauMomentum", "monitor='loss', factor=0.9, patience=5",
         {m: "momentum", "metric": True}),
        ("ReduceOnPlateauParamScheduler", "param_name='weight_decay', monitor='loss', factor=0.5,"
         "\n                                          patience=5", {m: wd, "metric": True}),
    ]
    return [Entry("mmengine", f"scheduler = {cls}(optimizer, {args})", **options)
            for cls, args, options in families]


MMENGINE = _mmengine()
D2L = _entries(
    "d2l",
    S + "SquareRootScheduler(lr=0.1)",
    S + "FactorScheduler(factor=0.9, stop_factor_lr=0.01, base_lr=0.1)",
    S + "MultiFactorScheduler(step=[15, 30], factor=0.5, base_lr=0.1)",
    S + "CosineScheduler(max_update=80, base_lr=0.1, final_lr=0.001, warmup_steps=10)",
)
ENTRIES: list[Entry] = [*SHAPES, *COMBINATORS, *PRESETS, *PYTORCH, *TRANSFORMERS, *MMENGINE, *D2L]


def entries(section: str | None = None) -> list[Entry]:
    """The gallery's entries, or one section's."""
    return [e for e in ENTRIES if section is None or e.section == section]


# -- evaluation ---------------------------------------------------------------------------------


def val_loss(epoch: int) -> float:
    """The validation loss a plateau scheduler is fed in the gallery: it falls for 30 epochs,
    then stays flat (``max(0.25, 1 - epoch / 40)``)."""
    return max(0.25, 1.0 - epoch / 40)


def make_optimizer() -> Any:
    """A real optimizer with one parameter, the gallery's ``optimizer``."""
    import torch

    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR, momentum=MOMENTUM,
                           weight_decay=WEIGHT_DECAY)


def namespace(section: str) -> dict[str, Any]:
    """The names an entry's code sees: cadence's schedules, its preset function, or the
    section's drop-ins (and ``optimizer``)."""
    if section in ("shapes", "combinators"):
        import cadence.schedules as schedules

        return {n: getattr(schedules, n) for n in schedules.__all__}
    if section == "presets":
        from cadence.tools.presets import preset

        return {"preset": preset}
    if section == "pytorch":
        import cadence.compat.lr_scheduler as module
    elif section == "transformers":
        import cadence.compat.transformers as module
    elif section == "d2l":
        import cadence.compat.d2l as module
    elif section == "mmengine":
        return _mmengine_namespace()
    else:
        raise ValueError(f"unknown gallery section {section!r}")
    return {n: getattr(module, n) for n in module.__all__}


class _Description:
    """A name of MMEngine's family that, called as the class would be, returns the family's
    pure description (a :class:`cadence.Scheduler` built by ``build_schedulers``): no MMEngine
    needed. A plateau config alone has no schedule for ``build_schedulers`` to bind, so a
    neutral one (``Constant...`` with ``factor=1.0``) goes beside it; its controller is fed
    with ``report(metric)``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __call__(self, optimizer: Any, **settings: Any) -> Any:
        from cadence.compat.mmengine_shapes import build_schedulers

        configs = [dict(type=self.kind, **settings)]
        if "ReduceOnPlateau" in self.kind:
            neutral = dict(type=self.kind.replace("ReduceOnPlateau", "Constant"), factor=1.0)
            if "param_name" in settings:
                neutral["param_name"] = settings["param_name"]
            configs.insert(0, neutral)
        return build_schedulers(configs, optimizer)


def _mmengine_namespace() -> dict[str, Any]:
    return {n: _Description(n) for n in {first_name(e.code) for e in MMENGINE}}


def run(entry: Entry) -> Any:
    """The object the entry's code makes: a schedule, or (drop-ins) its ``scheduler``."""
    scope = namespace(entry.section)
    if entry.section in ("shapes", "combinators", "presets"):
        return eval(entry.code, scope)
    scope["optimizer"] = make_optimizer()
    exec(entry.code, scope)
    return scope["scheduler"]


def values(entry: Entry) -> tuple[np.ndarray, np.ndarray]:
    """The steps ``0 .. entry.steps`` and the entry's values there: what its figure draws."""
    steps = np.arange(entry.steps + 1)
    made = run(entry)
    if entry.section in ("shapes", "combinators", "presets"):
        return steps, np.asarray(made(steps.astype(float)), dtype=float)
    if entry.section == "d2l":
        return steps, np.array([made(int(t)) for t in steps], dtype=float)
    if entry.metric:  # no closed form: the real drop-in, stepped with the metric
        return steps, np.array(list(_stepped(entry, made, len(steps))), dtype=float)
    table = made.value_at(steps)[entry.curve]
    return steps, np.asarray(table, dtype=float)[:, 0]


def _stepped(entry: Entry, scheduler: Any, count: int) -> Iterator[float]:
    optimizer = scheduler.optimizer
    key = "betas" if entry.curve == "momentum" and "betas" in optimizer.param_groups[0] else None
    for t in range(count):
        value = optimizer.param_groups[0][key or entry.curve]
        yield float(value[0] if key else value)
        if t + 1 < count:
            optimizer.step()
            if entry.section == "mmengine":  # the pure description: a cadence.Scheduler
                scheduler.step()
                scheduler.report(val_loss(t))
            else:
                scheduler.step(val_loss(t))


# -- the figure and the page --------------------------------------------------------------------

WIDTH, HEIGHT, DPI = 4.0, 2.5, 90


def figure(entry: Entry, data: tuple[np.ndarray, np.ndarray] | None = None) -> Figure:
    """The entry's figure: its values as one line (``axes.lines[0]``), the marked steps as
    dots (``axes.lines[1]``)."""
    from matplotlib.figure import Figure

    steps, ys = values(entry) if data is None else data
    fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    fig.subplots_adjust(left=0.16, right=0.97, bottom=0.19, top=0.96)  # no layout engine: fast
    ax = fig.add_subplot()
    ax.plot(steps, ys, color="C0", linewidth=1.6,
            drawstyle="steps-post" if entry.section in ("pytorch", "mmengine", "d2l") and
            _stepwise(ys) else "default")
    marked = [s for s in entry.marked if s <= entry.steps]
    ax.plot(marked, ys[marked], linestyle="none", marker="o", markersize=4, color="C3")
    ax.set_xlabel(_xlabel(entry), fontsize=8)
    ax.set_ylabel(_ylabel(entry), fontsize=8)
    ax.tick_params(labelsize=7)
    ax.locator_params(nbins=5)  # few ticks: most of a small figure's drawing time is ticks
    ax.grid(alpha=0.3)
    ax.set_xlim(0, entry.steps)
    if np.all(ys >= 0):
        ax.set_ylim(bottom=0, top=max(float(ys.max()) * 1.08, 1e-12))
    return fig


def _stepwise(ys: np.ndarray) -> bool:
    """Flat stretches with jumps between them (a step decay): drawn as steps."""
    changes = np.count_nonzero(np.diff(ys))
    return 0 < changes <= len(ys) // 8


def _xlabel(entry: Entry) -> str:
    if entry.section in ("pytorch", "mmengine"):
        return "scheduler.step() calls (epochs or iterations)"
    if entry.section == "d2l":
        return "update (num_update)"
    return "step"


def _ylabel(entry: Entry) -> str:
    if entry.section in ("shapes", "combinators", "presets"):
        return "value (a factor of the base)"
    return entry.curve if entry.section != "d2l" else "lr"


def png(fig: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer, metadata={"Software": None})
    return buffer.getvalue()


def fmt(value: float) -> str:
    """A value for the table: six significant digits."""
    if value == 0:
        return "0"
    return f"{value:.6g}" if math.isfinite(value) else str(value)


REFERENCE = {
    "shapes": "../reference/schedules.md#cadence.schedules.{}",
    "combinators": "../reference/schedules.md#cadence.schedules.{}",
    "presets": "../reference/tools.md#cadence.tools.preset",
    "pytorch": "../reference/lr_scheduler.md#cadence.compat.lr_scheduler.{}",
    "transformers": "../reference/transformers.md#cadence.compat.transformers.{}",
    "mmengine": "../reference/mmengine.md#cadence.compat.mmengine.{}",
    "d2l": "../reference/d2l.md#cadence.compat.d2l.{}",
}


def markdown(entry: Entry, data: tuple[np.ndarray, np.ndarray], image: str) -> str:
    """An entry's part of its page: the heading, the figure, the code, the marked values."""
    steps, ys = data
    names = ["preset"] if entry.section == "presets" else list(dict.fromkeys(entry.public_names))
    links = ", ".join(f"[`{n}`]({REFERENCE[entry.section].format(n)})" for n in names)
    code = entry.code
    if entry.section == "presets":
        code += f"\n# is {run(entry)!r}"
    out = [f"## {entry.title}", "",
           f"![{entry.title}]({image}){{ width=\"400\" loading=lazy }}", "",
           "```python", code, "```", ""]
    if entry.metric:
        out += ["Stepped after each epoch with a validation loss that falls for 30 epochs, then "
                "stays flat: `val_loss(epoch) = max(0.25, 1 - epoch / 40)`.", ""]
    if entry.note:
        out += [entry.note, ""]
    marked = [s for s in entry.marked if s <= entry.steps]
    label = {"shapes": "value", "combinators": "value", "presets": "value"}.get(
        entry.section, entry.curve)
    out += ["| step | " + " | ".join(str(int(steps[s])) for s in marked) + " |",
            "| --- |" + " ---: |" * len(marked),
            f"| {label} | " + " | ".join(fmt(float(ys[s])) for s in marked) + " |", "",
            f"Reference: {links}", ""]
    return "\n".join(out)


# -- mkdocs ---------------------------------------------------------------------------------------

MARKER = re.compile(r"<!--\s*gallery:\s*([a-z0-9]+)\s*-->")


@dataclass
class Built:
    pages: dict[str, str] = field(default_factory=dict)  # section -> its entries' Markdown
    figures: int = 0
    seconds: float = 0.0


_built = Built()


def build(write: Callable[[str, bytes], None]) -> Built:
    """Every entry's figure (handed to ``write(path, png)``) and every section's Markdown."""
    started = time.perf_counter()
    built = Built()
    parts: dict[str, list[str]] = {s: [] for s in SECTIONS}
    for entry in ENTRIES:
        data = values(entry)
        image = f"img/{entry.slug}.png"
        write(f"gallery/{image}", png(figure(entry, data)))
        parts[entry.section].append(markdown(entry, data, image))
        built.figures += 1
    built.pages = {s: "\n".join(p) for s, p in parts.items()}
    built.seconds = time.perf_counter() - started
    return built


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    global _built

    def write(path: str, content: bytes) -> None:
        files.append(File.generated(config, path, content=content))

    _built = build(write)
    import logging

    logging.getLogger("mkdocs.hooks.gallery").info(
        "gallery: %d figures in %.1f s", _built.figures, _built.seconds)
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    def fill(match: re.Match[str]) -> str:
        section = match.group(1)
        if section not in _built.pages:
            raise ValueError(f"{page.file.src_uri}: unknown gallery section {section!r} "
                             f"(known: {', '.join(SECTIONS)})")
        return _built.pages[section]

    return MARKER.sub(fill, markdown)
