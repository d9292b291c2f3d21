"""Hypothesis strategies that build random schedules: every shape, random arguments, random
nesting through every combinator."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import cadence.schedules as S

value = st.floats(-10, 10, allow_nan=False).map(lambda x: round(x, 6))
positive = st.floats(1e-3, 10).map(lambda x: round(x, 6))
length = st.one_of(st.integers(1, 500), st.floats(0.5, 500).map(lambda x: round(x, 3)))
fraction = st.floats(0.01, 0.99).map(lambda x: round(x, 4))

anneals = st.builds(
    lambda cls, a, b, n: cls(start=a, end=b, steps=n),
    st.sampled_from([S.Linear, S.Cosine, S.OneMinusSqrt]), value, value, length,
)
leaves = st.one_of(
    st.builds(S.Constant, value),
    anneals,
    st.builds(lambda a, b, n, k: S.Polynomial(start=a, end=b, steps=n, power=k),
              value, value, length, positive),
    st.builds(lambda a, b, n: S.Geometric(start=a, end=b, steps=n), positive, positive, length),
    st.builds(lambda r, a, f: S.Exponential(rate=r, start=a, floor=f),
              st.floats(0.5, 1.0), value, st.none() | value),
    st.builds(lambda e, g, a: S.Step(every=e, gamma=g, start=a), length, fraction, value),
    st.builds(lambda m, g: S.MultiStep(milestones=sorted(m), gamma=g),
              st.lists(st.integers(0, 1000), max_size=5), positive),
    st.builds(lambda a, s: S.InverseSqrt(start=a, timescale=s), value, positive),
    st.builds(lambda d, w: S.Noam(d_model=d, warmup_steps=w), st.integers(1, 1024), length),
    st.builds(lambda p, m, d, lo, hi, c: S.CosineRestarts(period=p, period_mult=m, decay=d,
                                                         low=lo, high=hi, cycles=c),
              length, st.sampled_from([1, 1.5, 2, 3]), st.floats(0, 1), value, value,
              st.none() | st.integers(1, 5)),
    st.builds(lambda a, b, u, d, mode: S.Cyclic(start=a, peak=b, up_steps=u, down_steps=d,
                                                mode=mode, gamma=0.999),
              value, value, length, st.none() | length,
              st.sampled_from(["triangular", "triangular2", "exp_range"])),
    st.builds(lambda n, p, an, three: S.OneCycle(total_steps=n, pct_start=p, anneal=an,
                                                 three_phase=three),
              st.integers(100, 5000), st.floats(0.1, 0.45), st.sampled_from(["cos", "linear"]),
              st.booleans()),
    st.builds(lambda w, s, d, wu, de, e: S.WSD(warmup_steps=w, stable_steps=s, decay_steps=d,
                                               warmup=wu, decay=de, end=e),
              st.integers(0, 100), st.integers(0, 100), st.integers(1, 100),
              st.sampled_from(["linear", "cosine", "1-sqrt"]),
              st.sampled_from(["linear", "cosine", "1-sqrt"]), fraction),
)


def combine(children):
    pair = st.lists(children, min_size=1, max_size=3)
    return st.one_of(
        st.builds(lambda xs, gaps: S.join(xs, list(np.cumsum(gaps[: len(xs) - 1]))),
                  pair, st.lists(st.integers(1, 300), min_size=2, max_size=2)),
        st.builds(lambda xs: S.Product(tuple(xs)), pair),
        st.builds(S.Scale, children, value),
        st.builds(S.Shift, children, value),
        st.builds(lambda x, lo: S.Clip(x, low=lo, high=lo + 1), children, value),
        st.builds(S.Repeat, children, length),
        st.builds(S.Stretch, children, positive),
        st.builds(S.Reverse, children, length),
        st.builds(S.Offset, children, st.integers(0, 1000)),
        st.builds(S.Quantize, children, length),
        st.builds(lambda x, n, s, shape, mode: S.Warmup(x, steps=n, start=s, shape=shape,
                                                         mode=mode),
                  children, length, fraction, st.sampled_from(["linear", "cosine", "exponential"]),
                  st.sampled_from(["prefix", "overlay"])),
    )


schedules = st.recursive(leaves, combine, max_leaves=6)

# What a learning rate or a momentum may follow: the same schedules, never below 0 (the
# scheduler refuses a negative value for them).
non_negative_schedules = schedules.map(lambda s: S.Clip(s, low=0.0))
