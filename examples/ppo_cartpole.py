"""cadence in Stable-Baselines3: PPO on CartPole-v1 with a warm-up + cosine lr and a linearly
decaying clip range, both cadence schedules in environment timesteps.

SB3 calls ``learning_rate`` and ``clip_range`` with ``progress_remaining`` (1 at the start, 0
at the end of ``learn``); :func:`cadence.integrations.sb3.progress` turns a schedule in
timesteps into that callable, so each PPO update uses the schedule at ``num_timesteps``, the
timesteps collected so far. The run is on the CPU, a few thousand timesteps, a few seconds.

Run: ``.venv/bin/python examples/ppo_cartpole.py`` (``--help`` for the options; the test suite
runs it, tests/integrations/test_sb3.py).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback

from cadence.integrations.sb3 import progress
from cadence.schedules import Cosine, Linear, Warmup

TOTAL, N_STEPS, BATCH, EPOCHS = 4096, 512, 64, 2
BASE_LR, CLIP = 3e-4, 0.2


def lr_schedule(total: int, warmup: int) -> Warmup:
    """The lr as a factor of ``BASE_LR``, in timesteps: a linear warm-up over ``warmup``, then a
    cosine to 0 at ``total``."""
    return Warmup(Cosine(start=1.0, end=0.0, steps=total - warmup), steps=warmup)


def clip_schedule(total: int) -> Linear:
    """PPO's clip range, in timesteps: from ``CLIP`` down to 0 at ``total``."""
    return Linear(start=CLIP, end=0.0, steps=total)


@dataclass(frozen=True)
class Update:
    """What one PPO update used: read from the optimizer and from SB3's own log."""

    timesteps: int  # model.num_timesteps when the update ran
    lrs: list[float]  # every param group's lr in the optimizer, as SB3 set it
    logged_lr: float  # SB3's "train/learning_rate"
    clip_range: float  # SB3's "train/clip_range": the clip range the update used


class Record(BaseCallback):
    """Records each update (each call of PPO's ``train()``) once it has run: at the start of
    the next rollout, and at the end of training for the last one."""

    def __init__(self) -> None:
        super().__init__()
        self.updates: list[Update] = []
        self._done = -1

    def _record(self) -> None:
        n_updates = self.model._n_updates
        if n_updates == self._done:  # no update since the last record (the first rollout)
            return
        self._done = n_updates
        logged = self.model.logger.name_to_value
        self.updates.append(Update(
            timesteps=self.model.num_timesteps,
            lrs=[float(g["lr"]) for g in self.model.policy.optimizer.param_groups],
            logged_lr=float(logged["train/learning_rate"]),
            clip_range=float(logged["train/clip_range"])))

    def _on_training_start(self) -> None:
        self._done = self.model._n_updates

    def _on_rollout_start(self) -> None:
        self._record()

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        self._record()


def build(total_timesteps: int = TOTAL, warmup: int | None = None, n_steps: int = N_STEPS,
          seed: int = 0) -> PPO:
    """PPO on CartPole-v1 (one environment, on the CPU) with cadence's lr and clip range over
    ``total_timesteps``; ``warmup`` defaults to a quarter of them."""
    warmup = total_timesteps // 4 if warmup is None else warmup
    return PPO("MlpPolicy", "CartPole-v1", n_steps=n_steps, batch_size=BATCH, n_epochs=EPOCHS,
               learning_rate=progress(lr_schedule(total_timesteps, warmup),
                                      total_steps=total_timesteps, scale=BASE_LR),
               clip_range=progress(clip_schedule(total_timesteps), total_steps=total_timesteps),
               seed=seed, device="cpu", verbose=0)


def train(total_timesteps: int = TOTAL, warmup: int | None = None, n_steps: int = N_STEPS,
          seed: int = 0) -> tuple[PPO, list[Update]]:
    """Train for ``total_timesteps``; the model and what each of its updates used."""
    torch.set_num_threads(1)
    model = build(total_timesteps, warmup, n_steps, seed)
    record = Record()
    model.learn(total_timesteps=total_timesteps, callback=record)
    return model, record.updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--total-timesteps", type=int, default=TOTAL)
    parser.add_argument("--warmup", type=int, help="warm-up timesteps (default: a quarter)")
    parser.add_argument("--n-steps", type=int, default=N_STEPS, help="timesteps per rollout")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", help="save the trained model to this zip file")
    parser.add_argument("--record", help="write what each update used to this JSON file")
    args = parser.parse_args()
    model, updates = train(args.total_timesteps, args.warmup, args.n_steps, args.seed)
    if args.save:
        model.save(args.save)
    if args.record:
        with open(args.record, "w") as out:
            json.dump([asdict(u) for u in updates], out)
    else:
        for u in updates:
            print(f"timestep {u.timesteps:6d}: lr {u.lrs[0]:.3e}  clip_range {u.clip_range:.4f}")


if __name__ == "__main__":
    main()
