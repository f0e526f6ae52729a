"""Turn what went wrong in a test into one sentence for the learner.

The test run never shows a traceback for the usual accidents; it shows the
line this module writes. ``describe(excinfo, item)`` returns ``(kind, line)``:

- ``todo``     an unfinished stub (the TODO's words and the hint command)
- ``unreached`` code written in the function, which still ends in its ``raise TODO``
- ``blocked``  the test needs another task or module that cannot run yet
- ``check``    a test's check failed (its message names the call and the values)
- ``figure``   the figure differs from its baseline, or has none
- ``syntax``   the learner's file does not parse
- ``import``   the learner's file cannot be imported (nothing in it can run)
- ``missing``  a function the tests need is not in the file
- ``none``     a function returned None
- ``timeout``  a test ran past its time limit
- ``error``    any other exception, with the file and line where it happened
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

from kata import TODO, course, stubs
from kata.course import ROOT, hint_command

COURSE_FOLDERS = ("exercises", "reference")


class LearnerProblem(Exception):
    """A problem with the learner's file that deserves one plain sentence."""

    kind = "error"


class SyntaxProblem(LearnerProblem):
    kind = "syntax"


class ImportProblem(LearnerProblem):
    """The learner's file cannot be imported (a bad import in it, or an earlier module it imports)."""

    kind = "import"


class MissingFunction(LearnerProblem, AttributeError):
    """Also an AttributeError, so ``getattr(module, name, default)`` keeps working."""

    kind = "missing"


class ReturnedNone(LearnerProblem):
    kind = "none"


class TookTooLong(LearnerProblem):
    kind = "timeout"


def short_path(filename: str | Path) -> str:
    """The path relative to the course root (or from its last course folder)."""
    path = Path(filename)
    try:
        return str(path.resolve().relative_to(ROOT))
    except (ValueError, OSError):
        parts = path.parts
        for anchor in ("exercises", "reference", "tests", "kata"):
            if anchor in parts:
                return str(Path(*parts[len(parts) - 1 - parts[::-1].index(anchor):]))
        return str(path)


def course_folder_of(filename: str | Path) -> str | None:
    """'exercises' or 'reference' when ``filename`` is a lesson file of this course, else None.

    Decided by the path's components relative to the course root, so a checkout
    under ~/ml-exercises/ is not mistaken for the exercises folder.
    """
    try:
        relative = Path(filename).resolve().relative_to(ROOT)
    except (ValueError, OSError):
        return None
    return relative.parts[0] if len(relative.parts) == 2 and relative.parts[0] in COURSE_FOLDERS else None


def task_words(task_id: str) -> str:
    found = course.task(task_id)
    return found.text if found else ""


def todo_line(error: TODO) -> str:
    words = task_words(error.task) or (error.what or "")
    where = f"{short_path(error.filename)} line {error.lineno}"
    written = written_but_unreached(error)
    if written:
        return (f"not done: TODO {error.task} in {error.function}() ({where}): {written} "
                f"Stuck? {hint_command(error.module_number)}")
    return (f"not done: TODO {error.task} in {error.function}() ({where}): {words} "
            f"Stuck? {hint_command(error.module_number)}")


def blocked_line(error: TODO, task_under_test: str | None) -> str:
    return (f"blocked by task {error.task}: this test of task {task_under_test} needs {error.function}(), "
            f"which is not done yet ({short_path(error.filename)} line {error.lineno}). Do task {error.task} first.")


def written_but_unreached(error: TODO) -> str | None:
    """A sentence if the learner wrote code in the function but it still reaches ``raise TODO``."""
    if course_folder_of(error.filename) != "exercises":
        return None
    module = next((m for m in course.modules() if m.exercise_path.resolve() == Path(error.filename).resolve()), None)
    if module is None:
        return None
    try:
        mine = _body_without_todo(Path(error.filename).read_text(encoding="utf-8"), error.function)
        pristine = _body_without_todo(stubs.make_stub(module.reference_path.read_text(encoding="utf-8")),
                                      error.function)
    except (OSError, SyntaxError, stubs.MarkerError):
        return None
    if mine is None or pristine is None or len(mine) <= len(pristine):
        return None
    return (f"you wrote code in {error.function}() but it still reaches `raise TODO(\"{error.task}\")` at line "
            f"{error.lineno}: delete that line (your code should end with a return).")


