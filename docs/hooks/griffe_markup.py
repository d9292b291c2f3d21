"""A griffe extension for the API reference: cadence's docstrings are written for ``help()``
(reST-flavoured roles, bare doctests); this renders them as Markdown for mkdocstrings.

- ``:class:`~cadence.schedules.Cosine``` and the other Sphinx roles become code spans (the
  last component with ``~``, as Sphinx shows them);
- a run of doctest lines (``>>>`` and ``...`` prompts and their output) at the left margin
  becomes a ``pycon`` code block, so it is shown as the session it is;
- a paragraph that ends in reST's ``::`` (an indented literal block follows) ends in ``:``, as
  reST shows it (Markdown shows the indented block as code by itself).
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

LITERAL = re.compile(r"(?<=\S)::$", re.MULTILINE)
ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const):`(~?)([^`]+)`")


def _role(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    shown = target.rsplit(".", 1)[-1] if tilde else target
    return f"`{shown}`"


def fence_doctests(text: str) -> str:
    """Wrap each doctest run that starts at the left margin in a ``pycon`` fence."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    in_fence = False
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        if not in_fence and line.startswith(">>>"):
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            if out and out[-1].strip():
                out.append("")
            out += ["```pycon", *block, "```", ""]
            continue
        out.append(line)
        i += 1
    return "\n".join(out).rstrip("\n")


def markdown(text: str) -> str:
    """A docstring written for ``help()``, as Markdown."""
    return fence_doctests(LITERAL.sub(":", ROLE.sub(_role, text)))


class ReSTToMarkdown(Extension):
    """Rewrite every docstring griffe loads (see the module's docstring)."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
