"""The ranks of ``torch.distributed`` agreeing: the plateau metric averaged over them, and the
check that every rank's scheduler is at the same step.

Both are **collectives**: every rank of the default process group must call them, the same
number of times and in the same order (as every rank calls ``all_reduce``). Without
``torch.distributed``, or with one process, they exchange nothing.

How: each call is one exchange of a short string per rank (what it called, its step, its
metric) through the process group's store, the key-value store ``init_process_group`` set up
(a TCP store under torchrun), whatever the backend (gloo, NCCL). Each rank writes its key, then
waits at most ``timeout`` seconds for everyone's: a rank that has not called by then is named,
in a :class:`RankTimeout` raised on the ranks that did, instead of every rank blocking until the
process group's timeout (30 minutes by default). Exchange ``n`` of rank ``r`` is the key
``cadence/<generation>/<n>/<r>`` (``generation`` counts the process groups a process used on
the same store); a rank deletes its key of exchange ``n - 1`` once it has read everyone's key of
``n`` (all of them have read ``n - 1`` by then), so the store holds at most two exchanges' keys
per rank. Each exchange has one outcome for all ranks, set once and atomically
(``compare_set``) by the first rank to know it: ``done`` when everyone came, or abandoned when a
rank's wait ran out; a rank that comes after an abandonment raises :class:`RankTimeout` too,
rather than apply alone what the others gave up (their lrs would differ from then on). Every
rank computes the mean from the same values, correctly rounded (``math.fsum``), so it is
bit-identical on every rank.

Without a usable store (the MPI backend has none) or with ``timeout=None``, the values travel by
one ``all_gather`` of the backend instead: the same checks and the same mean, but a rank that
does not call blocks the others until the process group's timeout. Through the store each rank
reads every rank's key, so an exchange costs the store ``world size ** 2`` small reads: nothing
for tens of ranks once per epoch; with thousands, ``timeout=None`` scales better.

>>> mean_over_ranks(0.25, step=10)  # no process group: the value itself
0.25
"""

from __future__ import annotations

import json
import math
import warnings
import weakref
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch

from cadence.validation import check_optional, check_positive

DEFAULT_TIMEOUT = 60.0
"""Seconds a rank waits for the others at an exchange, unless told otherwise."""

KINDS = {"report": 0, "check": 1, "feed": 2}
CALLS = {"report": "report()", "check": "check_ranks()", "feed": "step(samples/tokens=...)"}


class RankTimeout(TimeoutError):
    """A rank did not join an exchange (``report()``, ``check_ranks()``) within the timeout."""


class RankMismatch(RuntimeError):
    """The ranks disagree: their schedulers are at different steps, or they called different
    collectives at the same point."""


@dataclass
class _Channel:
    """This process's exchanges on one store."""

    generation: int
    count: int = 0


_channels: weakref.WeakKeyDictionary[Any, _Channel | None] = weakref.WeakKeyDictionary()


def world() -> tuple[int, int] | None:
    """``(rank, world size)`` of the default process group, or None where there is nothing to
    exchange (no ``torch.distributed``, no process group, or one process)."""
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()):
        return None
    size = dist.get_world_size()
    return None if size == 1 else (dist.get_rank(), size)


def check_timeout(timeout: object) -> float | None:
    """``timeout``: seconds > 0, or None (wait as long as the process group does)."""
    return check_optional(check_positive, "timeout", timeout)


def mean_over_ranks(value: float, *, step: float | None = None,
                    timeout: float | None = DEFAULT_TIMEOUT, call: str = "report()",
                    hint: str = "") -> float:
    """``value`` averaged over the ranks of the default process group (``value`` itself
    without one), the same bits on every rank. A collective: every rank must call it.

    ``step`` (the caller's scheduler step) must be the same on every rank, else
    :class:`RankMismatch` names each rank's. A rank that has not called within ``timeout``
    seconds is named in a :class:`RankTimeout`. ``call`` names the caller in messages, and
    ``hint`` ends the one of a timeout.
    """
    ranks = world()
    if ranks is None:
        return value
    seen = _gather(ranks, "report", (value, None), step, timeout, call, hint)
    _check_steps(seen, call)
    return _mean([metric for _, _, metric, _ in seen])


