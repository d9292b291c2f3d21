"""Laws that give the training loss as a function of the learning rates used so far, fitted by
:mod:`cadence.tools.forecast`. Each is a pure function of its parameters and of a run's lrs
(the lr of every update, normalised by a peak), evaluated at the updates where the loss was
measured, with its gradient in the parameters for the optimiser.

With ``eta_t`` the lr of update ``t`` and ``S1(s) = eta_0 + ... + eta_s`` the area under the
lrs up to ``s``:

- :data:`AREA` (the baseline): ``L(s) = L0 + A * S1(s)**-alpha``: the loss depends on the area
  only, so every schedule of the same area is predicted alike.
- :data:`ANNEALING` (Tissue et al. 2024, "Scaling Law with Learning Rate Annealing"):
  ``L(s) = L0 + A * S1(s)**-alpha - C * S2(s)``, where ``S2(s) = m_1 + ... + m_s`` and
  ``m_i = decay * m_{i-1} + (eta_{i-1} - eta_i)`` (``decay`` = 0.999): the annealing area.
- :data:`MULTI_POWER` (Luo et al. 2025, "A Multi-Power Law for Loss Curve Prediction Across
  Learning Rate Schedules"): ``L(s) = L0 + A * S1(s)**-alpha + B * LD(s)`` with the loss drop
  ``LD(s) = sum_{k=1..s} (eta_k - eta_{k-1}) * (1 - (1 + C * eta_k**-gamma * (S1(s) -
  S1(k-1)))**-beta)``, as the authors' code computes it.

>>> import numpy as np
>>> lrs = np.r_[np.full(50, 1.0), np.linspace(1.0, 0.1, 50)]
>>> run = prepare(lrs, np.array([10, 49, 99]))
>>> AREA.predict([2.0, 1.0, 0.5], run).round(4).tolist()
[2.3015, 2.1414, 2.1136]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Params = Sequence[float] | np.ndarray  # a law's parameters, in the order of its names
DECAY = 0.999  # the annealing law's momentum of lr drops (Tissue et al. use 0.999)
TINY = 1e-300


@dataclass(frozen=True)
class Prepared:
    """What every law reads from one run: the lrs, the measured updates, the area up to each
    measured update, the annealing area there, and the loss drop's terms (the updates where
    the lr changes, their change, lr and the area from each to each measured update).

    >>> run = prepare(np.array([1.0, 1.0, 0.5]), np.array([0, 2]))
    >>> run.s1.tolist(), run.s2.tolist(), run.change.tolist()
    ([1.0, 2.5], [0.0, 0.5], [-0.5])
    """

    lrs: np.ndarray
    steps: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    change: np.ndarray  # eta_k - eta_{k-1} at the updates k where it is not 0
    at_change: np.ndarray  # eta_k there
    areas: np.ndarray  # [measured update, k]: S1(s) - S1(k-1) for k <= s, else 0


def prepare(lrs: np.ndarray, steps: np.ndarray, decay: float = DECAY, *,
            rises: bool = True) -> Prepared:
    """The terms the laws read from a run whose update ``t`` used ``lrs[t]``, measured after
    the updates ``steps`` (indices into ``lrs``).

    A rise of the lr (a warm-up, a restart) counts as a negative drop, as the multi-power
    law's published code does; ``rises=False`` counts only the updates where the lr falls, as
    the papers' text writes the laws (after the warm-up, whose area is in ``S1``).

    >>> run = prepare(np.linspace(1.0, 0.5, 6), np.array([5]))
    >>> float(run.s1[0]), run.change.size
    (4.5, 5)
    """
    from scipy.signal import lfilter

    lrs = np.asarray(lrs, dtype=np.float64)
    steps = np.asarray(steps, dtype=np.int64)
    area = np.cumsum(lrs)
    drops = np.zeros_like(lrs)
    drops[1:] = lrs[:-1] - lrs[1:]
    if not rises:
        drops = np.maximum(drops, 0.0)
    momentum = lfilter([1.0], [1.0, -decay], drops)  # m_i = decay * m_{i-1} + drop_i
    s2 = np.cumsum(momentum)
    k = np.flatnonzero(drops)
    k = k[k >= 1]
    before = area[k - 1]
    areas = area[steps][:, None] - before[None, :]
    areas = np.where(k[None, :] <= steps[:, None], np.maximum(areas, 0.0), 0.0)
    return Prepared(lrs, steps, area[steps], s2[steps], -drops[k], lrs[k], areas)


@dataclass(frozen=True)
class Law:
    """A loss law: its parameter names, bounds, and its prediction with the gradient.

    >>> AREA.parameters, ANNEALING.parameters[-1], sorted(LAWS)
    (('L0', 'A', 'alpha'), 'C', ['annealing', 'area', 'multi-power'])
    """

    name: str
    parameters: tuple[str, ...]
    bounds: tuple[tuple[float | None, float | None], ...]
    formula: Callable[[Params, Prepared, bool], tuple[np.ndarray, np.ndarray | None]]

    def predict(self, params: Params, run: Prepared) -> np.ndarray:
        """The predicted loss at ``run``'s measured updates."""
        return self.formula(params, run, False)[0]

    def predict_with_gradient(self, params: Params, run: Prepared
                              ) -> tuple[np.ndarray, np.ndarray]:
        """The prediction and its gradient (one row per parameter)."""
        pred, grad = self.formula(params, run, True)
        assert grad is not None
        return pred, grad


