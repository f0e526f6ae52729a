"""Make the learner's stubs from the reference solutions.

A solution is marked in ``reference/`` like this (nbgrader style)::

    # TODO 1.2: what must become true (inputs, output, units, conventions).
    # BEGIN SOLUTION
    ...the answer...
    # END SOLUTION

and the stub keeps the TODO comment, replacing the block with
``raise TODO("1.2")``. Everything outside the markers is copied as is, so stubs
and solutions cannot drift apart.
"""

from __future__ import annotations

import re

from kata.course import parse_tasks

BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")


class MarkerError(ValueError):
    """The solution markers in a reference file are unbalanced or orphaned."""


def make_stub(reference_source: str, filename: str = "<reference>") -> str:
    tasks_by_line = {task.line: task for task in parse_tasks(reference_source)}
    out: list[str] = []
    current_task = None
    inside = False
    for number, line in enumerate(reference_source.splitlines(keepends=True), start=1):
        if number in tasks_by_line:
            current_task = tasks_by_line[number]
        begin = BEGIN.match(line)
        if begin:
            if inside:
                raise MarkerError(f"{filename}:{number}: BEGIN SOLUTION inside another solution")
            if current_task is None:
                raise MarkerError(f"{filename}:{number}: BEGIN SOLUTION without a '# TODO N.M:' comment before it")
            inside = True
            out.append(f'{begin.group(1)}raise TODO("{current_task.id}")\n')
            current_task = None
            continue
        if END.match(line):
            if not inside:
                raise MarkerError(f"{filename}:{number}: END SOLUTION without BEGIN SOLUTION")
            inside = False
            continue
        if not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{filename}: BEGIN SOLUTION never ended")
    return "".join(out)


def solution_lines(reference_source: str) -> dict[str, list[str]]:
    """{task id: the lines between its BEGIN and END SOLUTION markers}."""
    tasks_by_line = {task.line: task for task in parse_tasks(reference_source)}
    found: dict[str, list[str]] = {}
    current, inside = None, None
    for number, line in enumerate(reference_source.splitlines(), start=1):
        if number in tasks_by_line:
            current = tasks_by_line[number]
        if BEGIN.match(line) and current is not None:
            inside = current.id
            found[inside] = []
            continue
        if END.match(line):
            inside = None
            continue
        if inside:
            found[inside].append(line)
    return found
