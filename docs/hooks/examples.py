"""mkdocs hook: the example scripts of ``examples/`` on one generated page, ``examples.md``.

The pages link to the scripts as files of the repository (``../examples/ema_warmup.py``), which
works where the Markdown is read (a clone, a code host). In the site those files are not pages,
so this hook writes ``examples.md`` (each script in full, under a heading of its file name) and
points every such link at it (``examples.md#ema_warmuppy``). Nothing is written to the
repository.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

PAGE = "examples.md"
LINK = re.compile(r"\]\(((?:\.\./)+)examples/([A-Za-z0-9_]+\.py)\)")


def _root(config: Any) -> Path:
    return Path(config["config_file_path"]).resolve().parent


def anchor(name: str) -> str:
    """The heading's id of ``name`` (``ema_warmup.py`` -> ``ema_warmuppy``), as the toc makes it."""
    return re.sub(r"[^a-z0-9_-]", "", name.lower())


def page_text(folder: Path) -> str:
    """The examples page: each script under its name, whole, in a code block."""
    out = ["# Examples", "",
           "The example scripts of the repository's `examples/` folder, in full. The test suite "
           "runs each of them (most with the real trainer they show); the pages that explain "
           "them link here.", ""]
    for path in sorted(folder.glob("*.py")):
        code = path.read_text(encoding="utf-8").rstrip("\n")
        out += [f"## {path.name}", "", f"`examples/{path.name}`", "", "```python", code, "```", ""]
    return "\n".join(out)


def on_files(files: Files, config: Any) -> Files:
    folder = _root(config) / "examples"
    if folder.is_dir():
        files.append(File.generated(config, PAGE, content=page_text(folder)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    here = posixpath.dirname(page.file.src_uri)
    target = posixpath.relpath(PAGE, here or ".")

    def link(match: re.Match[str]) -> str:
        ups, name = match.groups()
        depth = here.count("/") + 1 if here else 0
        if ups.count("../") != depth + 1:
            return match.group(0)  # not the repository's examples/ folder
        return f"]({target}#{anchor(name)})"

    return LINK.sub(link, markdown)
