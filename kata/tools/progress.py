"""Progress, worked out from test results only (never from a stored list).

A task is done when every test marked with it passed. ``summary`` turns one
run's results into the lines printed after the tests: a detailed view of one
module, or a table of all of them, then the next unfinished task.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from kata import course
from kata.course import hint_command

TICK, CROSS = "✓", "✗"


@dataclass
class TaskStatus:
    task: course.Task
    results: list[dict] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """Every test of the task passed; one skipped for want of an optional package does not hold it back."""
        return (any(r["outcome"] == "passed" for r in self.results)
                and all(r["outcome"] in ("passed", "skipped") for r in self.results))

    @property
    def failures(self) -> list[dict]:
        return [r for r in self.results if r["outcome"] not in ("passed", "skipped")]


def statuses(module: course.Module, tests: list[dict]) -> list[TaskStatus]:
    by_task = defaultdict(list)
    for result in tests:
        if result["module"] == module.number:
            by_task[result["task"]].append(result)
    return [TaskStatus(task, by_task.get(task.id, [])) for task in module.tasks()]


def next_task(tests: list[dict]) -> tuple[course.Module, TaskStatus] | None:
    """The first unfinished task among the modules these results cover."""
    numbers = sorted({r["module"] for r in tests if r["module"] is not None})
    for module in course.modules():
        if module.number in numbers:
            for status in statuses(module, tests):
                if not status.done:
                    return module, status
    return None


def _messages(status: TaskStatus, limit: int = 3) -> list[str]:
    """Distinct failure lines of a task; a not-done task needs just one."""
    lines: list[str] = []
    for result in status.failures:
        message = result["message"] or result["outcome"]
        if result["kind"] == "todo":
            message = "not done yet"
        elif message.startswith("not run: an earlier test"):
            message = "not run: an earlier test of this module had to be stopped (see above)"
        if message not in lines:
            lines.append(message)
    if "not done yet" in lines and len(lines) > 1:
        lines.remove("not done yet")
    extra = len(lines) - limit
    return lines[:limit] + ([f"(and {extra} more)"] if extra > 0 else [])


def module_detail(module: course.Module, tests: list[dict]) -> list[str]:
    task_statuses = statuses(module, tests)
    done = sum(s.done for s in task_statuses)
    lines = [f"{module.title}  —  {done}/{len(task_statuses)} tasks done"]
    unreadable = next((r for r in tests if r["module"] == module.number and r["kind"] in ("syntax", "import")), None)
    if unreadable is not None:  # nothing else can run until the file parses and imports
        return lines + [f"  {CROSS} {unreadable['message']}"]
    for status in task_statuses:
        mark = TICK if status.done else CROSS
        lines.append(f"  {mark} {status.task.id} {status.task.function}()")
        if not status.done:
            if not status.results:
                lines.append("      (no test ran for this task)")
            for message in _messages(status):
                lines.append(f"      {message}")
    return lines


def progress_table(tests: list[dict]) -> list[str]:
    lines = ["Progress (tasks done / tasks):"]
    total_done = total = 0
    for module in course.modules():
        task_statuses = statuses(module, tests)
        done = sum(s.done for s in task_statuses)
        total_done += done
        total += len(task_statuses)
        bar = "#" * done + "." * (len(task_statuses) - done)
        flag = f"  {TICK}" if done == len(task_statuses) else ""
        lines.append(f"  module {module.number:>2}  {module.topic:<28} {done:>2}/{len(task_statuses):<2} {bar}{flag}")
    lines.append(f"  {'total':<39} {total_done:>2}/{total}")
    return lines


def next_step(tests: list[dict], target: str = "exercises", detail_shown: bool = False) -> list[str]:
    found = next_task(tests)
    if found is None:
        numbers = sorted({r["module"] for r in tests if r["module"] is not None})
        later = [m for m in course.modules() if numbers and m.number > numbers[-1]]
        found = what_you_found(course.module(numbers[0])) if len(numbers) == 1 else []
        if len(numbers) == 1 and later:
            return found + [f"Module {numbers[0]} is done. Well played. Next: module {later[0].number}, "
                            f"{later[0].topic} (make test-module-{later[0].number})."]
        return found + ["All tasks in this run are done. Well played."]
    module, status = found
    task = status.task
    where = f"{target}/{module.name}.py"
    line = _todo_line_number(module, target, task)
    first, rest = first_sentence(task.text)
    lines = [f"Next: task {task.id}, {task.function}() in {where}{line}",
             f"      {first.rstrip('.')}." + (f" (more in the TODO at{line})" if rest and line else
                                                   " (more in the TODO)" if rest else "")]
    failing = [m for m in _messages(status) if m != "not done yet"]
    if failing and not detail_shown:  # the detailed view above already lists it
        lines.append(f"      now failing: {failing[0]}")
    lines.append(f"      Stuck? {hint_command(module.number)}")
    return lines


def first_sentence(text: str) -> tuple[str, str]:
    """(the first sentence, the rest): a sentence ends at a full stop and a space, not at an ellipsis "..."."""
    match = re.search(r"(?<!\.)\.\s", text)
    return (text[:match.start()], text[match.end():]) if match else (text, "")


def what_you_found(module: course.Module) -> list[str]:
    """The module's ``found`` text (its hints file), as lines to show once every task passes."""
    text = module.hints_file().get("found")
    if not isinstance(text, str) or not text.strip():
        return []
    return ["What you found:"] + ["  " + line if line else "" for line in text.strip("\n").splitlines()] + [""]


def _todo_line_number(module: course.Module, target: str, task: course.Task) -> str:
    """' line N' of the task's raise TODO in the target file, else of its TODO comment, else ''."""
    path = course.ROOT / target / f"{module.name}.py"
    if target == "exercises" and path.exists():
        lines = path.read_text(encoding="utf-8").splitlines()
        for marker in (f'raise TODO("{task.id}"', f"# TODO {task.id}:"):
            for number, line in enumerate(lines, start=1):
                if marker in line:
                    return f" line {number}"
    return ""


def summary(tests: list[dict], collect_errors: list[dict], target: str = "exercises") -> list[str]:
    lines: list[str] = []
    for error in collect_errors:
        lines.append(f"{CROSS} could not load {error['nodeid']}: {error['message']}")
    numbers = sorted({r["module"] for r in tests if r["module"] is not None})
    if not numbers:
        return lines
    single = len(numbers) == 1
    if single:
        lines += module_detail(course.module(numbers[0]), tests)
    else:
        lines += progress_table(tests)
    lines.append("")
    lines += next_step(tests, target, detail_shown=single)
    return lines


def stale_exercise_files() -> list[str]:
    """One line for each exercise file that no module of this course version has (renamed or renumbered)."""
    known = {m.exercise_path.name for m in course.modules()}
    lines = []
    for path in sorted((course.ROOT / "exercises").glob("module*_*.py")):
        if path.name not in known:
            match = course.MODULE_FILE.search(path.name)
            now = next((m for m in course.modules() if match and m.name.split("_", 1)[1] == path.stem.split("_", 1)[1]),
                       None)
            where = f"; that topic is now {now.exercise_path.relative_to(course.ROOT)}" if now else ""
            lines.append(f"{CROSS} exercises/{path.name} is from an older version of the course{where}: "
                         "copy your solutions into the new file, then delete the old one.")
    return lines
