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

import numpy as np
import torch
from torch.optim.lr_scheduler import LRScheduler as TorchLRScheduler

from cadence.config.io import fingerprint
from cadence.scheduler import writers
from cadence.scheduler.advice import LooksLikeRates, rates_as_factors
from cadence.scheduler.batch import check_batch_size, check_settings
from cadence.scheduler.binder import Binder
from cadence.scheduler.clock import FED, Clock, Time, as_clock, check_amount
from cadence.scheduler.group_sync import GroupFollowing
from cadence.scheduler.plateau import ReduceOnPlateau
from cadence.scheduler.rollback import restoring
from cadence.scheduler.selection import Selection, check_names, routes
from cadence.scheduler.slots import as_float, resolve
from cadence.scheduler.state import describe_groups, differences, match_groups, read_state
from cadence.scheduler.target_set import TargetSet, target_specs
from cadence.scheduler.targets import as_targets
from cadence.scheduler.torch_protocol import TorchProtocol
from cadence.scheduler.track import ABSOLUTE, RELATIVE, Span, Track, choose_spans, rule_of
from cadence.scheduler.updates import UpdateCounter, check_caller
from cadence.schedules.base import Schedule, as_step_array
from cadence.validation import InvalidType, InvalidValue, check_choice, check_non_negative_int

STATE_FORMAT = "cadence.Scheduler/2"
COUNTS = ("updates", "calls")


