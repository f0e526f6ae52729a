"""The learner's commands, each run for real in a throw-away copy of the course."""

from __future__ import annotations

import hashlib
import os
import pty
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kata import course

pytestmark = pytest.mark.timeout(600)  # these run whole commands in a copy of the course


def make(copy, *args, **kwargs):
    # -o: never (re)install the shared .venv from inside a test
    return copy.run("make", "--no-print-directory", "-o", ".venv/.installed", "-o", ".venv/.installed-dev",
                    *args, **kwargs)


def test_hint_gives_the_next_tier_each_time(course_copy):
    first = make(course_copy, "hint-1").stdout
    second = make(course_copy, "hint-1").stdout
    assert "Task 1.1, surprisal()" in first and re.search(r"Hint 1 of \d", first), first
    assert "make hint-1 again for hint 2" in first
    assert re.search(r"Hint 2 of \d", second), second
    (course_copy.root / ".kata" / "hints-shown.json").unlink()  # the state is safe to delete
    assert re.search(r"Hint 1 of \d", make(course_copy, "hint-1").stdout)


def solve_up_to(copy, number: int, function: str) -> None:
    """Module ``number`` solved up to (not including) ``function``, whose stub and the rest stay as they are."""
    source = copy.reference_source(number)
    copy.solve_with(number, source.split(f"def {function}(")[0] + f"def {function}(" +
                    copy.exercise(number).read_text().split(f"def {function}(", 1)[1])


def test_hint_follows_the_next_unfinished_task(course_copy):
    solve_up_to(course_copy, 1, "entropy")
    out = make(course_copy, "hint-1").stdout
    assert "Task 1.2, entropy()" in out, out


def test_hint_answers_from_the_last_run_while_nothing_changed(course_copy):
    solve_up_to(course_copy, 1, "entropy")
    make(course_copy, "test-module-1")
    # a test run now would fail at once (pytest refuses the option): the answer must come from the last run
    refuse_runs = {"PYTEST_ADDOPTS": "--no-such-option"}
    out = make(course_copy, "hint-1", env=refuse_runs).stdout
    assert "Task 1.2, entropy()" in out, out
    course_copy.solve_with(1, course_copy.reference_source(1))  # a save makes the last run stale
    out = make(course_copy, "hint-1").stdout
    assert "Module 1 is done" in out, out


def test_what_you_found_is_kept_back_until_the_module_is_done(course_copy):
    formula = "-Σ_x p(x) log q(x)"
    assert formula not in course_copy.exercise(1).read_text(), "the lesson gives 1.3's formula away"
    solve_up_to(course_copy, 1, "entropy")
    assert formula not in make(course_copy, "test-module-1").stdout
    course_copy.solve_with(1, course_copy.reference_source(1))
    out = make(course_copy, "test-module-1").stdout
    assert "What you found:" in out and formula in out, out
    assert out.index("What you found:") < out.index("Module 1 is done"), out


def test_next_still_names_the_todos_line_once_its_raise_is_replaced(course_copy):
    solve_up_to(course_copy, 1, "entropy")
    written = course_copy.exercise(1).read_text().replace('raise TODO("1.2")', "return p.sum(axis=-1)", 1)
    course_copy.solve_with(1, written)
    todo_line = next(n for n, line in enumerate(written.splitlines(), start=1) if "# TODO 1.2:" in line)
    out = make(course_copy, "test-module-1").stdout
    assert f"Next: task 1.2, entropy() in exercises/module01_cross_entropy.py line {todo_line}" in out, out


SPY_ON_RUNS = """
import json
from kata import course
from kata.tools import runner
calls, real = [], runner.run_tests
def spy(places, *args, **kwargs):
    calls.append([str(p) for p in places])
    return real(places, *args, **kwargs)
runner.run_tests = spy
results = runner.module_results(course.module(1), until_first_failure=True)
print(json.dumps({"calls": calls, "unfinished": sorted({r["task"] for r in results if r["outcome"] != "passed"})}))
"""


