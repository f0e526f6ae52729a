"""``make run-module-N``: run a lesson as a script, with the learner's own code end to end.

It prints the module's numbers (its ``report()``) and saves every ``plot_*``
figure to ``figures/<target>/``. A lesson's ``RUN_NOTE`` (how long it takes, say)
is printed first. No task is swapped for the course's version
here: this is where the learner sees their own work run as a whole.
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

from kata import TODO, course
from kata.tools import progress


def run(module: course.Module, target: str) -> int:
    # float(loss) is a correct way to record a loss; torch's warning about it is noise here (pyproject does the same)
    warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad=True to a scalar")
    try:
        lesson = importlib.import_module(f"{target}.{module.name}")
    except SyntaxError as error:
        print(f"{target}/{module.name}.py line {error.lineno}: Python cannot read this file ({error.msg}).")
        return 1
    if getattr(lesson, "RUN_NOTE", None):  # e.g. how long the run takes
        print(f"make run-module-{module.number}: {lesson.RUN_NOTE}", flush=True)
    try:
        if hasattr(lesson, "report"):
            lesson.report()
        out_dir = course.ROOT / "figures" / target
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in sorted(vars(lesson)):
            if name.startswith("plot_") and callable(getattr(lesson, name)):
                figure = getattr(lesson, name)()
                path = out_dir / f"{module.name}_{name[5:]}.png"
                figure.savefig(path)
                print(f"saved {path.relative_to(course.ROOT)}")
    except TODO as error:
        task = course.task(error.task)
        words = f": {progress.first_sentence(task.text)[0].rstrip('.')}." if task else "."
        try:  # the file that raised it: an earlier module's task, perhaps, not this one
            where = Path(error.filename).resolve().relative_to(course.ROOT)
        except (ValueError, OSError):
            where = Path(target) / f"{module.name}.py"
        print(f"not done: TODO {error.task} in {error.function}() ({where} line {error.lineno})"
              f"{words} Stuck? {course.hint_command(error.module_number)}")
        return 1
    return 0
