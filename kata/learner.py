"""The learner's loop around the tests: where am I, watch, reset.

``current_module`` finds the first unfinished module by running the modules'
tests in order (progress always comes from test results). ``watch`` re-runs it
on every save in exercises/; ``reset`` restores a stub after a backup.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kata import course, progress, stubs

CLEAR_SCREEN = "\033[2J\033[H"


def module_results(module: course.Module, target: str) -> list[dict]:
    """Run ``module``'s tests quietly and return each test's result."""
    from kata.cli import run_quietly

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "results.json"
        run_quietly([module.test_path], target, path)
        return json.loads(path.read_text())["tests"] if path.exists() else []


def is_done(module: course.Module, target: str) -> bool:
    results = module_results(module, target)
    return all(status.done for status in progress.statuses(module, results))


def current_module(target: str, start: int = 1) -> course.Module | None:
    """The first module from ``start`` on whose tasks are not all done."""
    for module in course.modules():
        if module.number >= start and not is_done(module, target):
            return module
    return None


def _is_exercise_save(change, path: str) -> bool:
    name = Path(path).name
    return name.endswith(".py") and not name.startswith((".", "#")) and "__pycache__" not in path


def run_module_tests(module: course.Module) -> int:
    """The learner's view of one module (a fresh interpreter, so edits are seen)."""
    return subprocess.run([sys.executable, "-m", "kata", "test", str(module.number)], cwd=course.ROOT).returncode


def watch(target: str, max_runs: int | None = None) -> int:
    """Re-run the current module whenever a .py file in exercises/ is saved."""
    manual = "make test-module-N after each save (N = the module you are working on)"
    try:
        import watchfiles
    except ImportError:
        print(f"Cannot watch files here (watchfiles is not installed). Run {manual}.")
        return 1
    clear = CLEAR_SCREEN if sys.stdout.isatty() else ""
    print("Finding the first unfinished module...", flush=True)
    module = current_module(target)
    runs = 0
    try:
        while True:
            if module is None:
                print("Every module is done. Nothing left to watch: well played.")
                return 0
            print(f"{clear}[watch] module {module.number} ({module.exercise_path.relative_to(course.ROOT)}), "
                  f"{datetime.datetime.now():%H:%M:%S}", flush=True)
            code = run_module_tests(module)
            runs += 1
            if max_runs is not None and runs >= max_runs:
                return 0
            if code == 0:
                print(f"[watch] module {module.number} is done. Moving on.", flush=True)
                module = current_module(target, module.number + 1)
                continue
            print("[watch] waiting for you to save a file in exercises/ (Ctrl-C stops)", flush=True)
            for _ in watchfiles.watch(course.ROOT / "exercises", watch_filter=_is_exercise_save,
                                      debounce=300, step=50, raise_interrupt=False):
                break
            else:  # interrupted
                return 0
    except KeyboardInterrupt:
        return 0
    except OSError as error:  # e.g. the system's limit on watched files
        print(f"Cannot watch files here ({error}). Run {manual}.")
        return 1


def backup_path(module: course.Module, now: datetime.datetime | None = None) -> Path:
    stamp = (now or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")
    return module.exercise_path.with_name(f"{module.exercise_path.name}.{stamp}.bak")


def reset(module: course.Module, assume_yes: bool) -> int:
    """Back the learner's file up, then restore the untouched stub."""
    path = module.exercise_path
    relative = path.relative_to(course.ROOT)
    stub = stubs.make_stub(module.reference_path.read_text(encoding="utf-8"))
    if path.exists() and path.read_text(encoding="utf-8") == stub:
        print(f"{relative} is already the untouched stub: nothing to reset.")
        return 0
    if not assume_yes:
        if not sys.stdin.isatty():
            print(f"make reset-module-{module.number} asks before it replaces your file; "
                  f"run `make reset-module-{module.number} YES=1` to skip the question.")
            return 1
        answer = input(f"Replace {relative} with the untouched stub? Your version is backed up first. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing changed.")
            return 1
    if path.exists():
        backup = backup_path(module)
        backup.write_bytes(path.read_bytes())
        print(f"Backed up your file to {backup.relative_to(course.ROOT)} (git ignores it).")
    path.write_text(stub, encoding="utf-8")
    print(f"Restored {relative} to the untouched stub.")
    return 0
