"""How long the ``cadence`` command takes, each command timed as a whole process.

A command that only reads schedules must not pay for importing torch (about 2 s), scikit-learn
or matplotlib it does not use: each one below runs as ``python -m cadence ...`` in a fresh
process (in a temporary folder, where ``plot`` writes its file), and the median wall time of
``--repeat`` runs is printed beside its target (issue "The first hour with cadence").

Then a large config: ``cadence.read_config`` of a generated 7 MB YAML file (a join of 92,000
cosines), timed in this process with the strict loader on PyYAML's C parser (libyaml) and on
its pure-Python one, in CPU seconds (issue "A 7 MB YAML config takes 22 s to load").

Run: ``.venv/bin/python bench/bench_cli.py [--repeat 5] [--yaml-repeat 1]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def big_yaml(path: Path, pieces: int = 92_000) -> int:
    """Write a YAML config of about 7 MB: a join of ``pieces`` cosines; returns its size."""
    lines = ["type: join", "boundaries: [" + ", ".join(str(100 * (i + 1))
                                                     for i in range(pieces - 1)) + "]",
             "schedules:"]
    for i in range(pieces):
        lines += ["  - type: cosine", f"    start: {1.0 - i / (2 * pieces):.6f}",
                  "    end: 0.001", "    steps: 100"]
    text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


def yaml_seconds(path: Path, accelerated: bool, repeat: int) -> float:
    """Median CPU seconds of ``cadence.read_config(path)`` with the strict loader on the C
    parser (``accelerated``) or on the pure-Python one."""
    from cadence.config import io

    loader = io._strict_loader
    setattr(io, "_strict_loader", lambda: loader(accelerated))  # noqa: B010
    try:
        times = []
        for _ in range(repeat):
            began = time.process_time()
            io.read_config(path)
            times.append(time.process_time() - began)
    finally:
        io._strict_loader = loader
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (default 5)")
    parser.add_argument("--yaml-repeat", type=int, default=1,
                        help="loads of the 7 MB YAML per parser (default 1; 0 skips them)")
    options = parser.parse_args()
    if options.repeat < 1:
        parser.error(f"--repeat must be a positive int (got {options.repeat})")
    if options.yaml_repeat < 0:
        parser.error(f"--yaml-repeat must be an int >= 0 (got {options.yaml_repeat})")
    print(f"median of {options.repeat} runs, each a fresh process ({sys.executable} -m cadence)")
    print(f"{'command':<36} {'seconds':>8} {'target':>8}  verdict")
    with tempfile.TemporaryDirectory() as folder:
        for args, target in COMMANDS:
            seconds = median_seconds(args, options.repeat, folder)
            verdict = "ok" if seconds < target else "OVER"
            print(f"{'cadence ' + ' '.join(args):<36} {seconds:>8.3f} {'< ' + str(target):>8}"
                  f"  {verdict}")
        if options.yaml_repeat:
            import yaml

            path = Path(folder) / "big.yaml"
            size = big_yaml(path)
            print(f"\nread_config of a {size / 1e6:.1f} MB YAML config, CPU seconds (median of "
                  f"{options.yaml_repeat})")
            parsers = [(True, "libyaml (C) parser")] if yaml.__with_libyaml__ else []
            for accelerated, name in [*parsers, (False, "pure-Python parser")]:
                seconds = yaml_seconds(path, accelerated, options.yaml_repeat)
                print(f"{'strict loader, ' + name:<36} {seconds:>8.3f}")


if __name__ == "__main__":
    main()
