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
    return copy.run("make", "--no-print-directory", "-o", ".venv/.installed", *args, **kwargs)


def test_hint_gives_the_next_tier_each_time(course_copy):
    first = make(course_copy, "hint-1").stdout
    second = make(course_copy, "hint-1").stdout
    assert "Task 1.1, surprisal()" in first and "Hint 1 of 3" in first and "make hint-1 again for hint 2" in first
    assert "Hint 2 of 3" in second
    (course_copy.root / ".kata" / "hints-shown.json").unlink()  # the state is safe to delete
    assert "Hint 1 of 3" in make(course_copy, "hint-1").stdout


def test_hint_follows_the_next_unfinished_task(course_copy):
    source = course_copy.reference_source(1)
    course_copy.solve_with(1, source.split("def entropy(")[0] + "def entropy(" +
                           course_copy.exercise(1).read_text().split("def entropy(", 1)[1])
    out = make(course_copy, "hint-1").stdout
    assert "Task 1.2, entropy()" in out, out


def test_reset_keeps_a_backup_and_restores_the_stub(course_copy):
    stub = course_copy.exercise(1).read_text()
    mine = stub.replace('raise TODO("1.1"', 'return 42  # my attempt\n    raise TODO("1.1"', 1)
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


def test_watch_reruns_the_module_after_a_save(course_copy):
    env = {**os.environ, "KATA_WATCH_MAX_RUNS": "2", "PYTHONUNBUFFERED": "1"}
    env.pop("KATA_TARGET", None)
    process = subprocess.Popen([sys.executable, "-m", "kata", "watch"], cwd=course_copy.root, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "[watch] waiting" in line:
            break
    assert any("0/3 tasks done" in line for line in lines), "".join(lines)
    time.sleep(0.5)  # let the watcher settle before saving

    # Save the way many editors do: write a temporary file, then rename it over the original.
    target = course_copy.exercise(1)
    solved = course_copy.reference_source(1)
    temporary = target.with_name(".module01_cross_entropy.py.swp")
    temporary.write_text(solved)
    saved_at = time.monotonic()
    os.replace(temporary, target)

    rerun_at = None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if rerun_at is None and line.startswith("[watch] module 1"):
            rerun_at = time.monotonic()
    process.wait(timeout=30)
    output = "".join(lines)
    assert rerun_at is not None, output
    assert "3/3 tasks done" in output, output
    print(f"save -> re-run's first line: {rerun_at - saved_at:.2f} s")


def test_compare_shows_outputs_and_figures_with_an_offline_report(course_copy):
    source = course_copy.reference_source(1)
    wrong = source.replace("    return (p * surprisal(np.clip(q, eps, 1.0), base)).sum(axis=-1)\n",
                           "    return -(p * surprisal(np.clip(q, eps, 1.0), base)).sum(axis=-1)\n")
    course_copy.solve_with(1, wrong)
    result = make(course_copy, "compare-module-1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^surprisal\s+match", result.stdout, re.M), result.stdout
    assert re.search(r"^cross_entropy\s+differ\s+\[1\., 0\.\], \[0\.9, 0\.1\] -> -0\.105361 \| 0\.105361", result.stdout, re.M), result.stdout
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
