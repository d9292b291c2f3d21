"""The built-in task: scikit-learn's 8x8 digits and a small LeNet-style CNN (seed 004's
experiment, on data that ships with scikit-learn: nothing is downloaded)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


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
