"""cadence's MMEngine drop-ins in MMEngine's registry, for the Runner's ``param_scheduler``.

MMEngine's Runner builds schedulers from ``PARAM_SCHEDULERS`` by ``type``. This module adds a
child registry with the scope ``cadence`` holding every class of
:mod:`cadence.compat.mmengine` under its MMEngine name, so a config asks for
``dict(type="cadence.CosineAnnealingLR", ...)``; MMEngine imports it by itself the first time it
meets the scope (through :mod:`cadence.registry`). Needs MMEngine (``pip install
mmengine-lite``).

>>> from cadence.integrations.mmengine import PARAM_SCHEDULERS
>>> PARAM_SCHEDULERS.get("CosineAnnealingLR").__module__
'cadence.compat.mmengine'
"""

from __future__ import annotations

from cadence.validation import MissingPackage

try:
    from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
    from mmengine.registry import Registry
except ImportError as exc:  # pragma: no cover - the trainers extra installs it
    raise MissingPackage("cadence.integrations.mmengine needs MMEngine: pip install "
                         "mmengine-lite (or mmengine)") from exc

from cadence.compat import mmengine as drop_ins

PARAM_SCHEDULERS = Registry("parameter scheduler", parent=MMENGINE_PARAM_SCHEDULERS,
                            scope="cadence")
"""MMEngine's registry of parameter schedulers under the scope ``cadence``: a child of
MMEngine's ``PARAM_SCHEDULERS``, holding every drop-in of :mod:`cadence.compat.mmengine`."""
for _name in drop_ins.__all__:
    _cls = getattr(drop_ins, _name)
    if isinstance(_cls, type) and _name != "ParamScheduler":
        PARAM_SCHEDULERS.register_module(name=_name, module=_cls)

__all__ = ["PARAM_SCHEDULERS"]