class Scheduler(GroupFollowing, TorchProtocol, TorchLRScheduler):  # type: ignore[override,misc]
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
        self._clock = _clock(clock, count, batch_size_mode, base_batch_size, batch_scaled)
        self._batch_scaled = set(check_names("clock.scaled", self._clock.scaled, None))
        for name in sorted(self._batch_scaled & set(places)):
            raise InvalidValue(f"'batch_scaled' names the target {name!r}: batch scaling is for "
                               "the optimizer's hyperparameters")
        if plateau is not None:
            if not isinstance(plateau, ReduceOnPlateau):
                raise InvalidType(f"'plateau' must be a ReduceOnPlateau (got {plateau!r})")
            check_names("plateau.applies_to", plateau.applies_to, names)
        self._count = self._clock.unit  # "calls" once closed or handed over
        self._time = Time(check_non_negative_int("start_step", start_step))
        self._updated = False  # an optimizer update since the clock was last fed
        for selection in self._selections.values():
            selection.check_covers(optimizer.param_groups)
        tracks = [Track(n, [], [], self._spans[n], rule_of(n)) for n in self._selections]
        self._binder = Binder(optimizer, tracks, plateau)
        self._targets = TargetSet(places, target_schedules, self._spans)
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
    def _scale(self, time: Time) -> dict[str, float] | None:
        factor = self._clock.factor(time.position, time.batch_size)
        return None if factor == 1.0 else {name: factor for name in self._batch_scaled}

    def _write(self, time: Time) -> None:
        self._sync_groups()
        t = float(time.position)
        scale = self._scale(time)
        if not self._targets:
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

    def value_at(self, step: Any, batch_size: float | None = None) -> dict[str, Any]:
        """The values every scheduled hyperparameter takes at ``step``, without changing
        anything: for one step, ``{name: [value per group]}`` (None for groups a hyperparameter
        does not apply to); for an array of steps, ``{name: array (steps, groups)}`` with NaN
        there. The batch factor is the one ``batch_size`` gives (none by default); the plateau
        multiplier is the current one. Targets are there too, one value per place."""
        self._sync_groups()
        size = None if batch_size is None else check_batch_size(batch_size)
        if isinstance(step, (np.ndarray, list, tuple)):
            steps = as_step_array(step)
            return {**self._group_values_at(steps, size), **self._targets.values_at(steps)}
        t = float(as_step_array(step))
        return {**self._binder.values(t, self._scale(Time(t, batch_size=size))),
                **self._targets.value_at(t)}

    def _group_values_at(self, steps: np.ndarray, size: float | None) -> dict[str, np.ndarray]:
        """The groups' values at ``steps``; with a batch ramp, each stage's steps with its own
        batch factor."""
        if self._clock.scaling is None or (size is None and self._clock.batch_size is None):
            return self._binder.values_at(steps)
        factors = np.array([self._clock.factor(float(t), size) for t in steps.ravel()])
        factors = factors.reshape(steps.shape)
        out: dict[str, np.ndarray] = {}
        for factor in np.unique(factors):
            where = factors == factor
            part = self._binder.values_at(steps[where], {n: float(factor)
                                                         for n in self._batch_scaled})
            for name, table in part.items():
                out.setdefault(name, np.full((*steps.shape, table.shape[-1]), np.nan))
                out[name][where] = table
        return out

    def current_values(self) -> dict[str, list[float | None]]:
        """What every scheduled hyperparameter holds now, read from the param groups (None
        for groups without it), and what every target's places hold."""
        out: dict[str, list[float | None]] = {}
        for name in self._selections:
            row: list[float | None] = []
            for i, group in enumerate(self.optimizer.param_groups):
                try:
                    row.append(as_float(resolve(name, group, i).read(group)))
                except ValueError:
                    row.append(None)
            out[name] = row
        for name, values in self._targets.read().items():
            out[name] = [*values]
        return out

    # -- the read API --------------------------------------------------------------------------
    @property
    def current_step(self) -> Any:
        """The position whose values the groups hold, on the scheduler's clock (optimizer
        updates taken by default; samples or tokens consumed on such a clock)."""
        return self._time.position

    @property
    def clock(self) -> Clock:
        """What the scheduler's time counts, and how the run's units relate."""
        return self._clock

    @property
    def batch_size(self) -> float | None:
        """The batch size of the next update: the clock's (fixed, or its ramp's at the current
        position), or the last ``step(batch_size=...)``'s; None when neither gives one. A loop
        with a batch ramp reads it to size its next batch."""
        time = self._time
        return time.batch_size if time.batch_size is not None else \
            self._clock.batch_at(time.position)

    @property
    def batch_factor(self) -> float:
        """The batch-size factor of the current step (1 without batch scaling)."""
        return self._clock.factor(self._time.position, self._time.batch_size)

    @property
    def hyperparameters(self) -> tuple[str, ...]:
        """The names of the scheduled hyperparameters (of the param groups)."""
        return tuple(self._selections)

    @property
    def targets(self) -> tuple[str, ...]:
        """The names of the scheduled targets (values outside the optimizer)."""
        return tuple(self._targets.targets)

    def places(self, name: str) -> list[str]:
        """Where target ``name``'s values go, one entry per place."""
        if name not in self._targets.targets:
            raise KeyError(f"{name!r} is not a target (targets: {list(self.targets)})")
        return self._targets.targets[name].places()

    def schedules(self, name: str) -> list[Schedule | None]:
        """The schedule each param group (or each place of a target) follows for ``name``
        (None where it does not)."""
        self._sync_groups()
        return list(self._track(name).schedules)

    def bases(self, name: str) -> list[float | None]:
        """Each param group's base for ``name`` (None where it is not scheduled)."""
        self._sync_groups()
        return list(self._track(name).bases)

    def span(self, name: str) -> Span:
        """How ``name``'s schedule values become group values."""
        return self._track(name).span

    def _track(self, name: str) -> Track:
        if name in self._targets.tracks:
            return self._targets.tracks[name]
        if name not in self._binder.tracks:
            raise KeyError(f"{name!r} is not scheduled (scheduled: "
                           f"{[*self._selections, *self.targets]})")
        return self._binder.tracks[name]

    @property
    def plateau(self) -> ReduceOnPlateau | None:
        return self._binder.plateau

    # -- time --------------------------------------------------------------------------------
    def step(self, metrics: Any = None, *, batch_size: float | None = None,
             samples: Any = None, tokens: Any = None) -> None:
        """The scheduler's turn after an optimizer update: move the clock and write the values.

        On the default clock (``"updates"``) the updates themselves move the schedule, so a
        ``step()`` between them changes nothing; on ``"calls"`` each call is the next step; on
        ``"samples"``/``"tokens"`` the clock moves by what ``samples=``/``tokens=`` feeds (this
        rank's count for this update, summed over the ranks), and only if the optimizer made an
        update since the last feed: the count of an update that ``GradScaler`` skipped is not
        counted (as Megatron-LM's scheduler does not); a ``step()`` without them moves nothing.

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
        size = None if batch_size is None else check_batch_size(batch_size)
        fed = self._fed(samples, tokens)
        if not (self._count == "calls" or self._called):
            check_caller(self)
        self._called = True
        self._used = None
        by: int = 0
        averaged = False
        if fed is not None:
            fed = fed if self._updated else 0  # a skipped update's count is not counted
            if self.plateau is not None and metrics is not None and self.plateau.sync:
                from cadence.scheduler.ranks import share

                fed, metrics = share(fed, float(metrics), step=self._time.position,
                                     timeout=self.plateau.timeout)
                averaged = True
            else:
                from cadence.scheduler.ranks import share

                fed, _ = share(fed, step=self._time.position)
            self._updated = False
            by = fed
        elif self._count == "calls":
            by = 1
        time = self._time.called(batch_size=size, by=by)
        undo = None
        moved = by != 0 or size != self._time.batch_size
        if metrics is not None:
            assert self.plateau is not None
            kept = self.plateau.state_dict()
            undo = lambda: self.plateau.load_state_dict(kept)  # noqa: E731
            moved = self.plateau.observe(metrics, step=time.position, averaged=averaged) or moved
        if moved:
            self._commit(time, undo)
        else:
            self._time = time

    def _fed(self, samples: Any, tokens: Any) -> int | None:
        """The count fed to a samples or tokens clock, checked (None when none is fed)."""
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

    # -- state -------------------------------------------------------------------------------
    def _layout(self) -> dict[str, Any]:
        """Everything that decides the values apart from the step: compared on load."""
        self._sync_groups()
        assigned = {name: routes(self._selections[name], track)
                  for name, track in self._binder.tracks.items()}
        return {
            "hyperparameters": {
                name: {
                    "schedules": [fingerprint(s) for s in self._selections[name].schedules],
                    "groups": assigned[name],
                    "absolute": track.span == ABSOLUTE,
                    "span": list(track.span.__dict__.values()),
                }
                for name, track in self._binder.tracks.items()
            },
            "batch_size_mode": self._clock.scaling,
            "base_batch_size": 1.0 if self._clock.scaling is None else self._clock.base_batch_size,
            "batch_scaled": sorted(self._batch_scaled),
            "plateau": None if self.plateau is None else self.plateau.config(),
            "count": self._count,
            **({"clock": run} if (run := _run(self._clock)) else {}),
            **({"targets": self._targets.layout()} if self._targets else {}),
            "param_groups": describe_groups(self.optimizer.param_groups),
        }

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state: only ints, floats, strings, bools, None, lists and dicts, so
        ``torch.load(..., weights_only=True)`` reads it. ``steps`` is the step whose values the
        groups hold. Its keys name no attribute of PyTorch's schedulers, so it cannot break one
        it is loaded into by mistake."""
        self._sync_groups()
        return {
            "format": STATE_FORMAT,
            "steps": self._time.position,
            "batch_size": self._time.batch_size,
            "bases": {**{name: list(track.bases) for name, track in self._binder.tracks.items()},
                      **self._targets.bases()},
            "plateau_state": None if self.plateau is None else self.plateau.state_dict(),
            "layout": self._layout(),
        }

    def load_state_dict(self, state_dict: dict[str, Any], *, strict: bool = True) -> None:
        """Restore a state from :meth:`state_dict` and write its values into the groups.

        A state saved with a different schedule (or different groups, batch scaling or plateau
        settings) is refused unless ``strict=False``, which keeps this scheduler's schedule and
        continues it from the saved step with the saved bases. Every value is checked first:
        a bad one is refused with its key, and nothing changes.
        """
        state = read_state(state_dict, STATE_FORMAT)
        layout = self._layout()
        saved_layout = state.get("layout", {})
        found = differences(saved_layout, layout) if "layout" in state else []
        if found and strict:
            raise InvalidValue(
                "this state was saved with a different schedule: " + "; ".join(found)
                + f". Pass strict=False to continue this scheduler's schedule from the saved "
                f"step {state['steps']}."
            )
        if self.plateau is not None and state.get("plateau_state") is None and strict:
            raise InvalidValue(
                "state_dict['plateau_state'] is None, and this scheduler has a plateau "
                "controller: its reductions would be lost. Pass strict=False to start the "
                "controller afresh at the saved step")
        which = match_groups(saved_layout.get("param_groups") if isinstance(
            saved_layout, dict) else None, describe_groups(self.optimizer.param_groups))
        undo = self._undo_load()
        with restoring(self.optimizer):  # the groups as they were, if anything is refused
            try:
                plateau_state = state.get("plateau_state")
                if self.plateau is not None and plateau_state is not None:
                    self.plateau.load_state_dict(plateau_state)
                for name, track in self._binder.tracks.items():
                    saved = state["bases"].get(name, [])
                    self._saved_bases[name] = list(saved)
                    bases = list(track.bases)
                    for i, j in enumerate(which[: len(bases)]):  # each group its own base
                        base = None if j is None or j >= len(saved) else saved[j]
                        if base is not None and bases[i] is not None:
                            bases[i] = float(base)
                            self.optimizer.param_groups[i][f"initial_{name}"] = float(base)
                    track.rebase(bases)
                self._targets.rebase(state["bases"])
            except BaseException:
                undo()
                raise
            # a value refused here (a saved base giving a negative lr) leaves it all as it was
            self._commit(Time(state["steps"], self._time.calls, state["batch_size"]), undo)
        self._used = None

    def _undo_load(self) -> Callable[[], None]:
        """What puts back everything :meth:`load_state_dict` changes in the scheduler before
        it commits (the groups: :func:`~cadence.scheduler.rollback.restoring`)."""
        plateau = None if self.plateau is None else self.plateau.state_dict()
        saved_bases = dict(self._saved_bases)
        bases = {name: list(track.bases) for name, track in self._binder.tracks.items()}
        target_bases = self._targets.bases()

        def undo() -> None:
            if plateau is not None:
                self.plateau.load_state_dict(plateau)  # type: ignore[union-attr]
            self._saved_bases = saved_bases
            for name, track in self._binder.tracks.items():
                track.rebase(bases[name])
            self._targets.rebase(target_bases)
        return undo

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


