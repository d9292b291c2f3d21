"""What a trainer needs to drive cadence, one small module per trainer, imported on demand.

Most need nothing: a ``cadence.Scheduler`` follows the optimizer's updates itself, a Scheduler
with a plateau controller is an instance of PyTorch's ``ReduceLROnPlateau`` (so Lightning and
transformers' Trainer feed it their metric), and the drop-ins are upstream's classes. The
recipes are in ``docs/integrations.md``. :mod:`cadence.integrations.mmengine` registers the
drop-ins in MMEngine's registry (MMEngine imports it by itself for ``type="cadence.<Name>"``).
:mod:`cadence.integrations.sb3` turns a schedule in timesteps into the ``progress_remaining``
callable Stable-Baselines3 takes for ``learning_rate``, ``clip_range`` and the like.
"""
