"""``course_cache``: remember what given code trained, without mixing up whose code trained it.

Given code that trains a model or runs an experiment is expensive, so a lesson
caches it (the figures and ``report()`` reuse one run). Under the tests, though,
each test judges one task: the course's correct version stands in for every
other task's function (``kata/testing/isolation.py``). A plain cache would hand a
result computed with one set of functions to a test that runs with another.

``course_cache`` keeps, with each result, the tasks whose functions the
computation called. A result is reused when it was computed with the same live
task, or when neither the task it was computed under nor the task now live took
part in it (then both computations ran the same code). Outside the tests there
is no live task and it is a plain cache.

The test plugin drives ``STATE``: ``STATE.live`` is the task whose learner code
is live (None: every task function is the course's own, or nothing is swapped)
and ``note_call(task_id)`` is called by every swapped-in task function.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field


@dataclass
class _State:
    live: str | None = None
    recording: list[set] = field(default_factory=list)


STATE = _State()


def note_call(task_id: str) -> None:
    """A task's function was called: every cached computation now running depends on it."""
    for called in STATE.recording:
        called.add(task_id)


def course_cache(function):
    """Like ``functools.cache`` (hashable arguments), but safe when task functions are swapped."""
    entries: list[tuple[object, str | None, frozenset, object]] = []

    @functools.wraps(function)
    def cached(*args, **kwargs):
        key = (args, tuple(sorted(kwargs.items())))
        live = STATE.live
        for entry_key, entry_live, called, result in entries:
            if entry_key == key and (entry_live == live or (entry_live not in called and live not in called)):
                for outer in STATE.recording:
                    outer.update(called)
                return result
        called: set[str] = set()
        STATE.recording.append(called)
        try:
            result = function(*args, **kwargs)
        finally:
            STATE.recording.pop()
        for outer in STATE.recording:
            outer.update(called)
        entries.append((key, live, frozenset(called), result))
        return result

    cached.cache_clear = entries.clear
    return cached
