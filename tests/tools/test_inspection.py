"""inspect_param_groups: each group's hyperparameters and parameters, and what no group holds."""

from __future__ import annotations

import re

import pytest
import torch

from cadence.tools.inspection import (
    IN_NO_GROUP,
    NOT_IN_MODEL,
    ParamGroupReport,
    inspect_param_groups,
)


def model() -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))


def row_cells(text: str, first: str) -> list[str]:
    for line in text.splitlines():
        if re.match(rf"\s*{re.escape(first)}\s{{2,}}", line):
            return re.split(r"\s{2,}", line.strip())
    raise AssertionError(f"no row starting {first!r} in\n{text}")


def rows(text: str, first: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()
            if re.match(rf"\s*{re.escape(first)}\s{{2,}}", line)]


def test_adam_with_named_groups_a_left_out_and_a_foreign_parameter():
    m = model()
    foreign = torch.nn.Parameter(torch.zeros(5))
    opt = torch.optim.Adam([{"params": m[0].parameters(), "name": "encoder"},
                            {"params": [m[1].weight, foreign], "lr": 1e-4, "weight_decay": 0.01}],
                           lr=1e-3, betas=(0.8, 0.99))
    report = inspect_param_groups(m, opt)
    g0, g1 = report.groups
    assert (g0.index, g0.name, g1.name) == (0, "encoder", None)
    assert g0.hyperparameters == {"lr": 1e-3, "betas": (0.8, 0.99), "eps": 1e-8,
                                  "weight_decay": 0.0}
    assert g0.params == [("0.weight", (3, 4)), ("0.bias", (3,))] and g0.numel == 15
    assert g1.params == [("1.weight", (2, 3)), (None, (5,))] and g1.numel == 11
    assert report.missing == [("1.bias", (2,)), ("2.weight", (1, 2)), ("2.bias", (1,))]

    text = str(report)
    assert "Param groups" in text and "Parameters" in text
    assert row_cells(text, "0") == ["0", "encoder", "0.001", "(0.8, 0.99)", "1e-08", "0", "2", "15"]
    assert rows(text, "1")[0] == ["1", "-", "0.0001", "(0.8, 0.99)", "1e-08", "0.01", "2", "11"]
    assert ["0", "0.weight", "(3, 4)", "12"] in rows(text, "0")
    assert ["1", NOT_IN_MODEL, "(5,)", "5"] in rows(text, "1")
    assert rows(text, IN_NO_GROUP) == [[IN_NO_GROUP, "1.bias", "(2,)", "2"],
                                       [IN_NO_GROUP, "2.weight", "(1, 2)", "2"],
                                       [IN_NO_GROUP, "2.bias", "(1,)", "1"]]
    flat = " ".join(text.split())
    assert ("Warning: 3 parameter(s) of the model (5 elements) are in no param group, so the "
            "optimizer does not train them: 1.bias, 2.weight, 2.bias.") in flat
    assert "1 parameter(s) in the param groups do not belong to the model" in flat
    assert "\x1b" not in text


def test_sgd_momentum_and_a_tensor_lr():
    m = model()
    opt = torch.optim.SGD(m.parameters(), lr=torch.tensor(0.05), momentum=0.9, weight_decay=5e-4)
    report = inspect_param_groups(m, opt)
    assert report.missing == []
    assert report.groups[0].hyperparameters == {"lr": pytest.approx(0.05), "momentum": 0.9,
                                                "weight_decay": 5e-4}
    text = report.text()
    assert row_cells(text, "0") == ["0", "-", "0.05", "0.9", "-", "0.0005", "6", "26"]
    assert "Warning" not in text and NOT_IN_MODEL not in text and IN_NO_GROUP not in text


def test_table_is_a_rich_renderable():
    from rich.console import Group

    m = model()
    report = inspect_param_groups(m, torch.optim.SGD(m.parameters(), lr=0.1))
    assert isinstance(report, ParamGroupReport)
    assert isinstance(report.table(), Group)


def test_argument_errors():
    m = model()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"'model' must be a torch.nn.Module \(got 1\)"):
        inspect_param_groups(1, opt)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"'optimizer' must be a torch.optim.Optimizer \(got None\)"):
        inspect_param_groups(m, None)  # type: ignore[arg-type]
