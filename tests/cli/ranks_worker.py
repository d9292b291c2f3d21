"""One rank of the lr-agreement check (run by test_experiment.py, not by pytest)."""

from __future__ import annotations

import json
import sys

import torch.distributed as dist

from cadence.cli.experiment import Ranks


def main(out: str) -> None:
    ranks = Ranks()
    result = {"same": None, "different": None}
    ranks.check_same([0.1, 0.05], "the lr")
    result["same"] = "ok"
    try:
        ranks.check_same([0.1 * (1 + ranks.rank)], "the lr")
        result["different"] = "not caught"
    except RuntimeError as exc:
        result["different"] = str(exc)
    with open(f"{out}/rank{ranks.rank}.json", "w") as f:
        json.dump(result, f)
    dist.barrier()
    ranks.close()


if __name__ == "__main__":
    main(sys.argv[1])
