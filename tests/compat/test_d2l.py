"""cadence.compat.d2l against the book's own classes (seed 004), written out here."""

from __future__ import annotations

import math

import pytest

from cadence.compat import d2l


class BookSquareRoot:
    def __init__(self, lr=0.1):
        self.lr = lr

    def __call__(self, num_update):
        return self.lr * pow(num_update + 1, -0.5)


class BookFactor:
    def __init__(self, factor=1, stop_factor_lr=1e-7, base_lr=0.1):
        self.factor, self.stop_factor_lr, self.base_lr = factor, stop_factor_lr, base_lr

    def __call__(self, num_update):
        self.base_lr = max(self.stop_factor_lr, self.base_lr * self.factor)
        return self.base_lr


class BookCosine:
    """The book's CosineScheduler, as printed (its warm-up branch reads self.base_lr before it
    exists)."""

    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0):
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.warmup_steps = warmup_steps
        self.warmup_begin_lr = warmup_begin_lr
        self.max_steps = self.max_update - self.warmup_steps

    def get_warmup_lr(self, epoch):
        increase = (self.base_lr - self.warmup_begin_lr) * float(epoch) / float(self.warmup_steps)
        return self.warmup_begin_lr + increase

    def __call__(self, epoch):
        if epoch < self.warmup_steps:
            return self.get_warmup_lr(epoch)
        if epoch <= self.max_update:
            self.base_lr = self.final_lr + (self.base_lr_orig - self.final_lr) * (
                1 + math.cos(math.pi * (epoch - self.warmup_steps) / self.max_steps)) / 2
        return self.base_lr


def test_square_root():
    book, ours = BookSquareRoot(lr=0.1), d2l.SquareRootScheduler(lr=0.1)
    assert [ours(t) for t in range(30)] == pytest.approx([book(t) for t in range(30)], rel=1e-15)


def test_factor_is_the_books_call_sequence():
    book, ours = BookFactor(factor=0.9, stop_factor_lr=1e-2, base_lr=2.0), d2l.FactorScheduler(
        factor=0.9, stop_factor_lr=1e-2, base_lr=2.0)
    assert [ours(t) for t in range(50)] == pytest.approx([book(t) for t in range(50)], rel=1e-12)
    assert ours(7) == ours(7)  # a function of the count: calling again changes nothing


def test_multi_factor_follows_the_chapters_rule():
    """eta_{t+1} = eta_t * alpha for t in s = {5, 10, 20}."""
    ours = d2l.MultiFactorScheduler(step=[5, 10, 20], factor=0.5, base_lr=0.5)
    lr, expected = 0.5, []
    for t in range(30):
        expected.append(lr)
        if t in (5, 10, 20):
            lr *= 0.5
    assert [ours(t) for t in range(30)] == expected


def test_cosine_without_warmup_matches_the_book():
    book = BookCosine(max_update=20, base_lr=0.3, final_lr=0.01)
    ours = d2l.CosineScheduler(max_update=20, base_lr=0.3, final_lr=0.01)
    assert [ours(t) for t in range(30)] == pytest.approx([book(t) for t in range(30)], rel=1e-12)


def test_cosine_with_warmup_works_where_the_book_crashes():
    with pytest.raises(AttributeError, match="base_lr"):
        BookCosine(max_update=20, warmup_steps=5, base_lr=0.3, final_lr=0.01)(0)
    ours = d2l.CosineScheduler(max_update=20, warmup_steps=5, base_lr=0.3, final_lr=0.01)
    warm = [0.3 * t / 5 for t in range(5)]
    cos = [0.01 + 0.29 * (1 + math.cos(math.pi * (t - 5) / 15)) / 2 for t in range(5, 21)]
    assert [ours(t) for t in range(30)] == pytest.approx(warm + cos + [0.01] * 9, rel=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"'warmup_steps' must be < 'max_update' \(20\) \(got 20\)"):
        d2l.CosineScheduler(max_update=20, warmup_steps=20)
    with pytest.raises(ValueError, match=r"'factor' must be a positive number \(got 0\)"):
        d2l.FactorScheduler(factor=0)
