"""Schedules in tokens: a WSD lr whose warm-up, stable phase and decay are counted in tokens.

A tiny next-token model learns generated sequences of varying length (each one counts up by a
fixed stride, modulo the vocabulary). The Scheduler's clock counts tokens
(``cadence.Clock("tokens", total=...)``), so the schedule's lengths are written as fractions of
the run's tokens (``"0.1dur"``) and do not depend on how the tokens fall into batches. After each
``optimizer.step()`` the loop feeds the tokens that update learned from,
``sched.step(tokens=n)``, and the update that follows ``s`` tokens uses the lr at ``s``.

What to count:

- ``pad`` (the default): each batch is padded to its longest sequence, and the loop counts the
  real tokens only, ``attention_mask.sum()``. The run's length in tokens is then the data's
  token count times the epochs, known before training, whatever the shuffle;
- ``pack``: the sequences are concatenated and cut into rows of ``--row-length`` tokens, with
  no padding, so every position is a real token and the loop counts ``input_ids.numel()``.

Both layouts hold the same tokens (packing drops the tail that does not fill a row), so both
runs end their schedule at the end of their data.

Run: ``.venv/bin/python examples/token_clock.py --layout pack`` (``--help`` for the options; the
test suite runs it, tests/integrations/test_clock_recipes.py).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

import cadence

VOCAB, WIDTH, BASE_LR = 32, 32, 0.02
SHORTEST, LONGEST = 4, 24  # the generated sequences' lengths, in tokens
LAYOUTS = ("pad", "pack")


def sequences(count: int, seed: int = 0) -> list[torch.Tensor]:
    """``count`` sequences of ``SHORTEST`` to ``LONGEST`` tokens, each ``start + stride * i``
    modulo ``VOCAB`` (so the next token follows from the last two)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(count):
        length = int(torch.randint(SHORTEST, LONGEST + 1, (1,), generator=g))
        start, stride = torch.randint(0, VOCAB, (2,), generator=g).tolist()
        out.append((start + (stride % 5 + 1) * torch.arange(length)) % VOCAB)
    return out


def padded(batch: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """A batch padded to its longest sequence (pad id 0): ``input_ids``, ``attention_mask``
    (1 on real tokens) and ``labels`` (-100 on padding, which the loss ignores)."""
    input_ids = torch.nn.utils.rnn.pad_sequence(batch, batch_first=True)
    attention_mask = torch.nn.utils.rnn.pad_sequence([torch.ones_like(s) for s in batch],
                                                     batch_first=True)
    return {"input_ids": input_ids, "attention_mask": attention_mask,
            "labels": input_ids.masked_fill(attention_mask == 0, -100)}


def packed(data: list[torch.Tensor], row_length: int) -> list[torch.Tensor]:
    """The sequences concatenated and cut into rows of ``row_length`` tokens (the tail that
    does not fill a row is dropped)."""
    stream = torch.cat(data)
    rows = len(stream) // row_length
    return list(stream[: rows * row_length].view(rows, row_length))


def batches(data: list[torch.Tensor], layout: str, batch_size: int, row_length: int,
            epoch: int, seed: int = 0) -> list[dict[str, torch.Tensor]]:
    """One epoch's batches, shuffled by epoch: padded sequences, or packed rows (every token
    real, so the mask is all ones)."""
    items = data if layout == "pad" else packed(data, row_length)
    order = torch.randperm(len(items), generator=torch.Generator().manual_seed(seed + epoch))
    out = []
    for i in range(0, len(items), batch_size):
        chosen = [items[j] for j in order[i:i + batch_size].tolist()]
        out.append(padded(chosen))
    return out


def tokens_in(batch: dict[str, torch.Tensor]) -> int:
    """The tokens an update learns from: the real ones (padding excluded)."""
    return int(batch["attention_mask"].sum())


class TinyLM(torch.nn.Module):
    """Predicts each next token from the current and the previous one: two embeddings, a
    hidden layer, the logits. ``forward`` takes what a Trainer feeds a causal LM and returns
    its loss (the labels shifted by one, -100 ignored)."""

    def __init__(self) -> None:
        super().__init__()
        self.current = torch.nn.Embedding(VOCAB, WIDTH)
        self.previous = torch.nn.Embedding(VOCAB, WIDTH)
        self.head = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(WIDTH, VOCAB))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        before = F.pad(input_ids[:, :-1], (1, 0))
        logits = self.head(self.current(input_ids) + self.previous(before))
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = F.cross_entropy(logits[:, :-1].reshape(-1, VOCAB),
                                          labels[:, 1:].reshape(-1), ignore_index=-100)
        return out


