"""The recipes in examples/, for the integration tests that run them with the real frameworks."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def example(name: str) -> ModuleType:
    """The example file ``examples/<name>.py``, imported (the deprecation warnings the
    frameworks raise on import are theirs, not the example's)."""
    spec = importlib.util.spec_from_file_location(f"cadence_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        spec.loader.exec_module(module)
    return module


# PyTorch 2.13 with gloo and DistributedDataParallel now and then aborts a rank at interpreter
# exit, after the script has done all its work and closed its process group (seen about once in
# 30 runs on a busy machine, never on a quiet one; no Python frame is involved)
EXIT_ABORT = "terminate called without an active exception"


def _run(command: list[str], retry_exit_abort: bool = False) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 and retry_exit_abort and EXIT_ABORT in done.stderr:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)  # once
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stderr[-4000:]}"


def run_example(name: str, *args: str, record: Path) -> dict:
    """Run ``examples/<name>.py`` in a fresh process; what it recorded (``--record``)."""
    _run([sys.executable, str(EXAMPLES / f"{name}.py"), *args, "--record", str(record)])
    return json.loads(record.read_text())


def torchrun_example(name: str, *args: str, record: Path) -> list[dict]:
    """Run ``examples/<name>.py`` under a real torchrun with two processes (on a free port);
    what each rank recorded (``--record``, the rank appended after rank 0's)."""
    _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
          str(EXAMPLES / f"{name}.py"), *args, "--record", str(record)], retry_exit_abort=True)
    return [json.loads(record.read_text()), json.loads(Path(f"{record}.rank1").read_text())]
