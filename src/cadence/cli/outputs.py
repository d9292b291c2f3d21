"""The files the command line writes: never half of one, and never a user's file unasked.

Every file is written whole or not at all: to a temporary file beside it, renamed over the
old one only once complete (``os.replace``), so an interrupted or failed command leaves the old
file or the new one and no temporary file.

A file the user names (``plot -o lr.png``, ``find-lr --plot f.png``) is what they ask for: it
is replaced if it exists (a folder, a named pipe or a device of that name is refused). A folder
of generated files (``compare`` and ``demo``'s ``--out``) is not named file by file, so cadence
keeps a manifest there, :data:`MANIFEST`: the name and SHA-256 of every file it wrote. A later
run replaces a file only if it is unchanged since cadence wrote it; a file of the same name
that the user made or edited is replaced only with ``--force``, and the command refuses before
any work (:meth:`Folder.check`), naming the files and the way out.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cadence.validation import InvalidValue

MANIFEST = ".cadence-manifest.json"
_FORMAT = "cadence manifest 1"
_KINDS = {stat.S_IFDIR: "a folder", stat.S_IFIFO: "a named pipe (FIFO)",
          stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket", stat.S_IFLNK: "a symbolic link"}


def kind(path: Path) -> str | None:
    """What ``path`` is, if it exists and is not a regular file (``"a folder"``, ``"a named
    pipe (FIFO)"``...; a symbolic link is named as one, whatever it points to); None if it is
    a regular file or does not exist."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:  # nothing there (or nothing to see): what writes it will say
        return None
    return None if stat.S_ISREG(mode) else _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def sha256(path: Path) -> str | None:
    """The SHA-256 of a regular file (not followed through a link); None for anything else,
    which is never opened (a named pipe would block)."""
    if kind(path) is not None or not path.exists():
        return None
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
    except OSError:  # unreadable: cadence cannot tell it is the file it wrote
        return None
    return digest.hexdigest()


def _temporary(target: Path) -> Path:
    """A new, empty file beside ``target``, hidden, with ``target``'s suffix (matplotlib picks
    the format by it), made with the user's default permissions."""
    for _ in range(100):
        temp = target.with_name(f".{target.stem}.{secrets.token_hex(4)}.tmp{target.suffix}")
        try:
            with open(temp, "xb"):
                return temp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {str(target)!r}")  # pragma: no cover


@contextlib.contextmanager
def replacing(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``target`` to write to: renamed over ``target`` when the block
    ends, removed if it raises (a KeyboardInterrupt too). A link named ``target`` is written
    through: the file it points to is replaced."""
    final = Path(os.path.realpath(target))
    temp = _temporary(final)
    try:
        yield temp
        os.replace(temp, final)
    finally:
        temp.unlink(missing_ok=True)


def write_bytes(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` whole (see :func:`replacing`)."""
    with replacing(target) as temp:
        temp.write_bytes(data)


class Folder:
    """A folder of generated files, ``names``, that cadence may replace only where it wrote
    them and they are unchanged since (or with ``force``); ``option`` names the folder in
    errors (``--out``)."""

    def __init__(self, path: Path, names: Sequence[str], *, option: str = "--out",
                 force: bool = False) -> None:
        self.path, self.names, self.option, self.force = Path(path), tuple(names), option, force

    def _manifest(self) -> dict[str, list[str]] | None:
        """The digests cadence recorded per file name; None if the manifest is not cadence's
        (a user's file of that name)."""
        where = self.path / MANIFEST
        if kind(where) is not None:
            return None
        try:
            data = json.loads(where.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return None
        files = data.get("files") if isinstance(data, dict) and data.get("format") == _FORMAT \
            else None
        if not isinstance(files, dict) or not all(
                isinstance(v, list) and all(isinstance(d, str) for d in v) for v in files.values()):
            return None
        return files

    def conflicts(self) -> list[str]:
        """The files that a run would replace and that cadence did not write or that changed
        since: a file of the same name the user made, or edited. A missing file is none."""
        manifest = self._manifest()
        out = [MANIFEST] if manifest is None else []
        for name in self.names:
            where = self.path / name
            if not os.path.lexists(where):
                continue
            if manifest is None or kind(where) is not None \
                    or sha256(where) not in manifest.get(name, []):
                out.append(name)
        return out

    def check(self) -> None:
        """Refuse (an InvalidValue, one line) to replace what :meth:`conflicts` finds, unless
        ``force``; a folder in the way is refused even then."""
        for name in self.names:
            if kind(self.path / name) == "a folder":
                raise InvalidValue(f"{self.option} {str(self.path)!r}: {name!r} is a folder; "
                                   f"cadence writes a file of that name there: choose another "
                                   f"{self.option}")
        found = [] if self.force else self.conflicts()
        if found:
            raise InvalidValue(
                f"{self.option} {str(self.path)!r} holds {', '.join(found)}, which cadence did "
                f"not write or which changed since it wrote {'them' if len(found) > 1 else 'it'}:"
                f" pass --force to overwrite {'them' if len(found) > 1 else 'it'}, or choose "
                f"another {self.option}")

    def write(self, contents: Mapping[str, bytes]) -> list[Path]:
        """Write every file of ``contents`` (names of :attr:`names`) and the manifest, each
        whole; checked again first (the user may have made a file meanwhile). Interrupted
        anywhere, the folder holds each file old or new, and the manifest knows both."""
        self.check()
        self.path.mkdir(parents=True, exist_ok=True)
        old = self._manifest() or {}
        new = {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()}
        temps: dict[str, Path] = {}
        try:
            for name, data in contents.items():
                temps[name] = _temporary(self.path / name)
                temps[name].write_bytes(data)
            # first the manifest that knows the old and the new files, then the files, then
            # the manifest of the new ones only
            self._write_manifest({**old, **{n: [d, *old.get(n, [])] for n, d in new.items()}})
            for name in contents:
                os.replace(temps[name], self.path / name)
                del temps[name]
            self._write_manifest({**old, **{n: [d] for n, d in new.items()}})
        finally:
            for temp in temps.values():
                temp.unlink(missing_ok=True)
        return [self.path / name for name in contents]

    def _write_manifest(self, files: Mapping[str, list[str]]) -> None:
        data: dict[str, Any] = {"format": _FORMAT,
                                "about": "the files cadence wrote here and their SHA-256: it "
                                         "replaces only these, unchanged, unless --force",
                                "files": dict(files)}
        write_bytes(self.path / MANIFEST, (json.dumps(data, indent=1) + "\n").encode("utf-8"))
