"""``cadence.Scheduler``: bind schedules to any hyperparameter of a torch optimizer.

The value written into a param group at step ``t`` is, for a relative hyperparameter (the
default), ``base * schedule(t) * batch * plateau`` and, for an absolute one,
``schedule(t) * batch * plateau``, where ``base`` is the group's value when the scheduler first
saw it, ``batch`` the batch-size factor (lr only, unless asked) and ``plateau`` the multiplier of
a reduce-on-plateau controller. Everything is a closed form of ``t``: resuming is exact.
"""

from __future__ import annotations

import inspect
import warnings
import weakref
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

import torch
from torch.optim.lr_scheduler import LRScheduler as TorchLRScheduler

from cadence.scheduler import writers
from cadence.scheduler.advice import LooksLikeRates, rates_as_factors
from cadence.scheduler.batch import check_batch_size
from cadence.scheduler.binder import Binder
from cadence.scheduler.clock import FED, Clock, Time, check_amount, clock_of
from cadence.scheduler.group_sync import GroupFollowing
from cadence.scheduler.plateau import ReduceOnPlateau
from cadence.scheduler.retiming import check_policy
from cadence.scheduler.rollback import restoring
from cadence.scheduler.saving import STATE_FORMAT, Saving
from cadence.scheduler.selection import Selection, check_names
from cadence.scheduler.slots import resolve
from cadence.scheduler.target_set import TargetSet, target_specs
from cadence.scheduler.targets import as_targets
from cadence.scheduler.torch_protocol import TorchProtocol
from cadence.scheduler.track import RELATIVE, Span, Track, choose_spans, rule_of
from cadence.scheduler.updates import UpdateCounter, check_caller
from cadence.scheduler.values import Values
from cadence.validation import InvalidType, InvalidValue, check_non_negative_int

__all__ = ["STATE_FORMAT", "Scheduler"]


