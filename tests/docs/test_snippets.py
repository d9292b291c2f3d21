"""Every fenced code block in README.md and the docs runs as written.

Each block of README.md, CHANGELOG.md, docs/*.md and docs/guides/*.md is one test,
``page.md:LINE`` (the line of its opening fence):

- ``python`` / ``py``: executed, with warnings as errors (the suite's ``filterwarnings``), in a
  fresh namespace and in a temporary folder of its page's own (so files a block writes are
  there for the later blocks of the page);
- ``sh`` / ``bash`` / ``shell`` / ``console``: each ``cadence ...`` command runs with this
  environment's ``cadence`` (and ``.venv/bin/python examples/...`` with this interpreter), in
  the page's folder, and must exit 0; every other command (``make``, ``pip install``,
  ``torchrun``...) must be declared not run, with the reason (``console`` blocks: only the
  ``$ `` lines are commands, the rest is their output);
- ``yaml`` / ``yml`` / ``json``: read with ``cadence.read_config``; a schedule config is built
  with ``cadence.load_config`` and evaluated, any other config is built with ``cadence.build``
  on a small optimizer (with a stand-in for each declared target) and stepped.

A block that is not complete by itself says so in the markdown, in an HTML comment right before
its fence (mkdocs does not render it), with space-separated words and ``key="value"`` pairs:

- ``<!-- snippet: setup=NAME -->``: run it after the named setup of this file (``SETUPS``:
  the user's model, optimizer, data... that the block takes as given); a framework setup also
  runs the trainer afterwards, a few steps, with what the block defined;
- ``<!-- snippet: continues -->``: run it in the namespace of the page's previous Python
  block that runs (which runs first when this block is run alone); ``continues=NAME``: of
  the block declared ``name=NAME`` on the page;
- ``<!-- snippet: file=NAME -->``: a config block that is also the file ``NAME`` in the page's
  folder, for the blocks after it (the page says so);
- ``<!-- snippet: not-run="make, torchrun" reason="..." -->``: shell commands that are not run;
- ``<!-- snippet: skip reason="..." -->``: not run at all (a formula, a directory tree);
- ``<!-- snippet: frameworks -->``: mark it ``frameworks`` (done by itself for a block that
  imports Lightning, transformers, accelerate, MMEngine or SB3, or whose setup runs one).

``python tests/docs/test_snippets.py`` prints the blocks, what runs and what is skipped, and why.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import os
import re
import shlex
import subprocess
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # this environment's python and cadence

PYTHON = {"python", "py"}
SHELL = {"sh", "bash", "shell", "console"}
CONFIG = {"yaml", "yml", "json"}
KEYS = {"setup", "continues", "name", "file", "not-run", "reason", "skip", "frameworks"}
# a block that imports one of these (or cadence's classes that need one) runs a trainer or a
# third party's code: marked `frameworks`
FRAMEWORKS = {"lightning", "pytorch_lightning", "transformers", "accelerate", "mmengine",
              "stable_baselines3", "gymnasium", "cadence.compat.mmengine"}
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
DECLARATION = re.compile(r"^\s*<!--\s*snippet:(?P<body>.*?)-->\s*$")


def pages() -> list[Path]:
    """The pages whose blocks are tested."""
    found = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md")),
             *sorted((ROOT / "docs" / "guides").glob("*.md"))]
    return [p for p in found if p.is_file()]


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    lang: str
    source: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT).as_posix()}:{self.line}"

    @property
    def skip_reason(self) -> str | None:
        """Why the block does not run, or None if it runs (a part of it, for a shell block)."""
        if "skip" in self.options:
            return self.options.get("reason", "")
        if self.lang in SHELL and not any(run for _, run in shell_commands(self)):
            return f"not run ({self.options.get('not-run')}): {self.options.get('reason', '')}"
        return None


def parse_declaration(text: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for token in shlex.split(text):
        key, sep, value = token.partition("=")
        options[key] = value if sep else True
    return options


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of a page, each with the declaration right before it (if any)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, info = match["fence"], match["info"].strip()
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not (lines[j].strip().startswith(fence)
                                      and lines[j].strip().strip(fence[0]) == ""):
            body.append(lines[j][len(match["indent"]):])
            j += 1
        options: dict[str, Any] = {}
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        declared = DECLARATION.match(lines[k]) if k >= 0 else None
        if declared:
            options = parse_declaration(declared["body"])
        lang = info.split()[0].lower() if info else ""
        found.append(Block(page, i + 1, lang, "\n".join(body) + "\n", options))
        i = j + 1
    return found


def all_blocks() -> list[Block]:
    return [b for page in pages() for b in blocks(page)]


# --- shell ------------------------------------------------------------------------------------

RUN_PREFIXES = ("cadence ", ".venv/bin/cadence ", ".venv/bin/python examples/")


def shell_commands(block: Block) -> list[tuple[str, bool]]:
    """The commands of a shell block, each with whether it runs here."""
    lines = block.source.splitlines()
    if block.lang == "console":
        lines = [ln[2:] for ln in lines if ln.startswith("$ ")]
    commands: list[str] = []
    pending = ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        command = (pending + line).strip()
        pending = ""
        if command and not command.startswith("#"):
            commands.append(command)
    return [(c, c.startswith(RUN_PREFIXES) or c == "cadence") for c in commands]


def not_run_programs(block: Block) -> list[str]:
    value = block.options.get("not-run", "")
    return [p.strip() for p in value.split(",") if p.strip()] if isinstance(value, str) else []


def run_shell(block: Block, folder: Path) -> None:
    declared = not_run_programs(block)
    if declared and not block.options.get("reason"):
        pytest.fail(f"{block.id}: 'not-run' needs a reason=\"...\"")
    for command, runs in shell_commands(block):
        if not runs:
            if not any(command == p or command.startswith(p + " ") for p in declared):
                pytest.fail(f"{block.id}: the command {command!r} is neither a cadence command "
                            f"nor declared: <!-- snippet: not-run=\"{command.split()[0]}\" "
                            f"reason=\"...\" -->")
            continue
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               "MPLBACKEND": "Agg", "PYTHONWARNINGS": "error"}
        done = subprocess.run(["bash", "-c", command], cwd=folder, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, (f"{block.id}: {command!r} exited {done.returncode}\n"
                                      f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


def shell_folder(folder: Path) -> None:
    """`.venv` and `examples/` as the commands expect them, in the page's folder."""
    for name, target in ((".venv", BIN.parent), ("examples", ROOT / "examples")):
        link = folder / name
        if not link.exists():
            link.symlink_to(target, target_is_directory=True)


