"""Benchmark: `make test-module-N TARGET=reference` against the import floor.

The floor is `python -c "import numpy, matplotlib.pyplot, pytest"` (plus
torch with --torch). Runs alternate (floor, module, floor, module, ...) so that
machine noise hits both alike; reports the medians and their ratio.

    .venv/bin/python bench/import_floor.py 1            # module 1, 5 rounds
    .venv/bin/python bench/import_floor.py 5 --torch    # count torch in the floor
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("module", type=int)
    parser.add_argument("--torch", action="store_true", help="count `import torch` in the floor")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "KATA_TARGET": "reference"}
    floor_imports = "import numpy, matplotlib.pyplot, pytest" + (", torch" if args.torch else "")
    floor_cmd = [sys.executable, "-c", floor_imports]
    module_cmd = ["make", "--no-print-directory", f"test-module-{args.module}", "TARGET=reference"]
    timed(floor_cmd, env), timed(module_cmd, env)  # warm the file cache
    floors, runs = [], []
    for _ in range(args.rounds):
        floors.append(timed(floor_cmd, env))
        runs.append(timed(module_cmd, env))
    floor, run = statistics.median(floors), statistics.median(runs)
    print(f"floor ({floor_imports}): median {floor:.2f} s   "
          f"make test-module-{args.module} TARGET=reference: median {run:.2f} s   ratio {run / floor:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
