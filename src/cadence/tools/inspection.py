"""What an optimizer's param groups hold, as tables: each group's hyperparameters, and its
parameters by name, shape and size, with the model's parameters that no group trains.

This is the warm-restart scheduler's ``visualize_optimizer_param_groups``, built on
:func:`cadence.scheduler.param_groups.summarize_param_groups`.

>>> import torch
>>> model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
>>> opt = torch.optim.SGD(model[0].parameters(), lr=0.1, momentum=0.9)
>>> report = inspect_param_groups(model, opt)
>>> [(g.index, g.hyperparameters["lr"], g.numel) for g in report.groups]
[(0, 0.1, 9)]
>>> report.missing
[('1.weight', (1, 3)), ('1.bias', (1,))]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from cadence.scheduler.param_groups import GroupSummary, summarize_param_groups
from cadence.tools.text import fmt_number, natural_width, need_rich, render_text
from cadence.validation import InvalidType

if TYPE_CHECKING:
    from rich.console import Group

NOT_IN_MODEL = "(not in the model)"
IN_NO_GROUP = "none: NOT TRAINED"


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return "(" + ", ".join(_value(v) for v in value) + ")"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return fmt_number(value)


@dataclass
class ParamGroupReport:
    """Each group's summary and the model's parameters that are in no group, as
    ``(name, shape)``. ``str()`` renders the tables as plain text.

    >>> import torch
    >>> from cadence.tools import inspect_param_groups
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.LayerNorm(2))
    >>> opt = torch.optim.AdamW([{"params": model[0].parameters(), "name": "linear"}], lr=1e-3)
    >>> report = inspect_param_groups(model, opt)
    >>> [(g.index, g.name, g.numel) for g in report.groups]
    [(0, 'linear', 10)]
    >>> report.missing
    [('1.weight', (2,)), ('1.bias', (2,))]
    """

    groups: list[GroupSummary]
    missing: list[tuple[str, tuple[int, ...]]]

    def table(self) -> Group:
        """Two ``rich`` tables in a group: the param groups' hyperparameters, and every
        parameter with its group (``none: NOT TRAINED`` for those in no group)."""
        rich = need_rich("ParamGroupReport.table()")
        text = rich.text.Text
        groups = rich.table.Table(title=text("Param groups"), box=rich.box.SIMPLE_HEAD,
                                  show_edge=False)
        for heading in ("group", "name", "lr", "momentum / betas", "eps", "weight decay",
                        "params", "elements"):
            groups.add_column(heading, justify="left" if heading == "name" else "right")
        for g in self.groups:
            h = g.hyperparameters
            moment = h["momentum"] if "momentum" in h else h.get("betas")
            cells = [str(g.index), "-" if g.name is None else str(g.name), _value(h.get("lr")),
                     _value(moment), _value(h.get("eps")), _value(h.get("weight_decay")),
                     str(len(g.params)), f"{g.numel:,}"]
            groups.add_row(*(text(c) for c in cells))
        params = rich.table.Table(title=text("Parameters"), box=rich.box.SIMPLE_HEAD,
                                  show_edge=False)
        for heading in ("group", "parameter", "shape", "elements"):
            params.add_column(heading, justify="right" if heading == "elements" else "left")
        for g in self.groups:
            for name, shape in g.params:
                params.add_row(text(str(g.index)), text(name or NOT_IN_MODEL), text(str(shape)),
                               text(f"{math.prod(shape):,}"))
        for name, shape in self.missing:
            params.add_row(text(IN_NO_GROUP), text(name), text(str(shape)),
                           text(f"{math.prod(shape):,}"))
        return rich.console.Group(groups, text(""), params)

    def __rich__(self) -> Group:
        rich = need_rich("ParamGroupReport")
        parts: list[Any] = [self.table()]
        if self.missing:
            count = sum(math.prod(shape) for _, shape in self.missing)
            names = ", ".join(name for name, _ in self.missing)
            parts += [rich.text.Text(""), rich.text.Text(
                f"Warning: {len(self.missing)} parameter(s) of the model ({count:,} elements) "
                f"are in no param group, so the optimizer does not train them: {names}.")]
        foreign = sum(1 for g in self.groups for name, _ in g.params if name is None)
        if foreign:
            parts += [rich.text.Text(""), rich.text.Text(
                f"Note: {foreign} parameter(s) in the param groups do not belong to the model "
                f"(shown as {NOT_IN_MODEL!r}).")]
        return rich.console.Group(*parts)

    def text(self, width: int | None = None) -> str:
        """The tables (and a warning about untrained parameters) as plain text."""
        return render_text(self, natural_width(self.table()) if width is None else width)

    def __str__(self) -> str:
        return self.text()


def inspect_param_groups(model: torch.nn.Module,
                         optimizer: torch.optim.Optimizer) -> ParamGroupReport:
    """A report of ``optimizer``'s param groups against ``model``'s named parameters: per group
    its index, ``name`` key, lr, momentum or betas, eps, weight decay and parameters (name,
    shape, element count), and the model's parameters that are in no group.

    >>> import torch
    >>> from cadence.tools import inspect_param_groups
    >>> model = torch.nn.Linear(3, 1)
    >>> opt = torch.optim.SGD([{"params": [model.weight], "weight_decay": 1e-4},
    ...                        {"params": [model.bias], "weight_decay": 0.0}], lr=0.1)
    >>> report = inspect_param_groups(model, opt)
    >>> [(g.params, g.hyperparameters["weight_decay"]) for g in report.groups]
    [([('weight', (1, 3))], 0.0001), ([('bias', (1,))], 0.0)]
    """
    if not isinstance(model, torch.nn.Module):
        raise InvalidType(f"'model' must be a torch.nn.Module (got {model!r})")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise InvalidType(f"'optimizer' must be a torch.optim.Optimizer (got {optimizer!r})")
    groups, missing = summarize_param_groups(model, optimizer)
    return ParamGroupReport(groups, missing)
