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


SMALL_COURSE = (1, 2, 3)  # what most tooling tests need: whole-course commands stay quick


def make_course_copy(root: Path, modules=SMALL_COURSE) -> CourseCopy:
    """A copy of the course at ``root`` holding only ``modules``, with pristine stubs and this checkout's .venv."""
    kept = [m for m in course.modules() if m.number in modules]
    pristine = {m.name: stubs.make_stub(m.reference_path.read_text(encoding="utf-8")) for m in kept}
    root.mkdir(parents=True)
    pristine_copy(pristine, root)
    dropped = [m for m in course.modules() if m.number not in modules]
    for module in dropped:
        for folder, pattern in (("reference", f"{module.name}.py"), ("tests", f"test_{module.name}.py"),
                                ("tests/mistakes", f"{module.name}.toml"), ("kata/tools/hints", f"{module.name}.toml"),
                                ("plots_baseline", f"module{module.number:02d}_*.png")):
            for path in (root / folder).glob(pattern):
                path.unlink()
    (root / ".venv").symlink_to(course.ROOT / ".venv")
    return CourseCopy(root)


@pytest.fixture
def course_copy(tmp_path) -> CourseCopy:
    return make_course_copy(tmp_path / "kata")


@pytest.fixture
def course_copy_at(tmp_path):
    """course_copy_at("some/folders/kata", modules=(1, 2)): a course copy at that path under the test's folder."""
    return lambda relative, modules=SMALL_COURSE: make_course_copy(tmp_path / relative, modules)
