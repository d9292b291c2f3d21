"""Stand-ins for what a preview has no access to: an optimizer whose hyperparameters are all
the same value (1: so a scheduler's values are factors), and places holding that value for the
targets a ``scheduler`` config declares. Torch is imported only when one is built.

>>> stand_in_targets({"type": "scheduler", "targets": ["kl_weight"]})
{'kl_weight': Item(dict, 'value')}
>>> stand_in_targets({"type": "cosine", "steps": 10}) is None
True
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


def stand_in_optimizer(value: float = 1.0) -> torch.optim.Optimizer:
    """One param group whose lr, momentum, weight decay, betas and eps are ``value`` (1: so
    values are factors), so that a preview draws the hyperparameters of SGD and of the Adam
    family (``beta1``, ``beta2``, ``eps``) alike."""
    import torch

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=value, momentum=value,
                                weight_decay=value)
    optimizer.param_groups[0].update(betas=(value, value), eps=value)
    return optimizer


def _stand_in_mistake(exc: Any, config: Any) -> Exception:
    """A name the config schedules that no optimizer hyperparameter a preview knows has,
    said without calling the stand-in optimizer the user's param group."""
    from cadence.compat.configs import declared_targets, target_hint

    group = stand_in_optimizer().param_groups[0]
    known = ", ".join(k for k, v in group.items() if k in exc.keys and isinstance(v, (float, tuple))
                      and not k.startswith("initial_"))
    text = (f"{exc.name!r} is not an optimizer hyperparameter (a preview knows {known}, and "
            "beta1 and beta2 for the betas)")
    if isinstance(config, Mapping) and config.get("type") == "scheduler":
        text += (f": {target_hint(exc.name, declared_targets(config))}; cadence.build(config, "
                 f"optimizer, targets={{{exc.name!r}: cadence.Attribute(obj, {exc.name!r})}})"
                 " then takes where it lives")
    return exc.reworded(text)


def build_on_stand_in(config: Any, optimizer: Any = None, value: float = 1.0) -> Any:
    """``config`` built on a stand-in optimizer (:func:`stand_in_optimizer` by default) and
    stand-in targets holding ``value``. Its bases are stand-ins, so the advice an lr schedule
    gets at construction (:class:`~cadence.scheduler.advice.LooksLikeRates`) is not given
    here: ``describe`` gives it, in its own words."""
    from cadence.compat.configs import build
    from cadence.scheduler.advice import LooksLikeRates
    from cadence.scheduler.slots import NotAHyperparameter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LooksLikeRates)
        try:
            return build(config, stand_in_optimizer(value) if optimizer is None else optimizer,
                         targets=stand_in_targets(config, value))
        except NotAHyperparameter as exc:
            raise _stand_in_mistake(exc, config) from None


def stand_in_targets(config: Any, value: float = 1.0) -> dict[str, Any] | None:
    """A place holding ``value`` for each target a ``scheduler`` config declares (None when
    it declares none), so that a preview shows the targets' curves: factors of a base of 1,
    or their absolute values."""
    if not (isinstance(config, Mapping) and config.get("type") == "scheduler"):
        return None
    names = config.get("targets")
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        return None  # build names what is wrong
    from cadence.scheduler.targets import Item

    return {name: Item({"value": value}, "value") for name in names}
