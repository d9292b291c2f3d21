"""Package-level promises: what imports what, and what is exported."""

from __future__ import annotations

import subprocess
import sys

import cadence
import cadence.config
import cadence.schedules


def test_schedules_do_not_import_torch():
    code = (
        "import sys, cadence.schedules, cadence.config\n"
        "from cadence.schedules import Cosine\n"
        "Cosine(steps=10)([1, 2]); cadence.from_config(Cosine(steps=10).to_config())\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_all_lists_real_public_names():
    for module in (cadence, cadence.schedules, cadence.config):
        assert len(module.__all__) == len(set(module.__all__))
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
        public = {n for n in vars(module) if not n.startswith("_")}
        assert set(module.__all__) <= public | {"__version__"}
