"""The base of the PyTorch drop-ins: an instance of PyTorch's ``LRScheduler`` whose values come
from a pure description (:mod:`cadence.compat.torch_shapes`) through the binding core.

Each drop-in subclasses PyTorch's class of the same name and runs PyTorch's own constructor, so
it has every attribute PyTorch's has (``last_epoch``, ``base_lrs``, ``_last_lr``,
``_step_count``, each class's settings), its state is PyTorch's state (``state_dict()`` loads
into PyTorch's class and back; the saved settings win, as upstream) and ``isinstance`` checks
against PyTorch's classes hold. What differs is where the values come from: each step writes the
description's closed form, combined with other schedulers on the same optimizer by PyTorch's
chaining rule (:mod:`cadence.compat.chaining`). A user's subclass that overrides ``get_lr``, the
way PyTorch's documentation teaches, runs its own code instead. The checks of PyTorch's
arguments and saved states are in :mod:`cadence.compat._torch_checks` (named here too).
"""

from __future__ import annotations

import inspect
import operator
import warnings
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch
from torch.optim.lr_scheduler import EPOCH_DEPRECATION_WARNING
from torch.optim.lr_scheduler import LRScheduler as TorchLRScheduler

from cadence.compat import _torch_retime as retime
from cadence.compat import legacy, resume
from cadence.compat._torch_checks import (
    check_epoch,
    check_last_epoch,
    check_loaded,
    check_optimizer,
    check_resumable,
    check_torch_state,
)
from cadence.compat._torch_checks import per_group as per_group
from cadence.compat._torch_checks import real as real
from cadence.compat.chaining import ClosedForm, no_value_for_added, refuse_values
from cadence.compat.reading import TracksReading
from cadence.scheduler import writers
from cadence.scheduler.binder import Binder
from cadence.scheduler.plan import group_values
from cadence.scheduler.slots import as_float, resolve
from cadence.scheduler.track import Track
from cadence.validation import InvalidValue

ORDER_HELP = "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"


