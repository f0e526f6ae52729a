"""The course's pytest plugin (``-p kata.testing.plugin`` in pyproject.toml's addopts).

- The target switch: ``KATA_TARGET`` (``exercises``, the default, or
  ``reference``) picks the package the ``mod`` fixture imports.
- One test grades one task: while a test marked ``task("N.M")`` runs, every
  other task function is the course's own (``kata/testing/isolation.py``).
  Module-scoped fixtures run with the course's functions throughout, unless
  declared with ``task_fixture("N.M")``.
- Each failure becomes one sentence (``kata.testing.messages.describe``).
- Results: ``--kata-json PATH`` writes every test's outcome; each module run in
  full is also kept in ``.kata/results/<target>/<module>.json`` with a
  fingerprint of the files it depends on, so hints and watch can reuse it while
  nothing changed.
- The Hypothesis profile every property test runs under.
- Tests run in task order, with one torch thread, and an endless loop is
  reported in one line.
"""

from __future__ import annotations

import functools
import gc
import importlib
import json
import os
import signal
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import Phase, settings

from kata import course
from kata.testing import isolation, messages

# Derandomized and without a database: every run (and `make verify`) sees the same
# examples, so a result never depends on luck. No "explain" phase: it costs seconds per
# failing property, and every property fails on an untouched stub. One failure per test
# keeps the learner's line single.
settings.register_profile("kata", max_examples=40, deadline=None, derandomize=True, database=None,
                          report_multiple_bugs=False, phases=[p for p in Phase if p is not Phase.explain])
settings.load_profile("kata")
# A failing property is shrunk to a simpler example for at most this long (Hypothesis's own
# default is five minutes, and it invites the patch): a learner waits seconds, not minutes.
SHRINK_SECONDS = 2
try:
    from hypothesis.internal.conjecture import engine as _hypothesis_engine

    _hypothesis_engine.MAX_SHRINKING_SECONDS = SHRINK_SECONDS
except (ImportError, AttributeError):  # pragma: no cover - another Hypothesis layout: its default stays
    pass



def pytest_addoption(parser):
    group = parser.getgroup("kata")
    group.addoption("--kata-json", default=None, help="write each test's outcome to this JSON file")
    group.addoption("--kata-no-isolation", action="store_true",
                    help="let tests call the learner's code for every task (maintainers only)")


def target_package() -> str:
    return os.environ.get("KATA_TARGET", "exercises") or "exercises"


MEMORY_CAP_BYTES = 8 * 2**30  # far above what any test needs (module 8's naive loss: under 1 GB)