class Scheduler(GroupFollowing, Values, Saving, TorchProtocol,  # type: ignore[override,misc]
                TorchLRScheduler):
    """Schedule any hyperparameter of ``optimizer``'s param groups, and values outside it.

    Each keyword names a hyperparameter and gives its schedule: a
    :class:`~cadence.schedules.Schedule`, a number, or ``{selector: schedule}`` for
    different groups (a group's index, a tuple of indices, its ``name``, or a predicate).
    The value written at step ``t`` is ``base * schedule(t)``, ``base`` being the group's
    value when the scheduler first saw it (or its ``initial_<name>``).

    Args:
        optimizer: the ``torch.optim.Optimizer`` whose param groups are written.
        lr: the lr's schedule: a factor of each group's base lr.
        momentum: momentum's schedule (``betas[0]`` on Adam-family optimizers).
        weight_decay: weight decay's schedule.
        absolute: True, or the names whose schedules are values, not factors (``LooksLikeRates``).
        spans: other maps from a schedule's value to a group's value (``Span``).
        batch_size_mode: ``"linear"``, ``"sqrt"`` or ``"blend"``: scale by ``step(batch_size=)``.
        base_batch_size: the batch size the base values were tuned for.
        batch_scaled: the hyperparameters that batch scaling moves (default: lr only).
        plateau: a ``ReduceOnPlateau`` fed by ``step(metric)``: makes a ``PlateauScheduler``.
        count: ``"updates"``: time is ``optimizer.step()`` calls; ``"calls"``: ``step()`` calls.
        start_step: the step to start at (resuming without a saved state).
        clock: what time counts (``"updates"``, ``"calls"``, ``"samples"``, ``"tokens"``) or a
            ``Clock`` with the run's units and batch scaling (instead of ``count`` and the
            ``batch_*`` keywords, its shorthands).
        targets: ``{name: target}``: values outside the optimizer (``Attribute``, ``Modules``...).
        retime: how a state saved with a different schedule loads: refused (None), or re-timed
            into this one by ``"rescale"``, ``"hold"``, ``"continue"``, ``"switch"``, ``"jump"``.
        **hyperparameters: any other param-group key (``beta2``, ``eps``...), or a target's name.

    >>> import torch
    >>> import cadence
    >>> from cadence.schedules import Cosine, Warmup
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1,
    ...                       weight_decay=1e-4)
    >>> sched = cadence.Scheduler(opt, lr=Warmup(Cosine(steps=90), steps=10),
    ...                           weight_decay=Cosine(start=1.0, end=0.1, steps=100))
    >>> for _ in range(10):
    ...     opt.step(); sched.step()
    >>> opt.param_groups[0]["lr"], sched.value_at(100)
    (0.1, {'lr': [0.0], 'weight_decay': [1e-05]})

    Construction writes the step-0 values. With ``count="updates"`` a hook on the optimizer
    moves the values on after each real update (one skipped by ``GradScaler`` does not
    count), so they are right however often a trainer calls ``step()``. A group added later
    is picked up at the next call, with the same selectors. ``state_dict()`` is plain data
    and resumes bit for bit. The full reference: ``docs/scheduler.md``.
    """

    def __new__(cls, *args: Any, plateau: ReduceOnPlateau | None = None,
                **kwargs: Any) -> Scheduler:
        if cls is Scheduler and plateau is not None:
            from cadence.scheduler.plateau_scheduler import PlateauScheduler

            cls = PlateauScheduler  # an instance of PyTorch's ReduceLROnPlateau too
        return super().__new__(cls)

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        *,
        lr: object = None,
        momentum: object = None,
        weight_decay: object = None,
        absolute: bool | Collection[str] | None = None,
        spans: Mapping[str, Span] | None = None,
        batch_size_mode: str | None = None,
        base_batch_size: float | None = None,
        batch_scaled: Iterable[str] = ("lr",),
        plateau: ReduceOnPlateau | None = None,
        count: str | None = None,
        start_step: int = 0,
        targets: Mapping[str, object] | None = None,
        clock: Clock | str | Mapping[str, Any] | None = None,
        retime: str | None = None,
        **hyperparameters: object,
    ) -> None:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise InvalidType(f"'optimizer' must be a torch.optim.Optimizer (got {optimizer!r})")
        self.optimizer = optimizer
        specs = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, **hyperparameters}
        places = as_targets(targets)
        target_schedules = target_specs(places, specs)
        self._selections = {n: Selection.parse(n, s) for n, s in specs.items()
                            if s is not None and n not in places}
        if not self._selections and not places:
            raise InvalidValue("Scheduler needs at least one hyperparameter to schedule, "
                               "e.g. lr=...")
        names = set(self._selections)
        self._spans = choose_spans(names | set(places), absolute or False, spans)
        self._clock = clock_of(clock, count, batch_size_mode, base_batch_size,
                               tuple(check_names("batch_scaled", batch_scaled, None)))
        self._batch_scaled = set(check_names("clock.scaled", self._clock.scaled, None))
        for name in sorted(self._batch_scaled & set(places)):
            raise InvalidValue(f"'batch_scaled' names the target {name!r}: batch scaling is for "
                               "the optimizer's hyperparameters")
        if plateau is not None:
            if not isinstance(plateau, ReduceOnPlateau):
                raise InvalidType(f"'plateau' must be a ReduceOnPlateau (got {plateau!r})")
            check_names("plateau.applies_to", plateau.applies_to, names)
        self._retime = check_policy(retime)
        self._count = self._clock.unit  # "calls" once closed or handed over
        self._time = Time(check_non_negative_int("start_step", start_step))
        self._updated = False  # an optimizer update since the clock was last fed
        self._pending = 0  # fed since the last update (micro-batches, a skipped update)
        for selection in self._selections.values():
            selection.check_covers(optimizer.param_groups)
        tracks = [Track(n, [], [], self._spans[n], rule_of(n)) for n in self._selections]
        self._binder = Binder(optimizer, tracks, plateau)
        self._targets = TargetSet(places, target_schedules, self._spans)
        self._has_targets = bool(self._targets)
        self._saved_bases: dict[str, list[float | None]] = {}
        self._synced = 0  # how many groups have their schedules
        self._members: list[Any] = []  # each such group's params list: who it is
        self._last_group: Any = None
        self._hook: Any = None
        self._handed_over = False  # a child of a container, which writes through it
        self._used: float | None = None  # the step the last update used, until step()
        self._called = False  # step() was called (the first call looks at its caller)
        with restoring(optimizer):  # a refused value or place leaves the groups as they were
            writers.claim(self)  # a place named twice: refused before anything is written
            self._write(self._time)
        if absolute is None and self._spans.get("lr") == RELATIVE:
            self._advise()
        self._register_hook()

    # -- groups ------------------------------------------------------------------------------
    # what inspect.signature(Scheduler), IPython's ``?`` and editors show: the keywords of
    # __init__, not __new__'s (which only picks PlateauScheduler when ``plateau`` is given)
    __new__.__signature__ = inspect.signature(__init__)  # type: ignore[attr-defined]

    def _register_hook(self) -> None:
        if self._count == "updates" or self._count in FED:
            handle = self.optimizer.register_step_post_hook(UpdateCounter(self))
            weakref.finalize(self, handle.remove)
            self._hook = handle

    def _advance(self) -> None:
        """An optimizer update was made: on an updates clock, move to the next step and write
        its values; on a clock the loop feeds, note it (what is fed next counts)."""
        if self._count in FED:
            self._updated = True
            return
        used = self._time.position
        self._commit(self._time.at(used + 1))
        self._used = used

    def _commit(self, time: Time, undo: Callable[[], None] | None = None) -> None:
        """Move to ``time``: write its values, then take it. Every value is computed and
        checked before any is written, so a refused one changes nothing: the time stays, and
        ``undo`` puts back what the caller changed for it (a plateau's counters, bases)."""
        try:
            self._write(time)
        except BaseException:
            if undo is not None:
                undo()
            raise
        self._time = time

    def _move_to(self, position: float) -> None:
        """Go to ``position`` (``last_epoch = ...``)."""
        self._commit(self._time.at(position))

    def close(self) -> None:
        """Stop scheduling: the optimizer's updates no longer move this scheduler, and its
        places (the groups' hyperparameters, the targets) are free for another one. The
        values written stay."""
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        self._count = "calls"
        writers.release(self)

    def _advise(self) -> None:
        """Warn of an lr schedule written as learning rates but bound as factors."""
        track = self._binder.tracks["lr"]
        for schedule, members in track.parts():
            message = rates_as_factors(schedule, [track.bases[i] for i in members])
            if message is not None:
                warnings.warn(message, LooksLikeRates, stacklevel=3)

    # -- one writer per place (cadence.scheduler.writers) -----------------------------------
    def claims(self) -> list[tuple[Any, str]]:
        """Every place this scheduler writes, with its name: each scheduled group's
        hyperparameter, then each target's places."""
        self._sync_groups()
        out = []
        groups = self.optimizer.param_groups
        for name, track in self._binder.tracks.items():
            for i, schedule in enumerate(track.schedules[: len(groups)]):
                if schedule is not None:
                    slot = resolve(name, groups[i], i)
                    out.append((writers.group_place(self.optimizer, groups[i], slot.key,
                                                    slot.index), f"param group {i}'s {name!r}"))
        for name, target in self._targets.targets.items():
            out += [(key, f"target {name!r} ({place})")
                    for key, place in zip(target.keys(), target.places())]
        return out

    def shares(self) -> bool:
        """A child of a container (PyTorch's SequentialLR) writes through it: it shares."""
        return self._handed_over

    # -- values ------------------------------------------------------------------------------
    def _write(self, time: Time) -> None:
        self._sync_groups()
        t = float(time.position)
        scale = self._scale(time)
        if not self._has_targets:
            self._binder.write_at(t, scale)  # checks, then writes the groups
            return
        generation = self._targets.generation
        targets = self._targets.values(t)  # checked first (a target's places may have moved)
        if self._targets.generation != generation and (clash := writers.conflicts(self)):
            raise InvalidValue(clash)
        self._targets.write(targets)  # all or none
        try:
            self._binder.write_at(t, scale)
        except BaseException:
            self._targets.put_back()  # a value refused: the targets as they were too
            raise

    # -- time --------------------------------------------------------------------------------
    def step(self, metrics: Any = None, *, batch_size: float | None = None,
             samples: Any = None, tokens: Any = None, summed: bool = False) -> None:
        """The scheduler's turn after an optimizer update: move the clock and write the values.

        On the default clock (``"updates"``) the updates themselves move the schedule, so a
        ``step()`` between them changes nothing; on ``"calls"`` each call is the next step; on
        ``"samples"``/``"tokens"`` the clock moves by what ``samples=``/``tokens=`` feeds (this
        rank's count, summed over the ranks) once the optimizer has made an update: counts fed
        with no update since the last feed (micro-batches of an accumulated update, an update
        that ``GradScaler`` skipped) wait and move it with the next update, so the clock is the
        data consumed and a schedule written for the dataset ends with it; a ``step()`` without
        a count moves nothing.
        ``summed=True``: the count is already the sum over the ranks (transformers'
        ``state.num_input_tokens_seen`` is), and is not summed again.

        ``metrics`` (the positional argument, as PyTorch's ``ReduceLROnPlateau.step`` takes it)
        feeds the plateau controller; ``batch_size`` sets the batch size that batch scaling
        uses from now on (the clock's own when omitted). Under ``torch.distributed``, a
        ``step(metric)`` or a fed count is a collective (one exchange for both), as
        :meth:`report` is.
        """
        if metrics is not None and self.plateau is None:
            raise InvalidType(
                f"step({metrics!r}) feeds a plateau controller, and this Scheduler has none "
                "(Scheduler(..., plateau=ReduceOnPlateau(...))); a batch size is "
                "step(batch_size=...)")
        time = self._time
        if metrics is None and batch_size is None and samples is None and tokens is None \
                and self._called and time.batch_size is None:  # a plain call, the usual one
            self._used = None
            if self._count == "calls":
                self._commit(Time(time.position + 1, time.calls + 1))
            else:  # a clock that updates or feeds move
                self._time = Time(time.position, time.calls + 1)
            return
        size = None if batch_size is None else check_batch_size(batch_size)
        fed = self._fed(samples, tokens)
        if not (self._count == "calls" or self._called):
            check_caller(self)
        self._called = True
        self._used = None
        by: int = 0
        averaged = False
        pending, updated = self._pending + (fed or 0), self._updated
        if fed is not None and updated:  # what was fed since the last update moves the clock
            by, pending, updated = pending, 0, False
            if not summed:  # this rank's count: summed over the ranks (with the metric)
                from cadence.scheduler.ranks import DEFAULT_TIMEOUT, share

                plateau = self.plateau if metrics is not None and self.plateau is not None \
                    and self.plateau.sync else None
                by, mean = share(by, None if plateau is None else float(metrics),
                                 step=self._time.position,
                                 timeout=DEFAULT_TIMEOUT if plateau is None else plateau.timeout)
                if plateau is not None:
                    metrics, averaged = mean, True
        elif self._count == "calls":
            by = 1
        time = self._time.called(batch_size=size, by=by)
        moved = by != 0 or size != self._time.batch_size
        undo = None
        if metrics is not None:
            assert self.plateau is not None
            kept = self.plateau.state_dict()
            undo = lambda: self.plateau.load_state_dict(kept)  # noqa: E731
            moved = self.plateau.observe(metrics, step=time.position, averaged=averaged) or moved
        if moved:
            self._commit(time, undo)
        else:
            self._time = time
        self._pending, self._updated = pending, updated

    def _fed(self, samples: Any, tokens: Any) -> int | None:
        """The count fed to a samples or tokens clock, checked (None when none is fed)."""
        if samples is None and tokens is None:  # every plain step(): no dict to build
            return None
        given = {k: v for k, v in (("samples", samples), ("tokens", tokens)) if v is not None}
        if not given:
            return None
        [(name, value)] = given.items() if len(given) == 1 else [(None, None)]
        if name != self._count:
            what = " and ".join(f"{k}=" for k in given)
            clock = (f"counts {self._count}" if self._count in FED else
                     f"counts {self._count}, which the optimizer's updates move" if
                     self._count == "updates" else "counts step() calls")
            raise InvalidValue(f"step({what}...) feeds a clock of {' and '.join(given)}; this "
                               f"Scheduler {clock} (Scheduler(..., clock="
                               f"{next(iter(given))!r}) counts {next(iter(given))})")
        return check_amount(name, value)

    def report(self, metric: Any) -> bool:
        """Feed the plateau controller one metric (e.g. the validation loss, once per epoch).
        Returns True, and lowers the values at once, when it reduces.

        Under ``torch.distributed`` with ``ReduceOnPlateau(sync=True)`` (the default) this is a
        collective: the metric is averaged over the ranks, so every rank must report, at the
        same step. A rank missing for the controller's ``timeout`` (60 s by default) is named
        in a :class:`~cadence.scheduler.ranks.RankTimeout` on the others; ranks whose
        schedulers are at different steps raise :class:`~cadence.scheduler.ranks.RankMismatch`
        with every rank's step."""
        if self.plateau is None:
            raise InvalidValue("report() needs a plateau controller: "
                               "Scheduler(..., plateau=ReduceOnPlateau(...))")
        kept = self.plateau.state_dict()
        reduced = self.plateau.observe(metric, step=self._time.position)
        if reduced:
            self._commit(self._time, lambda: self.plateau.load_state_dict(kept))  # type: ignore[union-attr]
        return reduced

    def check_ranks(self, timeout: float | None = 60.0) -> None:
        """Check that this scheduler is at the same step on every rank of the default process
        group (nothing to check without one): a collective, every rank must call it, e.g. after
        loading a state or once per epoch. Ranks at different steps (one made an update the
        others did not) raise :class:`~cadence.scheduler.ranks.RankMismatch` on every rank,
        naming each rank's step; a rank that has not called within ``timeout`` seconds (None:
        the process group's own timeout) is named in a
        :class:`~cadence.scheduler.ranks.RankTimeout`."""
        from cadence.scheduler.ranks import check_steps

        check_steps(self._time.position, timeout=timeout, call="check_ranks()")

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_hook"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._binder.forget_layout()
        writers.claim(self)
        self._register_hook()

    def __repr__(self) -> str:
        parts = []
        for name, s in self._selections.items():
            spec = s.schedules[0] if s.selectors is None else dict(zip(s.selectors, s.schedules))
            parts.append(f"{name}={spec!r}")
        for name, track in self._targets.tracks.items():
            parts.append(f"{name}={track.schedules[0]!r} -> {self._targets.targets[name]!r}")
        optimizer = type(self.optimizer).__name__
        return f"{type(self).__name__}({optimizer}, {', '.join(parts)}, step={self._time.position})"

