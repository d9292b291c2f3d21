"""Seed 000's LRScheduler, as the seed wrote it (comments translated, plot and printing left
out): the reference cadence.LRScheduler is checked against."""

from __future__ import annotations

import math


class SeedLRScheduler:
    def __init__(self, optimizer, warmup_steps=100, warmup_scale_min=0.05, warmup_type="linear",
                 T_0=200, T_mult=2, eta_scal_min=0.2, eta_scal_max=2.0, gamma=0.97,
                 base_batch_size=64, batch_size_mode="sqrt", custom_lambda=None):
        self.optimizer = optimizer
        self.base_lrs = [group["lr"] for group in self.optimizer.param_groups]
        self.warmup_steps = warmup_steps
        self.warmup_scale_min = warmup_scale_min
        self.warmup_type = warmup_type
        self.T_0 = T_0
        self.T_mult = T_mult
        self.eta_min_lrs = [base_lr * eta_scal_min for base_lr in self.base_lrs]
        self.eta_max_lrs = [base_lr * eta_scal_max for base_lr in self.base_lrs]
        self.gamma = gamma
        self.base_batch_size = base_batch_size
        self.batch_size_mode = batch_size_mode
        self.custom_lambda = custom_lambda
        self.global_step = 0
        self.T_i = T_0
        self.T_cur = 0
        self.cycle = 0
        self.lr_scale = 1

    def step(self, batch_size=None):
        self.global_step += 1
        scale_batch = self.batch_size_step(batch_size)
        scale_warmup = self.warmup_step()
        scale_cosine = self.cosine_annealing_warm_restarts_step()
        scale_decay = self.exponential_decrease_step()
        scale_custom = self.custom_lambda_step()
        self.lr_scale = scale_batch * scale_warmup * scale_cosine * scale_decay * scale_custom
        for i, param_group in enumerate(self.optimizer.param_groups):
            lr_min, lr_max = self.eta_min_lrs[i], self.eta_max_lrs[i]
            param_group["lr"] = lr_min + (lr_max - lr_min) * self.lr_scale

    def warmup_step(self):
        if self.global_step <= self.warmup_steps:
            progress = self.global_step / self.warmup_steps
            if self.warmup_type == "cosine":
                return max(self.warmup_scale_min, 0.5 * (1 - math.cos(progress * math.pi)))
            return max(self.warmup_scale_min, progress)
        return 1.0

    def cosine_annealing_warm_restarts_step(self):
        if self.global_step <= self.warmup_steps:
            return 1.0
        self.T_cur += 1
        if self.T_cur >= self.T_i:
            self.T_cur = 0
            self.T_i = self.T_i * self.T_mult
            self.cycle += 1
        return 0.5 * (1 + math.cos(math.pi * self.T_cur / self.T_i))

    def exponential_decrease_step(self):
        if self.global_step <= self.warmup_steps:
            return 1.0
        return self.gamma**self.cycle

    def batch_size_step(self, batch_size=None):
        if batch_size is None:
            return 1
        batch_size = max(1, batch_size)
        scale_linear = batch_size / self.base_batch_size
        scale_sqrt = math.sqrt(batch_size / self.base_batch_size)
        scale_blend = 0.5 * scale_linear + 0.5 * scale_sqrt
        return {"linear": scale_linear, "sqrt": scale_sqrt}.get(self.batch_size_mode, scale_blend)

    def custom_lambda_step(self):
        return self.custom_lambda(self.global_step) if self.custom_lambda else 1.0