def _cap_memory() -> None:
    """A runaway allocation (an array billions long) raises MemoryError, which becomes one sentence,
    instead of filling the machine until the system kills the whole run without a word.

    Linux only: RLIMIT_DATA counts private mappings, which is where numpy's and torch's arrays live.
    The cap is the smaller of 8 GiB and half the machine's memory, and never raises an existing limit.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import resource

        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        cap = min(MEMORY_CAP_BYTES, total // 2)
        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if soft == resource.RLIM_INFINITY or soft > cap:
            resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))
    except (ImportError, OSError, ValueError):
        pass


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    _cap_memory()
    if target_package() not in course.TARGETS:
        raise pytest.UsageError(
            f"KATA_TARGET={target_package()!r} is not a target: use 'exercises' (your code) or 'reference'."
        )
    config.addinivalue_line("markers", "task(id): the course task a test grades, e.g. task('1.2')")
    learner = "reference" if config.getoption("kata_no_isolation") else target_package()
    config._kata_isolation = isolation.Isolation(learner=learner)
    config._kata_results = KataResults(config)
    config.pluginmanager.register(config._kata_results, "kata-results")


def _clear_old_figure_results(config, items) -> None:
    """No stale diff image outlives a fixed figure: each figure test about to run loses its old results.

    Only those tests' own folders go, so a run of another module at the same moment keeps its own.
    """
    import shutil

    results = config.getoption("mpl_results_path", None) or config.getini("mpl-results-path")
    if not results:
        return
    folder = Path(results) if Path(results).is_absolute() else Path(config.rootpath) / results
    for item in items:
        if item.get_closest_marker("mpl_image_compare") is not None and hasattr(item, "module"):
            shutil.rmtree(folder / f"{item.module.__name__}.{item.name}", ignore_errors=True)


def pytest_report_header(config):
    return f"kata target: {target_package()}/"


# ---------------------------------------------------------------------------
# The module under test


class ModuleUnderTest:
    """The learner's (or the reference's) module, with plain-words errors.

    A function the tests ask for but the file lacks raises MissingFunction; a
    task function (one with a TODO) that returns None raises ReturnedNone.
    """

    def __init__(self, module, number: int):
        self._module = module
        self._number = number
        self._task_functions = {task.function for task in course.module(number).tasks()}

    def __getattr__(self, name):
        try:
            value = getattr(self._module, name)
        except AttributeError:
            raise messages.MissingFunction(
                f"{messages.short_path(self._module.__file__)} has no {name}(): the tests need it. "
                f"Did you rename or delete it? (a newer course may have added it: make reset-module-{self._number} "
                "backs your file up and restores the stub)"
            ) from None
        if name in self._task_functions and callable(value):
            return _refusing_none(value)
        return value


def _refusing_none(function):
    @functools.wraps(function)
    def checked(*args, **kwargs):
        result = function(*args, **kwargs)
        if result is None:
            raise messages.ReturnedNone(f"{function.__name__}() returned None: is a `return` missing at the end of it?")
        return result

    return checked


# Module paths a course before the kata/given layout used, and where each now lives.
MOVED = {"kata.validate": "kata.given.checks", "kata.plots": "kata.given.plots", "kata.datasets": "kata.given.data",
         "kata.mnist": "kata.given.mnist", "kata.torchtools": "kata.given.torchtools",
         "kata.markov": "kata.given.module07", "kata.large_vocab": "kata.given.module08",
         "kata.module09_support": "kata.given.module09", "kata.validate_module05": "kata.given.module05",
         "kata.stability_checks": "kata.given.module06"}


def load_target(name: str):
    """Import ``<target>.<name>``, turning a broken file into one sentence."""
    package = target_package()
    number = int(name[6:8])
    try:
        module = importlib.import_module(f"{package}.{name}")
    except SyntaxError as error:
        where = messages.short_path(error.filename or name)
        own = error.filename and Path(error.filename).name == f"{name}.py"
        if own:
            raise messages.SyntaxProblem(
                f"{where} line {error.lineno}: Python cannot read this file ({error.msg}). Fix that line and run again."
            ) from None
        raise messages.ImportProblem(f"blocked: {where} line {error.lineno} cannot be read ({error.msg}), and "
                                     f"{package}/{name}.py imports it. Fix that file first.") from None
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if missing == f"{package}.{name}" or missing == package:
            raise messages.MissingFunction(
                f"{package}/{name}.py is missing (make reset-module-{number} restores the stub)."
            ) from None
        moved = next((new for old, new in MOVED.items() if missing == old or missing.startswith(old + ".")), None)
        if moved:
            raise messages.ImportProblem(
                f"{package}/{name}.py imports {missing}, which this version of the course moved to {moved}: "
                f"change that import line to match the fresh stub (make reset-module-{number} backs your file up first)."
            ) from None
        if missing.startswith(f"{package}."):
            raise messages.ImportProblem(f"{package}/{name}.py imports {missing}, which is missing "
                                         "(make reset-module-N restores a stub).") from None
        raise messages.ImportProblem(f"{package}/{name}.py could not be imported: {error}") from None
    except ImportError as error:
        raise messages.ImportProblem(f"{package}/{name}.py could not be imported: {error}") from None
    return ModuleUnderTest(module, number)


@pytest.fixture(scope="module")
def mod(request):
    """The module under test: ``exercises.<MODULE>`` or ``reference.<MODULE>``."""
    return load_target(request.module.MODULE)


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Tiny tensors: one thread is faster on 2 cores, and results stay bit-for-bit reproducible."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


@pytest.fixture(scope="session")
def target():
    return target_package()


def task_fixture(task_id: str, **fixture_kwargs):
    """A module-scoped fixture computed with the learner's code for ``task_id`` (and the course's for the rest).

    Only tests of that task may use it: a fixture is computed once, so it cannot
    follow each test's task the way a function-scoped one does.
    """

    def decorate(function):
        function._kata_task = str(task_id)
        return pytest.fixture(scope="module", **fixture_kwargs)(function)

    return decorate


# ---------------------------------------------------------------------------
# Isolation: which task's code is live while fixtures and tests run

UNISOLATED_FIXTURES = {"mod", "target", "one_torch_thread", "request"}


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    if fixturedef.argname in UNISOLATED_FIXTURES or fixturedef.baseid == "":
        return (yield)
    declared = getattr(fixturedef.func, "_kata_task", None)
    node_task = isolation.task_of(request.node) if fixturedef.scope == "function" else None
    live = declared if declared is not None else node_task
    request.config._kata_isolation.enter(live)
    try:
        return (yield)
    finally:
        request.config._kata_isolation.exit()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item):
    # pytest-mpl wraps item.obj anew on every call; a test run twice (the mistakes harness) must start from the
    # test function itself, not from the last run's wrapper (whose figure would come back as None).
    original = item.__dict__.setdefault("_kata_test_function", getattr(item, "obj", None))
    if original is not None:
        item.obj = original
    item.config._kata_isolation.enter(isolation.task_of(item))
    try:
        return (yield)
    finally:
        item.config._kata_isolation.exit()
        if original is not None:
            item.obj = original


# ---------------------------------------------------------------------------
# An endless loop gets one sentence, not pytest-timeout's stack dump.


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item, settings):
    if (settings.method != "signal" or not hasattr(signal, "SIGALRM")
            or threading.current_thread() is not threading.main_thread()):
        return None  # let pytest-timeout handle other methods and platforms

    def on_alarm(signum, frame):
        where = None
        while frame is not None:
            if messages.course_folder_of(frame.f_code.co_filename) is not None:
                where = (messages.short_path(frame.f_code.co_filename), frame.f_lineno, frame.f_code.co_name)
                break
            frame = frame.f_back
        place = f" {where[2]}() was still running at {where[0]} line {where[1]}." if where else ""
        raise messages.TookTooLong(
            f"stopped after {settings.timeout:g} s.{place} Is there a loop that never ends "
            "(or far too many iterations)?"
        )

    def cancel():
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)

    item.cancel_timeout = cancel
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, settings.timeout)
    return True


# ---------------------------------------------------------------------------
# One line per failure, and the results behind the progress table


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    result = yield
    if call.excinfo is not None and result.failed:
        kind, line = messages.describe(call.excinfo, item, isolation.task_of(item))
        result.user_properties.append(("kata_kind", kind))
        result.user_properties.append(("kata_message", line))
        if item.config.getoption("tbstyle") in ("auto", "no", "line"):
            result.longrepr = line
    return result


def pytest_report_teststatus(report, config):
    """A test whose set-up failed (a shared fixture raised its TODO) counts as failed, not as pytest's 'error'."""
    if report.when == "setup" and report.failed:
        return "failed", "F", "FAILED"
    return None