def test_after_a_save_only_the_changed_tasks_tests_run_again(course_copy):
    import json

    course_copy.solve_with(1, course_copy.reference_source(1))
    make(course_copy, "test-module-1")  # a full run, kept
    saved = course_copy.reference_source(1).replace("return terms.sum(axis=-1)", "return terms.mean(axis=-1)", 1)
    course_copy.solve_with(1, saved + "\n# a comment changes nothing the tests depend on\n")
    kept = json.loads((course_copy.root / ".kata" / "results" / "exercises" / "module01_cross_entropy.json").read_text())
    tests_of_1_2 = sorted(r["nodeid"] for r in kept["tests"] if r["task"] == "1.2")
    seen = json.loads(course_copy.run(sys.executable, "-c", SPY_ON_RUNS).stdout.strip().splitlines()[-1])
    assert len(seen["calls"]) == 1 and sorted(seen["calls"][0]) == tests_of_1_2, seen
    assert seen["unfinished"] == ["1.2"], seen
    again = json.loads(course_copy.run(sys.executable, "-c", SPY_ON_RUNS).stdout.strip().splitlines()[-1])
    assert again["calls"] == [] and again["unfinished"] == ["1.2"], again  # brought up to date: nothing to run


def test_reset_keeps_a_backup_and_restores_the_stub(course_copy):
    stub = course_copy.exercise(1).read_text()
    mine = stub.replace('raise TODO("1.1")', 'return 42  # my attempt\n    raise TODO("1.1")', 1)
    course_copy.solve_with(1, mine)

    refused = make(course_copy, "reset-module-1")  # no terminal and no YES=1: it must not act
    assert refused.returncode != 0 and "YES=1" in refused.stdout
    assert course_copy.exercise(1).read_text() == mine

    done = make(course_copy, "reset-module-1", "YES=1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert course_copy.exercise(1).read_text() == stub
    backups = list((course_copy.root / "exercises").glob("module01_cross_entropy.py.*.bak"))
    assert len(backups) == 1 and backups[0].read_text() == mine

    shutil.copy(course.ROOT / ".gitignore", course_copy.root / ".gitignore")
    subprocess.run(["git", "init", "-q"], cwd=course_copy.root, check=True)
    ignored = subprocess.run(["git", "status", "--porcelain", "--ignored", "exercises"], cwd=course_copy.root,
                             capture_output=True, text=True).stdout
    assert f"!! exercises/{backups[0].name}" in ignored, ignored


def test_reset_asks_first_on_a_terminal(course_copy):
    stub = course_copy.exercise(1).read_text()
    course_copy.solve_with(1, stub + "\n# my notes\n")
    for answer, expected_file in (("n\n", stub + "\n# my notes\n"), ("y\n", stub)):
        controller, terminal = pty.openpty()
        process = subprocess.Popen([sys.executable, "-m", "kata", "reset", "1"], cwd=course_copy.root,
                                   stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env={k: v for k, v in os.environ.items() if k != "YES"})
        os.write(controller, answer.encode())
        output, _ = process.communicate(timeout=30)
        os.close(controller), os.close(terminal)
        assert course_copy.exercise(1).read_text() == expected_file, output


def read_until(process, lines: list[str], marker: str, deadline: float) -> bool:
    """Read ``process``'s output into ``lines`` until a line holds ``marker``; False at the deadline or its end."""
    import select

    pending = getattr(process, "_pending", b"")
    while True:
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            lines.append(line.decode(errors="replace") + "\n")
            if marker in lines[-1]:
                process._pending = pending
                return True
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([process.stdout], [], [], remaining)[0]:
            process._pending = pending
            return False
        chunk = os.read(process.stdout.fileno(), 65536)
        if not chunk:
            process._pending = pending
            return False
        pending += chunk


def test_watch_starts_on_the_current_module_and_reruns_the_module_of_each_save(course_copy):
    course_copy.solve_with(1, course_copy.reference_source(1))  # module 1 solved: watch starts on module 2
    env = {**os.environ, "KATA_WATCH_MAX_RUNS": "3", "PYTHONUNBUFFERED": "1", "KATA_NO_SERVER": "1"}
    env.pop("KATA_TARGET", None)
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "kata", "watch"], cwd=course_copy.root, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    deadline = time.monotonic() + 120
    try:
        assert read_until(process, lines, "[watch] waiting", deadline), "".join(lines)
        first_result = time.monotonic() - started
        assert lines[0].startswith("[watch] module 2"), "".join(lines)
        time.sleep(0.5)  # let the watcher settle before saving

        # Save module 1 the way many editors do: a temporary file renamed over the original.
        target = course_copy.exercise(1)
        temporary = target.with_name(".module01_cross_entropy.py.swp")
        temporary.write_text(course_copy.reference_source(1).replace("return terms.sum(axis=-1)",
                                                                     "return terms.mean(axis=-1)", 1))
        saved_at = time.monotonic()
        os.replace(temporary, target)
        assert read_until(process, lines, "[watch] module 1", deadline), "".join(lines)
        rerun_after = time.monotonic() - saved_at
        assert read_until(process, lines, "[watch] waiting", deadline), "".join(lines)
        assert "2/3 tasks done" in "".join(lines), "".join(lines)

        course_copy.solve_with(2, course_copy.reference_source(2))  # a save in module 2 runs module 2
        assert read_until(process, lines, "[watch] module 2", deadline), "".join(lines)
        process.wait(timeout=60)
    finally:
        process.kill()
    print(f"watch: first result after {first_result:.2f} s; save -> re-run's first line: {rerun_after:.2f} s")


