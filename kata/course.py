"""The course map: which modules exist, and the tasks inside each.

Everything is read from ``reference/``, the single source of the course:
a module is a file ``reference/moduleNN_<topic>.py``; a task is a comment
``# TODO N.M: words`` (continued on lines starting ``#   ``) inside a function,
and each task has a function of its own.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE_FILE = re.compile(r"module(\d\d)_(\w+)\.py$")
TODO_LINE = re.compile(r"^(\s*)# TODO (\d+\.\d+): (.*)$")
CONTINUATION = re.compile(r"^\s*#   (.*)$")
DEF_LINE = re.compile(r"^\s*def (\w+)\(")
TARGETS = ("exercises", "reference")


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

    @property
    def sort_key(self) -> tuple[int, int]:
        return task_sort_key(self.id)


def task_sort_key(task_id: str | None) -> tuple[int, int]:
    """'4.10' sorts after '4.9'; a missing id sorts last."""
    if not task_id:
        return (10**6, 0)
    major, _, minor = str(task_id).partition(".")
    return (int(major), int(minor or 0))


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

    def path_in(self, target: str) -> Path:
        return self.root / target / f"{self.name}.py"

    @property
    def test_path(self) -> Path:
        return self.root / "tests" / f"test_{self.name}.py"

    @property
    def hints_path(self) -> Path:
        return self.root / "kata" / "tools" / "hints" / f"{self.name}.toml"

    def hints_file(self) -> dict:
        """The module's hints file, parsed: a table per task id, and ``found`` (shown once the module is done)."""
        if not self.hints_path.exists():
            return {}
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        return tomllib.loads(self.hints_path.read_text(encoding="utf-8"))

    @property
    def mistakes_path(self) -> Path:
        return self.root / "tests" / "mistakes" / f"{self.name}.toml"

    def tasks(self) -> list[Task]:
        return _tasks_of(self.reference_path)

    def task(self, task_id: str) -> Task | None:
        return next((t for t in self.tasks() if t.id == task_id), None)


def _tasks_of(path: Path) -> list[Task]:
    stat = path.stat()
    return list(_parse_cached(str(path), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=64)
def _parse_cached(path: str, mtime_ns: int, size: int) -> tuple[Task, ...]:
    return tuple(parse_tasks(Path(path).read_text(encoding="utf-8")))


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
    text = str(number).strip()
    for candidate in available:
        if text.isdigit() and int(text) == candidate.number:
            return candidate
    numbers = ", ".join(str(m.number) for m in available)
    raise UnknownModule(f"There is no module {number}: the course has modules {numbers}.")


def module_named(name: str, root: Path = ROOT) -> Module | None:
    return next((m for m in modules(root) if m.name == name), None)


def module_of_test_file(path: str | Path) -> int | None:
    match = re.search(r"test_module(\d\d)_", str(path))
    return int(match.group(1)) if match else None


def hint_command(module_number: int) -> str:
    return f"make hint-{module_number}"


def task(task_id: str, root: Path = ROOT) -> Task | None:
    """The task ``N.M`` of the course, or None."""
    try:
        return module(task_sort_key(task_id)[0], root).task(str(task_id))
    except UnknownModule:
        return None


# ---------------------------------------------------------------------------
# What a module's test results depend on (so a result can be reused while none of it changed)

COURSE_FILES = ("kata", "reference", "tests", "plots_baseline")


def fingerprint(module: Module, target: str, own_file: bool = True) -> str:
    """A digest of every file the results of ``module``'s tests on ``target`` depend on.

    The target's own files up to this module (a later module cannot change them),
    and the course's files: kata/, reference/, tests/, the baselines, pyproject.toml.
    Sizes and modification times stand in for contents: saving a file changes them.
    ``own_file=False`` leaves out the module's own file (see ``task_digests``).
    """
    root = module.root
    digest = hashlib.sha1()
    paths = [root / "pyproject.toml", root / target / "__init__.py"]
    paths += [m.path_in(target) for m in modules(root) if m.number < module.number or (own_file and m == module)]
    for folder in COURSE_FILES:
        base = root / folder
        if base.is_dir():
            paths += sorted(p for p in base.rglob("*") if p.suffix in (".py", ".toml", ".png")
                            and "__pycache__" not in p.parts and "tools" not in p.relative_to(base).parts[:1])
    for path in paths:
        try:
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
        except FileNotFoundError:
            digest.update(f"{path}:missing;".encode())
    return digest.hexdigest()


def task_digests(module: Module, target: str) -> dict | None:
    """{"rest": digest, "tasks": {task id: digest}} of the module's own file in ``target``, or None if it does not parse.

    Each task's digest covers its function's code (not its comments or layout); "rest"
    covers everything else in the file (given code, imports, the learner's helpers).
    One test grades one task, with the course's versions of the other tasks' functions,
    so when only some tasks' functions changed, only their tests can have changed.
    """
    import ast

    functions = {task.function: task.id for task in module.tasks()}
    try:
        tree = ast.parse(module.path_in(target).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    tasks = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in functions:
            tasks[functions[node.name]] = hashlib.sha1(ast.dump(node).encode()).hexdigest()
            node.body = [ast.Pass()]
    return {"rest": hashlib.sha1(ast.dump(tree).encode()).hexdigest(), "tasks": tasks}


# ---------------------------------------------------------------------------
# A module's last full run, kept under .kata/results/<target>/ (written by the test
# plugin after a full run, and by the tools when they bring it up to date)


def results_path(module: Module, target: str) -> Path:
    return module.root / ".kata" / "results" / target / f"{module.name}.json"


def load_results(module: Module, target: str) -> dict | None:
    """{"fingerprint", "parts", "tests"} of the module's last kept run, or None."""
    import json

    try:
        return json.loads(results_path(module, target).read_text())
    except (OSError, ValueError):
        return None


def save_results(module: Module, target: str, data: dict) -> None:
    """Keep ``data`` atomically; a read-only checkout goes without (results are only a speed-up)."""
    import json
    import os

    path = results_path(module, target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data))
        temporary.replace(path)
    except OSError:
        pass