# --- setups -----------------------------------------------------------------------------------

Setup = Callable[[dict[str, Any]], Iterator[None]]
SETUPS: dict[str, Setup] = {}
FRAMEWORK_SETUPS: dict[str, str] = {}  # setup -> the package it needs


def setup(name: str, requires: str | None = None) -> Callable[[Setup], Setup]:
    """A named setup: puts what the block takes as given into its namespace, yields while the
    block runs, then (for a trainer, ``requires`` its package) runs what the block built."""
    def register(fn: Setup) -> Setup:
        SETUPS[name] = fn
        if requires:
            FRAMEWORK_SETUPS[name] = requires
        return fn
    return register


def tiny_model() -> Any:
    import torch
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Dropout(0.1),
                               torch.nn.Linear(16, 1))


@setup("optimizer")
def _optimizer(ns: dict[str, Any]) -> Iterator[None]:
    """``torch``, ``model`` (a small MLP with a dropout) and ``optimizer`` (SGD, lr 0.1,
    momentum 0.9, weight decay 1e-4)."""
    import torch
    model = tiny_model()
    ns.update(torch=torch, model=model,
              optimizer=torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9,
                                        weight_decay=1e-4))
    yield


@setup("loop")
def _loop(ns: dict[str, Any]) -> Iterator[None]:
    """``optimizer``'s, with ``loader`` (20 batches of inputs) and ``loss_fn(outputs)``."""
    import torch
    yield from _with(_optimizer, ns, loader=[torch.randn(4, 8) for _ in range(20)],
                     loss_fn=lambda outputs: outputs.square().mean())