def _mean(values: list[Any]) -> float:
    """The mean, correctly rounded where every value is finite."""
    if all(math.isfinite(v) for v in values):
        total = math.fsum(values)
    else:  # NaN and infinities propagate as in a sum (fsum refuses inf - inf)
        total = sum(values)
    return total / len(values)


def share(amount: int, metric: float | None = None, *, step: float,
          timeout: float | None = DEFAULT_TIMEOUT, call: str = "step(samples/tokens=...)",
          hint: str = "") -> tuple[int, float | None]:
    """``amount`` summed over the ranks and ``metric`` (if given) averaged, in one exchange:
    what a clock fed by the loop (samples, tokens) moves by, and the plateau's metric. A
    collective, as :func:`mean_over_ranks`; ``step`` (the clock's position) must agree.

    >>> share(512, 0.5, step=1024)  # no process group: the values themselves
    (512, 0.5)
    """
    ranks = world()
    if ranks is None:
        return amount, metric
    seen = _gather(ranks, "feed" if metric is None else "report", (metric, amount), step,
                   timeout, call, hint)
    _check_steps(seen, call)
    total = sum(int(a) for _, _, _, a in seen)
    return total, None if metric is None else _mean([m for _, _, m, _ in seen])


def check_steps(step: float, *, timeout: float | None = DEFAULT_TIMEOUT,
                call: str = "check_ranks()",
                hint: str = "check_ranks(timeout=...) waits longer.") -> None:
    """Check that every rank is at ``step``; :class:`RankMismatch` names the ranks and their
    steps where they are not. A collective: every rank must call it (nothing to do without
    a process group)."""
    ranks = world()
    if ranks is not None:
        _check_steps(_gather(ranks, "check", (None, None), step, timeout, call, hint), call)


Seen = list[tuple[str, Any, Any, Any]]  # every rank's (kind, step, metric, amount)


def _check_steps(seen: Seen, call: str) -> None:
    steps = [step for _, step, _, _ in seen]
    if len(set(steps)) > 1:
        by_step: dict[Any, list[int]] = {}
        for rank, step in enumerate(steps):
            by_step.setdefault(step, []).append(rank)
        where = "; ".join(f"{_ranks(ranks)} at step {step}" for step, ranks in by_step.items())
        raise RankMismatch(
            f"the ranks' schedulers are at different steps at {call}: {where}. A Scheduler "
            "counts its own rank's optimizer updates (count='updates') or step() calls "
            "(count='calls'), so these ranks' schedules, and their lrs, have diverged: every "
            "rank must make the same updates (the same number of batches, no update skipped "
            "on one rank only) and the same step() calls")


def _ranks(ranks: list[int]) -> str:
    return f"rank {ranks[0]}" if len(ranks) == 1 else "ranks " + ", ".join(map(str, ranks))


def _gather(ranks: tuple[int, int], kind: str, values: tuple[float | None, int | None],
            step: float | None, timeout: float | None, call: str, hint: str) -> Seen:
    """Every rank's ``(kind, step, metric, amount)``, in rank order."""
    wait = check_timeout(timeout)
    store = None if wait is None else _store()
    if store is None or wait is None:
        seen = _gather_collective(ranks, kind, values, step)
    else:
        seen = _gather_store(store, ranks, kind, values, step, wait, call, hint)
    kinds = [k for k, _, _, _ in seen]
    if len(set(kinds)) > 1:
        calls = "; ".join(f"rank {r} {CALLS[k]}" for r, k in enumerate(kinds))
        raise RankMismatch(f"the ranks called different collectives at the same point ({calls}): "
                           "every rank must call report()/step(metric) and check_ranks() "
                           "the same number of times, in the same order")
    return seen


