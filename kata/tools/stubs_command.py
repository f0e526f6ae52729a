"""``make stubs``: regenerate exercises/ from reference/, never over a learner's edits."""

from __future__ import annotations

import subprocess

from kata import course, stubs


def git_exercise(module: course.Module) -> tuple[str, str | None]:
    """(state, text): ("tracked", the stub in HEAD), ("untracked", None) or ("no git", None)."""
    try:
        inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=course.ROOT,
                                capture_output=True, text=True, check=False)
    except OSError:
        return "no git", None
    if inside.returncode != 0 or not (course.ROOT / ".git").exists():  # not this folder's own repo
        return "no git", None
    result = subprocess.run(["git", "show", f"HEAD:exercises/{module.name}.py"],
                            cwd=course.ROOT, capture_output=True, text=True, check=False)
    return ("tracked", result.stdout) if result.returncode == 0 else ("untracked", None)


def main(selected: list[course.Module], force: bool = False) -> int:
    refused = []
    for module in selected:
        stub = stubs.make_stub(module.reference_path.read_text(encoding="utf-8"), str(module.reference_path))
        path = module.exercise_path
        if path.exists():
            current = path.read_text(encoding="utf-8")
            if current == stub:
                continue
            state, committed = git_exercise(module)
            # Overwrite only what is provably not a learner's work: a new module's
            # untracked stub, or a tracked file with no uncommitted edits.
            if not force and (state == "no git" or (state == "tracked" and current != committed)):
                refused.append(path.relative_to(course.ROOT))
                continue
        path.write_text(stub, encoding="utf-8")
        print(f"wrote {path.relative_to(course.ROOT)}")
    for path in refused:
        print(f"left {path} alone: it may hold your own work (make reset-module-N backs it up and restores the stub)")
    return 1 if refused else 0
