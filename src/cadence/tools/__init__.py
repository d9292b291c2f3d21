"""Tools that show what a schedule will do: terminal previews (more in later layers)."""

from cadence.tools.preview import preview, sparkline

__all__ = ["preview", "sparkline"]