def _power(A: float, alpha: float, s1: np.ndarray, rows: int, grad: bool
           ) -> tuple[np.ndarray, np.ndarray | None]:
    """``A * s1**-alpha``, and its gradient in (A, alpha) in rows 1 and 2 of ``rows``."""
    s1 = np.maximum(s1, TINY)
    term = s1 ** (-alpha)
    if not grad:
        return A * term, None
    out = np.zeros((rows, s1.size))
    out[0] = 1.0  # L0
    out[1] = term
    out[2] = -A * term * np.log(s1)
    return A * term, out


def _area(params: Params, run: Prepared, grad: bool
          ) -> tuple[np.ndarray, np.ndarray | None]:
    L0, A, alpha = params
    term, out = _power(A, alpha, run.s1, 3, grad)
    return L0 + term, out


def _annealing(params: Params, run: Prepared, grad: bool
               ) -> tuple[np.ndarray, np.ndarray | None]:
    L0, A, alpha, C = params
    term, out = _power(A, alpha, run.s1, 4, grad)
    if out is not None:
        out[3] = -run.s2
    return L0 + term - C * run.s2, out


def _multi_power(params: Params, run: Prepared, grad: bool
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    L0, A, alpha, B, C, beta, gamma = params
    term, out = _power(A, alpha, run.s1, 7, grad)
    if run.change.size == 0:
        if out is not None:
            out[3:] = 0.0
        return L0 + term, out
    log_lr = np.log(np.maximum(run.at_change, TINY))
    # eta_k ** -gamma, capped to stay finite where eta_k is 0 (or nearly): x is then huge where
    # some lr was used since update k (the whole drop) and 0 where none was (no drop yet)
    scale = np.exp(np.minimum(-gamma * log_lr, 600.0))
    x = C * run.areas * scale[None, :]
    y = 1.0 + x
    log_y = np.log(y)
    fall = np.exp(-beta * log_y)  # y ** -beta
    drop = (1.0 - fall) @ run.change
    if out is not None:
        common = beta * fall / y  # d(1 - y**-beta)/dy
        out[3] = drop
        out[4] = B * ((common * run.areas * scale[None, :]) @ run.change)
        out[5] = B * ((fall * log_y) @ run.change)
        out[6] = B * ((common * x * -log_lr[None, :]) @ run.change)
    return L0 + term + B * drop, out


AREA = Law("area", ("L0", "A", "alpha"), ((0.0, None), (0.0, None), (0.0, 5.0)), _area)
ANNEALING = Law("annealing", ("L0", "A", "alpha", "C"),
                ((0.0, None), (0.0, None), (0.0, 5.0), (None, None)), _annealing)
MULTI_POWER = Law("multi-power", ("L0", "A", "alpha", "B", "C", "beta", "gamma"),
                  ((0.0, None), (0.0, None), (0.0, 5.0), (0.0, None), (1e-8, None),
                   (1e-4, 10.0), (0.0, 5.0)), _multi_power)
LAWS = {law.name: law for law in (MULTI_POWER, ANNEALING, AREA)}

__all__ = ["ANNEALING", "AREA", "LAWS", "MULTI_POWER", "Law", "Prepared", "prepare"]
