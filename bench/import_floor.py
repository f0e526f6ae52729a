"""Benchmark: `make test-module-N TARGET=reference` against the import floor.

The floor is `python -c "import numpy, matplotlib.pyplot, pytest"` (plus torch
with --torch). Each round runs the floor, the module through the warm test
runner (what a learner gets from the second run on, see kata/tools/warm.py) and the
module cold (KATA_NO_SERVER=1, a fresh interpreter: the first run, and CI),
alternating so that machine noise hits all three alike. Reports medians and
ratios to the floor.

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
sys.path.insert(0, str(ROOT))

from kata.tools import warm  # noqa: E402  (after the path is set)

STARTED: list[bool] = []


def timed(command: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def ensure_warm_runner(env: dict) -> bool:
    """A warm runner for this checkout; True if one is serving. The benchmark stops the one it started."""
    socket_path, _, _ = warm.paths(ROOT)
    if not socket_path.exists():
        warm.start(ROOT)
        STARTED.append(True)
    deadline = time.monotonic() + 120
    while not socket_path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    return socket_path.exists()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("module", type=int)
    parser.add_argument("--torch", action="store_true", help="count `import torch` in the floor")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "KATA_NO_SERVER")}
    env["KATA_TARGET"] = "reference"
    floor_imports = "import numpy, matplotlib.pyplot, pytest" + (", torch" if args.torch else "")
    floor_cmd = [sys.executable, "-c", floor_imports]
    module_cmd = ["make", "--no-print-directory", f"test-module-{args.module}", "TARGET=reference"]
    cold_env = {**env, "KATA_NO_SERVER": "1"}
    warm_ok = ensure_warm_runner(env)
    for command, environment in ((floor_cmd, env), (module_cmd, env), (module_cmd, cold_env)):
        timed(command, environment)  # warm the file cache (and the bytecode caches)
    floors, warms, colds = [], [], []
    for _ in range(args.rounds):
        floors.append(timed(floor_cmd, env))
        warms.append(timed(module_cmd, env))
        colds.append(timed(module_cmd, cold_env))
    floor, hot, cold = (statistics.median(x) for x in (floors, warms, colds))
    print(f"floor ({floor_imports}): median {floor:.2f} s over {args.rounds} rounds")
    print(f"make test-module-{args.module} TARGET=reference, warm runner{'' if warm_ok else ' (NOT RUNNING)'}: "
          f"median {hot:.2f} s, ratio {hot / floor:.2f}x")
    print(f"make test-module-{args.module} TARGET=reference, cold (KATA_NO_SERVER=1): "
          f"median {cold:.2f} s, ratio {cold / floor:.2f}x")
    if STARTED:
        warm.stop(ROOT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
