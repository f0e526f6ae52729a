"""Running the tests for a command, and reading back what happened.

Every command that needs test results goes through ``run_tests``: the warm
runner when one is up (``kata/tools/warm.py``), else pytest in this process (a
one-shot command) or in a fresh one (a long-lived command such as watch, which
must see the learner's edits). The plugin writes each test's outcome to a JSON
file, and ``cached_results`` hands back a module's last full run while none of
the files it depends on has changed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from kata import course

QUIET = ["-q", "--tb=no", "--no-header", "-rN"]


def target() -> str:
    return os.environ.get("KATA_TARGET", "exercises") or "exercises"


def run_tests(test_files: list[Path], extra: list[str] = (), *, fresh_process: bool = False,
              output: bool = True) -> tuple[int, dict]:
    """(pytest's exit code, the results the plugin wrote) for ``test_files``."""
    from kata.tools import warm

    course.ROOT.joinpath(".kata").mkdir(exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="run-", suffix=".json", dir=course.ROOT / ".kata")
    os.close(handle)
    json_path = Path(name)
    places = [f if isinstance(f, str) else str(Path(f).relative_to(course.ROOT)) for f in test_files]  # files or ids
    args = [*places, *QUIET, f"--kata-json={json_path}", *extra]
    try:
        code = warm.run(course.ROOT, [*args, "-W", "ignore::pytest.PytestAssertRewriteWarning"],
                        quiet=not output)
        if code is None and fresh_process:
            sink = None if output else subprocess.DEVNULL
            code = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=course.ROOT,
                                  stdout=sink, stderr=sink, check=False).returncode
        elif code is None:
            import pytest

            if output:
                code = int(pytest.main(args))
            else:
                with open(os.devnull, "w") as devnull:
                    saved = os.dup(1), os.dup(2)
                    os.dup2(devnull.fileno(), 1), os.dup2(devnull.fileno(), 2)
                    try:
                        code = int(pytest.main(args))
                    finally:
                        os.dup2(saved[0], 1), os.dup2(saved[1], 2)
                        os.close(saved[0]), os.close(saved[1])
        try:
            data = json.loads(json_path.read_text())
        except (OSError, ValueError):
            data = {"tests": [], "collect_errors": []}
        return code, data
    finally:
        json_path.unlink(missing_ok=True)


def cached_results(module: course.Module, target_name: str | None = None) -> list[dict] | None:
    """The results of ``module``'s last full run on ``target``, if nothing they depend on changed since."""
    target_name = target_name or target()
    data = course.load_results(module, target_name)
    if data is None or data.get("fingerprint") != course.fingerprint(module, target_name):
        return None
    return data.get("tests")


def incremental_results(module: course.Module, target_name: str | None = None) -> list[dict] | None:
    """The last full run, brought up to date by re-running only the tasks whose functions changed since.

    One test grades one task, with the course's versions of the other tasks'
    functions, so a test's result depends on the course's files, on what the
    learner's file holds outside the task functions, and on its own task's
    function. When only task functions changed, the other tasks' results stand.
    None when something else changed (or there is no earlier run).
    """
    target_name = target_name or target()
    data = course.load_results(module, target_name)
    if data is None:
        return None
    if data.get("fingerprint") == course.fingerprint(module, target_name):
        return data.get("tests")
    then, now = data.get("parts") or {}, {"course": course.fingerprint(module, target_name, own_file=False),
                                           "own": course.task_digests(module, target_name)}
    if not then.get("own") or not now["own"] or then.get("course") != now["course"] \
            or then["own"]["rest"] != now["own"]["rest"]:
        return None
    changed = {t for t in set(then["own"]["tasks"]) | set(now["own"]["tasks"])
               if then["own"]["tasks"].get(t) != now["own"]["tasks"].get(t)}
    tests = data.get("tests", [])
    rerun = [r["nodeid"] for r in tests if r["task"] in changed]
    fresh: dict[str, dict] = {}
    if rerun:
        _, run = run_tests(rerun, output=False)
        fresh = {r["nodeid"]: r for r in run.get("tests", [])}
        if set(fresh) != set(rerun) or any(r["outcome"] == "not run" for r in fresh.values()):
            return None
    merged = [fresh.get(r["nodeid"], r) for r in tests]
    course.save_results(module, target_name, {"fingerprint": course.fingerprint(module, target_name), "parts": now,
                                              "tests": merged})
    return merged


def module_results(module: course.Module, *, until_first_failure: bool = False,
                   fresh_process: bool = False) -> list[dict]:
    """``module``'s results: the last full run, kept up to date task by task where it can be, else a quiet run now.

    With ``until_first_failure`` a fresh run stops at the first failing test: tests
    run in task order, so that is the first unfinished task (enough for a hint).
    """
    known = incremental_results(module)
    if known is not None:
        return known
    _, data = run_tests([module.test_path], ["-x"] if until_first_failure else [], output=False,
                        fresh_process=fresh_process)
    return data.get("tests", [])