def pytest_collection_modifyitems(session, config, items):
    """Tests run in the course's order: by module, then by task (file order within a task).

    A fixture declared with task_fixture("N.M") may be used by tests of N.M only.
    """
    wrong = []
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        for name in getattr(item, "fixturenames", ()):
            for fixturedef in (info.name2fixturedefs.get(name, ()) if info else ()):
                declared = getattr(fixturedef.func, "_kata_task", None)
                if declared is not None and declared != isolation.task_of(item):
                    wrong.append(f"{item.nodeid} (task {isolation.task_of(item)}) uses {name}, a fixture of task "
                                 f"{declared}")
    if wrong:
        raise pytest.UsageError("a task fixture is used by a test of another task:\n  " + "\n  ".join(wrong))
    _clear_old_figure_results(config, items)
    position = {item: index for index, item in enumerate(items)}
    items.sort(key=lambda item: (course.module_of_test_file(item.nodeid) or 0,
                                 course.task_sort_key(isolation.task_of(item)), position[item]))


def pytest_collection_finish(session):
    """torch leaves ~1e6 objects that every forced full gc.collect() would rescan (pytest's
    unraisable-exception cleanup and hypothesis's register_random force some): freeze them."""
    gc.freeze()


def _figure_of(item) -> str | None:
    marker = item.get_closest_marker("mpl_image_compare")
    if marker is None:
        return None
    return marker.kwargs.get("filename") or f"{item.name}.png"