@setup("pairs")
def _pairs(ns: dict[str, Any]) -> Iterator[None]:
    """``optimizer``'s, with ``F``, ``loader`` and ``batches`` (20 (inputs, targets) pairs) and
    ``evaluate(model)`` (a held-out loss)."""
    import torch
    import torch.nn.functional as F
    pairs = [(torch.randn(4, 8), torch.randn(4, 1)) for _ in range(20)]
    held_out = (torch.randn(16, 8), torch.randn(16, 1))

    def evaluate(model: Any) -> float:
        with torch.no_grad():
            return float(F.mse_loss(model(held_out[0]), held_out[1]))

    yield from _with(_optimizer, ns, F=F, loader=pairs, batches=pairs, evaluate=evaluate)


@setup("groups")
def _groups(ns: dict[str, Any]) -> Iterator[None]:
    """``torch``, ``model`` and ``optimizer`` with three param groups: ``"backbone"`` (lr
    0.01), the biases without weight decay, and ``"head"`` (lr 0.1)."""
    import torch
    model = tiny_model()
    first, _, _, last = model
    optimizer = torch.optim.SGD(
        [{"params": [first.weight], "name": "backbone", "lr": 0.01},
         {"params": [first.bias, last.bias], "name": "biases", "weight_decay": 0.0},
         {"params": [last.weight], "name": "head"}],
        lr=0.1, momentum=0.9, weight_decay=1e-4)
    ns.update(torch=torch, model=model, optimizer=optimizer)
    yield


class ELBOLike:
    """A loss with a ``kl_weight`` attribute, called on a model's outputs."""

    def __init__(self) -> None:
        self.kl_weight = 0.0

    def __call__(self, outputs: Any) -> Any:
        return outputs.square().mean() * (1 + self.kl_weight)


@setup("targets")
def _targets(ns: dict[str, Any]) -> Iterator[None]:
    """``torch``, ``model`` (with a dropout and a ``temperature`` buffer, 2.0), ``optimizer``
    (SGD), ``loader`` and a ``loss_fn`` with a ``kl_weight`` attribute (0.0)."""
    import torch
    model = tiny_model()
    model.register_buffer("temperature", torch.tensor(2.0))
    ns.update(torch=torch, model=model, loss_fn=ELBOLike(),
              optimizer=torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
              loader=[torch.randn(4, 8) for _ in range(20)])
    yield


