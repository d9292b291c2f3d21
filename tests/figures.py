"""Checks shared by the tests of every figure cadence draws: each kind of thing drawn (a curve, a
band, a mark, a dot) has a legend entry."""

from __future__ import annotations

from typing import Any


def legend_texts(fig: Any) -> set[str]:
    """Every label in the figure's legends (the axes' and the figure's own)."""
    legends = [ax.get_legend() for ax in fig.axes] + list(fig.legends)
    return {t.get_text() for legend in legends if legend is not None for t in legend.get_texts()}


def drawn(ax: Any) -> list[Any]:
    """The artists of ``ax`` that draw data: lines with points, and filled collections."""
    return [a for a in [*ax.get_lines(), *ax.collections]
            if not hasattr(a, "get_xdata") or len(a.get_xdata())]


def names(text: str, kind: str) -> bool:
    """Whether a legend text names ``kind``: it is the kind, or starts with it and then a
    space, a colon or a parenthesis (``"valley: 8.4e-02"`` names ``valley``)."""
    return text == kind or (text.startswith(kind) and text[len(kind)] in " :(")


def kinds_without_a_legend_entry(fig: Any) -> list[str]:
    """The kinds of things drawn in ``fig`` (an artist's ``gid``, else its label) that no
    legend text of the figure names."""
    texts = legend_texts(fig)
    kinds = {artist.get_gid() or artist.get_label() for ax in fig.axes for artist in drawn(ax)}
    return sorted(k for k in kinds if not any(names(t, k) for t in texts))
