"""Apply each catalogued learner mistake to the reference, and check what the tests say.

``tests/mistakes/moduleNN_<topic>.toml`` lists mistakes a learner makes::

    [[mistake]]
    task = "1.3"
    name = "dropped minus sign"
    find = "return (p * surprisal(np.clip(q, eps, 1.0), base)).sum(axis=-1)"
    replace = "return -(p * surprisal(np.clip(q, eps, 1.0), base)).sum(axis=-1)"
    says = "a negative cross-entropy means the minus sign is missing"

``find`` must occur exactly once, inside the task's solution. With
``-p kata.testing.mistakes --kata-mistakes=OUT.json`` the collected module tests
are not run as usual: every module's reference source is loaded as the
learner's ``exercises.<module>`` (a learner who solved everything), then, one
mistake at a time, the mutated source replaces it and:

- the tests of the mistake's task run in order until the first failure, whose
  one-line message must contain ``says``;
- for the first mistake of each module, every other test of the module must
  pass, and every test of the modules that import it too: one task's mistake
  blames no other task. ``--kata-mistakes-scope=all`` checks every mistake
  against every other test of its module and of every later module collected.

Everything happens in memory; no file of the checkout is written.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import time
from pathlib import Path

import pytest
from _pytest.runner import runtestprotocol

from kata import course, stubs
from kata.testing.isolation import task_of

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def pytest_addoption(parser):
    group = parser.getgroup("kata")
    group.addoption("--kata-mistakes", default=None, help="apply tests/mistakes/*.toml and write what the tests said here")
    group.addoption("--kata-mistakes-scope", default="sample", choices=("sample", "all"),
                    help="sample: the first mistake of each module is run against every other test of its module and "
                         "of the modules that import it; all: every mistake against every other test of its module "
                         "and of every later module collected")
    group.addoption("--kata-mistakes-limit", type=int, default=None,
                    help="apply only the first N mistakes of each module's catalogue")


def pytest_configure(config):
    if config.getoption("kata_mistakes"):
        run = MistakeRun(Path(config.getoption("kata_mistakes")), config.getoption("kata_mistakes_scope"),
                         config.getoption("kata_mistakes_limit"))
        config.pluginmanager.register(run, "kata-mistakes")


class CatalogueError(ValueError):
    pass


def load_catalogue(module: course.Module) -> list[dict]:
    if not module.mistakes_path.exists():
        return []
    entries = tomllib.loads(module.mistakes_path.read_text(encoding="utf-8")).get("mistake", [])
    solutions = stubs.solution_lines(module.reference_path.read_text(encoding="utf-8"))
    for entry in entries:
        for key in ("task", "name", "find", "replace", "says"):
            if key not in entry:
                raise CatalogueError(f"{module.mistakes_path.name}: a mistake lacks {key!r}: {entry}")
        block = "\n".join(solutions.get(entry["task"], []))
        if block.count(entry["find"]) != 1:
            raise CatalogueError(f"{module.mistakes_path.name}: {entry['name']!r}: `find` must occur exactly once in "
                                 f"task {entry['task']}'s solution, found {block.count(entry['find'])} times")
    return entries


def mutate(module: course.Module, entry: dict) -> str:
    source = module.reference_path.read_text(encoding="utf-8")
    solution = "\n".join(stubs.solution_lines(source)[entry["task"]])
    start = source.index(solution)
    mutated = solution.replace(entry["find"], entry["replace"], 1)
    return source[:start] + mutated + source[start + len(solution):]


def install(module: course.Module, source: str) -> None:
    """Load ``source`` as the learner's ``exercises.<module>``, in memory, as if it were the file."""
    exercises = importlib.import_module("exercises")
    name = f"exercises.{module.name}"
    spec = importlib.util.spec_from_loader(name, loader=None, origin=str(module.exercise_path))
    lesson = importlib.util.module_from_spec(spec)
    lesson.__file__ = str(module.exercise_path)
    lesson.__package__ = "exercises"
    sys.modules[name] = lesson
    setattr(exercises, module.name, lesson)
    exec(compile(source, str(module.exercise_path), "exec"), lesson.__dict__)


