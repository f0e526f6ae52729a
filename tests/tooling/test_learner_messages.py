"""What the learner reads when something other than the maths goes wrong: one named sentence.

Each test writes a learner file into a copy of the course (a stub with an
accident, or a solution with an import problem) and runs the real command. The
maths mistakes of every module are in tests/mistakes/ (see test_mistakes.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kata import course
from kata.testing.messages import course_folder_of

pytestmark = pytest.mark.timeout(600)  # these run whole commands in a copy of the course


def test_untouched_stub_gives_the_not_done_line(course_copy):
    result = course_copy.kata("test", "1")
    assert "0/3 tasks done" in result.stdout
    assert "Next: task 1.1, surprisal() in exercises/module01_cross_entropy.py" in result.stdout
    assert "Stuck? make hint-1" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


ACCIDENTS = {
    "syntax error": (
        lambda s: s.replace('raise TODO("1.1")', 'return -np.log(q\n    raise TODO("1.1")', 1),
        "Python cannot read this file ('(' was never closed)",
    ),
    "missing function": (
        lambda s: s.replace("def entropy(", "def entropie(", 1),
        "has no entropy(): the tests need it",
    ),
    "returns None": (
        lambda s: s.replace('raise TODO("1.1")', 'nats = -np.log(q)', 1),
        "surprisal() returned None: is a `return` missing",
    ),
    "endless loop": (
        lambda s: s.replace('raise TODO("1.1")', "while True:\n        q = q + 0\n    raise TODO(\"1.1\")", 1),
        "stopped after 5 s. surprisal() was still running at exercises/module01_cross_entropy.py",
    ),
    "code written above the raise": (
        lambda s: s.replace('raise TODO("1.1")', 'nats = 0.0 * q\n    raise TODO("1.1")', 1),
        "you wrote code in surprisal() but it still reaches `raise TODO(\"1.1\")`",
    ),
    "an old import": (
        lambda s: s.replace("from kata.given.checks import", "from kata.validate import", 1),
        "imports kata.validate, which this version of the course moved to kata.given.checks",
    ),
    "a runaway allocation": (
        lambda s: s.replace('raise TODO("1.1")', "return np.ones(2**36)  # 512 GiB", 1),
        "the code asked for more memory than the tests allow at exercises/module01_cross_entropy.py line",
    ),
    "an import that fails inside an existing file": (
        lambda s: s.replace("import numpy as np\n", "import numpy as np\nimport no_such_package_here\n", 1),
        "could not be imported: No module named 'no_such_package_here'",
    ),
}


@pytest.mark.parametrize("accident", list(ACCIDENTS))
def test_accidents_get_one_clear_line(course_copy, accident):
    break_it, expected = ACCIDENTS[accident]
    stub = course_copy.exercise(1).read_text()
    broken = break_it(stub)
    assert broken != stub, "the stub changed: update this accident"
    course_copy.solve_with(1, broken)
    limit = ["-o", "timeout=5"] if accident == "endless loop" else []  # not 15 s: keep the test quick
    result = course_copy.kata("test", "1", *limit)
    assert expected in result.stdout, result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.count(expected) <= 2, "the same problem should be said once per view, not per test"
    assert "is missing (make reset" not in result.stdout or accident == "missing function"


def test_a_broken_earlier_module_blocks_the_next_one_in_one_line(course_copy):
    course_copy.solve_with(2, course_copy.reference_source(2))
    stub = course_copy.exercise(1).read_text()
    course_copy.solve_with(1, stub.replace('raise TODO("1.1")', 'return -np.log(q\n    raise TODO("1.1")', 1))
    result = course_copy.kata("test", "2")
    assert "blocked: exercises/module01_cross_entropy.py line" in result.stdout, result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_module_first_imported_inside_a_task_function_is_stood_in_too(course_copy):
    """3.1 imports module 1 only inside its body: module 1's wrong entropy must not fail 3.1."""
    module1 = course_copy.reference_source(1)
    wrong_entropy = module1.replace("    return terms.sum(axis=-1)\n", "    return -terms.sum(axis=-1)\n", 1)
    assert wrong_entropy != module1, "module 1's entropy changed: update this test"
    course_copy.solve_with(1, wrong_entropy)
    module3 = course_copy.reference_source(3)
    checking = module3.replace("    z = logits / temperature\n",
                               "    from .module01_cross_entropy import entropy  # first imported here\n"
                               "    if not np.isclose(entropy(np.array([0.5, 0.5])), np.log(2)):\n"
                               "        raise ValueError('entropy of a fair coin is not log 2')\n"
                               "    z = logits / temperature\n", 1)
    assert checking != module3, "module 3's softmax changed: update this test"
    course_copy.solve_with(3, checking)
    result = course_copy.kata("test", "3")
    assert "fair coin" not in result.stdout, result.stdout
    assert "✗ 3.1" not in result.stdout, result.stdout


