"""``make reset-module-N``: back the learner's file up, then restore the untouched stub."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

from kata import course, stubs


def backup_path(module: course.Module, now: datetime.datetime | None = None) -> Path:
    stamp = (now or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")
    return module.exercise_path.with_name(f"{module.exercise_path.name}.{stamp}.bak")


def reset(module: course.Module, assume_yes: bool) -> int:
    path = module.exercise_path
    relative = path.relative_to(course.ROOT)
    stub = stubs.make_stub(module.reference_path.read_text(encoding="utf-8"))
    if path.exists() and path.read_text(encoding="utf-8") == stub:
        print(f"{relative} is already the untouched stub: nothing to reset.")
        return 0
    if not assume_yes:
        if not sys.stdin.isatty():
            print(f"make reset-module-{module.number} asks before it replaces your file; "
                  f"run `make reset-module-{module.number} YES=1` to skip the question.")
            return 1
        answer = input(f"Replace {relative} with the untouched stub? Your version is backed up first. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing changed.")
            return 1
    if path.exists():
        backup = backup_path(module)
        backup.write_bytes(path.read_bytes())
        print(f"Backed up your file to {backup.relative_to(course.ROOT)} (git ignores it).")
    path.write_text(stub, encoding="utf-8")
    print(f"Restored {relative} to the untouched stub.")
    return 0
