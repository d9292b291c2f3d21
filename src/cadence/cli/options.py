"""The command line's own checks: a parser whose errors are one line, option types that
refuse a number out of bounds as the command line is parsed, and output paths checked before
any work.

>>> positive_int("--width", 200)("80")
80
>>> positive_int("--width", 200)("800")
Traceback (most recent call last):
argparse.ArgumentTypeError: --width must be a positive int up to 200 (got 800)
"""

from __future__ import annotations

import argparse
import math
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from cadence.cli import outputs
from cadence.validation import InvalidValue

# What tools.plot.plot and LRFinderResult.plot write (a test checks that they agree).
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, ``cadence <command>: error: <message>``,
    and exit status 2 (argparse would print the whole usage before it)."""

    def error(self, message: str) -> NoReturn:
        message = re.sub(r"^argument (\S+): (?=\1 )", "", message)  # "--x must ..." once
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def number(option: str, kind: type, rule: str, ok: Callable[[Any], bool]
           ) -> Callable[[str], Any]:
    """An argparse ``type=``: ``kind(text)`` if ``ok`` accepts it, else an error that names
    ``option``, ``rule`` and the text (``inf``, ``nan`` and ``1e999`` are refused as floats)."""

    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:  # not a number of that kind (or an int of too many digits)
            value = None
        if value is None or (isinstance(value, float) and not math.isfinite(value)) \
                or not ok(value):
            got = text if len(text) <= 40 else f"{text[:12]}... ({len(text):,} characters)"
            raise argparse.ArgumentTypeError(f"{option} must be {rule} (got {got})")
        return value

    convert.__name__ = option
    return convert


def positive_int(option: str, limit: int) -> Callable[[str], int]:
    """An argparse ``type=`` for an int from 1 to ``limit``."""
    return number(option, int, f"a positive int up to {limit:,}", lambda n: 1 <= n <= limit)


def int_between(option: str, low: int, high: int, high_text: str | None = None
                ) -> Callable[[str], int]:
    """An argparse ``type=`` for an int from ``low`` to ``high`` (``high_text`` writes it)."""
    return number(option, int, f"an int from {low:,} to {high_text or f'{high:,}'}",
                  lambda n: low <= n <= high)


def positive_number(option: str, limit: float) -> Callable[[str], float]:
    """An argparse ``type=`` for a float > 0, up to ``limit``."""
    text = f"{limit:,.0f}" if float(limit).is_integer() and limit < 1e15 else f"{limit:g}"
    return number(option, float, f"a positive number up to {text}", lambda x: 0 < x <= limit)


def number_between(option: str, low: float, high: float) -> Callable[[str], float]:
    """An argparse ``type=`` for a float from ``low`` to ``high``."""
    return number(option, float, f"a number from {low:g} to {high:g}", lambda x: low <= x <= high)


def check_output_file(option: str, path: str, suffixes: tuple[str, ...] = FIGURE_SUFFIXES
                      ) -> Path:
    """Refuse, before any work, a figure path that cannot be written: a suffix matplotlib is
    not asked to write, a folder, a folder that does not exist or cannot be written in."""
    target = Path(path)
    if target.suffix.lower() not in suffixes:
        listed = ", ".join(suffixes[:-1]) + " or " + suffixes[-1] if suffixes[1:] else suffixes[0]
        raise InvalidValue(f"{option} must end in {listed} (got {path!r})")
    if target.is_dir():
        raise InvalidValue(f"{option} {path!r} is a folder: give a file name in it")
    real = Path(os.path.realpath(target)) if target.is_symlink() else target  # written through
    what = outputs.kind(real)
    if what is not None:
        raise InvalidValue(f"{option} {path!r} is {what}, not a file cadence can replace")
    if real.exists() and not os.access(real, os.W_OK):  # renaming over it would ignore that
        raise InvalidValue(f"{option} {path!r} is read-only: cadence does not replace it")
    folder = real.parent
    if not folder.exists():
        raise InvalidValue(f"{option} {path!r}: the folder {str(folder)!r} does not exist")
    _check_writable(option, path, folder)
    return target


def check_output_folder(option: str, path: str) -> Path:
    """Refuse, before any work, a folder that cannot be made or written in (it may not exist
    yet: its nearest existing parent must be a folder that can be written in)."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise InvalidValue(f"{option} {path!r} is a file, not a folder")
    existing = next(p for p in (target, *target.parents) if p.exists())
    _check_writable(option, path, existing)
    return target


def _check_writable(option: str, path: str, folder: Path) -> None:
    if not folder.is_dir():
        raise InvalidValue(f"{option} {path!r}: {str(folder)!r} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise InvalidValue(f"{option} {path!r}: cannot write in the folder {str(folder)!r} "
                           f"({exc.strerror or exc})") from None