def scheduler(optimizer: torch.optim.Optimizer, total: int) -> cadence.Scheduler:
    """WSD over ``total`` tokens: a linear warm-up over the first 10%, the peak, a linear decay
    to 0 over the last 20%; written with units and built from a config."""
    return cadence.build({"type": "scheduler",
                          "clock": {"unit": "tokens", "total": f"{total}tok"},
                          "lr": {"type": "wsd", "warmup_steps": "0.1dur",
                                 "decay_steps": "0.2dur", "total_steps": "1dur",
                                 "decay": "linear"}}, optimizer)


@dataclass(frozen=True)
class Update:
    """What one update used: the tokens consumed before it, its lr, its tokens, its loss."""

    update: int
    tokens_before: int
    lr: float
    tokens: int
    loss: float


def train(count: int = 256, layout: str = "pad", batch_size: int = 8, epochs: int = 2,
          row_length: int = 32, seed: int = 0) -> tuple[int, list[Update]]:
    """Train on ``count`` generated sequences; the run's planned tokens and each update."""
    if layout not in LAYOUTS:
        raise ValueError(f"'layout' must be one of {LAYOUTS} (got {layout!r})")
    data = sequences(count, seed)
    plan = [batches(data, layout, batch_size, row_length, e, seed) for e in range(epochs)]
    total = sum(tokens_in(b) for epoch in plan for b in epoch)  # known before training
    torch.manual_seed(seed)
    model = TinyLM()
    optimizer = torch.optim.AdamW(model.parameters(), lr=BASE_LR)
    sched = scheduler(optimizer, total)  # keep a reference: its hook does not
    out: list[Update] = []
    for epoch in plan:
        for batch in epoch:
            before, lr = int(sched.current_step), float(optimizer.param_groups[0]["lr"])
            loss = model(**batch)["loss"]
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            n = tokens_in(batch)
            sched.step(tokens=n)  # the clock moves by this update's tokens
            out.append(Update(len(out), before, lr, n, loss.item()))
    return total, out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layout", default="pad", choices=LAYOUTS,
                        help="pad each batch (count attention_mask.sum()) or pack the "
                        "sequences into full rows (default: %(default)s)")
    parser.add_argument("--sequences", type=int, default=256,
                        help="generated sequences (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=8,
                        help="sequences (or packed rows) per update (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=2, help="(default: %(default)s)")
    parser.add_argument("--row-length", type=int, default=32,
                        help="tokens in a packed row (default: %(default)s)")
    parser.add_argument("--every", type=int, default=8,
                        help="print every N-th update, and the last (default: %(default)s)")
    parser.add_argument("--record", help="write the run to this JSON file instead of printing")
    args = parser.parse_args(argv)
    total, updates = train(args.sequences, args.layout, args.batch_size, args.epochs,
                           args.row_length)
    if args.record:
        with open(args.record, "w") as out:
            json.dump({"total": total, "updates": [asdict(u) for u in updates]}, out)
        return
    print(f"WSD over {total} tokens ({args.layout}): warm-up to {0.1 * total:g}, "
          f"decay from {0.8 * total:g}")
    print(f"{'update':>6}  {'tokens':>8}  {'lr':>10}  {'loss':>7}")
    for u in updates:
        if u.update % args.every == 0 or u is updates[-1]:
            print(f"{u.update:>6}  {u.tokens_before:>8}  {u.lr:>10.6f}  {u.loss:>7.4f}")
    last = updates[-1]
    print(f"consumed {last.tokens_before + last.tokens} of {total} tokens "
          f"in {len(updates)} updates")


if __name__ == "__main__":
    main()
