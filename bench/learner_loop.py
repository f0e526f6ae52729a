"""Benchmark: the learner's side commands against the import floor, in one run.

The learner's state: modules 1-9 solved (the reference copied into exercises/),
later modules untouched, in a throw-away copy of the course, with the warm test
runner up (every test run after the first gets it). Measured, as medians:

- the floor, `python -c "import numpy, matplotlib.pyplot, pytest"`;
- `make test-module-N` for every N (warm);
- `make hint-N` right after that test run (its results are reused), and after a save
  that changed one task's function (only that task's tests run again);
- `make compare-module-N` against `make test-module-N`;
- `make watch` from its start to its first result, against one test run of the
  module it starts on.

Targets (COURSE.md): hint <= 1 floor; watch <= one test run + 3 floors;
compare <= test run + 3 floors.

    .venv/bin/python bench/learner_loop.py [--rounds 3] [--modules 1 2 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kata import course, stubs  # noqa: E402  (after the path is set)
from kata.tools import warm  # noqa: E402

SOLVED = range(1, 10)


def timed(command: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def median_of(rounds: int, command: list[str], cwd: Path, env: dict, before=None) -> float:
    times = []
    for _ in range(rounds):
        if before:
            before()
        times.append(timed(command, cwd, env))
    return statistics.median(times)


def save_one_task(path: Path, module: course.Module) -> None:
    """The learner saves the file with one task's function changed (a statement added at its top)."""
    import ast

    source = path.read_text(encoding="utf-8")
    function = module.tasks()[-1].function
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == function)
    lines = source.splitlines(keepends=True)
    first = node.body[0]
    first = node.body[1] if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant) \
        else first  # after the docstring
    indent = " " * first.col_offset
    lines.insert(first.lineno - 1, f"{indent}_saved = {time.time_ns()}\n")
    path.write_text("".join(lines), encoding="utf-8")


def make_copy(where: Path) -> Path:
    root = where / "kata"
    root.mkdir()
    for name in ("kata", "reference", "tests", "plots_baseline", "pyproject.toml", "Makefile"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__", "tooling"))
        else:
            shutil.copy2(source, root / name)
    (root / "exercises").mkdir()
    shutil.copy2(ROOT / "exercises" / "__init__.py", root / "exercises" / "__init__.py")
    for module in course.modules():
        text = module.reference_path.read_text(encoding="utf-8")
        target = root / "exercises" / f"{module.name}.py"
        target.write_text(text if module.number in SOLVED else stubs.make_stub(text), encoding="utf-8")
    (root / ".venv").symlink_to(ROOT / ".venv")
    return root


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modules", type=int, nargs="*", default=[m.number for m in course.modules()])
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "KATA_NO_SERVER",
                                                            "KATA_TARGET")}
    make = ["make", "--no-print-directory"]
    with tempfile.TemporaryDirectory(prefix="kata-bench-") as tmp:
        root = make_copy(Path(tmp))
        try:
            timed([*make, "test-module-1"], root, env)  # starts the warm runner
            socket_path, _, _ = warm.paths(root)
            deadline = time.monotonic() + 180
            while not socket_path.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            floor_cmd = [sys.executable, "-c", "import numpy, matplotlib.pyplot, pytest"]
            timed(floor_cmd, root, env)
            floor = median_of(max(args.rounds, 5), floor_cmd, root, env)
            print(f"nproc {os.cpu_count()}; warm runner {'up' if socket_path.exists() else 'NOT RUNNING'}")
            print(f"floor (import numpy, matplotlib.pyplot, pytest): {floor:.2f} s\n")
            print(f"{'module':>6} {'test':>7} {'hint':>7} {'x floor':>8} {'hint*':>7} {'x floor':>8} "
                  f"{'compare':>8} {'- test':>8} {'in floors':>9}")
            worst = {"hint": 0.0, "stale hint": 0.0, "compare": 0.0}
            for number in args.modules:
                module = course.module(number)
                exercise = root / "exercises" / f"{module.name}.py"
                test = median_of(args.rounds, [*make, f"test-module-{number}"], root, env)
                timed([*make, f"test-module-{number}"], root, env)  # fresh results for the hint
                hint = median_of(args.rounds, [*make, f"hint-{number}"], root, env)
                stale = median_of(args.rounds, [*make, f"hint-{number}"], root, env,
                                  before=lambda path=exercise, m=module: save_one_task(path, m))
                compare = median_of(args.rounds, [*make, f"compare-module-{number}"], root, env)
                extra = (compare - test) / floor
                worst = {"hint": max(worst["hint"], hint / floor), "stale hint": max(worst["stale hint"], stale / floor),
                         "compare": max(worst["compare"], extra)}
                print(f"{number:>6} {test:>6.2f}s {hint:>6.2f}s {hint / floor:>7.2f}x {stale:>6.2f}s "
                      f"{stale / floor:>7.2f}x {compare:>7.2f}s {compare - test:>+7.2f}s {extra:>8.2f}")
            watch_env = {**env, "KATA_WATCH_MAX_RUNS": "1"}
            first = course.modules()[SOLVED[-1]]  # the first unsolved module
            watch = median_of(args.rounds, [sys.executable, "-m", "kata", "watch"], root, watch_env)
            one_run = median_of(args.rounds, [*make, f"test-module-{first.number}"], root, env)
            print(f"\nwatch: first result after {watch:.2f} s (it starts on module {first.number}); one test run of "
                  f"that module {one_run:.2f} s; watch - run = {(watch - one_run) / floor:.2f} floors")
            print("\n* after a save that changed one task's function: only that task's tests run again.")
            print(f"worst: hint {worst['hint']:.2f}x floor (target <= 1), stale hint {worst['stale hint']:.2f}x, "
                  f"compare test run + {worst['compare']:.2f} floors (target <= 3), "
                  f"watch run + {(watch - one_run) / floor:.2f} floors (target <= 3)")
        finally:
            warm.stop(root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