def install_solved(modules: list[course.Module], changed: course.Module | None = None,
                   source: str | None = None, dependants: tuple = ()) -> dict[int, str]:
    """Every module as solved by the learner; or only ``changed``, holding ``source``, and the ``dependants``
    that import it (reloaded so that they import the new one).

    Returns {module number: why it could not be loaded} for the modules that failed to load.
    """
    broken = {}
    for module in modules:
        if changed is None or module == changed or module in dependants:
            try:
                install(module, source if module == changed else module.reference_path.read_text(encoding="utf-8"))
            except Exception as error:  # noqa: BLE001 - reported as that module's result
                broken[module.number] = f"{type(error).__name__}: {error}"
    return broken


class MistakeRun:
    def __init__(self, out: Path, scope: str = "sample", limit: int | None = None):
        self.out = out
        self.scope = scope
        self.limit = limit

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        session.config._kata_results.save_module_results = lambda: None  # nothing here is a real result
        items_by_module: dict[int, list] = {}
        for item in session.items:
            number = course.module_of_test_file(item.nodeid)
            if number is not None:
                items_by_module.setdefault(number, []).append(item)
        modules = course.modules()
        dependants = {m.number: [d for d in modules if d.number > m.number and
                                 f"from .{m.name} import" in d.reference_path.read_text(encoding="utf-8")]
                      for m in modules}
        broken = install_solved(modules)
        results = []
        for module in modules:
            if module.number not in items_by_module:
                continue
            if module.number in broken:
                results.append({"module": module.number, "error": f"the reference does not load: {broken[module.number]}"})
                continue
            try:
                catalogue = load_catalogue(module)
            except CatalogueError as error:
                results.append({"module": module.number, "error": str(error)})
                continue
            for index, entry in enumerate(catalogue[:self.limit]):
                started = time.perf_counter()
                install_solved(modules, module, mutate(module, entry), dependants[module.number])
                items = items_by_module[module.number]
                own = [i for i in items if task_of(i) == entry["task"]]
                others = []
                if self.scope == "all" or index == 0:
                    others = [i for i in items if task_of(i) != entry["task"]]
                    later = ([m for m in modules if m.number > module.number] if self.scope == "all"
                             else dependants[module.number])
                    for dependant in later:
                        others += items_by_module.get(dependant.number, [])
                message, kind = self._first_failure(own)
                wrongly_failed = self._failures(others)
                results.append({"module": module.number, "task": entry["task"], "name": entry["name"],
                                "says": entry["says"], "first_message": message, "kind": kind,
                                "named": message is not None and entry["says"] in message,
                                "others_checked": len(others), "others_failed": wrongly_failed,
                                "seconds": round(time.perf_counter() - started, 2)})
            install_solved(modules, module, module.reference_path.read_text(encoding="utf-8"), dependants[module.number])
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.write_text(json.dumps(results, indent=1))
        return True

    def _run(self, item, nextitem=None):
        """Run one test; module-scoped fixtures survive when ``nextitem`` shares them (the same mistake)."""
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        for report in reports:
            if report.failed:
                properties = dict(report.user_properties)
                return properties.get("kata_message") or str(report.longrepr), properties.get("kata_kind")
        return None

    def _first_failure(self, items) -> tuple[str | None, str | None]:
        """The first failing test's message among ``items``, run in order; fixtures are torn down at the end."""
        for index, item in enumerate(items):
            failed = self._run(item, items[index + 1] if index + 1 < len(items) else None)
            if failed is not None:
                if index + 1 < len(items):
                    self._teardown(item)
                return failed
        return None, None

    def _failures(self, items) -> list[tuple[str, str]]:
        found = []
        for index, item in enumerate(items):
            failed = self._run(item, items[index + 1] if index + 1 < len(items) else None)
            if failed is not None:
                found.append((item.nodeid, failed[0]))
        return found

    @staticmethod
    def _teardown(item) -> None:
        item.session._setupstate.teardown_exact(None)