def test_compare_shows_outputs_and_figures_with_an_offline_report(course_copy):
    source = course_copy.reference_source(1)
    ce_line = "    return (p * surprisal(np.clip(q, eps, 1.0), base)).sum(axis=-1)\n"
    assert ce_line in source, "the reference's cross_entropy line changed: update this test"
    course_copy.solve_with(1, source.replace(ce_line, ce_line.replace("return (", "return -(")))
    result = make(course_copy, "compare-module-1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^1\.1\s+surprisal\s+match", result.stdout, re.M), result.stdout
    assert re.search(r"^1\.3\s+cross_entropy\s+differ\s+\[1\.0, 0\.0\], \[0\.9, 0\.1\] -> -0\.105361 \| 0\.105361",
                     result.stdout, re.M), result.stdout
    assert "a negative cross-entropy means the minus sign is missing" in result.stdout  # the verdict explains itself
    assert "figure test_figure_binary_cross_entropy: diff" in result.stdout
    report = course_copy.root / ".kata" / "compare" / "module01_cross_entropy" / "report.html"
    assert f"Report (opens offline): {report.relative_to(course_copy.root)}" in result.stdout
    page = report.read_text()
    assert "<table>" in page and "differ" in page
    for source_attribute in re.findall(r"(?:src|href)='([^']+)'", page):
        assert not source_attribute.startswith(("http:", "https:", "//")), source_attribute
        assert (report.parent / source_attribute).exists(), source_attribute
    for name in ("baseline.png", "result.png", "result-failed-diff.png"):
        assert name in page
    summary = report.parent / "figures" / "fig_comparison_basic.html"
    assert summary.exists() and "http" not in re.sub(r"<!--.*?-->", "", summary.read_text(), flags=re.S).split("<body")[0]


@pytest.mark.parametrize("number", [3, 11])
def test_compare_works_on_modules_whose_tests_define_their_own_objects(course_copy_at, number):
    course_copy = course_copy_at("kata", modules=(number,))
    course_copy.solve_with(number, course_copy.reference_source(number))
    result = make(course_copy, f"compare-module-{number}", timeout=300)
    assert result.returncode == 0 and "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    counts = re.search(r"(\d+)/(\d+) calls match or pass their test", result.stdout)
    assert counts and counts.group(1) == counts.group(2) and int(counts.group(2)) > 0, result.stdout


def folder_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_no_command_but_reset_and_baselines_writes_into_exercises_or_baselines(course_copy):
    course_copy.solve_with(1, course_copy.exercise(1).read_text() + "\n# the learner's own words\n")
    before = {name: folder_hash(course_copy.root / name) for name in ("exercises", "plots_baseline")}
    env = {"KATA_WATCH_MAX_RUNS": "1"}
    commands = [("test-module-1",), ("test-module-1", "TARGET=reference"), ("check-all",), ("hint-1",),
                ("run-module-1",), ("run-module-1", "TARGET=reference"), ("compare-module-1",), ("watch",),
                ("verify-module-1",), ("stubs",), ("help",)]
    for command in commands:
        make(course_copy, *command, env=env, timeout=300)
        after = {name: folder_hash(course_copy.root / name) for name in before}
        assert after == before, f"make {' '.join(command)} changed {[n for n in before if after[n] != before[n]]}"


def test_run_names_the_file_of_an_earlier_modules_todo(course_copy):
    course_copy.solve_with(2, course_copy.reference_source(2))  # module 2 done, module 1 untouched
    out = make(course_copy, "run-module-2").stdout
    assert "not done: TODO 1." in out and "exercises/module01_cross_entropy.py line" in out, out
    assert "module02_divergences.py line" not in out, out
