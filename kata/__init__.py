"""The cross-entropy kata's own package.

It holds what every exercise shares and what the learner does not write:
the not-done exception ``TODO``, the course map (modules and tasks), the stub
generator, input checks, datasets, the drawing code for the figures, and the
command-line tool behind the Makefile. Kept light: importing it imports
nothing heavier than the standard library.
"""

from __future__ import annotations

import sys

__all__ = ["TODO"]


class TODO(NotImplementedError):
    """Raised by an exercise the learner has not written yet.

    ``TODO("1.2", "sum -p log p over the last axis")`` records the task id, the
    words of the TODO, and the function and line that raised it, so the test
    run can print one line instead of a traceback.
    """

    def __init__(self, task: str, what: str):
        caller = sys._getframe(1)
        self.task = task
        self.what = what
        self.function = caller.f_code.co_name
        self.filename = caller.f_code.co_filename
        self.lineno = caller.f_lineno
        super().__init__(f"TODO {task} in {self.function}(): {what}")

    @property
    def module_number(self) -> int:
        return int(self.task.split(".")[0])