def _body_without_todo(source: str, function: str) -> list[str] | None:
    """The statements of ``function`` (as text), without any ``raise TODO(...)``; None if it is not there."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            body = []
            for statement in node.body:
                if (isinstance(statement, ast.Raise) and isinstance(statement.exc, ast.Call)
                        and getattr(statement.exc.func, "id", None) == "TODO"):
                    continue
                body.append(ast.dump(statement))
            return body
    return None


def learner_frame(traceback_entries, target: str | None = None) -> tuple[str, int, str] | None:
    """(file, line, function) of the deepest frame in the code under test.

    The deepest frame of ``target``'s own folder wins: when the course's version of
    another task stands in (isolation) and raises, the learner is sent to their own
    line that called it, not into reference/.
    """
    found = {}
    for entry in traceback_entries:
        folder = course_folder_of(str(entry.path))
        if folder is not None:
            found[folder] = (short_path(entry.path), entry.lineno + 1, entry.name)
    return found.get(target) or found.get("exercises") or found.get("reference")


def figure_line(text: str) -> str:
    if "not found" in text.lower():
        return (
            "this figure has no baseline image in plots_baseline/ yet "
            "(maintainers: make baselines)."
        )
    rms = re.search(r"RMS Value:\s*([\d.]+)", text)
    tolerance = re.search(r"Tolerance:\s*\n?\s*([\d.]+)", text)
    actual = re.search(r"Actual:\s*\n?\s*(\S+)", text)
    where = f" Your figure: {short_path(actual.group(1))}; the difference image sits beside it." if actual else ""
    if rms:
        tol = tolerance.group(1) if tolerance else "2"
        return (
            f"your figure differs from its baseline (RMS {float(rms.group(1)):.1f}, "
            f"tolerance {tol}): what it draws differs from the course's; the difference image shows where.{where}"
        )
    first = text.strip().splitlines()[0] if text.strip() else "figure comparison failed"
    return f"figure comparison failed: {first}{where}"


def first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def describe(excinfo, item=None, task_under_test: str | None = None) -> tuple[str, str]:
    """(kind, one line) for the exception in ``excinfo`` (a pytest ExceptionInfo)."""
    error = excinfo.value
    todo = _find(error, TODO)
    if todo is not None:
        if task_under_test and todo.task != task_under_test:
            return "blocked", blocked_line(todo, task_under_test)
        line = todo_line(todo)
        return ("unreached" if "but it still reaches" in line else "todo"), line
    if isinstance(error, LearnerProblem):
        return error.kind, str(error)
    inner = getattr(error, "exceptions", None)
    if inner:  # hypothesis found several distinct failures: show the first
        import pytest

        kind, line = describe(pytest.ExceptionInfo.from_exception(inner[0]), item, task_under_test)
        more = len(inner) - 1
        return kind, line + (f" (and {more} more failing example{'s' if more > 1 else ''})" if more else "")
    text = str(error)
    if excinfo.typename in ("Failed", "AssertionError"):
        if "Image files did not match" in text or "Image file not found" in text or "RMS Value" in text:
            return "figure", figure_line(text)
        notes = [n for n in getattr(error, "__notes__", []) if n.startswith("Falsifying")]
        example = f" [{first_line(notes[0])}]" if notes else ""
        message = text.strip() or "a check failed"
        return "check", " ".join(message.split()) + example
    where = learner_frame(excinfo.traceback, os.environ.get("KATA_TARGET", "exercises") or "exercises")
    location = f" at {where[0]} line {where[1]}, in {where[2]}()" if where else ""
    if excinfo.typename == "RuntimeWarning":
        return "error", f"numpy warned '{first_line(text)}'{location}: {numpy_warning_meaning(text)}"
    if isinstance(error, MemoryError) or "DefaultCPUAllocator: can't allocate memory" in text:
        return "error", (f"the code asked for more memory than the tests allow{location}: is an array (a histogram, "
                         "a table, a grid) far bigger than the inputs need?")
    if "only one element tensors can be converted to Python scalars" in text:
        return "error", (f"{excinfo.typename}: {first_line(text)}{location}: a function for one number (math.log, "
                         "math.exp, float()) was given a tensor of many; use torch's own (torch.log, torch.exp)")
    if excinfo.typename == "ValueError" and "could not be broadcast together" in text:
        return "error", (f"ValueError: {first_line(text)}{location}: two arrays do not line up; a sum or a max "
                         "taken without keepdims=True loses its axis, so the result no longer lines up with the input")
    return "error", f"{excinfo.typename}: {first_line(text)}{location}"


NUMPY_WARNINGS = {
    "invalid value": "a NaN is being made, usually 0·inf or inf − inf (np.where(c, a, b) computes a and b everywhere, "
                     "so a masked-out branch still runs)",
    "divide by zero": "a log of 0 or a division by 0 is being made (-inf or inf)",
    "overflow": "a number grew past the largest float, usually exp of a large value: shift by the max first",
    "underflow": "a number fell below the smallest float and became 0",
}


def numpy_warning_meaning(text: str) -> str:
    """Why numpy's RuntimeWarning matters here (the tests treat it as an error)."""
    for words, meaning in NUMPY_WARNINGS.items():
        if words in text:
            return f"{meaning}. The tests treat numpy's warnings as errors."
    return "the tests treat numpy's warnings as errors, because they mean a NaN or an infinity is being made."


def _find(error: BaseException, kind: type) -> BaseException | None:
    """The first exception of ``kind`` in error, its causes, or an exception group."""
    seen = set()
    stack = [error]
    while stack:
        current = stack.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        stack.extend(getattr(current, "exceptions", ()))
        stack.extend([current.__cause__, current.__context__])
    return None
