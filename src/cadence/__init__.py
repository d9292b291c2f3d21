"""cadence: exact, composable schedules for every optimizer hyperparameter in PyTorch.

The pure schedule layer (:mod:`cadence.schedules`) and configs (:mod:`cadence.config`) never
import torch; the parts that bind schedules to an optimizer load torch when first used.
"""

from __future__ import annotations

from cadence import schedules
from cadence.config import dump_config, from_config, load_config, read_config, register, to_config

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "dump_config",
    "from_config",
    "load_config",
    "read_config",
    "register",
    "schedules",
    "to_config",
]