def test_a_failure_shows_a_few_values_and_the_shape_not_the_array(course_copy):
    source = course_copy.reference_source(3)
    solved = source.replace("from kata.given.checks", "import numpy as _np\nfrom kata.given.checks", 1)
    course_copy.solve_with(3, solved)
    # a softmax that returns its input: arrays of up to hundreds of values reach the messages
    wrong = solved.replace("def softmax(logits, axis=-1, temperature=1.0):",
                           "def softmax(logits, axis=-1, temperature=1.0):\n    return _np.asarray(logits, dtype=float)\n"
                           "\n\ndef _unused_softmax(logits, axis=-1, temperature=1.0):", 1)
    course_copy.solve_with(3, wrong)
    result = course_copy.kata("test", "3")
    lines = [line for line in result.stdout.splitlines() if "softmax(" in line]
    assert lines, result.stdout
    assert all(len(line) < 600 for line in result.stdout.splitlines()), max(result.stdout.splitlines(), key=len)


def test_the_detailed_view_says_each_failure_once(course_copy):
    source = course_copy.reference_source(1)
    course_copy.solve_with(1, source.replace("return terms.sum(axis=-1)", "return terms.mean(axis=-1)", 1))
    result = course_copy.kata("test", "1")
    assert "you averaged over the classes" in result.stdout, result.stdout
    assert result.stdout.count("you averaged over the classes") == 1, result.stdout
    assert "now failing" not in result.stdout


def test_unknown_module_number_is_one_line(course_copy):
    result = course_copy.kata("test", "42")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("There is no module 42: the course has modules 1"), result.stderr


@pytest.mark.parametrize("words", [["test"], ["hint", "1", "2"], ["frobnicate"], []])
def test_a_malformed_command_gets_a_usage_line_not_a_traceback(course_copy, words):
    result = course_copy.kata(*words)
    assert result.returncode == 2
    assert "usage: python -m kata" in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_the_learner_frame_is_found_by_path_components_not_by_substring(tmp_path):
    assert course_folder_of(course.ROOT / "exercises" / "module01_cross_entropy.py") == "exercises"
    assert course_folder_of(course.ROOT / "reference" / "module03_softmax.py") == "reference"
    assert course_folder_of(course.ROOT / "kata" / "given" / "checks.py") is None
    numpy_file = Path(__import__("numpy").__file__)
    assert course_folder_of(numpy_file) is None
    assert course_folder_of(tmp_path / "ml-exercises" / "exercises" / "module01_cross_entropy.py") is None


def test_a_checkout_under_an_exercises_folder_still_blames_the_learners_line(course_copy_at):
    copy = course_copy_at("ml-exercises/kata")
    stub = copy.exercise(1).read_text()
    # an error raised inside given code (kata/given/checks.py), called from the learner's line
    copy.solve_with(1, stub.replace('raise TODO("1.1")', 'return check_base("two")', 1))
    result = copy.kata("test", "1")
    assert "at exercises/module01_cross_entropy.py line" in result.stdout and "in surprisal()" in result.stdout, \
        result.stdout


def test_module_8_and_the_plugin_do_without_posix_only_modules():
    program = ("import sys, signal; sys.modules['resource'] = None; del signal.SIGALRM; "
               "import kata.given.module08, kata.testing.plugin, kata.tools.compare, kata.tools.warm; "
               "print('imported')")
    env = {**os.environ, "PYTHONPATH": str(course.ROOT)}
    result = subprocess.run([sys.executable, "-c", program], cwd=course.ROOT, env=env, capture_output=True, text=True)
    assert "imported" in result.stdout, result.stderr


def test_only_the_kata_package_is_installed_so_no_lesson_is_found_from_another_folder(tmp_path):
    program = "import importlib.util as u; print([u.find_spec(n) is not None for n in ('kata', 'exercises', 'reference')])"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "[True, False, False]", result.stdout + result.stderr


def test_numbers_that_differ_past_the_sixth_digit_are_shown_with_enough_digits():
    from kata.testing.expect import expect_close

    expected = np.linspace(1.6094379124341003, 2.0, 12)
    got = expected.astype(np.float32).astype(float)  # a float32 step: equal to 6 digits, not to 1e-9
    with pytest.raises(BaseException) as failure:
        expect_close(got, expected, "train(...) losses", rtol=1e-9, mistakes=[(got, "that is float32 training")])
    message = str(failure.value)
    first = message.split("first difference at index 0: ", 1)[1].split(")", 1)[0]
    shown_got, shown_expected = first.split(" instead of ")
    assert shown_got != shown_expected, message


def test_a_failing_property_is_not_shrunk_for_long_enough_to_time_out(course_copy_at):
    """5.4 with the spatial axes reversed fails a slow property (each example runs torch twice): before the
    shrinking was capped it ran past the 15 s limit, and 5.5-5.11 were reported as not run."""
    copy = course_copy_at("kata", modules=(5,))
    source = copy.reference_source(5)
    reversed_axes = source.replace("    return x.movedim(1, -1).reshape(-1, x.shape[1])\n",
                                   "    return x.permute(0, *range(x.dim() - 1, 1, -1), 1).reshape(-1, x.shape[1])\n", 1)
    assert reversed_axes != source, "class_rows changed: update this test"
    copy.solve_with(5, reversed_axes)
    result = copy.kata("test", "5")
    assert "10/11 tasks done" in result.stdout, result.stdout
    assert "stopped after" not in result.stdout and "not run" not in result.stdout, result.stdout
