"""The cross-entropy kata's own package.

Its folders say who uses what:

- ``kata/given/``   code given to the lessons (input checks, datasets, drawing,
  one ``moduleNN.py`` of support per module). Lessons import only this layer.
- ``kata/testing/`` what the tests use: the pytest plugin, the checks that write
  the one-line failures, Hypothesis strategies, shared oracles.
- ``kata/tools/``   the commands behind the Makefile. Nothing imports them.

The files at this top level are the kernel every layer may import: the not-done
exception ``TODO`` (here), the course map (``course.py``) and the stub generator
(``stubs.py``). They import nothing beyond the standard library.
"""

from __future__ import annotations

import sys

__all__ = ["TODO"]


class TODO(NotImplementedError):
    """Raised by an exercise the learner has not written yet: ``raise TODO("1.2")``.

    It records the task id and the function and line that raised it, so the test
    run can print one line (the task's words come from its TODO comment) instead
    of a traceback. ``what`` is optional; stubs written before the short form
    passed the TODO's words there.
    """

    def __init__(self, task: str, what: str | None = None):
        caller = sys._getframe(1)
        self.task = str(task)
        self.what = what
        self.function = caller.f_code.co_name
        self.filename = caller.f_code.co_filename
        self.lineno = caller.f_lineno
        super().__init__(f"TODO {self.task} in {self.function}()" + (f": {what}" if what else ""))

    @property
    def module_number(self) -> int:
        return int(self.task.split(".")[0])