class LRScheduler(TracksReading, retime.Retiming, TorchLRScheduler):
    """PyTorch's ``LRScheduler``, as the base of the drop-ins, with cadence's read API
    (:class:`~cadence.compat.reading.TracksReading`).

    ``last_epoch=-1`` starts a schedule; ``last_epoch=N`` resumes it (the groups need their
    ``initial_lr``, as in PyTorch) and keeps the lrs the optimizer holds, which its loaded state
    gave it. ``verbose=True`` prints every lr written (PyTorch removed the argument; seed code
    still passes it).

    A subclass that defines ``get_lr`` (PyTorch's way of writing a scheduler) runs its own
    code, as on PyTorch's base.

    >>> import torch
    >>> from cadence.compat.lr_scheduler import LRScheduler, StepLR
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> isinstance(StepLR(opt, step_size=10), torch.optim.lr_scheduler.LRScheduler)
    True
    >>> class Halving(LRScheduler):  # a scheduler of your own, written as for PyTorch
    ...     def get_lr(self):
    ...         factor = 1.0 if self.last_epoch == 0 else 0.5
    ...         return [group["lr"] * factor for group in self.optimizer.param_groups]
    ...
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> sched = Halving(opt)
    >>> for _ in range(3):
    ...     opt.step(); sched.step()
    ...
    >>> sched.get_last_lr()
    [0.0125]
    """

    __slots__ = ("_built", "_restored", "_runtime")
    _restored: str | None
    describe: ClassVar[Callable[..., list[Track]] | None] = None
    chainable: ClassVar[bool] = True  # moves the current lr (PyTorch's chainable form) or sets it
    _settings: ClassVar[tuple[str, ...]] = ()
    _custom: ClassVar[bool] = False  # a subclass overriding get_lr runs its own code
    _read_settings: ClassVar[Any] = staticmethod(lambda obj: ())  # the settings, in one call
    verbose: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        describe = cls.__dict__.get("describe")
        if describe is not None:
            params = inspect.signature(describe.__func__).parameters
            cls._settings = tuple(p for p in params if p != "bases")
        if cls._setting_values is LRScheduler._setting_values and cls._settings:
            # the settings are plain attributes: read them all in one call
            cls._read_settings = staticmethod(operator.attrgetter(*cls._settings))
        else:
            cls._read_settings = staticmethod(lambda obj: tuple(obj._setting_values().values()))
        cls._custom = cls.get_lr is not LRScheduler.get_lr

    def __init__(self, optimizer: torch.optim.Optimizer, last_epoch: int = -1,
                 verbose: bool | str = "deprecated") -> None:
        self._start(optimizer, last_epoch, verbose)
        TorchLRScheduler.__init__(self, optimizer, last_epoch)

    def _start(self, optimizer: object, last_epoch: object, verbose: object) -> None:
        """The checks every drop-in makes before PyTorch's constructor runs."""
        check_optimizer(optimizer)
        check_last_epoch(last_epoch)
        if last_epoch != -1:
            check_resumable(optimizer)  # type: ignore[arg-type]
        if verbose is True:
            self.verbose = True
        self._get_lr_called_within_step = False  # PyTorch's step() leaves it in the state

    # -- the description -----------------------------------------------------------------------
    def _setting_values(self) -> dict[str, Any]:
        """The description's settings, read from the attributes PyTorch's class keeps."""
        return {name: getattr(self, name) for name in self._settings}

    def _bases(self) -> list[float]:
        return [b if type(b) is float else as_float(b) for b in self.base_lrs]

    def _tracks(self) -> list[Track]:
        """This scheduler's tracks at its current settings (its closed form)."""
        return list(self._now().binder.tracks.values())

    def _now(self) -> ClosedForm:
        """The closed form for the current settings and bases (made again when they change:
        by a loaded state, where the saved settings win, or mid-run, a re-timing:
        :mod:`cadence.compat._torch_retime`)."""
        key = (self._read_settings(self), tuple(self.base_lrs))
        runtime: ClosedForm | None = getattr(self, "_runtime", None)
        if runtime is None or runtime.key != key:
            describe = _inherited_description(type(self))
            tracks = [] if describe is None else retime.tracks(
                self, describe, None if runtime is None else runtime.key)
            runtime = self._runtime = ClosedForm(key, Binder(self.optimizer, tracks),
                                                 self._refuse_values)
        return runtime

    # -- PyTorch's API -------------------------------------------------------------------------
    def get_lr(self) -> list[Any]:
        """The lrs for the current step (subclasses may override it, the PyTorch way); called
        outside ``step()`` it warns as PyTorch does."""
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=2)
        return self._get_closed_form_lr()

    def _position(self) -> float:
        """The step of the closed form that the scheduler stands at (``last_epoch``)."""
        return float(self.last_epoch)

    def _counter(self) -> Any:
        """What every step of this scheduler changes (see :mod:`cadence.compat.resume`)."""
        return self.last_epoch

    def _initial_step(self) -> None:
        super()._initial_step()
        self._built = resume.built(self)
        writers.claim(self)

    # -- one writer per place (cadence.scheduler.writers): a drop-in chains, so it shares ------
    def claims(self) -> list[tuple[Any, str]]:
        """The lr of every group (and the momentum, where this scheduler cycles it)."""
        names = ["lr"]
        if not self._custom and _inherited_description(type(self)) is not None:
            names += [t.name for t in self._tracks() if t.name != "lr"]
        return group_claims(self.optimizer, names)

    def shares(self) -> bool:
        return True

    def _get_closed_form_lr(self) -> list[Any]:
        """Every group's lr at ``last_epoch``, from the closed form."""
        lrs = self._now().values(self._position()).get("lr", [])
        current = group_values(self.optimizer.param_groups, "lr")
        return [c if i >= len(lrs) or lrs[i] is None else lrs[i] for i, c in enumerate(current)]

    def step(self, epoch: float | None = None) -> None:
        """Advance one step, or go to ``epoch`` (PyTorch's deprecated form, which warns: the
        closed form is used, exactly)."""
        initial = self._step_count == 0
        if self._step_count == 1:
            self._check_call_order()
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        try:
            self._update_lr(epoch, initial)
        except BaseException:
            self._step_count -= 1  # a refused step is not taken
            raise

    _refuse_values = refuse_values

    def _check_call_order(self) -> None:
        """PyTorch's two warnings at the first ``step()``: ``optimizer.step`` replaced after the
        scheduler was built, or not called yet."""
        if not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
            warnings.warn(
                "Seems like `optimizer.step()` has been overridden after learning rate scheduler "
                "initialization. Please, make sure to call `optimizer.step()` before "
                f"`lr_scheduler.step()`. See more details at {ORDER_HELP}", UserWarning,
                stacklevel=3)
        elif not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch "
                "1.1.0 and later, you should call them in the opposite order: "
                "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this will "
                "result in PyTorch skipping the first value of the learning rate schedule. "
                f"See more details at {ORDER_HELP}", UserWarning, stacklevel=3)

    def _update_lr(self, epoch: float | None = None, initial: bool = False) -> None:
        """Move to ``epoch`` (the closed form) or to the next step, and write the lrs."""
        written = None
        if self._custom:
            self._update_from_get_lr(epoch)
        else:
            if epoch is not None:
                retime.forget(self)  # PyTorch's closed form of the settings now
            runtime = self._now()
            step = self.last_epoch
            self.last_epoch = step + 1 if epoch is None else check_epoch(epoch)  # type: ignore[assignment]
            try:
                added = self._added_values(explicit=epoch is not None)  # before any write
                if epoch is not None:
                    written = runtime.write(float(self.last_epoch))
                elif not self.chainable:
                    written = runtime.write(float(step + 1))
                elif not (initial and step >= 0):  # resuming keeps the loaded lrs (#102261)
                    written = runtime.move(float(step), float(step + 1))
            except BaseException:
                self.last_epoch = step  # refused before anything was written
                raise
            if added:
                write_lrs(self.optimizer.param_groups, added, start=len(self.base_lrs))
            self._restored = None
        groups = self.optimizer.param_groups
        # what the groups hold: the lrs just written, when they went into every group (a
        # drop-in with one track schedules the lr)
        self._last_lr = (written[:] if written is not None and len(written) == len(groups)
                         else group_values(groups, "lr"))
        if self.verbose:
            for i, lr in enumerate(self._last_lr):
                print(f"Adjusting learning rate of group {i} to {as_float(lr):.4e}.")

    def _added_values(self, explicit: bool = False) -> list[Any]:
        """Upstream's lrs for the param groups added (``optimizer.add_param_group``) after this
        scheduler was built, at the step just taken: what PyTorch's class computes for them
        (its chainable ``get_lr`` moves them on from their own lr; a closed form, used at an
        explicit epoch, has none: they keep theirs). Upstream's class that cannot (its formula
        needs a base lr, a ``max_lr`` or a function per group) fails here too: that is refused,
        naming the group, and the step is undone."""
        groups = self.optimizer.param_groups
        known = len(self.base_lrs)
        if len(groups) <= known or _inherited_description(type(self)) is None:
            return []  # every group is known, or nothing is scheduled
        upstream = _upstream(type(self))
        if explicit and "_get_closed_form_lr" in vars(upstream):
            return []
        self._get_lr_called_within_step = True
        try:
            values = list(upstream.get_lr(self))
            if len(values) != len(groups):  # PyTorch's write then fails (a strict zip)
                raise ValueError(f"its get_lr() gives {len(values)} lrs for {len(groups)} groups")
        except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
            raise no_value_for_added(self, known, "base_lrs", "PyTorch", exc) from exc
        finally:
            self._get_lr_called_within_step = False
        return values[known:]

    def _update_from_get_lr(self, epoch: float | None) -> None:
        """A user's ``get_lr``: PyTorch's own update."""
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch  # type: ignore[assignment]
                own_closed_form = (type(self)._get_closed_form_lr
                                   is not LRScheduler._get_closed_form_lr)
                values = self._get_closed_form_lr() if own_closed_form else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        write_lrs(self.optimizer.param_groups, values)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """PyTorch's rule (the saved settings win), after checking that the saved step and base
        lrs are possible ones; the dict given is not changed. Loaded into a scheduler whose
        groups hold only what schedulers' constructions wrote (the optimizer's state loaded
        before it was built, or none at all), it writes the values of the loaded step:
        :mod:`cadence.compat.resume`."""
        if legacy.load(self, state_dict):  # a state of cadence 0.1.0, converted
            return
        check_torch_state(state_dict)
        fresh = resume.untouched(self)
        before = self.__dict__.copy()
        with retime.loading(self, state_dict):
            super().load_state_dict(dict(state_dict))  # a copy: upstream's pops entries from it
            if not self._custom:
                check_loaded(self, state_dict, before, self._loaded_values)
        if fresh:
            self._restore()

    def _restore(self) -> None:
        """Write the loaded step's values: its closed form (every hyperparameter it schedules)
        where the class has an exact one, computed from the loaded settings and bases; else (a
        user's ``get_lr``, a container that chains, a plateau) the lrs the state saved,
        ``_last_lr``. The bases become each group's ``initial_lr``."""
        groups = self.optimizer.param_groups
        exact = self._exact_values()
        if exact is not None:
            Binder(self.optimizer, self._tracks()).write(exact)
            written = bool(exact)
        else:
            self._restored = "_last_lr"  # named if the next step is refused
            written = resume.restore(groups, "lr", self.__dict__.get("_last_lr"))
        if written:
            for group, base in zip(groups, getattr(self, "base_lrs", ())):  # not a container's
                group["initial_lr"] = base.clone() if isinstance(base, torch.Tensor) else base
        self._built = resume.built(self)

    def _exact_values(self) -> dict[str, list[Any]] | None:
        """The values of the loaded step from the closed form (``{}`` before the first step),
        or None for a scheduler without an exact closed form of its own."""
        if self._custom or _inherited_description(type(self)) is None:
            return None
        return self._now().values(self._position()) if self.last_epoch >= 0 else {}

    def _loaded_values(self) -> list[Any]:
        """The values a loaded state gives now (see :func:`check_loaded`): the closed form at the
        loaded step, for a drop-in that has one."""
        if _inherited_description(type(self)) is None or self.last_epoch < 0:
            return []
        return self._get_closed_form_lr()

    # -- cadence's read API (cadence.compat.reading): the closed form at the current settings -
    @property
    def current_step(self) -> float:
        """The step whose values the groups hold (PyTorch's ``last_epoch``)."""
        return self.last_epoch

    def __getstate__(self) -> dict[str, Any]:
        return self.__dict__.copy()  # the runtime is made again from the settings


