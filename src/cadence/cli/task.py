"""The built-in task: scikit-learn's 8x8 digits and a small LeNet-style CNN (the experiment of
Dive into Deep Learning's learning-rate chapter, on data that ships with scikit-learn: nothing
is downloaded)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

if TYPE_CHECKING:
    from cadence.tools.find_lr import LRFinderResult

BASE_LR, MOMENTUM, BATCH_SIZE = 0.02, 0.9, 64


@dataclass
class Digits:
    """Train and test tensors: images ``(N, 1, 8, 8)`` in [0, 1], labels ``(N,)``."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor


def load_digits(test_size: float = 0.25, seed: int = 0) -> Digits:
    """scikit-learn's digits (1797 images), split stratified by class with a fixed seed."""
    from sklearn.datasets import load_digits as sk_digits
    from sklearn.model_selection import train_test_split

    data = sk_digits()
    images = (data.images / 16.0).astype(np.float32)[:, None, :, :]
    labels = data.target.astype(np.int64)
    train_x, test_x, train_y, test_y = train_test_split(
        images, labels, test_size=test_size, stratify=labels, random_state=seed)
    return Digits(torch.from_numpy(train_x), torch.from_numpy(train_y),
                  torch.from_numpy(test_x), torch.from_numpy(test_y))


def lenet() -> nn.Module:
    """LeNet's layout for 8x8 inputs: two conv + pool stages, three linear layers."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 2 * 2, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def find_lr_on_task(*, start_lr: float, end_lr: float, num_iter: int, mode: str = "exp",
                    seed: int = 0) -> LRFinderResult:
    """The LR range test (:func:`cadence.tools.find_lr.find_lr`) on the built-in task: a fresh
    LeNet with SGD (lr 0.02, momentum 0.9) over the digits' training images, shuffled by
    ``seed`` into batches of 64, so the same seed gives the same curve."""
    from cadence.tools.find_lr import find_lr

    torch.manual_seed(seed)
    data = load_digits()
    model = lenet()
    optimizer = torch.optim.SGD(model.parameters(), lr=BASE_LR, momentum=MOMENTUM)
    order = torch.randperm(len(data.train_x), generator=torch.Generator().manual_seed(seed))
    batches = [(data.train_x[i], data.train_y[i]) for i in order.split(BATCH_SIZE)]
    return find_lr(model, optimizer, nn.CrossEntropyLoss(), batches, start_lr=start_lr,
                   end_lr=end_lr, num_iter=num_iter, mode=mode, seed=seed)
