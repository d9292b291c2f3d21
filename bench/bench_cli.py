"""How long the ``cadence`` command takes, each command timed as a whole process.

A command that only reads schedules must not pay for importing torch (about 2 s), scikit-learn
or matplotlib it does not use: each one below runs as ``python -m cadence ...`` in a fresh
process (in a temporary folder, where ``plot`` writes its file), and the median wall time of
``--repeat`` runs is printed beside its target (issue "The first hour with cadence").

Run: ``.venv/bin/python bench/bench_cli.py [--repeat 5]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

# (arguments, target in seconds)
COMMANDS: list[tuple[list[str], float]] = [
    (["--help"], 0.5),
    (["presets"], 0.5),
    (["preview", "cosine"], 0.8),
    (["plot", "cosine", "-o", "x.png"], 2.0),
]


def run_once(args: list[str], folder: str) -> float:
    """Seconds one ``python -m cadence <args>`` takes, start to exit; a failure stops here."""
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cadence", *args], cwd=folder, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - began


def median_seconds(args: list[str], repeat: int, folder: str) -> float:
    """Median over ``repeat`` runs (after one untimed run that warms the file cache)."""
    run_once(args, folder)
    return statistics.median(run_once(args, folder) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (default 5)")
    options = parser.parse_args()
    if options.repeat < 1:
        parser.error(f"--repeat must be a positive int (got {options.repeat})")
    print(f"median of {options.repeat} runs, each a fresh process ({sys.executable} -m cadence)")
    print(f"{'command':<36} {'seconds':>8} {'target':>8}  verdict")
    with tempfile.TemporaryDirectory() as folder:
        for args, target in COMMANDS:
            seconds = median_seconds(args, options.repeat, folder)
            verdict = "ok" if seconds < target else "OVER"
            print(f"{'cadence ' + ' '.join(args):<36} {seconds:>8.3f} {'< ' + str(target):>8}"
                  f"  {verdict}")


if __name__ == "__main__":
    main()
