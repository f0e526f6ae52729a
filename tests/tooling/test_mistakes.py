"""Every catalogued learner mistake fails its own task's first test with its own sentence, and no other task.

The catalogues are tests/mistakes/moduleNN_<topic>.toml; kata/testing/mistakes.py
applies each mistake alone to the reference, in memory, in one pytest process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kata import course

pytestmark = pytest.mark.timeout(900)
MIN_PER_MODULE = 10


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    out = tmp_path_factory.mktemp("mistakes")
    tests = [str(m.test_path.relative_to(course.ROOT)) for m in course.modules() if m.mistakes_path.exists()]
    env = {k: v for k, v in os.environ.items() if k not in ("KATA_TARGET", "PYTHONDONTWRITEBYTECODE")}
    result = subprocess.run([sys.executable, "-m", "pytest", *tests, "-q", "--no-header", "-p", "kata.testing.mistakes",
                             f"--kata-mistakes={out / 'mistakes.json'}", f"--mpl-results-path={out / 'mpl'}"],
                            cwd=course.ROOT, env=env, capture_output=True, text=True, timeout=880)
    path = out / "mistakes.json"
    assert path.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(path.read_text())


@pytest.mark.parametrize("number", [m.number for m in course.modules()])
def test_each_module_lists_its_mistakes_and_the_tests_name_each_one(outcomes, number):
    module = course.module(number)
    mine = [o for o in outcomes if o["module"] == number]
    errors = [o["error"] for o in mine if "error" in o]
    assert not errors, errors
    assert len(mine) >= MIN_PER_MODULE, f"{module.mistakes_path.name} lists {len(mine)} mistakes, want >= {MIN_PER_MODULE}"
    unnamed = [f"{o['task']} {o['name']}: first message was {o['first_message']!r}" for o in mine if not o["named"]]
    assert not unnamed, "\n".join(unnamed)


@pytest.mark.parametrize("number", [m.number for m in course.modules()])
def test_a_mistake_in_one_task_fails_no_other_task(outcomes, number):
    mine = [o for o in outcomes if o["module"] == number and "error" not in o]
    checked = [o for o in mine if o["others_checked"]]
    assert checked, "no mistake of this module was checked against the other tasks"
    blamed = [f"{o['task']} {o['name']} failed {nodeid}: {message}"
              for o in checked for nodeid, message in o["others_failed"]]
    assert not blamed, "\n".join(blamed)