def _store() -> Any:
    """The default process group's store, or None (with a warning, once) where it has none
    that works."""
    from torch.distributed import distributed_c10d

    try:
        store = distributed_c10d._get_default_store()
    except (AttributeError, RuntimeError, ValueError):
        return None
    if store in _channels:
        return store if _channels[store] is not None else None
    channel = None
    if type(store) is not torch.distributed.Store:  # the MPI backend's placeholder
        try:
            rank = torch.distributed.get_rank()
            channel = _Channel(generation=int(store.add(f"cadence/generation/{rank}", 1)))
        except RuntimeError:
            channel = None
    _channels[store] = channel
    if channel is None:
        warnings.warn("cadence: the default process group has no usable store, so the ranks "
                      "exchange metrics and steps by all_gather: a rank that does not call "
                      "report()/check_ranks() blocks the others until the process group's "
                      "timeout", RuntimeWarning, stacklevel=4)
        return None
    return store


def _gather_store(store: Any, ranks: tuple[int, int], kind: str,
                  values: tuple[float | None, int | None], step: float | None, timeout: float,
                  call: str, hint: str) -> Seen:
    rank, size = ranks
    channel = _channels[store]
    assert channel is not None
    channel.count += 1
    n = channel.count
    prefix = f"cadence/{channel.generation}/{n}/"
    keys = [f"{prefix}{r}" for r in range(size)]
    store.set(keys[rank], json.dumps([kind, step, *values]))
    missing: list[int] = []
    try:
        store.wait(keys, timedelta(seconds=timeout))
    except RuntimeError:  # torch.distributed.DistStoreError: someone is missing
        missing = [r for r, key in enumerate(keys) if not store.check([key])]
        if not missing:
            raise
    # one outcome for the exchange, on every rank: the first rank to decide it (everyone came,
    # or its wait ran out) decides for all, atomically, so a rank that comes late never
    # applies an exchange the others gave up on
    decided = store.compare_set(f"{prefix}outcome", "", "done" if not missing else
                                f"abandoned by {rank}")
    outcome = decided.decode() if isinstance(decided, bytes) else str(decided)
    if outcome != "done":
        what = {"report": "report metric", "check": "call check_ranks()",
                "feed": "feed its clock"}[kind]
        gave_up = outcome.removeprefix("abandoned by ")
        who = (f"{_ranks(missing)} did not {what} #{n} within {timeout:g} s" if missing else
               f"rank {gave_up} gave up waiting for exchange #{n} before everyone came, so it "
               "is abandoned on every rank and nothing of it is applied")
        raise RankTimeout(
            f"{who} (this rank, {rank}, called {call} at step {step}; #{n} counts the "
            f"exchanges between the ranks, reports and check_ranks() calls): {call} is a "
            "collective, every rank must call it, the same number of times and in the same "
            f"order. {hint}".rstrip()) from None
    seen = [json.loads(raw) for raw in store.multi_get(keys)]
    if n > 1:  # everyone has read exchange n - 1: its keys are not needed any more
        store.delete_key(f"cadence/{channel.generation}/{n - 1}/{rank}")
        if rank == 0:
            store.delete_key(f"cadence/{channel.generation}/{n - 1}/outcome")
    return [(k, s, m, a) for k, s, m, a in seen]


def _gather_collective(ranks: tuple[int, int], kind: str,
                       values: tuple[float | None, int | None], step: float | None) -> Seen:
    _, size = ranks
    dist = torch.distributed
    device = (torch.device("cuda", torch.cuda.current_device())
              if dist.get_backend() == "nccl" else None)
    metric, amount = values
    mine = torch.tensor([KINDS[kind], math.nan if step is None else float(step),
                         math.nan if metric is None else metric,
                         math.nan if amount is None else float(amount)],
                        dtype=torch.float64, device=device)
    everyone = [torch.empty_like(mine) for _ in range(size)]
    dist.all_gather(everyone, mine)
    names = {code: name for name, code in KINDS.items()}
    out: Seen = []
    for row in everyone:
        code, at, value, count = row.tolist()
        out.append((names.get(int(code), "report"),
                    None if math.isnan(at) else int(at) if at.is_integer() else at,
                    None if math.isnan(value) else value,
                    None if math.isnan(count) else int(count)))
    return out
