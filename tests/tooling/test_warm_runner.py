"""The warm test runner: same output as a plain run, edits seen, and it goes away when told."""

from __future__ import annotations

import re
import time

import pytest

pytestmark = pytest.mark.timeout(600)


def normalise(text: str) -> str:
    return re.sub(r"in [\d.]+s", "in Xs", text)


def test_warm_runs_match_plain_runs_and_see_edits(course_copy):
    warm = {"KATA_NO_SERVER": "0"}
    first = course_copy.kata("test", "1", env=warm)  # no server yet: runs plainly and starts one
    socket_path = course_copy.root / ".kata" / "warm.sock"
    try:
        deadline = time.monotonic() + 120
        while not socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert socket_path.exists(), (course_copy.root / ".kata" / "warm.log").read_text()
        served = course_copy.kata("test", "1", env=warm)
        assert normalise(served.stdout) == normalise(first.stdout)
        assert served.returncode == first.returncode == 1

        course_copy.solve_with(1, course_copy.reference_source(1))  # the learner saves a solution
        solved = course_copy.kata("test", "1", env=warm)
        assert solved.returncode == 0 and "3/3 tasks done" in solved.stdout, solved.stdout
        assert "preloaded" in (course_copy.root / ".kata" / "warm.log").read_text()
    finally:
        stopped = course_copy.kata("stop")
    assert "stopped the warm test runner" in stopped.stdout
    deadline = time.monotonic() + 10
    while socket_path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not socket_path.exists()
