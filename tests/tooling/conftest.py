"""Fixtures for the tooling tests: a throw-away copy of the course to run commands in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kata import course, stubs
from kata.tools.verify import pristine_copy


class CourseCopy:
    """A copy of the course with pristine stubs, sharing this checkout's .venv."""

    def __init__(self, root: Path):
        self.root = root

    def exercise(self, number: int) -> Path:
        return self.root / "exercises" / f"{course.module(number).name}.py"

    def reference_source(self, number: int) -> str:
        return course.module(number).reference_path.read_text(encoding="utf-8")

    def solve_with(self, number: int, source: str) -> None:
        """Put ``source`` (a reference, perhaps with a mistake) where the learner's file is."""
        self.exercise(number).write_text(source, encoding="utf-8")

    def run(self, *args: str, timeout: float = 120, input: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
        environment = {k: v for k, v in os.environ.items() if k not in ("KATA_TARGET", "PYTHONDONTWRITEBYTECODE")}
        environment["KATA_NO_SERVER"] = "1"  # no warm server left behind by a test (test_warm starts its own)
        environment.update(env or {})
        return subprocess.run(args, cwd=self.root, env=environment, capture_output=True, text=True,
                              timeout=timeout, input=input)

    def kata(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return self.run(sys.executable, "-m", "kata", *args, **kwargs)


def make_course_copy(root: Path) -> CourseCopy:
    """A copy of the course at ``root``, with pristine stubs and this checkout's .venv."""
    modules = course.modules()
    pristine = {m.name: stubs.make_stub(m.reference_path.read_text(encoding="utf-8")) for m in modules}
    root.mkdir(parents=True)
    pristine_copy(pristine, root)
    (root / ".venv").symlink_to(course.ROOT / ".venv")
    return CourseCopy(root)


@pytest.fixture
def course_copy(tmp_path) -> CourseCopy:
    return make_course_copy(tmp_path / "kata")


@pytest.fixture
def course_copy_at(tmp_path):
    """course_copy_at("some/folders/kata"): a course copy at that path under the test's temporary folder."""
    return lambda relative: make_course_copy(tmp_path / relative)