def example(name: str) -> Any:
    """``examples/<name>.py``, imported."""
    spec = importlib.util.spec_from_file_location(f"snippet_example_{name}",
                                                  ROOT / "examples" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@setup("dropout-net")
def _dropout_net(ns: dict[str, Any]) -> Iterator[None]:
    """``model``, examples/dropout_schedule.py's residual MLP (a ``Dropout`` and a ``DropPath``
    with a ``drop_prob`` in each of its ``blocks``, a dropout before its head), and
    ``optimizer`` (AdamW)."""
    import torch
    torch.manual_seed(0)
    model = example("dropout_schedule").Net()
    ns.update(torch=torch, model=model, optimizer=torch.optim.AdamW(model.parameters(), lr=3e-3))
    yield
    x = torch.randn(8, 16)  # a few updates: every p and drop_prob moves, within its bounds
    for _ in range(3):
        model(x).square().mean().backward()
        ns["optimizer"].step()
        ns["optimizer"].zero_grad()


@contextlib.contextmanager
def quiet_import() -> Iterator[None]:
    """The deprecation warnings a framework raises on import are its own, not the block's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


def framework_noise() -> None:
    """Ignore what the frameworks warn about themselves while a framework block runs (only
    these; cadence's warnings, and any other, stay errors)."""
    if importlib.util.find_spec("lightning") is not None:
        with quiet_import():
            from lightning.fabric.utilities.warnings import PossibleUserWarning
        # Lightning's advice for real runs (more dataloader workers, a logger, fewer batches)
        warnings.filterwarnings("ignore", category=PossibleUserWarning)
    # Lightning 2.6 on PyTorch 2.13: its own use of a deprecated torch.utils._pytree name
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated",
                            category=FutureWarning)


def regression_data(seed: int, size: int = 32) -> tuple[Any, Any]:
    import torch
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(size, 8, generator=generator)
    return x, x.sum(dim=1, keepdim=True) + 0.1 * torch.randn(size, 1, generator=generator)


@setup("lightning", requires="lightning")
def _lightning(ns: dict[str, Any]) -> Iterator[None]:
    """The block defines ``LitModel(L.LightningModule)`` with its ``configure_optimizers``
    (the rest of its body is ``...``), and may build the ``trainer``; then the module, given a
    linear model (``self.net``, behind a dropout), its ``training_step`` (with a penalty
    ``self.l2`` times the squared weights) and ``validation_step`` (logs ``val_loss``), is fit
    for 2 epochs of 8 batches (by ``trainer``, or a quiet CPU Trainer)."""
    with quiet_import():
        import lightning as L
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset

    import cadence
    yield

    class Base(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.Dropout(0.2), torch.nn.Linear(8, 1))
            self.l2 = 0.0

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            x, y = batch
            penalty = sum(p.square().sum() for p in self.parameters())
            return F.mse_loss(self.net(x), y) + self.l2 * penalty

        def validation_step(self, batch: Any, batch_idx: int) -> None:
            x, y = batch
            self.log("val_loss", F.mse_loss(self.net(x), y))

    class Fitted(ns["LitModel"], Base):  # the block's configure_optimizers, Base's steps
        pass

    trainer = ns.pop("trainer", None) or L.Trainer(
        max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False)
    trainer.fit(Fitted(), DataLoader(TensorDataset(*regression_data(0)), batch_size=4),
                DataLoader(TensorDataset(*regression_data(1)), batch_size=4))
    assert trainer.global_step == 16
    config = trainer.lr_scheduler_configs[0]
    assert isinstance(config.scheduler, cadence.Scheduler)
    assert config.scheduler.current_step == 16


@setup("transformers", requires="transformers")
def _transformers(ns: dict[str, Any]) -> Iterator[None]:
    """``torch``, ``model`` (a linear regression returning ``{"loss", "logits"}``), ``args``
    (``TrainingArguments``: 12 updates of 4 samples on the CPU, nothing saved or reported) and
    the datasets ``train`` and ``evaluation``; after the block, ``trainer.train()``."""
    with quiet_import():
        from transformers import TrainingArguments
    import torch

    import cadence
    module = example("transformers_example")
    torch.manual_seed(0)
    ns.update(torch=torch, model=module.Regression(), train=module.Pairs(0),
              evaluation=module.Pairs(1),
              args=TrainingArguments(output_dir="trainer_output", max_steps=12,
                                     per_device_train_batch_size=4, eval_strategy="steps",
                                     eval_steps=6, save_strategy="no", report_to=[],
                                     use_cpu=True, disable_tqdm=True, logging_steps=50))
    yield
    trainer = ns["trainer"]
    trainer.train()
    scheduler = trainer.lr_scheduler
    assert isinstance(scheduler, cadence.Scheduler) and scheduler.current_step == 12


@setup("accelerate", requires="accelerate")
def _accelerate(ns: dict[str, Any]) -> Iterator[None]:
    """``torch``, ``accelerator`` (one CPU process), ``model``, ``optimizer`` (SGD) and
    ``loader`` (8 batches); after the block, two epochs with ``accelerator.backward``."""
    with quiet_import():
        from accelerate import Accelerator
        from accelerate.state import AcceleratorState
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 1)
    ns.update(torch=torch, accelerator=Accelerator(cpu=True), model=model,
              optimizer=torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
              loader=DataLoader(TensorDataset(*regression_data(0)), batch_size=4))
    try:
        yield
        accelerator, model, optimizer = ns["accelerator"], ns["model"], ns["optimizer"]
        for _epoch in range(2):
            for inputs, targets in ns["loader"]:
                accelerator.backward(F.mse_loss(model(inputs), targets))
                optimizer.step()
                ns["scheduler"].step()
                optimizer.zero_grad()
        assert ns["scheduler"].scheduler.current_step == 16
    finally:  # accelerate's process-wide state, as no other test expects to find it
        AcceleratorState._reset_state(reset_partial_state=True)


