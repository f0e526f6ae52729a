"""``make watch``: re-run the module of each file the learner saves in exercises/.

It starts on the current module, found without running every module: the first
whose last full run (still valid, see ``runner.cached_results``) has a failing
task, or else the first whose file still holds a ``raise TODO(``. After that,
each save re-runs the module of the file just saved.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

from kata import course
from kata.tools import progress, runner

CLEAR_SCREEN = "\033[2J\033[H"


def current_module(target: str) -> course.Module | None:
    """The first module with work left, judged from valid results and the files, without a test run."""
    for module in course.modules():
        cached = runner.cached_results(module, target)
        if cached is not None:
            if not all(s.done for s in progress.statuses(module, cached)):
                return module
            continue
        path = module.path_in(target)
        if not path.exists() or "raise TODO(" in path.read_text(encoding="utf-8"):
            return module
    return None


def module_of(path: str) -> course.Module | None:
    name = Path(path).name
    return next((m for m in course.modules() if m.exercise_path.name == name), None)


def _is_exercise_save(change, path: str) -> bool:
    name = Path(path).name
    return name.endswith(".py") and not name.startswith((".", "#")) and "__pycache__" not in path


def run_module(module: course.Module, target: str, clear: str) -> bool:
    """Run ``module``'s tests with the learner's view; True when every task is done."""
    print(f"{clear}[watch] module {module.number} ({target}/{module.name}.py), {datetime.datetime.now():%H:%M:%S}",
          flush=True)
    code, data = runner.run_tests([module.test_path], fresh_process=True)
    lines = progress.summary(data.get("tests", []), data.get("collect_errors", []), target)
    if lines:
        print("\n" + "\n".join(lines), flush=True)
    return code == 0


def watch(target: str, max_runs: int | None = None) -> int:
    manual = "make test-module-N after each save (N = the module you are working on)"
    try:
        import watchfiles
    except ImportError:
        print(f"Cannot watch files here (watchfiles is not installed). Run {manual}.")
        return 1
    clear = CLEAR_SCREEN if sys.stdout.isatty() else ""
    module = current_module(target)
    if module is None:
        print("Every module is done. Nothing left to watch: well played.")
        return 0
    runs = 0
    # One watcher for the whole session: a save made while the tests run is not lost.
    saves = watchfiles.watch(course.ROOT / target, watch_filter=_is_exercise_save, debounce=300, step=50,
                             raise_interrupt=False)
    try:
        while True:
            done = run_module(module, target, clear)
            runs += 1
            if max_runs is not None and runs >= max_runs:
                return 0
            if done:
                later = current_module(target)
                follow = f" Next: module {later.number} ({later.topic})." if later else ""
                print(f"[watch] module {module.number} is done.{follow}", flush=True)
            print(f"[watch] waiting for you to save a file in {target}/ (Ctrl-C stops)", flush=True)
            changes = next(saves, None)
            if changes is None:  # interrupted
                return 0
            modules = [m for m in (module_of(path) for _, path in changes) if m is not None]
            module = modules[0] if modules else module
    except KeyboardInterrupt:
        return 0
    except OSError as error:  # e.g. the system's limit on watched files
        print(f"Cannot watch files here ({error}). Run {manual}.")
        return 1
