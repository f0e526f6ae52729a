"""The commands behind the Makefile: ``python -m kata <command> [N]``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kata import course

PYTEST_QUIET = ["-q", "--tb=no", "--no-header", "-rN"]
STATE_DIR = course.ROOT / ".kata"


def _target() -> str:
    return os.environ.get("KATA_TARGET", "exercises") or "exercises"


def _module(number: str) -> course.Module:
    try:
        return course.module(number)
    except course.UnknownModule as error:
        print(error, file=sys.stderr)
        raise SystemExit(2) from None


def _pytest(args: list[str]) -> int:
    """Run pytest: in the warm server when one is up (see kata/warm.py), else here."""
    from kata import warm

    code = warm.run(course.ROOT, [*args, "-W", "ignore::pytest.PytestAssertRewriteWarning"])
    if code is not None:
        return code
    import pytest

    return int(pytest.main(args))


def cmd_test(number: str, *extra: str) -> int:
    module = _module(number)
    return _pytest([str(module.test_path.relative_to(course.ROOT)), *PYTEST_QUIET, *extra])


def cmd_check_all(*extra: str) -> int:
    tests = [str(m.test_path.relative_to(course.ROOT)) for m in course.modules() if m.test_path.exists()]
    return _pytest([*tests, *PYTEST_QUIET, *extra])


def run_quietly(test_files: list[Path], target: str, json_path: Path, *extra: str, cwd: Path = course.ROOT) -> int:
    """Run tests in a child pytest, output hidden, results to ``json_path``."""
    env = {**os.environ, "KATA_TARGET": target}
    command = [sys.executable, "-m", "pytest", *map(str, test_files), *PYTEST_QUIET, "--kata-quiet",
               f"--kata-json={json_path}", *extra]
    return subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode


def cmd_hint(number: str) -> int:
    from kata import hints, learner, progress

    module = _module(number)
    statuses = progress.statuses(module, learner.module_results(module, _target()))
    unfinished = [s for s in statuses if not s.done]
    if not unfinished:
        print(f"Module {module.number} is done: every task passes. On to the next module (make check-all).")
        return 0
    task = unfinished[0].task
    tiers = hints.load(module).get(task.id, [])
    if not tiers:
        print(f"Task {task.id} has no hints yet. Its TODO says: {task.text}")
        return 0
    state_path = STATE_DIR / "hints-shown.json"
    shown = json.loads(state_path.read_text()) if state_path.exists() else {}
    tier = min(shown.get(task.id, 0), len(tiers) - 1)
    print(f"Task {task.id}, {task.function}() in {_target()}/{module.name}.py")
    print(f"  TODO: {task.text}")
    print(f"Hint {tier + 1} of {len(tiers)}: {tiers[tier]}")
    if tier + 1 < len(tiers):
        print(f"(make hint-{module.number} again for hint {tier + 2})")
    else:
        print("(that was the last hint; the reference solution is in reference/" f"{module.name}.py)")
    shown[task.id] = tier + 1
    STATE_DIR.mkdir(exist_ok=True)
    state_path.write_text(json.dumps(shown, indent=1))
    return 0


def cmd_run(number: str) -> int:
    import importlib

    module = _module(number)
    target = _target()
    lesson = importlib.import_module(f"{target}.{module.name}")
    from kata import TODO

    try:
        if hasattr(lesson, "report"):
            lesson.report()
        out_dir = course.ROOT / "figures" / target
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in sorted(vars(lesson)):
            if name.startswith("plot_") and callable(getattr(lesson, name)):
                figure = getattr(lesson, name)()
                path = out_dir / f"{module.name}_{name[5:]}.png"
                figure.savefig(path)
                print(f"saved {path.relative_to(course.ROOT)}")
    except TODO as error:
        from kata.report import todo_line

        print(todo_line(error))
        return 1
    return 0


def cmd_baselines(*numbers: str) -> int:
    selected = [_module(n) for n in numbers] if numbers else course.modules()
    env_target = os.environ.get("KATA_TARGET")
    os.environ["KATA_TARGET"] = "reference"
    try:
        tests = [str(m.test_path.relative_to(course.ROOT)) for m in selected]
        code = _pytest([*tests, "-q", "--no-header", "-m", "mpl_image_compare", "--kata-quiet",
                        "--mpl-generate-path=plots_baseline"])
    finally:
        if env_target is None:
            os.environ.pop("KATA_TARGET")
        else:
            os.environ["KATA_TARGET"] = env_target
    print(f"baselines written to plots_baseline/ from reference/ ({', '.join(m.name for m in selected)})")
    return code


def cmd_stubs(*numbers: str) -> int:
    """Maintainers: regenerate exercises/ from reference/, never over a learner's edits."""
    from kata import stubs
    from kata.verify import git_exercise

    selected = [_module(n) for n in numbers] if numbers else course.modules()
    refused = []
    for module in selected:
        stub = stubs.make_stub(module.reference_path.read_text(encoding="utf-8"), str(module.reference_path))
        path = module.exercise_path
        if path.exists():
            current = path.read_text(encoding="utf-8")
            if current == stub:
                continue
            state, committed = git_exercise(module)
            # Overwrite only what is provably not a learner's work: a new module's
            # untracked stub, or a tracked file with no uncommitted edits.
            if state == "no git" or (state == "tracked" and current != committed):
                refused.append(path.relative_to(course.ROOT))
                continue
        path.write_text(stub, encoding="utf-8")
        print(f"wrote {path.relative_to(course.ROOT)}")
    for path in refused:
        print(f"left {path} alone: it may hold your own work (make reset-module-N backs it up and restores the stub)")
    return 1 if refused else 0


def cmd_verify(*numbers: str) -> int:
    from kata import verify

    return verify.main([_module(n) for n in numbers] if numbers else course.modules())


def cmd_watch() -> int:
    from kata import learner

    max_runs = os.environ.get("KATA_WATCH_MAX_RUNS")
    return learner.watch(_target(), int(max_runs) if max_runs else None)


def cmd_reset(number: str) -> int:
    from kata import learner

    return learner.reset(_module(number), assume_yes=os.environ.get("YES", "") not in ("", "0"))


def cmd_compare(number: str) -> int:
    from kata import compare

    return compare.main(_module(number), _target())


def cmd_stop() -> int:
    from kata import warm

    print("stopped the warm test runner" if warm.stop(course.ROOT) else "no warm test runner was running")
    return 0


COMMANDS = {
    "stop": cmd_stop,
    "watch": cmd_watch,
    "reset": cmd_reset,
    "compare": cmd_compare,
    "test": cmd_test,
    "check-all": cmd_check_all,
    "hint": cmd_hint,
    "run": cmd_run,
    "baselines": cmd_baselines,
    "stubs": cmd_stubs,
    "verify": cmd_verify,
}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in COMMANDS:
        print(f"usage: python -m kata {{{'|'.join(COMMANDS)}}} [module number] (or use the Makefile)", file=sys.stderr)
        return 2
    return COMMANDS[args[0]](*args[1:])
