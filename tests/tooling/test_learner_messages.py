"""What the learner reads: each common mistake and accident gets one named sentence.

Each test writes a learner file into a copy of the course (the reference with
one mistake put in, or a stub with an accident) and runs the real command.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(600)  # these run whole commands in a copy of the course

CE_LINE = "    return (p * surprisal(np.clip(q, eps, 1.0), base)).sum(axis=-1)\n"

MODULE_1_MISTAKES = {
    "dropped minus sign": (
        CE_LINE.replace("return (", "return -("),
        "a negative cross-entropy means the minus sign is missing",
    ),
    "mean over classes": (
        CE_LINE.replace(".sum(axis=-1)", ".mean(axis=-1)"),
        "you took the mean over the classes",
    ),
    "swapped arguments": (
        "    return (q * surprisal(np.clip(p, eps, 1.0), base)).sum(axis=-1)\n",
        "the arguments are swapped",
    ),
    "no clipping": (
        "    return (p * surprisal(q, base)).sum(axis=-1)\n",
        "log 0 = -inf: clip q to [eps, 1] before taking the log",
    ),
    "wrong axis": (
        CE_LINE.replace("axis=-1", "axis=0"),
        "you reduced over axis 0 (the batch)",
    ),
}


@pytest.mark.parametrize("mistake", list(MODULE_1_MISTAKES))
def test_module_1_mistakes_are_named(course_copy, mistake):
    wrong_line, diagnosis = MODULE_1_MISTAKES[mistake]
    source = course_copy.reference_source(1)
    assert CE_LINE in source, "the reference's cross_entropy line changed: update this test"
    course_copy.solve_with(1, source.replace(CE_LINE, wrong_line))
    result = course_copy.kata("test", "1")
    assert result.returncode != 0
    assert diagnosis in result.stdout, result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_untouched_stub_gives_the_not_done_line(course_copy):
    result = course_copy.kata("test", "1")
    assert "0/3 tasks done" in result.stdout
    assert "Next: task 1.1, surprisal() in exercises/module01_cross_entropy.py" in result.stdout
    assert "Stuck? make hint-1" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


ACCIDENTS = {
    "syntax error": (
        lambda s: s.replace('raise TODO("1.1"', 'return -np.log(q\n    raise TODO("1.1"', 1),
        "Python cannot read this file ('(' was never closed)",
    ),
    "missing function": (
        lambda s: s.replace("def entropy(", "def entropie(", 1),
        "has no entropy(): the tests need it",
    ),
    "returns None": (
        lambda s: s.replace('raise TODO("1.1"', 'nats = -np.log(q)\n    _ = ("1.1"', 1),
        "surprisal() returned None: is a `return` missing",
    ),
    "endless loop": (
        lambda s: s.replace('raise TODO("1.1"', "while True:\n        q = q + 0\n    raise TODO(\"1.1\"", 1),
        "stopped after 5 s. surprisal() was still running at exercises/module01_cross_entropy.py",
    ),
}


@pytest.mark.parametrize("accident", list(ACCIDENTS))
def test_accidents_get_one_clear_line(course_copy, accident):
    break_it, expected = ACCIDENTS[accident]
    stub = course_copy.exercise(1).read_text()
    course_copy.solve_with(1, break_it(stub))
    limit = ["-o", "timeout=5"] if accident == "endless loop" else []  # not 15 s: keep the test quick
    result = course_copy.kata("test", "1", *limit)
    assert expected in result.stdout, result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.count(expected) <= 2, "the same problem should be said once per view, not per test"


def test_unknown_module_number_is_one_line(course_copy):
    result = course_copy.kata("test", "42")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("There is no module 42: the course has modules 1"), result.stderr
