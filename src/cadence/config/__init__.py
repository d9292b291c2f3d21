"""Configs: schedules to and from plain dicts, JSON and YAML; the registry of types."""

from cadence.config.io import dump_config, from_config, load_config, read_config, to_config
from cadence.config.registry import lookup, register, registered, unregister

__all__ = [
    "dump_config",
    "from_config",
    "load_config",
    "lookup",
    "read_config",
    "register",
    "registered",
    "to_config",
    "unregister",
]