def _clock(clock: object, count: object, mode: object, base: object,
           scaled: Iterable[str]) -> Clock:
    """The Scheduler's clock: ``clock``, or the one its shorthands (``count``,
    ``batch_size_mode``, ``base_batch_size``, ``batch_scaled``) describe; not both."""
    if clock is None:
        scaling, base_size = check_settings(mode, base)
        return Clock(check_choice("count", "updates" if count is None else count, COUNTS),
                     scaling=scaling, base_batch_size=base_size if scaling else None,
                     scaled=tuple(check_names("batch_scaled", scaled, None)))
    shorthands = {"count": count, "batch_size_mode": mode, "base_batch_size": base,
                  "batch_scaled": None if tuple(scaled) == ("lr",) else list(scaled)}
    given = {name: value for name, value in shorthands.items() if value is not None}
    if given:
        name, value = next(iter(given.items()))
        raise InvalidValue(f"give the clock's settings in 'clock' only: {', '.join(given)} "
                           f"is a shorthand for them (got clock={clock!r} and "
                           f"{name}={value!r})")
    return as_clock(clock)


def _run(clock: Clock) -> dict[str, Any] | None:
    """The clock's settings that a state's layout keeps beyond ``count`` and batch scaling
    (None when it has none: states without them load as before)."""
    config = clock.to_config()
    run = {k: config[k] for k in ("batch_size", "tokens_per_sample", "epoch", "total")}
    return run if any(v is not None for v in run.values()) else None