class KataResults:
    """Every test's outcome, kind and one-line message, for the progress table."""

    def __init__(self, config):
        self.config = config
        self.tests: dict[str, dict] = {}
        self.collect_errors: list[dict] = []
        self.timed_out: dict[str, str] = {}  # test file -> the first timeout's message
        self.fingerprints: dict[int, str] = {}
        self.parts: dict[int, dict] = {}  # the fingerprint's parts: see runner.incremental_results

    def pytest_runtest_setup(self, item):
        """After one endless loop, the module's other tests stop at once instead of waiting again."""
        first = self.timed_out.get(item.nodeid.split("::")[0])
        if first is not None:
            raise messages.TookTooLong(f"not run: an earlier test of this module was {first}")

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        for item in items:
            self.tests[item.nodeid] = {
                "nodeid": item.nodeid,
                "module": course.module_of_test_file(item.nodeid),
                "task": isolation.task_of(item),
                "figure": _figure_of(item),
                "outcome": "not run",
                "kind": None,
                "message": None,
            }
        for number in {record["module"] for record in self.tests.values() if record["module"]}:
            try:
                module = course.module(number)
            except course.UnknownModule:
                continue
            self.fingerprints[number] = course.fingerprint(module, target_package())
            self.parts[number] = {"course": course.fingerprint(module, target_package(), own_file=False),
                                  "own": course.task_digests(module, target_package())}

    def pytest_collectreport(self, report):
        if report.failed:
            text = [line for line in str(report.longrepr).strip().splitlines() if line.strip()]
            self.collect_errors.append({"nodeid": report.nodeid, "message": text[-1] if text else "collection failed"})

    def pytest_runtest_logreport(self, report):
        record = self.tests.get(report.nodeid)
        if record is None:
            return
        properties = dict(report.user_properties)
        if report.failed and record["outcome"] != "failed":
            record["outcome"] = "failed"
            record["kind"] = properties.get("kata_kind", "error")
            record["message"] = properties.get("kata_message") or _last_line(report.longreprtext)
            if record["kind"] == "timeout" and report.when == "call":
                self.timed_out.setdefault(report.nodeid.split("::")[0], record["message"])
        elif report.skipped and record["outcome"] == "not run":
            record["outcome"] = "skipped"
            record["message"] = report.longrepr[-1] if isinstance(report.longrepr, tuple) else "skipped"
        elif report.when == "call" and report.passed and record["outcome"] == "not run":
            record["outcome"] = "passed"

    def as_json(self) -> dict:
        package = sys.modules.get(target_package())
        return {
            "target": target_package(),
            "target_dir": str(Path(package.__file__).parent) if package and package.__file__ else None,
            "tests": list(self.tests.values()),
            "collect_errors": self.collect_errors,
        }

    def whole_run(self) -> bool:
        """Were whole test files run, with nothing deselected?"""
        option = self.config.option
        return (not getattr(option, "keyword", "") and not getattr(option, "markexpr", "")
                and not any("::" in str(arg) for arg in self.config.args) and not self.collect_errors)

    def save_module_results(self) -> None:
        """Keep each module that ran in full, with the fingerprint taken before it ran."""
        if not self.whole_run():
            return
        by_module: dict[int, list[dict]] = {}
        for record in self.tests.values():
            if record["module"]:
                by_module.setdefault(record["module"], []).append(record)
        for number, records in by_module.items():
            if number not in self.fingerprints or any(r["outcome"] == "not run" for r in records):
                continue
            course.save_results(course.module(number), target_package(),
                                {"fingerprint": self.fingerprints[number], "parts": self.parts.get(number),
                                 "tests": records})


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "failed"


def pytest_sessionfinish(session, exitstatus):
    results = session.config._kata_results
    path = session.config.getoption("kata_json")
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(results.as_json(), indent=1))
    results.save_module_results()