@setup("mmengine-runner", requires="mmengine")
def _mmengine_runner(ns: dict[str, Any]) -> Iterator[None]:
    """After the block, MMEngine's Runner trains examples/mmengine_example.py's regression for 4
    epochs of 8 iterations with the block's ``param_scheduler``."""
    with quiet_import():
        from mmengine.runner import Runner
    import torch
    from torch.utils.data import DataLoader
    module = example("mmengine_example")
    yield
    torch.manual_seed(0)
    record = module.RecordLR()
    runner = Runner(
        model=module.Regression(), work_dir="mmengine_work_dir", experiment_name="snippet",
        train_dataloader=DataLoader(module.Pairs(), batch_size=4, shuffle=False),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.05, momentum=0.9)),
        param_scheduler=ns["param_scheduler"],
        train_cfg=dict(by_epoch=True, max_epochs=4, val_interval=10**6),
        default_hooks={"logger": dict(type="LoggerHook", interval=1000), "checkpoint": None},
        custom_hooks=[record], log_level="WARNING", default_scope="mmengine")
    runner.train()
    assert len(record.lrs) == 32
    assert all(type(s).__module__.startswith("cadence") for s in runner.param_schedulers)


@setup("fsdp2", requires="torch")
def _fsdp2(ns: dict[str, Any]) -> Iterator[None]:
    """A process group of one (gloo), ``model`` sharded with ``fully_shard`` on a CPU mesh,
    ``optimizer`` (AdamW) and ``folder`` (for the checkpoint); the group is closed after."""
    import torch
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        mesh = init_device_mesh("cpu", (1,))
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(),
                                    torch.nn.Linear(16, 1))
        for layer in model:
            if isinstance(layer, torch.nn.Linear):
                fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
        ns.update(torch=torch, model=model, folder="checkpoint",
                  optimizer=torch.optim.AdamW(model.parameters(), lr=0.01))
        yield
    finally:
        dist.destroy_process_group()


def _with(base: Setup, ns: dict[str, Any], **extra: Any) -> Iterator[None]:
    gen = base(ns)
    next(gen)
    ns.update(extra)
    yield
    with contextlib.suppress(StopIteration):
        next(gen)


# --- running ----------------------------------------------------------------------------------

_pages: dict[Path, SimpleNamespace] = {}  # page -> folder, last python block run, its namespace


