"""One test grades one task.

While a test of task N.M runs on the learner's code, every other task function
of the course, in the test's own module and in every other module, is the
course's own version from ``reference/``. Only N.M's code is the learner's, so
a mistake in 4.4 cannot fail 4.5's tests, nor make a wrong 4.5 pass.

It works on the learner's module namespaces: each name bound to a task function
(``entropy`` in module 1, the ``cross_entropy`` module 2 imported from module 1)
is rebound, for the duration, to the right version, wrapped so that
``kata.given.cache`` knows which tasks a cached computation used. Given code in
the learner's file (the figures, ``report()``) looks its functions up in those
namespaces, so it runs the learner's N.M with the course's versions of the rest.

``make run-module-N`` does none of this: there the learner's own code runs end
to end.
"""

from __future__ import annotations

import ast
import functools
import importlib
import sys
import types
from pathlib import Path

from kata import course
from kata.given import cache


class Isolation:
    def __init__(self, learner: str = "exercises", solutions: str = "reference"):
        self.learner = learner
        self.solutions = solutions
        # (module name, function name) -> task id, for every task of the course
        self.tasks = {(m.name, t.function): t.id for m in course.modules() for t in m.tasks()}
        self.module_names = {m.name for m in course.modules()}
        self._stack: list[tuple[list, str | None]] = []
        self._imports: dict[tuple[str, int], frozenset[str]] = {}  # (file, mtime) -> course modules it imports
        self._unimportable: set[str] = set()  # tried once this run; the learner's own call reports why

    @property
    def enabled(self) -> bool:
        return self.learner != self.solutions

    def learner_function(self, value):
        """(module name, function, task id) if ``value`` is (a stand-in for) a learner's task function."""
        value = getattr(value, "_kata_learner", value)
        if not isinstance(value, types.FunctionType):
            return None
        package, _, name = (value.__module__ or "").partition(".")
        key = (name, value.__name__)
        if package != self.learner or key not in self.tasks or value.__qualname__ != value.__name__:
            return None
        return name, value, self.tasks[key]

    def course_version(self, module_name: str, function: str):
        try:
            solved = importlib.import_module(f"{self.solutions}.{module_name}")
        except Exception:  # noqa: BLE001 - no solutions to stand in: the learner's own code runs
            return None
        return getattr(solved, function, None)

    def enter(self, live: str | None) -> None:
        """Make ``live``'s function the learner's and every other task function the course's."""
        swapped: list[tuple[dict, str, object, bool]] = []  # (namespace, name, old value, existed)
        if self.enabled:
            self._import_what_learners_import()
            for module_name, module in self._learner_modules():
                namespace = module.__dict__
                for key, value in list(namespace.items()):
                    found = self.learner_function(value)
                    if found is None:
                        continue
                    origin, learner_function, task_id = found
                    use = learner_function if task_id == live else self.course_version(origin, learner_function.__name__)
                    if use is None:
                        use = learner_function
                    swapped.append((namespace, key, value, True))
                    namespace[key] = _stand_in(use, learner_function, task_id)
                self._fill_missing(module_name, namespace, live, swapped)
        self._stack.append((swapped, cache.STATE.live))
        cache.STATE.live = live

    def _learner_modules(self):
        """(module name, module) for each of the learner's course modules imported so far."""
        for name, module in list(sys.modules.items()):
            package, _, module_name = name.partition(".")
            if package == self.learner and module_name in self.module_names and module is not None:
                yield module_name, module

    def _import_what_learners_import(self) -> None:
        """A course module a learner's file imports only inside a function is imported now, so it is stood in too."""
        for _, module in self._learner_modules():
            for wanted in self._course_imports(getattr(module, "__file__", None)):
                full = f"{self.learner}.{wanted}"
                if full not in sys.modules and full not in self._unimportable:
                    try:
                        importlib.import_module(full)
                    except Exception:  # noqa: BLE001 - it fails again inside the function, and is reported there
                        self._unimportable.add(full)

    def _course_imports(self, path: str | None) -> frozenset[str]:
        """The course modules the learner's file at ``path`` imports, anywhere in it (read once per version)."""
        try:
            version = (path, Path(path).stat().st_mtime_ns)
        except (TypeError, OSError):
            return frozenset()
        if version not in self._imports:
            try:
                tree = ast.parse(Path(path).read_text(encoding="utf-8"))
            except (OSError, SyntaxError, ValueError):
                tree = ast.Module(body=[], type_ignores=[])
            found = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    found.update(alias.name.partition(".")[2] for alias in node.names
                                 if alias.name.partition(".")[0] == self.learner)
                elif isinstance(node, ast.ImportFrom):
                    inside = node.level == 1 or (node.level == 0 and (node.module or "").partition(".")[0] == self.learner)
                    rest = (node.module or "") if node.level == 1 else (node.module or "").partition(".")[2]
                    if inside:
                        found.update([rest.partition(".")[0]] if rest else [alias.name for alias in node.names])
            self._imports[version] = frozenset(found & self.module_names)
        return self._imports[version]

    def _fill_missing(self, module_name: str, namespace: dict, live: str | None, swapped: list) -> None:
        """A task function the learner deleted or renamed: the course's version stands in (not for ``live``)."""
        for (name, function), task_id in self.tasks.items():
            if name != module_name or task_id == live or function in namespace:
                continue
            use = self.course_version(name, function)
            if use is not None:
                swapped.append((namespace, function, None, False))
                namespace[function] = _stand_in(use, None, task_id)

    def exit(self) -> None:
        swapped, previous = self._stack.pop()
        for namespace, key, value, existed in reversed(swapped):
            if existed:
                namespace[key] = value
            else:
                namespace.pop(key, None)
        cache.STATE.live = previous


# Called as observer(task_id, function, args, kwargs) -> finish(result) around each call of a
# learner's live task function (make compare records them); empty otherwise.
OBSERVERS: list = []


def _stand_in(function, learner_function, task_id: str):
    learners = function is learner_function

    @functools.wraps(function)
    def stand_in(*args, **kwargs):
        cache.note_call(task_id)
        if not (learners and OBSERVERS):
            return function(*args, **kwargs)
        finishes = [observer(task_id, function, args, kwargs) for observer in OBSERVERS]
        result = function(*args, **kwargs)
        for finish in finishes:
            if finish is not None:
                finish(result)
        return result

    stand_in._kata_learner = learner_function if learner_function is not None else stand_in
    stand_in._kata_task = task_id
    stand_in._kata_is_learners = learners
    return stand_in


def task_of(item) -> str | None:
    marker = item.get_closest_marker("task")
    return str(marker.args[0]) if marker and marker.args else None