def group_claims(optimizer: Any, names: Sequence[str]) -> list[tuple[Any, str]]:
    """The places of hyperparameters ``names`` in every param group of ``optimizer``."""
    out = []
    for i, group in enumerate(optimizer.param_groups):
        for name in names:
            try:
                slot = resolve(name, group, i)
            except InvalidValue:  # a group without it (momentum on a plain SGD group)
                continue
            out.append((writers.group_place(optimizer, group, slot.key, slot.index),
                        f"param group {i}'s {name!r}"))
    return out


def _upstream(cls: type) -> Any:
    """PyTorch's class that a drop-in (or a user's subclass of one) stands for."""
    return next(k for k in cls.__mro__ if k.__module__ == TorchLRScheduler.__module__)


def _inherited_description(cls: type) -> Callable[..., list[Track]] | None:
    """The nearest ``describe`` up the class's bases (a user's subclass of a drop-in)."""
    for klass in cls.__mro__:
        found = klass.__dict__.get("describe")
        if found is not None:
            return found.__func__
    return None


def write_lrs(groups: Sequence[dict[str, Any]], values: Sequence[Any], start: int = 0) -> None:
    """PyTorch's write: a tensor lr is filled in place, a float one replaced; ``values`` are
    for the groups from ``start`` on."""
    if len(values) != len(groups) - start:
        raise InvalidValue(f"get_lr() returned {len(values)} lrs for {len(groups) - start} "
                           "param groups")
    for group, value in zip(groups[start:], values):
        if isinstance(group["lr"], torch.Tensor):
            with torch.no_grad():
                group["lr"].fill_(as_float(value))
        else:
            group["lr"] = value

