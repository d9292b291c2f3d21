"""Where MMEngine looks for the scope ``cadence``: for ``type="cadence.<Name>"`` it imports
``cadence.registry``, which registers cadence's drop-ins (:mod:`cadence.integrations.mmengine`).
Needs MMEngine."""

from cadence.integrations.mmengine import PARAM_SCHEDULERS

__all__ = ["PARAM_SCHEDULERS"]
