"""pytest wiring for the kata: the target switch, one-line failures, progress.

- ``KATA_TARGET`` (``exercises``, the default, or ``reference``) picks the
  package the tests import; the ``mod`` fixture returns that package's module.
- Each failure is turned into one sentence (``kata.report.describe``) and the
  run ends with the learner's progress, task by task, and the next thing to do.
- ``--kata-json PATH`` writes every test's outcome for ``make verify``, the hint
  and compare commands; progress is always worked out from these results.
"""

from __future__ import annotations

import functools
import gc
import importlib
import inspect
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from kata import course, report

TARGETS = ("exercises", "reference")


def pytest_addoption(parser):
    group = parser.getgroup("kata")
    group.addoption("--kata-json", default=None, help="write each test's outcome to this JSON file")
    group.addoption("--kata-quiet", action="store_true", help="print no progress table")


def target_package() -> str:
    return os.environ.get("KATA_TARGET", "exercises") or "exercises"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    _clear_old_figure_results(config)
    if target_package() not in TARGETS:
        raise pytest.UsageError(
            f"KATA_TARGET={target_package()!r} is not a target: use 'exercises' (your code) or 'reference'."
        )
    config._kata_results = KataResults()
    config.pluginmanager.register(config._kata_results, "kata-results")


def _clear_old_figure_results(config):
    """Each run starts with an empty .kata/mpl-results, so no stale diff image outlives a fixed figure."""
    import shutil

    results = config.getoption("mpl_results_path", None) or config.getini("mpl-results-path")
    default = course.ROOT / ".kata" / "mpl-results"
    if results and Path(results).resolve() == default.resolve() and default.is_dir():
        shutil.rmtree(default, ignore_errors=True)


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
        # Only the learner's task functions are held to "must return something";
        # given helpers may return None on purpose.
        self._task_functions = {task.function for task in course.module(number).tasks()}

    def __getattr__(self, name):
        try:
            value = getattr(self._module, name)
        except AttributeError:
            raise report.MissingFunction(
                f"{report.short_path(self._module.__file__)} has no {name}(): the tests need it. "
                f"Did you rename or delete it? (make reset-module-{self._number} restores the untouched stub and backs yours up)"
            ) from None
        if inspect.isfunction(value) and value.__module__ == self._module.__name__:
            return _checked(value, refuse_none=name in self._task_functions)
        return value


RECORD_PATH = os.environ.get("KATA_RECORD")  # make compare: keep the calls the tests make
RECORDED: list[dict] = []


def _record(name: str, blob: bytes | None, seconds: float) -> None:
    """Keep the first few small, quick calls of each function (``blob``: their pickled arguments)."""
    if blob is None or len(blob) > 200_000 or seconds > 2.0:
        return
    if sum(r["function"] == name for r in RECORDED) < 3:
        RECORDED.append({"function": name, "call": blob})


def _pickled(args, kwargs) -> bytes | None:
    """The arguments as they are before the call (it may change them), or None if they cannot travel."""
    import pickle

    try:
        return pickle.dumps((args, kwargs))
    except Exception:  # noqa: BLE001 - lambdas, generators and the like
        return None


def _checked(function, refuse_none: bool):
    """``function``, recording its calls for make compare, and refusing None if it is a task."""

    @functools.wraps(function)
    def checked(*args, **kwargs):
        if RECORD_PATH:
            before = _pickled(args, kwargs)
            started = time.perf_counter()
            result = function(*args, **kwargs)
            _record(function.__name__, before, time.perf_counter() - started)
        else:
            result = function(*args, **kwargs)
        if refuse_none and result is None:
            raise report.ReturnedNone(
                f"{function.__name__}() returned None: is a `return` missing at the end of it?"
            )
        return result

    return checked


def load_target(name: str):
    """Import ``<target>.<name>``, turning a broken file into one sentence."""
    package = target_package()
    number = int(name[6:8])
    try:
        module = importlib.import_module(f"{package}.{name}")
    except SyntaxError as error:
        where = report.short_path(error.filename or name)
        raise report.SyntaxProblem(
            f"{where} line {error.lineno}: Python cannot read this file ({error.msg}). Fix that line and run again."
        ) from None
    except ModuleNotFoundError as error:
        if error.name and error.name.startswith(package):
            raise report.MissingFunction(
                f"{package}/{name}.py is missing (make reset-module-{number} restores the stub)."
            ) from None
        raise
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


# ---------------------------------------------------------------------------
# An endless loop gets one sentence, not pytest-timeout's stack dump.


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item, settings):
    if settings.method != "signal" or threading.current_thread() is not threading.main_thread():
        return None  # let pytest-timeout handle other methods

    def on_alarm(signum, frame):
        where = None
        while frame is not None:
            filename = frame.f_code.co_filename
            if f"{os.sep}exercises{os.sep}" in filename or f"{os.sep}reference{os.sep}" in filename:
                where = (report.short_path(filename), frame.f_lineno, frame.f_code.co_name)
                break
            frame = frame.f_back
        place = f" {where[2]}() was still running at {where[0]} line {where[1]}." if where else ""
        raise report.TookTooLong(
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
        kind, line = report.describe(call.excinfo, item)
        result.user_properties.append(("kata_kind", kind))
        result.user_properties.append(("kata_message", line))
        if item.config.getoption("tbstyle") in ("auto", "no", "line"):
            result.longrepr = line
    return result


def pytest_collection_finish(session):
    """torch leaves ~1e6 objects that every forced full gc.collect() would rescan (pytest's
    unraisable-exception cleanup and hypothesis's register_random force some): freeze them."""
    gc.freeze()


def _task_of(item) -> str | None:
    marker = item.get_closest_marker("task")
    return str(marker.args[0]) if marker and marker.args else None


def _figure_of(item) -> str | None:
    marker = item.get_closest_marker("mpl_image_compare")
    if marker is None:
        return None
    return marker.kwargs.get("filename") or f"{item.name}.png"


class KataResults:
    """Every test's outcome, kind and one-line message, for the progress table."""

    def __init__(self):
        self.tests: dict[str, dict] = {}
        self.collect_errors: list[dict] = []
        self.timed_out: dict[str, str] = {}  # test file -> the first timeout's message

    def pytest_runtest_setup(self, item):
        """After one endless loop, the module's other tests stop at once instead of waiting again."""
        first = self.timed_out.get(item.nodeid.split("::")[0])
        if first is not None:
            raise report.TookTooLong(f"not run: an earlier test of this module was {first}")

    def pytest_collection_modifyitems(self, items):
        for item in items:
            self.tests[item.nodeid] = {
                "nodeid": item.nodeid,
                "module": course.module_of_test_file(item.nodeid),
                "task": _task_of(item),
                "figure": _figure_of(item),
                "outcome": "not run",
                "kind": None,
                "message": None,
            }

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


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "failed"


def pytest_sessionfinish(session, exitstatus):
    if RECORD_PATH:
        import pickle

        Path(RECORD_PATH).write_bytes(pickle.dumps(RECORDED))
    results = session.config._kata_results
    path = session.config.getoption("kata_json")
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(results.as_json(), indent=1))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if config.getoption("kata_quiet"):
        return
    from kata import progress

    results = config._kata_results
    lines = progress.summary(list(results.tests.values()), results.collect_errors, target_package())
    if lines:
        terminalreporter.write_line("")
        for line in lines:
            terminalreporter.write_line(line)
