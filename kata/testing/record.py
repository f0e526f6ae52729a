"""For ``make compare``: each call the tests make to the learner's code, with the course's answer beside it.

Activated with ``-p kata.testing.record --kata-compare=PATH``. While a test of
task N.M runs, every call of the learner's N.M function (from the test itself or
from given code such as a figure) is recorded: its inputs, what came back, and,
for the first few quick calls, what the course's version returns on a copy of
the same inputs. The verdict comes from the test that made the call, so it uses
that test's own tolerance and its own one-line message. Nothing is pickled:
the reference runs in the same process, on a deep copy of the arguments.
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from kata.testing import isolation
from kata.testing.expect import show

CALLS_PER_TEST = 2  # recorded calls of one test
SHOWN_PER_FUNCTION = 3  # rows of passing tests kept per function (every failing test keeps its own)
QUICK_SECONDS = 1.0


def pytest_addoption(parser):
    parser.getgroup("kata").addoption("--kata-compare", default=None, help="record calls for make compare here")


def pytest_configure(config):
    path = config.getoption("kata_compare")
    if path:
        recorder = Recorder(Path(path), config)
        config.pluginmanager.register(recorder, "kata-compare")
        isolation.OBSERVERS.append(recorder.observe)


def numbers(value):
    """``value`` as nested float arrays, or None if it is not made of numbers (a model is its parameters)."""
    if hasattr(value, "state_dict") and hasattr(value, "parameters"):  # a torch model: compare its weights
        return [numbers(tensor) for tensor in value.state_dict().values()]
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, (bool, np.bool_)):
        return np.asarray(float(value))
    if isinstance(value, (int, float, np.number, np.ndarray)):
        array = np.asarray(value)
        return array.astype(float) if array.dtype.kind in "biuf" else None
    if isinstance(value, (list, tuple)):
        parts = [numbers(v) for v in value]
        return None if any(p is None for p in parts) else parts
    if isinstance(value, dict):
        parts = {k: numbers(v) for k, v in value.items()}
        return None if any(p is None for p in parts.values()) else parts
    return None


def largest_difference(a, b) -> float | None:
    """The largest relative difference between two results made of numbers (inf if their shapes differ)."""
    x, y = numbers(a), numbers(b)
    if x is None or y is None:
        return None
    if isinstance(x, list) and isinstance(y, list):
        if len(x) != len(y):
            return float("inf")
        parts = [largest_difference(i, j) for i, j in zip(x, y)]
        return max((p for p in parts if p is not None), default=0.0)
    if isinstance(x, dict) and isinstance(y, dict):
        if x.keys() != y.keys():
            return float("inf")
        return max((largest_difference(x[k], y[k]) or 0.0 for k in x), default=0.0)
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray):
        if x.shape != y.shape:
            return float("inf")
        with np.errstate(invalid="ignore", divide="ignore"):
            same = (x == y) | (np.isnan(x) & np.isnan(y))
            gap = np.where(same, 0.0, np.abs(x - y) / np.maximum(np.abs(y), 1e-12))
        return float(np.max(np.nan_to_num(gap, nan=np.inf))) if gap.size else 0.0
    return float("inf")


def brief(value, limit: int = 90) -> str:
    if callable(value) and hasattr(value, "__name__") and not hasattr(value, "shape"):
        value = f"{value.__name__}()" if value.__name__ != "<lambda>" else "a lambda"
    text = " ".join(str(value if isinstance(value, str) else show(value)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_call(args, kwargs) -> str:
    parts = [brief(a, 40) for a in args] + [f"{k}={brief(v, 30)}" for k, v in kwargs.items()]
    return ", ".join(parts)


class Recorder:
    def __init__(self, path: Path, config):
        self.path = path
        self.config = config
        self.rows: list[dict] = []
        self.counts: Counter = Counter()
        self.current: str | None = None
        self.deferred: list = []
        self.outcomes: dict[str, dict] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        self.current = item.nodeid
        self.deferred: list = []
        try:
            return (yield)
        finally:
            self.current = None
            self._run_deferred()

    def _run_deferred(self) -> None:
        """The course's answers, once the test is over: its calls' side effects (a log callback, the random
        state) can no longer change what the test saw, and the random state is put back for the next test."""
        if not self.deferred:
            return
        import random

        states = [random.getstate(), np.random.get_state()]
        torch = sys.modules.get("torch")
        if torch is not None:
            states.append(torch.random.get_rng_state())
        try:
            for row, function, args, kwargs, result in self.deferred:
                row.update(self._reference(function, args, kwargs, result))
        finally:
            random.setstate(states[0])
            np.random.set_state(states[1])
            if torch is not None:
                torch.random.set_rng_state(states[2])
            self.deferred = []

    def pytest_runtest_logreport(self, report):
        record = self.outcomes.setdefault(report.nodeid, {"outcome": "passed", "kind": None, "message": None})
        if report.failed and record["outcome"] != "failed":
            properties = dict(report.user_properties)
            record.update(outcome="failed", kind=properties.get("kata_kind"), message=properties.get("kata_message"))

    def observe(self, task_id, function, args, kwargs):
        name = function.__name__
        if self.current is None or self.counts[self.current] >= CALLS_PER_TEST:
            return None
        self.counts[self.current] += 1
        try:
            saved = copy.deepcopy((args, kwargs))
        except Exception:  # noqa: BLE001 - a generator or the like: compared by its test only
            saved = None
        row = {"task": task_id, "function": name, "test": self.current, "inputs": describe_call(args, kwargs)}
        started = time.perf_counter()

        def finish(result):
            seconds = time.perf_counter() - started
            row["yours"] = brief(result)
            if saved is None or seconds > QUICK_SECONDS:
                row["reference"] = None
                row["note"] = "the reference was not re-run (a slow call, or inputs that cannot be copied)"
            else:
                row["reference"] = None
                try:
                    kept = copy.deepcopy(result)  # the test may change the object it got back
                except Exception:  # noqa: BLE001 - compare what there is
                    kept = result
                self.deferred.append((row, function, *saved, kept))
            self.rows.append(row)

        return finish

    def _reference(self, function, args, kwargs, result) -> dict:
        solutions = importlib.import_module(f"reference.{function.__module__.split('.', 1)[1]}")
        theirs = getattr(solutions, function.__name__)
        try:
            value = theirs(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - shown in the table
            return {"reference": f"raised {type(error).__name__}: {error}", "difference": None}
        return {"reference": brief(value), "difference": largest_difference(result, value)}

    def pytest_sessionfinish(self, session):
        for row in self.rows:
            row.update(self.outcomes.get(row["test"], {"outcome": "not run"}))
        shown: Counter = Counter()
        kept = []
        for row in self.rows:  # every failing test's calls, and the first few of the passing ones
            if row["outcome"] != "passed" or shown[row["function"]] < SHOWN_PER_FUNCTION:
                kept.append(row)
                shown[row["function"]] += row["outcome"] == "passed"
        self.rows = kept
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"rows": self.rows, "tests": self.outcomes}, indent=1, default=str))
