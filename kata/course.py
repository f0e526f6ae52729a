"""The course map: which modules exist, and the tasks inside each.

Everything is read from ``reference/``, the single source of the course:
a module is a file ``reference/moduleNN_<topic>.py``; a task is a comment
``# TODO N.M: words`` (continued on lines starting ``#   ``) inside a function.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE_FILE = re.compile(r"module(\d\d)_(\w+)\.py$")
TODO_LINE = re.compile(r"^(\s*)# TODO (\d+\.\d+): (.*)$")
CONTINUATION = re.compile(r"^\s*#   (.*)$")
DEF_LINE = re.compile(r"^\s*def (\w+)\(")


class UnknownModule(LookupError):
    """A module number the course does not have."""


@dataclass(frozen=True)
class Task:
    id: str
    function: str
    text: str
    line: int

    @property
    def module_number(self) -> int:
        return int(self.id.split(".")[0])


@dataclass(frozen=True)
class Module:
    number: int
    name: str  # e.g. "module01_cross_entropy"
    root: Path

    @property
    def title(self) -> str:
        """The first line of the lesson, e.g. 'Module 1: cross-entropy, ...'."""
        source = self.reference_path.read_text(encoding="utf-8")
        match = re.search(r'"""\s*(.+)', source)
        return match.group(1).strip() if match else self.name

    @property
    def topic(self) -> str:
        return self.name.split("_", 1)[1].replace("_", " ")

    @property
    def reference_path(self) -> Path:
        return self.root / "reference" / f"{self.name}.py"

    @property
    def exercise_path(self) -> Path:
        return self.root / "exercises" / f"{self.name}.py"

    @property
    def test_path(self) -> Path:
        return self.root / "tests" / f"test_{self.name}.py"

    @property
    def hints_path(self) -> Path:
        return self.root / "kata" / "hints" / f"{self.name}.toml"

    def tasks(self) -> list[Task]:
        return parse_tasks(self.reference_path.read_text(encoding="utf-8"))


def parse_tasks(source: str) -> list[Task]:
    """Every ``# TODO N.M: ...`` comment in ``source``, in file order."""
    tasks: list[Task] = []
    function = "<module>"
    lines = source.splitlines()
    for index, line in enumerate(lines):
        if match := DEF_LINE.match(line):
            function = match.group(1)
        match = TODO_LINE.match(line)
        if not match:
            continue
        words = [match.group(3).strip()]
        for follow in lines[index + 1 :]:
            more = CONTINUATION.match(follow)
            if not more:
                break
            words.append(more.group(1).strip())
        tasks.append(Task(match.group(2), function, " ".join(words), index + 1))
    return tasks


def modules(root: Path = ROOT) -> list[Module]:
    found = []
    for path in sorted((root / "reference").glob("module*_*.py")):
        match = MODULE_FILE.search(path.name)
        if match:
            found.append(Module(int(match.group(1)), path.stem, root))
    return found


def module(number: int | str, root: Path = ROOT) -> Module:
    """The module numbered ``number``; UnknownModule names the ones that exist."""
    available = modules(root)
    for candidate in available:
        if str(candidate.number) == str(number).lstrip("0") or str(candidate.number) == str(number):
            return candidate
    numbers = ", ".join(str(m.number) for m in available)
    raise UnknownModule(f"There is no module {number}: the course has modules {numbers}.")


def module_of_test_file(path: str | Path) -> int | None:
    match = re.search(r"test_module(\d\d)_", str(path))
    return int(match.group(1)) if match else None