def page_state(page: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    if page not in _pages:
        folder = tmp_path_factory.mktemp(page.stem.lower())
        _pages[page] = SimpleNamespace(folder=folder, last=None, ns=None)
    return _pages[page]


def python_chain(block: Block) -> list[Block]:
    """The block, after the blocks it continues (first first)."""
    chain = [block]
    while chain[0].options.get("continues"):
        wanted = chain[0].options["continues"]
        before = [b for b in blocks(block.page) if b.line < chain[0].line and b.lang in PYTHON
                  and "skip" not in b.options
                  and (wanted is True or b.options.get("name") == wanted)]
        if not before:
            pytest.fail(f"{chain[0].id} continues "
                        f"{'a block' if wanted is True else repr(wanted)}, but no Python block "
                        f"{'' if wanted is True else 'of that name '}comes before it")
        chain.insert(0, before[-1])
    return chain


@contextlib.contextmanager
def registry_kept() -> Iterator[None]:
    """Config types a block registers are unregistered afterwards."""
    from cadence.config import registered, unregister
    before = set(registered())
    try:
        yield
    finally:
        for name in set(registered()) - before:
            unregister(name)


def framework_imports(source: str) -> list[str]:
    """The modules of the frameworks a block imports (``from mmengine.optim import x``:
    ``mmengine.optim``)."""
    names = []
    try:
        tree = ast.parse(source)
    except SyntaxError:  # the block's own test says so
        return []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return [n for n in names if any(n == f or n.startswith(f + ".") for f in FRAMEWORKS)]


def exec_python(block: Block, ns: dict[str, Any]) -> None:
    with quiet_import():  # a framework's warnings on import are its own, not the block's
        for name in framework_imports(block.source):
            importlib.import_module(name)
    # padded so that a traceback names the page's own line numbers
    code = compile("\n" * block.line + block.source, str(block.page), "exec")
    exec(code, ns)


def run_python(block: Block, state: SimpleNamespace) -> None:
    chain = python_chain(block)
    start = 0
    if len(chain) > 1 and state.last == chain[-2].line:
        start, ns = len(chain) - 1, state.ns  # the block before ran just now: go on from there
    else:
        # a module of its own, so that what the block defines has one (dataclasses, pickle)
        module = types.ModuleType("snippet_" + re.sub(r"\W", "_", block.id.split(":")[0]))
        sys.modules[module.__name__] = module
        ns = module.__dict__
    with registry_kept() if start == 0 else contextlib.nullcontext():
        for b in chain[start:]:
            name = b.options.get("setup")
            if name is not None and name not in SETUPS:
                pytest.fail(f"{b.id}: unknown setup {name!r} (known: {', '.join(SETUPS)})")
            gen = SETUPS[name](ns) if name else None
            if gen is None:
                exec_python(b, ns)
            else:
                next(gen)
                try:
                    exec_python(b, ns)
                    with contextlib.suppress(StopIteration):
                        next(gen)  # the setup's part after the block (a trainer's run)
                finally:
                    gen.close()
            state.last, state.ns = b.line, ns


def stand_in_optimizer() -> Any:
    import torch
    return torch.optim.SGD(tiny_model().parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)


def run_config(block: Block, folder: Path) -> None:
    import numpy as np

    import cadence
    from cadence.config import registered
    name = block.options.get("file") or f"block-{block.line}.{block.lang}"
    path = folder / name
    path.write_text(block.source, encoding="utf-8")
    data = cadence.read_config(path)
    if isinstance(data, dict) and data.get("type") in registered():
        schedule = cadence.load_config(path)
        values = schedule(np.arange(1000))
        assert np.isfinite(values).all()
        return
    targets = None
    if isinstance(data, dict) and data.get("targets"):
        holder = SimpleNamespace(**{n: 1.0 for n in data["targets"]})
        targets = {n: cadence.Attribute(holder, n) for n in data["targets"]}
    optimizer = stand_in_optimizer()
    sched = cadence.build(path, optimizer, targets=targets,
                          epoch_length=10 if isinstance(data, list) else None)
    for _ in range(20):
        optimizer.step()
        sched.step()


def write_files(block: Block, folder: Path) -> None:
    """The ``file=`` blocks of the page up to this one, as files in its folder."""
    for b in blocks(block.page):
        if b.line <= block.line and isinstance(b.options.get("file"), str):
            (folder / b.options["file"]).write_text(b.source, encoding="utf-8")


def missing_packages(block: Block) -> list[str]:
    """The third-party packages a framework block needs and this environment lacks."""
    chain = python_chain(block) if block.lang in PYTHON else [block]
    needed = {m.split(".")[0] for b in chain for m in framework_imports(b.source)}
    needed |= {FRAMEWORK_SETUPS[b.options["setup"]] for b in chain
               if b.options.get("setup") in FRAMEWORK_SETUPS}
    needed.discard("cadence")  # cadence.compat.mmengine needs MMEngine
    if any("cadence.compat.mmengine" in framework_imports(b.source) for b in chain):
        needed.add("mmengine")
    return sorted(n for n in needed if importlib.util.find_spec(n) is None)


def is_frameworks(block: Block) -> bool:
    if block.options.get("frameworks") or block.options.get("setup") in FRAMEWORK_SETUPS:
        return True
    if block.lang in PYTHON:
        chain = [block]
        with contextlib.suppress(BaseException):
            chain = python_chain(block)
        return any(framework_imports(b.source) for b in chain)
    return False


def params() -> list[Any]:
    out = []
    for b in all_blocks():
        marks = [pytest.mark.frameworks] if is_frameworks(b) else []
        out.append(pytest.param(b, id=b.id, marks=marks))
    return out


@pytest.mark.parametrize("block", params())
def test_block_runs_as_written(block: Block, tmp_path_factory: pytest.TempPathFactory,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    unknown = set(block.options) - KEYS
    assert not unknown, f"{block.id}: unknown snippet keys {sorted(unknown)} (known: {sorted(KEYS)})"
    if "skip" in block.options:
        if not block.options.get("reason"):
            pytest.fail(f"{block.id}: a skipped block needs reason=\"...\"")
        pytest.skip(f"{block.id}: {block.options['reason']}")
    if block.lang not in PYTHON | SHELL | CONFIG:
        pytest.fail(f"{block.id}: a {block.lang or 'plain'} block cannot run: give it a language "
                    "(python, sh, yaml, json) or declare <!-- snippet: skip reason=\"...\" -->")
    state = page_state(block.page, tmp_path_factory)
    monkeypatch.chdir(state.folder)
    write_files(block, state.folder)
    if block.lang in PYTHON:
        import torch
        torch.manual_seed(0)
        if is_frameworks(block):
            missing = missing_packages(block)
            if missing:
                pytest.skip(f"{block.id} needs {', '.join(missing)}, not installed here")
            framework_noise()
        run_python(block, state)
    elif block.lang in SHELL:
        shell_folder(state.folder)
        run_shell(block, state.folder)  # checks the declarations first
        if block.skip_reason:
            pytest.skip(f"{block.id}: {block.skip_reason}")
    else:
        run_config(block, state.folder)


def test_every_declared_setup_exists() -> None:
    for b in all_blocks():
        name = b.options.get("setup")
        assert name is None or name in SETUPS, f"{b.id}: unknown setup {name!r}"


def summary() -> str:
    """``N blocks: run R, skipped S``, then each skipped block with its reason, and the shell
    commands that are not run."""
    every = all_blocks()
    skipped = [b for b in every if b.skip_reason is not None]
    lines = [f"{len(every)} blocks: run {len(every) - len(skipped)}, skipped {len(skipped)}, "
             f"frameworks-marked {sum(is_frameworks(b) for b in every)}"]
    lines += [f"  skipped {b.id} ({b.lang or 'plain'}): {b.skip_reason}" for b in skipped]
    for b in every:
        if b.lang in SHELL and b.skip_reason is None:
            for command, runs in shell_commands(b):
                if not runs:
                    lines.append(f"  not run in {b.id}: {command} ({b.options.get('reason')})")
    return "\n".join(lines)


if __name__ == "__main__":
    with warnings.catch_warnings():
        print(summary())
        if "--list" in sys.argv:
            for b in all_blocks():
                print(f"{b.id:40} {b.lang or 'plain':8} {' '.join(f'{k}={v}' for k, v in b.options.items())}")
